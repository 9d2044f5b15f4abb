"""`--format json`: exactly the object specified in CONTRACT.md, for tools and scripts.

Key order follows the contract. `read_text` is internal (baseline fingerprints) and is
never emitted.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from nilcheck.linter.ftypes import FileError, Finding, ScanResult
from nilcheck.linter.reporters import RenderOptions, sorted_errors, sorted_findings

VERSION = 1


def render(result: ScanResult, root: Path, options: RenderOptions) -> str:
    document = {
        "version": VERSION,
        "findings": [finding_object(finding) for finding in sorted_findings(result)],
        "errors": [error_object(error) for error in sorted_errors(result)],
        "summary": {
            "files": result.files,
            "findings": len(result.findings),
            "errors": len(result.errors),
            # 0.0 rather than a missing key keeps the contract's shape when timing is off.
            "seconds": round(result.seconds, 2) if options.timing else 0.0,
            "calls_resolved": result.calls_resolved,
            "calls_unresolved": result.calls_unresolved,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def finding_object(finding: Finding) -> Dict[str, Any]:
    init = finding.initializer
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "field": finding.field,
        "message": finding.message,
        "entry": finding.entry,
        "initializer": (
            None
            if init is None
            else {"function": init.function, "file": init.file, "line": init.line}
        ),
        "trace": [
            {"kind": step.kind, "function": step.function, "file": step.file, "line": step.line}
            for step in finding.trace
        ],
        "suggestion": finding.suggestion,
    }


def error_object(error: FileError) -> Dict[str, Any]:
    return {"file": error.file, "line": error.line, "message": error.message}
