"""Edits the last analysis cannot see reuse its outcome (linter/footprint.py); every other
edit runs the analysis again, and a scan's result never depends on which happened."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nilcheck.linter import engine
from nilcheck.linter.api import scan
from nilcheck.linter.footprint import Footprint, unseen_edit
from nilcheck.linter.parsing import parse_source

MODULE = """\
import os

from pkg import base


def helper(x):
    return os.path.join(x, "a")


class Service(base.Base):
    def __init__(self):
        self.conn = None

    def connect(self):
        self.conn = base.open_conn()


def tail():
    return 1
"""


def facts(source: str, positioned: bool = False):
    return parse_source(source.encode(), "pkg/mod.py", "pkg.mod", False, positioned)


def seen(read=(), asked=(), shown=()) -> Footprint:
    return Footprint(frozenset(read), frozenset(asked), frozenset(shown))


def edited(old: str, new: str, footprint: Footprint):
    return unseen_edit(facts(old), facts(new), footprint)


def test_a_new_function_nothing_looks_up_is_unseen():
    assert edited(MODULE, MODULE + "\n\ndef added():\n    return helper(2)\n", seen()) is None


def test_a_new_function_whose_name_was_looked_up_is_seen():
    new = MODULE + "\n\ndef added():\n    return 2\n"
    assert edited(MODULE, new, seen(asked={("pkg.mod", "added")})) \
        == "the analysis looked up the name added"
    assert edited(MODULE, new, seen(asked={("pkg.mod", "*")})) is not None
    assert edited(MODULE, new, seen(asked={("", "pkg.mod.added")})) \
        == "the analysis looked up added"


def test_a_changed_body_is_unseen_only_when_the_analysis_never_read_it():
    new = MODULE.replace('    return os.path.join(x, "a")\n',
                         '    y = x.strip()\n    z = y.lower()\n    return os.path.join(z, "a")\n')
    # The lines after the edit moved (a class among them): compared up to their order.
    assert edited(MODULE, new, seen(read={"pkg.mod.tail"})) is None
    assert edited(MODULE, new, seen(read={"pkg.mod.helper"})) == "the analysis read helper"


def test_a_new_method_changes_the_class():
    new = MODULE.replace("    def connect(self):",
                         "    def close(self):\n        self.conn = None\n\n    def connect(self):")
    assert edited(MODULE, new, seen()) == "Service.close is defined in Service, which did not change"


@pytest.mark.parametrize("old, new, reason", [
    ("import os\n", "import sys\n", "its imports changed"),
    ("tail()\n", "", "its toplevel changed"),
    ("x = 1\n", "x = 2\n", "its global_values changed"),
    ("", "@decorate\n", "its decorated changed"),  # before `def tail`: decorated now
])
def test_edits_outside_functions_are_seen(old, new, reason):
    base = MODULE + "\n\nx = 1\ntail()\n"
    if old == "":
        changed = base.replace("def tail():", f"{new}def tail():")
    else:
        changed = base.replace(old, new, 1)
    assert changed != base
    assert edited(base, changed, seen()) == reason


def test_a_def_turned_into_another_binding_is_seen_where_the_name_was_looked_up():
    new = MODULE.replace("def tail():\n    return 1\n", "tail = lambda: 1\n")
    assert edited(MODULE, new, seen(asked={("pkg.mod", "tail")})) is not None


def test_a_module_the_outcome_shows_is_seen():
    new = MODULE + "\n\ndef added():\n    return 2\n"
    assert edited(MODULE, new, seen(shown={"pkg/mod.py"})) == "the outcome shows its lines"


def test_facts_of_another_kind_are_not_compared():
    new = MODULE + "\n\ndef added():\n    return 2\n"
    assert unseen_edit(facts(MODULE, positioned=True), facts(new), seen()) \
        == "its facts are of another kind"


# ------------------------------------------------------------ whole scans

APP = """\
import threading

from pkg import hooks, util


class Server:
    def __init__(self):
        self.conn = None

    def start(self):
        hooks.on_start(self)
        self.conn = open_conn()

    def serve(self):
        return self.conn.send()


def open_conn():
    return util.make()


if __name__ == "__main__":
    Server().start()
"""

HOOKS = """\
import threading


def on_start(server):
    pass


def unused(server):
    return server
"""


UTIL = """\
def make():
    return object()


def unused(value):
    return value
"""


@pytest.fixture(autouse=True)
def user_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "app.py").write_text(APP, encoding="utf-8")
    (root / "pkg" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    (root / "pkg" / "util.py").write_text(UTIL, encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.nilcheck]\n", encoding="utf-8")
    return root


@pytest.fixture
def reuses(monkeypatch):
    """Whether each scan reused the last outcome after unseen edits."""
    found = []
    original = engine._LastOutcome.unseen

    def noted(*args, **kwargs):
        result = original(*args, **kwargs)
        found.append(result)
        return result

    monkeypatch.setattr(engine._LastOutcome, "unseen", noted)
    return found


def results(root: Path, reuses=None):
    """The findings of a scan with the cache (checked against one without); reuses, when
    given, then holds True if that scan reused the last outcome."""
    if reuses is not None:
        reuses.clear()
    cached = scan([str(root)], jobs=1).result
    if reuses is not None:
        reuses[:] = [any(reuses)]
    fresh = scan([str(root)], jobs=1, use_cache=False).result
    assert (cached.findings, cached.errors) == (fresh.findings, fresh.errors)
    assert (cached.calls_resolved, cached.calls_unresolved) \
        == (fresh.calls_resolved, fresh.calls_unresolved)
    return [(f.rule, f.file, f.line) for f in cached.findings]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_an_unseen_edit_reuses_the_outcome_and_a_seen_one_changes_it(project, reuses):
    assert results(project, reuses) == []
    hooks = project / "pkg" / "hooks.py"

    append(hooks, "\n\ndef another(server):\n    return server.conn\n")
    assert results(project, reuses) == []
    assert reuses[0] is True

    # `on_start` is looked up: a second definition that hands the server to a thread
    # is seen, and makes the read of `conn` before `start()` assigns it a finding.
    append(hooks, "\n\ndef on_start(server):\n"
                  "    threading.Thread(target=server.serve).start()\n")
    assert results(project, reuses) == [("NIL001", "pkg/app.py", 15)]
    assert reuses[0] is False


def test_editing_a_function_the_analysis_read_runs_it_again(project, reuses):
    results(project, reuses)
    hooks = project / "pkg" / "hooks.py"
    hooks.write_text(HOOKS.replace("    pass\n", "    server.serve()\n"), encoding="utf-8")
    assert results(project, reuses) == [("NIL001", "pkg/app.py", 15)]
    assert reuses[0] is False

    # util.unused is never called (and util.py shows in no finding): its body is free
    # to change, lines and all; make's is not.
    util = project / "pkg" / "util.py"
    util.write_text(UTIL.replace("    return value\n", "    first = value\n\n    return first\n"),
                    encoding="utf-8")
    assert results(project, reuses) == [("NIL001", "pkg/app.py", 15)]
    assert reuses[0] is True
    util.write_text(UTIL.replace("    return object()\n", "    return None\n"),
                    encoding="utf-8")
    results(project, reuses)
    assert reuses[0] is False


def test_a_new_file_runs_the_analysis(project, reuses):
    results(project, reuses)
    (project / "pkg" / "extra.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    assert results(project, reuses) == []
    assert reuses[0] is False


def test_a_new_function_under_a_name_the_analysis_looked_up_is_seen(project, reuses):
    app = project / "pkg" / "app.py"
    app.write_text(APP.replace("hooks.on_start(self)", "hooks.on_ready(self)"), encoding="utf-8")
    assert results(project, reuses) == []  # hooks.on_ready is not there: nothing to follow
    append(project / "pkg" / "hooks.py", "\n\ndef on_ready(server):\n"
                                         "    threading.Thread(target=server.serve).start()\n")
    assert results(project, reuses) == [("NIL001", "pkg/app.py", 15)]
    assert reuses[0] is False


def test_nothing_is_unseen_by_an_analysis_that_listed_every_function():
    new = MODULE + "\n\ndef added():\n    return 2\n"
    assert edited(MODULE, new, seen(asked={("", "*")})) == "the analysis listed every function"


def test_the_index_notes_what_it_is_asked():
    from nilcheck.linter.footprint import footprint
    from nilcheck.linter.index import ProjectIndex

    index = ProjectIndex([facts(MODULE)])
    assert footprint(index, ()) == seen()
    index.global_binds("pkg.mod").get("helper")
    assert "tail#1" in index.binds("pkg.mod.<module>")  # a version of the global
    "pkg.mod.gone" in index.functions
    index.function("pkg.mod.helper")
    index.binds("pkg.mod.helper").get("x")  # a function's own locals: not the module's
    assert footprint(index, {"pkg/mod.py"}) == seen(
        read={"pkg.mod.<module>", "pkg.mod.helper"},  # the globals are the body's binds
        asked={("pkg.mod", "helper"), ("pkg.mod", "tail"), ("", "pkg.mod.gone"),
               ("", "pkg.mod.<module>")},
        shown={"pkg/mod.py"})
    list(index.global_binds("pkg.mod").items())
    list(index.functions)
    assert {("pkg.mod", "*"), ("", "*")} <= footprint(index, ()).asked
