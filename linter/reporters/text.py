"""The default output, for people at a terminal: one finding per block, like ruff or NilAway.

    engine/plugins.py:41:9: NIL001 `PluginAPI.host` is read before `PluginAPI.attach()` ...
        engine/server.py:30:  entry  engine.server.Server.start
        engine/server.py:52:  spawn  engine.server.Server.on_task_done
        engine/plugins.py:41: read   engine.plugins.PluginAPI.notify
        initializer: engine.plugins.PluginAPI.attach (engine/plugins.py:18)
        fix: pass `host` to PluginAPI.__init__ ...
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List

import click

from nilcheck.linter.ftypes import FileError, Finding, ScanResult
from nilcheck.linter.reporters import (
    RenderOptions,
    sorted_errors,
    sorted_findings,
    summary_sentence,
)

INDENT = "    "
KIND_WIDTH = len("spawn")


def render(result: ScanResult, root: Path, options: RenderOptions) -> str:
    style = _styler(options.color)
    blocks = ["\n".join(_finding_lines(finding, style)) for finding in sorted_findings(result)]
    errors = [_error_line(error, style) for error in sorted_errors(result)]
    if errors:
        blocks.append("\n".join(errors))
    blocks.append(style(summary_sentence(result, options.timing), bold=True))
    return "\n\n".join(blocks) + "\n"


def _styler(color: bool) -> Callable[..., str]:
    if color:
        return click.style
    return lambda text, **_styles: text


def _finding_lines(finding: Finding, style: Callable[..., str]) -> List[str]:
    code_color = "red" if finding.severity == "error" else "yellow"
    lines = [
        f"{style(f'{finding.file}:{finding.line}:{finding.column}:', bold=True)} "
        f"{style(finding.rule, fg=code_color, bold=True)} {_one_line(finding.message)}"
    ]
    # Pad the locations so the kinds and functions of a trace line up in columns.
    locations = [f"{step.file}:{step.line}:" for step in finding.trace]
    width = max((len(location) for location in locations), default=0)
    for step, location in zip(finding.trace, locations):
        kind = style(step.kind.ljust(KIND_WIDTH), fg="cyan")
        lines.append(f"{INDENT}{location.ljust(width)} {kind}  {step.function}")
    if finding.initializer is not None:
        init = finding.initializer
        lines.append(
            f"{INDENT}{style('initializer:', dim=True)} {init.function} ({init.file}:{init.line})"
        )
    else:
        lines.append(f"{INDENT}{style('initializer:', dim=True)} not found")
    if finding.suggestion:
        lines.append(f"{INDENT}{style('fix:', fg='green')} {_one_line(finding.suggestion)}")
    return lines


def _error_line(error: FileError, style: Callable[..., str]) -> str:
    label = style("error:", fg="red", bold=True)
    return f"{style(f'{error.file}:{error.line}:', bold=True)} {label} {_one_line(error.message)}"


def _one_line(text: str) -> str:
    # Output is line-oriented (people grep it); a stray newline would split a record.
    return " ".join(text.splitlines())
