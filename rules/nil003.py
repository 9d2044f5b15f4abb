"""NIL003: a late field is read on a startup path, but the method that would initialize
it is never called anywhere in the project.

The example projects below are run by tests/test_rule_examples.py: valid ones must give
no findings, invalid ones exactly the lines marked `# expect: NIL003`.
"""
from __future__ import annotations


from nilcheck.rules import Rule, example_project as _project


DOCS = """\
## What it does
Finds a late field (one that is still `None` when its object's constructor returns)
that is dereferenced on a path from an entry point, while no method that would give it
its value — a method of the class or a subclass that unconditionally assigns it
something other than `None` — is named anywhere in the project: none is called, passed
as a callback, or looked up with `getattr(obj, "name")`.

It is reported only when no code outside the project could call that method either:
every base class of the field's class is defined in the project. A method of a subclass
of `asyncio.Protocol`, `socketserver.BaseRequestHandler`, `threading.Thread` or any other
library class may be a hook the library calls (`connection_made`, `setup`, `run`), so
those are left alone.

## Why is this bad?
The read cannot succeed: on every run it finds `None` and raises
`AttributeError: 'NoneType' object has no attribute ...`. This is what a refactoring
leaves behind when it renames or removes the call to an initializer (`repo.open()`,
`client.connect()`), or when a new entry point (a CLI command, a worker) forgets the
set-up step the old one performed.

## Example
```python
class Repository:
    def __init__(self, path):
        self.path = path
        self.conn = None

    def open(self):  # never called
        self.conn = sqlite3.connect(self.path)

    def count(self):
        return self.conn.execute("select count(*) from items").fetchone()  # NIL003


def main():
    print(Repository("app.db").count())
```

## Use instead
Give the field its value in the constructor, so there is nothing to forget:
```python
class Repository:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
```
If opening must be deferred, call the initializer on every path before the read
(`repo = Repository(path); repo.open()`), or open lazily where the field is used
(`if self.conn is None: self.open()`).

## Known problems
- "Named in the project" is judged by name, not by resolution: any call or reference to
  a method of the same name, on any object, counts as a possible call, so a forgotten
  initializer with a common name (`open`, `start`) is missed when something else of that
  name is called.
- A method invoked through a name computed at run time — `getattr(self, "on_" + event)`,
  a name taken from a string table or a configuration file, `operator.methodcaller(name)` —
  is not seen as called, and its field is reported although the initializer does run.
  Suppress the finding with `# nilcheck: ignore[NIL003]`, or call it by name.
  (`getattr(obj, "literal")` with a string literal is understood.)
- Code outside the scanned project (a plugin host, a test harness, a framework that
  imports your module and calls methods by convention) is not seen: if it calls the
  initializer on a class whose bases are all in the project, the finding is wrong.
- The initializer must assign the field unconditionally (not inside an `if`), else it is
  not known to establish the field.

## Options
No options of its own. `entry-points` decide which reads are on a startup path; an
initializer that a configured entry point runs makes the field late rather than never
initialized, and NIL001 then checks the order instead.
"""


VALID = (
    # The initializer is called before the read.
    _project(
        "app.main:main",
        """\
        import sqlite3


        class Repository:
            def __init__(self, path):
                self.path = path
                self.conn = None

            def open(self):
                self.conn = sqlite3.connect(self.path)

            def count(self):
                return self.conn.execute("select count(*) from items").fetchone()


        def main():
            repo = Repository("app.db")
            repo.open()
            print(repo.count())
        """,
    ),
    # A hook of a library base class: asyncio calls connection_made() itself.
    _project(
        "app.main:main",
        """\
        import asyncio


        class LineProtocol(asyncio.Protocol):
            def __init__(self):
                self.transport = None

            def connection_made(self, transport):
                self.transport = transport

            def send_line(self, line: str):
                self.transport.write(line.encode() + b"\\n")


        def main():
            protocol = LineProtocol()
            protocol.send_line("hello")
        """,
    ),
    # Looked up with getattr and a string literal: that names the initializer.
    _project(
        "app.main:main",
        """\
        class Cache:
            def __init__(self):
                self.entries = None

            def warm(self):
                self.entries = {"greeting": "hello"}

            def lookup(self, key):
                return self.entries.get(key)


        def main():
            cache = Cache()
            getattr(cache, "warm")()
            print(cache.lookup("greeting"))
        """,
    ),
)


INVALID = (
    # The call to open() was lost in a refactoring: the read always finds None.
    _project(
        "app.main:main",
        """\
        import sqlite3


        class Repository:
            def __init__(self, path):
                self.path = path
                self.conn = None

            def open(self):
                self.conn = sqlite3.connect(self.path)

            def count(self):
                return self.conn.execute("select count(*) from items").fetchone()  # expect: NIL003


        def main():
            repo = Repository("app.db")
            print(repo.count())
        """,
    ),
    # The read runs in a thread; the initializer that would set the field is never called.
    _project(
        "app.main:Exporter.start",
        """\
        import threading

        from app.sink import Sink


        class Exporter:
            def __init__(self, url):
                self.url = url
                self.sink = None

            def bind(self):
                self.sink = Sink(self.url)

            def start(self):
                threading.Thread(target=self._export, daemon=True).start()

            def _export(self):
                self.sink.push({"metric": "up", "value": 1})  # expect: NIL003
        """,
        extra={
            "app/sink.py": """\
            class Sink:
                def __init__(self, url):
                    self.url = url

                def push(self, sample):
                    print(self.url, sample)
            """,
        },
    ),
    # A base class in the project declares the field; its initializer is never called,
    # so a subclass reading it always finds None.
    _project(
        "app.main:main",
        """\
        class Plugin:
            def __init__(self):
                self.settings = None

            def configure(self, settings: dict):
                self.settings = dict(settings)


        class Greeter(Plugin):
            def greet(self, name):
                return self.settings.get("greeting", "hello") + " " + name  # expect: NIL003


        def main():
            print(Greeter().greet("world"))
        """,
    ),
)


RULE = Rule(
    code="NIL003",
    name="field-initializer-never-called",
    summary="A field that is None after construction is read, and the method that would initialize it is never called",
    severity="error",
    docs=DOCS,
    valid=VALID,
    invalid=INVALID,
)
