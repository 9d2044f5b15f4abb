"""`# nilcheck: ignore[...]` parsing and matching."""
from __future__ import annotations

import pytest

from nilcheck.linter.ftypes import Finding, TraceStep
from nilcheck.linter.suppression import (
    parse_suppressions,
    suppressed,
    unused_suppressions,
)


def finding(line: int, rule: str = "NIL001", file: str = "mod.py", read_line: int = 0) -> Finding:
    trace = (
        TraceStep("entry", "mod.main", file, 1),
        TraceStep("read", "mod.C.run", file, read_line or line),
    )
    return Finding(
        rule=rule,
        severity="error",
        file=file,
        line=line,
        column=5,
        field="mod.C.host",
        message="m",
        entry="mod:main",
        initializer=None,
        trace=trace,
        suggestion="s",
        read_text="self.host.send()",
    )


@pytest.mark.parametrize(
    "comment, codes",
    [
        ("# nilcheck: ignore", None),
        ("#nilcheck:ignore", None),
        ("#  nilcheck :  ignore  ", None),
        ("# nilcheck: ignore[NIL001]", {"NIL001"}),
        ("# nilcheck: ignore [ NIL001 , NIL002 ]", {"NIL001", "NIL002"}),
        ("# nilcheck: ignore[nil001]", {"NIL001"}),
        ("# noqa: E501  # nilcheck: ignore[NIL002]", {"NIL002"}),
        ("# nilcheck: ignore[NIL001]  because the loop starts later", {"NIL001"}),
    ],
)
def test_recognised_forms(comment, codes):
    parsed = parse_suppressions([f"x = 1  {comment}"])
    assert list(parsed) == [1]
    assert parsed[1].codes == (None if codes is None else frozenset(codes))


@pytest.mark.parametrize(
    "comment",
    [
        "# NILCHECK: ignore",  # "nilcheck" is case-sensitive
        "# nilcheck: ignored",
        "# nilcheck: ignore-all",
        "# nilcheck: ignore[NIL001",  # unclosed: must not become a bare ignore
        "# nilcheck ignore",
        "# pylint: disable=all",
    ],
)
def test_not_suppressions(comment):
    assert parse_suppressions([f"x = 1  {comment}"]) == {}


def test_hash_in_a_string_is_not_a_comment():
    source = [
        'banner = "# nilcheck: ignore"',
        "self.host.send()",
        "text = '''",
        "# nilcheck: ignore",
        "'''",
        "self.host.send()",
    ]
    assert parse_suppressions(source) == {}
    assert not suppressed(finding(2), source)
    assert not suppressed(finding(6), source)


def test_on_the_read_line_and_the_line_before():
    source = [
        "def run(self):",
        "    self.host.send()  # nilcheck: ignore[NIL001]",
        "    # nilcheck: ignore",
        "    self.host.send()",
        "    pass",
        "    self.host.send()",
    ]
    assert suppressed(finding(2), source)
    assert suppressed(finding(4), source)
    assert not suppressed(finding(6), source)
    assert not suppressed(finding(5), source)  # two lines below the comment


def test_codes_must_match():
    source = ["self.host.send()  # nilcheck: ignore[NIL002]"]
    assert not suppressed(finding(1, rule="NIL001"), source)
    assert suppressed(finding(1, rule="NIL002"), source)
    assert suppressed(finding(1, rule="NIL002"), ["self.host.send()  # nilcheck: ignore[NIL001, NIL002]"])
    assert suppressed(finding(1, rule="NIL007"), ["self.host.send()  # nilcheck: ignore"])


def test_comment_on_the_read_step_of_a_two_line_read():
    # `x = self.host` (line 1) then `x.send()` (line 2): the finding is on line 2, the
    # trace's read step on line 1; a comment at either is accepted.
    source = ["x = self.host  # nilcheck: ignore", "x.send()"]
    assert suppressed(finding(2, read_line=1), source)


def test_file_tokenize_rejects_falls_back_to_lines():
    source = ["self.host.send()  # nilcheck: ignore[NIL001]", 'broken = """never closed']
    assert suppressed(finding(1), source)


def test_unused_suppressions():
    source = [
        "self.host.send()  # nilcheck: ignore",
        "pass  # nilcheck: ignore[NIL001]",
        "pass",
        "self.host.send()  # nilcheck: ignore[NIL002]",
    ]
    by_file = {"mod.py": parse_suppressions(source), "other.py": parse_suppressions(["# nilcheck: ignore"])}
    used_by = [finding(1), finding(4, rule="NIL001")]
    assert unused_suppressions(by_file, used_by) == [("mod.py", 2), ("mod.py", 4), ("other.py", 1)]
