"""Intent comments in test projects: `# expect: NIL001` marks a line that must be reported.

A line with no marker must stay silent (`# ok: <why>` comments are for readers only).
Several codes may share a line: `# expect: NIL001, NIL002`. Markers are read from
comment tokens, so a `#` inside a string never counts, and a comment that starts with
`expect` but is malformed is an error rather than a silently dropped expectation.
"""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path
from typing import Dict, Iterable, Set, Tuple

# (file relative to the project root with "/" separators, 1-based line, rule code)
Expectation = Tuple[str, int, str]

_CODE = r"[A-Z]+[0-9]+"
_MARKER = re.compile(rf"#\s*expect:\s*(?P<codes>{_CODE}(?:\s*,\s*{_CODE})*)\s*(?:#.*)?$")
_LOOKS_LIKE_MARKER = re.compile(r"#\s*expect\b", re.IGNORECASE)

_SKIPPED_DIRS = {"__pycache__", ".git", ".venv", "venv", "build", ".nilcheck_cache"}


class MarkerError(ValueError):
    """A comment that looks like an expectation but cannot be read as one."""


def expected_in_source(source: str, file: str) -> Set[Expectation]:
    """The expectations marked in one file's source; `file` is its project-relative path."""
    expected: Set[Expectation] = set()
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        line = token.start[0]
        match = _MARKER.match(token.string)
        if match:
            for code in match.group("codes").split(","):
                expected.add((file, line, code.strip()))
        elif _LOOKS_LIKE_MARKER.match(token.string):
            raise MarkerError(f"{file}:{line}: malformed expectation comment {token.string!r}")
    return expected


def python_files(root: Path) -> Iterable[Path]:
    """Every .py file under root, sorted, skipping caches and virtualenvs."""
    for path in sorted(root.rglob("*.py")):
        if not _SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            yield path


def expected_in_tree(root: Path) -> Set[Expectation]:
    """The expectations marked in every .py file of the project rooted at root."""
    expected: Set[Expectation] = set()
    for path in python_files(root):
        relative = path.relative_to(root).as_posix()
        expected |= expected_in_source(path.read_text(encoding="utf-8"), relative)
    return expected


def expected_in_files(files: Dict[str, str]) -> Set[Expectation]:
    """The expectations marked in an in-memory project ({relative path: source})."""
    expected: Set[Expectation] = set()
    for relative, source in sorted(files.items()):
        if relative.endswith(".py"):
            expected |= expected_in_source(source, relative)
    return expected


def source_line(root: Path, file: str, line: int) -> str:
    """The stripped text of file:line under root, for failure messages ('' if absent)."""
    try:
        lines = (root / file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def describe_mismatch(root: Path, findings, expected: Set[Expectation]) -> str:
    """A readable report of missing and unexpected findings; '' when they match.

    `findings` are Finding objects (rule, file, line, trace). Only locations, rule codes
    and trace kinds are shown, never message wording.
    """
    actual = {(f.file, f.line, f.rule) for f in findings}
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    if not missing and not unexpected:
        return ""
    out = [f"findings do not match the `# expect:` markers in {root}"]
    if missing:
        out.append(f"  missing ({len(missing)}): marked but not reported")
        for file, line, rule in missing:
            out.append(f"    {file}:{line} {rule}    {source_line(root, file, line)}")
    if unexpected:
        out.append(f"  unexpected ({len(unexpected)}): reported but not marked")
        for finding in sorted(findings, key=lambda f: (f.file, f.line, f.rule)):
            if (finding.file, finding.line, finding.rule) not in unexpected:
                continue
            out.append(
                f"    {finding.file}:{finding.line} {finding.rule}    "
                f"{source_line(root, finding.file, finding.line)}"
            )
            for step in finding.trace:
                out.append(f"        {step.kind:<5} {step.function}  ({step.file}:{step.line})")
    return "\n".join(out)
