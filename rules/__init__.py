"""nilcheck's rules: one module per rule, and the code table every other part reads.

The engine finds hazards; a rule gives a kind of hazard its code, its words and its
documentation. Each rule module defines RULE (a Rule) with VALID / INVALID example
projects that the test suite runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from textwrap import dedent
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Example:
    """A tiny project: {relative path: source}; entry points as in the config key."""

    files: Dict[str, str]
    entry_points: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # describes the hazard, not the fix
    summary: str  # one line
    severity: str
    # Full documentation in markdown with ruff's headings: What it does / Why is this
    # bad? / Example / Use instead / Known problems / Options.
    docs: str
    valid: Tuple[Example, ...] = field(default=())
    invalid: Tuple[Example, ...] = field(default=())


def example_project(entry: str, main: str, extra: Optional[Dict[str, str]] = None) -> Example:
    """A one-package example project `app` whose app/main.py is `main`, started at
    `entry`; extra maps more paths to sources. Sources are dedented."""
    pyproject = dedent(
        f"""\
        [project]
        name = "app"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["{entry}"]
        """
    )
    files = {"pyproject.toml": pyproject, "app/__init__.py": "", "app/main.py": dedent(main)}
    files.update({path: dedent(source) for path, source in (extra or {}).items()})
    return Example(files=files, entry_points=(entry,))


def _load() -> Dict[str, Rule]:
    from nilcheck.rules import nil001, nil002, nil003

    table = {}
    for module in (nil001, nil002, nil003):
        table[module.RULE.code] = module.RULE
    return table


RULES: Dict[str, Rule] = _load()
