"""Value flow: which functions, classes, instances, closures and containers each
expression of the program can hold, computed to a fixed point.

This is an assignment (points-to) graph in the manner of PyCG and Andersen's analysis:
nodes are the program's variables (a local of a function in a context, a module global,
a field of the instances of a class, a class attribute, a parameter, a return value, a
container's elements) and the expressions that combine them; a value added to a node
flows along subset edges, and the nodes that need more than copying (an attribute load,
a call, a subscript, iteration) watch their inputs and act on each value as it arrives.
Calls are resolved while the graph grows ("on the fly"): a function's body enters the
graph in a context when a call to it is found, so only code that can run from the roots
is analysed.

Flow-insensitive, like PyCG: a name holds every value any of its assignments gives it.
Context-sensitive in one respect, like the rest of nilcheck: a method runs in a context
(function id, class of `self`), so `self.setup()` in a base class reaches the
subclass's override and each class's instances have fields of their own. A closure
carries the class of the `self` of the function that made it.

Values are tuples:

    ("inst", cid)  ("decl", cid)  ("class", cid)     an instance, an instance of a class
                                                     or its project subclasses (from an
                                                     annotation), a class
    ("func", fid, cid|None)  ("bound", fid, cid)  ("unbound", fid, cid)
    ("super", owner cid, self cid)  ("module", name)
    ("extern", dotted)  ("extinst", dotted)  ("builtin", name)     outside the project
    ("seq", kind, ctx, site)  ("dict", ctx, site)  ("view", container, kind)
    ("pair", container)  ("cmeth", container, method)              containers
    ("gen", ctx)  ("coro", ctx)              a generator or coroutine object
    ("thread", site)  ("tstart", site)  ("runstart", cid)          threads not started yet

Every call site records what it invoked (CallSite): the analysis, `nilcheck graph`
and the fix planner all read those records; nothing resolves a call a second way.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Deque, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import (
    Attr, Await, AwaitValue, Bind, Call, CallExpr, Comp, Declared, Decorated, DictLit,
    Either, Enter, Expr, If, Iter, Lit, LocalClass, LocalFunc, Loop, Name, NoneConst, Read,
    Seq, SetItem, Starred, Store, Subscript, Super, node_exprs, subexpressions, walk_nodes,
)
from nilcheck.linter.models import (
    CONCURRENT_CALLS, CONCURRENT_REGISTRARS, CONTAINER_METHODS, COROUTINE_RUNNERS,
    COROUTINE_RUNNERS_AWAITED, ITERATING_BUILTINS, MODELLED_METHODS, NOT_REGISTRATIONS,
    PLAIN_BASES, SYNC_CALLERS, SYNC_HOOK_LIBRARIES, SYNC_HOOKS, THREAD_BASES, THREAD_FACTORIES,
)
from nilcheck.linter.names import BUILTIN_NAMES, StaticNames

# (function id, class of self or None), or with a third element for a function analysed
# apart for one callable it was given (see _run), which closures made there keep too.
Ctx = Tuple
Value = tuple
_NO_VALUES: FrozenSet[Value] = frozenset()
# Values that can be called and run project code.
CALLABLE_KINDS = frozenset({"func", "bound"})
# An external name gets no longer than this many dotted parts: `x = x.next` on an
# external object must not make a new name forever.
_MAX_EXTERN_PARTS = 5
# Named external values a node may hold before one unknown external stands for them.
_MAX_EXTERNALS = 24
_EXTERNAL_KINDS = frozenset({"extern", "extinst"})
# An object from outside the project that nothing names.
UNKNOWN_EXTERNAL = ("extinst", "?")
# Outside code that only formats, copies or inspects what it is given (it calls dunder
# methods at most, never an initializer): handing it an object is no escape.
_INSPECTING_PREFIXES = ("<builtin>.", "logging.", "warnings.", "pprint.", "json.",
                        "copy.", "weakref.", "inspect.", "traceback.", "typing.",
                        "dataclasses.", "reprlib.", "textwrap.")


def variant_part(ctx: Ctx, tag: str) -> tuple:
    """What a per-call context records under tag ("<omitted>": the optional parameters
    its calls leave out; "<types>": (parameter, class) its calls show; "<keys>":
    (parameter, literal key) its calls pass), or ()."""
    return next((part[1] for part in ctx[2:] if isinstance(part, tuple) and part[0] == tag),
                ())


class CallSite:
    """One call in one context, and everything it was found to invoke."""

    __slots__ = ("ctx", "expr", "args", "kwargs", "result", "func", "mode", "invoked",
                 "externals", "spawned", "escape_spawned", "synced", "escaped", "precise", "made",
                 "spawn_into", "_seen", "_registered")

    def __init__(self, ctx: Ctx, expr, args, kwargs, result: int, func: Optional[int],
                 mode: str = ""):
        self.ctx = ctx
        self.expr = expr
        self.args: List[Tuple[bool, int]] = args  # (starred, node)
        self.kwargs: List[Tuple[str, int]] = kwargs  # (name or "**", node)
        self.result = result
        self.func = func  # node of the callee expression (None for decorators)
        self.mode = mode  # "" | "raise" | "decorator"
        # contexts called here: "call" runs the body now; "coro" only makes a coroutine
        # object and "gen" a generator object, which run where they are consumed
        self.invoked: Dict[Ctx, str] = {}
        self.externals: Set[str] = set()  # names outside the project called here
        self.spawned: Dict[Ctx, bool] = {}  # may run later; True: on another thread
        # The same, for a call that resolved to nothing when the flow last settled:
        # meaningful only while it still resolves to nothing.
        self.escape_spawned: Dict[Ctx, bool] = {}
        self.escaped = False
        # Argument nodes written as one particular callable (a def's name, `self.m`,
        # a lambda): a callee may be analysed apart for what these give (see _run).
        self.precise: Set[int] = set()
        # Argument nodes written as a call (`convert_yielded(self.run())`): the coroutine
        # object such a call makes is as particular to this site as a callable.
        self.made: Set[int] = set()
        # For a site standing for outside code that calls what it was given (a thread,
        # a registered callback): the real sites that spawn what this one invokes, each
        # with (concurrent, escaping).
        self.spawn_into: List[Tuple["CallSite", bool, bool]] = []
        # Run to completion inside this call (map, asyncio.run, an awaited gather), by
        # the argument that gave them: each argument's run in turn, one of its values.
        self.synced: Dict[int, Set[Ctx]] = {}
        self._seen: Set[Value] = set()
        self._registered: Set[Tuple[int, str]] = set()


class Flow:
    def __init__(self, index: ProjectIndex, spawners: Iterable[str] = (),
                 names: Optional[StaticNames] = None):
        self.index = index
        self.argument_sensitive = True
        self.names = names or StaticNames(index)
        self.spawners = frozenset(spawners)
        self._ids: Dict[object, int] = {}
        self._pts: List[Set[Value]] = []
        self._succ: List[Optional[Set[int]]] = []
        self._watchers: List[Optional[List[Callable]]] = []
        self._pending: Dict[int, Set[Value]] = {}
        self._queue: Deque[int] = deque()
        self._to_lower: Deque[Ctx] = deque()
        self.lowered: Dict[Ctx, None] = {}  # insertion-ordered set of lowered contexts
        self._exprs: Dict[Tuple[Ctx, Expr], int] = {}
        self.sites: Dict[Tuple[Ctx, object], CallSite] = {}
        self.live: Set[str] = set()  # classes instantiated on the analysed paths
        self._decl_nodes: Dict[str, List[int]] = {}
        self._display_lengths: Dict[Value, int] = {}
        self._stores_by_class: Dict[str, Dict[str, List[Tuple[str, Expr]]]] = {}
        # Instance fields waiting for a class attribute that nothing has stored yet.
        self._class_field_waiters: Dict[Tuple[str, str], List[int]] = {}
        self._stores: List[Tuple[Ctx, int, int]] = []  # (ctx, base node, value node)
        self._stores_checked = 0
        # (class, attribute) pairs some store in the analysed code may assign, and for
        # each whether the stores are by the code that has just built the object.
        self.stored_fields: Set[Tuple[str, str]] = set()
        # The same, for stores of something other than None.
        self.valued_fields: Set[Tuple[str, str]] = set()
        self._field_store_kinds: Dict[Tuple[str, str], Set[bool]] = {}
        # Callables stored into another module's globals.
        self.patch_values: Set[Value] = set()
        self._external_counts: Dict[int, int] = {}
        self._thread_runs: Dict[object, CallSite] = {}  # thread -> the site of its run
        # Calls of a function analysed apart per callable, whose own context has not run.
        self._unsplit_bases: List[tuple] = []
        self._higher_order_params: Dict[str, FrozenSet[str]] = {}
        self._transparent_functions: Dict[str, bool] = {}
        self._numbered_calls: Dict[str, Dict[CallExpr, int]] = {}
        self._stored_attribute_names = frozenset(
            name for module in index.modules.values() for name in module.stored_attrs)
        self._closure_makers: Dict[str, FrozenSet[str]] = {}
        # Calls that evaluating a node makes without a call written (iteration's
        # __iter__/__next__, a `with`'s __enter__, a property getter).
        self.implicit: Dict[int, Set[Ctx]] = {}
        self.implicit_by_context: Dict[Ctx, Set[Ctx]] = {}
        self._memo: Dict[object, int] = {}
        self._tests: Dict[str, Tuple[FrozenSet[str], FrozenSet[str]]] = {}  # see _tested
        self._indexer_params: Dict[str, FrozenSet[str]] = {}  # see _indexers
        # Per context, the calls written `await f(...)`: noted before their sites are
        # made, since a runner such as gather() runs coroutines only when awaited.
        self._awaited: Dict[Ctx, Set[CallExpr]] = {}
        self._escaped: Optional[Tuple[int, FrozenSet[str]]] = None
        # Classes an object only declared (by an annotation) is used as: such objects
        # come from code the analysis does not see, with a history it does not know.
        self.declared_used: Set[str] = set()

    # ------------------------------------------------------------ the graph

    def _node(self, key) -> Tuple[int, bool]:
        """The node for key, and whether it was just made."""
        found = self._ids.get(key)
        if found is not None:
            return found, False
        found = len(self._pts)
        self._ids[key] = found
        self._pts.append(set())
        self._succ.append(None)
        self._watchers.append(None)
        return found, True

    def _fresh(self) -> int:
        """A node of an expression (found through the expression memo, not by a key)."""
        found = len(self._pts)
        self._pts.append(set())
        self._succ.append(None)
        self._watchers.append(None)
        return found

    def _add(self, node: int, values) -> None:
        points = self._pts[node]
        new = [v for v in values if v not in points]
        if not new:
            return
        if any(v[0] in _EXTERNAL_KINDS for v in new):
            new = self._widened(node, new)
            if not new:
                return
        points.update(new)
        pending = self._pending.get(node)
        if pending is None:
            self._pending[node] = set(new)
            self._queue.append(node)
        else:
            pending.update(new)

    def _widened(self, node: int, new: List[Value]) -> List[Value]:
        """new, with at most _MAX_EXTERNALS named external values per node: past that,
        one unknown external object (`?`) stands for all of them. External names are
        made by attribute chains on what flows in, and without a bound a parameter that
        many callers give externals would multiply names (the standard library made
        hundreds of thousands)."""
        count = self._external_counts.get(node, 0)
        kept = []
        for value in new:
            if value[0] not in _EXTERNAL_KINDS or value == UNKNOWN_EXTERNAL:
                kept.append(value)
            elif count < _MAX_EXTERNALS:
                count += 1
                kept.append(value)
            elif count == _MAX_EXTERNALS:
                count += 1
                if UNKNOWN_EXTERNAL not in self._pts[node]:
                    kept.append(UNKNOWN_EXTERNAL)
        self._external_counts[node] = count
        return kept

    def _edge(self, source: int, target: int) -> None:
        if source == target:
            return
        successors = self._succ[source]
        if successors is None:
            successors = self._succ[source] = set()
        elif target in successors:
            return
        successors.add(target)
        if self._pts[source]:
            self._add(target, tuple(self._pts[source]))

    def _watch(self, node: int, action: Callable[[Iterable[Value]], None]) -> None:
        watchers = self._watchers[node]
        if watchers is None:
            watchers = self._watchers[node] = []
        watchers.append(action)
        if self._pts[node]:
            action(tuple(self._pts[node]))

    def solve(self) -> None:
        """Propagate to the fixed point; then let callables that reach calls nothing
        resolves run from there (they are registered callbacks), and go on."""
        while True:
            self._drain()
            if not self._escape_unresolved():
                return

    def _drain(self) -> None:
        queue, pending, lower = self._queue, self._pending, self._to_lower
        while True:
            if lower:
                self._lower(lower.popleft())
                continue
            if not queue:
                return
            node = queue.popleft()
            delta = tuple(pending.pop(node))
            successors = self._succ[node]
            if successors:
                for target in tuple(successors):
                    self._add(target, delta)
            watchers = self._watchers[node]
            if watchers:
                for action in tuple(watchers):
                    action(delta)

    def _escape_unresolved(self) -> bool:
        """Callables passed to calls that resolve to nothing, or stored on objects of no
        known kind, may be called from there: analyse them. True if anything changed."""
        before = len(self._to_lower) + len(self._queue)
        for site, ctx, function, plan, result, split, node in list(self._unsplit_bases):
            if not self._pts[node] and ctx not in site.invoked:
                # Given nothing known: the function still runs.
                self._call_context(site, ctx, function, plan, result, split, None)
        self._unsplit_bases = [base for base in self._unsplit_bases
                               if base[1] not in base[0].invoked]
        for site in list(self.sites.values()):  # registering may make more sites
            if site.func is not None and site.mode == "" and not site.escaped \
                    and not self._pts[site.func]:
                site.escaped = True
                self._register_args(site, concurrent=self._concurrent_name(site.expr),
                                    escaping=True)
        for ctx, base, value in self._stores[self._stores_checked:]:
            if not self._pts[base]:
                self._escape_callables(value)
        self._stores_checked = len(self._stores)
        return len(self._to_lower) + len(self._queue) > before

    # ------------------------------------------------------------ queries

    def values(self, ctx: Ctx, expr: Expr) -> FrozenSet[Value]:
        """What expr can hold when evaluated in ctx (solving more first if the graph did
        not have it yet)."""
        node = self._exprs.get((ctx, expr))
        if node is None:
            node = self.expr(ctx, expr)
            self.solve()
        return frozenset(self._pts[node])

    def node_values(self, node: int) -> FrozenSet[Value]:
        return frozenset(self._pts[node])

    def expr_node(self, ctx: Ctx, expr: Expr) -> Optional[int]:
        return self._exprs.get((ctx, expr))

    def site(self, ctx: Ctx, call: Call) -> Optional[CallSite]:
        """The record of a call event of a lowered context."""
        if call.kind == "decorator":
            return self.sites.get((ctx, ("decorate", call.func, call.args[0])))
        if call.kind == "raise":
            return self.sites.get((ctx, ("raise", call.func)))
        return self.sites.get((ctx, CallExpr(call.func, call.args, call.kwargs)))

    def field_values(self, cid: str, attr: str) -> FrozenSet[Value]:
        return frozenset(self._pts[self._instance_field(cid, attr)])

    def escaped_classes(self) -> FrozenSet[str]:
        """Classes whose instances, or the class itself, reach code the analysis does
        not follow: an argument of a call that resolves to nothing or to a name outside
        the project, a store into an object from outside the project or of no known
        kind, `getattr`/`setattr` with a computed name. That code may call any of their
        methods, or assign their fields, at any time (computed once the flow settled)."""
        if self._escaped is not None and self._escaped[0] == len(self.sites):
            return self._escaped[1]
        found: Set[str] = set()
        seen: Set[int] = set()
        for site in self.sites.values():
            if site.mode == "raise":
                continue
            unresolved = site.func is not None and not self._pts[site.func]
            outside = unresolved or any(
                not name.startswith(_INSPECTING_PREFIXES) and not self._modelled(name)
                for name in site.externals)
            if not outside and site.externals and site.args:
                # getattr(obj, name) with a computed name can reach any method.
                if {"<builtin>.getattr", "<builtin>.setattr", "<builtin>.delattr",
                        "<builtin>.vars"} & site.externals and not _literal_name(site):
                    outside = True
            if not outside:
                continue
            for _, node in site.args:
                self._classes_held(node, found, seen)
            for _, node in site.kwargs:
                self._classes_held(node, found, seen)
        for _, base, value in self._stores:
            held = self._pts[base]
            if not held or any(v[0] in _EXTERNAL_KINDS for v in held):
                self._classes_held(value, found, seen)
        result = frozenset(found)
        self._escaped = (len(self.sites), result)
        return result

    def _modelled(self, dotted: str) -> bool:
        """Is dotted a library call whose use of what it is given the flow models (it
        calls the callbacks, and does nothing else with them)?"""
        return dotted in CONCURRENT_CALLS or dotted in SYNC_CALLERS \
            or dotted in THREAD_FACTORIES or dotted in self.spawners \
            or dotted in COROUTINE_RUNNERS

    def _classes_held(self, node: int, found: Set[str], seen: Set[int],
                      depth: int = 0) -> None:
        """Classes of the instances (and classes) node holds, and its containers hold
        (one level down). seen: nodes already looked at, since many arguments share
        the same large containers."""
        key = node if depth == 0 else ~node
        if key in seen:
            return
        seen.add(key)
        for value in self._pts[node]:
            kind = value[0]
            if kind in ("inst", "decl", "class"):
                found.add(value[1])
            elif depth == 0 and (kind == "seq" or kind == "dict"):
                for part in ("elem", "all"):
                    inner = self._ids.get((part, value))
                    if inner is not None:
                        self._classes_held(inner, found, seen, 1)

    # ------------------------------------------------------------ contexts

    def enter(self, ctx: Ctx) -> None:
        """Analyse the body of ctx (once)."""
        if ctx not in self.lowered and ctx[0] in self.index.functions:
            self.lowered[ctx] = None
            self._to_lower.append(ctx)

    def mark_live(self, cid: str) -> None:
        """Instances of cid exist: calls on a base class or protocol reach its methods."""
        if cid in self.live or cid not in self.index.classes:
            return
        self.live.add(cid)
        for klass in self.index.mro(cid):
            for node in self._decl_nodes.get(klass, ()):
                self._add(node, (("inst", cid),))

    def _lower(self, ctx: Ctx) -> None:
        """Every expression of the body of ctx into the graph."""
        fid = ctx[0]
        function = self.index.function(fid)
        for param in function.params:
            self._var(ctx, param.name)
        for node in walk_nodes(function.body):
            kind = type(node)
            if kind is Call:
                if node.awaited:
                    self._awaited.setdefault(ctx, set()).add(
                        CallExpr(node.func, node.args, node.kwargs))
                if node.kind == "raise":
                    self._raise_site(ctx, node.func)
                elif node.kind == "":
                    self.expr(ctx, CallExpr(node.func, node.args, node.kwargs))
            elif kind is Read:
                self.expr(ctx, node.target.base)
            elif kind is Store:
                self._store(ctx, node.target, node.value)
            elif kind is Bind:
                # A local's value enters the graph when something reads the local (see
                # _var); a `global` one feeds the module's global now, and one that
                # iterates or enters a `with` may call now.
                if node.name in function.global_names:
                    value = self.expr(ctx, node.value)
                    self._edge(value, self._global(self.index.module_of(fid).name, node.name))
                elif type(node.value) in _CALLING_VALUES:
                    self.expr(ctx, node.value)
            elif kind is SetItem:
                self._set_item(ctx, node.base, node.index, node.value)
            elif kind is AwaitValue:
                self.expr(ctx, Await(node.value))
            elif kind is If:
                for fact in node.true_facts + node.false_facts:
                    if isinstance(fact, Attr):
                        self.expr(ctx, fact.base)
            elif kind is Loop:
                for fact in node.exit_facts:
                    if isinstance(fact, Attr):
                        self.expr(ctx, fact.base)
        returned = self._node(("ret", ctx))[0]
        for value in function.return_values:
            self._edge(self.expr(ctx, value), returned)
        if function.yield_values:
            yielded = self._node(("yield", ctx))[0]
            for value in function.yield_values:
                self._edge(self.expr(ctx, value), yielded)

    # ------------------------------------------------------------ names

    def _var(self, ctx: Ctx, name: str) -> int:
        """A local variable (or parameter) of the function running in ctx."""
        node, new = self._node(("var", ctx, name))
        if not new:
            return node
        fid = ctx[0]
        index = self.index
        function = index.function(fid)
        for value in index.binds(fid).get(name, ()):
            self._edge(self.expr(ctx, value), node)
        # A name without a version (a parameter, or a closure's view of its maker's
        # local) holds whatever any version does.
        if "#" not in name:
            for label in index.versions(fid, name):
                self._edge(self._var(ctx, label), node)
        for position, param in enumerate(function.params):
            if param.name != name:
                continue
            if position == 0 and function.kind in ("method", "property") and ctx[1]:
                self._add(node, (("inst", ctx[1]),))
            elif position == 0 and function.kind == "classmethod" and ctx[1]:
                self._add(node, (("class", ctx[1]),))
            if param.kind == "*":
                self._add(node, (("seq", "tuple", ctx, "*"),))
            elif param.kind == "**":
                self._add(node, (("dict", ctx, "**"),))
            if param.default is not None:
                self._edge(self.expr(self._defining_ctx(ctx), param.default), node)
            if param.annotation is not None:
                self._edge(self.expr(self._module_ctx(fid), Declared(param.annotation)), node)
        return node

    def _defining_ctx(self, ctx: Ctx) -> Ctx:
        """Where a function's def statement runs: its enclosing function, or its module."""
        function = self.index.function(ctx[0])
        if function.parent is not None:
            parent = f"{self.index.module_of(ctx[0]).name}.{function.parent}"
            if parent in self.index.functions:
                return (parent, ctx[1]) + ctx[2:]
        return self._module_ctx(ctx[0])

    def _module_ctx(self, fid: str) -> Ctx:
        return (f"{self.index.module_of(fid).name}.<module>", None)

    def _name(self, ctx: Ctx, name: str) -> int:
        index = self.index
        fid = ctx[0]
        while True:
            function = index.function(fid)
            if function.qualname in ("<module>", "<main>"):
                if "#" in name:  # a version of a global, as module-level code sees it
                    return self._var(ctx, name)
                break
            if name in function.local_names:
                return self._var(ctx, name)
            if name in function.global_names or function.parent is None:
                break
            parent = f"{index.module_of(fid).name}.{function.parent}"
            if parent not in index.functions:
                break
            fid = parent
            ctx = (parent, ctx[1]) + ctx[2:]
        return self._module_name(index.module_of(fid).name, name)

    def _module_name(self, module_name: str, name: str) -> int:
        """A name looked up in a module's global scope (then the builtins)."""
        key = ("name", module_name, name)
        node, new = self._node(key)
        if not new:
            return node
        module = self.index.modules[module_name]
        if self.names.provides(module, name):
            self._edge(self._global(module_name, name), node)
        else:
            found = self.names.lookup(module, name)
            if name in BUILTIN_NAMES and found == ("extern", name):
                self._add(node, (("builtin", name),))
            elif found is not None:
                self._add(node, (found,))
        return node

    def _global(self, module_name: str, name: str) -> int:
        """A module's global variable: what its statements, imports and `global`
        declarations bind it to, and what code elsewhere stores into it."""
        node, new = self._node(("global", module_name, name))
        if not new:
            return node
        index = self.index
        module = index.modules[module_name]
        toplevel = (f"{module_name}.<module>", None)
        for value in index.global_binds(module_name).get(name, ()):
            self._edge(self.expr(toplevel, value), node)
        for imported in module.imports:
            if imported.local != name:
                continue
            if imported.name is not None and imported.module in index.modules \
                    and self.names.provides(index.modules[imported.module], imported.name):
                self._edge(self._global(imported.module, imported.name), node)
                continue
            found = self.names.imported(imported)
            if found is not None:
                self._add(node, (found,))
        for provider in self.names.star_providers(module, name):
            self._edge(self._global(provider, name), node)
        if not index.global_binds(module_name).get(name):
            qualified = f"{module_name}.{name}"
            if qualified in index.classes:
                self._add(node, (("class", qualified),))
            elif qualified in index.functions and index.function(qualified).parent is None:
                self._add(node, (("func", qualified, None),))
        return node

    # ------------------------------------------------------------ expressions

    def expr(self, ctx: Ctx, expr: Expr) -> int:
        """The node of expr evaluated in ctx (made once per context and expression)."""
        key = (ctx, expr)
        node = self._exprs.get(key)
        if node is None:
            node = self._expr(ctx, expr)
            self._exprs[key] = node
        return node

    def _expr(self, ctx: Ctx, expr: Expr) -> int:
        kind = type(expr)
        if kind is Name:
            return self._name(ctx, expr.id)
        if kind is Attr:
            return self._load(ctx, self.expr(ctx, expr.base), expr.attr)
        if kind is CallExpr:
            return self._call_site(ctx, expr, expr.func, expr.args, expr.kwargs).result
        node = self._fresh()
        if kind is LocalFunc:
            fid = f"{self.index.module_of(ctx[0]).name}.{expr.qualname}"
            if fid in self.index.functions:
                if self.index.function(fid).parent is not None:
                    # A closure runs with the self, and in the frame, of what made it.
                    self._add(node, (("func", fid, ctx[1]) + ctx[2:],))
                else:
                    self._add(node, (("func", fid, None),))
        elif kind is LocalClass:
            cid = f"{self.index.module_of(ctx[0]).name}.{expr.qualname}"
            if cid in self.index.classes:
                self._add(node, (("class", cid),))
        elif kind is Super:
            owner = self._owner_class(ctx[0])
            if owner is not None:
                self._add(node, (("super", owner, ctx[1] or owner),))
        elif kind is Either:
            for option in expr.options:
                self._edge(self.expr(ctx, option), node)
        elif kind is Seq:
            self._display(ctx, expr, node)
        elif kind is DictLit:
            self._dict_display(ctx, expr, node)
        elif kind is Comp:
            container = ("dict", ctx, expr.site) if expr.kind == "dict" else \
                ("seq", expr.kind, ctx, expr.site)
            self._add(node, (container,))
            self._edge(self.expr(ctx, expr.element), self._container(container, "elem"))
            if expr.key is not None:
                self._edge(self.expr(ctx, expr.key), self._container(container, "keys"))
        elif kind is Iter or kind is Starred:
            inner = expr.base if kind is Iter else expr.value
            self._edge(self._elements(ctx, self.expr(ctx, inner)), node)
        elif kind is Subscript:
            self._subscript(ctx, expr, node)
        elif kind is Await:
            if isinstance(expr.value, CallExpr):
                self._awaited.setdefault(ctx, set()).add(expr.value)
            self._watch(self.expr(ctx, expr.value), lambda values: self._await(values, node))
        elif kind is Enter:
            self._watch(self.expr(ctx, expr.value),
                        lambda values: self._entered(ctx, values, node))
        elif kind is Declared:
            self._declared(ctx, expr.annotation, node)
        elif kind is Decorated:
            self._decorated(ctx, expr, node)
        elif kind is Lit:
            pass  # literals call nothing (their methods are the builtin types')
        return node

    def _implicit(self, ctx: Ctx, node: int, target: Ctx) -> None:
        """Evaluating node in ctx calls target without a call being written."""
        self.implicit.setdefault(node, set()).add(target)
        self.implicit_by_context.setdefault(ctx, set()).add(target)

    def _owner_class(self, fid: str) -> Optional[str]:
        index = self.index
        while fid in index.functions:
            function = index.function(fid)
            module = index.module_of(fid)
            if function.owner_class is not None:
                return f"{module.name}.{function.owner_class}"
            if function.parent is None:
                return None
            fid = f"{module.name}.{function.parent}"
        return None

    def _declared(self, ctx: Ctx, annotation: Expr, node: int) -> None:
        """An annotation's class: an instance of it or of any project subclass that is
        instantiated (rapid type analysis: a `Protocol` or ABC reaches the
        implementations the program builds)."""
        found = self.names.resolve(self.index.module_of(ctx[0]), annotation)
        if found is None:
            return
        if found[0] == "class":
            cid = found[1]
            self._add(node, (("decl", cid),))
            self._decl_nodes.setdefault(cid, []).append(node)
            live = [klass for klass in self.live if cid in self.index.mro(klass)]
            self._add(node, [("inst", klass) for klass in sorted(live)])
        elif found[0] == "extern" and found[1] not in BUILTIN_NAMES:
            self._add(node, (("extinst", found[1]),))

    def _decorated(self, ctx: Ctx, expr: Decorated, node: int) -> None:
        """A project decorator's return value; an external one is taken to return the
        function it decorates (frameworks' registration decorators, functools.wraps,
        caching)."""
        function = self.expr(ctx, expr.function)
        decorator = self.expr(ctx, expr.decorator)
        site = self._site(ctx, ("decorate", expr.decorator, expr.function), [(False, function)],
                          [], None, "decorator", node)
        site.precise.add(function)

        def apply(values):
            for value in values:
                if value[0] in ("func", "bound", "unbound", "class", "inst", "decl"):
                    self._invoke(site, value)
                else:
                    self._edge(function, node)
        self._watch(decorator, apply)

    # ------------------------------------------------------------ attributes

    def _load(self, ctx: Ctx, base: int, attr: str) -> int:
        return self._derived(("load", base, attr), base,
                             lambda values, node: self._attribute(ctx, values, attr, node))

    def _derived(self, key, source: int, fill) -> int:
        """A node made once per key, that fill(values, node) fills from what source
        holds (and will hold)."""
        node = self._memo.get(key)
        if node is None:
            node = self._memo[key] = self._fresh()
            self._watch(source, lambda values: fill(values, node))
        return node

    def _attribute(self, ctx: Ctx, values, attr: str, node: int) -> None:
        index = self.index
        for value in values:
            kind = value[0]
            if kind in ("inst", "decl"):
                cid = value[1]
                if kind == "decl":
                    self.declared_used.add(cid)
                method = index.find_method(cid, attr)
                if method is not None:
                    self._method(ctx, method, cid, node, on_instance=True)
                    continue
                if attr == "start" and any(b in THREAD_BASES for b in index.external_bases(cid)):
                    self._add(node, (("runstart", cid),))
                    continue
                self._edge(self._instance_field(cid, attr), node)
                self._add(node, self._external_base_members(cid, attr))
            elif kind == "class":
                cid = value[1]
                method = index.find_method(cid, attr)
                if method is not None:
                    self._method(ctx, method, cid, node, on_instance=False)
                elif f"{cid}.{attr}" in index.classes:
                    self._add(node, (("class", f"{cid}.{attr}"),))
                else:
                    self._class_fields_into(cid, attr, node)
                    self._add(node, self._external_base_members(cid, attr))
            elif kind == "module":
                self._edge(self._global(value[1], attr), node)
                submodule = f"{value[1]}.{attr}"
                if submodule in index.modules:
                    self._add(node, (("module", submodule),))
            elif kind in ("extern", "extinst"):
                member = _member(value[1], attr)
                if member is not None:
                    self._add(node, (("extern", member),))
            elif kind == "builtin":
                self._add(node, (("extern", f"{value[1]}.{attr}"),))
            elif kind == "super":
                _, owner, self_class = value
                method = index.find_method(self_class, attr, after=owner) \
                    if self_class in index.classes else None
                if method is not None:
                    self._method(ctx, method, self_class, node, on_instance=True)
                elif self_class in index.classes:
                    self._add(node, self._external_base_members(self_class, attr))
            elif kind in ("seq", "dict", "view"):
                if attr in CONTAINER_METHODS:
                    self._add(node, (("cmeth", value, attr),))
            elif kind == "thread":
                if attr == "start":
                    self._add(node, (("tstart", value[1]),))

    def _method(self, ctx: Ctx, method: str, cid: str, node: int, on_instance: bool) -> None:
        kind = self.index.function(method).kind
        if kind == "staticmethod":
            self._add(node, (("func", method, None),))
        elif kind == "classmethod":
            self._add(node, (("bound", method, cid),))
        elif kind == "property" and on_instance:
            getter = (method, cid)
            self.enter(getter)
            self._edge(self._node(("ret", getter))[0], node)
            self._implicit(ctx, node, getter)
        elif on_instance:
            self._add(node, (("bound", method, cid),))
        else:
            self._add(node, (("unbound", method, cid),))

    def _framework_hooks(self, site: CallSite, hooks: Tuple[str, ...]) -> None:
        """A framework base method called on the object itself runs these overrides of
        the object's class inside the call (models.SYNC_HOOKS)."""
        cid = site.ctx[1]
        func = site.expr.func if isinstance(site.expr, CallExpr) else None
        if cid is None or not isinstance(func, Attr) or not isinstance(func.base, Name):
            return
        if func.base.id != self.index.function(site.ctx[0]).self_name:
            return
        for hook in hooks:
            fid = self.index.find_method(cid, hook)
            if fid is not None and self.index.function(fid).kind == "method":
                self.enter((fid, cid))
                site.invoked.setdefault((fid, cid), "call")

    def _external_base_members(self, cid: str, attr: str) -> Tuple[Value, ...]:
        """What an attribute the project does not define may be on a class with a
        framework base: that base's member (`self.parent_fn()` on a subclass of an
        external `parent`)."""
        return tuple(("extern", f"{base}.{attr}") for base in self.index.external_bases(cid)
                     if base not in PLAIN_BASES)

    def _instance_field(self, cid: str, attr: str) -> int:
        """What `attr` can hold on instances of cid: what any code stores there, what the
        methods of its classes assign to `self.attr` (reached or not: a framework may
        call them), and class-level values."""
        node, new = self._node(("field", cid, attr))
        if not new:
            return node
        index = self.index
        if cid not in index.classes:
            return node
        for fid, stored in self._self_stores(cid).get(attr, ()):
            self._edge(self.expr((fid, cid), stored), node)
        self._class_fields_into(cid, attr, node)
        return node

    def _class_fields_into(self, cid: str, attr: str, node: int) -> None:
        """The class attribute attr of cid into node: the first class of the MRO whose
        body declares it shadows the rest (`EditorWindow = PyShellEditorWindow` in a
        subclass); what code stores into `Cls.attr` may be on any of them."""
        index = self.index
        for klass in index.mro(cid):
            declared = any(name == attr for name, _ in index.class_facts(klass).attrs)
            if declared or ("cfield", klass, attr) in self._ids:
                self._edge(self._class_field(klass, attr), node)
            else:
                self._class_field_waiters.setdefault((klass, attr), []).append(node)
            if declared:
                return

    def _self_stores(self, cid: str) -> Dict[str, List[Tuple[str, Expr]]]:
        """attr -> (method id, value) for every `self.attr = value` in the methods of
        cid's classes."""
        found = self._stores_by_class.get(cid)
        if found is None:
            found = {}
            index = self.index
            for klass in index.mro(cid):
                module, facts = index.classes[klass]
                for _, qualname in facts.methods:
                    fid = f"{module.name}.{qualname}"
                    for attr, values in index.self_stores(fid).items():
                        found.setdefault(attr, []).extend((fid, value) for value in values)
            self._stores_by_class[cid] = found
        return found

    def _class_field(self, cid: str, attr: str) -> int:
        """A class attribute of cid itself: its class-body value or annotation, and what
        code stores into `Cls.attr`."""
        node, new = self._node(("cfield", cid, attr))
        if not new:
            return node
        for waiting in self._class_field_waiters.pop((cid, attr), ()):
            self._edge(node, waiting)  # instance fields made before this class attribute
        module, facts = self.index.classes[cid]
        toplevel = (f"{module.name}.<module>", None)
        for name, declared in facts.attrs:
            if name != attr:
                continue
            if declared.value is not None:
                self._edge(self.expr(toplevel, declared.value), node)
            if declared.annotation is not None:
                self._edge(self.expr(toplevel, Declared(declared.annotation)), node)
        return node

    def _store(self, ctx: Ctx, target: Attr, value_expr: Expr) -> None:
        base = self.expr(ctx, target.base)
        value = self.expr(ctx, value_expr)
        self._stores.append((ctx, base, value))
        attr = target.attr
        by_creator = self.freshly_built(ctx, target.base)
        real = type(value_expr) is not NoneConst

        def stored(values):
            for base_value in values:
                kind = base_value[0]
                if kind in ("inst", "decl"):
                    self.stored_fields.add((base_value[1], attr))
                    if real:
                        self.valued_fields.add((base_value[1], attr))
                    self._field_store_kinds.setdefault((base_value[1], attr), set()).add(
                        by_creator)
                    self._edge(value, self._instance_field(base_value[1], attr))
                elif kind == "class":
                    self._edge(value, self._class_field(base_value[1], attr))
                elif kind == "module":
                    self._edge(value, self._global(base_value[1], attr))
                    if ctx[0].rsplit(".", 1)[0] != base_value[1]:
                        # Another module's global replaced (monkeypatching): whatever is
                        # stored runs where the module's code calls it, from the store on.
                        self._watch(value, self.patch_values.update)
                elif kind in ("extern", "extinst", "builtin", "thread"):
                    self._escape_callables(value)  # a callback handed to outside code
        self._watch(base, stored)

    def freshly_built(self, ctx: Ctx, expr: Expr) -> bool:
        """Is expr a local of ctx bound only to the results of calls (`e = Event()`)?"""
        if type(expr) is not Name:
            return False
        function = self.index.function(ctx[0])
        if expr.id not in function.local_names or any(p.name == expr.id
                                                      for p in function.params):
            return False
        values = self.index.binds(ctx[0]).get(expr.id, ())
        return bool(values) and all(type(v) is CallExpr for v in values)

    def populated_by_creators(self, cid: str, attr: str) -> bool:
        """Is attr, on instances of cid, assigned only by the code that has just built
        the instance (`e = Event(); e.widget = w`), never by cid's own methods? Then
        whoever else receives the instance receives it with attr set."""
        kinds = self._field_store_kinds.get((cid, attr))
        return kinds == {True} and not any(self.index.assigns(klass, attr)
                                           for klass in self.index.mro(cid))

    def _escape_callables(self, node: int) -> None:
        key = ("escape", node)
        if key in self._memo:
            return
        self._memo[key] = node

        def escape(values):
            for value in values:
                target = self.callable_context(value)
                if target is not None:
                    self.enter(target)
        self._watch(node, escape)

    # ------------------------------------------------------------ calls

    def _call_site(self, ctx: Ctx, expr, func: Expr, args, kwargs) -> CallSite:
        key = (ctx, expr)
        site = self.sites.get(key)
        if site is not None:
            return site
        arg_nodes = [(True, self.expr(ctx, a.value)) if isinstance(a, Starred)
                     else (False, self.expr(ctx, a)) for a in args]
        kw_nodes = [(name, self.expr(ctx, value)) for name, value in kwargs]
        func_node = self.expr(ctx, func)
        site = self._site(ctx, expr, arg_nodes, kw_nodes, func_node, "", self._fresh())
        for value, (_, node) in zip(list(args) + [v for _, v in kwargs],
                                    arg_nodes + [(False, n) for _, n in kw_nodes]):
            if self.precise(ctx, value):
                site.precise.add(node)
            elif type(value) is CallExpr:
                site.made.add(node)
        self._watch(func_node, lambda values: self._invoke_all(site, values))
        return site

    def _raise_site(self, ctx: Ctx, func: Expr) -> None:
        """`raise X`: when X is a class, an instance is made here."""
        key = (ctx, ("raise", func))
        if key in self.sites:
            return
        func_node = self.expr(ctx, func)
        site = self._site(ctx, ("raise", func), [], [], func_node, "raise", self._fresh())

        def instantiate(values):
            for value in values:
                if value[0] == "class":
                    self._invoke(site, value)
        self._watch(func_node, instantiate)

    def _site(self, ctx, expr, args, kwargs, func, mode, result) -> CallSite:
        site = CallSite(ctx, expr, args, kwargs, result, func, mode)
        self.sites[(ctx, expr)] = site
        return site

    def _invoke_all(self, site: CallSite, values) -> None:
        for value in values:
            self._invoke(site, value)

    def _invoke(self, site: CallSite, value: Value) -> None:
        if value in site._seen:
            return
        site._seen.add(value)
        index = self.index
        kind = value[0]
        if kind in ("func", "bound", "unbound") and value[1] in self.spawners:
            # A project function the configuration names as a spawner: what it is
            # given may run at once on another thread, whatever its body shows.
            self._register_args(site, concurrent=True)
        if kind == "func":
            self._run(site, (value[1], value[2]) + value[3:], skip=0)
        elif kind == "bound":
            self._run(site, (value[1], value[2]), skip=1)
        elif kind == "unbound":
            self._unbound(site, value[1])
        elif kind == "class":
            cid = value[1]
            self._add(site.result, (("inst", cid),))
            self.mark_live(cid)
            new = index.find_method(cid, "__new__")
            if new is not None:
                # A project `__new__` decides what the call returns (a singleton kept
                # on the class, a subclass chosen by a setting): its returns count too.
                self._run(site, (new, cid), skip=1)
            init = index.find_method(cid, "__init__")
            if init is not None:
                self._run(site, (init, cid), skip=1, result=False)
            else:
                site.externals.update(base + ".__init__" for base in index.external_bases(cid)
                                      if base not in PLAIN_BASES)
        elif kind in ("inst", "decl"):
            call = index.find_method(value[1], "__call__")
            if call is not None:
                self._run(site, (call, value[1]), skip=1)
        elif kind == "extern":
            self._external(site, value[1])
        elif kind == "extinst":
            self._add(site.result, (UNKNOWN_EXTERNAL,))
            self._register_args(site, concurrent=self._concurrent_name(site.expr))
        elif kind == "builtin":
            self._builtin(site, value[1])
        elif kind == "cmeth":
            self._container_method(site, value[1], value[2])
        elif kind == "tstart":
            # What the thread's run invokes (with its args) is spawned by this start().
            run = self._thread_runs.get(value[1])
            if run is not None:
                run.spawn_into.append((site, True, False))
                for target in list(run.invoked):
                    self._record_spawn(site, target, True, False)
        elif kind == "runstart":
            run = index.find_method(value[1], "run")
            if run is not None:
                self._spawn(site, (("bound", run, value[1]),), concurrent=True)

    def _run(self, site: CallSite, ctx: Ctx, skip: int, result: bool = True,
             first_arg: int = 0) -> None:
        """Call the function of ctx from site: arguments to parameters, its return value
        (a coroutine or generator object for an async or generator function) to the
        site's result.

        A function that calls, stores or passes on a parameter, or makes closures, is
        analysed apart for each function or bound method that parameter is given (the
        Cartesian product algorithm, on callables only): a wrapper, a decorator or a
        scheduling helper otherwise runs every callable any caller ever gave it, and a
        path through it would call what another caller passed."""
        if ctx[0] not in self.index.functions:
            return
        function = self.index.function(ctx[0])
        plan = self._bind_plan(site, function, skip, first_arg)
        split = None
        if self.argument_sensitive and len(ctx) == 2 and function.parent is None:
            names = self._higher_order(ctx[0])
            split = next((p for p, how, node in plan if how == "edge" and p.name in names
                          and (node in site.precise or node in site.made)), None)
        if split is None:
            if self.argument_sensitive and len(ctx) == 2 and function.parent is None \
                    and self._transparent(ctx[0]):
                ctx = self._site_variant(site, ctx)
            ctx = self._keyed_variant(site, self._typed_variant(
                site, self._omitted_variant(ctx, function, plan), function, plan),
                function, plan)
            self._call_context(site, ctx, function, plan, result, None, None)
            return
        node = next(n for p, how, n in plan if p is split)
        # The context itself runs for what is not a callable, once something is; or,
        # if the argument is still empty when the flow settles, then (_settle_bases).
        # That context is narrowed as an unsplit call's is (omitted, typed arguments).
        plain = self._keyed_variant(site, self._typed_variant(
            site, self._omitted_variant(ctx, function, plan), function, plan), function, plan)
        base = (site, plain, function, plan, result, split, node)
        self._unsplit_bases.append(base)

        splits = _splitter(site, node)

        def variants(values):
            for value in values:
                if splits(value):
                    self._call_context(site, ctx + ((split.name, value),), function, plan,
                                       result, split, value)
                elif plain not in site.invoked:
                    self._call_context(site, plain, function, plan, result, split, None)
        self._watch(node, variants)

    def _call_context(self, site: CallSite, ctx: Ctx, function, plan, result: bool,
                      split, pinned) -> None:
        self.enter(ctx)
        for spawner, concurrent, escaping in site.spawn_into:
            self._record_spawn(spawner, ctx, concurrent, escaping)
        if function.is_async:
            site.invoked.setdefault(ctx, "coro")
            if result:
                self._add(site.result, (("coro", ctx),))
        elif function.is_generator:
            site.invoked[ctx] = "call"
            if result:
                self._add(site.result, (("gen", ctx),))
        else:
            site.invoked[ctx] = "call"
            if result:
                self._edge(self._node(("ret", ctx))[0], site.result)
        for param, how, node in plan:
            if param is split and how == "edge":
                target = self._var(ctx, param.name)
                if pinned is not None:
                    self._add(target, (pinned,))
                else:  # the callables this parameter gets run in variants of their own
                    splits = _splitter(site, node)
                    self._watch(node, lambda values, target=target, splits=splits: self._add(
                        target, [v for v in values if not splits(v)]))
            elif how == "edge":
                self._edge(node, self._var(ctx, param.name))
            elif how == "elements":
                self._edge(self._elements(site.ctx, node), self._var(ctx, param.name))
            elif how == "mapping":
                self._edge(self._mapping_values(node), self._var(ctx, param.name))
            elif how == "varargs":
                self._edge(node, self._container(("seq", "tuple", ctx, "*"), "elem"))
            elif how == "varargs-elements":
                self._edge(self._elements(site.ctx, node),
                           self._container(("seq", "tuple", ctx, "*"), "elem"))
            elif how == "kwargs":
                container = ("dict", ctx, "**")
                self._edge(node, self._container(container, "idx", param))
                self._edge(node, self._container(container, "all"))

    def _bind_plan(self, site: CallSite, function, skip: int, first_arg: int) -> list:
        """Which argument goes to which parameter: (parameter, how, node) for each,
        how being "edge" (the argument), "elements" (of a starred argument), "mapping"
        (the values of a `**` argument), "varargs"/"varargs-elements" (into `*args`) or
        "kwargs" (into `**kwargs`, the parameter slot holding the keyword)."""
        params = function.params
        positional = [p for p in params if p.kind in ("posonly", "")][skip:]
        star = next((p for p in params if p.kind == "*"), None)
        double = next((p for p in params if p.kind == "**"), None)
        by_name = {p.name: p for p in params if p.kind in ("", "kwonly")}
        plan = []
        position = 0
        for starred, node in site.args[first_arg:]:
            if starred:
                plan.extend((param, "elements", node) for param in positional[position:])
                if star is not None:
                    plan.append((star, "varargs-elements", node))
                break
            if position < len(positional):
                plan.append((positional[position], "edge", node))
            elif star is not None:
                plan.append((star, "varargs", node))
            position += 1
        for name, node in site.kwargs:
            if name == "**":
                plan.extend((param, "mapping", node) for param in by_name.values())
            elif name in by_name:
                plan.append((by_name[name], "edge", node))
            elif double is not None:
                plan.append((name, "kwargs", node))
        return plan

    def precise(self, ctx: Ctx, expr: Expr) -> bool:
        """Does expr, in ctx, denote one particular callable: a lambda or def, a name
        bound only to defs, `self.method`, or the parameter this variant of ctx was made
        for? (What flows into any other expression is mostly merged already: analysing
        a callee apart for each of its values would cost much and gain nothing.)"""
        kind = type(expr)
        if kind is LocalFunc or kind is Decorated:
            return True
        if kind is Either:
            return all(self.precise(ctx, option) for option in expr.options)
        if kind is Name:
            if len(ctx) > 2 and ctx[2][0] == expr.id:
                return True
            function = self.index.function(ctx[0])
            values = self.index.binds(ctx[0]).get(expr.id, ()) \
                if expr.id in function.local_names else ()
            if not values and "#" not in expr.id:
                values = self.index.global_binds(
                    self.index.module_of(ctx[0]).name).get(expr.id, ())
            return bool(values) and all(type(v) in (LocalFunc, Decorated) for v in values)
        if kind is Attr:
            # A bound method (`self.m`, `client.on_ready`): an attribute only the
            # project's methods are named by, never one its code stores.
            return expr.attr in self.index.method_owners \
                and expr.attr not in self._stored_attribute_names
        return False

    def _omitted_variant(self, ctx: Ctx, function, plan) -> Ctx:
        """ctx for a call that leaves out optional parameters (default `None`) which
        the function tests (`if mode is None: return self._mode`): analysed apart, with
        those tests decided (see resolve.py), so that `screen.mode()` does not run the
        branch only `screen.mode("logo")` takes. Marked ("<omitted>", names)."""
        tested = self._tested(ctx[0], function)[0]
        if not tested or variant_part(ctx, "<omitted>"):
            return ctx
        bound = {param.name for param, _, _ in plan if not isinstance(param, str)}
        omitted = tuple(sorted(name for name in tested if name not in bound))
        return ctx + (("<omitted>", omitted),) if omitted else ctx

    def _typed_variant(self, site: CallSite, ctx: Ctx, function, plan) -> Ctx:
        """ctx for a call that passes, to parameters the function tests with
        `isinstance`, objects whose class the call itself shows (`handle(Container())`,
        or a local bound only to such a construction): analysed apart, with those tests
        decided (see resolve.py). Marked ("<types>", ((name, class id), ...))."""
        tested = self._tested(ctx[0], function)[1]
        expr = site.expr
        if not tested or not isinstance(expr, CallExpr) or variant_part(ctx, "<types>"):
            return ctx
        written = _written(site, expr)
        known = []
        for param, how, node in plan:
            if how == "edge" and not isinstance(param, str) and param.name in tested:
                cid = self._built_class(site.ctx, written.get(node))
                if cid is not None:
                    known.append((param.name, cid))
        return ctx + (("<types>", tuple(sorted(known))),) if known else ctx

    def _keyed_variant(self, site: CallSite, ctx: Ctx, function, plan) -> Ctx:
        """ctx for a call that passes a literal key (a string or an int) to a parameter
        the function indexes with (`table[kind]`): analysed apart with that key, so that
        `handle("start")` reads only the "start" entry. Marked ("<keys>", ((name, key),
        ...))."""
        expr = site.expr
        if not isinstance(expr, CallExpr) or variant_part(ctx, "<keys>") or not any(
                _literal_key(arg) is not None
                for arg in (*expr.args, *(value for _, value in expr.kwargs))):
            return ctx
        indexers = self._indexers(ctx[0], function)
        if not indexers:
            return ctx
        written = _written(site, expr)
        known = []
        for param, how, node in plan:
            if how == "edge" and not isinstance(param, str) and param.name in indexers:
                key = _literal_key(written.get(node))
                if key is not None:
                    known.append((param.name, key))
        return ctx + (("<keys>", tuple(sorted(known))),) if known else ctx

    def _indexers(self, fid: str, function) -> FrozenSet[str]:
        """The parameters the function's body indexes something with (`table[kind]`)."""
        found = self._indexer_params.get(fid)
        if found is None:
            params = {p.name for p in function.params}
            used = set()
            for node in walk_nodes(function.body):
                for expr in node_exprs(node):
                    for part in subexpressions(expr):
                        if type(part) is Subscript and not part.is_slice \
                                and type(part.index) is Name and part.index.id in params:
                            used.add(part.index.id)
            found = self._indexer_params[fid] = frozenset(used)
        return found

    def _built_class(self, ctx: Ctx, expr) -> Optional[str]:
        """The project class expr certainly is an instance of, when the code shows it:
        a construction `Cls(...)`, or a local whose only binding is one."""
        if isinstance(expr, Name) and "#" in expr.id:
            binds = self.index.binds(ctx[0]).get(expr.id, ())
            expr = binds[0] if len(binds) == 1 else None
        if not isinstance(expr, CallExpr):
            return None
        named = self.names.resolve(self.index.module_of(ctx[0]), expr.func)
        if named is None or named[0] != "class" or \
                self.index.find_method(named[1], "__new__") is not None:
            return None
        return named[1]

    def _tested(self, fid: str, function) -> Tuple[FrozenSet[str], FrozenSet[str]]:
        """The parameters the function's own branches test: (the `None`-default ones a
        test needs set or unset, the ones an `isinstance` test names)."""
        found = self._tests.get(fid)
        if found is None:
            params = {p.name for p in function.params}
            optional = {p.name for p in function.params if p.default_none}
            none_tested: Set[str] = set()
            type_tested: Set[str] = set()
            for node in walk_nodes(function.body):
                if isinstance(node, If):
                    none_tested.update(fact.id for fact in node.true_facts + node.false_facts
                                       if isinstance(fact, Name) and fact.id in optional)
                    type_tested.update(name for name, _, _ in node.type_tests
                                       if name in params)
            found = self._tests[fid] = (frozenset(none_tested), frozenset(type_tested))
        return found

    def _site_variant(self, site: CallSite, ctx: Ctx) -> Ctx:
        """ctx analysed for this call site alone: a function that returns what it is
        given (`_flatten(seq)`, `copy(x)`, a fluent `return self`) otherwise hands every
        caller what any caller passed. Its recursive calls stay in the variant."""
        caller = site.ctx
        if caller[0] == ctx[0] and len(caller) > 2 and caller[2][0] == "site":
            return caller
        if not isinstance(site.expr, CallExpr):
            return ctx
        number = self._call_numbers(caller[0]).get(site.expr)
        if number is None:
            return ctx
        return ctx + (("site", caller[0], caller[1] or "", number),)

    def _call_numbers(self, fid: str) -> Dict[CallExpr, int]:
        """The calls of a function numbered in the order they are written: a name for a
        call site that does not depend on positions."""
        found = self._numbered_calls.get(fid)
        if found is None:
            found = {}
            for node in walk_nodes(self.index.function(fid).body):
                if type(node) is Call and node.kind == "":
                    found.setdefault(CallExpr(node.func, node.args, node.kwargs), len(found))
            self._numbered_calls[fid] = found
        return found

    def _transparent(self, fid: str) -> bool:
        """Does fid return (or yield) one of its parameters, or a container of them?"""
        found = self._transparent_functions.get(fid)
        if found is None:
            function = self.index.function(fid)
            params = {param.name for param in function.params}
            found = any(_mentions(value, params)
                        for value in function.return_values + function.yield_values)
            self._transparent_functions[fid] = found
        return found

    def _higher_order(self, fid: str) -> FrozenSet[str]:
        """The parameters of fid that its body calls (`callback()`), passes to a call
        (`loop.call_soon(callback)`) or stores (`self.callback = callback`), and all of
        them when it makes closures (a decorator's wrapper calls what it was given)."""
        found = self._higher_order_params.get(fid)
        if found is not None:
            return found
        function = self.index.function(fid)
        params = {p.name for p in function.params}
        if self._makes_closures(fid):
            found = frozenset(params)
        else:
            # Called, passed on to a call (a scheduling helper's `call_soon(callback)`;
            # `partial(callback)` is `callback` in the facts), or stored (a callback
            # registered on an object: the store is where it is spawned).
            used = set()
            for node in walk_nodes(function.body):
                kind = type(node)
                if kind is Call:
                    exprs = (node.func, *node.args, *(v for _, v in node.kwargs))
                elif kind is Store or kind is SetItem or kind is AwaitValue:
                    exprs = (node.value,)
                else:
                    continue
                for expr in exprs:
                    if type(expr) is Starred:
                        expr = expr.value
                    if type(expr) is Name:
                        used.add(expr.id)
            found = frozenset(used & params)
        self._higher_order_params[fid] = found
        return found

    def _makes_closures(self, fid: str) -> bool:
        self.index.read.add(fid)  # what it defines is part of what it is
        module = self.index.module_of(fid)
        parents = self._closure_makers.get(module.name)
        if parents is None:
            parents = self._closure_makers[module.name] = frozenset(
                f"{module.name}.{qualname.rsplit('.<locals>.', 1)[0]}"
                for qualname in module.function_names if ".<locals>." in qualname)
        return fid in parents

    def _unbound(self, site: CallSite, method: str) -> None:
        """`Cls.method(obj, ...)`: the method runs on obj's class."""
        if not site.args or site.args[0][0]:
            return

        owner = self._owner_class(method)

        def receivers(values):
            for value in values:
                # Only an instance of the method's class (or a subclass) runs it.
                if value[0] in ("inst", "decl") and value[1] in self.index.classes \
                        and owner in self.index.mro(value[1]):
                    self._run(site, (method, value[1]), skip=1, first_arg=1)
        self._watch(site.args[0][1], receivers)

    def _spawn(self, site: CallSite, values, concurrent: bool, escaping: bool = False) -> None:
        for value in values:
            target = self.callable_context(value)
            if target is not None:
                self.enter(target)
                self._record_spawn(site, target, concurrent, escaping)
            elif value[0] == "coro":
                self._record_spawn(site, value[1], concurrent, escaping)

    @staticmethod
    def _record_spawn(site: CallSite, target: Ctx, concurrent: bool, escaping: bool) -> None:
        spawned = site.escape_spawned if escaping else site.spawned
        spawned[target] = spawned.get(target, False) or concurrent

    def _sync(self, site: CallSite, values, position: int = 0) -> None:
        synced = site.synced.setdefault(position, set())
        for value in values:
            target = self.callable_context(value)
            if target is not None:
                self.enter(target)
                synced.add(target)
                if self.index.function(target[0]).is_async:
                    continue
                self._edge(self._node(("ret", target))[0], self._mapped(site))
            elif value[0] == "coro":
                synced.add(value[1])
                self._edge(self._node(("ret", value[1]))[0], site.result)

    def _mapped(self, site: CallSite) -> int:
        """The elements of what a `map(f, ...)`-like call returns: f's return values."""
        container = ("seq", "list", site.ctx, ("call", site.result))
        self._add(site.result, (container,))
        return self._container(container, "elem")

    def callable_context(self, value: Value) -> Optional[Ctx]:
        """The context a callable value runs in when called with what it needs."""
        kind = value[0]
        if kind == "func":
            return (value[1], value[2]) + value[3:]
        if kind == "bound":
            return (value[1], value[2])
        if kind in ("inst", "decl"):
            call = self.index.find_method(value[1], "__call__")
            return (call, value[1]) if call is not None else None
        return None

    def _register_args(self, site: CallSite, concurrent: bool, runner: bool = False,
                       escaping: bool = False) -> None:
        """The callables and coroutines passed to a call into outside code run later
        (spawned), or inside it when it is a runner (asyncio.run)."""
        mode = "run" if runner else "escape" if escaping else "spawn"
        arguments = site.args + [(False, node) for _, node in site.kwargs]
        for position, (_, node) in enumerate(arguments):
            key = (node, mode)
            if key in site._registered:
                continue
            site._registered.add(key)
            if runner:
                self._watch(node, lambda values, p=position: self._sync(site, values, p))
            elif node not in site.precise:
                # What is not written as one callable here was merged from elsewhere
                # (all the callbacks a framework's helper ever got): only coroutines,
                # each made by a call, are taken from it.
                self._watch(node, lambda values, c=concurrent: self._spawn(
                    site, [v for v in values if v[0] == "coro"], c, escaping))
            elif position < len(site.args):
                # `submit(fn, a, b)`, `call_soon(cb, a)`, `atexit.register(f, a)`: the
                # positional arguments after a callback are usually its arguments.
                self._callback_run(site, node, site.args[position + 1:], [], (position, mode),
                                   spawn_into=(site, concurrent, escaping))
                self._watch(node, lambda values, c=concurrent: self._spawn(
                    site, [v for v in values if v[0] not in ("func", "bound")], c, escaping))
            else:
                self._watch(node, lambda values, c=concurrent:
                            self._spawn(site, values, c, escaping))

    def _concurrent_name(self, expr) -> bool:
        """Is a call to an unknown or external callable, by its name, one that runs what
        it is given on another thread (or between any two bytecodes)?"""
        if not isinstance(expr, CallExpr):
            return False
        func = expr.func
        method = func.attr if isinstance(func, Attr) else func.id if isinstance(func, Name) \
            else ""
        return method in CONCURRENT_REGISTRARS

    def _external(self, site: CallSite, dotted: str) -> None:
        site.externals.add(dotted)
        method = dotted.rsplit(".", 1)[-1]
        if method in SYNC_HOOKS and dotted.split(".", 1)[0] in SYNC_HOOK_LIBRARIES:
            self._framework_hooks(site, SYNC_HOOKS[method])
        awaited = isinstance(site.expr, CallExpr) and self._awaited_site(site)
        if dotted in THREAD_FACTORIES:
            keyword, position, args_keyword, args_position, kwargs_keyword, kwargs_position = \
                THREAD_FACTORIES[dotted]
            target = self._argument(site, keyword, position)
            thread = ("thread", (site.ctx, site.result))
            self._add(site.result, (thread,))
            if target is not None:
                target_node = self._node(("target", thread[1]))[0]
                self._edge(target, target_node)
                # The thread calls target(*args, **kwargs) when it starts.
                args = self._argument_expr(site, args_keyword, args_position)
                kwargs = self._argument(site, kwargs_keyword, kwargs_position)
                if isinstance(args, Seq) and not any(isinstance(i, Starred) for i in args.items):
                    positional = [(False, self.expr(site.ctx, item)) for item in args.items]
                    site.precise.update(node for item, (_, node) in zip(args.items, positional)
                                        if self.precise(site.ctx, item))
                elif args is not None:
                    positional = [(True, self.expr(site.ctx, args))]
                else:
                    positional = []
                keywords = [("**", kwargs)] if kwargs is not None else []
                self._thread_runs[thread[1]] = self._callback_run(
                    site, target, positional, keywords, ("thread",))
            return
        if dotted in SYNC_CALLERS or method in ("sort",):
            self._sync_callables(site)
            if dotted in ITERATING_BUILTINS:
                self._iterated_copy(site)
            return
        if dotted in COROUTINE_RUNNERS or method in COROUTINE_RUNNERS \
                or (awaited and (dotted in COROUTINE_RUNNERS_AWAITED
                                 or method in COROUTINE_RUNNERS_AWAITED)):
            self._register_args(site, concurrent=False, runner=True)
            return
        if dotted in NOT_REGISTRATIONS or method in NOT_REGISTRATIONS:
            return
        if site.mode == "decorator":
            return
        named = dotted.count(".") + 1 < _MAX_EXTERN_PARTS and not dotted.startswith("?")
        self._add(site.result, (("extinst", dotted) if named else UNKNOWN_EXTERNAL,))
        concurrent = method in CONCURRENT_REGISTRARS or dotted in CONCURRENT_CALLS \
            or dotted in self.spawners
        self._register_args(site, concurrent=concurrent)

    def _awaited_site(self, site: CallSite) -> bool:
        return site.expr in self._awaited.get(site.ctx, ())

    def _argument_expr(self, site: CallSite, keyword: str, position: int) -> Optional[Expr]:
        """The expression of an argument of a call written as a call (not a decorator)."""
        if not isinstance(site.expr, CallExpr):
            return None
        for name, value in site.expr.kwargs:
            if name == keyword:
                return value
        plain = [value for value in site.expr.args if not isinstance(value, Starred)]
        if len(plain) != len(site.expr.args):
            return None
        return plain[position] if len(plain) > position else None

    def _callback_run(self, site: CallSite, callables: int, args, kwargs, key,
                      spawn_into=None) -> CallSite:
        """The functions and bound methods in a node will be called (later, by outside
        code) with these arguments: a site standing for that outside code calls them;
        what it invokes (variants included) is spawned by the sites in its spawn_into."""
        runner = CallSite(site.ctx, ("callback", site.expr) + key, args, kwargs,
                          self._fresh(), None, "callback")
        runner.precise = site.precise
        if spawn_into is not None:
            runner.spawn_into.append(spawn_into)

        def run(values):
            for value in values:
                if value[0] in ("func", "bound"):
                    self._invoke(runner, value)
        self._watch(callables, run)
        return runner

    def _argument(self, site: CallSite, keyword: str, position: int) -> Optional[int]:
        for name, node in site.kwargs:
            if name == keyword:
                return node
        plain = [node for starred, node in site.args if not starred]
        return plain[position] if len(plain) > position else None

    def _sync_callables(self, site: CallSite) -> None:
        """map(f, xs), sorted(xs, key=f)...: the callables written as arguments run
        inside the call. Only those written as one callable: what else flows into an
        argument (the items being mapped, merged from every caller) is data."""
        arguments = site.args + [(False, node) for _, node in site.kwargs]
        for position, (_, node) in enumerate(arguments):
            if node in site.precise:
                self._watch(node, lambda values, p=position: self._sync(site, values, p))

    def _builtin(self, site: CallSite, name: str) -> None:
        site.externals.add(f"<builtin>.{name}")
        if name in SYNC_CALLERS:
            self._sync_callables(site)
        if name in ITERATING_BUILTINS:
            self._iterated_copy(site)
        elif name == "next" and site.args:
            self._edge(self._elements(site.ctx, site.args[0][1]), site.result)
        elif name in ("enumerate", "zip"):
            # Tuples of the arguments' elements (enumerate's first is a number).
            rows = ("seq", "list", site.ctx, ("call", site.result))
            row = ("seq", "tuple", site.ctx, ("row", site.result))
            self._add(site.result, (rows,))
            self._add(self._container(rows, "elem"), (row,))
            first = 1 if name == "enumerate" else 0
            self._display_lengths[row] = first + len(site.args)
            for position, (_, node) in enumerate(site.args[:1] if first else site.args):
                self._edge(self._elements(site.ctx, node),
                           self._container(row, "idx", position + first))
        elif name in ("dict",):
            container = ("dict", site.ctx, ("call", site.result))
            self._add(site.result, (container,))
            for name_, node in site.kwargs:
                self._edge(node, self._container(container, "idx", name_))
                self._edge(node, self._container(container, "all"))
            for _, node in site.args:
                self._edge(self._mapping_values(node), self._container(container, "elem"))

    def _iterated_copy(self, site: CallSite) -> None:
        """list(x), tuple(x), sorted(x), iter(x), reversed(x), filter(f, x)...: a new
        container of x's elements (the last argument, for filter)."""
        container = ("seq", "list", site.ctx, ("call", site.result))
        self._add(site.result, (container,))
        elements = self._container(container, "elem")
        for starred, node in site.args[-1:]:
            self._edge(self._elements(site.ctx, node), elements)

    # ------------------------------------------------------------ containers

    def _container(self, container: Value, part: str, key=None) -> int:
        """A part of a container's elements: "elem" (stored at no known index), "all"
        (stored at a known index or key), "idx" (at that key), "keys" (a dict's keys)."""
        return self._node((part, container, key) if part == "idx" else (part, container))[0]

    def _display(self, ctx: Ctx, expr: Seq, node: int) -> None:
        container = ("seq", expr.kind, ctx, expr.site)
        self._add(node, (container,))
        starred = False
        for position, item in enumerate(expr.items):
            if isinstance(item, Starred):
                starred = True
                self._edge(self._elements(ctx, self.expr(ctx, item.value)),
                           self._container(container, "elem"))
                continue
            value = self.expr(ctx, item)
            if starred:
                self._edge(value, self._container(container, "elem"))
            else:
                self._edge(value, self._container(container, "idx", position))
                self._edge(value, self._container(container, "all"))
        if not starred and expr.kind in ("tuple", "list"):
            self._display_lengths[container] = len(expr.items)

    def _dict_display(self, ctx: Ctx, expr: DictLit, node: int) -> None:
        container = ("dict", ctx, expr.site)
        self._add(node, (container,))
        for key, item in expr.items:
            value = self.expr(ctx, item)
            if key is None:
                self._edge(self._mapping_values(value), self._container(container, "elem"))
                continue
            self._edge(self.expr(ctx, key), self._container(container, "keys"))
            literal = _literal_key(key)
            if literal is None:
                self._edge(value, self._container(container, "elem"))
            else:
                self._edge(value, self._container(container, "idx", literal))
                self._edge(value, self._container(container, "all"))

    def _set_item(self, ctx: Ctx, base_expr: Expr, index_expr: Expr, value_expr: Expr) -> None:
        base = self.expr(ctx, base_expr)
        key_node = self.expr(ctx, index_expr)
        value = self.expr(ctx, value_expr)
        literal = _literal_key(index_expr)

        def stored(values):
            for container in values:
                if container[0] not in ("seq", "dict"):
                    continue
                if container[0] == "dict":
                    self._edge(key_node, self._container(container, "keys"))
                if literal is None:
                    self._edge(value, self._container(container, "elem"))
                else:
                    self._edge(value, self._container(container, "idx", literal))
                    self._edge(value, self._container(container, "all"))
        self._watch(base, stored)

    def _subscript(self, ctx: Ctx, expr: Subscript, node: int) -> None:
        literal = None if expr.is_slice else _literal_key(expr.index)
        if literal is None and not expr.is_slice and type(expr.index) is Name:
            literal = dict(variant_part(ctx, "<keys>")).get(expr.index.id)

        bounds = expr.index.value if expr.is_slice and isinstance(expr.index, Lit) \
            and expr.index.kind == "slice" else None

        def read(values):
            for value in values:
                kind = value[0]
                if expr.is_slice:
                    if kind == "seq":
                        self._add(node, (self._sliced(value, bounds, node),))
                    continue
                if kind in ("seq", "dict"):
                    self._edge(self._container(value, "elem"), node)
                    if literal is None:
                        self._edge(self._container(value, "all"), node)
                        continue
                    key = literal
                    length = self._display_lengths.get(value)
                    if isinstance(key, int) and key < 0 and length is not None:
                        key += length
                    self._edge(self._container(value, "idx", key), node)
                elif kind == "pair":
                    if literal in (0, None):
                        self._edge(self._container(value[1], "keys"), node)
                    if literal in (1, -1, None):
                        self._edge(self._container(value[1], "all"), node)
                        self._edge(self._container(value[1], "elem"), node)
                elif kind in ("inst", "decl"):
                    getter = self.index.find_method(value[1], "__getitem__")
                    if getter is not None:
                        self.enter((getter, value[1]))
                        self._edge(self._node(("ret", (getter, value[1])))[0], node)
                        self._implicit(ctx, node, (getter, value[1]))
        self._watch(self.expr(ctx, expr.base), read)

    def _sliced(self, container: Value, bounds, node: int) -> Value:
        """container[lower:upper]: for a display of known length sliced by literal
        bounds, a container of its own whose elements keep their positions; else the
        same container (its elements, wherever they are)."""
        length = self._display_lengths.get(container)
        if bounds is None or length is None:
            return container
        lower, upper = slice(*bounds).indices(length)[:2]
        part = ("seq", container[1], container[2], ("slice", node))
        for position in range(max(0, upper - lower)):
            self._edge(self._container(container, "idx", lower + position),
                       self._container(part, "idx", position))
            self._edge(self._container(container, "idx", lower + position),
                       self._container(part, "all"))
        self._edge(self._container(container, "elem"), self._container(part, "elem"))
        self._display_lengths[part] = max(0, upper - lower)
        return part

    def _mapping_values(self, node: int) -> int:
        """The values of the mappings node holds (`**kwargs`, `dict.update(other)`)."""
        def values_of(values, found):
            for value in values:
                if value[0] == "dict":
                    self._edge(self._container(value, "all"), found)
                    self._edge(self._container(value, "elem"), found)
        return self._derived(("mapping", node), node, values_of)

    def _elements(self, ctx: Ctx, node: int) -> int:
        """What iterating the values of node gives (calling __iter__ and __next__ on
        project iterators, in ctx)."""
        return self._derived(("iter", ctx, node), node,
                             lambda values, found: self._iterate(ctx, values, found, node))

    def _iterate(self, ctx: Ctx, values, target: int, source: int) -> None:
        index = self.index
        for value in values:
            kind = value[0]
            if kind == "seq":
                self._edge(self._container(value, "all"), target)
                self._edge(self._container(value, "elem"), target)
            elif kind == "dict":
                self._edge(self._container(value, "keys"), target)
            elif kind == "view":
                container, part = value[1], value[2]
                if part == "keys":
                    self._edge(self._container(container, "keys"), target)
                elif part == "values":
                    self._edge(self._container(container, "all"), target)
                    self._edge(self._container(container, "elem"), target)
                else:
                    self._add(target, (("pair", container),))
            elif kind == "gen":
                self._edge(self._node(("yield", value[1]))[0], target)
            elif kind in ("inst", "decl"):
                cid = value[1]
                method = index.find_method(cid, "__iter__")
                if method is None:
                    continue
                iterator = (method, cid)
                self.enter(iterator)
                self._implicit(ctx, source, iterator)
                returned = self._node(("ret", iterator))[0]
                if index.function(method).is_generator:
                    self._edge(self._node(("yield", iterator))[0], target)
                    continue
                self._watch(returned, lambda found: self._next(ctx, found, target, source))

    def _next(self, ctx: Ctx, values, target: int, source: int) -> None:
        """Elements of what a project __iter__ returned: its __next__'s return values
        (or, when it returned something else iterable, that thing's elements)."""
        for value in values:
            if value[0] in ("inst", "decl"):
                method = self.index.find_method(value[1], "__next__")
                if method is not None:
                    step = (method, value[1])
                    self.enter(step)
                    self._implicit(ctx, source, step)
                    self._edge(self._node(("ret", step))[0], target)
            else:
                self._iterate(ctx, (value,), target, source)

    def _container_method(self, site: CallSite, container: Value, method: str) -> None:
        """Calls of a list's, set's or dict's methods move values in and out of it."""
        site.externals.add(f"<container>.{method}")
        args = [node for starred, node in site.args if not starred]
        kind = container[0]
        if kind == "view":
            return
        elem = self._container(container, "elem")
        everything = (self._container(container, "all"), elem)
        if method in ("append", "add", "appendleft") and args:
            self._edge(args[0], elem)
        elif method == "insert" and len(args) >= 2:
            self._edge(args[1], elem)
        elif method in ("extend", "extendleft", "update") and args:
            if kind == "dict":
                self._edge(self._mapping_values(args[0]), elem)
            else:
                self._edge(self._elements(site.ctx, args[0]), elem)
        elif method == "update" and kind == "dict":
            pass
        elif method == "setdefault" and kind == "dict" and len(args) >= 2:
            self._edge(args[1], elem)
            for part in everything:
                self._edge(part, site.result)
        elif method in ("pop", "get", "popleft", "setdefault"):
            for part in everything:
                self._edge(part, site.result)
            if method == "get" and len(args) >= 2:
                self._edge(args[1], site.result)
        elif method in ("values", "keys", "items"):
            self._add(site.result, (("view", container, method),))
        elif method == "copy":
            self._add(site.result, (container,))
        elif method == "sort":
            for name, node in site.kwargs:
                if name == "key":
                    self._watch(node, lambda values: self._sync(site, values, -1))
        if kind == "dict" and method == "update":
            for name, node in site.kwargs:
                if name == "**":
                    self._edge(self._mapping_values(node), elem)
                else:
                    self._edge(node, self._container(container, "idx", name))
                    self._edge(node, self._container(container, "all"))

    # ------------------------------------------------------------ await, with

    def _await(self, values, node: int) -> None:
        for value in values:
            if value[0] == "coro":
                self._edge(self._node(("ret", value[1]))[0], node)
            elif value[0] == "extinst":
                self._add(node, (value,))

    def _entered(self, ctx: Ctx, values, node: int) -> None:
        for value in values:
            kind = value[0]
            if kind in ("inst", "decl"):
                method = self.index.find_method(value[1], "__enter__") or \
                    self.index.find_method(value[1], "__aenter__")
                if method is None:
                    self._add(node, (value,))
                    continue
                enter = (method, value[1])
                self.enter(enter)
                self._implicit(ctx, node, enter)
                # __aenter__'s return value is what `async with` binds (it awaits it).
                self._edge(self._node(("ret", enter))[0], node)
            elif kind in ("extinst", "extern", "seq", "dict"):
                self._add(node, (value,))


# Bound values whose evaluation may call project code without a call event of its own
# (the iteration protocol, `with`, a subscript's __getitem__, a decorator).
_CALLING_VALUES = (Iter, Enter, Subscript, Decorated, Await)


def _mentions(expr: Expr, names, depth: int = 0) -> bool:
    """Is expr one of names, or made of one (an element, a display holding it, one of
    several options)?"""
    if depth > 6:
        return False
    kind = type(expr)
    if kind is Name:
        return expr.id in names
    if kind is Subscript or kind is Iter:
        return _mentions(expr.base, names, depth + 1)
    if kind is Starred or kind is Await:
        return _mentions(expr.value, names, depth + 1)
    if kind is Either:
        return any(_mentions(option, names, depth + 1) for option in expr.options)
    if kind is Seq:
        return any(_mentions(item, names, depth + 1) for item in expr.items)
    return False


def _written(site: CallSite, expr: CallExpr) -> Dict[int, Expr]:
    """The expression written for each argument node of site."""
    written = {node: arg for (_, node), arg in zip(site.args, expr.args)}
    written.update({node: value for (_, node), (_, value) in zip(site.kwargs, expr.kwargs)})
    return written


def _splitter(site: CallSite, node: int) -> Callable[[Value], bool]:
    """What the callee is analysed apart for, given the argument node of site: any
    callable when the argument is a precise one (a name, a lambda, a bound method); only
    coroutine objects when it is written as a call (`run(self.serve())`), since a
    factory's returned functions would multiply variants for no ordering gained."""
    return _splits_on if node in site.precise else _splits_on_coroutine


def _splits_on_coroutine(value: Value) -> bool:
    return value[0] == "coro" and _splits_on(value)


def _splits_on(value: Value) -> bool:
    """Is value a callable that a function given it is analysed apart for? Functions,
    bound methods and coroutine objects of a plain context; a closure only when the
    frame it keeps is not itself one made for a closure (which bounds how deep these
    variants nest)."""
    kind = value[0]
    if kind == "bound":
        return True
    if kind == "coro":  # a coroutine object, made by a call written as the argument
        return len(value[1]) == 2
    if kind != "func":
        return False
    if len(value) <= 3:
        return True
    frame_value = value[3][1]
    return not (frame_value[0] == "func" and len(frame_value) > 3)


def _literal_name(site: CallSite) -> bool:
    """Is the second argument of getattr/setattr-like site a string literal?"""
    expr = site.expr
    args = getattr(expr, "args", ())
    return len(args) > 1 and isinstance(args[1], Lit) and args[1].kind == "str"


def _literal_key(expr: Expr):
    """A dictionary key or index written as a literal (a short string or an int)."""
    if isinstance(expr, Lit) and expr.kind in ("str", "int") and expr.value is not None:
        return expr.value
    return None


def _member(dotted: str, attr: str) -> Optional[str]:
    """The name of an attribute of an external object: dotted.attr for a short name;
    else, for a method the models know by name, `?.attr`; else none."""
    if dotted.count(".") + 1 < _MAX_EXTERN_PARTS and not dotted.startswith("?"):
        return f"{dotted}.{attr}"
    return f"?.{attr}" if attr in MODELLED_METHODS else None
