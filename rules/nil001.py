"""NIL001: a field is read on a startup path before the late initializer that sets it.

The example projects below are run by tests/test_rule_examples.py: valid ones must give
no findings, invalid ones exactly the lines marked `# expect: NIL001`.
"""
from __future__ import annotations


from nilcheck.rules import Rule, example_project as _project


DOCS = """\
## What it does
Checks that a field which is still `None` (or not yet assigned) when its object's
constructor returns is not dereferenced on a startup path before the method that gives
it its real value — its *late initializer* — has run. A field is late when `__init__`
sets it to `None`, a class body declares it `= None` or only annotates it, a dataclass
field defaults to `None`, or `__init__` assigns it only on some paths, and some other
method (or code outside the class) assigns it later.

Starting from the project's entry points, nilcheck follows calls in order — through
methods, constructors, inherited and imported code — and treats threads, timers,
executor jobs, asyncio tasks, event-loop callbacks, signal and `atexit` handlers, and
callbacks handed to other objects as code that may run at any moment after the statement
that spawns it. Library calls are known from a table (`nilcheck.linter.models`,
`LIBRARY_CALLBACKS`): rospy subscribers and timers, gevent and eventlet spawns, twisted's
thread pool, APScheduler jobs and zeroconf browsers run their callbacks on threads of
their own; callbacks stored on a library object the code just built (paho's
`client.on_message = ...`) run once it goes live (`loop_start()`, or a thread running
`client.loop_forever`). A read is reported when it can run before the initializer has
run on every path leading to it; each finding carries the trace from the entry point to
the read.

A field the constructor never assigns does not exist until its initializer runs, so then
any load of it fails with `AttributeError`, not only a dereference: `if self.config:`,
`f(self.limits)`. Such loads are reported when a thread or other concurrent start can run
them first (along plain calls they would fail on every run of that path);
`hasattr(self, "x")`, `getattr(self, "x", default)` and `except AttributeError` guard
them, and a class attribute, a base class that may provide the attribute (a
standard-library base is checked for it) or `__getattr__` makes it exist.

A method entry point (`pkg.mod:Class.method`) runs on a fresh object, and nilcheck builds
it as the documented default usage does: with its optional arguments left out
(`api = Api()`, then `api.init_app(app)` later). The constructor, and the methods it
calls on `self`, run with every `None`-default parameter known `None`: branches that need
the argument (`if app is not None: self.init_app(app)`) are skipped, and
`self.app = app` stores `None`. A read on that object that this construction certainly
leaves `None` (a dereference) or without the attribute (any load) is reported, naming
the defaults that decided it, when a method is meant to establish the field or a `None`
default was stored into it. It is not reported when the constructor hands the object, or
one of its bound methods, to other code, or when the class's history is not known (see
NIL003).

## Why is this bad?
Code that runs during startup often reaches objects that are only half wired: a recovery
step starts background watchers, a warm-up request runs before the connection is opened,
a callback is registered before its dependency is set. The read works in tests, where
the slow path never fires early, and crashes in production with
`AttributeError: 'NoneType' object has no attribute ...` when a thread or callback wins
the race. containerd shipped exactly this bug (PR #10401): exit monitors started during
recovery reached the NRI API's CRI field before `Register()` set it.

## Example
```python
class PluginAPI:
    def __init__(self):
        self.host = None  # set by attach()

    def attach(self, host):
        self.host = host

    def notify_exit(self, task):
        self.host.forget(task)  # NIL001: can run before attach()


class Server:
    def __init__(self):
        self.plugins = PluginAPI()

    def start(self):
        for task in self.running_tasks():
            threading.Thread(target=self.on_task_exit, args=(task,)).start()
        self.plugins.attach(self)

    def on_task_exit(self, task):
        task.wait()
        self.plugins.notify_exit(task)
```

## Use instead
Pass the dependency to the constructor, so the field is never `None`:
```python
class PluginAPI:
    def __init__(self, host):
        self.host = host


class Server:
    def __init__(self):
        self.plugins = PluginAPI(host=self)
```
If the field must stay optional, call the initializer before anything that can reach
the read is started, or guard the read (`if self.host is None: return`).

## Known problems
- Guards are understood within one function: a check in a caller protects the reads in
  what it calls, but a check in a callee tells its caller nothing. Conditions that are
  correlated through other state (a memo flag checked before the flag's own setter runs,
  `if not self.cfg.reload: raise` protecting a field set under `if self.cfg.reload:`)
  are not followed.
- A `for` loop's body is assumed to run at least once; a `while` loop's may not run.
- A field that its initializer sets only on some paths is *optional by design* and not
  reported; so is one that only the constructor's own helpers set.
- Instances are tracked per class, not per object: once the initializer has run for one
  instance of a class, reads through every instance of that class count as safe.
- A callback passed to any call or stored on another object counts as able to run from
  that moment, as the rule defines it. A GUI toolkit or an event loop that has not been
  started yet may in fact wait; such findings are true by definition but may be benign.
- Dynamic attribute access (`setattr`, `__dict__`, `getattr` with a computed name) and
  decorators that call or register the functions they wrap are not modelled; a class
  that sets attributes by computed names is taken as providing any attribute.
- A load of a missing attribute through another object than `self`, or along plain calls
  only, is not reported (the flow merges the instances of a class, and a plain path that
  always fails is one its author has seen or steers around).
- Argument values decide branches per call in two cases: a function that tests a
  `None`-default parameter (`if mode is None: return ...`) is analysed apart for the
  calls that leave it out, and one that tests a parameter with `isinstance` is analysed
  apart for the calls whose argument's class the call itself shows (`handle(Box())`, or
  a local bound only to `Box(...)`). Other values (a flag passed as `True`, an object
  built elsewhere) do not select branches per call.
- On a method entry's fresh object, only `None` defaults decide branches (`if app:`,
  `if app is not None:`); a default of `False`, `0` or `""` leaves both branches
  possible. If the class is never meant to be built without an argument that defaults
  to `None`, the finding says which one: configure the entry point that builds it with
  the argument instead, or suppress.
- Calls into code outside the project are opaque: a library that calls back into your
  code is not followed unless the callback is passed to it or configured as a spawner.
  A call on a receiver of unknown type is not resolved by method name alone: measured on
  the fixtures and the standard library, that guess produced only false positives.

## Options
- `initializer-methods` (list of method names): extra names that mark a late
  initializer. Any method that establishes the field counts anyway; a method named here
  counts even when it assigns the field only on some paths.
- `spawners` (list of qualified callables, e.g. `"mylib.run_later"`): functions whose
  callable arguments run concurrently, like `threading.Thread`. Every callable argument
  already counts as possibly running later (for NIL001); a configured spawner's also
  count as running at once on another thread (for NIL002).
"""


VALID = (
    # Constructor injection: the field is never None, even in a thread started at once.
    _project(
        "app.main:Server.start",
        """\
        import threading


        class PluginAPI:
            def __init__(self, host):
                self.host = host

            def notify_exit(self, task):
                self.host.forget(task)


        class Server:
            def __init__(self, tasks):
                self.tasks = list(tasks)
                self.plugins = PluginAPI(self)

            def forget(self, task):
                self.tasks.remove(task)

            def start(self):
                for task in list(self.tasks):
                    threading.Thread(target=self.plugins.notify_exit, args=(task,)).start()
        """,
    ),
    # The read is guarded in the same function.
    _project(
        "app.main:main",
        """\
        import smtplib


        class Notifier:
            def __init__(self):
                self.smtp = None

            def connect(self, host):
                self.smtp = smtplib.SMTP(host)

            def notify(self, to, body):
                if self.smtp is None:
                    return
                self.smtp.sendmail("noreply@example.com", [to], body)


        def main():
            notifier = Notifier()
            notifier.notify("ops@example.com", "starting")
            notifier.connect("smtp.internal")
        """,
    ),
    # The thread is created early but started only after the initializer ran.
    _project(
        "app.main:Worker.start",
        """\
        import threading

        from app.feed import ChangeFeed


        class Worker:
            def __init__(self, url):
                self.url = url
                self.feed = None
                self.poller = threading.Thread(target=self.poll, daemon=True)

            def connect(self):
                self.feed = ChangeFeed(self.url)

            def poll(self):
                for change in self.feed.changes():
                    print(change)

            def start(self):
                self.connect()
                self.poller.start()
        """,
        extra={
            "app/feed.py": """\
            class ChangeFeed:
                def __init__(self, url):
                    self.url = url

                def changes(self):
                    return []
            """,
        },
    ),
)


INVALID = (
    # A synchronous read before the initializer on the entry path.
    _project(
        "app.main:Scheduler.run",
        """\
        import time


        class Scheduler:
            def __init__(self, leftover):
                self.leftover = leftover
                self.clock = None

            def start(self):
                self.clock = time

            def requeue(self, name, interval):
                return self.clock.time() + interval  # expect: NIL001

            def run(self):
                for name, interval in self.leftover:
                    self.requeue(name, interval)
                self.start()
        """,
    ),
    # A thread spawned before the initializer reads the field (containerd PR #10401).
    _project(
        "app.main:Server.start",
        """\
        import threading

        from app.plugins import PluginAPI


        class Server:
            def __init__(self, tasks):
                self.tasks = list(tasks)
                self.plugins = PluginAPI()

            def forget(self, task):
                self.tasks.remove(task)

            def start(self):
                for task in list(self.tasks):
                    threading.Thread(target=self.on_task_exit, args=(task,)).start()
                self.plugins.attach(self)

            def on_task_exit(self, task):
                task.wait()
                self.plugins.notify_exit(task)
        """,
        extra={
            "app/plugins.py": """\
            class PluginAPI:
                def __init__(self):
                    self.host = None  # set by attach()

                def attach(self, host):
                    self.host = host

                def notify_exit(self, task):
                    self.host.forget(task)  # expect: NIL001
            """,
        },
    ),
    # An initializer called on only some paths does not make the later read safe.
    _project(
        "app.main:Forwarder.start",
        """\
        import socket


        class Forwarder:
            def __init__(self, settings):
                self.settings = settings
                self.upstream = None

            def connect(self):
                self.upstream = socket.create_connection((self.settings["host"], 514))

            def start(self):
                if self.settings.get("host"):
                    self.connect()
                self.upstream.sendall(b"forwarder online")  # expect: NIL001
        """,
    ),
)


RULE = Rule(
    code="NIL001",
    name="field-read-before-late-initializer",
    summary="A field that is None after construction is read on a startup path before its late initializer runs",
    severity="error",
    docs=DOCS,
    valid=VALID,
    invalid=INVALID,
)
