"""The whole scan pipeline except formatting: root, config, discovery, analysis, then the
filters that decide what is reported (rules, explicit paths, suppressions, baseline).

The CLI is a thin layer over scan(); other tools can call it directly.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from nilcheck.linter import engine
from nilcheck.linter.baseline import filter_baselined, load_baseline
from nilcheck.linter.config import (
    entry_point_problem,
    find_project_root,
    known_rule_codes,
    load_config,
    rule_code_problem,
)
from nilcheck.linter.discovery import discover_files, relpath
from nilcheck.linter.fileio import read_source_lines
from nilcheck.linter.ftypes import AnalysisSettings, ConfigError, Finding, ScanResult
from nilcheck.linter.pyversion import python_target
from nilcheck.linter.suppression import (
    Suppression,
    matching_suppression,
    parse_suppressions,
    unused_suppressions,
)

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class ScanOutcome:
    result: ScanResult  # what is reported, sorted
    root: Path
    unused_suppressions: List[Tuple[str, int]] = field(default_factory=list)  # (file, line)
    suppressed: int = 0  # findings hidden by a comment
    baselined: int = 0  # findings hidden by the baseline


def scan(
    paths: Sequence[PathLike] = (),
    *,
    entry: Sequence[str] = (),
    select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    baseline: Optional[PathLike] = None,
    jobs: Optional[int] = None,
    use_cache: bool = True,
    show_unused: bool = False,
    use_baseline: bool = True,
    progress: Optional[Callable[[int, int], None]] = None,
) -> ScanOutcome:
    """Analyse the project that holds paths[0] and return what should be reported.

    CLI values (entry, select, ignore, baseline) override the configuration's.
    use_baseline=False ignores every baseline, for writing a new one. progress(done,
    total) is called as files are parsed (see progress.py). Raises ConfigError.
    """
    started = time.perf_counter()
    given = [Path(path) for path in (paths or ["."])]
    for path in given:
        if not path.exists():
            raise ConfigError(f"path {str(path)!r} does not exist")
    root = find_project_root(given)
    config = load_config(root)

    for value in entry:
        problem = entry_point_problem(value)
        if problem:
            raise ConfigError(f"--entry: {problem}")
    selected = _checked_codes("--select", select) if select is not None else config.select
    ignored = _checked_codes("--ignore", ignore) if ignore is not None else config.ignore
    baseline_path = Path(baseline) if baseline is not None else config.baseline
    # Loaded before the analysis, so a bad baseline fails fast.
    recorded = load_baseline(baseline_path) if use_baseline and baseline_path else None

    settings, files, discovery_errors = _settings(root, config, entry, jobs, use_cache)
    analysed = engine.analyze(settings, progress=progress)

    in_scope = _scope(root, given)
    active = set(known_rule_codes() if selected is None else selected) - set(ignored)
    findings = [
        finding
        for finding in analysed.findings
        if finding.rule in active and _finding_in_scope(finding, in_scope)
    ]
    errors = sorted(
        {error for error in (*analysed.errors, *discovery_errors) if in_scope(error.file)},
        key=lambda error: error.sort_key,
    )

    suppressions = _SuppressionIndex(root)
    reported = [finding for finding in findings if not suppressions.hides(finding)]
    unused: List[Tuple[str, int]] = []
    if show_unused:
        rels = [relpath(root, path) for path in files]
        unused = unused_suppressions(
            {rel: suppressions.of(rel) for rel in rels if in_scope(rel)}, findings
        )
    after_baseline = filter_baselined(reported, recorded) if recorded is not None else reported

    result = ScanResult(
        findings=sorted(after_baseline, key=lambda finding: finding.sort_key),
        errors=errors,
        files=analysed.files,
        seconds=time.perf_counter() - started,
        calls_resolved=analysed.calls_resolved,
        calls_unresolved=analysed.calls_unresolved,
        warnings=analysed.warnings,
    )
    return ScanOutcome(
        result=result,
        root=root,
        unused_suppressions=unused,
        suppressed=len(findings) - len(reported),
        baselined=len(reported) - len(after_baseline),
    )


def _settings(root: Path, config, entry: Sequence[str], jobs: Optional[int], use_cache: bool):
    """The analysis settings of a project, its files and the errors met finding them."""
    files, discovery_errors = discover_files(root, config.exclude)
    settings = AnalysisSettings(
        root=root,
        files=tuple(files),
        entry_points=tuple(entry) or config.entry_points,
        initializer_methods=config.initializer_methods,
        spawners=config.spawners,
        project_scripts=config.project_scripts,
        source_roots=config.source_roots,
        jobs=jobs if jobs else (os.cpu_count() or 1),
        use_cache=use_cache,
        python_target=python_target(config.requires_python),
    )
    return settings, files, discovery_errors


def graph(
    path: Optional[PathLike] = None,
    *,
    entry: Sequence[str] = (),
    every_function: bool = False,
    jobs: Optional[int] = None,
    use_cache: bool = True,
    progress: Optional[Callable[[int, int], None]] = None,
):
    """The call graph the analysis uses for the project holding path: (CallGraph,
    project root, errors). From entry (else the configured or discovered entry points),
    or from every function. Raises ConfigError."""
    from nilcheck.linter import callgraph

    root, config = _project_of(path, entry)
    settings, _, discovery_errors = _settings(root, config, (), jobs, use_cache)

    def compute(program):
        built = callgraph.build(program, entry, every_function)
        return built, built.shown_files

    built, errors = engine.on_program(settings, compute, progress=progress)
    return built, root, sorted({*errors, *discovery_errors}, key=lambda e: e.sort_key)


def _project_of(path: Optional[PathLike], entry: Sequence[str]):
    """(project root, config) for the project holding path, with the --entry values
    checked (graph and why). Raises ConfigError."""
    given = Path(path if path is not None else ".")
    if not given.exists():
        raise ConfigError(f"path {str(given)!r} does not exist")
    root = find_project_root([given])
    config = load_config(root)
    for value in entry:
        problem = entry_point_problem(value)
        if problem:
            raise ConfigError(f"--entry: {problem}")
    return root, config


def why(
    spec: str,
    path: Optional[PathLike] = None,
    *,
    entry: Sequence[str] = (),
    jobs: Optional[int] = None,
    use_cache: bool = True,
    progress: Optional[Callable[[int, int], None]] = None,
):
    """The story of the field spec names (`module:Class.attr` or `Class.attr`), in the
    project holding path (see why.py): (FieldStory,
    project root, errors). Configured as a scan is; a read the scan finds but would not
    report (rule not selected, suppressed, baselined) is not-reported, saying why.
    Raises ConfigError, also when field names no field or more than one."""
    from nilcheck.linter import why as field_story

    root, config = _project_of(path, entry)
    recorded = load_baseline(config.baseline) if config.baseline else None
    settings, _, discovery_errors = _settings(root, config, entry, jobs, use_cache)

    def compute(program):
        story = field_story.explain(program, spec)
        return story, story.shown_files

    story, errors = engine.on_program(settings, compute, progress=progress)
    active = set(known_rule_codes() if config.select is None else config.select) \
        - set(config.ignore)
    suppressions = _SuppressionIndex(root)

    def hidden(finding: Finding) -> Optional[str]:
        if finding.rule not in active:
            return "the rule is not selected in the configuration"
        comment = matching_suppression(finding, suppressions.of(finding.file))
        if comment is not None:
            return f"suppressed by the `# nilcheck: ignore` comment on line {comment.line}"
        if recorded is not None and not filter_baselined([finding], recorded):
            return f"recorded in the baseline {config.baseline}"
        return None

    return (field_story.hide(story, hidden), root,
            sorted({*errors, *discovery_errors}, key=lambda e: e.sort_key))


def project_sites(root: PathLike, jobs: Optional[int] = None, use_cache: bool = True):
    """(files, ProjectSites): the project's analysed files, and where the value flow
    finds each class constructed and each method called (see sites.py), with exact
    positions. For the fix planner."""
    from nilcheck.linter.sites import project_sites as compute_sites

    root = Path(root)
    config = load_config(root)
    settings, files, _ = _settings(root, config, (), jobs, use_cache)

    def compute(program):
        found = compute_sites(program)
        return found, found.files

    found, _ = engine.on_program(settings, compute)
    return files, found


def _checked_codes(option: str, codes: Iterable[str]) -> Tuple[str, ...]:
    checked = tuple(code.strip().upper() for code in codes if code.strip())
    for code in checked:
        problem = rule_code_problem(code)
        if problem:
            raise ConfigError(f"{option}: {problem}")
    return checked


def _scope(root: Path, given: Sequence[Path]):
    """A predicate on relative paths: inside one of the given paths.

    Naming the root (or nothing) reports everything; naming files or subdirectories
    reports only findings that touch them, while the whole project is still analysed.
    """
    files = set()
    directories = set()
    for path in given:
        rel = relpath(root, path)
        if rel == "." or rel == "":
            return lambda rel: True
        if rel.startswith("../"):
            raise ConfigError(f"path {str(path)!r} is outside the project root {str(root)!r}")
        (directories if path.is_dir() else files).add(rel)
    prefixes = tuple(f"{directory}/" for directory in sorted(directories))

    def in_scope(rel: str) -> bool:
        return rel in files or rel.startswith(prefixes)

    return in_scope


def _finding_in_scope(finding: Finding, in_scope) -> bool:
    return in_scope(finding.file) or any(in_scope(step.file) for step in finding.trace)


class _SuppressionIndex:
    """Suppression comments per file, each file read and parsed at most once."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._by_file: Dict[str, Mapping[int, Suppression]] = {}

    def of(self, rel: str) -> Mapping[int, Suppression]:
        if rel not in self._by_file:
            self._by_file[rel] = parse_suppressions(read_source_lines(self._root / rel))
        return self._by_file[rel]

    def hides(self, finding: Finding) -> bool:
        return matching_suppression(finding, self.of(finding.file)) is not None
