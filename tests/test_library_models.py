"""Every entry of the library model table (models.LIBRARY_CALLBACKS) does what it says
on a small project that uses the library as its documentation shows: a "thread"
callback registered in a constructor runs while the constructor still runs (NIL002
when it reads a field assigned further down); a "sync" caller runs the callable
inside the call (an initializer passed to it has run before the next statement)."""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from nilcheck.linter.api import scan
from nilcheck.linter.models import LIBRARY_CALLBACKS


def _call(dotted: str, callback: str) -> tuple:
    """(import line, call expression) invoking dotted with callback as its argument:
    a method of a library class is called on an instance of it."""
    parts = dotted.split(".")
    owner = next((i for i, part in enumerate(parts[:-1]) if part[:1].isupper()), None)
    if owner is not None and owner < len(parts) - 1:
        module, klass, method = ".".join(parts[:owner]), parts[owner], ".".join(parts[owner + 1:])
        return f"from {module} import {klass}", f"{klass}().{method}({callback})"
    module = ".".join(parts[:-1])
    return f"import {module}", f"{dotted}({callback})"


def _project(root: Path, main: str) -> list:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(dedent(main))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\n\n'
        '[tool.nilcheck]\nentry-points = ["app.main:main"]\n')
    return scan([str(root)]).result.findings


THREAD_PROGRAM = """\
        {imported}


        class Node:
            def __init__(self):
                {call}
                self.handler = object()

            def _on_event(self, *args):
                self.handler.process(args)


        def main():
            Node()
        """


@pytest.mark.parametrize("dotted", sorted(n for n, w in LIBRARY_CALLBACKS.items() if w == "thread"))
def test_thread_callbacks_run_during_construction(tmp_path: Path, dotted: str):
    imported, call = _call(dotted, "self._on_event")
    findings = _project(tmp_path, THREAD_PROGRAM.format(imported=imported, call=call))
    assert [(f.rule, f.line, f.field) for f in findings] == [
        ("NIL002", 10, "app.main.Node.handler")], dotted


def test_an_unmodelled_registration_runs_after_the_constructor(tmp_path: Path):
    # The control: a library the table does not know runs the callback later, on the
    # caller's loop, after the constructor has returned.
    imported, call = _call("scheduling.later", "self._on_event")
    assert _project(tmp_path, THREAD_PROGRAM.format(imported=imported, call=call)) == []


SYNC_PROGRAM = """\
        {imported}


        class Node:
            def __init__(self):
                self.conn = None

            def setup(self, *args):
                self.conn = object()

            def send(self):
                self.conn.write(b"x")


        def main():
            node = Node()
            {call}
            node.send()
        """


@pytest.mark.parametrize("dotted", sorted(n for n, w in LIBRARY_CALLBACKS.items() if w == "sync"))
def test_sync_callers_run_the_callable_inside_the_call(tmp_path: Path, dotted: str):
    imported, call = _call(dotted, "node.setup")
    assert _project(tmp_path, SYNC_PROGRAM.format(imported=imported, call=call)) == [], dotted


def test_an_unmodelled_library_call_defers_the_callable(tmp_path: Path):
    # The control for the test above: the same program, but the library is unknown, so
    # setup() may run only later and send() reads the field first.
    imported, call = _call("scheduling.later", "node.setup")
    findings = _project(tmp_path, SYNC_PROGRAM.format(imported=imported, call=call))
    assert [(f.rule, f.line) for f in findings] == [("NIL001", 12)]
