"""Turns a ScanResult into the text of one output format; the CLI only picks the format.

Each format lives in its own module with `render(result, root, options) -> str`. Every
reporter is deterministic: the same result gives byte-identical output (the scan time is
the one exception, and `timing=False` removes it).
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional

from nilcheck.linter.ftypes import FileError, Finding, ScanResult

FORMATS = ("text", "json", "sarif", "github", "markdown")


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False  # text only; the CLI decides (a tty and no NO_COLOR)
    timing: bool = True  # False drops the scan time, for reproducible output in tests
    rules: Optional[Mapping[str, object]] = None  # sarif: the rule table; None = RULES


def render(
    fmt: str,
    result: ScanResult,
    root: Path,
    *,
    color: bool = False,
    timing: bool = True,
    rules: Optional[Mapping[str, object]] = None,
) -> str:
    """Render result in fmt (one of FORMATS); file paths in result are relative to root."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    # Imported by name: the module `json` would shadow the stdlib module in this namespace.
    module = importlib.import_module(f"{__name__}.{fmt}")
    options = RenderOptions(color=color, timing=timing, rules=rules)
    return module.render(printable(result), Path(root), options)


def printable(result: ScanResult) -> ScanResult:
    """The result with file names that are not valid UTF-8 (Linux allows any bytes)
    shown with backslash escapes, so every report is valid UTF-8."""

    def clean(name: str) -> str:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

    def fix_finding(finding: Finding) -> Finding:
        initializer = finding.initializer
        if initializer is not None:
            initializer = dataclasses.replace(initializer, file=clean(initializer.file))
        return dataclasses.replace(
            finding, file=clean(finding.file), initializer=initializer,
            trace=tuple(dataclasses.replace(step, file=clean(step.file))
                        for step in finding.trace))

    return dataclasses.replace(
        result, findings=[fix_finding(f) for f in result.findings],
        errors=[dataclasses.replace(e, file=clean(e.file)) for e in result.errors])


def sorted_findings(result: ScanResult) -> List[Finding]:
    # The engine already sorts; sorting again keeps the contract's order even if it did not.
    return sorted(result.findings, key=lambda finding: finding.sort_key)


def sorted_errors(result: ScanResult) -> List[FileError]:
    return sorted(result.errors, key=lambda error: error.sort_key)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_sentence(result: ScanResult, timing: bool) -> str:
    """'Found 3 findings in 12 files (1 file could not be analysed) in 0.41s'."""
    files = plural(result.files, "file")
    if result.findings:
        sentence = f"Found {plural(len(result.findings), 'finding')} in {files}"
    else:
        sentence = f"No findings in {files}"
    failed_files = len({error.file for error in result.errors})
    if failed_files:
        sentence += f" ({plural(failed_files, 'file')} could not be analysed)"
    if timing:
        sentence += f" in {result.seconds:.2f}s"
    return sentence
