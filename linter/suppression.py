"""The one parser of `# nilcheck: ignore[...]` comments, and the test of whether a
finding is suppressed by one.

A comment suppresses findings whose read is on its line or on the line after it. Real
comments are found with tokenize, so a `#` inside a string never counts.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from nilcheck.linter.ftypes import Finding

# "nilcheck" is matched case-sensitively on purpose: the comment is a directive, not prose.
_DIRECTIVE = re.compile(
    # An unclosed "[" must not degrade into a bare ignore that hides every rule.
    r"#\s*nilcheck\s*:\s*ignore(?:\s*\[(?P<codes>[^\]]*)\])?(?![\w-])(?!\s*\[)"
)


@dataclass(frozen=True)
class Suppression:
    line: int  # 1-based line of the comment
    codes: Optional[FrozenSet[str]]  # None for a bare `ignore`: every rule

    def covers(self, rule: str) -> bool:
        return self.codes is None or rule in self.codes


def parse_suppressions(source_lines: Sequence[str]) -> Dict[int, Suppression]:
    """Every suppression comment of a file, by line."""
    text = "".join(line if line.endswith("\n") else line + "\n" for line in source_lines)
    try:
        comments = _comments_by_tokenize(text)
    except (tokenize.TokenError, SyntaxError):
        # A file tokenize rejects still gets its suppressions read, at the risk of
        # taking a `#` inside a string for a comment.
        comments = [(number, line) for number, line in enumerate(text.splitlines(), 1) if "#" in line]
    suppressions: Dict[int, Suppression] = {}
    for number, comment in comments:
        match = _DIRECTIVE.search(comment)
        if match:
            suppressions[number] = Suppression(number, _codes(match.group("codes")))
    return suppressions


def matching_suppression(
    finding: Finding, suppressions: Mapping[int, Suppression]
) -> Optional[Suppression]:
    """The comment that suppresses finding, or None. The read line wins over the line
    before it; the trace's read step is accepted too, for `x = self.a` / `x.b()` reads."""
    lines = [finding.line]
    if finding.trace and finding.trace[-1].file == finding.file:
        lines.append(finding.trace[-1].line)
    for line in (*lines, *(line - 1 for line in lines)):
        suppression = suppressions.get(line)
        if suppression is not None and suppression.covers(finding.rule):
            return suppression
    return None


def suppressed(finding: Finding, source_lines: Sequence[str]) -> bool:
    """Whether a comment in source_lines (the lines of finding.file) suppresses finding."""
    return matching_suppression(finding, parse_suppressions(source_lines)) is not None


def unused_suppressions(
    suppressions_by_file: Mapping[str, Mapping[int, Suppression]],
    findings: Iterable[Finding],
) -> List[Tuple[str, int]]:
    """(file, line) of each comment that suppresses none of findings, sorted.

    findings are the ones reported before suppression, so a comment is used when it hid
    at least one of them.
    """
    used = set()
    for finding in findings:
        suppression = matching_suppression(finding, suppressions_by_file.get(finding.file, {}))
        if suppression is not None:
            used.add((finding.file, suppression.line))
    return sorted(
        (file, line)
        for file, suppressions in suppressions_by_file.items()
        for line in suppressions
        if (file, line) not in used
    )


def _comments_by_tokenize(text: str) -> List[Tuple[int, str]]:
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]


def _codes(raw: Optional[str]) -> Optional[FrozenSet[str]]:
    if raw is None:
        return None
    return frozenset(code.strip().upper() for code in raw.split(",") if code.strip())
