"""The value flow (linter/valueflow.py) on its own: what expressions hold, what call sites
invoke, run or spawn, on small programs built in memory."""
from __future__ import annotations

import textwrap

import libcst as cst

from nilcheck.linter.facts import extract
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import Call, Name, walk_nodes
from nilcheck.linter.resolve import Resolver


def program(**modules):
    """A Resolver over modules given as name=source, solved from every module's
    top-level code and every function (in its own class's context)."""
    index = ProjectIndex(
        extract(cst.parse_module(textwrap.dedent(source)), name,
                name.replace(".", "/") + ".py", False)
        for name, source in modules.items())
    resolver = Resolver(index)
    roots = [(f"{name}.<module>", None) for name in modules]
    resolver.prepare(roots)
    return resolver


def values(resolver, fid, expr, cls=None):
    return resolver.evaluate((fid, cls), expr)


def call_site(resolver, fid, func_text, cls=None):
    """The record of the first call in fid whose callee is written func_text."""
    from nilcheck.linter.callgraph import expr_text
    function = resolver.index.function(fid)
    for node in walk_nodes(function.body):
        if isinstance(node, Call) and expr_text(node.func) == func_text:
            return resolver.flow.site((fid, cls), node)
    raise AssertionError(f"no call of {func_text} in {fid}")


def invoked(site):
    return sorted(target[0] for target in site.invoked)


def test_arguments_flow_to_parameters_and_results_back():
    resolver = program(m="""
        class Notifier:
            def notify(self):
                pass

        class Queue:
            def __init__(self, notifier):
                self.notifier = notifier

        def build():
            n = Notifier()
            return Queue(n), n

        queue, notifier = build()
        queue.notifier.notify()
        """)
    assert values(resolver, "m.<module>", Name("queue#1")) == {("inst", "m.Queue")}
    assert values(resolver, "m.<module>", Name("notifier#1")) == {("inst", "m.Notifier")}
    assert invoked(call_site(resolver, "m.<module>", "queue.notifier.notify")) == [
        "m.Notifier.notify"]


def test_returned_closures_keep_the_self_of_the_method_that_made_them():
    resolver = program(m="""
        class Store:
            def record(self):
                pass

        class Tracker:
            def __init__(self):
                self.store = Store()

            def on_finish(self):
                def notify():
                    self.store.record()
                return notify

        class Other:
            def __init__(self):
                self.store = None

            def run(self, callback):
                callback()

        Other().run(Tracker().on_finish())
        """)
    # The closure runs in Tracker's frame, whoever calls it.
    site = call_site(resolver, "m.Tracker.on_finish.<locals>.notify", "self.store.record",
                     cls="m.Tracker")
    assert invoked(site) == ["m.Store.record"]


def test_containers_keep_elements_by_literal_index_and_key():
    resolver = program(m="""
        def a():
            pass

        def b():
            pass

        pair = (a, b)
        table = {"first": a, "second": b}
        handlers = []
        handlers.append(b)
        first, second = pair
        pair[0]()
        table["second"]()
        for handler in handlers:
            handler()
        """)
    assert values(resolver, "m.<module>", Name("first#1")) == {("func", "m.a", None)}
    assert invoked(call_site(resolver, "m.<module>", "pair[...]")) == ["m.a"]
    assert invoked(call_site(resolver, "m.<module>", "table[...]")) == ["m.b"]
    assert invoked(call_site(resolver, "m.<module>", "handler")) == ["m.b"]


def test_a_call_on_a_protocol_reaches_the_implementations_the_program_builds():
    resolver = program(m="""
        from typing import Protocol

        class Handler(Protocol):
            def handle(self):
                ...

        class Audit:
            def handle(self):
                pass

        class Unused:
            def handle(self):
                pass

        class Dispatcher:
            def __init__(self, handler: Handler):
                self.handler = handler

            def dispatch(self):
                self.handler.handle()

        Dispatcher(Audit()).dispatch()
        """)
    site = call_site(resolver, "m.Dispatcher.dispatch", "self.handler.handle",
                     cls="m.Dispatcher")
    # The implementation that flows there; the protocol's stub (declared), never the
    # class nothing builds.
    assert "m.Audit.handle" in invoked(site)
    assert "m.Unused.handle" not in invoked(site)


def test_decorators_are_analysed_apart_for_each_function_they_wrap():
    resolver = program(m="""
        def logged(command):
            def wrapper():
                return command()
            return wrapper

        @logged
        def report():
            pass

        @logged
        def status():
            pass

        report()
        """)
    site = call_site(resolver, "m.<module>", "report")
    (wrapper,) = site.invoked
    assert wrapper[0] == "m.logged.<locals>.wrapper"
    # Without the variant for `report`, the wrapper would call every decorated function.
    inner = resolver.flow.site(wrapper, next(
        n for n in walk_nodes(resolver.index.function(wrapper[0]).body)
        if isinstance(n, Call)))
    assert invoked(inner) == ["m.report"]


def test_coroutines_run_where_awaited_or_handed_to_a_runner():
    resolver = program(m="""
        import asyncio

        class Worker:
            async def connect(self):
                pass

            async def start(self):
                await self.connect()
                asyncio.create_task(self.connect())

        loop = asyncio.new_event_loop()
        loop.run_until_complete(Worker().start())
        """)
    awaited = call_site(resolver, "m.Worker.start", "self.connect", cls="m.Worker")
    assert awaited.invoked == {("m.Worker.connect", "m.Worker"): "coro"}
    scheduled = call_site(resolver, "m.Worker.start", "asyncio.create_task", cls="m.Worker")
    assert scheduled.spawned == {("m.Worker.connect", "m.Worker"): False}
    runner = call_site(resolver, "m.<module>", "loop.run_until_complete")
    assert runner.synced == {0: {("m.Worker.start", "m.Worker")}}


def test_threads_are_spawned_where_they_are_started():
    resolver = program(m="""
        import threading

        class Pool:
            def work(self, n):
                pass

            def start(self):
                workers = [threading.Thread(target=self.work, args=(n,)) for n in range(2)]
                for worker in workers:
                    worker.start()
        """)
    resolver.prepare([("m.Pool.start", "m.Pool")])
    site = call_site(resolver, "m.Pool.start", "worker.start", cls="m.Pool")
    assert site.spawned == {("m.Pool.work", "m.Pool"): True}


def test_each_assignment_to_a_local_is_its_own_version():
    resolver = program(m="""
        class A:
            def go(self):
                pass

        class B:
            def go(self):
                pass

        x = A()
        x.go()
        x = B()
        x.go()
        """)
    first = call_site(resolver, "m.<module>", "x.go")
    assert invoked(first) == ["m.A.go"]


def test_external_names_are_bounded_per_node():
    # A parameter that many callers give different outside objects, each then used
    # through attribute chains, must not multiply names without end.
    calls = "\n".join(f"use(mod{n}.thing)" for n in range(60))
    imports = "\n".join(f"import mod{n}" for n in range(60))
    resolver = program(m=f"""
{imports}

def use(value):
    x = value
    while x:
        x = x.next.child

{calls}
""")
    node = resolver.flow.expr_node(("m.use", None), Name("value"))
    held = resolver.flow.node_values(node)
    assert len(held) <= 26
    assert ("extinst", "?") in held


def test_a_callback_passed_to_outside_code_is_spawned_with_its_arguments():
    resolver = program(m="""
        from concurrent.futures import ThreadPoolExecutor

        class Job:
            def run(self):
                pass

        def process(job):
            job.run()

        pool = ThreadPoolExecutor()
        pool.submit(process, Job())
        """)
    site = call_site(resolver, "m.<module>", "pool.submit")
    assert site.spawned == {("m.process", None): True}
    # The argument after the callback reached its parameter.
    run = call_site(resolver, "m.process", "job.run")
    assert invoked(run) == ["m.Job.run"]


def test_a_callback_stored_on_an_object_is_a_deferred_call_where_it_is_taken():
    resolver = program(m="""
        class Bus:
            def __init__(self):
                self.handlers = []

            def subscribe(self, handler):
                self.handlers.append(handler)

            def publish(self):
                for handler in self.handlers:
                    handler()

        class Metrics:
            def count(self):
                pass

        bus = Bus()
        bus.subscribe(Metrics().count)
        bus.publish()
        """)
    # The flow knows what publish() calls; the resolver counts it where it was stored.
    site = call_site(resolver, "m.Bus.publish", "handler", cls="m.Bus")
    assert invoked(site) == ["m.Metrics.count"]
    body, edges = resolver.resolve_body(("m.Bus.publish", "m.Bus"))
    assert ("m.Metrics.count", "m.Metrics") not in {target for target, _ in edges}
    assert resolver.deferred_calls[("m.Bus.publish", "m.Bus")]
    # ... as a spawn where subscribe() (analysed apart for this callback) stores it.
    (variant,) = [ctx for ctx in resolver.flow.lowered if ctx[0] == "m.Bus.subscribe"
                  and len(ctx) > 2]
    _, edges = resolver.resolve_body(variant)
    assert (("m.Metrics.count", "m.Metrics"), True) in edges


def test_a_project_new_decides_what_the_class_call_returns():
    resolver = program(m="""
        class Service:
            def send(self):
                pass

        class Mocked:
            def send(self):
                pass

        class Provider:
            def __new__(cls):
                if not hasattr(cls, "instance"):
                    if SETTING:
                        cls.instance = Service()
                    else:
                        cls.instance = Mocked()
                return cls.instance

        class Plain:
            def send(self):
                pass

        def use():
            provider = Provider()
            provider.send()
            plain = Plain()
            plain.send()

        use()
    """)
    assert invoked(call_site(resolver, "m.use", "provider.send")) == \
        ["m.Mocked.send", "m.Service.send"]
    assert invoked(call_site(resolver, "m.use", "plain.send")) == ["m.Plain.send"]


def test_a_literal_key_passed_to_an_indexing_parameter_reads_only_that_entry():
    resolver = program(m="""
        def start():
            pass

        def stop():
            pass

        HANDLERS = {"start": start, "stop": stop}

        def handle(kind):
            HANDLERS[kind]()

        def anything(kind):
            handle(kind)

        handle("stop")
        """)
    ctx = next(c for c in resolver.flow.lowered if c[0] == "m.handle")
    assert ctx[2:] == (("<keys>", (("kind", "stop"),)),)
    call = next(node for node in walk_nodes(resolver.index.function("m.handle").body)
                if isinstance(node, Call))
    assert invoked(resolver.flow.site(ctx, call)) == ["m.stop"]
    # A key the call does not show: every entry, as before.
    resolver.prepare([("m.anything", None)])
    assert invoked(resolver.flow.site(("m.handle", None), call)) == ["m.start", "m.stop"]
