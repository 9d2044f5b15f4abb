"""Runs the analysis stages over a project and returns findings.

discovery (config/discovery.py, done by the caller) -> parsing into per-module facts
without positions (parallel, cached) -> the whole program (program.py: project index ->
resolution and contextual call graph -> ordering analysis from the entry points ->
findings) -> the files the findings show extracted again with positions, and the whole
program re-run. When no file and no setting changed, the cached outcome is the result;
so it is when the files edited since changed nothing the last analysis read
(footprint.py).
"""
from __future__ import annotations

import gc
import os
import pickle
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import (TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Sequence, Set,
                    Tuple, TypeVar, Union)

from nilcheck.linter.cache import FactsCache
from nilcheck.linter.discovery import ModuleNamer
from nilcheck.linter.ftypes import AnalysisSettings, FileError, ScanResult
from nilcheck.linter.stack import call_on_large_stack

if TYPE_CHECKING:
    from nilcheck.linter.ir import ModuleFacts
    from nilcheck.linter.program import Program
    from nilcheck.linter.pyversion import PythonTarget

T = TypeVar("T")

# What starting a process pool raises where none can start: no /dev/shm (AWS Lambda,
# some containers), no working sem_open (some platforms' Python builds).
_NO_POOL = (OSError, NotImplementedError, ImportError)
# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 40
# Each batch is 1/_GUIDED_SHARE of a worker's share of the bytes left, and at least
# 1/_CHUNKS_PER_WORKER of its share of all of them.
_GUIDED_SHARE = 4
_CHUNKS_PER_WORKER = 48
_MAX_FILES_PER_CHUNK = 64
# Batches handed to each worker ahead of time: enough that it never waits while this
# process parses a batch of its own (the batches shrink, so two are more than one).
_IN_FLIGHT_PER_WORKER = 2
# How long this process's parsing keeps the GIL from the pool's threads, which read the
# workers' results and send them their next batches (Python's default: 5 ms).
_SWITCH_INTERVAL = 0.0002
# With the collector paused, sweep the youngest generation after this much source.
_SWEEP_EVERY_BYTES = 16 << 20


def analyze(settings: AnalysisSettings, progress: Optional["Progress"] = None) -> ScanResult:
    """Analyse settings.files from the project's entry points.

    Raises ConfigError when a configured entry point does not resolve. A file that cannot
    be parsed becomes a FileError in the result; it never stops the scan. progress, when
    given, is told how many files are parsed so far.

    Files are extracted without positions first (site numbers stand in; computing
    positions costs as much as parsing). The files the findings show lines of are then
    extracted again with positions and the analysis re-run, until every shown line is
    a real one: for a clean project, one analysis; usually two.
    """
    started = time.perf_counter()
    root = settings.root.resolve()
    cache = FactsCache.open(root) if settings.use_cache else None
    pool = _pool_for_edits(settings, cache) if cache is not None else None
    namer = ModuleNamer(root, settings.source_roots)
    with _paused_gc():
        sources, unreadable = read_sources(root, settings.files, namer)
    target = settings.python_target
    keys = {relative: cache.entry_key(relative, name, is_package, source, _target_key(target))
            for relative, (_, source, name, is_package) in sources.items()} if cache else {}
    outcome_key = _outcome_key(cache, settings, keys) if cache and not unreadable else None
    outcome = cache.lookup_outcome(outcome_key) if outcome_key else None
    try:
        if outcome is None:
            # After edits the last analysis may not see, the facts they replace are
            # loaded while workers parse; else the whole-program stages are imported.
            last = _last_outcome(settings, cache, keys) if outcome_key else None
            modules, errors = load_facts(
                sources, unreadable, settings.jobs, cache, keys, progress,
                meanwhile=_program if last is None else lambda: last.load_edited(cache),
                pool=pool, target=target)
            pool = None  # load_facts parsed with it or let it go
            if cache is not None:
                cache.save_facts_in_background()  # while the analysis runs
            if last is not None and last.unseen(modules, errors):
                outcome = last.outcome
                cache.store_outcome(outcome_key, outcome,  # type: ignore[union-attr]
                                    (dict(keys), _settings_key(settings), last.seen))
        if outcome is None:
            findings, counts, seen = _positioned(settings, root, modules, sources, cache,
                                                 keys, _findings_and_counts)
            outcome = (findings, sorted(errors, key=lambda e: e.sort_key), counts)
            if outcome_key:
                cache.store_outcome(outcome_key, outcome,
                                    (dict(keys), _settings_key(settings), seen))
    finally:
        if pool is not None:  # unused: the files changed in name only (touched)
            _let_go(pool)
        if cache is not None:
            # Also when the analysis failed (say, a configured entry point that does not
            # resolve): the facts are still good, and their writer must finish first.
            cache.save()
    return ScanResult(findings=outcome[0], errors=outcome[1], files=len(settings.files),
                      seconds=round(time.perf_counter() - started, 3),
                      calls_resolved=outcome[2][0], calls_unresolved=outcome[2][1],
                      warnings=list(namer.warnings))


def on_program(settings: AnalysisSettings, compute: Callable[["Program"], Tuple[T, Set[str]]],
               progress: Optional["Progress"] = None) -> Tuple[T, List[FileError]]:
    """compute(program) on the whole program of settings.files, with its facts loaded as
    a scan loads them (cache, workers); compute returns its result and the files whose
    lines it shows, which are then extracted with positions and the program built
    again. Returns the result and the files that could not be analysed."""
    root = settings.root.resolve()
    cache = FactsCache.open(root) if settings.use_cache else None
    try:
        with _paused_gc():
            sources, unreadable = read_sources(root, settings.files,
                                               ModuleNamer(root, settings.source_roots))
        target = settings.python_target
        keys = {relative: cache.entry_key(relative, name, is_package, source,
                                          _target_key(target))
                for relative, (_, source, name, is_package) in sources.items()} \
            if cache else {}
        modules, errors = load_facts(sources, unreadable, settings.jobs, cache, keys,
                                     progress, meanwhile=_program, target=target)
        if cache is not None:
            cache.save_facts_in_background()

        def run(modules: List[ModuleFacts]):
            return compute(_program().Program(settings, root, modules))
        result = _positioned(settings, root, modules, sources, cache, keys,
                             lambda settings, root, modules: run(modules))
    finally:
        if cache is not None:
            cache.save()
    return result, sorted(errors, key=lambda e: e.sort_key)


def _findings_and_counts(settings: AnalysisSettings, root: Path, modules: List[ModuleFacts]):
    programs: list = []
    findings, shown = _program().whole_program(settings, root, modules, programs)
    from nilcheck.linter.footprint import footprint
    return (findings, programs[0].call_counts(), footprint(programs[0].index, shown)), shown


class _LastOutcome:
    """The last scan's outcome, its footprint (footprint.py) and the files edited since,
    when they are the same files and the settings are the same."""

    def __init__(self, outcome: tuple, keys: Dict[str, bytes], seen, edited: Set[str]):
        self.outcome = outcome
        self.keys = keys
        self.seen = seen
        self.edited = edited
        self.before: Dict[str, Result] = {}

    def load_edited(self, cache: FactsCache) -> None:
        """The edited files' facts as the last scan had them."""
        for relative in sorted(self.edited):
            self.before[relative] = cache.peek(relative, self.keys[relative])

    def unseen(self, modules: List[ModuleFacts], errors: List[FileError]) -> bool:
        """Whether the last analysis could not see how the edited files (now modules and
        errors) were edited: then its outcome is this scan's."""
        if any(error.file in self.edited for error in errors):
            return False
        pairs = []
        for module in modules:
            if module.path in self.edited:
                before = self.before.get(module.path)
                if before is None or isinstance(before, FileError):
                    return False
                pairs.append((before, module))
        from nilcheck.linter.footprint import unseen_edits
        return unseen_edits(pairs, self.seen) is None


def _last_outcome(settings: AnalysisSettings, cache: FactsCache,
                  keys: Dict[str, bytes]) -> Optional[_LastOutcome]:
    previous = cache.previous_outcome()
    if previous is None or not isinstance(previous[1], tuple) or len(previous[1]) != 3:
        return None
    outcome, (last_keys, last_settings, seen) = previous
    if last_settings != _settings_key(settings) or last_keys.keys() != keys.keys():
        return None
    edited = {relative for relative in keys if keys[relative] != last_keys[relative]}
    if not edited or edited & seen.shown:
        return None
    return _LastOutcome(outcome, last_keys, seen, edited)  # type: ignore[arg-type]


def _pool_for_edits(settings: AnalysisSettings, cache: FactsCache):
    """A worker pool, already importing libcst, when files look edited since the last
    scan: their size, times or inode differ from what it stored (a stat each, 2-3 ms on
    Django). Then the worker is the longer side of the scan, and this starts it before
    the files are read and hashed. Only a hint: what is parsed and reused is still
    decided by the files' bytes."""
    stamps: Dict[str, tuple] = {}
    for path in settings.files:
        try:
            status = os.stat(path)
            stamps[os.fspath(path)] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns,
                                       status.st_ino)
        except OSError:
            pass
    looks_edited = cache.store_stamps(stamps)
    jobs = max(1, settings.jobs or os.cpu_count() or 1)
    if not (looks_edited and jobs > 1 and len(settings.files) >= _PARALLEL_THRESHOLD
            and cache.has_facts()):
        return None
    with _paused_gc():  # the worker inherits it: its imports go faster without collections
        return _start_pool(jobs - 1)


def _outcome_key(cache: FactsCache, settings: AnalysisSettings, keys: Dict[str, bytes]) -> bytes:
    """What decides the whole-program outcome: every file's facts key (bytes, path, module
    name, nilcheck) and the settings the analysis reads."""
    return cache.outcome_key(sorted(keys.items()), _settings_key(settings))


def _settings_key(settings: AnalysisSettings) -> str:
    return repr((settings.entry_points, settings.initializer_methods, settings.spawners,
                 settings.project_scripts))


def _positioned(settings: AnalysisSettings, root: Path, modules: List[ModuleFacts],
                sources: Dict[str, "Job"], cache: Optional[FactsCache], keys: Dict[str, bytes],
                compute: Callable[..., Tuple[T, Set[str]]]) -> T:
    """compute(settings, root, modules)'s result, after extracting again with positions
    the files whose lines it shows."""
    tried: Set[str] = set()
    while True:
        # The whole-program stages recurse once per nesting level of the analysed code
        # (elif chains, class hierarchies): give them a deep stack rather than a crash.
        # With the collector paused too: the value flow allocates hundreds of thousands
        # of small objects that live until the scan ends, and each collection would
        # walk them all again (measured on Django: the whole program took 2x longer).
        with _paused_gc():
            result, shown = call_on_large_stack(lambda: compute(settings, root, modules))
            # What the analysis built lives until the scan ends: spare it the full
            # collection that turning the collector back on would start (0.2 s on
            # Django after a one-file edit).
            gc.freeze()
        unpositioned = {m.path for m in modules if not m.positioned} & shown - tried
        if not unpositioned:
            return result
        tried |= unpositioned
        for position, module in enumerate(modules):
            if module.path in unpositioned:
                result = _parse_job(sources[module.path], True, settings.python_target)
                if not isinstance(result, FileError):  # the same bytes parsed before: it is
                    modules[position] = result
                    if cache is not None:  # positioned facts serve both needs
                        cache.store(module.path, keys[module.path], result)


# relative path, source bytes, module name, is_package
Job = Tuple[str, bytes, str, bool]
Result = Union["ModuleFacts", FileError]
# progress(done, total) after each file; done == total when parsing is over.
Progress = Callable[[int, int], None]


def read_sources(root: Path, files: Sequence[Path], namer: Optional[ModuleNamer] = None
                 ) -> Tuple[Dict[str, Job], Dict[str, FileError]]:
    """The job of every readable file and the FileError of every other, by relative
    path, in path order. Modules are named by namer (by default: from the roots found
    under root), all at once, so that no two files have one name."""
    listed: List[Tuple[str, str]] = []  # (relative, absolute), paths as strings
    base = os.path.join(os.fspath(root), "")
    for path in files:
        text = os.path.join(base, os.fspath(path))  # unchanged when absolute
        relative = text[len(base):]
        if os.sep == "/" and text.startswith(base) and os.path.normpath(relative) == relative:
            listed.append((relative, text))  # nothing to normalise: no Path (3x faster)
        else:
            absolute = Path(text)
            listed.append((absolute.relative_to(root).as_posix(), str(absolute)))
    listed.sort()
    namer = namer if namer is not None else ModuleNamer(root)
    names = namer.names(relative for relative, _ in listed)
    sources: Dict[str, Job] = {}
    unreadable: Dict[str, FileError] = dict(namer.unnamed)
    for relative, absolute in listed:
        if relative not in names:
            continue
        name, is_package = names[relative]
        try:
            with open(absolute, "rb") as handle:
                source = handle.read()
        except OSError as error:
            unreadable[relative] = FileError(relative, 1, f"cannot read file: "
                                                          f"{error.strerror or error}")
            continue
        sources[relative] = (relative, source, name, is_package)
    return sources, unreadable


def load_facts(sources: Dict[str, Job], unreadable: Dict[str, FileError], jobs: int,
               cache: Optional[FactsCache], keys: Dict[str, bytes],
               progress: Optional[Progress] = None,
               meanwhile: Callable[[], object] = lambda: None, pool=None,
               target: Optional["PythonTarget"] = None,
               ) -> Tuple[List[ModuleFacts], List[FileError]]:
    """The facts of every file and the errors, in path order: from the cache when the
    file's bytes (and nilcheck) are unchanged, else parsed without positions. Parsing
    goes to worker processes when there are enough files to parse, or enough cached
    facts to load here meanwhile (after an edit to one file, the worker imports libcst
    and parses while this process loads the rest and calls meanwhile()). pool, when given,
    is a pool of jobs - 1 workers started earlier (_start_pool): it is used or let go.
    target: the Python version files must be valid for (None: the running one's)."""
    results: Dict[str, Result] = dict(unreadable)
    total = len(sources) + len(unreadable)
    jobs = max(1, jobs or os.cpu_count() or 1)
    with _paused_gc():
        cached = [relative for relative in sources
                  if cache is not None and cache.has(relative, keys[relative])]
        known = set(cached)
        pending = [job for relative, job in sources.items() if relative not in known]

        def finished(relative: str, result: Result, pickled: Optional[bytes] = None) -> None:
            results[relative] = result
            if cache is not None:
                cache.store(relative, keys[relative], result, pickled)
            if progress is not None:
                progress(len(results), total)

        def load_cached() -> None:
            for relative in cached:
                hit = cache.lookup(relative, keys[relative])  # type: ignore[union-attr]
                if hit is None:  # unusable after all
                    pending.append(sources[relative])
                else:
                    results[relative] = hit
            if progress is not None:
                progress(len(results), total)
            meanwhile()

        if pending and (pool is not None or jobs > 1 and (
                len(pending) >= _PARALLEL_THRESHOLD or len(cached) >= _PARALLEL_THRESHOLD)):
            in_workers = list(pending)
            pending.clear()
            if cached and pool is None:
                # Loading the cached facts needs the IR here anyway: imported before the
                # workers fork, they inherit it instead of importing it again (30 ms on
                # the path of a scan after a one-file edit).
                from nilcheck.linter import ir  # noqa: F401
            _parse_in_workers(in_workers, jobs, finished, meanwhile=load_cached, pool=pool,
                              target=target)
        else:
            if pool is not None:  # nothing to parse after all
                _let_go(pool)
            load_cached()
        call_on_large_stack(lambda: _parse_here(pending, finished, target))
        # The facts are immutable and live until the scan ends: keep the collector from
        # walking their millions of objects again during the analysis (measured on a
        # warm Django scan: the first collections after parsing took 0.84 s, then 0.03 s).
        gc.freeze()
    merged = [results[relative] for relative in sorted(results)]
    modules = [r for r in merged if not isinstance(r, FileError)]
    errors = [r for r in merged if isinstance(r, FileError)]
    return modules, errors


def _parse_here(pending: List[Job], finished: Callable[..., None],
                target: Optional["PythonTarget"] = None) -> None:
    """Parse in this process, on one large stack for all the files (see stack.py)."""
    unswept = 0
    for job in pending:
        finished(job[0], _parse_job(job, False, target))
        unswept += len(job[1])
        if unswept >= _SWEEP_EVERY_BYTES:
            gc.collect(0)  # bounds the cycles a huge project leaves while paused
            unswept = 0


def _start_pool(workers: int):
    """A pool of worker processes, one of them already importing libcst; None when no
    pool can start here (then this process parses)."""
    from concurrent.futures import ProcessPoolExecutor  # only here

    from nilcheck.linter import ir  # noqa: F401 - needed here too: the workers inherit it

    try:
        pool = ProcessPoolExecutor(max_workers=workers)
    except _NO_POOL:
        return None
    try:
        pool.submit(_warm_up)
    except _NO_POOL:
        _let_go(pool)
        return None
    return pool


def _let_go(pool) -> None:
    """Stop and reap the workers of a pool that is not needed (any more), without
    waiting for a libcst import to finish. A worker merely abandoned is never reaped: it
    waits forever on the pool's call queue (it holds an end of that pipe itself), and it
    holds this scan's output open, so that whoever reads the output waits too."""
    try:
        terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
        if terminate is not None:
            terminate()
        else:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
    except Exception:  # noqa: BLE001 - a pool already shut down has no workers to stop
        pass
    pool.shutdown(wait=True, cancel_futures=True)


def _warm_up() -> None:
    _parsing()


def _parse_in_workers(pending: List[Job], jobs: int, finished: Callable[..., None],
                      meanwhile: Callable[[], None] = lambda: None, pool=None,
                      target: Optional["PythonTarget"] = None) -> None:
    """Parse with jobs - 1 worker processes and this one. The batches are queued biggest
    files first, so that no one is left with a long file at the end; small files travel
    in batches to save round trips. The workers are fed from the queue (two batches
    each in flight) and this process, once meanwhile() has run, takes the next batch
    whenever it is free: what it parses itself is neither pickled nor sent (on
    Django, pickling the facts cost 0.7 s of CPU, a twentieth of the parse). Worker
    results arrive in completion order; load_facts puts them back in path order.
    Whatever the workers could not deliver is parsed here, so the scan always ends. pool,
    when given, is a pool of jobs - 1 workers started earlier (_start_pool)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # only here
    from concurrent.futures.process import BrokenProcessPool

    remaining = {job[0]: job for job in pending}
    queue = _balanced_chunks(pending, jobs)
    workers = min(jobs - 1, len(queue)) if pool is None else jobs - 1
    in_flight_limit = _IN_FLIGHT_PER_WORKER * workers
    helping = len(queue) > in_flight_limit
    if helping:
        # Imported before the workers fork, so that they inherit it instead of each
        # importing it again (0.3 s of CPU apiece).
        _parsing()
    queue.reverse()  # pop() takes the next batch, the biggest left
    waiting = [meanwhile]

    def deliver(future) -> None:
        try:
            parsed = future.result()
        except BrokenProcessPool:
            raise
        except Exception:  # noqa: BLE001 - the batch is parsed here instead
            return
        for relative, pickled in parsed:
            if pickled is not None and relative in remaining:
                del remaining[relative]
                finished(relative, pickle.loads(pickled), pickled)

    try:
        with _quick_handoffs(), pool or ProcessPoolExecutor(max_workers=workers) as pool:
            in_flight: Set = set()

            def top_up() -> None:
                while queue and len(in_flight) < in_flight_limit:
                    in_flight.add(pool.submit(_parse_chunk, queue.pop(), target))

            top_up()
            waiting.pop()()
            while in_flight:
                if helping and queue:
                    chunk = queue.pop()
                    call_on_large_stack(lambda: _parse_here(chunk, finished, target))
                    for job in chunk:
                        remaining.pop(job[0], None)
                    done = {future for future in in_flight if future.done()}
                else:
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                in_flight -= done
                for future in done:  # order is free: load_facts sorts by path
                    deliver(future)
                top_up()
    except (BrokenProcessPool, *_NO_POOL):
        pass  # a worker was killed, or no pool can start here
    if waiting:
        waiting.pop()()
    for job in remaining.values():
        finished(job[0], _parse_job(job, False, target))


def _balanced_chunks(pending: List[Job], jobs: int) -> List[List[Job]]:
    """Batches of the files, biggest files first, each a share of what is left (guided
    self-scheduling): big batches while there is much to do, small ones at the end, so
    that everyone runs out of work at about the same time."""
    by_size = sorted(pending, key=lambda job: (-len(job[1]), job[0]))
    left = sum(len(job[1]) for job in by_size)
    smallest = max(1, left // (jobs * _CHUNKS_PER_WORKER))
    chunks: List[List[Job]] = []
    chunk: List[Job] = []
    size = 0
    target = max(smallest, left // (jobs * _GUIDED_SHARE))
    for job in by_size:
        chunk.append(job)
        size += len(job[1])
        if size >= target or len(chunk) >= _MAX_FILES_PER_CHUNK:
            chunks.append(chunk)
            left -= size
            chunk, size = [], 0
            target = max(smallest, left // (jobs * _GUIDED_SHARE))
    if chunk:
        chunks.append(chunk)
    return chunks


def _parse_chunk(chunk: List[Job], target: Optional["PythonTarget"] = None
                 ) -> List[Tuple[str, Optional[bytes]]]:
    """Runs in a worker. Results go back pickled by hand: the parent unpickles each once
    and the cache stores the same bytes, instead of pickling every result again."""
    parsed: List[Tuple[str, Optional[bytes]]] = []

    def parse_all() -> None:
        for job in chunk:
            try:
                pickled: Optional[bytes] = pickle.dumps(_parse_job(job, False, target),
                                                        protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - e.g. facts nested too deep to pickle
                pickled = None  # the parent parses this file itself
            parsed.append((job[0], pickled))

    with _paused_gc():
        call_on_large_stack(parse_all)
    return parsed


def _parse_job(job: Job, positioned: bool = False,
               target: Optional["PythonTarget"] = None) -> Result:
    relative, source, name, is_package = job
    return _parsing().parse_source(source, relative, name, is_package, positioned, target)


def _target_key(target: Optional["PythonTarget"]) -> str:
    """What of the target version a file's facts depend on: its errors name the version
    and where it came from."""
    return "" if target is None else f"{target.version} {target.reason}"


# The per-file stage needs libcst and the whole-program one networkx: 0.35 s of imports
# that a scan reusing the stored outcome never needs. Imported on first use.

def _parsing():
    from nilcheck.linter import parsing
    return parsing


def _program():
    from nilcheck.linter import program
    return program


@contextmanager
def _quick_handoffs() -> Iterator[None]:
    """Let the pool's threads have the GIL soon while this process parses a batch.

    Reading a worker's results (megabytes of pickles) takes a GIL handoff per pipe read,
    and with the default switch interval each handoff waited up to 5 ms behind this
    process's parsing: a worker sat idle 0.1 s after each big batch, 0.23-0.49 s per
    cold Django scan in all; 0.04-0.12 s at 0.2 ms (traces of 4 scans each). The
    interval is the process's: restored as soon as the pool is done.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


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
