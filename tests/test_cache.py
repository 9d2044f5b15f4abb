"""The facts cache (linter/cache.py), parallel parsing and the progress line.

The project under test is the containerd_buggy fixture (one NIL001 finding) plus filler
modules and one file with a syntax error, more than engine._PARALLEL_THRESHOLD files,
so that jobs=2 really uses worker processes.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from nilcheck.linter import cache, cli, engine, parsing
from nilcheck.linter.api import scan
from nilcheck.linter.progress import ProgressLine, progress_for_terminal

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "NIL001" / "containerd_buggy"
FILLERS = 45

FILLER = """\
class Filler{n}:
    def __init__(self):
        self.value = None

    def attach(self, value):
        self.value = value

    def read(self):
        return self.value + {n}
"""


@pytest.fixture(autouse=True)
def user_cache_home(tmp_path, monkeypatch):
    """Keep the signing key out of the real ~/.cache."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".nilcheck_cache"))
    for n in range(FILLERS):
        (root / "cri" / f"filler_{n:02}.py").write_text(FILLER.format(n=n), encoding="utf-8")
    (root / "cri" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    return root


@pytest.fixture
def parses(monkeypatch):
    """Counts the files parsed in this process (jobs=1), by relative path; the files
    extracted again with positions (for the lines findings show) go to .positioned."""
    seen = Parses()
    original = parsing.parse_source

    def counting(source, relative, name, is_package, positioned=True, target=None):
        (seen.positioned if positioned else seen).append(relative)
        return original(source, relative, name, is_package, positioned, target)

    monkeypatch.setattr(parsing, "parse_source", counting)
    return seen


class Parses(list):
    def __init__(self):
        super().__init__()
        self.positioned = []

    def clear(self):
        super().clear()
        self.positioned.clear()


def run(root: Path, **kwargs):
    kwargs.setdefault("jobs", 1)
    result = scan([str(root)], **kwargs).result
    return result.findings, result.errors


def pack(root: Path) -> Path:
    return root / cache.CACHE_DIR_NAME / cache.PACK_NAME


def rewrite_pack(root: Path, edit, name: str = cache.PACK_NAME) -> None:
    """Re-sign a pack after edit(entries) changed its entries in place."""
    secret, fingerprint = cache.user_key(), cache.code_fingerprint()
    directory = root / cache.CACHE_DIR_NAME
    entries = cache._read_pack(directory, secret, fingerprint, name)
    assert entries
    edit(entries)
    cache._write_pack(directory, secret, fingerprint, entries, name)


def forget_outcome(root: Path) -> None:
    """Else a scan reuses the stored outcome and does not even look at the files' facts."""
    (root / cache.CACHE_DIR_NAME / cache.OUTCOME_NAME).unlink()


def test_findings_identical_without_cache_cold_and_warm(project, parses):
    uncached = run(project, use_cache=False)
    assert [f.rule for f in uncached[0]] == ["NIL001"]
    assert [e.file for e in uncached[1]] == ["cri/broken.py"]
    assert not (project / cache.CACHE_DIR_NAME).exists()

    parses.clear()
    assert run(project, use_cache=True) == uncached
    # Cold: every file parsed, the broken one too; then the files the finding shows
    # lines of, with positions.
    finding = uncached[0][0]
    shown = {finding.file, finding.initializer.file} | {step.file for step in finding.trace}
    assert len(set(parses)) == len(parses) == FILLERS + 6
    assert shown <= set(parses.positioned) <= {p for p in parses if "filler" not in p}
    assert pack(project).is_file()

    parses.clear()
    assert run(project, use_cache=True) == uncached
    assert parses == parses.positioned == []  # warm: nothing parsed, the syntax error
    # comes from the cache, the positions too


def test_parallel_findings_identical_to_serial(project, monkeypatch):
    used_workers = []
    original = engine._parse_in_workers

    def spy(pending, jobs, finished, **kwargs):
        used_workers.append((len(pending), jobs))
        return original(pending, jobs, finished, **kwargs)

    monkeypatch.setattr(engine, "_parse_in_workers", spy)
    serial = run(project, jobs=1, use_cache=False)
    parallel = run(project, jobs=2, use_cache=False)
    assert used_workers == [(FILLERS + 6, 2)]
    assert parallel == serial
    assert [f.rule for f in parallel[0]] == ["NIL001"]


def test_pool_threads_get_quick_handoffs_only_while_this_process_parses(project, monkeypatch):
    seen = []
    original = engine._parse_job

    def spy(job, positioned=False, target=None):
        seen.append((positioned, sys.getswitchinterval()))
        return original(job, positioned, target)

    monkeypatch.setattr(engine, "_parse_job", spy)
    default = sys.getswitchinterval()
    run(project, jobs=2, use_cache=False)
    assert sys.getswitchinterval() == default
    # This process parsed batches beside the worker with short switches, and extracted
    # the reported files again afterwards with the default.
    parsing = {interval for positioned, interval in seen if not positioned}
    assert len(parsing) == 1 and parsing.pop() == pytest.approx(engine._SWITCH_INTERVAL)
    assert {interval for positioned, interval in seen if positioned} == {default}
    with pytest.raises(KeyError), engine._quick_handoffs():
        raise KeyError("a failed parse")
    assert sys.getswitchinterval() == default


def dying_worker(chunk):
    os._exit(3)


def failing_worker(chunk):
    raise RecursionError("maximum recursion depth exceeded while pickling an object")


def unpicklable_worker(chunk):
    return [(job[0], None) for job in chunk]


@pytest.mark.parametrize("worker", [dying_worker, failing_worker, unpicklable_worker])
def test_files_the_workers_could_not_deliver_are_parsed_here(project, monkeypatch, worker):
    serial = run(project, jobs=1, use_cache=False)
    monkeypatch.setattr(engine, "_parse_chunk", worker)
    assert run(project, jobs=2, use_cache=False) == serial


def test_pack_written_from_worker_results_serves_a_warm_run(project, parses):
    cold = run(project, jobs=2)
    # Shared: this process took batches from the back of the queue (the first two are
    # the worker's from the start), each file parsed once; the files the finding shows
    # are extracted here again with positions.
    assert 0 < len(parses) == len(set(parses)) < FILLERS + 6 - 2 and parses.positioned
    parses.clear()
    assert run(project, jobs=1) == cold
    assert parses == parses.positioned == []  # all served from the pack


def facts_in_workers(project: Path, files, **kwargs):
    sources, unreadable = engine.read_sources(project, files)
    return engine.load_facts(sources, unreadable, 2, None, {}, **kwargs)


def test_facts_come_in_path_order_whatever_the_workers_do(project):
    files = sorted(project.rglob("*.py"), reverse=True)
    modules, errors = facts_in_workers(project, files)
    paths = [module.path for module in modules]
    assert paths == sorted(paths) and len(paths) == FILLERS + 5
    assert [error.file for error in errors] == ["cri/broken.py"]


def test_balanced_chunks_cover_every_job_once_biggest_first():
    jobs = [(f"f{n}.py", b"x" * (n * 100), "f", False) for n in range(200)]
    chunks = engine._balanced_chunks(jobs, 2)
    flat = [job for chunk in chunks for job in chunk]
    assert sorted(flat) == sorted(jobs)
    assert len(flat[0][1]) == max(len(job[1]) for job in jobs)
    assert all(len(chunk) <= engine._MAX_FILES_PER_CHUNK for chunk in chunks)
    # Guided: the batches shrink, so that the last ones leave no one waiting long.
    sizes = [sum(len(job[1]) for job in chunk) for chunk in chunks]
    assert sizes[0] > 3 * sizes[-2]
    assert max(sizes[len(sizes) // 2:]) <= min(sizes[:len(sizes) // 4])


def test_only_the_changed_file_is_parsed_again(project, parses):
    expected = run(project)
    service = project / "cri" / "filler_07.py"
    service.write_text(service.read_text() + "\n# touched\n", encoding="utf-8")
    parses.clear()
    assert run(project) == expected
    assert parses == ["cri/filler_07.py"]


def test_deleted_files_leave_the_pack(project, parses):
    run(project)
    (project / "cri" / "filler_00.py").unlink()
    run(project)
    parses.clear()
    run(project)
    assert parses == []
    assert "cri/filler_00.py" not in cache._read_pack(
        project / cache.CACHE_DIR_NAME, cache.user_key(), cache.code_fingerprint())


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped byte", "empty"])
def test_corrupt_packs_are_ignored_and_rewritten(project, parses, damage):
    expected = run(project)
    for path in (pack(project), pack(project).with_name(cache.OUTCOME_NAME)):
        data = path.read_bytes()
        damaged = {
            "garbage": b"\x80\x05 not a pack at all" * 100,
            "truncated": data[: len(data) // 2],
            "flipped byte": data[:-10] + bytes([data[-10] ^ 1]) + data[-9:],
            "empty": b"",
        }[damage]
        path.write_bytes(damaged)

    parses.clear()
    assert run(project) == expected
    assert len(parses) == FILLERS + 6  # nothing trusted
    assert pack(project).read_bytes().startswith(cache._MAGIC)
    forget_outcome(project)
    parses.clear()
    assert run(project) == expected
    assert parses == []  # and rewritten whole


def test_corrupt_facts_are_not_read_while_the_outcome_holds(project, parses):
    expected = run(project)
    pack(project).write_bytes(b"garbage")
    parses.clear()
    assert run(project) == expected
    assert parses == []  # the outcome is keyed by every file's bytes: still valid
    forget_outcome(project)
    assert run(project) == expected
    assert len(parses) == FILLERS + 6  # then the facts are needed: not trusted


def test_pack_signed_with_another_key_is_not_trusted(project, parses, monkeypatch, tmp_path):
    expected = run(project)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-user"))
    parses.clear()
    assert run(project) == expected
    assert len(parses) == FILLERS + 6


def test_foreign_version_pack_is_ignored(project, parses, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(cache, "SCHEMA_VERSION", cache.SCHEMA_VERSION + 1000)
        expected = run(project)
    parses.clear()
    assert run(project) == expected
    assert len(parses) == FILLERS + 6


def test_entry_with_a_foreign_key_is_a_miss(project, parses):
    expected = run(project)

    def foreign_key(entries):
        # An entry recorded under another nilcheck version has another key.
        entries["cri/nri_api.py"] = (b"\0" * 32, entries["cri/nri_api.py"][1])

    rewrite_pack(project, foreign_key)
    forget_outcome(project)
    parses.clear()
    assert run(project) == expected
    assert parses == ["cri/nri_api.py"]


def test_entry_for_another_path_is_a_miss(project, parses):
    expected = run(project)

    def other_path(entries):
        entries["cri/nri_api.py"] = (entries["cri/nri_api.py"][0], entries["cri/service.py"][1])

    rewrite_pack(project, other_path)
    forget_outcome(project)
    parses.clear()
    assert run(project) == expected
    assert parses == ["cri/nri_api.py"]


def test_concurrent_runs_leave_a_valid_pack(project, parses):
    expected = run(project, use_cache=False)
    command = [sys.executable, "-m", "nilcheck.linter.cli", "scan", str(project), "--jobs", "1",
               "--format", "json"]
    for round in range(2):
        if round:  # now they also read the pack while others replace it
            edited = project / "cri" / "filler_03.py"
            edited.write_text(edited.read_text() + "# edited\n", encoding="utf-8")
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(4)]
        outputs = [process.communicate() for process in runs]
        assert [process.returncode for process in runs] == [1] * 4, outputs
        reports = [json.loads(stdout) for stdout, _ in outputs]
        for report in reports:
            report["summary"].pop("seconds")
        assert all(report == reports[0] for report in reports), reports
        assert all(stderr == b"" for _, stderr in outputs), outputs
    parses.clear()
    assert run(project) == expected
    assert parses == [], "the last pack written is not complete"
    leftovers = [p.name for p in pack(project).parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_unreadable_pack_never_stops_a_scan(project, parses):
    expected = run(project, use_cache=False)
    pack(project).parent.mkdir()
    pack(project).mkdir()  # a directory where the pack should be: unreadable, unwritable
    assert run(project) == expected
    assert run(project) == expected
    assert pack(project).is_dir()


def test_symlinked_cache_dir_is_not_written_through(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / cache.CACHE_DIR_NAME).symlink_to(outside, target_is_directory=True)
    expected = run(project, use_cache=False)
    assert run(project) == expected
    assert list(outside.iterdir()) == []


def test_symlinked_pack_is_replaced_not_followed(project, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    directory = project / cache.CACHE_DIR_NAME
    directory.mkdir()
    pack(project).symlink_to(victim)
    run(project)
    assert victim.read_text() == "precious\n"
    assert not pack(project).is_symlink()


def test_cache_dir_is_marked_and_ignored_by_git(project):
    run(project)
    directory = project / cache.CACHE_DIR_NAME
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    assert sorted(p.name for p in directory.iterdir()) == [
        ".gitignore", "CACHEDIR.TAG", cache.PACK_NAME, cache.OUTCOME_NAME]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_key_is_private_and_a_shared_key_is_refused(user_cache_home):
    secret = cache.user_key()
    key = user_cache_home / "nilcheck" / "key"
    assert secret is not None and len(secret) == 32 and key.read_bytes() == secret
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert cache.user_key() == secret
    key.chmod(0o644)  # readable by others: anyone could forge packs
    assert cache.user_key() is None


def test_no_cache_option_writes_nothing(project, user_cache_home, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli.main, ["scan", "--no-cache", "--jobs", "1", "--quiet"])
    assert result.exit_code == 1, result.output
    assert not (project / cache.CACHE_DIR_NAME).exists()
    assert not user_cache_home.exists()


def test_no_cache_reads_nothing(project, parses):
    run(project)
    parses.clear()
    run(project, use_cache=False)
    assert len(parses) == FILLERS + 6


# --- progress line ------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_line_waits_redraws_and_erases():
    stream, clock = io.StringIO(), Clock()
    progress = ProgressLine(stream=stream, clock=clock, delay=0.5)
    progress(1, 885)
    assert stream.getvalue() == ""  # a short scan shows nothing
    clock.now += 1
    progress(123, 885)
    assert stream.getvalue() == "\r[123/885] parsing"
    progress(124, 885)  # too soon to redraw
    clock.now += 1
    progress(885, 885)
    assert stream.getvalue().endswith("\r" + " " * len("[123/885] parsing") + "\r")


def test_progress_only_on_a_terminal_outside_ci(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert progress_for_terminal(stream=Terminal()) is not None
    assert progress_for_terminal(quiet=True, stream=Terminal()) is None
    assert progress_for_terminal(stream=io.StringIO()) is None
    monkeypatch.setenv("CI", "true")
    assert progress_for_terminal(stream=Terminal()) is None


def test_parsing_reports_progress_up_to_total(project):
    calls = []
    files = sorted(project.rglob("*.py"))
    facts_in_workers(project, files, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(files), len(files))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_findings_identical_when_every_file_is_positioned_up_front(monkeypatch):
    """The first pass extracts without positions and re-extracts only the files that
    findings show; the findings (lines, columns, traces, messages) must be exactly
    those of extracting every file with positions from the start."""
    fixtures = Path(__file__).resolve().parent / "fixtures"
    cases = sorted(path.parent for path in fixtures.glob("*/*/pyproject.toml"))
    lazy = {case.name: run(case, use_cache=False) for case in cases}
    original = engine._parse_job
    monkeypatch.setattr(engine, "_parse_job",
                        lambda job, positioned=True, target=None:
                        original(job, True, target))
    eager = {case.name: run(case, use_cache=False) for case in cases}
    assert sum(len(findings) for findings, _ in eager.values()) > 60
    assert lazy == eager


@pytest.fixture
def unpickled(monkeypatch):
    """Counts the per-file facts loaded from the pack."""
    seen = []
    original = cache.FactsCache.lookup

    def counting(self, relative, key):
        result = original(self, relative, key)
        if result is not None:
            seen.append(relative)
        return result

    monkeypatch.setattr(cache.FactsCache, "lookup", counting)
    return seen


def test_unchanged_project_reuses_the_last_outcome(project, parses, unpickled):
    cold = run(project)
    parses.clear()
    assert run(project) == cold
    assert parses == unpickled == []  # neither parsed nor loaded: the outcome is reused
    # The pack still holds every file, so that changing one costs one parse.
    edited = project / "cri" / "filler_07.py"
    edited.write_text(edited.read_text() + "# edited\n", encoding="utf-8")
    assert run(project) == cold
    assert parses == ["cri/filler_07.py"]
    assert len(unpickled) == FILLERS + 5


def test_unchanged_project_scan_imports_no_parser_graph_or_ir(project):
    # The warm path's cost is mostly imports: pin that it leaves out the heavy ones.
    script = ("import sys\n"
              "from nilcheck.linter.cli import main\n"
              "sys.argv = ['nilcheck', 'scan', sys.argv[1], '--exit-zero', '--quiet']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(' '.join(sorted(sys.modules)))\n")
    command = [sys.executable, "-c", script, str(project)]
    env = {**os.environ, "CI": "1"}
    cold = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    cold_modules = set(cold.stdout.split())
    warm_modules = set(warm.stdout.split())
    heavy = {"libcst", "networkx", "nilcheck.linter.ir", "concurrent.futures.process",
             "importlib.metadata"}
    assert {"libcst", "networkx", "nilcheck.linter.ir"} <= cold_modules  # it can tell
    assert not heavy & warm_modules, heavy & warm_modules


def test_outcome_is_not_reused_under_other_settings(project, parses, unpickled):
    discovered = run(project)
    parses.clear()
    unpickled.clear()
    configured = run(project, entry=["cri.events:EventMonitor.start"])
    assert parses == []  # same files: every file's facts come from the pack
    assert len(unpickled) == FILLERS + 6
    assert configured[0] != discovered[0]  # the analysis really ran, from another entry
    unpickled.clear()
    assert run(project) == discovered
    assert len(unpickled) == FILLERS + 6  # the stored outcome is the configured one


@pytest.mark.parametrize("damage", ["other key", "garbage"])
def test_damaged_outcome_is_a_miss(project, parses, unpickled, damage):
    expected = run(project)

    def damaged(entries):
        key, blob = entries[cache._OUTCOME]
        entries[cache._OUTCOME] = (b"\0" * 32, blob) if damage == "other key" else (key, b"junk")

    rewrite_pack(project, damaged, cache.OUTCOME_NAME)
    parses.clear()
    unpickled.clear()
    assert run(project) == expected
    assert parses == [] and len(unpickled) == FILLERS + 6


def test_edited_file_is_parsed_in_a_worker_while_the_rest_loads(project, monkeypatch):
    cold = run(project, jobs=2)
    used_workers = []
    original = engine._parse_in_workers

    def spy(pending, jobs, finished, **kwargs):
        # The pool was started before the pack was read, for the worker to import libcst.
        assert kwargs["pool"] is not None
        used_workers.append(sorted(job[0] for job in pending))
        return original(pending, jobs, finished, **kwargs)

    monkeypatch.setattr(engine, "_parse_in_workers", spy)
    edited = project / "cri" / "filler_11.py"
    edited.write_text(edited.read_text() + "\ndef added():\n    return 1\n", encoding="utf-8")
    assert run(project, jobs=2) == cold
    assert used_workers == [["cri/filler_11.py"]]
    assert run(project, jobs=1) == cold  # and the pack has its facts
    assert used_workers == [["cri/filler_11.py"]]


def test_no_worker_starts_when_only_the_settings_changed(project, parses, monkeypatch):
    discovered = run(project, jobs=2)
    started = []
    monkeypatch.setattr(engine, "_start_pool", lambda workers: started.append(workers))
    parses.clear()
    configured = run(project, jobs=2, entry=["cri.events:EventMonitor.start"])
    assert configured[0] != discovered[0]  # the analysis ran, from another entry
    assert parses == []  # on the stored facts of every file
    assert started == []  # the files look as before: nothing to parse, no worker


def _slow_warm_up() -> None:
    time.sleep(5)  # a libcst import on a very slow machine


def test_touched_files_start_the_worker_early_but_the_bytes_decide(project, parses, monkeypatch):
    expected = run(project, jobs=2)
    monkeypatch.setattr(engine, "_warm_up", _slow_warm_up)
    events = []
    start_pool, read_sources = engine._start_pool, engine.read_sources

    def pool_spy(workers):
        events.append("pool")
        events.append(start_pool(workers))
        return events[-1]

    def read_spy(*args):
        events.append("read")
        return read_sources(*args)

    monkeypatch.setattr(engine, "_start_pool", pool_spy)
    monkeypatch.setattr(engine, "read_sources", read_spy)
    touched = project / "cri" / "filler_03.py"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    parses.clear()
    assert run(project, jobs=2) == expected
    assert events[0] == "pool" and events[2] == "read"  # started before reading the files
    assert parses == []  # the bytes are the same: the stored outcome holds
    with pytest.raises(RuntimeError):  # so the worker was let go
        events[1].submit(int)
    assert multiprocessing.active_children() == []  # and reaped, not left waiting
    events.clear()
    assert run(project, jobs=2) == expected
    assert events == ["read"]  # the new stamps were kept: nothing looks edited now


@pytest.mark.parametrize("failure", [OSError(38, "Function not implemented"),
                                     NotImplementedError("no sem_open")])
def test_scans_go_on_where_no_process_pool_can_start(project, monkeypatch, failure):
    import concurrent.futures

    expected = run(project, jobs=1, use_cache=False)

    def unavailable(*args, **kwargs):
        raise failure  # as on a system without /dev/shm or semaphores

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", unavailable)
    assert run(project, jobs=2) == expected  # cold: every file to parse
    edited = project / "cri" / "filler_05.py"
    edited.write_text(edited.read_text() + "\ndef added():\n    return 1\n", encoding="utf-8")
    assert run(project, jobs=2) == expected  # edited: the early worker cannot start either


def test_facts_are_kept_when_the_analysis_fails(project, parses, monkeypatch):
    from nilcheck.linter.ftypes import ConfigError

    write_pack = cache._write_pack

    def slow_write(*args, **kwargs):
        time.sleep(0.3)  # the facts are written while the analysis runs, and outlast it
        return write_pack(*args, **kwargs)

    monkeypatch.setattr(cache, "_write_pack", slow_write)
    with pytest.raises(ConfigError):  # an entry point that resolves to nothing
        run(project, jobs=2, entry=["cri.events:NoSuchClass.start"])
    assert pack(project).is_file()  # written before the error left the scan
    parses.clear()
    findings, _ = run(project, jobs=1)
    assert parses == [] and [f.rule for f in findings] == ["NIL001"]
