"""Models of code outside the project that the analysis must know by name.

Like NilAway's hooks: what the standard library's thread, process and event-loop APIs do
with the callables they are given, and which calls never return.
"""
from __future__ import annotations

# Constructors whose callable argument runs only when the object's .start() is called:
# (keyword, position) of that argument, then of the tuple of its positional arguments
# and of the dict of its keyword arguments.
THREAD_FACTORIES = {
    "threading.Thread": ("target", 1, "args", 3, "kwargs", 4),
    "threading.Timer": ("function", 1, "args", 2, "kwargs", 3),
    "multiprocessing.Process": ("target", 1, "args", 3, "kwargs", 4),
    "multiprocessing.context.Process": ("target", 1, "args", 3, "kwargs", 4),
}

# External base classes whose `.start()` runs `self.run()` on another thread or process.
THREAD_BASES = frozenset({"threading.Thread", "multiprocessing.Process",
                          "multiprocessing.context.Process"})

# External bases that add no attributes of their own to an instance: a class deriving only
# from these has exactly the attributes the project's code gives it.
PLAIN_BASES = frozenset({"object", "abc.ABC", "ABC", "typing.Generic", "Generic",
                         "threading.Thread", "multiprocessing.Process", "Exception",
                         "BaseException"})

# Method names of APIs that run the callable they are given on another thread (or, for
# signal handlers, between any two bytecodes) rather than later on the caller's own
# event loop: a thread pool's submit/map, run_in_executor, the *_threadsafe calls.
CONCURRENT_REGISTRARS = frozenset({"submit", "map", "run_in_executor", "signal",
                                   "call_soon_threadsafe", "run_coroutine_threadsafe",
                                   "start_new_thread", "apply_async", "map_async"})
# Library calls that take callbacks, by the qualified name the call resolves to, and
# when what they are given runs:
#   "thread"  at once, on a thread (or greenlet, signal, exit hook) of the library's own,
#             so also while the constructor that registered it is still running;
#   "sync"    inside the call, before it returns (like a plain call).
# A callable given to any other library call is a callback that runs later, on the
# caller's own loop (`loop.call_soon`, `GLib.idle_add`, `reactor.callLater`): the
# default needs no entry. Users add their own with the `spawners` key ("thread").
LIBRARY_CALLBACKS = {
    # the standard library
    "atexit.register": "thread",  # exit hooks run on whatever failure ends the program
    "signal.signal": "thread",  # between any two bytecodes of the main thread
    "_thread.start_new_thread": "thread",
    "threading.excepthook": "thread",
    "asyncio.run_coroutine_threadsafe": "thread",
    "concurrent.futures.ThreadPoolExecutor.submit": "thread",
    "concurrent.futures.ProcessPoolExecutor.submit": "thread",
    # ROS 1: subscriber, timer and service callbacks run on rospy's own threads
    "rospy.Subscriber": "thread",
    "rospy.Timer": "thread",
    "rospy.Service": "thread",
    "rospy.on_shutdown": "thread",
    # greenlets run as soon as the spawning code blocks on I/O
    "gevent.spawn": "thread",
    "gevent.spawn_later": "thread",
    "gevent.Greenlet.spawn": "thread",
    "eventlet.spawn": "thread",
    "eventlet.spawn_n": "thread",
    # twisted: the reactor's thread pool, and helpers that call at once
    "twisted.internet.reactor.callInThread": "thread",
    "twisted.internet.threads.deferToThread": "thread",
    "twisted.python.log.callWithLogger": "sync",
    "twisted.python.log.callWithContext": "sync",
    "twisted.python.context.call": "sync",
    # schedulers that run jobs on worker threads
    "apscheduler.schedulers.background.BackgroundScheduler.add_job": "thread",
    "apscheduler.schedulers.background.BackgroundScheduler.scheduled_job": "thread",
    # zeroconf browsers call their handlers from the library's thread
    "zeroconf.ServiceBrowser": "thread",
    "zeroconf.asyncio.AsyncServiceBrowser": "thread",
    # unitree_sdk2py (Unitree robots): DDS channel handlers run on the middleware's threads
    "unitree_sdk2py.core.channel.ChannelSubscriber.Init": "thread",
    # trio / anyio run started tasks concurrently with the starter
    "trio.lowlevel.spawn_system_task": "thread",
    "anyio.to_thread.run_sync": "sync",
}
CONCURRENT_CALLS = frozenset(name for name, when in LIBRARY_CALLBACKS.items()
                             if when == "thread")

# Builtins that call nothing they are given later: passing a function to them is not a
# callback registration (they either ignore it or call it at once, like a plain call).
NOT_REGISTRATIONS = frozenset({"isinstance", "issubclass", "getattr", "setattr", "hasattr",
                               "id", "type", "repr", "str", "print", "callable", "super",
                               "vars"})

# Calls after which the path does not go on.
NO_RETURN = frozenset({"sys.exit", "exit", "quit", "os._exit", "os.abort", "os.execv",
                       "os.execve", "os.execvp", "os.execvpe", "os.execl", "os.execle",
                       "os.execlp", "os.execlpe"})
NO_RETURN_ANNOTATIONS = ("NoReturn", "Never")

# Callables that call the callables they are given before they return, with the result
# (for map) made of what those return: the callables run at the call, not later.
SYNC_CALLERS = frozenset({"map", "filter", "sorted", "min", "max", "functools.reduce",
                          "reduce", "itertools.starmap", "itertools.filterfalse",
                          "itertools.takewhile", "itertools.dropwhile", "itertools.groupby",
                          "itertools.accumulate", "functools.cmp_to_key"}
                         | {name for name, when in LIBRARY_CALLBACKS.items() if when == "sync"})
# Builtins that return a new container (or iterator) of their last argument's elements.
ITERATING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed",
                                "iter", "filter"})
# Calls that run the coroutines they are given to completion before they return: the
# coroutine's body runs inside the call (by qualified name or method name).
COROUTINE_RUNNERS = frozenset({"asyncio.run", "run_until_complete", "trio.run", "anyio.run",
                               "asyncio.runners.run"})
# The same, but only when the call itself is awaited (else they schedule, like a task).
COROUTINE_RUNNERS_AWAITED = frozenset({"asyncio.gather", "gather", "asyncio.wait_for",
                                       "wait_for", "asyncio.shield", "shield", "asyncio.wait"})
# Methods of the builtin containers that move values in or out (see valueflow.py).
CONTAINER_METHODS = frozenset({"append", "add", "appendleft", "insert", "extend",
                               "extendleft", "update", "setdefault", "pop", "popleft", "get",
                               "values", "keys", "items", "copy", "sort"})

# Methods that make a library object go live: the callbacks stored on it before (paho's
# `client.on_message = cb`) may run from then on, on the library's thread or loop.
ACTIVATION_METHODS = frozenset({"loop_start", "loop_forever", "start", "run_forever",
                                "serve_forever", "exec_", "exec", "mainloop", "spin"})

# Methods of a framework base class that, called on the object itself, run the object's
# own overrides before they return: Qt delivers the events a geometry or visibility
# change causes to a visible widget synchronously (`self.setGeometry(...)` runs the
# window's `resizeEvent()`). By the top-level package of the base class.
SYNC_HOOK_LIBRARIES = frozenset({"PyQt5", "PyQt6", "PySide2", "PySide6", "qtpy"})
SYNC_HOOKS = {
    "setGeometry": ("moveEvent", "resizeEvent"),
    "restoreGeometry": ("moveEvent", "resizeEvent"),
    "resize": ("resizeEvent",),
    "setFixedSize": ("resizeEvent",),
    "adjustSize": ("resizeEvent",),
    "move": ("moveEvent",),
    "show": ("showEvent", "resizeEvent"),
    "showMaximized": ("showEvent", "resizeEvent"),
    "showFullScreen": ("showEvent", "resizeEvent"),
    "setVisible": ("showEvent", "hideEvent", "resizeEvent"),
    "hide": ("hideEvent",),
}
HOOK_NAMES = frozenset(hook for hooks in SYNC_HOOKS.values() for hook in hooks)
# Qt's event handlers: a callable stored under one of these names on a widget
# (`label.mousePressEvent = self.on_click`) is called by the GUI event loop, on the GUI
# thread, once that loop runs: a callback for later, not one that may fire at once.
GUI_EVENT_HANDLERS = frozenset({
    "mousePressEvent", "mouseReleaseEvent", "mouseDoubleClickEvent", "mouseMoveEvent",
    "wheelEvent", "keyPressEvent", "keyReleaseEvent", "focusInEvent", "focusOutEvent",
    "enterEvent", "leaveEvent", "paintEvent", "moveEvent", "resizeEvent", "closeEvent",
    "contextMenuEvent", "dragEnterEvent", "dragMoveEvent", "dragLeaveEvent", "dropEvent",
    "showEvent", "hideEvent", "changeEvent", "timerEvent", "eventFilter",
})
# Packages whose classes wrap C++ classes (sip, shiboken): an instance of a project class
# deriving from one has no attributes of its own but what Python code gives it; the base
# provides only its methods, Qt's camelCase names (`show`, `setGeometry`, `exec_`).
WRAPPER_BASE_PACKAGES = frozenset({"PyQt5", "PyQt6", "PySide2", "PySide6"})


def may_be_wrapper_member(attr: str) -> bool:
    """Could attr be a member of a Qt wrapper class? Not a name with a leading or inner
    underscore (`_completion`, `rig_control`): Qt spells none that way."""
    return not ("_" in attr.rstrip("_"))
# Method names the models above recognise on objects from outside the project: these
# keep their name on an external object that nothing else names (see valueflow._member).
MODELLED_METHODS = frozenset(CONCURRENT_REGISTRARS | COROUTINE_RUNNERS
                             | COROUTINE_RUNNERS_AWAITED | {"start", "sort"})

# Special methods Python itself calls (a `with`, a `for`, pickling, `copy`, dataclasses,
# descriptors, attribute access, operators...): a method by one of these names is called
# although no code names it. A dunder name outside this set (`__connect__`) is an
# ordinary method that only code calls.
PYTHON_CALLS = frozenset(
    {name for name in dir(object) + dir(type) + dir(int) + dir(list) + dir(dict)
     + dir(BaseException) if name.startswith("__") and name.endswith("__")}
    | {"__enter__", "__exit__", "__aenter__", "__aexit__", "__call__", "__iter__",
       "__next__", "__aiter__", "__anext__", "__await__", "__getattr__", "__get__",
       "__set__", "__delete__", "__set_name__", "__post_init__", "__setstate__",
       "__getstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__",
       "__del__", "__missing__", "__fspath__", "__index__", "__bool__", "__len__",
       "__contains__", "__getitem__", "__setitem__", "__delitem__", "__reversed__",
       "__class_getitem__", "__init_subclass__", "__prepare__", "__instancecheck__",
       "__subclasscheck__", "__length_hint__", "__matmul__", "__rmatmul__",
       "__imatmul__", "__complex__", "__float__", "__round__", "__trunc__",
       "__floor__", "__ceil__", "__bytes__", "__format__", "__buffer__",
       "__release_buffer__", "__get_validators__", "__attrs_post_init__"})
