"""The Python version a project's files must be valid for: the lowest that `[project]
requires-python` allows, else the running interpreter's. Kept apart from syntax.py,
whose patterns a scan that reuses its stored outcome never needs to compile.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

Version = Tuple[int, int]

RUNNING: Version = sys.version_info[:2]
# The last minor version a specifier is checked against; past any real release.
_LAST_MINOR = 40


@dataclass(frozen=True)
class PythonTarget:
    """The Python version files must compile on, and where that came from."""

    version: Version
    reason: str  # "requires-python >=3.9", or why the running interpreter stands in

    def describe(self) -> str:
        return f"Python {self.version[0]}.{self.version[1]} ({self.reason})"


def python_target(requires_python: Optional[object]) -> PythonTarget:
    """The lowest version `[project] requires-python` allows; without one (or one that
    cannot be read), the running interpreter's. Never raises."""
    running = "the running interpreter; "
    if requires_python is None:
        return PythonTarget(RUNNING, running + "no requires-python")
    lowest = lowest_python(requires_python) if isinstance(requires_python, str) else None
    if lowest is None:
        shown = requires_python if isinstance(requires_python, str) else type(requires_python).__name__
        return PythonTarget(RUNNING, running + f"requires-python {str(shown)[:60]!r} not understood")
    return PythonTarget(lowest, f"requires-python {' '.join(requires_python.split())}")


_CLAUSE = re.compile(r"\s*(~=|===|==|!=|<=|>=|<|>)\s*v?(\d+(?:\.\d+)*)(\.\*)?"
                     r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview|post|dev)[-_.]?\d*)*\s*\Z",
                     re.IGNORECASE)


def lowest_python(specifier: str) -> Optional[Version]:
    """The lowest 3.x minor version with a release that every clause of a PEP 440
    specifier (`>=3.9`, `>=3.8,<4`, `~=3.10`, `==3.11.*`, `>3.7, !=3.8.*`) allows; None
    when a clause cannot be read or no 3.x release matches. Pre-release and post-release
    suffixes are ignored (`>=3.13.0b1` counts as `>=3.13.0`)."""
    tests: List[Callable[[Tuple[int, int, int]], bool]] = []
    for text in specifier.split(","):
        if not text.strip():
            continue
        match = _CLAUSE.match(text)
        if match is None:
            return None
        operator, number, star = match.groups()
        parts = tuple(int(part) for part in number.split("."))
        if star and operator not in ("==", "!="):
            return None
        tests.append(_clause_test(operator, parts, bool(star)))
    if not tests:
        return None
    for minor in range(0, _LAST_MINOR + 1):
        # Patch releases 0-49 stand for all of them: enough for `>3.8.7`, `<3.9.2`.
        if any(all(test((3, minor, patch)) for test in tests) for patch in range(50)):
            return (3, minor)
    return None


def _clause_test(operator: str, parts: Tuple[int, ...], star: bool
                 ) -> Callable[[Tuple[int, int, int]], bool]:
    padded = (parts + (0, 0, 0))[:3]
    if star or operator == "~=":
        prefix = parts if star else parts[:-1]
        if operator == "~=" and len(parts) < 2:
            return lambda _version: False  # "~=3" is invalid PEP 440
        matches = lambda version: version[:len(prefix)] == prefix  # noqa: E731
        if operator == "!=":
            return lambda version: not matches(version)
        if operator == "~=":
            return lambda version: matches(version) and version >= padded
        return matches
    if operator in ("==", "==="):
        return lambda version: version == padded
    return {
        "!=": lambda version: version != padded,
        "<": lambda version: version < padded,
        "<=": lambda version: version <= padded,
        ">": lambda version: version > padded,
        ">=": lambda version: version >= padded,
    }[operator]
