"""NIL002: a callback, thread or overridable method reads a field while the constructor
that registered or called it has not assigned that field yet.

The example projects below are run by tests/test_rule_examples.py: valid ones must give
no findings, invalid ones exactly the lines marked `# expect: NIL002`.
"""
from __future__ import annotations


from nilcheck.rules import Rule, example_project as _project


DOCS = """\
## What it does
Checks that code a constructor lets loose before it has finished — a thread or timer it
starts, a callback it hands to another object or registers as a signal handler, an
executor job it submits, or an overridable method it calls — does not read a field of
the object under construction that the constructor assigns only further down.

The trace starts at the class's `__init__` and follows it into base-class constructors
(`super().__init__()`, `super(Cls, self)`, `Base.__init__(self)`), so a base class that
starts a thread, or calls a method that a subclass overrides, before the subclass has
assigned its own fields is found too.

Library callbacks come from a table of what each library does with them (rospy
subscribers, gevent spawns, twisted's thread pool, zeroconf browsers...; see NIL001). A
callback stored on a library object the constructor built itself runs once that object
goes live (`client.loop_start()`, a thread on `client.loop_forever`), so what counts is
whether the fields exist at that statement. A field assigned only on some paths of the
constructor counts when every assignment of it comes after the escape.

A constructor that hands the object itself to other code (`Engine(self)`,
`registry.add_listener(self)`) can be reached back through that code's objects: an
engine thread that calls `self.zc.handle_response()` reads the object under
construction, and so does a worker thread that runs the callbacks the object queued
(`handler = self.pending.pop(0); handler()`). Such paths count when a thread started
before the field's assignment is on them.

Along plain calls (no thread), a read of an attribute nothing has assigned yet fails on
every run of that path, so it is reported only where the path is one that only some
arguments take: a branch on an optional (`None`-default) parameter, either way. The
documented default (`if nrad is None: self.nrad = self.nres // 2` before
`super().__init__()` assigns `nres`), or a base constructor's
`if port is not None: self.open()` running an override that reads what the subclass
assigns after `super().__init__()` returns. The finding says which arguments lead there.

Framework calls that run the object's own overrides count like a base constructor
calling one: a Qt widget's `self.setGeometry(...)`, `restoreGeometry`, `resize`, `show`...
deliver the events they cause to its `resizeEvent`/`moveEvent`/`showEvent` overrides
before they return (`models.SYNC_HOOKS`).

## Why is this bad?
The object is half built while its constructor runs. A thread started there can run at
once; a client may fire a callback the moment it is registered (many connect, retry or
replay events on another thread); a base `__init__` that calls `self.setup()` runs the
subclass's override before the subclass constructor has assigned anything. A read that
wins the race finds `AttributeError: 'Reporter' object has no attribute 'lock'` — or
`None` when a class attribute provides a default. The window is a few microseconds, so
tests pass and production fails under load.

## Example
```python
class Reporter:
    def __init__(self, client):
        client.on_connect = self._on_connect  # may fire at once, on the client's thread
        self.lock = threading.Lock()          # assigned too late

    def _on_connect(self, *args):
        with self.lock:  # NIL002
            ...
```

## Use instead
Assign every field before the constructor lets anything loose:
```python
class Reporter:
    def __init__(self, client):
        self.lock = threading.Lock()
        client.on_connect = self._on_connect
```
Better still, keep constructors free of side effects: build the object, then start its
threads and register its callbacks in a `start()` method that the owner calls once the
object is complete. For a base class that calls an overridable method, pass what the
override needs to the base constructor, or call the hook from `start()`.

## Known problems
- A field not assigned yet does not exist at all, so any load of it counts — a
  comparison, a truth test, passing it as an argument — unless a class attribute, a
  base class outside the project or `__getattr__` may provide it; `hasattr(self, "x")`,
  `getattr(self, "x", default)` and `except AttributeError` guard it.
- Threads and callbacks are known by the call that starts them (`threading.Thread`,
  `Timer`, executors, asyncio, `signal.signal`, `atexit.register`, a bound method passed
  to or stored on another object). A library that starts its own thread from a plain
  method call is opaque unless it is configured as a spawner.
- A callback stored on an object the constructor did not create itself (a client passed
  in) is assumed to be able to run at once, even when that object could not fire it
  before the constructor returns (say, a client that is not connected yet). Suppress
  such a finding with `# nilcheck: ignore[NIL002]`. A callback handed to an event loop
  (`loop.call_soon`) runs only after the constructor has returned and is not reported.
- The constructor reported is the one of the class that is instantiated; a base class
  whose `__init__` is only reached through `super()` is reported through its subclasses.

## Options
- `spawners` (list of qualified callables, e.g. `"mylib.run_later"`): extra functions
  whose callable arguments run later or concurrently, like `threading.Thread`.
"""


VALID = (
    # The lock exists before the callback that uses it is registered.
    _project(
        "app.main:main",
        """\
        import threading

        import paho.mqtt.client as mqtt


        class Reporter:
            def __init__(self, client: mqtt.Client):
                self.lock = threading.Lock()
                self.sent = 0
                client.on_connect = self._on_connect

            def _on_connect(self, *args):
                with self.lock:
                    self.sent += 1


        def main():
            client = mqtt.Client()
            client.connect("broker.internal")
            client.loop_start()
            Reporter(client)
        """,
    ),
    # The thread is created early but started only once every field is assigned.
    _project(
        "app.main:main",
        """\
        import queue
        import threading


        class Uploader:
            def __init__(self, bucket):
                self.thread = threading.Thread(target=self._drain, daemon=True)
                self.bucket = bucket
                self.pending = queue.Queue()
                self.thread.start()

            def _drain(self):
                while True:
                    path = self.pending.get()
                    print(self.bucket.upper(), path)


        def main():
            Uploader("backups")
        """,
    ),
    # The constructor only builds the object; the owner starts it when it is complete.
    _project(
        "app.main:main",
        """\
        import threading


        class Heartbeat:
            def __init__(self, interval, sink):
                self.timer = threading.Timer(interval, self._beat)
                self.sink = sink

            def start(self):
                self.timer.start()

            def _beat(self):
                self.sink.write("beat\\n")


        def main(sink):
            heartbeat = Heartbeat(5.0, sink)
            heartbeat.start()
        """,
    ),
)


INVALID = (
    # A callback registered on another object before the field it reads is assigned.
    _project(
        "app.main:main",
        """\
        import threading

        import paho.mqtt.client as mqtt


        class Reporter:
            def __init__(self, client: mqtt.Client):
                client.on_connect = self._on_connect  # the client's thread is running
                self.lock = threading.Lock()

            def _on_connect(self, *args):
                with self.lock:  # expect: NIL002
                    print("connected", args)


        def main():
            client = mqtt.Client()
            client.connect("broker.internal")
            client.loop_start()
            Reporter(client)
        """,
    ),
    # A worker thread started in the constructor before its queue exists.
    _project(
        "app.main:main",
        """\
        import queue
        import threading


        class Uploader:
            def __init__(self, bucket):
                self.bucket = bucket
                self.thread = threading.Thread(target=self._drain, daemon=True)
                self.thread.start()
                self.pending = queue.Queue()

            def _drain(self):
                while True:
                    path = self.pending.get()  # expect: NIL002
                    print(self.bucket, path)


        def main():
            Uploader("backups")
        """,
    ),
    # A base constructor calls a hook that the subclass overrides; the override reads a
    # field the subclass assigns only after `super().__init__()` has returned.
    _project(
        "app.main:main",
        """\
        class Command:
            def __init__(self):
                self.configure()

            def configure(self):
                pass


        class Deploy(Command):
            def __init__(self, target):
                super().__init__()
                self.target = target

            def configure(self):
                print("deploying to", self.target.strip())  # expect: NIL002


        def main():
            Deploy("production")
        """,
    ),
)


RULE = Rule(
    code="NIL002",
    name="field-read-during-construction",
    summary="A thread, callback or overridable method started by a constructor reads a field the constructor has not assigned yet",
    severity="error",
    docs=DOCS,
    valid=VALID,
    invalid=INVALID,
)
