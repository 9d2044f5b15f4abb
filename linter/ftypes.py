"""Every value that crosses a stage boundary: findings, traces, file errors, settings.

Findings carry locations, never CST nodes, so they can be cached, pickled between worker
processes, sorted and compared byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from nilcheck.linter.pyversion import PythonTarget


class ConfigError(Exception):
    """Bad configuration or arguments: the CLI prints the message as one line and exits 2."""


@dataclass(frozen=True)
class TraceStep:
    """One hop from the entry point to the read.

    kind is "entry", "call", "spawn" or "read"; function is the dotted qualified name of
    the function the step happens in (for "call"/"spawn": the callee that starts there);
    file/line locate the statement that makes the hop.
    """

    kind: str
    function: str
    file: str
    line: int


@dataclass(frozen=True)
class Initializer:
    """Where a late field gets its real value."""

    function: str
    file: str
    line: int


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    file: str  # relative to the project root, "/" separators
    line: int  # 1-based
    column: int  # 1-based
    field: str  # "pkg.mod.Class.attr"
    message: str
    entry: str  # "pkg.mod:Qual.name"
    initializer: Optional[Initializer]
    trace: Tuple[TraceStep, ...]
    suggestion: str
    # The stripped source text of the read line, for baseline fingerprints that survive
    # line shifts; not part of the JSON contract.
    read_text: str = ""
    # Where the field's class is constructed on the analysed paths, as (file, line) of
    # each `Cls(...)` call: what a constructor-injection fix must update. Not part of
    # the JSON contract.
    construction_sites: Tuple[Tuple[str, int], ...] = ()

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.field, self.entry)

    @property
    def enclosing_function(self) -> str:
        return self.trace[-1].function if self.trace else ""


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed; the rest of the project still is."""

    file: str
    line: int
    message: str

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.message)


@dataclass(frozen=True)
class AnalysisSettings:
    """What the engine needs from configuration (already validated by config.py)."""

    root: Path
    files: Tuple[Path, ...]  # absolute paths of the .py files to analyse, sorted
    entry_points: Tuple[str, ...] = ()  # "module:Qual.name"; empty means discover
    initializer_methods: Tuple[str, ...] = ()
    spawners: Tuple[str, ...] = ()  # qualified callables, e.g. "mylib.run_later"
    project_scripts: Tuple[str, ...] = ()  # [project.scripts]/[project.gui-scripts] targets
    # Configured directories top-level packages live in, relative to root; the rest are
    # detected (see discovery.py for how modules are named).
    source_roots: Tuple[str, ...] = ()
    jobs: int = 1
    use_cache: bool = False
    # The Python version files must be valid for (requires-python); None: the running
    # interpreter's.
    python_target: Optional["PythonTarget"] = None


@dataclass
class ScanResult:
    findings: list = field(default_factory=list)  # list[Finding], sorted by sort_key
    errors: list = field(default_factory=list)  # list[FileError], sorted
    files: int = 0
    seconds: float = 0.0
    # Calls met on the analysed startup paths that the analysis resolved, or could not:
    # "no findings" with nothing followed is not a clean bill of health.
    calls_resolved: int = 0
    calls_unresolved: int = 0
    # One line each, for stderr: what the user should know but is not a finding or a
    # file error (e.g. two files that would have the same module name).
    warnings: list = field(default_factory=list)  # list[str]
