"""Resolution: turns a function's facts, run in a context, into a resolved program.

What each expression can hold comes from the value flow (valueflow.py), solved once for
every context reachable from the roots; this module reads it and decides, event by
event, what the ordering analysis sees: which fields a read or store touches (through
the object its base holds), which contexts a call runs now (a call) or lets run later
(a spawn: a thread started, a callback registered with outside code, a coroutine
scheduled), and which calls never return. A context is (function id, class of self).

A callable passed to project code runs where that code calls it (the flow follows it
there); it is a spawn only where it reaches code outside the project, or a call that
resolves to nothing: outside code may call it at any later time. A callable stored on
an object or in a container kept by one (`self.on_done = cb`, `self.handlers.append(cb)`)
is a registered callback: it is spawned where it is stored, and the call that later
takes it from there (`self.on_done()`) is a deferred call, not a call, for the ordering:
the flow merges what all instances of a class store, and a dispatcher would otherwise
run every callback any of them ever registered.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import (
    Attr, AwaitValue, Bind, Call, CallExpr, DictLit, Enter, Exit,
    Expr, If, Iter, Loop, ModuleFacts, Name, NoneConst, Read, Seq, SetItem,
    Snapshot, Starred, Store, Subscript, Super, Try, AliasGuard, dotted,
    is_falsy_literal, node_exprs, subexpressions,
)
from nilcheck.linter.models import (
    ACTIVATION_METHODS, CONCURRENT_CALLS, GUI_EVENT_HANDLERS, NO_RETURN, NO_RETURN_ANNOTATIONS,
    SYNC_HOOKS, THREAD_FACTORIES,
)
from nilcheck.linter.names import StaticNames
from nilcheck.linter.ordering import (
    Ctx, RCall, RExit, RGen, RIf, RKill, RLoop, RRead, RSnapshot, RTry, ctx_key, present,
    snapshot_fact_key, snapshot_key,
)
from nilcheck.linter.valueflow import Flow, variant_part

Value = tuple
# Container methods that put values in (a callback stored so) or take them out.
_STORERS = frozenset({"append", "add", "insert", "extend", "update", "setdefault",
                      "appendleft", "extendleft", "__setitem__"})
_READERS = frozenset({"get", "pop", "setdefault", "values", "items", "copy", "popleft"})


class Resolver:
    def __init__(self, index: ProjectIndex, spawners: Iterable[str] = ()):
        self.index = index
        self.names = StaticNames(index)
        index.base_resolver = self.class_ref
        self.flow = Flow(index, spawners=spawners, names=self.names)
        # Fields some guard checks (`if self.polling:`): candidates for flag implications.
        self.flag_fields: Set[str] = set()
        self.stored_attrs = self._stored_attrs()
        # Calls met in resolved contexts, by (context, line, column): resolved or not.
        self.calls_resolved: Set[Tuple[Ctx, int, int]] = set()
        self.calls_unresolved: Dict[Tuple[Ctx, int, int], Call] = {}
        # Calls of names outside the project, per context: (line, name); for the graph.
        self.external_calls: Dict[Ctx, List[Tuple[int, str]]] = {}
        # Calls of callbacks taken from an object's fields or containers, per context:
        # (line, target); the ordering counts them where they were stored (see above).
        self.deferred_calls: Dict[Ctx, List[Tuple[int, Ctx]]] = {}
        # Callbacks stored on a library object this function built, by (context, local
        # name): they run once the object goes live (see _activations).
        self._inactive: Dict[Tuple[Ctx, str], List[Ctx]] = {}
        self._properties: Dict[str, bool] = {}
        self._implicit_parts: Dict[int, tuple] = {}
        self._fields_known: Dict[Tuple[str, str], bool] = {}
        self._thread_side: Optional[FrozenSet[Ctx]] = None

    def class_ref(self, module: ModuleFacts, expr: Expr):
        """("class", id) or ("extern", dotted) for a base-class expression."""
        found = self.names.resolve(module, expr)
        return found if found is not None and found[0] in ("class", "extern") else None

    def prepare(self, roots: Iterable[Ctx], live: Iterable[str] = ()) -> None:
        """Solve the value flow from these contexts (entry points, what has run before
        them) and with instances of these classes existing (a method entry's receiver)."""
        for cid in live:
            self.flow.mark_live(cid)
        for ctx in roots:
            self.flow.enter(ctx)
        self.flow.solve()
        self._thread_side = None

    def _stored_attrs(self) -> FrozenSet[str]:
        """Attribute names assigned anywhere: only those can be late fields."""
        names = set()
        for module in self.index.modules.values():
            names.update(module.stored_attrs)
        for _, klass in self.index.classes.values():
            names.update(name for name, _ in klass.attrs)
        return frozenset(names)

    # ------------------------------------------------------------ values

    def evaluate(self, ctx: Ctx, expr: Expr) -> FrozenSet[Value]:
        """What expr can hold in ctx."""
        return self.flow.values(ctx, expr)

    def field_values(self, cid: str, attr: str) -> FrozenSet[Value]:
        return self.flow.field_values(cid, attr)

    def fields_of(self, ctx: Ctx, target: Attr) -> List[Tuple[str, str]]:
        """(field id, receiver class) pairs an attribute expression may denote."""
        attr = target.attr
        if attr not in self.stored_attrs or (attr[:2] == "__" == attr[-2:]):
            return []  # never assigned; or Python's own (`__dict__`, `__class__`)
        pairs = []
        classes = sorted({base[1] for base in self.evaluate(ctx, target.base)
                          if base[0] in ("inst", "decl")})
        for cid in classes:
            if self.index.find_method(cid, target.attr) is not None \
                    or self._method_alias(cid, target.attr):
                continue
            if not self._has_field(cid, target.attr):
                continue  # nothing gives instances of cid this attribute
            owner = self.index.field_owner(cid, target.attr)
            pair = (f"{owner}.{target.attr}", cid)
            if pair not in pairs:
                pairs.append(pair)
        return pairs

    def _method_alias(self, cid: str, attr: str) -> bool:
        """Is attr a class attribute naming a method of its class (`title = wm_title`,
        `__str__ = __repr__`)? That is a method, not a field."""
        declared = self.index.class_attr(cid, attr)
        if declared is None:
            return False
        klass, value = declared
        named = value.value
        name = getattr(named, "id", None) or getattr(named, "qualname", None)
        if not isinstance(name, str):
            return False
        return self.index.class_facts(klass).method(name.rsplit(".", 1)[-1]) is not None

    def _has_field(self, cid: str, attr: str) -> bool:
        """Can instances of cid have attr: a class attribute or a `self.attr = ...` in a
        method of its classes, a store into it anywhere the flow saw, or a class whose
        attributes come from outside the project? (A merged receiver set holds classes
        the attribute is read on only by the flow's imprecision.)"""
        key = (cid, attr)
        found = self._fields_known.get(key)
        if found is None:
            index = self.index
            found = not index.plain(cid) or (cid, attr) in self.flow.stored_fields or any(
                any(name == attr for name, _ in index.class_facts(klass).attrs)
                or index.assigns(klass, attr) for klass in index.mro(cid))
            self._fields_known[key] = found
        return found

    # ------------------------------------------------------------ resolved bodies

    def resolve_body(self, ctx: Ctx) -> Tuple[tuple, List[Tuple[Ctx, bool]]]:
        """The resolved program of a context and its outgoing (target, is_spawn) edges."""
        if ctx not in self.flow.lowered:
            self.flow.enter(ctx)  # not reached from the roots (say, a constructor asked
            self.flow.solve()  # about later): analysed now
        edges: List[Tuple[Ctx, bool]] = []
        function = self.index.function(ctx[0])
        body = self._block(ctx, function.body, edges)
        if function.is_generator and any(isinstance(node, RLoop) and node.infinite
                                         for node in body):
            # An endless generator (`while True: yield ...`) does not stop its caller:
            # its body runs a piece at a time as it is consumed, maybe not at all.
            # (A finite one is taken as run at the call, which is when a `with` or a
            # `for` over it runs what comes before its first yield.)
            body = (RLoop(body, (), infinite=False, exit_fields=frozenset()),)
        return body, edges

    def _block(self, ctx: Ctx, block, edges) -> tuple:
        out: list = []
        for node in block:
            kind = type(node)
            if kind in (Bind, Call, Store, Read):
                out.extend(self._implicit_calls(ctx, node, edges))
            if kind is Read:
                out.extend(self._read(ctx, node))
            elif kind is Snapshot:
                fields = frozenset(field for field, _ in self.fields_of(ctx, node.target))
                if fields:
                    out.append(RSnapshot(snapshot_key(ctx, node.alias), fields))
            elif kind is Store:
                out.extend(self._store(ctx, node, edges))
            elif kind is Call:
                out.extend(self._call(ctx, node, edges))
            elif kind is AwaitValue:
                out.extend(self._await(ctx, node, edges))
            elif kind is SetItem:
                out.extend(self._set_item(ctx, node, edges))
            elif kind is If:
                decided = _decided(ctx, node)
                if decided is None:
                    decided = self._decided_by_type(ctx, node)
                if decided is not None:  # a test the call's own arguments decide
                    out.extend(self._block(ctx, decided, edges))
                    continue
                out.append(RIf(self._facts(ctx, node.true_facts),
                               self._facts(ctx, node.false_facts),
                               self._block(ctx, node.body, edges),
                               self._block(ctx, node.orelse, edges), node.line))
            elif kind is Loop:
                out.append(RLoop(self._block(ctx, node.body, edges),
                                 self._block(ctx, node.orelse, edges), node.infinite,
                                 self._facts(ctx, node.exit_facts), node.runs_once))
            elif kind is Try:
                out.append(RTry(self._block(ctx, node.body, edges),
                                tuple(self._block(ctx, h, edges) for h in node.handlers),
                                self._block(ctx, node.orelse, edges),
                                self._block(ctx, node.final, edges),
                                node.catches_attribute_error))
            elif kind is Exit:
                out.append(RExit(node.kind))
        return tuple(out)

    def _read(self, ctx: Ctx, node: Read) -> List:
        on_self = self._is_self(ctx, node.target.base)
        key = snapshot_key(ctx, node.alias) if node.alias else ""
        return [RRead(field, receiver, node.line, node.column, on_self, key, node.presence)
                for field, receiver in self.fields_of(ctx, node.target)]

    def _self_name(self, fid: str) -> Optional[str]:
        """The name `self` has in a method, or in the closures and lambdas inside one."""
        index = self.index
        while fid in index.functions:
            function = index.function(fid)
            if function.self_name is not None:
                return function.self_name
            if function.parent is None:
                return None
            fid = f"{index.module_of(fid).name}.{function.parent}"
        return None

    def _is_self(self, ctx: Ctx, expr: Expr) -> bool:
        return isinstance(expr, Super) or (
            isinstance(expr, Name) and expr.id == self._self_name(ctx[0]))

    def _facts(self, ctx: Ctx, facts) -> FrozenSet[str]:
        fields = set()
        snapshots = set()
        for fact in facts:
            if isinstance(fact, AliasGuard):
                held = [field for field, _ in self.fields_of(ctx, fact.target)]
                fields.update(held)
                key = snapshot_key(ctx, fact.alias)
                snapshots.update(snapshot_fact_key(key, field) for field in held)
            elif isinstance(fact, Attr):
                fields.update(field for field, _ in self.fields_of(ctx, fact))
        self.flag_fields.update(fields)
        # A field known set is known to exist (ordering's invariant, see PRESENT).
        return frozenset(fields | snapshots | {present(field) for field in fields})

    def _store(self, ctx: Ctx, node: Store, edges) -> List:
        out: List = []
        pairs = self.fields_of(ctx, node.target)
        owners = {field for field, _ in pairs}
        if len(owners) > 1 and ctx[1] is not None and self._is_self(ctx, node.target.base):
            # `self` in a method run for class C is a C: its own field is the one stored,
            # whatever else the flow merged into the parameter.
            owners = {field for field, receiver in pairs if receiver == ctx[1]}
            pairs = [pair for pair in pairs if pair[1] == ctx[1]]
        if len(owners) == 1:
            field = pairs[0][0]
            if isinstance(node.value, NoneConst):
                out.append(RKill(field, node.line))
            else:
                out.append(RGen(field, node.line, True,
                                truthy=not is_falsy_literal(node.value),
                                fillable=isinstance(node.value, (Seq, DictLit))))
        bases = self.evaluate(ctx, node.target.base)
        # A callable stored on an object is a registered callback: it may be called from
        # the moment it is stored (by the object's own code, or by outside code). Where
        # the value is not written as one callable (a parameter merging every caller's),
        # it is spawned where it was (see valueflow.Flow.precise).
        spawned = self._callables(ctx, node.value) if self.flow.precise(ctx, node.value) \
            else ()
        if spawned:
            # A callback stored on an object outside the project that already exists (a
            # connected client) may fire at once, on its thread; one stored on an object
            # this function has just built (`parser.print_help = self._help`) waits for
            # its owner, and so does one stored on a project object, which its own code
            # calls.
            on_self = isinstance(node.value, Attr) and self._is_self(ctx, node.value.base)
            outside = any(value[0] in ("extern", "extinst") for value in bases) or not bases
            fresh = self.flow.freshly_built(ctx, node.target.base)
            out.append(RCall(spawned, node.line, spawn=True, on_self=on_self,
                             concurrent=outside and not fresh
                             and node.target.attr not in GUI_EVENT_HANDLERS))
            edges.extend((t, True) for t in spawned)
            if outside and fresh:
                self._inactive.setdefault((ctx, node.target.base.id), []).extend(spawned)
        return out

    def _activations(self, ctx: Ctx, node: Call, externals) -> List:
        """A library object this function built goes live here: a modelled start method
        is called on it (`client.loop_start()`), or one of its methods is handed to a
        thread (`Thread(target=client.loop_forever)`). The callbacks already stored on it
        may run from here on, on the library's thread."""
        names = []
        func = node.func
        if type(func) is Attr and type(func.base) is Name and func.attr in ACTIVATION_METHODS:
            names.append(func.base.id)
        if any(name in THREAD_FACTORIES or name in CONCURRENT_CALLS for name in externals):
            for value in list(node.args) + [v for _, v in node.kwargs]:
                if type(value) is Attr and type(value.base) is Name:
                    names.append(value.base.id)
        out = []
        for name in names:
            targets = self._inactive.pop((ctx, name), None)
            if targets:
                targets = tuple(sorted(set(targets), key=ctx_key))
                out.append(RCall(targets, node.line, spawn=True,
                                 on_self=all(t[1] is not None and t[1] == ctx[1]
                                             for t in targets),
                                 concurrent=True))
        return out

    def _from_heap(self, ctx: Ctx, expr: Expr, depth: int = 0) -> bool:
        """Is expr taken from an object's field, or from a container an object keeps
        (`self.cb`, `self.handlers[k]`, `h` in `for h in self.handlers`)? A parameter,
        a local container and a call's result are not."""
        if depth > 8:
            return False
        kind = type(expr)
        if kind is Attr:
            values = self.evaluate(ctx, expr.base)
            return any(v[0] in ("inst", "decl", "class") and
                       self.index.find_method(v[1], expr.attr) is None for v in values)
        if kind is Subscript or kind is Iter:
            return self._from_heap(ctx, expr.base, depth + 1)
        if kind is CallExpr and type(expr.func) is Attr and expr.func.attr in _READERS:
            return self._from_heap(ctx, expr.func.base, depth + 1)
        if kind is Name:
            function = self.index.function(ctx[0])
            if expr.id not in function.local_names or any(p.name == expr.id
                                                          for p in function.params):
                return False
            binds = self.index.binds(ctx[0]).get(expr.id, ())
            return bool(binds) and all(self._from_heap(ctx, value, depth + 1)
                                       for value in binds)
        return False

    def _patched_targets(self, ctx: Ctx, func: Expr) -> Set[Ctx]:
        """The callees of a call through a module global (`linecache.getlines(...)`)
        that are there only because other code replaced that global: they run from
        the replacement on, which is where they are counted (a spawn)."""
        natural = self.names.resolve(self.index.module_of(ctx[0]), func)
        targets = set()
        for value in self.evaluate(ctx, func):
            if value in self.flow.patch_values and value[:2] != natural:
                target = self.flow.callable_context(value)
                if target is not None:
                    targets.add(target)
        return targets

    def _is_callable_target(self, ctx: Ctx, node: Call, target: Ctx) -> bool:
        """Is target a function or method the callee expression holds (not a class's
        constructor or a __call__, nor an override a framework base method runs: see
        models.SYNC_HOOKS)?"""
        if isinstance(node.func, Attr) and node.func.attr in SYNC_HOOKS \
                and target[0].rsplit(".", 1)[1] in SYNC_HOOKS[node.func.attr]:
            return False
        return not target[0].endswith((".__init__", ".__call__"))

    def _stored_callables(self, ctx: Ctx, node: Call) -> Tuple[Ctx, ...]:
        """The callables a call stores into a container an object keeps
        (`self.handlers.append(cb)`, `self.hooks.setdefault(k, []).append(cb)`)."""
        func = node.func
        if node.kind != "" or type(func) is not Attr or func.attr not in _STORERS \
                or not self._from_heap(ctx, func.base):
            return ()
        targets: Set[Ctx] = set()
        for argument in list(node.args) + [value for _, value in node.kwargs]:
            if isinstance(argument, Starred) or not self.flow.precise(ctx, argument):
                continue
            targets.update(self._callables(ctx, argument))
        return tuple(sorted(targets, key=ctx_key))

    def _decided_by_type(self, ctx: Ctx, node: If):
        """The only arm of node that can run in ctx, when ctx is a call whose argument's
        class decides the node's `isinstance` test (valueflow._typed_variant); else
        None. Undecided when a class of the test is outside the project."""
        types = dict(variant_part(ctx, "<types>"))
        for name, classes, arm in node.type_tests:
            cid = types.get(name)
            if cid is None:
                continue
            module = self.index.module_of(ctx[0])
            listed = classes.items if isinstance(classes, Seq) else (classes,)
            named = [self.names.resolve(module, item) for item in listed]
            if any(found is None or found[0] != "class" for found in named):
                continue
            instance = any(found[1] in self.index.mro(cid) for found in named)
            return node.body if instance == arm else node.orelse
        return None

    def thread_side(self) -> FrozenSet[Ctx]:
        """The contexts that run on a thread the program starts: every context a
        concurrent spawn starts, and what those call, in the solved flow. A callback
        such a context takes from where it was stored and calls (a worker's
        `handler = self.pending.pop(0); handler()`) runs there and then, on that thread:
        a call, not a deferred one (see _call_rest)."""
        if self._thread_side is None:
            by_ctx: Dict[Ctx, list] = {}
            for site in self.flow.sites.values():
                by_ctx.setdefault(site.ctx, []).append(site)
            pending = sorted({target for site in self.flow.sites.values()
                              for target, concurrent in site.spawned.items() if concurrent},
                             key=ctx_key)
            seen = set(pending)
            while pending:
                for site in by_ctx.get(pending.pop(), ()):
                    for target, how in site.invoked.items():
                        if how == "call" and target not in seen:
                            seen.add(target)
                            pending.append(target)
            self._thread_side = frozenset(seen)
        return self._thread_side

    def _callables(self, ctx: Ctx, expr: Expr) -> Tuple[Ctx, ...]:
        targets = {self.flow.callable_context(value) for value in self.evaluate(ctx, expr)}
        targets.discard(None)
        return tuple(sorted(targets, key=_ctx_key))

    def call_targets(self, ctx: Ctx, node: Call):
        """What a call event does, from its call site's record: the contexts it runs
        now, the ones it lets run later (with whether on another thread), the names
        outside the project it calls, and whether anything resolved it. The contexts
        run now are the call's targets (one of them runs), then for each argument of a
        runner (map, asyncio.run, an awaited gather) the contexts it gave (in turn)."""
        site = self.flow.site(ctx, node)
        if site is None:
            return [], [], {}, set(), False
        calls: List[Ctx] = []
        for target, how in site.invoked.items():
            # Calling an async function only makes a coroutine: it runs where it is
            # awaited, or handed to a runner, or scheduled (see _await, synced, spawned).
            if how == "call" or node.awaited:
                calls.append(target)
        synced = [sorted(site.synced[position], key=ctx_key)
                  for position in sorted(site.synced) if site.synced[position]]
        if node.awaited:
            # `await self.conn.read()` where read() is a plain function returning a
            # coroutine (`return self._read_message(d)`): that coroutine runs here too.
            made = sorted({value[1] for value in self.flow.node_values(site.result)
                           if value[0] == "coro" and value[1] not in site.invoked},
                          key=ctx_key)
            if made:
                synced.append(made)
        resolved = bool(site.func is None or self.flow.node_values(site.func))
        spawned = site.spawned
        if not resolved and site.escape_spawned:
            spawned = {**site.escape_spawned, **site.spawned}
        return calls, synced, spawned, site.externals, resolved

    def _call(self, ctx: Ctx, node: Call, edges) -> List:
        calls, synced, spawned, externals, resolved = self.call_targets(ctx, node)
        activated = self._activations(ctx, node, externals) if self._inactive else []
        return activated + self._call_rest(ctx, node, edges, calls, synced, spawned,
                                           externals, resolved)

    def _call_rest(self, ctx: Ctx, node: Call, edges, calls, synced, spawned, externals,
                   resolved) -> List:
        if calls and node.kind == "" and self.flow.patch_values \
                and type(node.func) in (Name, Attr):
            patched = self._patched_targets(ctx, node.func)
            if patched:
                self.deferred_calls.setdefault(ctx, []).extend((node.line, t) for t in patched)
                calls = [t for t in calls if t not in patched]
        if calls and node.kind == "" and self._from_heap(ctx, node.func) \
                and ctx not in self.thread_side():
            deferred = [t for t in calls if self._is_callable_target(ctx, node, t)]
            if deferred:
                self.deferred_calls.setdefault(ctx, []).extend((node.line, t) for t in deferred)
                calls = [t for t in calls if t not in deferred]
        stored = self._stored_callables(ctx, node)
        if stored:
            spawned = dict(spawned)
            for target in stored:
                spawned.setdefault(target, False)
        if externals:
            self.external_calls.setdefault(ctx, []).extend(
                (node.line, name) for name in sorted(externals))
        if node.kind == "":
            where = (ctx, node.line, node.column)
            if resolved:
                self.calls_resolved.add(where)
            else:
                self.calls_unresolved[where] = node
        # `self.m()`, `super().m()`, and `Base.m(self, ...)`: the call stays on this object.
        on_self = isinstance(node.func, Attr) and (
            self._is_self(ctx, node.func.base)
            or (bool(node.args) and bool(calls) and self._is_self(ctx, node.args[0])
                and all(t[1] is not None and t[1] == ctx[1] for t in calls)))
        out: List = []
        groups: Dict[Tuple[bool, bool], List[Ctx]] = {}
        for target in sorted(spawned, key=_ctx_key):
            key = (target[1] is not None and target[1] == ctx[1], spawned[target])
            groups.setdefault(key, []).append(target)
        for (same_object, concurrent), targets in sorted(groups.items()):
            out.append(RCall(tuple(targets), node.line, spawn=True, on_self=same_object,
                             concurrent=concurrent))
            edges.extend((t, True) for t in targets)
        calls = sorted(dict.fromkeys(calls), key=_ctx_key)
        if calls:
            out.append(RCall(tuple(calls), node.line, on_self=on_self))
            edges.extend((t, False) for t in calls)
        for targets in synced:  # what each argument gave runs in turn, inside the call
            # `log.callWithLogger(self, self.handle, msg)` runs self.handle on this
            # object, as the spawns above judge it: a method of the same class.
            same_object = on_self or all(t[1] is not None and t[1] == ctx[1] for t in targets)
            out.append(RCall(tuple(targets), node.line, on_self=same_object))
            edges.extend((t, False) for t in targets)
        values = self.evaluate(ctx, node.func) if node.kind == "" else ()
        if values and all(self._no_return(v) for v in values):
            out.append(RExit("raise"))
        return out

    def _set_item(self, ctx: Ctx, node: SetItem, edges) -> List:
        """`self.handlers[key] = cb`: a callback registered where it is stored."""
        if not self._from_heap(ctx, node.base) or not self.flow.precise(ctx, node.value):
            return []
        targets = self._callables(ctx, node.value)
        if not targets:
            return []
        edges.extend((t, True) for t in targets)
        return [RCall(targets, node.line, spawn=True,
                      on_self=isinstance(node.value, Attr) and self._is_self(ctx, node.value.base))]

    def _await(self, ctx: Ctx, node: AwaitValue, edges) -> List:
        """`await task`: the coroutine objects it holds run here."""
        targets = sorted({value[1] for value in self.evaluate(ctx, node.value)
                          if value[0] == "coro"}, key=_ctx_key)
        if not targets:
            return []
        edges.extend((t, False) for t in targets)
        return [RCall(tuple(targets), node.line)]

    def _implicit_calls(self, ctx: Ctx, node, edges) -> List:
        """Calls an event makes without writing them: iterating a project iterator
        (__iter__, __next__), entering a `with` (__enter__), reading a property."""
        parts = self._implicit_parts.get(id(node))
        if parts is None:
            parts = self._implicit_parts[id(node)] = self._parts_calling(node)
        if not parts:
            return []
        flow = self.flow
        implicit = flow.implicit
        targets: Set[Ctx] = set()
        for part in parts:
            if type(part) is Attr:
                targets.update(self._property(ctx, part))
            elif implicit:
                # Iterating records its calls on what is iterated (see _elements).
                found = flow.expr_node(ctx, part.base if type(part) is Iter else part)
                if found is not None and found in implicit:
                    targets |= implicit[found]
        if not targets:
            return []
        ordered = sorted(targets, key=_ctx_key)
        edges.extend((t, False) for t in ordered)
        return [RCall(tuple(ordered), getattr(node, "line", 0))]

    def _parts_calling(self, node) -> tuple:
        """The parts of an event's expressions that may call without a call written:
        attributes named like a property, iterations, `with` targets, subscripts. (Per
        event, whatever context runs it; the event object lives as long as its body.)"""
        owners = self.index.method_owners
        parts = []
        for expr in node_exprs(node):
            for part in subexpressions(expr):
                kind = type(part)
                if kind is Attr:
                    if part.attr in owners and self._is_property_name(part.attr):
                        parts.append(part)
                elif kind is Iter or kind is Enter or kind is Subscript:
                    parts.append(part)
        return tuple(parts)

    def _is_property_name(self, name: str) -> bool:
        """Is some method of the project by this name a property? (Only reading such an
        attribute can run a getter.) Asked per name, so that only the modules defining a
        method of that name are unpickled."""
        known = self._properties.get(name)
        if known is None:
            index = self.index
            known = any(index.function(index.find_method(cid, name) or "").kind == "property"
                        for cid in index.method_owners.get(name, ())
                        if index.find_method(cid, name) in index.functions)
            self._properties[name] = known
        return known

    def _property(self, ctx: Ctx, expr: Attr) -> List[Ctx]:
        """The getters reading expr runs, where expr names a property."""
        base = self.flow.expr_node(ctx, expr.base)
        if base is None:
            return []
        getters = []
        for value in self.flow.node_values(base):
            if value[0] in ("inst", "decl"):
                method = self.index.find_method(value[1], expr.attr)
                if method is not None and self.index.function(method).kind == "property":
                    getters.append((method, value[1]))
        return getters

    def _no_return(self, value: Value) -> bool:
        if value[0] in ("extern", "builtin"):
            return value[1] in NO_RETURN
        if value[0] in ("func", "bound", "unbound"):
            returns = self.index.function(value[1]).returns
            name = dotted(returns) if returns is not None else None
            return bool(name) and name.rsplit(".", 1)[-1] in NO_RETURN_ANNOTATIONS
        return False


_ctx_key = ctx_key


def _decided(ctx: Ctx, node: If):
    """The only arm of node that can run in ctx, when ctx is a call that left out a
    parameter (default `None`) the test needs set or unset (valueflow._omitted_variant);
    else None."""
    omitted = variant_part(ctx, "<omitted>")
    if not omitted:
        return None
    if any(isinstance(fact, Name) and fact.id in omitted for fact in node.true_facts):
        return node.orelse
    if any(isinstance(fact, Name) and fact.id in omitted for fact in node.false_facts):
        return node.body
    return None
