"""Baselines: record today's findings so that only new ones are reported.

A finding's fingerprint leaves out its line number, so unrelated edits that shift lines
do not resurface recorded findings. Identical reads in one function share a fingerprint,
so the baseline keeps a count per fingerprint.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Mapping

from nilcheck.linter.fileio import write_text_atomic
from nilcheck.linter.ftypes import ConfigError, Finding

VERSION = 1


def fingerprint(finding: Finding) -> str:
    """sha256 (hex) of rule, field, enclosing function, whitespace-normalised read text
    and file: everything that identifies the read except where it sits."""
    parts = [
        finding.rule,
        finding.field,
        finding.enclosing_function,
        " ".join(finding.read_text.split()),
        finding.file,
    ]
    # JSON keeps the parts apart unambiguously, whatever characters they contain.
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def write_baseline(path: Path, findings: Iterable[Finding]) -> None:
    """Write every finding's fingerprint with its count; raises OSError."""
    counts = Counter(fingerprint(finding) for finding in findings)
    document = {"version": VERSION, "fingerprints": dict(counts)}
    write_text_atomic(Path(path), json.dumps(document, indent=2, sort_keys=True) + "\n")


def load_baseline(path: Path) -> Dict[str, int]:
    """{fingerprint: count} from a baseline file; ConfigError (one line) when it is bad."""
    shown = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{shown}: baseline file not found (create it with --write-baseline)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{shown}: cannot read baseline: {error.strerror or error}") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise ConfigError(f"{shown}: baseline is not valid JSON: {' '.join(str(error).split())}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ConfigError(f"{shown}: not a nilcheck baseline (expected \"version\": {VERSION})")
    fingerprints = document.get("fingerprints")
    if not isinstance(fingerprints, dict) or not all(
        isinstance(key, str) and type(count) is int and count > 0
        for key, count in fingerprints.items()
    ):
        raise ConfigError(
            f"{shown}: baseline \"fingerprints\" must map fingerprints to positive counts"
        )
    return dict(fingerprints)


def filter_baselined(findings: Iterable[Finding], baseline: Mapping[str, int]) -> List[Finding]:
    """The findings the baseline does not account for, in their order.

    With n recorded and m > n now, the first n (in the given order) are hidden and the
    rest reported: a new copy of a known read is still news.
    """
    remaining = Counter(baseline)
    reported = []
    for finding in findings:
        key = fingerprint(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            reported.append(finding)
    return reported
