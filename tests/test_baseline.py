"""Baseline fingerprints, files and filtering."""
from __future__ import annotations

import dataclasses
import json

import pytest

from nilcheck.linter.baseline import filter_baselined, fingerprint, load_baseline, write_baseline
from nilcheck.linter.ftypes import ConfigError, Finding, Initializer, TraceStep


def finding(line: int = 10, read_text: str = "self.host.send(msg)", **changes) -> Finding:
    base = Finding(
        rule="NIL001",
        severity="error",
        file="app/plugins.py",
        line=line,
        column=9,
        field="app.plugins.PluginAPI.host",
        message="`PluginAPI.host` is read before `PluginAPI.attach()` assigns it",
        entry="app.server:Server.start",
        initializer=Initializer("app.plugins.PluginAPI.attach", "app/plugins.py", 4),
        trace=(
            TraceStep("entry", "app.server.Server.start", "app/server.py", 3),
            TraceStep("read", "app.plugins.PluginAPI.notify", "app/plugins.py", line),
        ),
        suggestion="pass `host` to PluginAPI.__init__",
        read_text=read_text,
    )
    return dataclasses.replace(base, **changes)


def shifted(original: Finding, by: int) -> Finding:
    """The same read after unrelated lines were added above it."""
    trace = original.trace[:-1] + (dataclasses.replace(original.trace[-1], line=original.line + by),)
    return dataclasses.replace(original, line=original.line + by, trace=trace)


def test_fingerprint_ignores_position_and_whitespace():
    original = finding()
    assert fingerprint(shifted(original, 7)) == fingerprint(original)
    assert fingerprint(dataclasses.replace(original, column=1)) == fingerprint(original)
    assert fingerprint(finding(read_text="  self.host.send(msg)\t")) == fingerprint(original)
    assert fingerprint(finding(read_text="x = (self.host\n     .send(msg))")) == fingerprint(
        finding(read_text="x = (self.host .send(msg))")
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"rule": "NIL002"},
        {"field": "app.plugins.PluginAPI.loop"},
        {"file": "app/other.py"},
        {"read_text": "self.host.close()"},
        {"trace": (TraceStep("read", "app.plugins.PluginAPI.other", "app/plugins.py", 10),)},
    ],
)
def test_fingerprint_changes_with_identity(changes):
    assert fingerprint(finding(**changes)) != fingerprint(finding())


def test_baseline_survives_line_shifts(tmp_path):
    path = tmp_path / "baseline.json"
    old = [finding(10), finding(30, read_text="self.loop.run()", field="app.plugins.PluginAPI.loop")]
    write_baseline(path, old)
    new_read = finding(50, read_text="self.host.flush()")
    now = [shifted(old[0], 3), shifted(old[1], 12), new_read]
    assert filter_baselined(now, load_baseline(path)) == [new_read]


def test_counts_per_fingerprint(tmp_path):
    path = tmp_path / "baseline.json"
    twice = [finding(10), finding(11)]  # the same read twice in one function
    write_baseline(path, twice)
    assert list(load_baseline(path).values()) == [2]
    third = finding(12)
    assert filter_baselined([finding(20), finding(21), third], load_baseline(path)) == [third]
    assert filter_baselined([finding(20)], load_baseline(path)) == []


def test_file_format_is_sorted_json_version_1_and_written_atomically(tmp_path):
    path = tmp_path / "baseline.json"
    findings = [finding(1, read_text=f"self.host.m{i}()") for i in range(5)]
    write_baseline(path, findings)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["version"] == 1
    assert list(document["fingerprints"]) == sorted(document["fingerprints"])
    assert set(document["fingerprints"]) == {fingerprint(f) for f in findings}
    assert text.endswith("\n")
    write_baseline(path, findings)
    assert path.read_text(encoding="utf-8") == text  # deterministic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]  # no temp left


def test_writing_into_missing_directory_raises_oserror_and_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        write_baseline(tmp_path / "missing" / "baseline.json", [finding()])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "baseline file not found"),
        ("{not json", "not valid JSON"),
        ('{"version": 2, "fingerprints": {}}', "not a nilcheck baseline"),
        ("[]", "not a nilcheck baseline"),
        ('{"version": 1, "fingerprints": {"abc": 0}}', "positive counts"),
        ('{"version": 1, "fingerprints": {"abc": true}}', "positive counts"),
        ('{"version": 1, "fingerprints": ["abc"]}', "positive counts"),
    ],
)
def test_bad_baseline_is_a_one_line_config_error(tmp_path, content, fragment):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    message = str(caught.value)
    assert fragment in message and str(path) in message
    assert "\n" not in message
