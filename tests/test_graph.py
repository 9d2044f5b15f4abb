"""`nilcheck graph`: the call graph the analysis used, in every format, from the entry
points, from --entry, or from every function."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from nilcheck.linter import cli

PROJECT = {
    "pyproject.toml": """
        [project]
        name = "app"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["app.main:main"]
        """,
    "app/__init__.py": "",
    "app/main.py": """
        import threading

        from app.worker import Worker


        def helper():
            return len([1])


        def unused():
            helper()


        def main():
            worker = Worker()
            helper()
            threading.Thread(target=worker.run).start()
            worker.client.send()
        """,
    "app/worker.py": """
        class Worker:
            def __init__(self):
                self.client = make_client()

            def run(self):
                self.step()

            def step(self, job=None):
                job.execute()
        """,
}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for relative, text in PROJECT.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def graph(project: Path, *args: str):
    result = CliRunner().invoke(cli.main, ["graph", str(project), "--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_lists_calls_spawns_and_external_calls_from_the_entry(project):
    code, out, _ = graph(project)
    assert code == 0
    document = json.loads(out)
    assert document["roots"] == ["app.main.main"]
    edges = {(e["caller"], e["callee"], e["kind"]) for e in document["edges"]}
    assert ("app.main.main", "app.worker.Worker.__init__", "call") in edges
    assert ("app.main.main", "app.main.helper", "call") in edges
    assert ("app.main.main", "app.worker.Worker.run", "spawn") in edges
    assert ("app.worker.Worker.run", "app.worker.Worker.step", "call") in edges
    assert ("app.main.helper", "<builtin>.len", "call") in edges
    # Not reached from the entry point.
    assert not any(e["caller"] == "app.main.unused" for e in document["edges"])
    call = next(e for e in document["edges"] if e["callee"] == "app.main.helper")
    assert (call["file"], call["line"], call["external"]) == ("app/main.py", 16, False)


def test_unresolved_calls_are_listed_and_counted(project):
    # `job` holds nothing (no caller passes one); make_client, a name the project does
    # not define, is taken to be outside it (a builtin, a star import), like `len`.
    code, out, _ = graph(project, "--unresolved", "--format", "json")
    unresolved = json.loads(out)["unresolved"]
    assert [(u["file"], u["line"], u["call"]) for u in unresolved] == [
        ("app/worker.py", 9, "job.execute()")]
    _, text, _ = graph(project, "--unresolved", "--format", "dot")
    assert text == "app/worker.py:9: job.execute()  (in app.worker.Worker.step)\n"
    summary = json.loads(graph(project)[1])["summary"]
    assert summary["calls_unresolved"] == 1 and summary["calls_resolved"] >= 6


def test_all_starts_from_every_function_in_pycg_format(project):
    code, out, _ = graph(project, "--all", "--format", "pycg")
    assert code == 0
    calls = json.loads(out)
    assert calls["app.main.unused"] == ["app.main.helper"]
    assert "app.worker.Worker.step" in calls["app.worker.Worker.run"]
    # Module-level code is named by its module; spawns are not calls.
    assert "app.main" in calls and "app.worker" in calls
    assert "app.worker.Worker.run" not in calls["app.main.main"]


def test_entry_option_overrides_the_configured_entry_points(project):
    _, out, _ = graph(project, "--entry", "app.main:unused")
    document = json.loads(out)
    assert document["roots"] == ["app.main.unused"]
    assert {e["caller"] for e in document["edges"]} == {"app.main.unused", "app.main.helper"}


def test_dot_and_mermaid_draw_spawns_dashed(project):
    _, dot, _ = graph(project, "--format", "dot")
    assert dot.startswith("digraph nilcheck {")
    assert '"app.main.main" -> "app.worker.Worker.run" [style=dashed, label=spawn];' in dot
    _, mermaid, _ = graph(project, "--format", "mermaid")
    assert mermaid.startswith("flowchart LR")
    assert "-.->|spawn|" in mermaid and "-->" in mermaid


def test_output_is_deterministic_and_can_go_to_a_file(project, tmp_path):
    first = graph(project, "--format", "json")[1]
    target = tmp_path / "graph.json"
    code, out, _ = graph(project, "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8") == first


def test_bad_arguments_are_one_line_and_exit_2(project):
    code, _, err = graph(project, "--all", "--entry", "app.main:main")
    assert code == 2 and err.count("\n") == 1 and "mutually exclusive" in err
    code, _, err = graph(project, "--entry", "app.main:nothing")
    assert code == 2 and "does not resolve" in err and "Traceback" not in err


def test_scan_json_summary_counts_the_calls_it_followed(project):
    result = CliRunner().invoke(cli.main, ["scan", str(project), "--no-cache", "--format",
                                           "json"])
    summary = json.loads(result.stdout)["summary"]
    assert summary["calls_unresolved"] == 1
    assert summary["calls_resolved"] >= 6


def test_all_runs_a_called_function_with_what_its_callers_pass(tmp_path):
    (tmp_path / "tables.py").write_text(textwrap.dedent("""\
        def a():
            pass

        def b():
            pass

        TABLE = [a, b]

        def pick(i):
            TABLE[i]()

        def lone(i):
            TABLE[i]()

        pick(1)
        """), encoding="utf-8")
    code, out, _ = graph(tmp_path, "--all", "--format", "pycg")
    assert code == 0
    calls = json.loads(out)
    # pick is called with 1 only; lone by nothing, so by anyone: with any index.
    assert calls["tables.pick"] == ["tables.b"]
    assert calls["tables.lone"] == ["tables.a", "tables.b"]
    assert calls["tables"] == ["tables.pick"]
