"""Benchmark nilcheck on a pinned Django source tree and compare with the targets of
docs/performance.md.

    python benchmarks/bench.py [--repeat 3] [--with-pylint] [--scaling 1,2,4]

Django's sdist is fetched once with `pip download --no-binary :all:` into the cache
directory (default `$XDG_CACHE_HOME/nilcheck/bench`); only its `django/` package is
scanned, copied under a directory with its own pyproject.toml so nothing around it
becomes part of the project. Every nilcheck run is a fresh `nilcheck scan --exit-zero
--quiet` subprocess; times are the median of --repeat runs, wall clock and CPU
(user + sys of the run and its workers). Parse-only, the two cold runs, warm, one file
changed and pylint take turns round by round, each ratio's two sides next to each other
and every other round in reverse order; the ratios are medians of the ratios within a
round, so that the host's drift in speed affects both sides of a ratio alike. Other load
on the machine inflates the times, so the load average is printed with the results.

The nilcheck that runs is installed as users install it: `pip install` of this checkout
(not editable) into a venv in the work directory, with the versions of libcst, networkx
and click this Python has. A development checkout installed editable pays for the
editable finder on every start (~15 ms) and, where PYTHONDONTWRITEBYTECODE is set (some
sandboxes and CI images), compiles nilcheck's modules again in every run (~0.09 s).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

DJANGO_VERSION = "5.2"
PYLINT_VERSION = "4.1.4"
# The file rewritten for the "one file changed" measurement: mid-sized, widely imported.
CHANGED_FILE = "django/utils/functional.py"
# A function of it the analysis reads: an edit of its body runs the analysis again (an
# edit the last analysis cannot see, such as the new function above, reuses its outcome:
# linter/footprint.py).
SEEN_FUNCTION = b"def lazy(func, *resultclasses):\n"
# Django has no findings, so a scan of it never extracts files again with positions (see
# linter/engine.py). The README's example package, started from a __main__ module, adds
# one finding for the "with a finding" measurement.
EXAMPLE_PACKAGE = Path(__file__).resolve().parent.parent / "examples" / "plugin_host" / "plugin_host"
EXAMPLE_MAIN = "import sys\n\nfrom plugin_host.server import Server\n\nServer(sys.argv[1]).start()\n"

PARSE_ONLY = r"""
import sys, time
from pathlib import Path
import libcst
from nilcheck.linter.discovery import discover_files
files, _ = discover_files(Path(sys.argv[1]))
if len(sys.argv) > 2:  # "k/n": the k-th of n shares, dealt biggest file first
    k, n = (int(part) for part in sys.argv[2].split("/"))
    files = sorted(files, key=lambda path: -path.stat().st_size)[k::n]
sys.setrecursionlimit(20000)
started, cpu = time.perf_counter(), time.process_time()
for path in files:
    try:
        libcst.parse_module(path.read_bytes())
    except Exception:
        pass
print(time.perf_counter() - started, time.process_time() - cpu)
"""

# Where the time of one cold --jobs 1 run goes, per stage (CPU seconds, one process, the
# collector paused as nilcheck does). Uses nilcheck internals, so it may lag behind them.
# "positions" is what extracting every file with positions would add: nilcheck does it
# only for the files its findings show.
BREAKDOWN = r"""
import gc, sys, time
from pathlib import Path
import libcst
from nilcheck.linter import engine, parsing, program
from nilcheck.linter.discovery import discover_files, module_name_for
from nilcheck.linter.facts import POSITIONED, ModuleConverter
from nilcheck.linter.ftypes import AnalysisSettings
from nilcheck.linter.positions import start_positions
root = Path(sys.argv[1]).resolve()
files, _ = discover_files(root)
try:  # named all at once, as a scan names them (module_name_for reads the config each call)
    from nilcheck.linter.discovery import ModuleNamer, relpath
    names = ModuleNamer(root).names(relpath(root, path) for path in files)
except ImportError:  # an install from before source roots
    names = {}
sys.setrecursionlimit(20000)
clock = time.process_time
spent = dict(read=0.0, nesting=0.0, parse=0.0, facts=0.0, positions=0.0)
modules = []
gc.disable()
for path in files:
    a = clock()
    text = parsing._decode(path.read_bytes(), "")
    b = clock()
    if isinstance(text, str) and not parsing._surely_shallow(text) \
            and parsing._nesting_problem(text) is not None:
        continue
    c = clock()
    try:
        with parsing._unvalidated_nodes():  # as nilcheck parses
            module = libcst.parse_module(text)
    except Exception:
        continue
    d = clock()
    name, is_package = (names.get(relpath(root, path)) if names else None) \
        or module_name_for(root, path)
    modules.append(ModuleConverter(name, path.relative_to(root).as_posix(), is_package,
                                   None).convert(module))
    e = clock()
    start_positions(module, POSITIONED)
    f = clock()
    for stage, seconds in zip(spent, (b - a, c - b, d - c, e - d, f - e)):
        spent[stage] += seconds
gc.freeze()
gc.enable()
a = clock()
program.whole_program(AnalysisSettings(root=root, files=tuple(files)), root, modules)
spent["analysis"] = clock() - a
print(" ".join(f"{k}={v:.3f}" for k, v in spent.items()))
"""


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float


@dataclass
class Measure:
    name: str
    runs: List[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(run.cpu for run in self.runs)

    @property
    def max_rss_mb(self) -> float:
        return max(run.max_rss_mb for run in self.runs)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="workers for the 'all cores' run [default: CPUs]")
    parser.add_argument("--scaling", default="1,2,4",
                        help="corpus multiples for the growth measurement ('' to skip)")
    parser.add_argument("--with-pylint", action="store_true",
                        help=f"also time pylint {PYLINT_VERSION} W0201 (installed in a venv "
                             "in the cache directory)")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the per-stage CPU breakdown")
    parser.add_argument("--cache-dir", type=Path, default=_default_cache_dir())
    parser.add_argument("--work-dir", type=Path,
                        help="where corpus copies go [default: a temporary directory]")
    args = parser.parse_args(argv)

    source = ensure_django(args.cache_dir)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="nilcheck-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    install_nilcheck(work / "nilcheck-venv")
    corpus = make_corpus(source, work / "corpus-1x", 1)
    files = sum(1 for _ in (corpus / "django").rglob("*.py"))
    lines = sum(path.read_bytes().count(b"\n") for path in (corpus / "django").rglob("*.py"))
    print(machine_description())
    print(f"corpus: Django {DJANGO_VERSION} django/ package, {files} files, {lines} lines")
    print(f"nilcheck: {' '.join(nilcheck_command())}; repeat={args.repeat}")
    print(f"load average before: {_load()}\n", flush=True)
    pressure_start = _cpu_pressure()

    measures: Dict[str, Measure] = {}
    # Everything whose ratio is a target runs once per round, so that the host's drift in
    # speed (tens of percent over minutes) hits both sides of a ratio alike.
    for name in ("parse", "parseN", "cold1", "coldN", "warm", "changed", "seen"):
        measures[name] = Measure(name)
    python = pylint_python(args.cache_dir) if args.with_pylint else None
    if python is not None:
        measures["pylint"] = Measure("pylint")
    changed = corpus / CHANGED_FILE
    original = changed.read_bytes()
    if SEEN_FUNCTION not in original:
        raise SystemExit(f"{CHANGED_FILE} has no {SEEN_FUNCTION.decode().strip()} to edit")

    def timed(name: str, shown: str, run: Callable[[], Run]) -> Callable[[int], None]:
        def step(index: int) -> None:
            measures[name].runs.append(run())
            _show(shown, index, measures[name].runs[-1])
        return step

    def warm_and_changed(index: int) -> None:
        # The pack holds every file's facts since the untimed scan before the rounds;
        # putting the edited file back costs one parse, and the next scan is warm.
        changed.write_bytes(original)
        run_nilcheck(corpus, [])
        timed("warm", "warm", lambda: run_nilcheck(corpus, []))(index)
        # A code change, not a comment: new facts for the file, a new analysis.
        changed.write_bytes(original + f"\n\ndef _benchmark_edit_{index}():\n"
                                       f"    return {index}\n".encode())
        timed("changed", "changed", lambda: run_nilcheck(corpus, []))(index)
        # A statement in a function the analysis reads: the analysis runs again.
        changed.write_bytes(original.replace(
            SEEN_FUNCTION, SEEN_FUNCTION + f"    _benchmark_edit = {index}\n".encode(), 1))
        timed("seen", "changed, seen", lambda: run_nilcheck(corpus, []))(index)

    # Each ratio's two sides run next to each other (warm and changed take 2 s between
    # cold and pylint), and every other round in reverse order (ABBA), so that a drift
    # in the host's speed during a round cancels out.
    steps = [
        timed("parseN", f"parse-only{args.jobs}",
              lambda: parallel_parse_only_run(corpus, args.jobs)),
        timed("parse", "parse-only", lambda: parse_only_run(corpus)),
        timed("cold1", "cold1", lambda: run_nilcheck(corpus, ["--jobs", "1", "--no-cache"])),
        timed("coldN", "coldN",
              lambda: run_nilcheck(corpus, ["--jobs", str(args.jobs), "--no-cache"])),
        warm_and_changed,
    ]
    if python is not None:
        steps.append(timed("pylint", "pylint", lambda: pylint_run(python, corpus)))
    shutil.rmtree(corpus / ".nilcheck_cache", ignore_errors=True)
    run_nilcheck(corpus, [])  # fill the cache (untimed)
    try:
        for index in range(args.repeat):
            for step in steps if index % 2 == 0 else reversed(steps):
                step(index)
    finally:
        changed.write_bytes(original)
    seeded = corpus / EXAMPLE_PACKAGE.name
    shutil.copytree(EXAMPLE_PACKAGE, seeded, ignore=shutil.ignore_patterns("__pycache__"))
    (seeded / "__main__.py").write_text(EXAMPLE_MAIN)
    try:
        measures["finding"] = measure(corpus, ["--jobs", "1", "--no-cache"], args.repeat,
                                      "cold1+find")
    finally:
        shutil.rmtree(seeded)

    # Growth: the 1x, 2x and 4x corpora in the same rounds too.
    factors = sorted(set(_factors(args.scaling)) | {1}) if args.scaling.strip() else []
    copies = {factor: corpus if factor == 1 else
              make_corpus(source, work / f"corpus-{factor}x", factor) for factor in factors}
    scaling: Dict[int, Measure] = {factor: Measure(f"{factor}x") for factor in factors}
    for index in range(args.repeat if len(factors) > 1 else 0):
        for factor in factors:
            scaling[factor].runs.append(run_nilcheck(copies[factor],
                                                     ["--jobs", "1", "--no-cache"]))
            _show(f"cold1 {factor}x", index, scaling[factor].runs[-1])
    for factor, copy in copies.items():
        if factor != 1:
            shutil.rmtree(copy)

    breakdown = None if args.no_breakdown else stage_breakdown(corpus)
    print(f"load average after: {_load()}; {_pressure_since(pressure_start)}\n")
    print(report(measures, scaling, measures.get("pylint"), breakdown, args.jobs))
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


# ------------------------------------------------------------------ corpus


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nilcheck" / "bench"


def ensure_django(cache_dir: Path) -> Path:
    """The django/ package of the pinned sdist, downloaded and unpacked once."""
    unpacked = cache_dir / f"Django-{DJANGO_VERSION}" / "django"
    if unpacked.is_dir():
        return unpacked
    downloads = cache_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", f"django=={DJANGO_VERSION}", "-d", str(downloads)],
                   check=True)
    archive = next(downloads.glob(f"[Dd]jango-{DJANGO_VERSION}.tar.gz"))
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(cache_dir, filter="data")
        else:  # Python < 3.8.17 / 3.9.17 / 3.10.12 / 3.11.4
            tar.extractall(cache_dir)
    extracted = next(cache_dir.glob(f"[Dd]jango-{DJANGO_VERSION}"))
    if extracted.name != f"Django-{DJANGO_VERSION}":
        extracted.rename(cache_dir / f"Django-{DJANGO_VERSION}")
    return unpacked


def make_corpus(django: Path, target: Path, factor: int) -> Path:
    """factor copies of the django package (django, django_copy1, ...) in a project of
    their own."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n')
    for index in range(factor):
        shutil.copytree(django, target / ("django" if index == 0 else f"django_copy{index}"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


# ------------------------------------------------------------------ running


_NILCHECK: List[str] = []  # the installed command, set by install_nilcheck


def install_nilcheck(venv: Path) -> None:
    """Install this checkout into a fresh venv, as `pip install .` does for a user, with
    the dependency versions of the running Python."""
    from importlib.metadata import version

    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pinned = [f"{name}=={version(name)}" for name in ("libcst", "networkx", "click")]
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(Path(__file__).resolve().parent.parent),
                    *pinned], check=True)
    _NILCHECK[:] = [str(bin_dir / ("nilcheck.exe" if os.name == "nt" else "nilcheck"))]


def nilcheck_command() -> List[str]:
    return list(_NILCHECK)


def run_child(command: Sequence[str], cwd: Path) -> Run:
    """Run command to completion; wall time, CPU of it and its waited-for children, peak
    RSS of the largest of them."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
        else:
            process.wait()
            wall = time.perf_counter() - started
            cpu, rss = float("nan"), float("nan")
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{message}")
    return Run(wall, cpu, rss)


def run_nilcheck(corpus: Path, options: Sequence[str]) -> Run:
    return run_child([*nilcheck_command(), "scan", ".", "--exit-zero", "--quiet", *options],
                     corpus)


def measure(corpus: Path, options: Sequence[str], repeat: int, name: str,
            before=None) -> Measure:
    result = Measure(name)
    for index in range(repeat):
        if before is not None:
            before(index)
        result.runs.append(run_nilcheck(corpus, options))
        _show(name, index, result.runs[-1])
    return result


def _show(name: str, index: int, run: Run) -> None:
    print(f"  {name:<12} run {index + 1}: {run.wall:7.2f} s wall {run.cpu:7.2f} s CPU",
          flush=True)


def parse_only_run(corpus: Path) -> Run:
    output = subprocess.run([sys.executable, "-c", PARSE_ONLY, str(corpus)], check=True,
                            capture_output=True, text=True).stdout
    wall, cpu = (float(value) for value in output.split()[-2:])
    return Run(wall, cpu, float("nan"))


def parallel_parse_only_run(corpus: Path, processes: int) -> Run:
    """libcst parse-only in `processes` processes at once, each on its share of the files:
    how well this machine runs two busy processes, the ceiling of any speedup. Timed as
    the one-process loop is (the loops alone, the longest of them), so that the two
    parse-only figures compare like with like."""
    children = [subprocess.Popen([sys.executable, "-c", PARSE_ONLY, str(corpus),
                                  f"{index}/{processes}"], stdout=subprocess.PIPE, text=True)
                for index in range(processes)]
    wall = cpu = 0.0
    for child in children:
        output, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"parallel parse-only failed ({child.returncode})")
        child_wall, child_cpu = (float(part) for part in output.split()[-2:])
        wall, cpu = max(wall, child_wall), cpu + child_cpu
    return Run(wall, cpu, float("nan"))


def pylint_python(cache_dir: Path) -> Optional[Path]:
    """The Python of a venv with the pinned pylint, made on first use; None if it cannot be."""
    venv = cache_dir / f"pylint-{PYLINT_VERSION}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            f"pylint=={PYLINT_VERSION}"], check=True)
        except (subprocess.CalledProcessError, OSError) as error:
            print(f"pylint not installable, skipped: {error}")
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return python


def pylint_run(python: Path, corpus: Path) -> Run:
    started = time.perf_counter()
    # pylint exits non-zero when it reports anything; only a crash (bit 1, 32) matters.
    process = subprocess.run([str(python), "-m", "pylint", "--disable=all", "--enable=W0201",
                              "-j", "1", "--score=n", "django"], cwd=corpus,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if process.returncode & (1 | 32):
        raise SystemExit(f"pylint failed ({process.returncode}): {process.stderr[-2000:]}")
    return Run(wall, float("nan"), float("nan"))


def stage_breakdown(corpus: Path) -> Optional[Dict[str, float]]:
    process = subprocess.run([sys.executable, "-c", BREAKDOWN, str(corpus)],
                             capture_output=True, text=True)
    if process.returncode != 0:
        print(f"stage breakdown failed (nilcheck internals changed?): "
              f"{process.stderr.strip().splitlines()[-1:]}")
        return None
    return {key: float(value) for key, value in
            (item.split("=") for item in process.stdout.split())}


# ------------------------------------------------------------------ report


def report(measures: Dict[str, Measure], scaling: Dict[int, Measure],
           pylint: Optional[Measure], breakdown: Optional[Dict[str, float]], jobs: int) -> str:
    parse, cold1, coldn = measures["parse"], measures["cold1"], measures["coldN"]
    warm, changed = measures["warm"], measures["changed"]
    rows = [
        ("libcst parse only, 1 process", parse, "", "", ""),
        ("nilcheck cold --jobs 1", cold1, "<= 1.3x parse-only",
         _check(_paired(cold1, parse, "wall"), 1.3, "x parse"),
         f"CPU: {_paired(cold1, parse, 'cpu'):.2f}x"),
        (f"libcst parse only, {jobs} processes", measures["parseN"], "", "",
         f"{_paired(parse, measures['parseN'], 'wall'):.3f}x faster than 1 process: "
         f"this machine's ceiling"),
        (f"nilcheck cold --jobs {jobs}", coldn, ">= 1.7x faster than --jobs 1",
         _check(_paired(cold1, coldn, "wall"), 1.7, "x faster", at_least=True), ""),
        ("nilcheck warm (nothing changed)", warm, "<= 5% of cold",
         _check(100 * _paired(warm, coldn, "wall"), 5, "% of cold"),
         f"{100 * _paired(warm, cold1, 'wall'):.1f}% of cold --jobs 1"),
        ("nilcheck one file changed (a new function)", changed, "<= 10% of cold",
         _check(100 * _paired(changed, coldn, "wall"), 10, "% of cold"),
         f"{100 * _paired(changed, cold1, 'wall'):.1f}% of cold --jobs 1"),
        ("nilcheck one file changed (a function the analysis reads)", measures["seen"],
         "", f"{100 * _paired(measures['seen'], coldn, 'wall'):.1f}% of cold",
         f"{100 * _paired(measures['seen'], cold1, 'wall'):.1f}% of cold --jobs 1"),
        ("nilcheck cold --jobs 1, one finding added", measures["finding"],
         "(Django has none; files shown are re-extracted with positions)",
         f"{measures['finding'].wall / parse.wall:.2f}x parse (unpaired)", ""),
    ]
    lines = ["| measurement | wall s (median) | CPU s | target | result (wall, paired) | other view |",
             "| --- | ---: | ---: | --- | --- | --- |"]
    for label, item, target, result, on_cpu in rows:
        lines.append(f"| {label} | {item.wall:.2f} | {_cpu(item)} | {target} | {result} | "
                     f"{on_cpu} |")
    peak = cold1.max_rss_mb
    lines.append(f"| peak RSS, cold --jobs 1 | {peak:.0f} MB | | < 400 MB | "
                 f"{'met' if peak < 400 else 'NOT met'} | |")
    for factor in sorted(scaling):
        if factor == 1 or not scaling[factor].runs:
            continue
        base = scaling[1]
        growth = _paired(scaling[factor], base, "wall") / factor
        lines.append(f"| cold --jobs 1 at {factor}x corpus | {scaling[factor].wall:.2f} | "
                     f"{_cpu(scaling[factor])} | linear (<= 1.15x of {factor} x 1x) | "
                     f"{_check(growth, 1.15, 'x linear')} | "
                     f"1x in the same rounds: {base.wall:.2f} s |")
    if pylint is not None:
        lines.append(f"| pylint {PYLINT_VERSION} W0201 -j 1 | {pylint.wall:.2f} | | "
                     f"nilcheck cold (default: --jobs {jobs}) >= 3x faster | "
                     f"{_check(_paired(pylint, coldn, 'wall'), 3, 'x faster', at_least=True)}"
                     f" | --jobs 1: {_paired(pylint, cold1, 'wall'):.2f}x faster |")
    text = "\n".join(lines)
    if breakdown:
        total = sum(breakdown.values())
        parts = ", ".join(f"{name} {seconds:.2f} s ({100 * seconds / total:.0f}%)"
                          for name, seconds in breakdown.items())
        text += f"\n\nCPU per stage, cold, one process: {parts}"
    return text


def _paired(numerator: Measure, denominator: Measure, attribute: str) -> float:
    """Median over rounds of the ratio of runs taken in the same round."""
    return statistics.median(getattr(a, attribute) / getattr(b, attribute)
                             for a, b in zip(numerator.runs, denominator.runs))


def _check(value: float, limit: float, unit: str, at_least: bool = False) -> str:
    met = value >= limit if at_least else value <= limit
    return f"{value:.3f}{unit}: {'met' if met else 'NOT met'}"


def _cpu(item: Measure) -> str:
    return "" if item.cpu != item.cpu else f"{item.cpu:.2f}"


def _factors(text: str) -> List[int]:
    return sorted({int(part) for part in text.split(",") if part.strip()})


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _cpu_pressure() -> Optional[Tuple[float, float]]:
    """(now, microseconds some task waited for a CPU) from Linux PSI, if available."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return time.monotonic(), float(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _pressure_since(start: Optional[Tuple[float, float]]) -> str:
    end = _cpu_pressure()
    if start is None or end is None:
        return "CPU pressure unknown"
    waited = (end[1] - start[1]) / 1e6 / (end[0] - start[0])
    return (f"CPU pressure during the benchmark: some task waited for a CPU "
            f"{100 * waited:.0f}% of the time (other processes, and the parallel runs "
            f"themselves)")


def machine_description() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return (f"machine: {os.cpu_count()} CPUs ({model}), {memory} RAM, "
            f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.release()}")


if __name__ == "__main__":
    sys.exit(main())
