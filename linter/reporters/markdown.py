"""`--format markdown`: a report for pull-request comments and CI job summaries.

Each finding's trace is drawn as a Mermaid flowchart (GitHub and GitLab render it): the
entry point, every call and spawn (spawns dashed), the read (highlighted), and the late
initializer off to the side with a dotted "assigns too late" edge into the read.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

from nilcheck.linter.ftypes import FileError, Finding, ScanResult
from nilcheck.linter.reporters import (
    RenderOptions,
    sorted_errors,
    sorted_findings,
    summary_sentence,
)

# Mermaid decodes "#<decimal>;" inside labels; everything that could end a quoted label,
# open a shape or be read as HTML is written that way. One pass, so '#' is not re-escaped.
_MERMAID_ESCAPES = str.maketrans(
    {char: f"#{ord(char)};" for char in '#"<>[]{}()|&`'} | {"\n": " ", "\r": " "}
)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)

READ_STYLE = "fill:#fde2e2,stroke:#c62828,stroke-width:2px"
LATE_STYLE = "fill:#fff4d6,stroke:#b26a00"
SPAWN_EDGE_STYLE = "stroke-dasharray: 6 4"
LATE_EDGE_STYLE = "stroke:#b26a00,stroke-dasharray: 2 4"


def render(result: ScanResult, root: Path, options: RenderOptions) -> str:
    parts = ["# nilcheck report", summary_sentence(result, options.timing) + "."]
    for finding in sorted_findings(result):
        parts.append(_finding_section(finding))
    errors = sorted_errors(result)
    if errors:
        parts.append(_errors_table(errors))
    return "\n\n".join(parts) + "\n"


def _finding_section(finding: Finding) -> str:
    location = f"{finding.file}:{finding.line}:{finding.column}"
    lines = [
        f"## {finding.rule} {code(location)}",
        "",
        prose(finding.message),
        "",
        f"- **Field:** {code(finding.field)}",
        f"- **Entry point:** {code(finding.entry)}",
    ]
    if finding.initializer is not None:
        init = finding.initializer
        where = code(f"{init.file}:{init.line}")
        lines.append(f"- **Initializer:** {code(init.function)} at {where}")
    else:
        lines.append("- **Initializer:** not found")
    if finding.suggestion:
        lines.append(f"- **Fix:** {prose(finding.suggestion)}")
    lines += ["", "```mermaid", *mermaid_flowchart(finding), "```"]
    return "\n".join(lines)


def mermaid_flowchart(finding: Finding) -> List[str]:
    """The trace as `flowchart TD` lines; node ids are n0, n1, … in trace order."""
    nodes: List[str] = []
    edges: List[str] = []
    classes: List[str] = []
    spawn_edges: List[int] = []
    late_edges: List[int] = []
    for index, step in enumerate(finding.trace):
        label = _node_text(step.function, step.file, step.line)
        nodes.append(f'    n{index}["{step.kind}: {label}"]')
        if index == 0:
            continue
        if step.kind == "spawn":
            spawn_edges.append(len(edges))
            edges.append(f"    n{index - 1} -.->|spawns| n{index}")
        else:
            edges.append(f"    n{index - 1} --> n{index}")
    read_id = f"n{len(finding.trace) - 1}" if finding.trace else None
    if read_id is not None:
        classes.append(f"    class {read_id} read")
    if finding.initializer is not None:
        init = finding.initializer
        init_id = f"n{len(finding.trace)}"
        label = _node_text(init.function, init.file, init.line)
        nodes.append(f'    {init_id}["initializer: {label}"]')
        classes.append(f"    class {init_id} late")
        if read_id is not None:
            late_edges.append(len(edges))
            edges.append(f"    {init_id} -.->|assigns too late| {read_id}")
    styles = [f"    classDef read {READ_STYLE}", f"    classDef late {LATE_STYLE}"]
    # linkStyle numbers edges in the order they are declared, which is the order of edges.
    for indexes, style in ((spawn_edges, SPAWN_EDGE_STYLE), (late_edges, LATE_EDGE_STYLE)):
        if indexes:
            styles.append(f"    linkStyle {','.join(map(str, indexes))} {style}")
    return ["flowchart TD", *nodes, *edges, *classes, *styles]


def _node_text(function: str, file: str, line: int) -> str:
    return f"{mermaid_text(function)}<br/>{mermaid_text(file)}:{line}"


def mermaid_text(text: str) -> str:
    return text.translate(_MERMAID_ESCAPES)


def code(text: str) -> str:
    """An inline code span that survives backticks in text (CommonMark's longer fence)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def prose(text: str) -> str:
    """Engine-written markdown on one line, with '<' outside code spans made harmless.

    GitHub drops unknown HTML tags, so `Server.start.<locals>.cb` written bare would lose
    its middle; inside a code span it is already literal.
    """
    pieces = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        pieces.append(_escape_html(text[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_escape_html(text[position:]))
    return " ".join("".join(pieces).splitlines())


def _escape_html(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _errors_table(errors: List[FileError]) -> str:
    rows = [
        "## Files that could not be analysed",
        "",
        "| File | Line | Error |",
        "| --- | --- | --- |",
    ]
    for error in errors:
        cells = [code(error.file), str(error.line), prose(error.message)]
        # A '|' ends a table cell even inside a code span in GitHub's tables.
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)
