"""`--format github`: GitHub Actions workflow commands, so findings annotate the PR diff.

One `::error file=…,line=…,col=…,title=NIL001::message` per finding (the level follows
the rule's severity), one `::warning` per file that could not be analysed. The trace is
part of the message, so the annotation shows how startup reaches the read.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from nilcheck.linter.ftypes import FileError, Finding, ScanResult
from nilcheck.linter.reporters import RenderOptions, sorted_errors, sorted_findings

LEVELS = {"error": "error", "warning": "warning"}


def render(result: ScanResult, root: Path, options: RenderOptions) -> str:
    lines = [_finding_command(finding) for finding in sorted_findings(result)]
    lines += [_error_command(error) for error in sorted_errors(result)]
    return "".join(line + "\n" for line in lines)


def escape_data(text: str) -> str:
    """Escape a command's message, as the runner's toolkit does (`%` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: also `:` and `,`, which would end the value early."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, properties: List[tuple], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{level} {props}::{escape_data(message)}"


def _finding_command(finding: Finding) -> str:
    body = [finding.message]
    body += [f"{step.file}:{step.line}: {step.kind} {step.function}" for step in finding.trace]
    if finding.initializer is not None:
        init = finding.initializer
        body.append(f"initializer: {init.function} ({init.file}:{init.line})")
    if finding.suggestion:
        body.append(f"fix: {finding.suggestion}")
    properties = [
        ("file", finding.file),
        ("line", finding.line),
        ("col", finding.column),
        ("title", finding.rule),
    ]
    return command(LEVELS.get(finding.severity, "notice"), properties, "\n".join(body))


def _error_command(error: FileError) -> str:
    properties = [("file", error.file)]
    if error.line >= 1:
        properties.append(("line", error.line))
    properties.append(("title", "nilcheck"))
    return command("warning", properties, f"could not analyse this file: {error.message}")
