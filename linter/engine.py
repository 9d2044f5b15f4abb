"""Runs the analysis stages over a project and returns findings.

discovery (config/discovery.py, done by the caller) -> parsing into per-module facts
(parallel) -> project index -> resolution and contextual call graph -> ordering
analysis from the entry points -> findings.
"""
from __future__ import annotations

import gc
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from nilcheck.linter.analysis import Analysis
from nilcheck.linter.cache import FactsCache
from nilcheck.linter.diagnostics import Diagnostics
from nilcheck.linter.entrypoints import configured_entries, discovered_entries
from nilcheck.linter.ftypes import AnalysisSettings, FileError, ScanResult
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.parsing import call_on_large_stack, module_name_for, parse_file, parse_source
from nilcheck.linter.resolve import Resolver

# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 40
# Work is cut into about this many batches per worker (by bytes), for load balance.
_CHUNKS_PER_WORKER = 16
_MAX_FILES_PER_CHUNK = 64
# With the collector paused, sweep the youngest generation after this much source.
_SWEEP_EVERY_BYTES = 16 << 20


def analyze(settings: AnalysisSettings, progress: Optional["Progress"] = None) -> ScanResult:
    """Analyse settings.files from the project's entry points.

    Raises ConfigError when a configured entry point does not resolve. A file that cannot
    be parsed becomes a FileError in the result; it never stops the scan. progress, when
    given, is told how many files are parsed so far.
    """
    started = time.perf_counter()
    root = settings.root.resolve()
    modules, errors = parse_all(root, settings.files, settings.jobs, settings.use_cache,
                                progress)
    # The whole-program stages recurse once per nesting level of the analysed code
    # (elif chains, class hierarchies): give them a deep stack rather than a crash.
    findings = call_on_large_stack(lambda: _whole_program(settings, root, modules))
    return ScanResult(findings=findings, errors=sorted(errors, key=lambda e: e.sort_key),
                      files=len(settings.files),
                      seconds=round(time.perf_counter() - started, 3))


def _whole_program(settings: AnalysisSettings, root: Path, modules: List[ModuleFacts]):
    index = ProjectIndex(modules)
    resolver = Resolver(index, spawners=settings.spawners)
    if settings.entry_points:
        entries = configured_entries(index, settings.entry_points, "entry-points")
    else:
        entries = discovered_entries(index, settings.project_scripts)
    analysis = Analysis(index, resolver, settings.initializer_methods)
    hazards = analysis.hazards(entries)
    return Diagnostics(index, analysis, root).findings(hazards)


# relative path, source bytes, module name, is_package
Job = Tuple[str, bytes, str, bool]
Result = Union[ModuleFacts, FileError]
# progress(done, total) after each file; done == total when parsing is over.
Progress = Callable[[int, int], None]


def parse_all(root: Path, files: Sequence[Path], jobs: int, use_cache: bool,
              progress: Optional[Progress] = None) -> Tuple[List[ModuleFacts], List[FileError]]:
    """The facts of every file, in path order: from the cache when the file's bytes (and
    nilcheck) are unchanged, else parsed, in worker processes when there are enough."""
    cache = FactsCache.open(root) if use_cache else None
    results: Dict[str, Result] = {}
    ordered: List[str] = []
    pending: List[Job] = []
    keys: Dict[str, bytes] = {}
    with _paused_gc():
        for path in sorted((Path(p) for p in files), key=lambda p: p.as_posix()):
            if not path.is_absolute():
                path = root / path
            name, is_package = module_name_for(root, path)
            relative = path.relative_to(root).as_posix()
            ordered.append(relative)
            try:
                source = path.read_bytes()
            except OSError:
                results[relative] = parse_file(root, path, name, is_package)
                continue
            if cache is not None:
                keys[relative] = cache.entry_key(relative, name, is_package, source)
                hit = cache.lookup(relative, keys[relative])
                if hit is not None:
                    results[relative] = hit
                    continue
            pending.append((relative, source, name, is_package))

        def finished(relative: str, result: Result, pickled: Optional[bytes] = None) -> None:
            results[relative] = result
            if cache is not None and relative in keys:
                cache.store(relative, keys[relative], result, pickled)
            if progress is not None:
                progress(len(results), len(ordered))

        if progress is not None:
            progress(len(results), len(ordered))
        jobs = max(1, jobs or os.cpu_count() or 1)
        if jobs > 1 and len(pending) >= _PARALLEL_THRESHOLD:
            _parse_in_workers(pending, jobs, finished)
        else:
            unswept = 0
            for job in pending:
                finished(job[0], _parse_job(job))
                unswept += len(job[1])
                if unswept >= _SWEEP_EVERY_BYTES:
                    gc.collect(0)  # bounds the cycles a huge project leaves while paused
                    unswept = 0
        # The facts are immutable and live until the scan ends: keep the collector from
        # walking their millions of objects again during the analysis (measured on a
        # warm Django scan: the first collections after parsing took 0.84 s, then 0.03 s).
        gc.freeze()
    if cache is not None:
        cache.save()
    merged = [results[relative] for relative in ordered]
    modules = [r for r in merged if isinstance(r, ModuleFacts)]
    errors = [r for r in merged if isinstance(r, FileError)]
    return modules, errors


def _parse_in_workers(pending: List[Job], jobs: int, finished: Callable[..., None]) -> None:
    """Parse in a process pool, biggest files first so no worker is left with a long
    file at the end; small files travel in batches to save round trips. Results arrive
    in completion order; parse_all puts them back in path order. Whatever the pool could
    not deliver is parsed here, so the scan always ends."""
    remaining = {job[0]: job for job in pending}
    chunks = _balanced_chunks(pending, jobs)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
            futures = [pool.submit(_parse_chunk, chunk) for chunk in chunks]
            for future in as_completed(futures):
                try:
                    parsed = future.result()
                except BrokenProcessPool:
                    raise
                except Exception:  # noqa: BLE001 - the chunk is parsed here instead
                    continue
                for relative, pickled in parsed:
                    if pickled is not None:
                        del remaining[relative]
                        finished(relative, pickle.loads(pickled), pickled)
    except (BrokenProcessPool, OSError):
        pass  # a worker was killed, or no pool can start here (no /dev/shm)
    for job in remaining.values():
        finished(job[0], _parse_job(job))


def _balanced_chunks(pending: List[Job], jobs: int) -> List[List[Job]]:
    by_size = sorted(pending, key=lambda job: (-len(job[1]), job[0]))
    target = max(1, sum(len(job[1]) for job in by_size) // (jobs * _CHUNKS_PER_WORKER))
    chunks: List[List[Job]] = []
    chunk: List[Job] = []
    size = 0
    for job in by_size:
        chunk.append(job)
        size += len(job[1])
        if size >= target or len(chunk) >= _MAX_FILES_PER_CHUNK:
            chunks.append(chunk)
            chunk, size = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _parse_chunk(chunk: List[Job]) -> List[Tuple[str, Optional[bytes]]]:
    """Runs in a worker. Results go back pickled by hand: the parent unpickles each once
    and the cache stores the same bytes, instead of pickling every result again."""
    parsed: List[Tuple[str, Optional[bytes]]] = []
    with _paused_gc():
        for job in chunk:
            try:
                pickled: Optional[bytes] = pickle.dumps(_parse_job(job),
                                                        protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - e.g. facts nested too deep to pickle
                pickled = None  # the parent parses this file itself
            parsed.append((job[0], pickled))
    return parsed


def _parse_job(job: Job) -> Result:
    relative, source, name, is_package = job
    return parse_source(source, relative, name, is_package)


@contextmanager
def _paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing and loading facts.

    Parsing allocates millions of short-lived nodes that reference counting frees; the
    collector's passes over the live tree took a third of the parse time on Django
    (measured: 19 s of 56 s CPU), and it found only 16k cyclic objects in all 883 files.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
