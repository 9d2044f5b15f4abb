"""Module names: which source roots a project has, and what its files are named from them
(discovery.py's docstring has the rule), end to end through the CLI and the cache."""
from __future__ import annotations

import json
import sys
import textwrap
import types
from pathlib import Path
from typing import Dict, Sequence, Union

import pytest
from click.testing import CliRunner

from nilcheck.linter import api, cli, engine
from nilcheck.linter.discovery import ModuleNamer, discover_files, module_name_for, relpath
from nilcheck.linter.ftypes import AnalysisSettings


@pytest.fixture(autouse=True)
def rule_table(monkeypatch):
    """The rule table, or a one-rule stand-in while rules/ is not written yet."""
    try:
        import nilcheck.rules  # noqa: F401
    except ImportError:
        stub = types.ModuleType("nilcheck.rules")
        stub.RULES = {"NIL001": types.SimpleNamespace(code="NIL001")}
        monkeypatch.setitem(sys.modules, "nilcheck.rules", stub)


def make(root: Path, files: Dict[str, Union[str, bytes]]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def named(root: Path, files: Dict[str, str], source_roots: Sequence[str] = ()):
    """{relative path: module name} of every .py file, and the namer (for its warnings)."""
    make(root, files)
    found, errors = discover_files(root)
    assert errors == []
    namer = ModuleNamer(root, source_roots)
    names = namer.names(relpath(root, path) for path in found)
    return {relative: name for relative, (name, _) in names.items()}, namer


# --- one layout each -------------------------------------------------------------------


def test_src_layout(tmp_path):
    names, _ = named(tmp_path, {"pyproject.toml": "", "src/app/__init__.py": "",
                                "src/app/server.py": "", "tests/test_server.py": "",
                                "noxfile.py": ""})
    assert names == {"noxfile.py": "noxfile", "src/app/__init__.py": "app",
                     "src/app/server.py": "app.server", "tests/test_server.py": "tests.test_server"}


def test_a_src_directory_that_is_a_package_is_not_a_root(tmp_path):
    # Some projects import `src.app`: src/__init__.py says so.
    names, _ = named(tmp_path, {"src/__init__.py": "", "src/app/server.py": ""})
    assert names == {"src/__init__.py": "src", "src/app/server.py": "src.app.server"}


def test_setuptools_where_replaces_the_src_convention(tmp_path):
    names, _ = named(tmp_path, {
        "pyproject.toml": """
            [tool.setuptools.packages.find]
            where = ["lib", "plugins"]
        """,
        "lib/app/__init__.py": "", "lib/app/core.py": "", "plugins/extra/hook.py": "",
        "src/generated/table.py": "",
    })
    assert names == {"lib/app/__init__.py": "app", "lib/app/core.py": "app.core",
                     "plugins/extra/hook.py": "extra.hook",
                     "src/generated/table.py": "src.generated.table"}


def test_setuptools_package_dir(tmp_path):
    names, _ = named(tmp_path, {
        "pyproject.toml": """
            [tool.setuptools]
            package-dir = {"" = "source", "tools.cli" = "cli"}
        """,
        "source/app/server.py": "", "cli/__init__.py": "", "cli/main.py": "",
    })
    assert names == {"cli/__init__.py": "tools.cli", "cli/main.py": "tools.cli.main",
                     "source/app/server.py": "app.server"}


def test_setup_cfg_and_setup_py(tmp_path):
    names, _ = named(tmp_path, {
        "one/setup.cfg": """
            [options]
            package_dir =
                =src
            packages = find:
        """,
        "one/src/alpha/core.py": "",
        "two/setup.cfg": "[options.packages.find]\nwhere = lib\n",
        "two/lib/beta/core.py": "",
        "three/setup.py": """
            from setuptools import find_packages, setup
            setup(name="gamma", package_dir={"": "code"}, packages=find_packages(where="code"))
        """,
        "three/code/gamma/core.py": "",
    })
    assert names["one/src/alpha/core.py"] == "alpha.core"
    assert names["two/lib/beta/core.py"] == "beta.core"
    assert names["three/code/gamma/core.py"] == "gamma.core"
    assert names["three/setup.py"] == "setup"


def test_poetry_from_and_hatch_packages_and_sources(tmp_path):
    names, _ = named(tmp_path, {
        "poetry/pyproject.toml": """
            [tool.poetry]
            packages = [{include = "alpha", from = "code"}]
        """,
        "poetry/code/alpha/core.py": "",
        "hatch/pyproject.toml": """
            [tool.hatch.build.targets.wheel]
            packages = ["python/beta"]
        """,
        "hatch/python/beta/core.py": "",
        "rewrite/pyproject.toml": """
            [tool.hatch.build.targets.wheel.sources]
            "lib/gamma" = "gamma"
        """,
        "rewrite/lib/gamma/core.py": "",
    })
    assert names["poetry/code/alpha/core.py"] == "alpha.core"
    assert names["hatch/python/beta/core.py"] == "beta.core"
    assert names["rewrite/lib/gamma/core.py"] == "gamma.core"


def test_namespace_packages_are_packages_under_the_root(tmp_path):
    # Home Assistant's custom_components/ and OpenWebRX's owrx/ have no __init__.py.
    names, _ = named(tmp_path, {"custom_components/hue/__init__.py": "",
                                "custom_components/hue/light.py": "",
                                "owrx/reporting/__init__.py": "", "owrx/reporting/mqtt.py": "",
                                "owrx/config.py": ""})
    assert names == {"custom_components/hue/__init__.py": "custom_components.hue",
                     "custom_components/hue/light.py": "custom_components.hue.light",
                     "owrx/config.py": "owrx.config",
                     "owrx/reporting/__init__.py": "owrx.reporting",
                     "owrx/reporting/mqtt.py": "owrx.reporting.mqtt"}


def test_monorepo_of_two_projects(tmp_path):
    names, namer = named(tmp_path, {
        "pyproject.toml": "[tool.nilcheck]\n",
        "services/api/pyproject.toml": "[project]\nname = 'api'\n",
        "services/api/api/__init__.py": "", "services/api/api/server.py": "",
        "services/worker/setup.cfg": "[metadata]\nname = worker\n",
        "services/worker/src/worker/jobs.py": "",
        "tools/release.py": "",
    })
    assert names == {"services/api/api/__init__.py": "api",
                     "services/api/api/server.py": "api.server",
                     "services/worker/src/worker/jobs.py": "worker.jobs",
                     "tools/release.py": "tools.release"}
    assert [root.directory for root in namer.roots()] == \
        ["", "services/api", "services/worker/src", "services/worker"]
    assert namer.warnings == []


def test_a_package_with_a_project_file_is_still_a_package(tmp_path):
    names, _ = named(tmp_path, {"app/__init__.py": "", "app/setup.py": "", "app/core.py": ""})
    assert names["app/core.py"] == "app.core"


def test_configured_roots_take_precedence(tmp_path):
    files = {"src/app/core.py": "", "services/billing/app/models.py": "",
             "services/billing/pyproject.toml": ""}
    names, _ = named(tmp_path, files, source_roots=[".", "services/billing/"])
    # "." names src/ too, as configured; services/billing is the innermost configured root.
    assert names == {"src/app/core.py": "src.app.core",
                     "services/billing/app/models.py": "app.models"}
    names, _ = named(tmp_path, files, source_roots=["services"])
    assert names["services/billing/app/models.py"] == "billing.app.models"


def test_directories_that_are_not_identifiers_are_not_packages(tmp_path):
    # `python my-scripts/tool.py` puts my-scripts/ first on sys.path: its neighbours are
    # imported as top-level modules.
    names, _ = named(tmp_path, {"my-scripts/tool.py": "", "my-scripts/helper.py": "",
                                "app/.hidden/tool2.py": "", "docs/conf.d/x.py": "",
                                "bin/run-server.py": ""})
    assert names == {"app/.hidden/tool2.py": "tool2", "bin/run-server.py": "bin.run-server",
                     "docs/conf.d/x.py": "x", "my-scripts/helper.py": "helper",
                     "my-scripts/tool.py": "tool"}


def test_a_project_root_that_is_a_package_keeps_its_name(tmp_path):
    # Scanning a package directory alone (the precision corpora do) names it as before.
    package = tmp_path / "django"
    names, _ = named(package, {"__init__.py": "", "core/__init__.py": "", "core/wsgi.py": ""})
    assert names == {"__init__.py": "django", "core/__init__.py": "django.core",
                     "core/wsgi.py": "django.core.wsgi"}


def test_same_name_in_two_projects_renames_the_later_package_whole(tmp_path):
    names, namer = named(tmp_path, {
        "services/a/pyproject.toml": "", "services/a/app/__init__.py": "",
        "services/a/app/main.py": "",
        "services/b/pyproject.toml": "", "services/b/app/__init__.py": "",
        "services/b/app/main.py": "", "services/b/app/only_here.py": "",
        "services/b/billing/__init__.py": "",
    })
    assert names == {"services/a/app/__init__.py": "app", "services/a/app/main.py": "app.main",
                     "services/b/app/__init__.py": "services.b.app",
                     "services/b/app/main.py": "services.b.app.main",
                     # its package moves whole, although no other file had its name
                     "services/b/app/only_here.py": "services.b.app.only_here",
                     "services/b/billing/__init__.py": "billing"}
    assert len(namer.warnings) == 1
    assert namer.warnings[0].startswith("services/b/: 'app' is also under services/a/")
    assert "'services.b.app'" in namer.warnings[0]
    assert namer.unnamed == {}


def test_the_project_roots_own_modules_keep_their_names(tmp_path):
    # celery's sdist: setup.py at the top and in examples/next-steps/.
    names, namer = named(tmp_path, {"setup.py": "", "examples/next-steps/setup.py": "",
                                    "examples/next-steps/proj/__init__.py": ""})
    assert names == {"setup.py": "setup",
                     # from the root further out: no import can name it
                     "examples/next-steps/setup.py": "examples.next-steps.setup",
                     "examples/next-steps/proj/__init__.py": "proj"}
    assert len(namer.warnings) == 1 and namer.warnings[0].startswith("examples/next-steps/:")


def test_namespace_portions_merge_and_only_the_module_moves(tmp_path):
    names, _ = named(tmp_path, {
        "one/pyproject.toml": "", "one/acme/util.py": "", "one/acme/first.py": "",
        "two/pyproject.toml": "", "two/acme/util.py": "", "two/acme/second.py": "",
    })
    assert names == {"one/acme/first.py": "acme.first", "one/acme/util.py": "acme.util",
                     "two/acme/second.py": "acme.second", "two/acme/util.py": "two.acme.util"}


def test_a_module_beside_a_package_of_its_name_is_left_out(tmp_path):
    make(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "", "pkg/mod/__init__.py": ""})
    found, _ = discover_files(tmp_path)
    sources, unreadable = engine.read_sources(tmp_path, found)
    assert {relative: job[2] for relative, job in sources.items()} == {
        "pkg/__init__.py": "pkg", "pkg/mod/__init__.py": "pkg.mod"}
    assert list(unreadable) == ["pkg/mod.py"]
    assert unreadable["pkg/mod.py"].message == (
        "not analysed: its module name 'pkg.mod' is pkg/mod/__init__.py's, which takes "
        "precedence (a package over a module)")


def test_module_name_for_agrees_with_the_scan(tmp_path):
    # fixes.py names files one at a time: it must see the configured roots too.
    make(tmp_path, {"pyproject.toml": "[tool.nilcheck]\nsource-roots = ['services/billing']\n",
                    "services/billing/app/models.py": "", "src/lib/core.py": ""})
    assert module_name_for(tmp_path, tmp_path / "services/billing/app/models.py") == \
        ("app.models", False)
    assert module_name_for(tmp_path, tmp_path / "src/lib/core.py") == ("lib.core", False)


@pytest.mark.parametrize("metadata", [
    ("pyproject.toml", "[tool.setuptools\n"),  # not TOML
    ("pyproject.toml", "[tool.setuptools]\npackage-dir = 3\n"),
    ("pyproject.toml", "[tool.setuptools.packages]\nfind = 'src'\n"),
    ("pyproject.toml", "[tool.poetry]\npackages = [1, {include = 'x', from = 2}]\n"),
    ("pyproject.toml", "[tool.hatch.build]\nsources = {'a' = 1}\npackages = 'x'\n"),
    ("pyproject.toml", "[tool.setuptools.packages.find]\nwhere = ['../outside', '/abs']\n"),
    ("setup.cfg", "not an ini file\n"),
    ("setup.cfg", "[options]\npackage_dir = nonsense\n"),
    ("setup.py", "setup(package_dir=CONSTANT, packages=find_packages(WHERE))\n"),
    ("setup.py", "def broken(:\n"),
    ("setup.py", "setup(package_dir={[1]: 'src'})\n"),  # literal_eval: TypeError
    ("setup.py", "setup(package_dir={'': 'src', **more})\n"),
    ("pyproject.toml", b"[tool.setuptools]\npackage-dir = {'' = '\xff'}\n"),  # not UTF-8
])
def test_metadata_that_is_not_understood_declares_nothing(tmp_path, metadata):
    filename, text = metadata
    names, _ = named(tmp_path, {filename: text, "src/app/core.py": "", "lib/x.py": ""})
    assert names["src/app/core.py"] == "app.core"  # the src/ convention still applies
    assert names["lib/x.py"] == "lib.x"


def test_naming_reads_each_project_file_once(tmp_path, monkeypatch):
    from nilcheck.linter import discovery

    make(tmp_path, {"pyproject.toml": "", **{f"src/app/m{i}/__init__.py": "" for i in range(30)},
                    "sub/setup.cfg": "", **{f"sub/pkg/m{i}.py": "" for i in range(30)}})
    reads = []
    real = discovery.declared_roots
    monkeypatch.setattr(discovery, "declared_roots",
                        lambda project, present: reads.append(project) or real(project, present))
    named(tmp_path, {})
    assert sorted(reads) == sorted([str(tmp_path), str(tmp_path / "sub")])


# --- end to end ------------------------------------------------------------------------

RECEIVER = """\
class MqttReporter:
    def __init__(self):
        self.client = None

    def connect(self, client):
        self.client = client

    def report(self, message):
        self.client.publish(message)
"""

SERVICE = """\
from owrx.reporting.mqtt import MqttReporter


class Service:
    def start(self, client):
        self.reporter = MqttReporter()
        self.reporter.report("up")
        self.reporter.connect(client)
"""


def run(*args):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes them by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def owrx(tmp_path, monkeypatch):
    """OpenWebRX's layout: owrx/ is a namespace package (no __init__.py)."""
    make(tmp_path, {"pyproject.toml": "[project]\nname = 'openwebrx'\n",
                    "owrx/reporting/__init__.py": "", "owrx/reporting/mqtt.py": RECEIVER,
                    "owrx/service.py": SERVICE})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_entry_in_a_namespace_package_resolves_and_the_hazard_is_found(owrx):
    outcome = api.scan([str(owrx)], entry=["owrx.service:Service.start"], use_cache=False,
                       jobs=1)
    assert [(f.rule, f.file, f.field) for f in outcome.result.findings] == [
        ("NIL001", "owrx/reporting/mqtt.py", "owrx.reporting.mqtt.MqttReporter.client")]
    assert [step.function for step in outcome.result.findings[0].trace][:2] == [
        "owrx.service.Service.start", "owrx.reporting.mqtt.MqttReporter.report"]


def test_an_entry_named_from_another_root_says_which_name_to_use(owrx):
    result = run("scan", "--no-cache", "--entry", "reporting.mqtt:MqttReporter.report")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0] == (
        "nilcheck: error: entry-points: entry point 'reporting.mqtt:MqttReporter.report' "
        "does not resolve: no module 'reporting.mqtt' among the analysed files; did you mean "
        "'owrx.reporting.mqtt:MqttReporter.report'? owrx/reporting/mqtt.py is analysed as "
        "'owrx.reporting.mqtt' (under the source root '.'); or add 'owrx' to "
        "[tool.nilcheck] source-roots")


def test_an_entry_named_by_its_path_in_a_monorepo_gets_the_name_from_its_root(tmp_path,
                                                                             monkeypatch):
    # services/billing is a project of its own: its files are named from it.
    make(tmp_path, {"pyproject.toml": "[project]\nname = 'mono'\n",
                    "services/billing/pyproject.toml": "[project]\nname = 'billing'\n",
                    "services/billing/app/__init__.py": "",
                    "services/billing/app/main.py": BILLING_MAIN,
                    "services/billing/app/models.py": BILLING_MODELS})
    monkeypatch.chdir(tmp_path)
    result = run("scan", "--no-cache", "--entry", "services.billing.app.main:main")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        "no module 'services.billing.app.main' among the analysed files; did you mean "
        "'app.main:main'? services/billing/app/main.py is analysed as 'app.main' (under the "
        "source root 'services/billing'); or add '.' to [tool.nilcheck] source-roots")
    # The name it suggests resolves, and the hazard behind the import of app.models is found.
    result = run("scan", "--no-cache", "--format", "json", "--entry", "app.main:main")
    assert result.exit_code == 1, result.stderr
    assert [(f["file"], f["field"]) for f in json.loads(result.stdout)["findings"]] == [
        ("services/billing/app/models.py", "app.models.Ledger.client")]


def test_a_module_package_dir_renames_has_no_root_to_name(tmp_path, monkeypatch):
    make(tmp_path, {"pyproject.toml": "[tool.setuptools]\npackage-dir = {'acme.hub' = 'lib'}\n",
                    "lib/__init__.py": "", "lib/core.py": RECEIVER})
    monkeypatch.chdir(tmp_path)
    result = run("scan", "--no-cache", "--entry", "lib.core:MqttReporter.report")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        "did you mean 'acme.hub.core:MqttReporter.report'? lib/core.py is analysed as "
        "'acme.hub.core'; or add '.' to [tool.nilcheck] source-roots")


def test_an_entry_with_no_such_file_says_only_that(owrx):
    result = run("scan", "--no-cache", "--entry", "nothing.here:main")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("no module 'nothing.here' among the analysed files")


def test_a_name_conflict_is_a_warning_on_stderr(tmp_path, monkeypatch):
    make(tmp_path, {"pyproject.toml": "", "a/pyproject.toml": "", "a/app/__init__.py": "",
                    "b/pyproject.toml": "", "b/app/__init__.py": ""})
    monkeypatch.chdir(tmp_path)
    result = run("scan", "--no-cache")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "nilcheck: warning: b/: 'app' is also under a/ (e.g. a/app/__init__.py), which takes "
        "precedence: named from a root further out instead (e.g. 'b.app'), and imports of it "
        "reach a/"]
    assert run("scan", "--no-cache", "--quiet").stderr == ""


BILLING_MODELS = RECEIVER.replace("MqttReporter", "Ledger")
BILLING_MAIN = """\
from app.models import Ledger


def main(client):
    ledger = Ledger()
    ledger.report("opened")
    ledger.connect(client)


if __name__ == "__main__":
    main(None)
"""


def test_a_change_of_roots_is_right_on_a_warm_cache(tmp_path):
    """Module names are part of each file's cache key: after source-roots changes, the
    cached facts and outcome of the old names are not reused."""
    make(tmp_path, {"pyproject.toml": "[project]\nname = 'mono'\n",
                    "services/billing/app/__init__.py": "",
                    "services/billing/app/models.py": BILLING_MODELS,
                    "services/billing/app/main.py": BILLING_MAIN})

    def scan(use_cache):
        result = api.scan([str(tmp_path)], use_cache=use_cache, jobs=1).result
        return [(f.rule, f.file, f.field) for f in result.findings]

    found = [("NIL001", "services/billing/app/models.py", "app.models.Ledger.client")]
    # services.billing.app.main imports app.models, which is no analysed module: nothing.
    assert scan(use_cache=True) == [] == scan(use_cache=False)
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'mono'\n[tool.nilcheck]\nsource-roots = ['services/billing']\n")
    assert scan(use_cache=True) == found == scan(use_cache=False)
    assert scan(use_cache=True) == found  # the outcome stored under the new names
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mono'\n")
    assert scan(use_cache=True) == [] == scan(use_cache=False)


def test_the_engine_takes_configured_roots_from_its_settings(tmp_path):
    make(tmp_path, {"services/billing/app/__init__.py": "",
                    "services/billing/app/models.py": BILLING_MODELS,
                    "services/billing/app/main.py": BILLING_MAIN})
    files, _ = discover_files(tmp_path)
    settings = AnalysisSettings(root=tmp_path, files=tuple(files),
                                source_roots=("services/billing",))
    result = engine.analyze(settings)
    assert [f.field for f in result.findings] == ["app.models.Ledger.client"]
    assert result.warnings == []


def test_a_bad_source_root_is_one_line_and_exit_2(owrx):
    (owrx / "pyproject.toml").write_text("[tool.nilcheck]\nsource-roots = ['lib']\n")
    result = run("scan", "--no-cache")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "nilcheck: error: pyproject.toml: [tool.nilcheck] 'source-roots': 'lib' is not a "
        "directory under the project root"]


def test_the_fix_planner_names_a_renamed_package_as_the_analysis_did(tmp_path, monkeypatch):
    # b's app/ is named services.b.app (a's keeps `app`): one file at a time it would be
    # `app`, and the planner would look for the finding's class in the wrong module.
    make(tmp_path, {"pyproject.toml": "[project]\nname = 'mono'\n",
                    "services/a/pyproject.toml": "", "services/a/app/__init__.py": "",
                    "services/b/pyproject.toml": "", "services/b/app/__init__.py": "",
                    "services/b/app/models.py": BILLING_MODELS,
                    "services/b/app/main.py": BILLING_MAIN.replace("from app.models",
                                                                   "from .models")})
    monkeypatch.chdir(tmp_path)
    result = run("scan", "--no-cache", "--diff")
    assert result.exit_code == 1, result.stderr
    assert "1 fix offered (1 finding); 0 findings need a person" in result.stderr
    assert "+++ b/services/b/app/models.py\n" in result.stdout
    assert "+    def __init__(self, client):\n" in result.stdout
