"""Constructor-injection fixes (`nilcheck scan --diff` / `--fix`, linter/fixes.py).

Every test works on a copy of a project. A fix must: produce a patch that `git apply`
(or `patch -p1`) accepts; leave after `--fix` no finding for the field and no new
finding; keep every changed file compilable; change only the lines the fix is about,
keeping every comment. A fix that is not safe must leave every file byte for byte as
it was and say why.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import textwrap
import time
import tokenize
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from click.testing import CliRunner

from markers import python_files
from nilcheck.linter import cli
from nilcheck.linter.api import scan
from nilcheck.linter.fixes import apply_fixes, plan_for_scan

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
PLUGIN_HOST = REPO / "examples" / "plugin_host"
CONTAINERD = FIXTURES / "NIL001" / "containerd_buggy"
ALL_PROJECTS = sorted(p.parent for p in FIXTURES.glob("*/*/pyproject.toml")) + [PLUGIN_HOST]


# ---------------------------------------------------------------- helpers


def copy_project(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".nilcheck_cache", "__pycache__"))
    return target


def write_project(root: Path, files: Dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def snapshot(root: Path) -> Dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in python_files(root)}


def run(*args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes them by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli.main, ["scan", *args, "--no-cache"], catch_exceptions=False)


def findings_of(root: Path):
    return scan([str(root)], use_cache=False).result.findings


def comments(source: bytes) -> Counter:
    tokens = tokenize.tokenize(io.BytesIO(source).readline)
    return Counter(token.string for token in tokens if token.type == tokenize.COMMENT)


def changed_lines(before: bytes, after: bytes) -> Tuple[List[str], List[str]]:
    """(removed lines, added lines), stripped, from a line diff."""
    import difflib

    old = before.decode().splitlines()
    new = after.decode().splitlines()
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += [line.strip() for line in old[i1:i2]]
            added += [line.strip() for line in new[j1:j2]]
    return removed, added


def assert_patch_applies(root: Path, patch: str) -> None:
    """The patch applies cleanly to root (checked by git, else by patch)."""
    assert patch.startswith("--- a/"), patch[:200]
    if shutil.which("git"):
        command = ["git", "apply", "--check", "--verbose", "-"]
    elif shutil.which("patch"):
        command = ["patch", "-p1", "--dry-run", "--batch"]
    else:
        pytest.skip("neither git nor patch is installed")
    done = subprocess.run(command, cwd=root, input=patch, text=True, capture_output=True,
                          env={**os.environ, "GIT_DIR": str(root / ".no-git")})
    assert done.returncode == 0, done.stderr + done.stdout


def apply_patch(root: Path, patch: str) -> None:
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    done = subprocess.run(["git", "apply", "-"], cwd=root, input=patch, text=True,
                          capture_output=True, env={**os.environ, "GIT_DIR": str(root / ".no-git")})
    assert done.returncode == 0, done.stderr


def assert_compiles(root: Path, files) -> None:
    for relative in files:
        compile((root / relative).read_bytes(), relative, "exec", dont_inherit=True)


# ---------------------------------------------------------------- the example project


def test_diff_of_plugin_host_is_a_patch_that_applies(tmp_path):
    project = copy_project(PLUGIN_HOST, tmp_path)
    before = snapshot(project)

    result = run(str(project), "--diff")

    assert result.exit_code == 1  # --diff changes nothing: the findings are still there
    assert snapshot(project) == before
    assert_patch_applies(project, result.stdout)
    assert "--- a/plugin_host/plugins.py\n+++ b/plugin_host/plugins.py\n" in result.stdout
    assert "--- a/plugin_host/server.py\n+++ b/plugin_host/server.py\n" in result.stdout
    assert "1 fix offered (1 finding); 0 findings need a person" in result.stderr


def test_applying_the_diff_equals_fix(tmp_path):
    patched = copy_project(PLUGIN_HOST, tmp_path / "patched")
    fixed = copy_project(PLUGIN_HOST, tmp_path / "fixed")

    apply_patch(patched, run(str(patched), "--diff").stdout)
    run(str(fixed), "--fix")

    assert snapshot(patched) == snapshot(fixed)


def test_fix_plugin_host(tmp_path):
    project = copy_project(PLUGIN_HOST, tmp_path)
    before = snapshot(project)

    result = run(str(project), "--fix")

    assert result.exit_code == 0, result.stdout + result.stderr  # nothing left after the re-scan
    assert "nilcheck: fixed `PluginAPI.host`" in result.stderr
    assert "applied 1 fix (1 finding) to 2 files" in result.stderr
    assert not findings_of(project)

    after = snapshot(project)
    changed = sorted(rel for rel in before if before[rel] != after[rel])
    assert changed == ["plugin_host/plugins.py", "plugin_host/server.py"]
    assert_compiles(project, changed)
    for rel in changed:
        assert comments(after[rel]) == comments(before[rel]), rel

    removed, added = changed_lines(before["plugin_host/plugins.py"], after["plugin_host/plugins.py"])
    assert removed == ["def __init__(self):", "self.host = None  # the Server, set by attach()",
                       "self.host = host"]
    assert added == ["def __init__(self, host):", "self.host = host  # the Server, set by attach()",
                     "pass"]
    removed, added = changed_lines(before["plugin_host/server.py"], after["plugin_host/server.py"])
    assert (removed, added) == (["self.plugins = PluginAPI()"], ["self.plugins = PluginAPI(host=self)"])


# ---------------------------------------------------------------- containerd: not safe


def test_containerd_port_is_explained_not_fixed(tmp_path):
    """NRIAPI is constructed in init_plugin before the CRIService that register()
    receives exists, and the CRIService is given the NRIAPI: each needs the other first.
    No constructor injection can be applied mechanically; a person must reorder (as
    containerd's PR #10401 did) or guard the read."""
    project = copy_project(CONTAINERD, tmp_path)
    before = snapshot(project)

    diff = run(str(project), "--diff")
    assert diff.exit_code == 1
    assert diff.stdout == ""
    explanation = ("cri/nri_api.py:33:19: NIL001 `NRIAPI.cri`: not fixed: the `CRIService` that "
                   "`register()` receives at cri/service.py:41 (as `self`) is created at "
                   "cri/plugin.py:18, after `NRIAPI` is constructed at cri/plugin.py:17, and "
                   "is given the `NRIAPI` there, so each needs the other first: reorder")
    assert explanation in diff.stderr

    fix = run(str(project), "--fix")
    assert fix.exit_code == 1
    assert explanation in fix.stderr
    assert "applied 0 fixes (0 findings) to 0 files" in fix.stderr
    assert "cri/nri_api.py:33:19: NIL001" in fix.stdout  # the report of what is left
    assert snapshot(project) == before


# ---------------------------------------------------------------- formatting


FORMATTING = {
    "pyproject.toml": """
        [project]
        name = "svc"
        version = "0"

        [tool.nilcheck]
        entry-points = ["svc.main:main", "svc.app:App.run"]
        """,
    "svc/__init__.py": "",
    "svc/hub.py": '''
        """Things that get wired late."""


        class Registry:
            """Knows every service."""

            def __init__(self, name, *, strict=False):
                self.name = name
                self.strict = strict
                # the event bus, set by bind()
                self.bus = None

            def bind(self, bus):
                """Wire the registry to the bus."""
                # remember the bus for publish()
                self.bus = bus  # noqa: late

                self.bound = True

            def publish(self, event):
                self.bus.emit(event)


        class Metrics:
            def __init__(
                self,
                prefix,
                interval=10,
            ):
                self.prefix = prefix
                self.interval = interval
                self.sink = None

            def attach(self, sink):
                self.sink = sink

            def flush(self):
                self.sink.write(self.prefix)


        class Tracer:
            exporter = None

            def __init__(self, *args, **options):
                self.args = args

            def use(self, exporter):
                """Only the docstring stays."""
                self.exporter = exporter

            def trace(self, span):
                self.exporter.export(span)
        ''',
    "svc/main.py": """
        import threading

        from svc.hub import Registry, Tracer


        class Bus:
            def emit(self, event):
                print(event)


        def main():
            bus = Bus()
            registry = Registry("main", strict=True)  # the registry
            threading.Thread(target=registry.publish, args=("up",)).start()
            registry.bind(bus)
            tracer = Tracer(1, 2)
            threading.Thread(target=tracer.trace, args=("boot",)).start()
            tracer.use(bus)
        """,
    "svc/app.py": """
        import threading

        from svc.hub import Metrics


        class App:
            def __init__(self):
                self.metrics = Metrics(
                    "app",
                    interval=5,
                )

            def run(self):
                threading.Thread(target=self.metrics.flush).start()
                self.metrics.attach(self)

            def write(self, text):
                print(text)
        """,
}

FORMATTED_HUB = '''\
"""Things that get wired late."""


class Registry:
    """Knows every service."""

    def __init__(self, name, *, strict=False, bus):
        self.name = name
        self.strict = strict
        # the event bus, set by bind()
        self.bus = bus

    def bind(self, bus):
        """Wire the registry to the bus."""
        # remember the bus for publish()

        self.bound = True

    def publish(self, event):
        self.bus.emit(event)


class Metrics:
    def __init__(
        self,
        prefix,
        sink,
        interval=10,
    ):
        self.prefix = prefix
        self.interval = interval
        self.sink = sink

    def attach(self, sink):
        pass

    def flush(self):
        self.sink.write(self.prefix)


class Tracer:
    exporter = None

    def __init__(self, *args, exporter, **options):
        self.exporter = exporter
        self.args = args

    def use(self, exporter):
        """Only the docstring stays."""

    def trace(self, span):
        self.exporter.export(span)
'''


def test_fix_keeps_formatting_and_comments(tmp_path):
    project = write_project(tmp_path / "svc", FORMATTING)
    before = snapshot(project)
    assert {f.field for f in findings_of(project)} == {
        "svc.hub.Registry.bus", "svc.hub.Metrics.sink", "svc.hub.Tracer.exporter"}

    result = run(str(project), "--fix")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "applied 3 fixes (3 findings) to 3 files" in result.stderr
    after = snapshot(project)
    assert after["svc/hub.py"].decode() == FORMATTED_HUB
    assert changed_lines(before["svc/main.py"], after["svc/main.py"]) == (
        ['registry = Registry("main", strict=True)  # the registry', "tracer = Tracer(1, 2)"],
        ['registry = Registry("main", strict=True, bus=bus)  # the registry',
         "tracer = Tracer(1, 2, exporter=bus)"])
    assert changed_lines(before["svc/app.py"], after["svc/app.py"]) == ([], ["sink=self,"])
    assert_compiles(project, after)
    # Only the removed assignment's own trailing comment is gone.
    lost = comments(before["svc/hub.py"]) - comments(after["svc/hub.py"])
    assert lost == Counter({"# noqa: late": 1})
    assert after["svc/__init__.py"] == before["svc/__init__.py"]


# ---------------------------------------------------------------- not safe: explained


LATE_HOST_API = """\
class PluginAPI:
    def __init__(self):
        self.host = None

    def attach(self, host):
        self.host = host

    def notify(self, event):
        self.host.send(event)
"""


def _late_host_project(main: str, api_extra: str = "") -> Dict[str, str]:
    """PluginAPI with a late `host` (plus api_extra: methods at class-body indentation),
    used by app/main.py:main."""
    return {
        "pyproject.toml": """
            [project]
            name = "app"
            version = "0"

            [tool.nilcheck]
            entry-points = ["app.main:main"]
            """,
        "app/__init__.py": "",
        "app/api.py": LATE_HOST_API + api_extra,
        "app/main.py": main,
    }


UNSAFE = {
    "value_bound_after_construction": (
        """
        import threading

        from app.api import PluginAPI


        class Host:
            def send(self, event):
                print(event)


        def main():
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            host = Host()
            api.attach(host)
        """, "", "`host`, which `attach()` receives at app/main.py:15, is bound at app/main.py:14, "
                 "after `PluginAPI` is constructed at app/main.py:12"),
    "subclass": (
        """
        import threading

        from app.api import PluginAPI


        class LoggingAPI(PluginAPI):
            pass


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """, "", "`PluginAPI` has a subclass (app/main.py:6)"),
    "class_used_as_factory": (
        """
        import threading

        from app.api import PluginAPI

        FACTORY = PluginAPI


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """, "", "`PluginAPI` is used at app/main.py:5 other than by calling it"),
    "initializer_passed_as_callback": (
        """
        import threading

        from app.api import PluginAPI


        def main(host, bus):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            bus.on_ready(api.attach)
            api.attach(host)
        """, "", "`attach` is referenced at app/main.py:9 without being called directly"),
    "initializer_called_with_two_values": (
        """
        import threading

        from app.api import PluginAPI


        def main(host, other):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
            api.attach(other)
        """, "", "`api.attach()` is called with different values (host, other)"),
    "constructed_in_a_factory_function": (
        """
        import threading

        from app.api import PluginAPI


        def make():
            return PluginAPI()


        def main(host):
            api = make()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """, "", "`PluginAPI(...)` at app/main.py:7 is not assigned to a variable"),
    "initializer_called_conditionally": (
        """
        import threading

        from app.api import PluginAPI


        def main(host, plugins_enabled):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            if plugins_enabled:
                api.attach(host)
        """, "", "`attach()` is called at app/main.py:10 only on some paths"),
    "field_reset_elsewhere": (
        """
        import threading

        from app.api import PluginAPI


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """, "\n    def detach(self):\n        self.host = None\n",
        "`PluginAPI` assigns `self.host` in other methods too"),
    "field_assigned_from_outside": (
        """
        import threading

        from app.api import PluginAPI


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
            api.host = host
        """, "", "`api.host` is assigned at app/main.py:10, outside `PluginAPI`'s methods"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_fix_changes_nothing_and_says_why(tmp_path, case):
    main, api_extra, reason = UNSAFE[case]
    files = _late_host_project(main, api_extra)
    project = write_project(tmp_path / case, files)
    before = snapshot(project)
    assert [f.field for f in findings_of(project)] == ["app.api.PluginAPI.host"]

    diff = run(str(project), "--diff")
    fix = run(str(project), "--fix")

    assert diff.stdout == ""
    for result in (diff, fix):
        assert result.exit_code == 1
        assert "app/api.py:9:9: NIL001 `PluginAPI.host`: not fixed: " in result.stderr
        assert reason in " ".join(result.stderr.split()), result.stderr
    assert snapshot(project) == before


def test_same_function_value_is_injected(tmp_path):
    main = """
        import threading

        from app.api import PluginAPI


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """
    project = write_project(tmp_path / "ok", _late_host_project(main))
    before = snapshot(project)

    assert run(str(project), "--fix").exit_code == 0
    after = snapshot(project)
    assert changed_lines(before["app/main.py"], after["app/main.py"]) == (
        ["api = PluginAPI()"], ["api = PluginAPI(host=host)"])
    assert not findings_of(project)


def test_other_rules_are_explained(tmp_path):
    project = copy_project(FIXTURES / "NIL002" / "thread_started_before_field", tmp_path)
    before = snapshot(project)
    result = run(str(project), "--diff")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "NIL002 `Batcher.lines`: not fixed: nilcheck does not rewrite constructors" in result.stderr
    assert run(str(project), "--fix").exit_code == 1
    assert snapshot(project) == before


# ---------------------------------------------------------------- files that changed


def test_a_file_changed_since_the_scan_is_not_touched(tmp_path):
    project = copy_project(PLUGIN_HOST, tmp_path)
    plan = plan_for_scan(scan([str(project)], use_cache=False))
    assert [fix.field for fix in plan.fixes] == ["plugin_host.plugins.PluginAPI.host"]
    server = project / "plugin_host" / "server.py"
    edited = server.read_bytes() + b"# edited while nilcheck ran\n"
    server.write_bytes(edited)
    before = snapshot(project)

    result = apply_fixes(plan)

    assert not result.applied and not result.written
    assert "plugin_host/server.py changed since the scan" in result.skipped[0].reason
    assert snapshot(project) == before  # neither file of the fix is touched
    assert server.read_bytes() == edited


def test_a_file_modified_after_the_scan_started_is_not_touched(tmp_path):
    project = copy_project(PLUGIN_HOST, tmp_path)
    plan = plan_for_scan(scan([str(project)], use_cache=False))
    started = time.time_ns()
    server = project / "plugin_host" / "server.py"
    os.utime(server, ns=(started + 10**9, started + 10**9))  # same bytes, newer mtime
    before = snapshot(project)

    result = apply_fixes(plan, scan_started_ns=started)

    assert not result.written
    assert snapshot(project) == before


# ---------------------------------------------------------------- every fixture


@pytest.mark.parametrize("case_dir", ALL_PROJECTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_fix_on_every_fixture_is_safe(tmp_path, case_dir):
    """Whatever is fixed compiles and is gone on a re-scan, with no new finding; whatever
    is not fixed is explained; files without a fix are not touched."""
    project = copy_project(case_dir, tmp_path)
    outcome = scan([str(project)], use_cache=False)
    plan = plan_for_scan(outcome)
    explained = {f for e in plan.explanations for f in e.findings}
    fixed = {f for fix in plan.fixes for f in fix.findings}
    assert explained | fixed == set(outcome.result.findings)
    assert all(e.reason for e in plan.explanations)
    if plan.fixes:
        assert_patch_applies(project, plan.diff())
    before = snapshot(project)

    result = apply_fixes(plan)

    after = snapshot(project)
    assert sorted(rel for rel in before if before[rel] != after[rel]) == sorted(result.written)
    assert_compiles(project, result.written)
    remaining = scan([str(project)], use_cache=False).result.findings
    fixed_fields = {fix.field for fix in result.applied}
    assert not [f for f in remaining if f.field in fixed_fields]
    old = {(f.rule, f.field, f.file, f.read_text) for f in outcome.result.findings}
    assert not [f for f in remaining if (f.rule, f.field, f.file, f.read_text) not in old]


def test_two_fields_from_one_parameter_get_one_fix(tmp_path):
    api = LATE_HOST_API.replace(
        "        self.host = None\n", "        self.host = None\n        self.backup = None\n"
    ).replace(
        "        self.host = host\n", "        self.host = host\n        self.backup = host\n"
    ).replace(
        "        self.host.send(event)\n", "        self.host.send(event)\n        self.backup.send(event)\n")
    main = """
        import threading

        from app.api import PluginAPI


        def main(host):
            api = PluginAPI()
            threading.Thread(target=api.notify, args=("up",)).start()
            api.attach(host)
        """
    files = _late_host_project(main)
    files["app/api.py"] = api
    project = write_project(tmp_path / "dup", files)

    result = run(str(project), "--fix")

    assert "NIL001 `PluginAPI.host`: not fixed: another field of the same class is injected " \
           "through the same parameter (host)" in result.stderr
    assert_compiles(project, ["app/api.py", "app/main.py"])
    assert [f.field for f in findings_of(project)] == ["app.api.PluginAPI.host"]
