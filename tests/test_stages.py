"""Unit tests for each analysis stage on its own: facts, index, resolution, ordering,
entry points. The fixture projects test the stages together."""
from __future__ import annotations

import pickle
import textwrap
import threading
from pathlib import Path

import libcst as cst
import networkx as nx
import pytest

from nilcheck.linter import parsing
from nilcheck.linter.analysis import Analysis
from nilcheck.linter.entrypoints import resolve_entry
from nilcheck.linter.facts import POSITIONED, _string_value, extract, resolve_relative
from nilcheck.linter.ftypes import FileError
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import (
    Attr, Bind, Call, Either, If, Loop, Name, NoneConst, Read, Store, Try, walk_nodes,
)
from nilcheck.linter.parsing import _nesting_problem, _surely_shallow, parse_source
from nilcheck.linter.positions import provider_positions, start_positions
from nilcheck.linter.ordering import (
    TOP, RCall, RGen, RIf, RKill, RLoop, RRead, RSnapshot, RTry, solve, summarize,
)
from nilcheck.linter.resolve import Resolver
from nilcheck.linter.stack import call_on_large_stack


def facts_of(source: str, name: str = "pkg.mod", path: str = "pkg/mod.py"):
    return extract(cst.parse_module(textwrap.dedent(source)), name, path, False)


def function(module, qualname):
    return next(f for f in module.functions if f.qualname == qualname)


def project(**modules):
    return ProjectIndex(facts_of(src, name, name.replace(".", "/") + ".py")
                        for name, src in modules.items())


# ------------------------------------------------------------------ parsing, positions

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", [
    path for path in sorted((REPO / "linter").glob("*.py"))
    + sorted((REPO / "tests" / "fixtures").rglob("*.py"))[:80] if path.stat().st_size > 200],
                         ids=lambda path: path.relative_to(REPO).as_posix())
def test_start_positions_are_position_providers_starts(path):
    module = cst.parse_module(path.read_bytes())
    expected = {node: start for node, start in provider_positions(module).items()
                if type(node) in POSITIONED}
    assert expected
    assert start_positions(module, POSITIONED) == expected


def test_parsing_without_libcst_validation_gives_the_same_facts():
    # parsing skips libcst's node validation (valid by construction when parsed):
    # the facts must be exactly those of a validated parse, and validation must be
    # back on afterwards, also after a syntax error.
    validating = cst.CSTNode.__post_init__
    paths = ([path for path in sorted((REPO / "linter").glob("*.py"))]
             + sorted((REPO / "tests" / "fixtures").rglob("*.py"))[:60])
    for path in paths:
        source = path.read_bytes()
        unvalidated = parse_source(source, "m.py", "m", False)
        validated = extract(cst.parse_module(source), "m", "m.py", False)
        assert unvalidated == validated, path
    assert isinstance(parse_source(b"def broken(:\n", "b.py", "b", False), FileError)
    assert cst.CSTNode.__post_init__ is validating
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_validation_comes_back_after_overlapping_parses():
    # Threads of a program using the API may parse at once: validation stays off until
    # the last of them is done, and then comes back (never left off for good).
    validating = cst.CSTNode.__post_init__
    first, second = parsing._unvalidated_nodes(), parsing._unvalidated_nodes()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert cst.CSTNode.__post_init__ is not validating
    second.__exit__(None, None, None)
    assert cst.CSTNode.__post_init__ is validating


def test_string_values_are_what_libcst_evaluates():
    # facts._string_value reads plain literals without compiling them: compare with
    # libcst's evaluated_value on every string of the engine, the tests and odd cases.
    odd = r"""x = ['', "", '''a''b''', """ + '""' * 3 + r""", r'a\b', u'x', b'x', Rb'x',
    '\'', '''a
b''', '"', "'''", 'é', "a\nb"]
"""
    sources = [path.read_text(encoding="utf-8") for path in sorted((REPO / "linter").glob("*.py"))
               + sorted((REPO / "tests").glob("*.py"))]
    strings = [node for source in sources + [odd, odd.replace("\n", "\r\n")]
               for node in _all_nodes(cst.parse_module(source)) if type(node) is cst.SimpleString]
    assert len(strings) > 1000
    for node in strings:
        value = node.evaluated_value
        assert _string_value(node) == (value if isinstance(value, str) else None), node.value


def _all_nodes(module):
    class Collect(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.nodes = []

        def on_visit(self, node):
            self.nodes.append(node)
            return True

    collector = Collect()
    module.visit(collector)
    return collector.nodes


def test_start_positions_with_odd_layout():
    source = ("x = (  # comment\r\n  a.b\r\n)\rif (c):\n\tpass\n"
              "y = '''multi\nline''' + f(\n    k=lambda: (z := 1),\n) \\\n + 2\n")
    module = cst.parse_module(source)
    expected = {node: start for node, start in provider_positions(module).items()
                if type(node) in POSITIONED}
    assert len(expected) > 8
    assert start_positions(module, POSITIONED) == expected


SHALLOW = [
    "x = 1\n",
    "f(a, [b, {c: (d)}])\n" * 50,
    "s = '" + "(" * 500 + "'\n",  # brackets in strings and comments do not nest
    "# " + "[" * 500 + "\n",
    'doc = """\n' + "(\n" * 500 + '"""\n',
]
# Long literals are not cleared by the cheap bound (more than 1000 characters in one
# logical line) and go through the exact check, which accepts them.
LONG = "x = [\n" + "    1,\n" * 300 + "]\n"
DEEP = [
    "x = " + "(" * 250 + "1" + ")" * 250 + "\n",
    "x = " + "[\n" * 250 + "]\n" * 250,
    "x = " + ".".join(["a"] * 1200) + "\n",
    "x = a" + " + \\\n a" * 1100 + "\n",
    "x = (a" + "\n + a" * 1100 + ")\n",
    "s = ')'; x = " + "(" * 250 + "1" + ")" * 250 + "\n",  # a string's ) hides nothing
    "x = '''" + ")" * 300 + "''' + " + "(" * 250 + "1" + ")" * 250 + "\n",
]


@pytest.mark.parametrize("source", DEEP)
def test_exact_check_refuses_the_deep_cases(source):
    assert _nesting_problem(source) is not None


@pytest.mark.parametrize("source", DEEP)
def test_shallow_check_never_clears_what_the_exact_check_refuses(source):
    assert not _surely_shallow(source)


@pytest.mark.parametrize("source", SHALLOW)
def test_shallow_check_clears_ordinary_code(source):
    assert _nesting_problem(source) is None
    assert _surely_shallow(source)


def test_long_literals_take_the_exact_check_and_pass_it():
    assert not _surely_shallow(LONG)
    assert _nesting_problem(LONG) is None


# ------------------------------------------------------------------ facts


def test_nested_large_stack_calls_run_in_place_with_room_to_recurse():
    # The per-file stage calls call_on_large_stack inside a batch already running on
    # one: no thread per file, and the recursion limit still holds in the inner call.
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    def batch():
        outer = threading.get_ident()
        inner = [call_on_large_stack(lambda: (threading.get_ident(), depth(5000)))
                 for _ in range(3)]
        return outer, inner

    outer, inner = call_on_large_stack(batch)
    assert outer != threading.get_ident()
    assert inner == [(outer, 5000)] * 3
    with pytest.raises(RecursionError):
        call_on_large_stack(lambda: call_on_large_stack(lambda: depth(10**6)))


def test_facts_record_reads_stores_and_alias_substitution():
    module = facts_of("""
        class Api:
            def __init__(self):
                self.host = None

            def notify(self):
                h = self.host
                h.send(1)
        """)
    init = function(module, "Api.__init__")
    assert init.body == (Store(Attr(Name("self"), "host"), NoneConst(), 4, 9),)
    notify = function(module, "Api.notify")
    reads = [n for n in notify.body if isinstance(n, Read)]
    # `h.send` is a read of self.host at the line of the dereference, through the alias
    # (whose snapshot holds the value it took).
    assert Read(Attr(Name("self"), "host"), 8, 9, "h#1") in reads
    # The local is bound in its first version (see facts.ModuleConverter.bind_name).
    assert any(isinstance(n, Bind) and n.name == "h#1" for n in notify.body)


def test_facts_version_locals_so_each_use_sees_its_assignment():
    module = facts_of("""
        def run(flag):
            handler = make_a()
            handler.go()
            if flag:
                handler = make_b()
            handler.go()
            for item in items:
                handler.go()
                handler = make_c()
        """)
    run = function(module, "run")
    calls = [n for n in walk_nodes(run.body) if isinstance(n, Call)
             and isinstance(n.func, Attr) and n.func.attr == "go"]
    # First use: the first assignment; after the if: one of both; in the loop: a
    # version holding what the loop starts with or what an iteration leaves.
    assert [c.func.base for c in calls] == [Name("handler#1"), Name("handler#3"),
                                            Name("handler#4")]
    binds = {n.name: n.value for n in walk_nodes(run.body) if isinstance(n, Bind)}
    assert binds["handler#3"] == Either((Name("handler#2"), Name("handler#1")))
    assert binds["handler#4"] == Either((Name("handler#3"), Name("handler#5")))


def test_facts_without_positions_number_sites_and_keep_the_rest():
    source = """
        class Api:
            def notify(self):
                self.host.send(self.host)
        """
    positioned = facts_of(source)
    sites = extract(cst.parse_module(textwrap.dedent(source)), "pkg.mod", "pkg/mod.py", False,
                    positioned=False)
    assert positioned.positioned and not sites.positioned
    reads = [n for n in function(sites, "Api.notify").body if isinstance(n, Read)]
    # Two dereferences (`self.host.send`, the call) and the argument's presence read.
    assert [r.presence for r in reads] == [False, False, True]
    assert len({(r.line, r.column) for r in reads}) == 3  # distinct
    strip = lambda body: [type(n).__name__ for n in body]  # noqa: E731
    assert strip(function(sites, "Api.notify").body) == \
        strip(function(positioned, "Api.notify").body)
    assert sites.stored_attrs == positioned.stored_attrs == ()


def test_function_bodies_stay_pickled_until_read():
    module = facts_of("""
        class Api:
            def start(self):
                self.host = object()
                self.host.run()
        """)
    loaded = pickle.loads(pickle.dumps(module))
    start = function(loaded, "Api.start")
    assert "_pickled_body" in start.__dict__  # not unpickled by loading the module
    assert start.body == function(module, "Api.start").body
    assert "_pickled_body" not in start.__dict__
    assert loaded == module and module == loaded
    assert hash(start) == hash(function(module, "Api.start"))
    assert loaded.stored_attrs == ("host",)


def test_module_functions_stay_pickled_until_read():
    module = facts_of("""
        def helper():
            return 1

        class Api:
            def start(self):
                self.host = helper()
        """)
    loaded = pickle.loads(pickle.dumps(module))
    assert "_pickled_functions" in loaded.__dict__
    index = ProjectIndex([loaded])  # the index needs only the names
    assert sorted(index.functions) == ["pkg.mod.<module>", "pkg.mod.Api.start", "pkg.mod.helper"]
    assert "_pickled_functions" in loaded.__dict__
    assert index.function("pkg.mod.Api.start") == function(module, "Api.start")
    assert "_pickled_functions" not in loaded.__dict__
    assert loaded.function_names == module.function_names == ("helper", "Api.start")
    assert loaded == module and module == loaded
    assert pickle.loads(pickle.dumps(loaded)) == module  # and pickles again after loading


def test_facts_guards_become_branch_facts():
    module = facts_of("""
        class C:
            def f(self):
                if self.x is None:
                    return
                if not self.y:
                    raise RuntimeError
                assert self.z is not None
        """)
    ifs = [n for n in function(module, "C.f").body if isinstance(n, If)]
    x, y, z = (Attr(Name("self"), a) for a in "xyz")
    assert ifs[0].false_facts == (x,)
    assert ifs[1].false_facts == (y,)
    assert ifs[2].true_facts == (z,)


def test_facts_for_loops_run_once_and_try_catching_attribute_error():
    module = facts_of("""
        def f(items, obj):
            for item in items:
                obj.go()
            while items:
                pass
            try:
                obj.a.b()
            except AttributeError:
                pass
        """)
    body = function(module, "f").body
    loops = [n for n in body if isinstance(n, Loop)]
    assert [loop.runs_once for loop in loops] == [True, False]
    assert next(n for n in body if isinstance(n, Try)).catches_attribute_error


def test_facts_main_block_runs_after_module_code():
    module = facts_of("""
        import os
        app = object()
        if __name__ == "__main__":
            run(app)
        """)
    assert module.main_block is not None
    assert module.main_block.line == 4
    assert module.toplevel.qualname == "<module>"
    assert len(module.main_block.body) > len(module.toplevel.body)


def test_relative_imports_resolve_against_the_package():
    assert resolve_relative("pkg.sub.mod", False, 1, "x") == "pkg.sub.x"
    assert resolve_relative("pkg.sub.mod", False, 2, "") == "pkg"
    assert resolve_relative("pkg.sub", True, 1, "x") == "pkg.sub.x"


# ------------------------------------------------------------------ index and resolution


def test_index_mro_and_field_owner_follow_the_project_hierarchy():
    index = project(**{"app.base": """
        class Base:
            conn = None

        class Mixin:
            def setup(self):
                self.conn = 1

        class Service(Mixin, Base):
            pass
        """})
    Resolver(index)
    assert index.mro("app.base.Service") == ["app.base.Service", "app.base.Mixin",
                                             "app.base.Base"]
    assert index.field_owner("app.base.Service", "conn") == "app.base.Base"
    assert index.find_method("app.base.Service", "setup") == "app.base.Mixin.setup"


def test_resolver_types_fields_from_constructor_calls_and_annotations():
    index = project(**{"app.m": """
        class Store:
            def get(self):
                pass

        class Cache:
            pass

        class Service:
            cache: Cache

            def __init__(self, store: Store):
                self.store = store
                self.other = Store()
        """})
    resolver = Resolver(index)
    ctx = ("app.m.Service.__init__", "app.m.Service")
    resolver.prepare([ctx], live=["app.m.Service"])
    # An annotation declares an instance of the class, or of any subclass the program
    # builds (Store is built below).
    assert resolver.evaluate(ctx, Attr(Name("self"), "store")) == {
        ("decl", "app.m.Store"), ("inst", "app.m.Store")}
    assert resolver.field_values("app.m.Service", "other") == {("inst", "app.m.Store")}
    assert resolver.field_values("app.m.Service", "cache") == {("decl", "app.m.Cache")}
    assert resolver.evaluate(ctx, Attr(Attr(Name("self"), "store"), "get")) == {
        ("bound", "app.m.Store.get", "app.m.Store")}


def test_resolver_follows_imports_across_modules_and_cycles():
    index = project(**{
        "app.a": "from app.b import helper\nfrom app.b import loop_a\n",
        "app.b": "from app.a import loop_a\n\ndef helper():\n    pass\n",
    })
    resolver = Resolver(index)
    toplevel = ("app.a.<module>", None)
    assert resolver.evaluate(toplevel, Name("helper")) == {("func", "app.b.helper", None)}
    # An import cycle resolves to nothing in the project (and does not recurse forever).
    assert all(v[0] == "extern" for v in resolver.evaluate(toplevel, Name("loop_a")))


# ------------------------------------------------------------------ ordering


F = "m.C.f"


def test_summary_exposes_reads_before_local_assignment_only():
    body = (RRead("m.C.x", "m.C", 3, 1), RGen("m.C.x", 4, True), RRead("m.C.x", "m.C", 5, 1))
    summary = summarize((F, "m.C"), body, {})
    assert [key[3] for key in summary.exposed] == [3]
    assert summary.gen == frozenset({"m.C.x", "m.C.x?"})  # set, so present


def test_branches_meet_and_spawns_do_not_initialize_for_the_caller():
    callee = ("m.C.g", "m.C")
    summaries = {callee: summarize(callee, (RGen("m.C.x", 9, True),), {})}
    body = (RIf(frozenset(), frozenset(), (RCall((callee,), 2),), ()),
            RCall((callee,), 3, spawn=True),
            RRead("m.C.x", "m.C", 4, 1))
    summary = summarize((F, "m.C"), body, summaries)
    assert list(summary.exposed) == [("m.C.x", "m.C", F, 4, 1)]
    # Neither the branch's call nor the spawn sets x for the caller; the dereference
    # at line 4 proves it (if x were None, that line would have failed).
    assert summary.gen == frozenset({"m.C.x", "m.C.x?"})  # set, so present


def test_a_dispatched_call_sets_each_class_field_its_own_callee_sets():
    # `arg.create_stats()` on an A or a B: A's method sets A.stats, B's sets B.stats.
    on_a, on_b = ("m.A.create", "m.A"), ("m.B.create", "m.B")
    summaries = {on_a: summarize(on_a, (RGen("m.A.stats", 9, True),), {}),
                 on_b: summarize(on_b, (RGen("m.B.stats", 9, True), RGen("m.H.n", 9, True)),
                                 {})}
    body = (RCall((on_a, on_b), 2), RRead("m.A.stats", "m.A", 3, 1),
            RRead("m.H.n", "m.H", 4, 1))
    mro = {"m.A": ["m.A"], "m.B": ["m.B"]}

    def relevant(owner, cls):
        return owner in mro[cls]
    # Without class knowledge the two callees meet to nothing.
    assert [key[3] for key in summarize((F, None), body, summaries).exposed] == [3, 4]
    # With it, A.stats is set by the only callee for an A; H.n (a class neither callee
    # runs for) still needs both, and only one sets it.
    dispatched = summarize((F, None), body, summaries, relevant=relevant)
    assert [key[3] for key in dispatched.exposed] == [4]


def test_guards_protect_reads_in_callees_and_try_catches():
    reader = ("m.C.r", "m.C")
    summaries = {reader: summarize(reader, (RRead("m.C.x", "m.C", 9, 1),), {})}
    guarded = (RIf(frozenset({"m.C.x"}), frozenset(), (RCall((reader,), 2),), ()),)
    assert summarize((F, "m.C"), guarded, summaries).exposed == {}
    caught = (RTry((RCall((reader,), 2),), ((),), (), (), True),)
    assert summarize((F, "m.C"), caught, summaries).exposed == {}


def test_a_dereference_proves_the_value_and_an_alias_keeps_its_own():
    body = (RRead("m.C.x", "m.C", 2, 1), RRead("m.C.x", "m.C", 3, 1),
            RSnapshot("a", frozenset({"m.C.y"})), RGen("m.C.y", 5, True),
            RRead("m.C.y", "m.C", 6, 1, snapshot="a"), RRead("m.C.y", "m.C", 7, 1, snapshot="a"))
    summary = summarize((F, "m.C"), body, {})
    # The first dereference of x only; the alias took y while it was unset (line 6),
    # whatever was assigned since, and its first dereference proved it (line 7).
    assert sorted(key[3] for key in summary.exposed) == [2, 6]


def test_a_flag_assigned_false_is_not_a_passed_guard():
    callee = ("m.C.use", "m.C")
    summaries = {callee: summarize(callee, (RRead("m.C.conn", "m.C", 9, 1),), {})}
    flags = frozenset({"m.C.ready"})
    falsy = (RGen("m.C.ready", 1, True, truthy=False), RCall((callee,), 2))
    truthy = (RGen("m.C.ready", 1, True), RCall((callee,), 2))
    assert list(summarize((F, "m.C"), falsy, summaries, flags).exposed.values())[0][1] \
        == frozenset()
    assert list(summarize((F, "m.C"), truthy, summaries, flags).exposed.values())[0][1] \
        == frozenset({"m.C.ready"})


def test_loops_for_runs_once_while_may_not():
    init = RGen("m.C.x", 2, True)
    for_loop = summarize((F, "m.C"), (RLoop((init,), (), False, frozenset(), True),), {})
    while_loop = summarize((F, "m.C"), (RLoop((init,), (), False, frozenset(), False),), {})
    assert for_loop.gen == frozenset({"m.C.x", "m.C.x?"})  # set, so present
    assert while_loop.gen == frozenset()


def test_recursive_components_reach_the_greatest_fixpoint():
    # connect() retries through itself, else assigns: once it returns, x is set.
    connect = ("m.C.connect", "m.C")
    body = (RIf(frozenset(), frozenset(), (RCall((connect,), 2),), (RGen("m.C.x", 3, True),)),)
    graph = nx.DiGraph()
    graph.add_edge(connect, connect)
    summaries = {}
    solve(graph, {connect: body}, summaries, [connect])
    assert summaries[connect].gen == frozenset({"m.C.x", "m.C.x?"})  # set, so present
    assert summaries[connect].gen is not TOP


def test_long_recursive_cycles_expose_every_read():
    ring = [(f"m.f{i}", None) for i in range(50)]
    graph = nx.DiGraph()
    bodies = {}
    for i, ctx in enumerate(ring):
        nxt = ring[(i + 1) % len(ring)]
        graph.add_edge(ctx, nxt)
        bodies[ctx] = (RRead(f"m.C.x{i}", "m.C", i + 1, 1), RCall((nxt,), 100 + i))
    summaries = {}
    solve(graph, bodies, summaries, ring)
    assert len(summaries[ring[0]].exposed) == 50


# ------------------------------------------------------------------ entry points and analysis


def test_entry_points_resolve_methods_functions_main_and_reexports():
    index = project(**{
        "app": "from app.cli import main\n",
        "app.cli": """
            class Server:
                def __init__(self):
                    pass

                def start(self):
                    pass

            def main():
                pass

            if __name__ == "__main__":
                main()
            """})
    Resolver(index)
    method = resolve_entry(index, "app.cli:Server.start")
    assert method.ctx == ("app.cli.Server.start", "app.cli.Server")
    assert ("app.cli.Server.__init__", "app.cli.Server") in method.prelude
    assert resolve_entry(index, "app:main").ctx == ("app.cli.main", None)
    assert resolve_entry(index, "app.cli:__main__").ctx == ("app.cli.<main>", None)
    assert "no module" in resolve_entry(index, "nope:main")
    assert "no function or method" in resolve_entry(index, "app.cli:missing")


def test_analysis_reports_the_read_before_the_late_initializer():
    index = project(**{"app.m": """
        class Api:
            def __init__(self):
                self.host = None

            def attach(self, host):
                self.host = host

            def notify(self):
                self.host.send()

        def main():
            api = Api()
            api.notify()
            api.attach(object())
        """})
    resolver = Resolver(index)
    entry = resolve_entry(index, "app.m:main")
    hazards = Analysis(index, resolver).hazards([entry])
    assert [(h.rule, h.field, h.line) for h in hazards] == [("NIL001", "app.m.Api.host", 10)]
    assert hazards[0].initializer == ("app.m.Api.attach", 7)
    assert [hop.kind for hop in hazards[0].trace] == ["call", "read"]


@pytest.mark.parametrize("order, expected", [("attach-first", 0), ("notify-first", 1)])
def test_order_decides(order, expected):
    calls = ["api.attach(object())", "api.notify()"]
    if order == "notify-first":
        calls.reverse()
    body = "\n".join(f"    {call}" for call in calls)
    source = ("class Api:\n    def __init__(self):\n        self.host = None\n\n"
              "    def attach(self, host):\n        self.host = host\n\n"
              "    def notify(self):\n        self.host.send()\n\n"
              f"def main():\n    api = Api()\n{body}\n")
    index = project(**{"app.m": source})
    hazards = Analysis(index, Resolver(index)).hazards([resolve_entry(index, "app.m:main")])
    assert len(hazards) == expected


def test_presence_reads_fail_only_while_the_attribute_does_not_exist():
    # `if self.x:` before any store is exposed; after `self.x = None` it is not (the
    # attribute exists), though a dereference there still is.
    body = (RRead("m.C.x", "m.C", 2, 1, presence=True), RKill("m.C.x", 3),
            RRead("m.C.x", "m.C", 4, 1, presence=True), RRead("m.C.x", "m.C", 5, 1))
    summary = summarize((F, "m.C"), body, {})
    assert sorted((key[0], key[3]) for key in summary.exposed) == [("m.C.x", 5), ("m.C.x?", 2)]
    assert summary.gen == frozenset({"m.C.x", "m.C.x?"})  # the dereference narrowed it


def test_presence_holds_where_either_branch_created_the_attribute():
    # One branch sets x, the other sets it to None: after them x exists, maybe None.
    body = (RIf(frozenset(), frozenset(), (RGen("m.C.x", 2, True),), (RKill("m.C.x", 3),)),
            RRead("m.C.x", "m.C", 4, 1, presence=True))
    summary = summarize((F, "m.C"), body, {})
    assert not summary.exposed
    assert summary.gen == frozenset({"m.C.x?"})
