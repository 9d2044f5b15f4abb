"""`--format sarif`: SARIF 2.1.0 in the form GitHub code scanning accepts.

Every rule is described in the driver (not only those that fired), so code scanning can
show a rule's help for any alert. A result's trace becomes a code flow, its late
initializer a related location linked from the message, and its baseline fingerprint
the partial fingerprint that lets code scanning follow an alert across line shifts.
Output holds no timestamps, so the same scan gives the same bytes.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from nilcheck.linter.ftypes import FileError, Finding, ScanResult, TraceStep
from nilcheck.linter.reporters import RenderOptions, sorted_errors, sorted_findings

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/nilcheck/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "nilcheck/v1"
INITIALIZER_LOCATION_ID = 1
# SARIF's well-known threadFlowLocation kinds (SARIF 2.1.0, 3.38.8) for each trace kind.
STEP_KINDS = {
    "entry": ["enter", "function"],
    "call": ["call", "function"],
    "spawn": ["call", "handler"],
    "read": ["danger"],
}
DEFAULT_TAGS = ["correctness", "initialization"]


def render(result: ScanResult, root: Path, options: RenderOptions) -> str:
    # Imported on use, so importing the reporters never needs (or cycles through) baseline.
    from nilcheck.linter.baseline import fingerprint

    rules = options.rules if options.rules is not None else _all_rules()
    findings = sorted_findings(result)
    descriptors = _descriptors(rules, findings)
    rule_index = {descriptor["id"]: index for index, descriptor in enumerate(descriptors)}
    run = {
        "tool": {
            "driver": {
                "name": "nilcheck",
                "informationUri": _information_uri(),
                "version": _version(),
                "rules": descriptors,
            }
        },
        "invocations": [_invocation(sorted_errors(result))],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(root)}},
        "results": [
            _result(finding, rule_index, partial)
            for finding, partial in zip(findings, _partial_fingerprints(findings, fingerprint))
        ],
        # libcst columns count code points, not UTF-16 units (SARIF's default for JSON).
        "columnKind": "unicodeCodePoints",
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _all_rules() -> Mapping[str, Any]:
    from nilcheck.rules import RULES

    return RULES


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nilcheck")
    except PackageNotFoundError:
        return "0.0.0"


def _information_uri() -> str:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("nilcheck").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    # "Homepage, https://…" entries; the first declared URL is the project's own page.
    for entry in urls:
        _label, _sep, url = entry.partition(",")
        if url.strip():
            return url.strip()
    return INFORMATION_URI


def _root_uri(root: Path) -> str:
    return Path(os.path.abspath(root)).as_uri().rstrip("/") + "/"


def _descriptors(rules: Mapping[str, Any], findings: List[Finding]) -> List[Dict[str, Any]]:
    descriptors = [_descriptor(rules[code]) for code in sorted(rules)]
    # A finding whose rule is missing from the table still needs a valid ruleIndex.
    known = set(rules)
    for code in sorted({finding.rule for finding in findings} - known):
        descriptors.append({"id": code, "shortDescription": {"text": code}})
    descriptors.sort(key=lambda descriptor: descriptor["id"])
    return descriptors


def _descriptor(rule: Any) -> Dict[str, Any]:
    docs = rule.docs or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _what_it_does(docs) or rule.summary},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {"tags": list(getattr(rule, "tags", None) or DEFAULT_TAGS)},
    }


def _what_it_does(docs: str) -> str:
    """The body of the docs' "What it does" section (ruff's first heading), as one paragraph."""
    match = re.search(r"^#+\s*What it does\s*$(.*?)(?=^#|\Z)", docs, re.M | re.S | re.I)
    if not match:
        return ""
    return " ".join(match.group(1).split())


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def _physical(file: str, line: int, column: Optional[int] = None) -> Dict[str, Any]:
    region: Dict[str, Any] = {"startLine": max(line, 1)}
    if column is not None:
        region["startColumn"] = max(column, 1)
    # A URI reference: a path with spaces or '#' must be percent-encoded to stay a path.
    artifact = {"uri": quote(file, safe="/"), "uriBaseId": SRCROOT}
    return {"artifactLocation": artifact, "region": region}


def _partial_fingerprints(
    findings: List[Finding], fingerprint: Callable[[Finding], str]
) -> List[str]:
    """The baseline fingerprint, with ":2", ":3", … for later reads that share it.

    Identical reads in one function share a baseline fingerprint, and code scanning would
    fold them into one alert; like codeql-action, later occurrences (in sorted order) get
    a suffix. The same read reached from several entry points stays one alert.
    """
    seen: Dict[str, List[tuple]] = {}
    partials = []
    for finding in findings:
        base = fingerprint(finding)
        sites = seen.setdefault(base, [])
        site = (finding.file, finding.line, finding.column)
        if site not in sites:
            sites.append(site)
        occurrence = sites.index(site) + 1
        partials.append(base if occurrence == 1 else f"{base}:{occurrence}")
    return partials


def _result(finding: Finding, rule_index: Mapping[str, int], partial: str) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index[finding.rule],
        "level": _level(finding.severity),
        "message": {"text": _message(finding)},
        "locations": [
            {"physicalLocation": _physical(finding.file, finding.line, finding.column)}
        ],
        "partialFingerprints": {FINGERPRINT_KEY: partial},
        "codeFlows": [{"threadFlows": [{"locations": _thread_flow(finding.trace)}]}],
    }
    if finding.initializer is not None:
        init = finding.initializer
        result["relatedLocations"] = [
            {
                "id": INITIALIZER_LOCATION_ID,
                "physicalLocation": _physical(init.file, init.line),
                "message": {"text": f"initializer: {init.function}"},
            }
        ]
    return result


def _message(finding: Finding) -> str:
    # SARIF reserves [text](id) for links: literal brackets are escaped (SARIF 3.11.6),
    # and code scanning shows a related location only when the message links to it.
    text = finding.message.replace("[", "\\[").replace("]", "\\]")
    if finding.initializer is not None:
        function = finding.initializer.function
        text += f" (initializer: [{function}]({INITIALIZER_LOCATION_ID}))"
    return text


def _thread_flow(trace: Tuple[TraceStep, ...]) -> List[Dict[str, Any]]:
    locations = []
    depth = 0  # how many calls/spawns deep: SARIF viewers indent the flow by it
    for step in trace:
        if step.kind in ("call", "spawn"):
            depth += 1
        locations.append(
            {
                "location": {
                    "physicalLocation": _physical(step.file, step.line),
                    "message": {"text": f"{step.kind}: {step.function}"},
                },
                "kinds": list(STEP_KINDS.get(step.kind, [step.kind])),
                "nestingLevel": depth,
            }
        )
    return locations


def _invocation(errors: List[FileError]) -> Dict[str, Any]:
    invocation: Dict[str, Any] = {"executionSuccessful": True}
    if errors:
        invocation["toolExecutionNotifications"] = [_notification(error) for error in errors]
    return invocation


def _notification(error: FileError) -> Dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [{"physicalLocation": _physical(error.file, error.line)}],
    }
