"""Name and type resolution: turns a function's facts into a resolved program.

libcst resolves no attributes, so this module decides what `self.api.register` denotes:
`self` is an instance of the context's class; a field's type comes from what the class
assigns to it (`self.api = PluginAPI(...)`), its annotations, or the annotated
constructor parameter it is assigned from; locals from what they are bound to;
module-level names through imports. Values are small tuples:

    ("inst", class_id)  ("class", class_id)  ("func", function_id)
    ("bound", function_id, class_id)  ("unbound", function_id, class_id)
    ("module", name)  ("extern", dotted_name)  ("super", owner_class, self_class)
    ("thread", callables)  ("start", callables)

A context is (function id, class of self); the same method is resolved separately for
each class that runs it, so `self.setup()` in a base class reaches the subclass's
override.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.models import (
    CONCURRENT_CALLS, CONCURRENT_REGISTRARS, NO_RETURN, NO_RETURN_ANNOTATIONS, NOT_REGISTRATIONS,
    THREAD_BASES, THREAD_FACTORIES,
)
from nilcheck.linter.ir import (
    Attr, Bind, Call, CallExpr, Exit, Expr, FalsyConst, If, LocalFunc, Loop, ModuleFacts,
    Name, NoneConst, Read, Store, Super, Try, dotted, walk_nodes,
)
from nilcheck.linter.ordering import (
    Ctx, RCall, RExit, RGen, RIf, RKill, RLoop, RRead, RTry,
)

Value = tuple
_EMPTY: FrozenSet[Value] = frozenset()
_CALLABLE_KINDS = ("func", "bound")


class Resolver:
    def __init__(self, index: ProjectIndex, spawners: Iterable[str] = (),
                 unique_fallback: bool = False):
        self.index = index
        self.spawners = frozenset(spawners)
        self.unique_fallback = unique_fallback
        self._memo: Dict[tuple, FrozenSet[Value]] = {}
        self._active: Set[tuple] = set()
        self._field_memo: Dict[Tuple[str, str], FrozenSet[Value]] = {}
        self._global_memo: Dict[Tuple[str, str], FrozenSet[Value]] = {}
        # Fields some guard checks (`if self.polling:`): candidates for flag implications.
        self.flag_fields: Set[str] = set()
        self._referenced: Optional[FrozenSet[str]] = None
        self.stored_attrs = self._stored_attrs()
        index.base_resolver = self.class_ref

    def class_ref(self, module: ModuleFacts, expr: Expr):
        """("class", id) or ("extern", dotted) for a base-class expression."""
        for value in sorted(self.global_value(module, expr)):
            if value[0] in ("class", "extern"):
                return value
        return None

    @property
    def referenced_names(self) -> FrozenSet[str]:
        """Every name and attribute name the project's code mentions outside a def line:
        a method whose name is not among them is never called by the project."""
        if self._referenced is None:
            names: Set[str] = set()
            for fid in self.index.functions:
                for node in walk_nodes(self.index.function(fid).body):
                    for expr in _node_exprs(node):
                        _collect_names(expr, names)
            for module in self.index.modules.values():
                for _, decorator in module.decorated:
                    _collect_names(decorator, names)
                for imported in module.imports:
                    names.add(imported.name or imported.local)
            self._referenced = frozenset(names)
        return self._referenced

    def _stored_attrs(self) -> FrozenSet[str]:
        """Attribute names assigned anywhere: only those can be late fields."""
        names = set()
        for module in self.index.modules.values():
            names.update(module.stored_attrs)
        for _, klass in self.index.classes.values():
            names.update(name for name, _ in klass.attrs)
        return frozenset(names)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, ctx: Ctx, expr: Expr) -> FrozenSet[Value]:
        key = (ctx, expr)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if key in self._active:
            return _EMPTY
        self._active.add(key)
        try:
            result = frozenset(self._evaluate(ctx, expr))
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _evaluate(self, ctx: Ctx, expr: Expr) -> Iterable[Value]:
        if isinstance(expr, Name):
            return self._name(ctx, expr.id)
        if isinstance(expr, Attr):
            values: Set[Value] = set()
            for base in self.evaluate(ctx, expr.base):
                values.update(self.attribute(ctx, base, expr.attr))
            return values
        if isinstance(expr, CallExpr):
            return self._call_result(ctx, expr)
        if isinstance(expr, LocalFunc):
            return {("func", f"{self.index.module_of(ctx[0]).name}.{expr.qualname}")}
        if isinstance(expr, Super):
            owner = self._owner_class(ctx[0])
            if owner is not None:
                return {("super", owner, ctx[1] or owner)}
        return ()

    def _name(self, ctx: Ctx, name: str) -> Iterable[Value]:
        fid, self_class = ctx
        function = self.index.function(fid)
        if name == function.self_name and function.kind in ("method", "property"):
            owner = self._owner_class(fid)
            return {("inst", self_class or owner)} if (self_class or owner) else ()
        if name in function.local_names:
            values: Set[Value] = set()
            module = self.index.module_of(fid)
            for param in function.params:
                if param.name == name and param.annotation is not None:
                    values.update(self.instances(module, param.annotation))
            for bound in self.index.binds(fid).get(name, ()):
                values.update(self.evaluate(ctx, bound))
            return values
        if function.parent is not None:
            parent = f"{self.index.module_of(fid).name}.{function.parent}"
            if parent in self.index.functions:
                return self.evaluate((parent, self_class), Name(name))
        return self.global_name(self.index.module_of(fid), name)

    def global_value(self, module: ModuleFacts, expr: Expr) -> FrozenSet[Value]:
        return self.evaluate((f"{module.name}.<module>", None), expr)

    def global_name(self, module: ModuleFacts, name: str) -> Set[Value]:
        """What a module-level name denotes (memoized; import cycles resolve to nothing
        rather than recursing forever)."""
        key = (module.name, name)
        cached = self._global_memo.get(key)
        if cached is None:
            self._global_memo[key] = frozenset()
            cached = frozenset(self._global_name(module, name))
            self._global_memo[key] = cached
        return set(cached)

    def _global_name(self, module: ModuleFacts, name: str) -> Set[Value]:
        index = self.index
        if f"{module.name}.{name}" in index.classes and "." not in name:
            return {("class", f"{module.name}.{name}")}
        fid = f"{module.name}.{name}"
        if fid in index.functions and index.function(fid).parent is None \
                and index.function(fid).owner_class is None:
            return {("func", fid)}
        values: Set[Value] = set()
        for imported in module.imports:
            if imported.local == name:
                values.update(self._import(imported.module, imported.name))
        if values:
            return values
        toplevel = (f"{module.name}.<module>", None)
        for global_name, value in module.global_values:
            if global_name == name:
                values.update(self.evaluate(toplevel, value))
        if values:
            return values
        for imported in module.imports:
            if imported.local == "*" and imported.module in index.modules:
                values.update(self.global_name(index.modules[imported.module], name))
        if not values and not any(name == g for g, _ in module.global_values):
            values.add(("extern", name))
        return values

    def _import(self, module_name: str, member: Optional[str]) -> Set[Value]:
        index = self.index
        if member is None:
            if module_name in index.modules:
                return {("module", module_name)}
            return {("extern", module_name)}
        full = f"{module_name}.{member}"
        if module_name in index.modules:
            found = self.global_name(index.modules[module_name], member)
            found.discard(("extern", member))
            if found:
                return found
        if full in index.modules:
            return {("module", full)}
        if module_name in index.modules:
            return set()
        return {("extern", full)}

    def instances(self, module: ModuleFacts, annotation: Expr) -> Set[Value]:
        values = set()
        for value in self.global_value(module, annotation):
            if value[0] == "class":
                values.add(("inst", value[1]))
        return values

    def attribute(self, ctx: Ctx, base: Value, attr: str) -> Set[Value]:
        index = self.index
        kind = base[0]
        if kind == "inst":
            cid = base[1]
            method = index.find_method(cid, attr)
            if method is not None:
                if index.function(method).kind == "property":
                    return set(self._returns((method, cid)))
                return {("bound", method, cid)}
            if attr == "start" and any(b in THREAD_BASES for b in index.external_bases(cid)):
                run = index.find_method(cid, "run")
                return {("start", (("bound", run, cid),))} if run else set()
            return set(self.field_values(cid, attr))
        if kind == "class":
            cid = base[1]
            method = index.find_method(cid, attr)
            if method is not None:
                if index.function(method).kind == "staticmethod":
                    return {("func", method)}
                return {("unbound", method, cid)}
            nested = f"{cid}.{attr}"
            if nested in index.classes:
                return {("class", nested)}
            return set()
        if kind == "module":
            module = index.modules[base[1]]
            found = self.global_name(module, attr)
            found.discard(("extern", attr))
            if not found and f"{base[1]}.{attr}" in index.modules:
                found = {("module", f"{base[1]}.{attr}")}
            return found
        if kind == "extern":
            return {("extern", f"{base[1]}.{attr}")}
        if kind == "super":
            _, owner, self_class = base
            method = index.find_method(self_class, attr, after=owner)
            return {("bound", method, self_class)} if method else set()
        if kind == "thread" and attr == "start":
            return {("start", base[1])}
        return set()

    def field_values(self, cid: str, attr: str) -> FrozenSet[Value]:
        key = (cid, attr)
        cached = self._field_memo.get(key)
        if cached is not None:
            return cached
        self._field_memo[key] = _EMPTY  # recursion guard
        index = self.index
        values: Set[Value] = set()
        for klass in index.mro(cid):
            module, facts = index.classes[klass]
            for _, qualname in facts.methods:
                fid = f"{module.name}.{qualname}"
                for stored in index.self_stores(fid).get(attr, ()):
                    values.update(self.evaluate((fid, cid), stored))
            for name, declared in facts.attrs:
                if name != attr:
                    continue
                if declared.annotation is not None:
                    values.update(self.instances(module, declared.annotation))
                if declared.value is not None:
                    values.update(self.global_value(module, declared.value))
        result = frozenset(values)
        self._field_memo[key] = result
        return result

    def _call_result(self, ctx: Ctx, expr: CallExpr) -> Set[Value]:
        values: Set[Value] = set()
        for func in self.evaluate(ctx, expr.func):
            kind = func[0]
            if kind == "class":
                values.add(("inst", func[1]))
            elif kind in ("func", "bound", "unbound"):
                target = self.callee_context(ctx, func)
                values.update(self._returns(target))
            elif kind == "extern" and func[1] in THREAD_FACTORIES:
                keyword, position = THREAD_FACTORIES[func[1]]
                targets = self._argument(expr, keyword, position)
                if targets is not None:
                    callables = tuple(sorted(v for v in self.evaluate(ctx, targets)
                                             if v[0] in _CALLABLE_KINDS))
                    if callables:
                        values.add(("thread", callables))
        return values

    @staticmethod
    def _argument(expr, keyword: str, position: int) -> Optional[Expr]:
        for name, value in expr.kwargs:
            if name == keyword:
                return value
        return expr.args[position] if len(expr.args) > position else None

    def _returns(self, ctx: Ctx) -> Set[Value]:
        function = self.index.function(ctx[0])
        module = self.index.module_of(ctx[0])
        if function.returns is not None:
            found = self.instances(module, function.returns)
            if found:
                return found
        values: Set[Value] = set()
        for returned in function.return_values:
            values.update(v for v in self.evaluate(ctx, returned) if v[0] == "inst")
        return values

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

    def callee_context(self, ctx: Ctx, value: Value) -> Ctx:
        kind = value[0]
        if kind == "bound":
            return (value[1], value[2])
        if kind == "unbound":
            return (value[1], ctx[1] if ctx[1] else value[2])
        function = self.index.function(value[1])
        # A closure or lambda runs with the `self` of the function that made it.
        return (value[1], ctx[1] if function.parent is not None else None)

    # ------------------------------------------------------------ resolved bodies

    def resolve_body(self, ctx: Ctx) -> Tuple[tuple, List[Tuple[Ctx, bool]]]:
        """The resolved program of a context and its outgoing (target, is_spawn) edges."""
        edges: List[Tuple[Ctx, bool]] = []
        body = self._block(ctx, self.index.function(ctx[0]).body, edges)
        return body, edges

    def _block(self, ctx: Ctx, block, edges) -> tuple:
        out: list = []
        for node in block:
            if isinstance(node, Read):
                out.extend(self._read(ctx, node))
            elif isinstance(node, Store):
                out.extend(self._store(ctx, node, edges))
            elif isinstance(node, Call):
                out.extend(self._call(ctx, node, edges))
            elif isinstance(node, If):
                out.append(RIf(self._facts(ctx, node.true_facts),
                               self._facts(ctx, node.false_facts),
                               self._block(ctx, node.body, edges),
                               self._block(ctx, node.orelse, edges)))
            elif isinstance(node, Loop):
                out.append(RLoop(self._block(ctx, node.body, edges),
                                 self._block(ctx, node.orelse, edges), node.infinite,
                                 self._facts(ctx, node.exit_facts), node.runs_once))
            elif isinstance(node, Try):
                out.append(RTry(self._block(ctx, node.body, edges),
                                tuple(self._block(ctx, h, edges) for h in node.handlers),
                                self._block(ctx, node.orelse, edges),
                                self._block(ctx, node.final, edges),
                                node.catches_attribute_error))
            elif isinstance(node, Exit):
                out.append(RExit(node.kind))
            elif isinstance(node, Bind):
                continue
        return tuple(out)

    def fields_of(self, ctx: Ctx, target: Attr) -> List[Tuple[str, str]]:
        """(field id, receiver class) pairs an attribute expression may denote."""
        if target.attr not in self.stored_attrs:
            return []
        pairs = []
        for base in sorted(self.evaluate(ctx, target.base)):
            if base[0] != "inst":
                continue
            cid = base[1]
            if self.index.find_method(cid, target.attr) is not None:
                continue
            owner = self.index.field_owner(cid, target.attr)
            pairs.append((f"{owner}.{target.attr}", cid))
        return pairs

    def _read(self, ctx: Ctx, node: Read) -> List:
        on_self = self._is_self(ctx, node.target.base)
        return [RRead(field, receiver, node.line, node.column, on_self)
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
        for fact in facts:
            if isinstance(fact, Attr):
                fields.update(field for field, _ in self.fields_of(ctx, fact))
        self.flag_fields.update(fields)
        return frozenset(fields)

    def _store(self, ctx: Ctx, node: Store, edges) -> List:
        out: List = []
        pairs = self.fields_of(ctx, node.target)
        owners = {field for field, _ in pairs}
        if len(owners) == 1:
            field = pairs[0][0]
            if isinstance(node.value, NoneConst):
                out.append(RKill(field))
            else:
                out.append(RGen(field, node.line, True,
                                truthy=not isinstance(node.value, FalsyConst)))
        base_is_self = any(v[0] == "inst" and v[1] == ctx[1]
                           for v in self.evaluate(ctx, node.target.base)) and \
            isinstance(node.target.base, Name)
        if not base_is_self:
            # A callable handed to another object is a registered callback: it may be
            # called from the moment it is stored.
            spawned = self._callables(ctx, node.value)
            if spawned:
                # A callback stored on an object that already exists (a connected client)
                # may fire at once, on its thread; one stored on an object this function
                # has just built (`parser.print_help = self._help`) waits for its owner.
                on_self = isinstance(node.value, Attr) and self._is_self(ctx, node.value.base)
                fresh = self._freshly_built(ctx, node.target.base)
                out.append(RCall(spawned, node.line, spawn=True, on_self=on_self,
                                 concurrent=not fresh))
                edges.extend((t, True) for t in spawned)
        return out

    def _configured_spawner(self, values) -> bool:
        """Is the call to one of the `spawners` the user configured (by qualified name:
        a project function's id or an external dotted name)? Their callable arguments
        may run at once on another thread."""
        for value in values:
            if value[0] in ("func", "bound", "unbound", "extern") and value[1] in self.spawners:
                return True
        return False

    def _freshly_built(self, ctx: Ctx, expr: Expr) -> bool:
        """Is expr a local bound only to the results of calls made in this function?"""
        if not isinstance(expr, Name):
            return False
        function = self.index.function(ctx[0])
        if expr.id not in function.local_names or any(p.name == expr.id
                                                      for p in function.params):
            return False
        values = self.index.binds(ctx[0]).get(expr.id, ())
        return bool(values) and all(isinstance(v, CallExpr) for v in values)

    def _callables(self, ctx: Ctx, expr: Expr) -> Tuple[Ctx, ...]:
        targets = []
        for value in sorted(self.evaluate(ctx, expr)):
            if value[0] in _CALLABLE_KINDS:
                targets.append(self.callee_context(ctx, value))
        return tuple(dict.fromkeys(targets))

    def _call(self, ctx: Ctx, node: Call, edges) -> List:
        index = self.index
        calls: List[Ctx] = []
        # (target, on the same object, may run on another thread at once)
        spawns: List[Tuple[Ctx, bool, bool]] = []
        deferred = False
        on_self = isinstance(node.func, Attr) and self._is_self(ctx, node.func.base)
        values = self.evaluate(ctx, node.func)
        for value in sorted(values):
            kind = value[0]
            if kind in ("func", "bound", "unbound"):
                target = self.callee_context(ctx, value)
                if index.function(target[0]).is_async and not node.awaited:
                    spawns.append((target, on_self, False))  # runs once scheduled
                else:
                    calls.append(target)
            elif kind == "class":
                init = index.find_method(value[1], "__init__")
                if init is not None:
                    calls.append((init, value[1]))
            elif kind == "start":
                for callable_value in value[1]:
                    target = self.callee_context(ctx, callable_value)
                    spawns.append((target, target[1] == ctx[1], True))
            elif kind == "extern" and value[1] in THREAD_FACTORIES:
                deferred = True
        no_return = bool(values) and all(self._no_return(v) for v in values)
        if not values and self.unique_fallback and isinstance(node.func, Attr):
            target = self._unique_method(node.func)
            if target is not None:
                calls.append(target)
        registering = not deferred and not (
            isinstance(node.func, Name) and node.func.id in NOT_REGISTRATIONS)
        if registering:
            method = node.func.attr if isinstance(node.func, Attr) else \
                node.func.id if isinstance(node.func, Name) else ""
            concurrent = method in CONCURRENT_REGISTRARS or \
                dotted(node.func) in CONCURRENT_CALLS or self._configured_spawner(values)
            for argument in list(node.args) + [value for _, value in node.kwargs]:
                passes_self = isinstance(argument, Attr) and self._is_self(ctx, argument.base)
                for target in self._callables(ctx, argument):
                    spawns.append((target, passes_self, concurrent))
        out: List = []
        groups: Dict[Tuple[bool, bool], List[Ctx]] = {}
        for target, same_object, concurrent in spawns:
            group = groups.setdefault((same_object, concurrent), [])
            if target not in group:
                group.append(target)
        for (same_object, concurrent), targets in sorted(groups.items()):
            out.append(RCall(tuple(targets), node.line, spawn=True, on_self=same_object,
                             concurrent=concurrent))
            edges.extend((t, True) for t in targets)
        calls = list(dict.fromkeys(calls))
        if calls:
            out.append(RCall(tuple(calls), node.line, on_self=on_self))
            edges.extend((t, False) for t in calls)
        if no_return:
            out.append(RExit("raise"))
        return out

    def _no_return(self, value: Value) -> bool:
        if value[0] == "extern":
            return value[1] in NO_RETURN
        if value[0] in ("func", "bound", "unbound"):
            returns = self.index.function(value[1]).returns
            name = dotted(returns) if returns is not None else None
            return bool(name) and name.rsplit(".", 1)[-1] in NO_RETURN_ANNOTATIONS
        return False

    def _unique_method(self, func: Attr) -> Optional[Ctx]:
        """A call on a receiver of unknown type, to a method name that exactly one
        project class defines, goes to that class."""
        if func.attr.startswith("__"):
            return None
        if self._receiver_outside_project(func.base):
            return None
        owners = self.index.method_owners.get(func.attr, [])
        if len(owners) != 1:
            return None
        cid = owners[0]
        method = self.index.find_method(cid, func.attr)
        if method is None or self.index.function(method).kind == "staticmethod":
            return None
        return (method, cid)

    @staticmethod
    def _receiver_outside_project(base: Expr) -> bool:
        # Receivers whose type is known to be outside the project by their shape.
        return isinstance(base, (CallExpr, NoneConst))


def _node_exprs(node) -> Iterable[Expr]:
    if isinstance(node, Read):
        yield node.target
    elif isinstance(node, Call):
        yield node.func
        yield from node.args
        yield from (value for _, value in node.kwargs)
    elif isinstance(node, Store):
        yield node.target
        yield node.value
    elif isinstance(node, Bind):
        yield node.value
    elif isinstance(node, If):
        yield from node.true_facts
        yield from node.false_facts


def _collect_names(expr: Expr, names: Set[str]) -> None:
    if isinstance(expr, Name):
        names.add(expr.id)
    elif isinstance(expr, Attr):
        names.add(expr.attr)
        _collect_names(expr.base, names)
    elif isinstance(expr, CallExpr):
        _collect_names(expr.func, names)
        for arg in expr.args:
            _collect_names(arg, names)
        for _, value in expr.kwargs:
            _collect_names(value, names)
    elif isinstance(expr, LocalFunc):
        names.add(expr.qualname.rsplit(".", 1)[-1])
