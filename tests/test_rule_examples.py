"""Every rule's own examples: valid ones give no findings, invalid ones exactly the lines
marked `# expect: <CODE>` in their sources. The rule docs are checked for ruff's headings.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from markers import describe_mismatch, expected_in_files
from nilcheck.rules import RULES, Example, Rule

DOC_HEADINGS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Known problems",
    "## Options",
)


def _examples():
    for code, rule in sorted(RULES.items()):
        for index, example in enumerate(rule.valid):
            yield pytest.param(rule, example, False, id=f"{code}-valid-{index}")
        for index, example in enumerate(rule.invalid):
            yield pytest.param(rule, example, True, id=f"{code}-invalid-{index}")


def _write_project(root: Path, example: Example) -> None:
    for relative, source in example.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    if "pyproject.toml" not in example.files:
        entries = ", ".join(f'"{entry}"' for entry in example.entry_points)
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "example"\nversion = "0"\n\n[tool.nilcheck]\nentry-points = [{entries}]\n',
            encoding="utf-8",
        )


@pytest.mark.parametrize("rule, example, invalid", list(_examples()))
def test_rule_example(tmp_path: Path, rule: Rule, example: Example, invalid: bool):
    from nilcheck.linter.api import scan

    expected = expected_in_files(example.files)
    if invalid:
        assert expected, "an invalid example must mark at least one line `# expect: CODE`"
        assert {code for _, _, code in expected} == {rule.code}, "markers name another rule"
    else:
        assert not expected, "a valid example must not carry `# expect:` markers"

    _write_project(tmp_path, example)
    result = scan([str(tmp_path)]).result

    assert not result.errors, f"example files failed to analyse: {result.errors}"
    mismatch = describe_mismatch(tmp_path, result.findings, expected)
    assert not mismatch, mismatch


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_documents_itself(code: str):
    rule = RULES[code]
    assert rule.code == code
    assert rule.name and rule.name == rule.name.lower() and " " not in rule.name
    assert rule.summary and "\n" not in rule.summary
    assert rule.severity in {"error", "warning", "info"}
    missing = [heading for heading in DOC_HEADINGS if heading not in rule.docs]
    assert not missing, f"{code} docs lack headings: {missing}"
    positions = [rule.docs.index(heading) for heading in DOC_HEADINGS]
    assert positions == sorted(positions), f"{code} docs headings are out of order"
    assert len(rule.valid) >= 3 and len(rule.invalid) >= 3, f"{code} needs 3+ valid and 3+ invalid examples"
