"""Fixture projects: every tests/fixtures/<CODE>/<case>/ with a pyproject.toml, and the
README's example project, are scanned whole; the findings must be exactly the lines
marked `# expect: <CODE>` in their sources (see tests/markers.py).
"""
from __future__ import annotations

import functools
import py_compile
from collections import Counter
from pathlib import Path

import pytest

from markers import describe_mismatch, expected_in_tree, python_files

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
EXAMPLE_PROJECTS = [REPO / "examples" / "plugin_host"]

CASES = sorted(path.parent for path in FIXTURES.glob("*/*/pyproject.toml")) + EXAMPLE_PROJECTS


def _case_id(case_dir: Path) -> str:
    return case_dir.relative_to(REPO).as_posix()


@functools.lru_cache(maxsize=None)
def _scan(case_dir: Path):
    # Imported here so the compile checks still run while the engine is incomplete.
    from nilcheck.linter.api import scan

    return scan([str(case_dir)])


@pytest.mark.parametrize("case_dir", CASES, ids=_case_id)
def test_fixture_findings_match_markers(case_dir: Path):
    expected = expected_in_tree(case_dir)
    outcome = _scan(case_dir)
    result = outcome.result

    assert not result.errors, f"fixture files failed to analyse: {result.errors}"

    mismatch = describe_mismatch(case_dir, result.findings, expected)
    assert not mismatch, mismatch

    # One finding per (field, read site), however many entry points or paths reach it.
    per_site = Counter((f.file, f.line, f.rule, f.field) for f in result.findings)
    duplicated = sorted(site for site, count in per_site.items() if count > 1)
    assert not duplicated, f"reported more than once: {duplicated}"


@pytest.mark.parametrize("case_dir", CASES, ids=_case_id)
def test_fixture_traces_lead_from_entry_to_read(case_dir: Path):
    result = _scan(case_dir).result
    for finding in result.findings:
        where = f"{finding.file}:{finding.line}"
        assert finding.trace, f"{where}: finding has no trace"
        first, last = finding.trace[0], finding.trace[-1]
        assert first.kind == "entry", f"{where}: trace starts with {first.kind!r}, not 'entry'"
        assert last.kind == "read", f"{where}: trace ends with {last.kind!r}, not 'read'"
        assert (last.file, last.line) == (finding.file, finding.line), (
            f"{where}: trace ends at {last.file}:{last.line}, not at the finding"
        )
        kinds = {step.kind for step in finding.trace}
        assert kinds <= {"entry", "call", "spawn", "read"}, f"{where}: unknown trace kinds {kinds}"


@pytest.mark.parametrize("case_dir", CASES, ids=_case_id)
def test_fixture_sources_compile(case_dir: Path, tmp_path: Path):
    """Fixtures must be valid Python, or a finding (or its absence) would mean nothing."""
    files = list(python_files(case_dir))
    assert files, f"{case_dir} has no Python files"
    for path in files:
        py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_every_rule_has_fixtures():
    from nilcheck.rules import RULES

    codes_with_cases = {path.parent.name for path in CASES if path.parent.parent == FIXTURES}
    assert set(RULES) <= codes_with_cases, f"rules without fixtures: {set(RULES) - codes_with_cases}"


@pytest.mark.parametrize("case, line, words", [
    # An initializer that reads the field itself on a path that skipped the assignment.
    ("NIL001/initializer_in_try_branches", 35, "is read by `Radio.run()` on a path that "
                                               "has not assigned it"),
    # A read on a method entry's receiver built with its default arguments.
    ("NIL001/method_entry_default_arguments", 13, "built with its default arguments "
                                                  "(`app=None`), which leaves it None"),
    # NIL002 on a branch only some arguments take.
    ("NIL002/early_read_on_optional_argument_path", 9, "on the path taken when `nrad` is "
                                                       "left out"),
])
def test_messages_say_what_decided_the_finding(case: str, line: int, words: str):
    findings = _scan(FIXTURES / case).result.findings
    message = next(f.message for f in findings if f.line == line)
    assert words in message
