"""`nilcheck why FIELD`: the scan's verdict on every read of one field, with the reason.

Small projects written to tmp_path; each read the tests ask about is marked in the
source with `# <- verdict` so that a reader sees what is expected where.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Dict

import pytest
from click.testing import CliRunner

from nilcheck.linter import cli

# One project for most verdicts of `Client.conn` (late: None until connect()).
CLIENTS = {
    "pyproject.toml": """
        [project]
        name = "app"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["app.server:main"]
        """,
    "app/__init__.py": "",
    "app/client.py": """
        class Client:
            def __init__(self):
                self.conn = None

            def connect(self, conn):
                self.conn = conn

            def on_event(self):
                self.conn.send("event")  # <- reported

            def checked(self):
                if self.conn is not None:
                    self.conn.send("checked")  # <- guarded

            def protected(self):
                try:
                    self.conn.send("protected")  # <- guarded
                except AttributeError:
                    pass

            def after_connect(self, conn):
                self.connect(conn)
                self.conn.send("after")  # <- initialized-before

            def assigned_here(self, conn):
                self.conn = conn
                self.conn.send("assigned")  # <- initialized-before

            def twice(self):
                self.conn.send("one")
                self.conn.send("two")  # <- not-reported

            def on_message(self):
                self.conn.close()  # <- unreachable
        """,
    "app/server.py": """
        import threading

        from app.client import Client


        def main(name):
            client = Client()
            threading.Thread(target=client.on_event).start()
            client.checked()
            client.protected()
            getattr(client, name)()
            client.after_connect(object())
            client.connect(object())
            client.assigned_here(object())
            client.twice()
            use(client)


        def use(client):
            client.conn.flush()  # <- initialized-before (through another object)
        """,
    "app/other.py": """
        class Client:
            def __init__(self):
                self.conn = object()
        """,
}

FLAGS = {
    "pyproject.toml": """
        [project]
        name = "draw"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["draw.turtle:demo"]
        """,
    "draw/__init__.py": "",
    "draw/turtle.py": """
        class Turtle:
            def __init__(self):
                self._poly = None
                self._creating_poly = False

            def begin_poly(self):
                self._poly = [(0, 0)]
                self._creating_poly = True

            def goto(self, x, y):
                if self._creating_poly:
                    self._poly.append((x, y))  # <- guarded (flag)


        def demo():
            t = Turtle()
            t.goto(1, 1)
            t.begin_poly()
            t.goto(2, 2)
        """,
}

UNSEEN = {
    "pyproject.toml": """
        [project]
        name = "handlers"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["handlers.jobs:handle"]
        """,
    "handlers/__init__.py": "",
    "handlers/jobs.py": """
        class Session:
            def __init__(self):
                self.transport = None

            def open(self, transport) -> None:
                self.transport = transport

            def send(self, data: bytes) -> None:
                self.transport.write(data)  # <- escape


        def handle(session: Session, payload: bytes) -> None:
            session.send(payload)
        """,
}

CONSTRUCTION = {
    "pyproject.toml": """
        [project]
        name = "shipper"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["shipper.cli:main"]
        """,
    "shipper/__init__.py": "",
    "shipper/cli.py": """
        from shipper.batcher import Batcher


        def main():
            batcher = Batcher()
            batcher.add("line")
        """,
    "shipper/batcher.py": """
        import queue
        import threading


        class Batcher:
            def __init__(self):
                threading.Thread(target=self._flush, daemon=True).start()
                self.lines = queue.Queue()

            def add(self, line):
                self.lines.put(line)  # <- initialized-before (constructor)

            def _flush(self):
                self.lines.get()  # <- reported NIL002
        """,
}

NEVER_BOUND = {
    "pyproject.toml": """
        [project]
        name = "exporter"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["exporter.main:main"]
        """,
    "exporter/__init__.py": "",
    "exporter/main.py": """
        from exporter.exporter import Exporter


        def main():
            exporter = Exporter()
            exporter.start()
        """,
    "exporter/exporter.py": """
        import threading


        class Exporter:
            def __init__(self):
                self.sink = None
                self.interval = 10

            def bind(self, sink):
                self.sink = sink

            def start(self):
                threading.Thread(target=self._push, daemon=True).start()

            def _push(self):
                print(self.interval)  # <- initialized-before
                self.sink.push([])  # <- reported NIL003
        """,
}

PRELUDE = {
    "pyproject.toml": """
        [project]
        name = "mon"
        version = "0.1.0"

        [tool.nilcheck]
        entry-points = ["mon.main:main"]
        """,
    "mon/__init__.py": "",
    "mon/main.py": """
        class Monitor:
            def __init__(self):
                self.conn = None

            def setup(self):
                self.config = {}

            def connect(self):
                self.conn = object()

            def check(self):
                if self.config:  # <- not-reported (a load on plain calls)
                    pass

            def send(self):
                self.conn.send()  # <- initialized-before (at import)


        MONITOR = Monitor()
        MONITOR.connect()


        def main():
            m = Monitor()
            m.check()
            m.setup()
            MONITOR.send()
        """,
}


def write(root: Path, files: Dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def why(project: Path, *args: str):
    result = CliRunner().invoke(cli.main, ["why", *args[:1], str(project), "--no-cache",
                                           *args[1:]])
    return result.exit_code, result.stdout, result.stderr


def story(project: Path, field: str, *args: str) -> dict:
    code, out, err = why(project, field, "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def reads_by_line(document: dict, file: str) -> Dict[int, dict]:
    found: Dict[int, dict] = {}
    for read in document["reads"]:
        if read["file"] == file:
            assert read["line"] not in found, f"two reads judged on line {read['line']}"
            found[read["line"]] = read
    return found


def line_of(files: Dict[str, str], relative: str, text: str) -> int:
    """The line of the file that holds text."""
    lines = textwrap.dedent(files[relative]).lstrip("\n").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def marked(files: Dict[str, str], relative: str) -> Dict[int, str]:
    """Line -> the verdict a `# <- verdict` comment expects there."""
    lines = textwrap.dedent(files[relative]).lstrip("\n").splitlines()
    return {number: line.split("# <- ")[1].split()[0]
            for number, line in enumerate(lines, 1) if "# <- " in line}


@pytest.fixture(scope="module")
def clients(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("clients"), CLIENTS)


@pytest.fixture(scope="module")
def clients_story(clients) -> dict:
    return story(clients, "app.client:Client.conn")


@pytest.mark.parametrize("relative", ["app/client.py", "app/server.py"])
def test_every_marked_read_gets_its_verdict(clients_story, relative):
    reads = reads_by_line(clients_story, relative)
    expected = marked(CLIENTS, relative)
    assert expected
    assert {line: reads[line]["verdict"] for line in expected} == expected


def test_read_through_another_object_names_the_initializer_that_ran(clients_story):
    read = reads_by_line(clients_story, "app/server.py")[
        line_of(CLIENTS, "app/server.py", "client.conn.flush()")]
    assert read["function"] == "app.server.use"
    assert "`app.server.main` calls `app.client.Client.after_connect()` first " \
        "(at app/server.py:12)" in read["reason"]


def test_field_is_late_with_where_it_is_none_and_what_assigns_it(clients_story):
    assert clients_story["version"] == 1
    assert clients_story["field"] == "app.client.Client.conn"
    assert clients_story["late"] is True
    assert clients_story["unset_at"] == [{
        "file": "app/client.py", "line": 3, "function": "app.client.Client.__init__",
        "how": "None (`self.conn = None` in `Client.__init__`)"}]
    assert {(i["function"], i["line"], i["reached"]) for i in clients_story["initializers"]} \
        == {("app.client.Client.connect", 6, True),
            ("app.client.Client.assigned_here", 26, True)}


def test_reported_read_has_the_rule_and_the_trace_of_the_scan(clients, clients_story):
    read = reads_by_line(clients_story, "app/client.py")[9]
    scan = CliRunner().invoke(cli.main, ["scan", str(clients), "--no-cache", "--format", "json"])
    finding = json.loads(scan.stdout)["findings"][0]
    assert (finding["file"], finding["line"]) == ("app/client.py", 9)
    assert read["rule"] == finding["rule"] == "NIL001"
    assert read["trace"] == finding["trace"]
    assert read["reason"] == finding["message"]
    assert [step["kind"] for step in read["trace"]] == ["entry", "spawn", "read"]


def test_reasons_say_which_guard_or_initializer(clients_story):
    reads = reads_by_line(clients_story, "app/client.py")
    # The guard is named by its line: `if self.conn is not None:` just above the read.
    assert "the check of `conn` at app/client.py:12" in reads[13]["reason"]
    assert "AttributeError" in reads[17]["reason"]
    assert "calls `app.client.Client.connect()` first (at app/client.py:22)" \
        in reads[23]["reason"]
    assert "assigns it first (at app/client.py:26)" in reads[27]["reason"]
    assert "earlier read" in reads[31]["reason"] and "app/client.py:30" in reads[31]["reason"]
    # Only reported reads carry a rule and a trace.
    assert all("rule" not in reads[line] and "trace" not in reads[line]
               for line in (13, 17, 23, 27, 31, 34))


def test_unreachable_read_names_the_unresolved_call_that_may_reach_it(clients_story):
    read = reads_by_line(clients_story, "app/client.py")[34]
    assert read["function"] == "app.client.Client.on_message"
    assert "no entry point reaches `app.client.Client.on_message`" in read["reason"]
    assert "`getattr(...)()` at app/server.py:11" in read["reason"]


def test_presence_read_is_judged_too(clients_story):
    # `if self.conn is not None` only loads the attribute, which the constructor creates.
    read = reads_by_line(clients_story, "app/client.py")[12]
    assert read["verdict"] == "initialized-before"
    assert "`app.client.Client.__init__()`" in read["reason"]
    assert "creates the attribute" in read["reason"]


def test_json_is_sorted_and_byte_identical(clients):
    first = why(clients, "app.client:Client.conn", "--format", "json")[1]
    second = why(clients, "app.client:Client.conn", "--format", "json")[1]
    assert first == second
    reads = json.loads(first)["reads"]
    keys = [(r["file"], r["line"], r["column"], r["function"]) for r in reads]
    assert keys == sorted(keys)
    assert set(reads[0]) >= {"file", "line", "column", "function", "verdict", "reason"}


def test_text_format_is_one_line_per_read_and_the_trace(clients):
    code, out, _ = why(clients, "app.client:Client.conn")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("app.client.Client.conn: late: ")
    assert "app/client.py:9:9: reported NIL001 in app.client.Client.on_event: " \
        "`Client.conn` is read before" in out
    assert "    app/server.py:8: spawn  app.client.Client.on_event" in lines
    assert any(line.startswith("app/client.py:34:9: unreachable in ") for line in lines)
    assert "    initializer: app/client.py:6: app.client.Client.connect" in out


def test_suppressed_finding_is_not_reported_and_says_so(tmp_path):
    files = dict(CLIENTS)
    files["app/client.py"] = files["app/client.py"].replace(
        '"event")  # <- reported', '"event")  # nilcheck: ignore[NIL001]')
    document = story(write(tmp_path, files), "app.client:Client.conn")
    read = reads_by_line(document, "app/client.py")[9]
    assert read["verdict"] == "not-reported"
    assert "suppressed by the `# nilcheck: ignore` comment on line 9" in read["reason"]


def test_rule_not_selected_is_not_reported(tmp_path):
    files = dict(CLIENTS)
    files["pyproject.toml"] += '        select = ["NIL002"]\n'
    read = reads_by_line(story(write(tmp_path, files), "app.client:Client.conn"),
                         "app/client.py")[9]
    assert read["verdict"] == "not-reported"
    assert read["reason"].startswith("NIL001: the rule is not selected")


def test_entry_option_changes_what_is_reachable(clients):
    document = story(clients, "app.client:Client.conn", "--entry", "app.client:Client.on_message")
    reads = reads_by_line(document, "app/client.py")
    assert reads[34]["verdict"] == "reported"
    assert reads[9]["verdict"] == "unreachable"


def test_flag_only_set_with_the_field_guards_it(tmp_path):
    document = story(write(tmp_path, FLAGS), "Turtle._poly")
    read = reads_by_line(document, "draw/turtle.py")[
        line_of(FLAGS, "draw/turtle.py", "# <- guarded")]
    assert read["verdict"] == "guarded"
    assert "flag `Turtle._creating_poly`" in read["reason"]


def test_receiver_from_unseen_code_is_an_escape(tmp_path):
    document = story(write(tmp_path, UNSEEN), "Session.transport")
    read = reads_by_line(document, "handlers/jobs.py")[
        line_of(UNSEEN, "handlers/jobs.py", "# <- escape")]
    assert read["verdict"] == "escape"
    assert "history of `Session` objects is unknown" in read["reason"]
    assert document["initializers"] == [{"function": "handlers.jobs.Session.open",
                                         "file": "handlers/jobs.py", "line": 6,
                                         "reached": False}]


def test_construction_race_is_reported_and_later_reads_are_initialized(tmp_path):
    document = story(write(tmp_path, CONSTRUCTION), "Batcher.lines")
    reads = reads_by_line(document, "shipper/batcher.py")
    race = reads[line_of(CONSTRUCTION, "shipper/batcher.py", "# <- reported")]
    assert race["verdict"] == "reported" and race["rule"] == "NIL002"
    later = reads[line_of(CONSTRUCTION, "shipper/batcher.py", "# <- initialized")]
    assert later["verdict"] == "initialized-before"
    assert "`shipper.batcher.Batcher.__init__()` first (at shipper/cli.py:5)" \
        in later["reason"]
    # The constructor assigns it, so it is not late (NIL001's sense).
    assert document["late"] is False
    assert document["reason"].startswith("not late: the constructor assigns")
    assert document["unset_at"] == []


def test_never_called_initializer_is_nil003(tmp_path):
    project = write(tmp_path, NEVER_BOUND)
    document = story(project, "Exporter.sink")
    read = reads_by_line(document, "exporter/exporter.py")[
        line_of(NEVER_BOUND, "exporter/exporter.py", "# <- reported")]
    assert (read["verdict"], read["rule"]) == ("reported", "NIL003")
    assert document["initializers"][0]["reached"] is False
    # A field the constructor gives a real value: not late, and set before any read.
    interval = story(project, "Exporter.interval")
    assert interval["late"] is False and interval["unset_at"] == []
    read = reads_by_line(interval, "exporter/exporter.py")[
        line_of(NEVER_BOUND, "exporter/exporter.py", "# <- initialized")]
    assert read["verdict"] == "initialized-before"
    assert "`exporter.exporter.Exporter.__init__()` first (at exporter/main.py:5)" \
        in read["reason"]


@pytest.mark.parametrize("field, message", [
    ("Client.nope", "field 'Client.nope': 'nope' is not a field of app.client:Client, "
                    "app.other:Client"),
    ("Missing.conn", "field 'Missing.conn': no class 'Missing' among the analysed files"),
    ("app.client:Client.connect", "'connect' is a method of app.client:Client"),
    ("app.nowhere:Client.conn", "no module 'app.nowhere' among the analysed files"),
    ("conn", "expected 'module:Class.attr' or 'Class.attr'"),
    ("Client.conn", "field 'Client.conn' is ambiguous: it may be app.client:Client.conn, "
                    "app.other:Client.conn"),
])
def test_unknown_or_ambiguous_field_is_one_line_and_exit_2(clients, field, message):
    code, out, err = why(clients, field)
    assert code == 2
    assert out == ""
    assert err.startswith("nilcheck: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_missing_path_is_exit_2(tmp_path):
    code, _, err = why(tmp_path / "nowhere", "Client.conn")
    assert code == 2 and "does not exist" in err


def test_presence_read_on_plain_calls_is_dropped_with_the_scans_reason(tmp_path):
    document = story(write(tmp_path, PRELUDE), "Monitor.config")
    assert document["late"] is True
    assert document["unset_at"][0]["how"] == "missing (the constructor never assigns `config`)"
    read = reads_by_line(document, "mon/main.py")[
        line_of(PRELUDE, "mon/main.py", "# <- not-reported")]
    assert read["verdict"] == "not-reported"
    assert read["reason"].startswith("only loads `config`")


def test_field_set_while_modules_are_imported_is_initialized_before_the_entry(tmp_path):
    document = story(write(tmp_path, PRELUDE), "Monitor.conn")
    read = reads_by_line(document, "mon/main.py")[
        line_of(PRELUDE, "mon/main.py", "# <- initialized-before")]
    assert read["verdict"] == "initialized-before"
    assert "before the entry point (`mon.main.<module>`)" in read["reason"]


def test_class_level_none_and_a_never_called_lazy_initializer():
    fixture = Path(__file__).parent / "fixtures" / "NIL003" / "lazy_initializer_never_called"
    document = story(fixture, "rpc.client:Channel._protocol")
    assert document["late"] is True
    assert [(u["line"], u["how"]) for u in document["unset_at"]] == [
        (8, "None (class-level `_protocol = None` in `Channel`)")]
    assert document["initializers"] == [{"function": "rpc.client.Channel.__connect__",
                                         "file": "rpc/client.py", "line": 16,
                                         "reached": False}]
    verdicts = {(r["line"], r["verdict"], r.get("rule")) for r in document["reads"]}
    assert verdicts == {(15, "unreachable", None), (18, "unreachable", None),
                        (25, "reported", "NIL003")}


def test_field_the_constructor_assigns_only_with_an_argument_is_late():
    fixture = Path(__file__).parent / "fixtures" / "NIL001" / "method_entry_default_arguments"
    document = story(fixture, "ext.api:Api.blueprint")
    assert document["late"] is True
    assert document["unset_at"][0]["how"] == \
        "missing (the constructor does not always assign `blueprint`)"
    assert [i["function"] for i in document["initializers"]] == ["ext.api.Api.init_app"]
    reads = reads_by_line(document, "ext/api.py")
    assert (reads[18]["verdict"], reads[18]["rule"]) == ("reported", "NIL001")
    assert reads[19]["verdict"] == "guarded"


OMITTED = {
    "pyproject.toml": """
        [tool.nilcheck]
        entry-points = ["store.main:main"]
        """,
    "store/__init__.py": "",
    "store/main.py": """
        class Cache:
            def __init__(self):
                self.items = None

            def load(self):
                self.items = {"k": 1}

            def get(self, key=None):
                if key is None:
                    return 0
                return self.items.get(key)  # <- verdict


        def main():
            cache = Cache()
            print(cache.get())
            {later}
        """,
}


@pytest.mark.parametrize("later, verdict, words", [
    ("cache.load(); print(cache.get('k'))", "initialized-before", "calls"),
    ("print(len('only the default'))", "not-reported", "leave out `key`"),
])
def test_a_branch_only_calls_with_the_argument_take(tmp_path, later, verdict, words):
    files = dict(OMITTED, **{"store/main.py": OMITTED["store/main.py"].replace(
        "{later}", later)})
    project = write(tmp_path, files)
    line = line_of(files, "store/main.py", "# <- verdict")
    read = reads_by_line(story(project, "store.main:Cache.items"), "store/main.py")[line]
    assert read["verdict"] == verdict
    assert words in read["reason"]
