"""Project root discovery and `[tool.nilcheck]` validation."""
from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

from nilcheck.linter.config import Config, find_project_root, load_config
from nilcheck.linter.ftypes import ConfigError


@pytest.fixture(autouse=True)
def rule_table(monkeypatch):
    """The rule table, or a one-rule stand-in while rules/nil001.py is not written yet.

    Only the codes matter here, and NIL001 is the code CONTRACT.md itself uses.
    """
    try:
        import nilcheck.rules  # noqa: F401
    except ImportError:
        stub = types.ModuleType("nilcheck.rules")
        stub.RULES = {"NIL001": types.SimpleNamespace(code="NIL001")}
        monkeypatch.setitem(sys.modules, "nilcheck.rules", stub)


def write_pyproject(directory: Path, body: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_root_is_nearest_directory_with_pyproject(tmp_path):
    write_pyproject(tmp_path, "[project]\nname = 'x'\n")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    (nested / "mod.py").write_text("")
    assert find_project_root([nested / "mod.py"]) == tmp_path.resolve()
    assert find_project_root([str(nested)]) == tmp_path.resolve()


def test_inner_pyproject_wins(tmp_path):
    write_pyproject(tmp_path, "")
    inner = tmp_path / "sub"
    inner.mkdir()
    write_pyproject(inner, "")
    assert find_project_root([inner / "a.py"]) == inner.resolve()


def test_root_without_pyproject_is_the_directory_or_the_file_parent(tmp_path):
    # tmp_path lives under the system temp directory, which has no pyproject.toml above.
    (tmp_path / "a.py").write_text("")
    assert find_project_root([tmp_path]) == tmp_path.resolve()
    assert find_project_root([tmp_path / "a.py"]) == tmp_path.resolve()


def test_missing_pyproject_or_table_gives_defaults(tmp_path):
    assert load_config(tmp_path) == Config()
    write_pyproject(tmp_path, "[project]\nname = 'x'\n")
    config = load_config(tmp_path)
    assert config.entry_points == () and config.select is None and config.baseline is None


def test_every_key_is_read(tmp_path):
    write_pyproject(
        tmp_path,
        """
        [project.scripts]
        serve = "app.server:main"
        tool = "app.cli:Cli.run [extra]"
        [project.gui-scripts]
        gui = "app.gui:start"
        [tool.nilcheck]
        entry-points = ["app.server:Server.start"]
        initializer-methods = ["attach", "bind"]
        spawners = ["app.loop.run_later"]
        exclude = ["tests/*", "legacy/**"]
        select = ["NIL001"]
        ignore = []
        baseline = ".nilcheck-baseline.json"
        source-roots = ["src", "./services/billing/", "."]
        """,
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "services" / "billing").mkdir(parents=True)
    config = load_config(tmp_path)
    assert config.entry_points == ("app.server:Server.start",)
    assert config.initializer_methods == ("attach", "bind")
    assert config.spawners == ("app.loop.run_later",)
    assert config.exclude == ("tests/*", "legacy/**")
    assert config.select == ("NIL001",)
    assert config.ignore == ()
    assert config.baseline == tmp_path / ".nilcheck-baseline.json"
    assert config.project_scripts == ("app.cli:Cli.run", "app.gui:start", "app.server:main")
    assert config.source_roots == ("src", "services/billing", ".")


BAD_CONFIGS = [
    ("entrypoints = ['a:b']", ["unknown key 'entrypoints'", "did you mean 'entry-points'"]),
    ("entry_points = ['a:b']", ["unknown key 'entry_points'", "did you mean 'entry-points'"]),
    ("frobnicate = 1", ["unknown key 'frobnicate'"]),
    ("exclude = 'tests'", ["'exclude' must be a list of strings", "string"]),
    ("spawners = [1, 'a.b']", ["'spawners' must be a list of strings", "int"]),
    ("baseline = ['x.json']", ["'baseline' must be a non-empty string"]),
    ("entry-points = ['app.server']", ["'entry-points'", "'app.server' is not of the form"]),
    ("entry-points = ['app server:main']", ["'entry-points'", "'app server:main'"]),
    ("entry-points = ['app:']", ["'entry-points'", "'app:'"]),
    ("select = ['NIL999']", ["'select'", "unknown rule code 'NIL999'", "NIL001"]),
    ("ignore = ['E501']", ["'ignore'", "unknown rule code 'E501'"]),
    ("initializer-methods = ['set up']", ["'initializer-methods'", "'set up'"]),
    ("source_roots = ['src']", ["unknown key 'source_roots'", "did you mean 'source-roots'"]),
    ("source-roots = 'src'", ["'source-roots' must be a list of strings", "string"]),
    ("source-roots = ['']", ["'source-roots'", "empty path"]),
    ("source-roots = ['missing']", ["'source-roots'", "'missing' is not a directory under"]),
    ("source-roots = ['../elsewhere']", ["'source-roots'", "'../elsewhere' is outside the project"]),
    ("source-roots = ['/usr/lib']", ["'source-roots'", "'/usr/lib' must be relative"]),
    ("source-roots = ['pyproject.toml']", ["'source-roots'", "is not a directory"]),
    # Lexically outside, even where it leads back in: roots name files by relative paths.
    ("source-roots = ['../']", ["'source-roots'", "'../' is outside the project"]),
    ('source-roots = ["a\\u0000b"]', ["'source-roots'", "NUL character"]),
    (f"source-roots = ['{'x' * 5000}']", ["'source-roots'", "is not a usable path"]),
]


@pytest.mark.parametrize("body, expected", BAD_CONFIGS)
def test_bad_config_is_one_line_naming_key_and_file(tmp_path, monkeypatch, body, expected):
    monkeypatch.chdir(tmp_path)
    write_pyproject(tmp_path, f"[tool.nilcheck]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("pyproject.toml: [tool.nilcheck]")
    for fragment in expected:
        assert fragment in message


def test_invalid_toml_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_pyproject(tmp_path, "[tool.nilcheck\nexclude = [\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    message = str(caught.value)
    assert message.startswith("pyproject.toml: invalid TOML:")
    assert "\n" not in message


def test_table_of_wrong_type(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_pyproject(tmp_path, "[tool]\nnilcheck = 3\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.nilcheck\] must be a table"):
        load_config(tmp_path)


def test_file_outside_working_directory_is_named_by_full_path(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    write_pyproject(project, "[tool.nilcheck]\nbogus = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(project)
    assert str(caught.value).startswith(f"{project / 'pyproject.toml'}: ")


def test_source_root_linked_outside_the_project_is_refused(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (project / "vendor").symlink_to(tmp_path / "elsewhere")
    monkeypatch.chdir(project)
    write_pyproject(project, "[tool.nilcheck]\nsource-roots = ['vendor']\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: \[tool.nilcheck\] 'source-roots': "
                                          r"'vendor' is outside the project root$"):
        load_config(project)


def test_source_root_in_a_link_loop_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop").symlink_to("loop")
    write_pyproject(tmp_path, "[tool.nilcheck]\nsource-roots = ['loop/pkg']\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: \[tool.nilcheck\] 'source-roots': "
                                          r"'loop/pkg' is not a usable path \(.*\)$"):
        load_config(tmp_path)
