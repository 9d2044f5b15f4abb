"""Runs the analysis stages over a project and returns findings.

discovery (config/discovery.py, done by the caller) -> parsing into per-module facts
(parallel) -> project index -> resolution and contextual call graph -> ordering
analysis from the entry points -> findings.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from nilcheck.linter.analysis import Analysis
from nilcheck.linter.diagnostics import Diagnostics
from nilcheck.linter.entrypoints import configured_entries, discovered_entries
from nilcheck.linter.ftypes import AnalysisSettings, FileError, ScanResult
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.parsing import module_name_for, parse_file
from nilcheck.linter.resolve import Resolver

# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 40


def analyze(settings: AnalysisSettings) -> ScanResult:
    """Analyse settings.files from the project's entry points.

    Raises ConfigError when a configured entry point does not resolve. A file that cannot
    be parsed becomes a FileError in the result; it never stops the scan.
    """
    started = time.perf_counter()
    root = settings.root.resolve()
    modules, errors = parse_all(root, settings.files, settings.jobs, settings.use_cache)
    index = ProjectIndex(modules)
    resolver = Resolver(index, spawners=settings.spawners)
    if settings.entry_points:
        entries = configured_entries(index, settings.entry_points, "entry-points")
    else:
        entries = discovered_entries(index, settings.project_scripts)
    analysis = Analysis(index, resolver)
    hazards = analysis.hazards(entries)
    findings = Diagnostics(index, analysis, root).findings(hazards)
    return ScanResult(findings=findings, errors=sorted(errors, key=lambda e: e.sort_key),
                      files=len(settings.files),
                      seconds=round(time.perf_counter() - started, 3))


Job = Tuple[str, str, str, bool]  # root, absolute path, module name, is_package


def parse_all(root: Path, files: Sequence[Path], jobs: int,
              use_cache: bool) -> Tuple[List[ModuleFacts], List[FileError]]:
    work: List[Job] = []
    for path in sorted(files, key=lambda p: p.as_posix()):
        path = Path(path)
        if not path.is_absolute():
            path = root / path
        name, is_package = module_name_for(root, path)
        work.append((str(root), str(path), name, is_package))
    results: List[Union[ModuleFacts, FileError]]
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs > 1 and len(work) >= _PARALLEL_THRESHOLD:
        chunk = max(1, len(work) // (jobs * 8))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_parse_job, work, chunksize=chunk))
    else:
        results = [_parse_job(job) for job in work]
    modules = [r for r in results if isinstance(r, ModuleFacts)]
    errors = [r for r in results if isinstance(r, FileError)]
    return modules, errors


def _parse_job(job: Job) -> Union[ModuleFacts, FileError]:
    root, path, name, is_package = job
    return parse_file(Path(root), Path(path), name, is_package)
