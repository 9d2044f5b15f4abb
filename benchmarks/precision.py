"""Run nilcheck over real codebases for the precision triage in docs/precision.md.

    python benchmarks/precision.py [--corpus DIR] [NAME ...]

Downloads each pinned source distribution from PyPI (no code from it is imported or
run), analyses its package directory with the discovered entry points and with
hand-picked realistic ones, and prints every finding with its trace for triage. The
standard library is taken from the running interpreter.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

from nilcheck.linter.engine import analyze
from nilcheck.linter.ftypes import AnalysisSettings

# name: (pip requirement, package directory inside the sdist, hand-picked entry points)
CORPORA = {
    "django": ("django==5.2", "django", [
        "django.core.management:execute_from_command_line",
        "django.core.wsgi:get_wsgi_application",
        "django.core.handlers.wsgi:WSGIHandler.__call__",
        "django.core.asgi:get_asgi_application",
        "django.core.handlers.asgi:ASGIHandler.__call__",
    ]),
    "aiohttp": ("aiohttp==3.11.11", "aiohttp", [
        "aiohttp.web:run_app",
        "aiohttp.web_runner:AppRunner.setup",
        "aiohttp.web_runner:TCPSite.start",
        "aiohttp.client:ClientSession._request",
        "aiohttp.web_protocol:RequestHandler.start",
        "aiohttp.web_app:Application.startup",
    ]),
    "gunicorn": ("gunicorn==23.0.0", "gunicorn", [
        "gunicorn.app.wsgiapp:run",
        "gunicorn.arbiter:Arbiter.run",
        "gunicorn.workers.sync:SyncWorker.init_process",
        "gunicorn.workers.gthread:ThreadWorker.init_process",
    ]),
    "celery": ("celery==5.4.0", "celery", [
        "celery.__main__:main",
        "celery.worker.worker:WorkController.start",
        "celery.beat:Service.start",
    ]),
    "tornado": ("tornado==6.4.2", "tornado", [
        "tornado.web:Application.listen",
        "tornado.httpserver:HTTPServer.listen",
        "tornado.tcpserver:TCPServer.start",
        "tornado.ioloop:IOLoop.start",
        "tornado.websocket:websocket_connect",
    ]),
    "pytest": ("pytest==8.3.4", "src", [
        "pytest:console_main",  # re-exported from _pytest.config
        "_pytest.main:wrap_session",
    ]),
    "stdlib": (None, None, []),
}


def fetch(requirement: str, corpus: Path) -> Path:
    name, version = requirement.split("==")
    for candidate in corpus.glob(f"*{version}*"):
        if candidate.is_dir():
            return candidate
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                    ":all:", "-q", "-d", str(corpus), requirement], check=True)
    archive = next(corpus.glob(f"*{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(corpus, filter="data")
    return next(p for p in corpus.glob(f"*{version}*") if p.is_dir())


# Parts of the interpreter's library that are not the standard library's own code.
STDLIB_SKIP = {"site-packages", "test", "tests", "idle_test", "lib2to3/tests"}


def run(root: Path, entries, skip=frozenset()) -> None:
    files = tuple(sorted(p for p in root.rglob("*.py") if p.is_file()
                         and not skip & set(p.relative_to(root).parts[:-1])
                         and not p.relative_to(root).parts[0].startswith("config-")))
    lines = sum(len(p.read_bytes().splitlines()) for p in files)
    started = time.perf_counter()
    result = analyze(AnalysisSettings(root=root, files=files, entry_points=tuple(entries),
                                      jobs=2))
    seconds = time.perf_counter() - started
    label = "discovered" if not entries else f"{len(entries)} hand-picked"
    print(f"== {root} ({label} entry points): {len(files)} files, {lines} lines, "
          f"{len(result.findings)} findings, {len(result.errors)} errors, {seconds:.1f}s")
    for finding in result.findings:
        print(f"{finding.file}:{finding.line}: {finding.rule} {finding.message}  "
              f"[{finding.entry}]")
        for step in finding.trace:
            print(f"      {step.kind:5} {step.function}  {step.file}:{step.line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="/tmp/nilcheck-corpus", type=Path)
    parser.add_argument("names", nargs="*", default=list(CORPORA))
    args = parser.parse_args()
    args.corpus.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        requirement, package, entries = CORPORA[name]
        skip = frozenset()
        if requirement is None:
            root, skip = Path(sysconfig.get_paths()["stdlib"]), STDLIB_SKIP
        else:
            root = fetch(requirement, args.corpus) / package
        run(root, [], skip)
        if entries:
            run(root, entries, skip)


if __name__ == "__main__":
    main()
