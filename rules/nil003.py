"""NIL003: a late field is read on a startup path, but no path from an entry point calls
the method that would initialize it.

The example projects below are run by tests/test_rule_examples.py: valid ones must give
no findings, invalid ones exactly the lines marked `# expect: NIL003`.
"""
from __future__ import annotations


from nilcheck.rules import Rule, example_project as _project


DOCS = """\
## What it does
Finds a late field (one that is still `None` when its object's constructor returns)
that is dereferenced on a path from an entry point, while no path from any entry point
calls a method that would give it its value: a method of the class or a subclass that
unconditionally assigns it something other than `None`. Calls are found by following
values (which object each call really reaches), not by method names, so a
`thread.start()` elsewhere does not hide a forgotten `Client.start()`.

It is reported only when the analysis knows the object's whole history:
- every base class of the field's class is defined in the project. A method of a
  subclass of `asyncio.Protocol`, `socketserver.BaseRequestHandler`, `threading.Thread`
  or any other library class may be a hook the library calls (`connection_made`,
  `setup`, `run`);
- no instance of the class, nor the class itself, is handed to code the analysis does
  not follow: an argument of a library call (other than inspection such as `print`,
  `logging` or `copy`), of a call it cannot resolve, or `getattr`/`setattr` with a
  computed name. That code could call the initializer;
- the class is not built by machinery that can run code at construction (a metaclass,
  a class decorator, `__new__`), and no analysed code outside the initializer assigns the
  field a value (`repo.conn = connect()`).
- no initializer is a dunder method (`__enter__`, `__call__`): Python calls those
  implicitly.

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
- A method invoked through a name computed at run time on an object the analysis still
  follows — `operator.methodcaller(name)(obj)`, a method looked up on the class's
  `__dict__` — is not seen as called. (`getattr(obj, name)` with a computed name counts as
  an escape, and `getattr(obj, "literal")` is understood.)
- Code outside the scanned project (a plugin host, a test harness, a framework that
  imports your module and calls methods by convention) is not seen: if it calls the
  initializer on an object it was never handed, the finding is wrong. Add that code's
  entry point to `entry-points`, or suppress with `# nilcheck: ignore[NIL003]`.
- An initializer called only on paths that no entry point reaches (a management command
  nobody configured) is "not called": configure the entry point that calls it.
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
    # Handed to a library that may call any of its methods: the analysis cannot tell.
    _project(
        "app.main:main",
        """\
        import pluggy_host


        class Journal:
            def __init__(self):
                self.handle = None

            def open(self):
                self.handle = open("journal.log", "a")

            def write(self, line):
                self.handle.write(line)


        def main():
            journal = Journal()
            pluggy_host.register(journal)  # may call journal.open()
            journal.write("started")
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
    # Another object's start() is called, not this one's: methods are matched by the
    # object that receives the call, not by name.
    _project(
        "app.main:main",
        """\
        import socket
        import threading


        class Client:
            def __init__(self, host):
                self.host = host
                self.sock = None

            def start(self):
                self.sock = socket.create_connection((self.host, 7000))

            def send(self, data: bytes):
                self.sock.sendall(data)  # expect: NIL003


        def main():
            threading.Thread(target=print, args=("ready",)).start()
            Client("localhost").send(b"hello")
        """,
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
    summary="A field that is None after construction is read, and no path from an entry point calls the method that would initialize it",
    severity="error",
    docs=DOCS,
    valid=VALID,
    invalid=INVALID,
)
