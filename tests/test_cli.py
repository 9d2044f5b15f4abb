"""The CLI layer: exit codes, one-line errors, filters, --output, baselines.

The engine is replaced by a canned result (the engine has its own tests), and the
report by a tiny renderer, so these tests see only what cli.py and api.py decide.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nilcheck.linter import cli, engine
from nilcheck.linter.ftypes import (
    ConfigError,
    FileError,
    Finding,
    Initializer,
    ScanResult,
    TraceStep,
)

SERVER = """\
from app.plugins import PluginAPI


class Server:
    def start(self):
        self.api = PluginAPI()
        self.api.notify("up")
"""

PLUGINS = """\
class PluginAPI:
    def __init__(self):
        self.host = None

    def attach(self, host):
        self.host = host

    def notify(self, message):
        self.host.send(message)
"""


@pytest.fixture(autouse=True)
def rule_table(monkeypatch):
    """The rule table, or a stand-in while rules/nil001.py is not written yet."""
    try:
        import nilcheck.rules  # noqa: F401
    except ImportError:
        stub = types.ModuleType("nilcheck.rules")
        stub.RULES = {
            "NIL001": types.SimpleNamespace(
                code="NIL001",
                name="read-before-late-init",
                summary="A field is read before its initializer runs",
                severity="error",
                docs="## What it does\nFinds reads before the initializer.\n",
            )
        }
        monkeypatch.setitem(sys.modules, "nilcheck.rules", stub)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "server.py").write_text(SERVER)
    (tmp_path / "app" / "plugins.py").write_text(PLUGINS)
    (tmp_path / "app" / "unrelated.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_finding(line: int = 9, file: str = "app/plugins.py", rule: str = "NIL001") -> Finding:
    return Finding(
        rule=rule,
        severity="error",
        file=file,
        line=line,
        column=9,
        field="app.plugins.PluginAPI.host",
        message="`PluginAPI.host` is read before `PluginAPI.attach()` assigns it",
        entry="app.server:Server.start",
        initializer=Initializer("app.plugins.PluginAPI.attach", "app/plugins.py", 6),
        trace=(
            TraceStep("entry", "app.server.Server.start", "app/server.py", 5),
            TraceStep("call", "app.plugins.PluginAPI.notify", "app/server.py", 7),
            TraceStep("read", "app.plugins.PluginAPI.notify", file, line),
        ),
        suggestion="pass `host` to PluginAPI.__init__",
        read_text="self.host.send(message)",
    )


class CannedEngine:
    """Stands in for engine.analyze: returns fixed findings and records its settings."""

    def __init__(self, findings=(), errors=(), raises=None):
        self.findings = list(findings)
        self.errors = list(errors)
        self.raises = raises
        self.settings = None

    def __call__(self, settings, progress=None):
        self.settings = settings
        if self.raises is not None:
            raise self.raises
        return ScanResult(findings=list(self.findings), errors=list(self.errors), files=len(settings.files))


def fake_render(fmt, result, root, color=False):
    lines = [f"{f.file}:{f.line}: {f.rule}" for f in result.findings]
    lines += [f"{e.file}:{e.line}: error: {e.message}" for e in result.errors]
    return f"[{fmt}{' color' * color}]\n" + "".join(line + "\n" for line in lines)


@pytest.fixture
def canned(monkeypatch):
    def install(*args, **kwargs):
        fake = CannedEngine(*args, **kwargs)
        monkeypatch.setattr(engine, "analyze", fake)
        monkeypatch.setattr(cli, "_render", fake_render)
        return fake

    return install


def run(*args):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes them by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli.main, list(args), catch_exceptions=False)


def assert_one_line_error(result, *fragments, kind="error"):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"nilcheck: {kind}: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# --- exit codes and output -------------------------------------------------------------


def test_no_findings_exit_0(project, canned):
    fake = canned()
    result = run("scan")
    assert result.exit_code == 0
    assert result.stdout == "[text]\n"
    assert fake.settings.root == project.resolve()
    assert [p.name for p in fake.settings.files] == ["__init__.py", "plugins.py", "server.py", "unrelated.py"]


def test_findings_exit_1_and_exit_zero(project, canned):
    canned([make_finding()])
    result = run("scan", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == "[json]\napp/plugins.py:9: NIL001\n"
    assert run("scan", "--exit-zero").exit_code == 0


def test_parse_errors_alone_exit_0(project, canned):
    canned(errors=[FileError("app/legacy.py", 3, "syntax error: invalid syntax")])
    result = run("scan")
    assert result.exit_code == 0
    assert "app/legacy.py:3: error: syntax error" in result.stdout


def test_output_file_written_atomically_and_stdout_empty(project, canned):
    canned([make_finding()])
    result = run("scan", "--output", "report.txt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (project / "report.txt").read_text() == "[text]\napp/plugins.py:9: NIL001\n"
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_output_into_missing_directory_is_exit_2(project, canned):
    canned([make_finding()])
    assert_one_line_error(run("scan", "--output", "no/such/dir/report.txt"), "cannot write")


def test_quiet_prints_nothing_but_keeps_exit_code(project, canned):
    canned([make_finding()])
    result = run("scan", "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""


def test_findings_are_sorted(project, canned):
    canned([make_finding(9), make_finding(2, file="app/server.py"), make_finding(3)])
    assert run("scan").stdout.splitlines()[1:] == [
        "app/plugins.py:3: NIL001",
        "app/plugins.py:9: NIL001",
        "app/server.py:2: NIL001",
    ]


def test_real_json_reporter(project, monkeypatch):
    monkeypatch.setattr(engine, "analyze", CannedEngine([make_finding()]))
    result = run("scan", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [f["line"] for f in document["findings"]] == [9]


# --- colour --------------------------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch):
    """Pretend stdout is (or is not) a terminal; NO_COLOR starts unset."""
    monkeypatch.delenv("NO_COLOR", raising=False)

    def set_terminal(is_terminal: bool) -> None:
        monkeypatch.setattr(cli, "_stdout_is_terminal", lambda: is_terminal)

    set_terminal(True)
    return set_terminal


def test_text_on_a_terminal_is_coloured(project, canned, terminal):
    canned([make_finding()])
    assert run("scan").stdout.startswith("[text color]\n")


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "json"),  # only text has colour, --color or not
        ("--format", "sarif", "--color"),
        ("--no-color",),
    ],
)
def test_no_colour_for_other_formats_or_no_color(project, canned, terminal, args):
    canned([make_finding()])
    assert " color]" not in run("scan", *args).stdout


def test_no_colour_with_no_color_env_or_off_a_terminal(project, canned, terminal, monkeypatch):
    canned([make_finding()])
    monkeypatch.setenv("NO_COLOR", "1")
    assert run("scan").stdout.startswith("[text]\n")
    assert run("scan", "--color").stdout.startswith("[text color]\n")  # the flag wins
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not count
    assert run("scan").stdout.startswith("[text color]\n")
    monkeypatch.delenv("NO_COLOR")
    terminal(False)
    assert run("scan").stdout.startswith("[text]\n")


def test_no_colour_in_output_file_unless_asked(project, canned, terminal):
    canned([make_finding()])
    run("scan", "--output", "report.txt")
    assert (project / "report.txt").read_text().startswith("[text]\n")
    run("scan", "--output", "report.txt", "--color")
    assert (project / "report.txt").read_text().startswith("[text color]\n")


def test_forced_colour_survives_a_pipe(project, monkeypatch, terminal):
    """click.echo strips ANSI escapes off a terminal; --color must keep them."""
    terminal(False)
    monkeypatch.setattr(engine, "analyze", CannedEngine([make_finding()]))
    coloured = run("scan", "--color").stdout.splitlines()
    plain = run("scan").stdout.splitlines()
    assert "\x1b[" in coloured[0] and "\x1b[" not in "".join(plain)
    assert click.unstyle(coloured[0]) == plain[0]


def test_formats_are_the_reporters():
    from nilcheck.linter import reporters

    assert cli.FORMATS is reporters.FORMATS


# --- settings passed to the engine ------------------------------------------------------


def test_settings_from_cli_and_config(project, canned, monkeypatch):
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project.scripts]
            app = "app.server:main"
            [tool.nilcheck]
            entry-points = ["app.server:Server.start"]
            initializer-methods = ["attach"]
            spawners = ["app.loop.later"]
            exclude = ["app/unrelated.py"]
            """
        )
    )
    fake = canned()
    assert run("scan").exit_code == 0
    settings = fake.settings
    assert settings.entry_points == ("app.server:Server.start",)
    assert settings.initializer_methods == ("attach",)
    assert settings.spawners == ("app.loop.later",)
    assert settings.project_scripts == ("app.server:main",)
    assert "unrelated.py" not in [p.name for p in settings.files]
    assert settings.jobs == (os.cpu_count() or 1) and settings.use_cache is True

    assert run("scan", "--entry", "app.plugins:PluginAPI.notify", "--jobs", "3", "--no-cache").exit_code == 0
    assert fake.settings.entry_points == ("app.plugins:PluginAPI.notify",)
    assert fake.settings.jobs == 3 and fake.settings.use_cache is False


# --- errors are one line, exit 2 ----------------------------------------------------------


@pytest.mark.parametrize(
    "body, fragments",
    [
        ("entrypoints = ['a:b']", ["pyproject.toml", "'entrypoints'", "did you mean 'entry-points'"]),
        ("exclude = 'tests'", ["pyproject.toml", "'exclude'", "list of strings"]),
        ("baseline = 3", ["pyproject.toml", "'baseline'"]),
        ("entry-points = ['app.server.main']", ["pyproject.toml", "'entry-points'", "'app.server.main'"]),
        ("select = ['NIL999']", ["pyproject.toml", "'select'", "NIL999"]),
    ],
)
def test_bad_config_exit_2_one_line(project, canned, body, fragments):
    canned([make_finding()])
    (project / "pyproject.toml").write_text(f"[tool.nilcheck]\n{body}\n")
    assert_one_line_error(run("scan"), *fragments)


def test_invalid_toml_exit_2(project, canned):
    canned()
    (project / "pyproject.toml").write_text("[tool.nilcheck\n")
    assert_one_line_error(run("scan"), "pyproject.toml", "invalid TOML")


def test_bad_config_via_installed_command(tmp_path):
    """The real entry point, in a subprocess: exit 2, one line, no traceback."""
    (tmp_path / "pyproject.toml").write_text("[tool.nilcheck]\nentrypoints = ['a:b']\n")
    completed = subprocess.run(
        [sys.executable, "-m", "nilcheck.linter.cli", "scan"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == (
        "nilcheck: error: pyproject.toml: [tool.nilcheck] unknown key 'entrypoints'"
        " (did you mean 'entry-points'?)\n"
    )


def test_installed_command_delivers_all_output_and_exit_codes(tmp_path):
    """run() ends the process without the interpreter's teardown: everything printed
    must still arrive whole through a pipe, with the exit code of the scan."""
    fixture = Path(__file__).resolve().parent / "fixtures" / "NIL001" / "containerd_buggy"
    project = tmp_path / "project"
    shutil.copytree(fixture, project, ignore=shutil.ignore_patterns(".nilcheck_cache"))
    command = [sys.executable, "-m", "nilcheck.linter.cli", "scan", str(project), "--no-cache"]
    found = subprocess.run(command + ["--format", "json"], capture_output=True, text=True,
                           timeout=120)
    assert found.returncode == 1, found.stderr
    assert [f["rule"] for f in json.loads(found.stdout)["findings"]] == ["NIL001"]
    clean = subprocess.run(command + ["--ignore", "NIL001", "--format", "json"],
                           capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0 and json.loads(clean.stdout)["findings"] == []
    version = subprocess.run([sys.executable, "-m", "nilcheck.linter.cli", "--version"],
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("nilcheck, version ")


def test_nonexistent_path_exit_2(project, canned):
    canned()
    assert_one_line_error(run("scan", "no/such/file.py"), "no/such/file.py", "does not exist")


def test_bad_cli_values_exit_2(project, canned):
    canned()
    assert_one_line_error(run("scan", "--entry", "app.server"), "--entry", "'app.server'")
    assert_one_line_error(run("scan", "--select", "NIL001,NIL999"), "--select", "NIL999")
    assert_one_line_error(run("scan", "--ignore", "X1"), "--ignore", "X1")


def test_engine_config_error_exit_2(project, canned):
    canned(raises=ConfigError("pyproject.toml: [tool.nilcheck] entry-points: 'app.x:Y' does not resolve"))
    assert_one_line_error(run("scan"), "entry-points", "does not resolve")


def test_unexpected_engine_exception_is_one_line_internal_error(project, canned):
    canned(raises=RuntimeError("graph exploded\nsecond line"))
    assert_one_line_error(run("scan"), "RuntimeError: graph exploded second line", kind="internal error")


def test_diff_and_fix_exclusive_options(project, canned):
    # What --diff and --fix do is tested in test_fixes.py.
    canned()
    assert_one_line_error(run("scan", "--diff", "--fix"), "mutually exclusive")
    assert_one_line_error(run("scan", "--fix", "--write-baseline", "b.json"), "mutually exclusive")


def test_usage_errors_exit_2(project, canned):
    canned()
    assert run("scan", "--no-such-option").exit_code == 2
    assert run("scan", "--format", "xml").exit_code == 2
    assert run("scan", "--jobs", "0").exit_code == 2


# --- what is reported --------------------------------------------------------------------


def test_select_and_ignore(project, canned):
    canned([make_finding()])
    assert run("scan", "--ignore", "NIL001").exit_code == 0
    assert run("scan", "--select", "nil001").exit_code == 1
    (project / "pyproject.toml").write_text("[tool.nilcheck]\nignore = ['NIL001']\n")
    assert run("scan").exit_code == 0
    assert run("scan", "--ignore", "").exit_code == 1  # the CLI value replaces the config's


def test_explicit_files_restrict_reported_findings(project, canned):
    fake = canned([make_finding()])
    # The read is in plugins.py and the trace passes through server.py.
    assert run("scan", "app/plugins.py").exit_code == 1
    assert run("scan", "app/server.py").exit_code == 1
    result = run("scan", "app/unrelated.py")
    assert result.exit_code == 0
    # ...but the whole project was still analysed.
    assert len(fake.settings.files) == 4
    assert run("scan", "app").exit_code == 1
    assert run("scan", ".").exit_code == 1


def test_file_outside_any_project_is_its_own_project(tmp_path, canned, monkeypatch):
    """No pyproject.toml and no repository above: the file's directory is the root."""
    loose = tmp_path / "scripts"
    loose.mkdir()
    (loose / "tool.py").write_text("x = 1\n")
    (loose / "other.py").write_text("y = 2\n")
    monkeypatch.chdir(tmp_path)
    finding = dataclasses.replace(
        make_finding(line=3, file="tool.py"),
        trace=(TraceStep("entry", "tool.__main__", "tool.py", 5), TraceStep("read", "tool.f", "tool.py", 3)),
    )
    fake = canned([finding])
    result = run("scan", "scripts/tool.py")
    assert result.exit_code == 1
    assert result.stdout == "[text]\ntool.py:3: NIL001\n"
    assert fake.settings.root == loose.resolve()
    assert sorted(p.name for p in fake.settings.files) == ["other.py", "tool.py"]
    assert run("scan", "scripts/other.py").exit_code == 0


def test_repository_without_pyproject_is_one_project(tmp_path, canned, monkeypatch):
    """pre-commit passes files from anywhere in a repository that has no pyproject.toml:
    the repository root is the project, whatever the order of the files."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "app" / "sub").mkdir(parents=True)
    for name in ("app/__init__.py", "app/sub/__init__.py", "app/plugins.py", "app/sub/server.py"):
        (tmp_path / name).write_text("")
    monkeypatch.chdir(tmp_path)
    fake = canned([make_finding()])
    assert run("scan", "app/sub/server.py", "app/plugins.py").exit_code == 1
    assert fake.settings.root == tmp_path.resolve()
    assert run("scan", "app/sub/server.py").exit_code == 0  # not in the finding's trace


def test_files_of_two_projects_exit_2(tmp_path, canned, monkeypatch):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text("")
        (tmp_path / name / "mod.py").write_text("")
    monkeypatch.chdir(tmp_path)
    canned()
    assert_one_line_error(run("scan", "one/mod.py", "two/mod.py"), "two/mod.py", "outside the project root")


def test_real_engine_reports_only_findings_touching_the_given_files(tmp_path, monkeypatch):
    """The real engine on examples/plugin_host, from outside the project like a hook: a
    file on the finding's trace reports it, an unrelated file of the project does not."""
    example = Path(__file__).resolve().parents[1] / "examples" / "plugin_host"
    if not example.is_dir():
        pytest.skip("examples/plugin_host is not in this checkout")
    shutil.copytree(example, tmp_path / "plugin_host")
    monkeypatch.chdir(tmp_path)

    def scan(path):
        result = run("scan", "--format", "json", "--no-cache", "--jobs", "1", f"plugin_host/plugin_host/{path}")
        return result.exit_code, json.loads(result.stdout)

    for touched in ("plugins.py", "server.py"):  # the read; a step of the trace
        code, document = scan(touched)
        assert code == 1
        assert [(f["file"], f["rule"]) for f in document["findings"]] == [("plugin_host/plugins.py", "NIL001")]
    code, document = scan("tasks.py")
    assert (code, document["findings"]) == (0, [])
    assert document["summary"]["files"] == 4  # the whole project was analysed all the same


def test_suppression_comment_hides_finding(project, canned):
    source = PLUGINS.replace("self.host.send(message)", "self.host.send(message)  # nilcheck: ignore[NIL001]")
    (project / "app" / "plugins.py").write_text(source)
    canned([make_finding()])
    assert run("scan").exit_code == 0
    before = PLUGINS.replace(
        "        self.host.send(message)", "        # nilcheck: ignore[NIL002]\n        self.host.send(message)"
    )
    (project / "app" / "plugins.py").write_text(before)
    canned([make_finding(10)])
    assert run("scan").exit_code == 1  # another rule's code does not hide it


def test_show_unused_suppressions(project, canned):
    (project / "app" / "unrelated.py").write_text("x = 1  # nilcheck: ignore\n")
    source = PLUGINS.replace("self.host.send(message)", "self.host.send(message)  # nilcheck: ignore")
    (project / "app" / "plugins.py").write_text(source)
    canned([make_finding()])
    result = run("scan", "--show-unused-suppressions")
    assert result.exit_code == 0
    assert result.stderr == "app/unrelated.py:1: warning: unused suppression comment\n"
    assert run("scan").stderr == ""


def test_baseline_round_trip_survives_line_shifts(project, canned):
    canned([make_finding(9)])
    written = run("scan", "--write-baseline", "baseline.json")
    assert written.exit_code == 0
    assert "recorded 1 finding" in written.stderr
    # Three lines were added above the read: still the same finding.
    canned([make_finding(12)])
    assert run("scan", "--baseline", "baseline.json").exit_code == 0
    (project / "pyproject.toml").write_text("[tool.nilcheck]\nbaseline = 'baseline.json'\n")
    assert run("scan").exit_code == 0
    new = dataclasses.replace(make_finding(20), read_text="self.host.close()")
    canned([make_finding(12), new])
    result = run("scan")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == ["app/plugins.py:20: NIL001"]


def test_missing_baseline_exit_2(project, canned):
    canned()
    assert_one_line_error(run("scan", "--baseline", "nope.json"), "nope.json", "not found")


# --- rules, explain, version ---------------------------------------------------------------


def test_rules_lists_every_rule():
    from nilcheck.rules import RULES

    lines = run("rules").stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(RULES)
    for line in lines:
        rule = RULES[line.split()[0]]
        assert rule.name in line and rule.summary in line


def test_explain():
    from nilcheck.rules import RULES

    code = sorted(RULES)[0]
    result = run("explain", code.lower())
    assert result.exit_code == 0
    assert result.stdout.strip() == RULES[code].docs.strip()
    assert_one_line_error(run("explain", "NIL999"), "unknown rule code 'NIL999'", code)


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("nilcheck, version ")
