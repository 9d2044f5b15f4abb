"""Whole-program analysis: from entry points to hazards.

Explores the contextual call graph (networkx) from each entry point, summarizes every
reachable context (ordering.py), and turns the reads still exposed at an entry point into
Hazards: a late field, the read, the trace from the entry point, and the initializer the
entry point reaches too late. Hazards are data; wording is diagnostics.py's job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import networkx as nx

from nilcheck.linter.construction import (
    DefaultConstruction, constructor_methods, default_construction, early_reads,
    hands_out_self,
)
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import Attr, Call, Exit, If, Name, NoneConst, Store, Super, Try, walk_nodes
from nilcheck.linter.models import HOOK_NAMES, PYTHON_CALLS
from nilcheck.linter.ordering import (
    RCall, RGen, RIf, RKill, RLoop, RTry, Ctx, Hop, ReadKey, Summary, ctx_key, present,
    races, solve, unmarked,
)
from nilcheck.linter.resolve import Resolver


@dataclass(frozen=True)
class Entry:
    """A startup entry point: `display` as the user writes it, the context it runs in,
    and the contexts that have already run when it starts (module imports, and the
    receiver's constructor for a method entry)."""

    display: str
    ctx: Ctx
    prelude: Tuple[Ctx, ...] = ()


@dataclass(frozen=True)
class Hazard:
    field: str
    receiver: str
    read_function: str
    line: int
    column: int
    entry: Entry
    trace: Tuple[Hop, ...]  # from the entry (exclusive) to the read
    initializer: Optional[Tuple[str, int]]  # (function id, line of the assignment)
    initializer_call: Optional[Tuple[str, int]]  # (calling function id, line)
    # NIL001 read before a late initializer; NIL002 read during construction before the
    # constructor assigns it; NIL003 read when no entry point ever runs the initializer.
    rule: str = "NIL001"
    # The read only loads the attribute, and fails because it does not exist yet
    # (AttributeError), not because it is None.
    missing: bool = False
    # The initializer is started there as a callback or thread, not called.
    initializer_scheduled: bool = False
    # The read is on a method entry's fresh receiver, built with its default arguments
    # (these `None` defaults decided it): see construction.py.
    built_with: Optional[Tuple[str, ...]] = None


class Analysis:
    def __init__(self, index: ProjectIndex, resolver: Resolver,
                 initializer_methods: Sequence[str] = ()):
        self.index = index
        self.resolver = resolver
        # The `initializer-methods` hint: every field these methods assign counts as
        # initialized by them, even when they assign it only on some paths.
        self.initializer_methods = frozenset(initializer_methods)
        self.graph = nx.DiGraph()
        self.bodies: Dict[Ctx, tuple] = {}
        self.summaries: Dict[Ctx, Summary] = {}
        self._assignments: Dict[Ctx, Dict[str, int]] = {}
        self._late_initializers: Dict[tuple, tuple] = {}
        self._ctor_nodes: Optional[Dict[str, frozenset]] = None
        self._ctor_nodes_size = -1
        self._implications: Dict[str, FrozenSet[str]] = {}
        self._implications_size = -1
        self._construction_only: Dict[Tuple[str, str], bool] = {}
        self._constructor_fields: Dict[str, FrozenSet[str]] = {}
        self._constructor_may: Dict[str, FrozenSet[str]] = {}
        self._lowered: Optional[Tuple[int, FrozenSet[str]]] = None
        self._default_built: Dict[str, Optional[DefaultConstruction]] = {}
        self._handed_out: Dict[str, bool] = {}
        self._relevant: Dict[Tuple[str, str], bool] = {}
        # Why the hazard filters dropped an exposed read, by read key: (reason, detail),
        # the first one met; for `nilcheck why` (see why.py for what each reason means).
        self.dropped: Dict[ReadKey, Tuple[str, str]] = {}
        self._uncalled_reasons: Dict[Tuple[str, str], str] = {}

    # ------------------------------------------------------------ graph and summaries

    def explore(self, start: Ctx) -> None:
        stack = [start]
        while stack:
            ctx = stack.pop()
            if ctx in self.bodies or ctx[0] not in self.index.functions:
                continue
            body, edges = self.resolver.resolve_body(ctx)
            self.bodies[ctx] = body
            self.graph.add_node(ctx)
            for target, spawn in edges:
                if self.graph.has_edge(ctx, target):
                    self.graph[ctx][target]["spawn"] &= spawn
                else:
                    self.graph.add_edge(ctx, target, spawn=spawn)
            for target, _ in reversed(edges):
                if target not in self.bodies:
                    stack.append(target)

    def summary(self, ctx: Ctx) -> Summary:
        if ctx not in self.summaries:
            self.explore(ctx)
            pending = [c for c in nx.dfs_preorder_nodes(self.graph, ctx)
                       if c not in self.summaries]
            solve(self.graph, self.bodies, self.summaries, pending,
                  frozenset(self.resolver.flag_fields),
                  construction_only=self.construction_only, relevant=self.relevant)
        return self.summaries[ctx]

    def relevant(self, owner: str, cls: str) -> bool:
        """Can an instance of cls have fields of class owner (see ordering)?"""
        key = (owner, cls)
        found = self._relevant.get(key)
        if found is None:
            found = self._relevant[key] = owner in self.index.mro(cls) \
                if cls in self.index.classes else True
        return found

    def construction_only(self, field: str, receiver: str) -> bool:
        """Can a read of field on a receiver instance be a hazard only while the
        receiver is being constructed (NIL002)? When the field has a real default, or
        the receiver's constructor assigns it unconditionally, NIL001 and NIL003 never
        report it, and NIL002 only along `self`, or through objects the constructor
        handed itself to: the ordering drops it elsewhere."""
        field = unmarked(field)[0]
        key = (field, receiver)
        found = self._construction_only.get(key)
        if found is None:
            attr = field.rsplit(".", 1)[1]
            found = receiver in self.index.classes and (
                not self.index.may_be_unset(receiver, attr)
                or attr in self._constructor_sets(receiver)
                or self.resolver.flow.populated_by_creators(receiver, attr)) \
                and not self._hands_out_self(receiver)
            self._construction_only[key] = found
        return found

    def _hands_out_self(self, cid: str) -> bool:
        """An object whose constructor hands itself to other code can be read through
        that code's objects while it is being constructed: its reads are kept on every
        path (see construction_only)."""
        found = self._handed_out.get(cid)
        if found is None:
            found = self._handed_out[cid] = hands_out_self(self.index, cid, self._self_callee)
        return found

    def _constructor_sets(self, cid: str) -> FrozenSet[str]:
        """Fields the constructor of cid certainly assigns a value other than None: by
        statements of its body's top level (and of `try` bodies there) before any
        return, and of the methods it calls there on self (`self._setup()`,
        `super().__init__()`), in turn. A cheap subset of constructor_gen, which needs
        the summaries this serves to compute."""
        found = self._constructor_fields.get(cid)
        if found is None:
            init = self.index.find_method(cid, "__init__")
            fields: Set[str] = set()
            if init is not None:
                self._method_sets(cid, init, fields, set())
            found = self._constructor_fields[cid] = frozenset(fields)
        return found

    def _method_sets(self, cid: str, method: str, fields: Set[str], seen: Set[str]) -> None:
        if method in seen or len(seen) > 20:
            return
        seen.add(method)
        function = self.index.function(method)

        def scan(block) -> bool:
            for node in block:
                if isinstance(node, Store) and isinstance(node.target.base, Name) \
                        and node.target.base.id == function.self_name:
                    if isinstance(node.value, NoneConst):
                        fields.discard(node.target.attr)
                    else:
                        fields.add(node.target.attr)
                elif isinstance(node, Call):
                    callee = self._self_callee(cid, method, function, node)
                    if callee is not None:
                        self._method_sets(cid, callee, fields, seen)
                elif isinstance(node, Try):
                    if not scan(node.body):
                        return False
                elif isinstance(node, Exit):
                    return False
            return True

        scan(function.body)

    def constructor_may_set(self, cid: str) -> FrozenSet[str]:
        """Attributes the constructor of cid, or a method it calls on self, assigns on
        some path (None included): they exist after construction unless the values
        given it decide otherwise, which a presence read does not report."""
        found = self._constructor_may.get(cid)
        if found is None:
            fields: Set[str] = set()
            for method in constructor_methods(self.index, cid, self._self_callee):
                function = self.index.function(method)
                fields.update(node.target.attr for node in walk_nodes(function.body)
                              if isinstance(node, Store) and isinstance(node.target.base, Name)
                              and node.target.base.id == function.self_name)
            found = self._constructor_may[cid] = frozenset(fields)
        return found

    def _self_callee(self, cid: str, method: str, function, node: Call) -> Optional[str]:
        """The method of cid a call in method runs on the same object: `self.m()`,
        `super().m()`, `Base.m(self)`."""
        if not isinstance(node.func, Attr):
            return None
        index = self.index
        base = node.func.base
        callee = None
        if isinstance(base, Super):
            callee = index.find_method(cid, node.func.attr, after=method.rsplit(".", 1)[0])
        elif isinstance(base, Name) and base.id == function.self_name:
            callee = index.find_method(cid, node.func.attr)
        elif node.args and isinstance(node.args[0], Name) \
                and node.args[0].id == function.self_name:
            # `Base.__init__(self, ...)`: a base class's method, by name.
            named = self.resolver.names.resolve(index.module_of(method), base)
            if named is not None and named[0] == "class" and named[1] in index.mro(cid):
                callee = index.find_method(named[1], node.func.attr)
        if callee is not None and index.function(callee).kind == "method":
            return callee
        return None

    def constructor_gen(self, cid: str) -> frozenset:
        """Fields certainly set once `cid(...)` has returned."""
        init = self.index.find_method(cid, "__init__")
        if init is None:
            return frozenset()
        return self.summary((init, cid)).gen

    def implied_by(self, flag: str) -> FrozenSet[str]:
        """Fields certainly set wherever `flag` is set to a true value (in the contexts
        analysed so far): `self.polling = True` right after `self.poll_list = []`."""
        if self._implications_size != len(self.summaries):
            implications: Dict[str, FrozenSet[str]] = {}
            for summary in self.summaries.values():
                for name, state in summary.flag_states.items():
                    seen = implications.get(name)
                    implications[name] = state if seen is None else seen & state
            self._implications = implications
            self._implications_size = len(self.summaries)
        return self._implications.get(flag, frozenset())

    def assignments(self, ctx: Ctx) -> Dict[str, int]:
        """Fields this context establishes itself, with the line of the assignment: the
        ones it assigns on every path (its gen), or unconditionally before a point of
        no return (a `while True` server loop, sys.exit)."""
        cached = self._assignments.get(ctx)
        if cached is None:
            every: Dict[str, int] = {}
            _collect_assignments(self.bodies.get(ctx, ()), every)
            unconditional: Dict[str, int] = {}
            _collect_unconditional(self.bodies.get(ctx, ()), unconditional)
            gen = self.summary(ctx).gen
            hinted = ctx[0].rsplit(".", 1)[-1] in self.initializer_methods
            cached = {field: line for field, line in every.items()
                      if hinted or field in gen or field in unconditional}
            self._assignments[ctx] = cached
        return cached

    # ------------------------------------------------------------ hazards

    def hazards(self, entries: Sequence[Entry]) -> List[Hazard]:
        # The value flow first, from every entry and what runs before it, with the
        # receiver of a method entry constructed.
        self.resolver.prepare(
            [ctx for entry in entries for ctx in (entry.ctx,) + entry.prelude],
            live=[entry.ctx[1] for entry in entries if entry.ctx[1] is not None])
        roots = []
        for entry in entries:
            if entry.ctx[0] in self.index.functions:
                self.summary(entry.ctx)
                roots.append(entry)
        found: Dict[Tuple[str, str, str, int], Hazard] = {}
        for entry in roots:
            for hazard in self._entry_hazards(entry, [r.ctx for r in roots]):
                found.setdefault(_hazard_key(hazard), hazard)
        for hazard in self._construction_hazards() + self._early_read_hazards():
            found.setdefault(_hazard_key(hazard), hazard)
        return [found[key] for key in sorted(found)]

    def _entry_hazards(self, entry: Entry, all_roots: List[Ctx]) -> List[Hazard]:
        summary = self.summary(entry.ctx)
        ready: Set[str] = set()
        for ctx in entry.prelude:
            if ctx[0] in self.index.functions:
                ready |= self.summary(ctx).gen
        hazards = []
        for key in sorted(summary.exposed):
            hazard = self._entry_hazard(entry, all_roots, key, summary.exposed[key], ready) \
                or self._fresh_hazard(entry, key, summary.exposed[key])
            if hazard is not None:
                hazards.append(hazard)
        return hazards

    def _entry_hazard(self, entry: Entry, all_roots: List[Ctx], key, exposed,
                      ready: Set[str]) -> Optional[Hazard]:
        """The hazard an exposed read is at this entry, if any: read before an
        initializer the entry runs (NIL001) or one that never runs (NIL003)."""
        field, receiver, function, line, column = key
        if field in ready or field in self.constructor_gen(receiver):
            self._drop(key, "ready" if field in ready else "constructor")
            return None  # set before the entry runs, or by every constructor
        name, presence = unmarked(field)
        attr = name.rsplit(".", 1)[1]
        if presence:
            if not self.index.may_be_missing(receiver, attr):
                self._drop(key, "provided")
                return None  # a class attribute or a base provides it
            if attr in self.constructor_may_set(receiver):
                self._drop(key, "constructor-may-set")
                return None  # exists after construction unless the arguments decide
        elif not self.index.may_be_unset(receiver, attr):
            self._drop(key, "not-late")
            return None  # a real default, or a base class that may provide it
        trace, guards = exposed
        if presence and not (trace and trace[-1].on_self):
            # Through another object the flow merges every instance of its class
            # (`zinfo.header_offset`): one built elsewhere may have the attribute.
            self._drop(key, "presence-elsewhere")
            return None
        if any(field in self.implied_by(flag) for flag in guards):
            self._drop(key, "flag", min(f for f in guards if field in self.implied_by(f)))
            return None  # guarded by a flag that is only ever set together with it
        # The initializer this entry runs too late; or, when this entry never runs
        # one, the one another entry point runs (this entry then reads before it).
        initializer = self._initializer(field, (entry.ctx,)) or \
            self._initializer(field, tuple(all_roots))
        rule = "NIL001"
        if initializer is not None and presence and not races(trace):
            # Along plain calls a load of a missing attribute fails on every run of
            # that path, which its author would have seen unless the values steer
            # around it (a memo flag, a mode): only a race makes it a startup hazard.
            self._drop(key, "presence-no-race")
            return None
        if initializer is None:
            # No entry point runs an initializer: a report only when the object's
            # whole history is known and none of its initializers ever runs.
            dead = self._uncalled_initializer(field, receiver)
            if dead is None:
                self._drop(key, self._uncalled_reasons.get((field, receiver), ""))
                return None
            if any(hop.kind == "spawn" and not hop.concurrent for hop in trace):
                # A callback that runs later (on a loop, or when the object's own
                # code calls what it stored) may run after the caller's next step,
                # which may be the initializer: only a thread or other concurrent
                # start certainly races the fresh object.
                self._drop(key, "callback-later")
                return None
            rule, initializer = "NIL003", (dead, dead[1], None, None, False)
        return Hazard(
            field=name, receiver=receiver, read_function=function, line=line,
            column=column, entry=entry, trace=trace,
            initializer=(initializer[0][0], initializer[1]),
            initializer_call=initializer[2] if initializer[3] == entry.ctx else None,
            rule=rule, missing=self._missing(name, receiver, presence),
            initializer_scheduled=initializer[4])


    def _fresh_hazard(self, entry: Entry, key, exposed) -> Optional[Hazard]:
        """A read on a method entry's own object that a construction with the default
        arguments leaves None (a dereference) or without the attribute: the receiver
        is fresh, its history is this path, so nothing else can have set it."""
        field, receiver, function, line, column = key
        cid = entry.ctx[1]
        trace, guards = exposed
        if cid is None or receiver != cid or not all(hop.on_self for hop in trace):
            return None
        init = self.index.find_method(cid, "__init__")
        if init is not None and (init, cid) not in entry.prelude:
            return None  # the entry is the constructor itself
        name, presence = unmarked(field)
        attr = name.rsplit(".", 1)[1]
        built = self.default_built(cid)
        if built is None or not self._known_history(cid):
            return None  # it may escape to code that assigns it
        if attr in built.present:
            if presence or attr not in built.none:
                return None
        elif not (self.index.may_be_missing(cid, attr) if presence
                  else self.index.may_be_unset(cid, attr)):
            return None  # the class body or a base gives it a value
        if any(field in self.implied_by(flag) for flag in guards):
            return None
        methods = self._establishing_methods(name, presence)
        deciding = built.deciding.get(attr, ())
        if not methods and not deciding:
            return None  # optional by design: nothing is meant to establish it
        initializer = methods[0] if methods else None
        return Hazard(
            field=name, receiver=receiver, read_function=function, line=line, column=column,
            entry=entry, trace=trace, initializer=initializer, initializer_call=None,
            rule="NIL001", missing=attr not in built.present, built_with=deciding)

    def default_built(self, cid: str) -> Optional[DefaultConstruction]:
        if cid not in self._default_built:
            self._default_built[cid] = default_construction(self.index, cid, self._self_callee)
        return self._default_built[cid]

    def _drop(self, key: ReadKey, reason: str, detail: str = "") -> None:
        self.dropped.setdefault(key, (reason, detail))

    def _missing(self, field: str, receiver: str, presence: bool) -> bool:
        """Does the read fail because the attribute does not exist yet? A presence read
        fails only then; a dereference too when nothing ever sets the field to None."""
        attr = field.rsplit(".", 1)[1]
        return presence or (self.index.may_be_missing(receiver, attr)
                            and not self.index.none_in_constructor(receiver, attr))

    def _construction_hazards(self) -> List[Hazard]:
        """NIL002: while a constructor runs, a callback it registered, a thread it
        started, or an overridable method it called reads a field of the object under
        construction that the constructor assigns only further down."""
        hazards = []
        for ctx in sorted(self.summaries, key=ctx_key):
            fid, cid = ctx[0], ctx[1]
            if not fid.endswith(".__init__") or cid not in self.index.classes:
                continue
            if self.index.find_method(cid, "__init__") != fid:
                continue  # a base __init__ reached through super(): its subclass reports
            summary = self.summaries[ctx]
            assigned_in_body = self._assigned_anywhere(ctx)
            for key in sorted(summary.exposed):
                field, receiver, function, line, column = key
                owner = field.rsplit(".", 1)[0]
                if receiver != cid or owner not in self.index.mro(cid):
                    continue
                trace, guards = summary.exposed[key]
                if field not in summary.gen:
                    # Assigned on some paths only: a hazard when no path assigned it
                    # before the escape (every assignment is further down the body).
                    first = assigned_in_body.get(field)
                    if first is None or not trace or first < trace[0].line:
                        continue  # not assigned by the constructor: NIL001's question
                if not _during_construction(trace, self._hands_out_self(cid)):
                    self._drop(key, "after-construction")
                    continue
                assigned_at = assigned_in_body.get(field)
                if assigned_at is not None and trace and any(
                        self._false_until(ctx, flag, trace[0].line, assigned_at)
                        for flag in guards):
                    self._drop(key, "flag-false", min(
                        flag for flag in guards
                        if self._false_until(ctx, flag, trace[0].line, assigned_at)))
                    continue  # behind a flag nothing can set before the field exists
                module = self.index.module_of(fid).name
                entry = Entry(f"{module}:{fid[len(module) + 1:]}", ctx)
                name, presence = unmarked(field)
                if presence and not self.index.may_be_missing(receiver,
                                                              name.rsplit(".", 1)[1]):
                    self._drop(key, "provided")
                    continue
                if presence and not any(hop.kind == "spawn" for hop in trace):
                    self._drop(key, "presence-no-race")
                    continue  # a plain call path: see _entry_hazards
                if not presence and not self.index.may_be_unset(receiver,
                                                                name.rsplit(".", 1)[1]):
                    self._drop(key, "not-late")
                    continue  # a class-level default: the read finds that
                assigned = self.assignments(ctx).get(field)
                hazards.append(Hazard(
                    field=name, receiver=receiver, read_function=function, line=line,
                    column=column, entry=entry, trace=trace,
                    initializer=(fid, assigned) if assigned else None,
                    initializer_call=None, rule="NIL002",
                    missing=self._missing(name, receiver, presence)))
        return hazards

    def _early_read_hazards(self) -> List[Hazard]:
        """NIL002 along plain calls: a constructor reads an attribute before anything
        assigned it, on a branch that only some values of its optional parameters take
        (see construction.early_reads). Such a path fails every time it runs, so its
        author has not run it: the default left out, or the argument given."""
        hazards = []
        for ctx in sorted(self.summaries, key=ctx_key):
            fid, cid = ctx[0], ctx[1]
            if not fid.endswith(".__init__") or cid not in self.index.classes \
                    or self.index.find_method(cid, "__init__") != fid or len(ctx) > 2:
                continue
            for early in early_reads(self.index, cid, self._self_callee):
                if not self.index.may_be_missing(cid, early.attr):
                    continue
                field = f"{self.index.field_owner(cid, early.attr)}.{early.attr}"
                trace = tuple(Hop("call", callee, line, caller, True)
                              for callee, line, caller in early.calls) + (
                    Hop("read", early.function, early.line, early.function, True),)
                module = self.index.module_of(fid).name
                assigned = self.assignments(ctx).get(field)
                hazards.append(Hazard(
                    field=field, receiver=cid, read_function=early.function,
                    line=early.line, column=early.column,
                    entry=Entry(f"{module}:{fid[len(module) + 1:]}", ctx), trace=trace,
                    initializer=(fid, assigned) if assigned else None,
                    initializer_call=None, rule="NIL002", missing=True,
                    built_with=tuple(f"{name}{'' if given else '=None'}"
                                     for name, given in early.arms)))
        return hazards

    def _false_until(self, ctx: Ctx, flag: str, escape: int, until: int) -> bool:
        """Is the flag field false from the escape at line `escape` of constructor ctx
        until its line `until`? The constructor set it to a false value before the
        escape (`self._ready = False`), and nothing that sets it true can have started
        before `until`: no setter is the constructor itself or reachable from what the
        constructor calls or starts above that line."""
        body = self.bodies.get(ctx, ())
        first = next((node for node in body if isinstance(node, RGen)
                      and node.field == flag and node.assignment), None)
        if first is None or first.truthy or first.fillable or first.line > escape:
            return False  # not false, or an empty container that filling makes true
        setters = {c for c, summary in self.summaries.items() if flag in summary.flag_states}
        if ctx in setters:
            return False
        started: Set[Ctx] = set()
        for node in walk_resolved(body):
            if isinstance(node, RCall) and node.line < until:
                for target in node.targets:
                    if target in self.graph and target not in started:
                        started.add(target)
                        started |= nx.descendants(self.graph, target)
        return not (setters & started)

    def _assigned_anywhere(self, ctx: Ctx) -> Dict[str, int]:
        """Fields the body of ctx itself assigns on some path (`if not sim: self.c = ...`),
        with the first line that does."""
        every: Dict[str, int] = {}
        _collect_assignments(self.bodies.get(ctx, ()), every)
        return every

    def _uncalled_initializer(self, field: str, receiver: str) -> Optional[Tuple[str, int]]:
        """The method that would initialize field, when no path from an entry point runs
        any such method and the receiver's history is known (see _known_history):
        (function id, line of its assignment). None when nothing in the project
        initializes the field (it is not late, just unset) or one of its initializers
        runs somewhere, even if only on another path (the field is then optional); why,
        in _uncalled_reasons."""
        why = (field, receiver)
        field, presence = unmarked(field)
        attr = field.rsplit(".", 1)[1]
        index = self.index
        lowered = self._lowered_functions()
        candidates = self._establishing_methods(field, presence)
        for fid, _ in candidates:
            if fid in lowered or fid.rsplit(".", 1)[1] in PYTHON_CALLS:
                # It runs on some path, or Python calls it by its special name
                # (`__post_init__`, `__setstate__`...): not "never".
                self._uncalled_reasons[why] = "initializer-runs"
                return None
        if not candidates or not self._known_history(receiver):
            self._uncalled_reasons[why] = "unknown-history" if candidates else "no-initializer"
            return None
        stored = self.resolver.flow.stored_fields if presence \
            else self.resolver.flow.valued_fields
        if any((klass, attr) in stored for klass in index.mro(receiver)):
            self._uncalled_reasons[why] = "stored-outside"
            return None  # analysed code outside the class assigns it (`conn.stream = s`)
        return min(candidates)

    def _establishing_methods(self, field: str, presence: bool) -> List[Tuple[str, int]]:
        """The methods other than constructors, of field's class and its subclasses,
        that establish it (see _establishing_store): (function id, line), sorted."""
        owner, attr = field.rsplit(".", 1)
        found = []
        for cid in sorted(self.index.classes):
            if owner not in self.index.mro(cid):
                continue
            module, klass = self.index.classes[cid]
            for name, qualname in klass.methods:
                fid = f"{module.name}.{qualname}"
                line = None if name == "__init__" else \
                    _establishing_store(self.index.function(fid), attr, presence)
                if line is not None:
                    found.append((fid, line))
        return sorted(found)

    def _known_history(self, receiver: str) -> bool:
        """Does the analysis see everything that happens to the instances of receiver
        the read can reach? Not when an object only declared as one of its classes (an
        annotated parameter of an entry point) is used, when an instance or the
        class reaches code the analysis does not follow (a library, an unresolved call),
        when a framework base class may call its hooks, or when a metaclass, a class
        decorator or `__new__` may run methods as instances are made."""
        index = self.index
        flow = self.resolver.flow
        if not index.plain(receiver):
            return False
        for klass in index.mro(receiver):
            if klass in flow.declared_used or index.class_facts(klass).custom_construction:
                return False
        return receiver not in flow.escaped_classes()

    def _lowered_functions(self) -> FrozenSet[str]:
        """Functions the value flow analysed in some context: everything any analysed
        call, callback or thread can run."""
        lowered = self.resolver.flow.lowered
        if self._lowered is None or self._lowered[0] != len(lowered):
            self._lowered = (len(lowered), frozenset(ctx[0] for ctx in lowered))
        return self._lowered[1]

    def _initializer(self, field: str, roots: Tuple[Ctx, ...]):
        """The context that initializes field late, reached from roots without going
        through the owner's constructor: (context, line of the assignment, call site
        that starts it, the root it is reached from), or None.

        A method that only the constructor calls is part of construction: when it sets
        the field only sometimes, the field is optional by design, not late."""
        owner = field.rsplit(".", 1)[0]
        initializers, parents = self._initializers(owner, roots)
        found = initializers.get(field)
        if not found:
            return None
        ctx = found[0]
        route = [ctx]
        # A context first reached in transit is re-parented when reached on its own,
        # which can close a loop of parents: stop where the route meets itself.
        while parents.get(route[-1]) is not None and parents[route[-1]] not in route:
            route.append(parents[route[-1]])
        root = route[-1]
        call_site = None
        scheduled = False
        if len(route) > 1:
            callee, caller = route[0], route[1]
            call_site = (caller[0], self._call_line(caller, callee))
            scheduled = bool(self.graph[caller][callee].get("spawn"))
        return ctx, self.assignments(ctx)[field], call_site, root, scheduled

    def initializers_of(self, field: str, roots: Tuple[Ctx, ...]) -> List[Tuple[Ctx, int]]:
        """The contexts that establish field late, as the hazards see them from roots,
        with the line of each assignment (for `nilcheck why`)."""
        found = self._initializers(field.rsplit(".", 1)[0], roots)[0].get(field, ())
        return [(ctx, self.assignments(ctx)[field]) for ctx in found]

    def _initializers(self, owner: str, roots: Tuple[Ctx, ...]):
        """Field -> contexts that establish it (in a stable order), among those reachable
        from roots without passing through owner's constructors; and the BFS parents
        that lead back to a root. Memoized: many reads share them."""
        key = (owner, roots)
        cached = self._late_initializers.get(key)
        if cached is not None:
            return cached
        blocked = self._constructor_nodes().get(owner, frozenset())
        parents: Dict[Ctx, Optional[Ctx]] = {}
        # Contexts that run only as part of building an owner (its constructor and what
        # that calls in turn) are crossed, not counted: what they set is construction,
        # not late initialization. What they spawn or schedule (`loop.call_soon(
        # self._setup)`) runs later, like any callback, and counts.
        transit: Set[Ctx] = set()
        queue = [r for r in roots if r in self.graph and r not in blocked]
        for root in queue:
            parents.setdefault(root, None)
        for ctx in queue:  # breadth-first: the queue grows while we walk it
            for callee in self.graph.successors(ctx):
                crossing = callee in blocked or (
                    ctx in transit and not self.graph[ctx][callee]["spawn"])
                if callee in parents and (crossing or callee not in transit):
                    continue  # seen; or seen only in transit and crossed again
                if crossing:
                    transit.add(callee)
                else:
                    transit.discard(callee)  # also reached on its own: it counts
                parents[callee] = ctx
                queue.append(callee)
        initializers: Dict[str, List[Ctx]] = {}
        for ctx in sorted(parents, key=lambda c: (self.index.path_of(c[0]),) + ctx_key(c)):
            if ctx in transit:
                continue
            for field, line in self.assignments(ctx).items():
                if field.rsplit(".", 1)[0] == owner:
                    initializers.setdefault(field, []).append(ctx)
        for field in initializers:
            initializers[field].sort(key=lambda c: (self.index.path_of(c[0]),
                                                    self.assignments(c)[field]) + ctx_key(c))
        cached = (initializers, parents)
        self._late_initializers[key] = cached
        return cached

    def _constructor_nodes(self) -> Dict[str, frozenset]:
        """Class id -> the constructor contexts in the graph that build its instances."""
        if self._ctor_nodes is None or self._ctor_nodes_size != self.graph.number_of_nodes():
            nodes: Dict[str, set] = {}
            for ctx in self.graph.nodes:
                if ctx[0].endswith(".__init__") and ctx[1] in self.index.classes:
                    for klass in self.index.mro(ctx[1]):
                        nodes.setdefault(klass, set()).add(ctx)
            self._ctor_nodes = {k: frozenset(v) for k, v in nodes.items()}
            self._ctor_nodes_size = self.graph.number_of_nodes()
        return self._ctor_nodes

    def _call_line(self, caller: Ctx, callee: Ctx) -> int:
        for node in walk_resolved(self.bodies.get(caller, ())):
            if isinstance(node, RCall) and callee in node.targets:
                return node.line
        return self.index.function(caller[0]).line




def _collect_assignments(body, out: Dict[str, int]) -> None:
    """Fields assigned, with their first line; and their presence facts, which a store
    of None establishes as well."""
    for node in walk_resolved(body):
        if isinstance(node, RGen) and node.assignment:
            out.setdefault(node.field, node.line)
            out.setdefault(present(node.field), node.line)
        elif isinstance(node, RKill):
            out.setdefault(present(node.field), node.line)


def _during_construction(trace: Tuple[Hop, ...], handed_out: bool = False) -> bool:
    """Does the trace stay on the object under construction and run while its
    constructor is still running? Every hop must be on `self` or `super()` (a nested
    `Cls()` builds another object), unless the constructor handed itself to other code
    (`Engine(self)`), which can then reach it through its own objects; and a spawn must
    be one that can run at once on another thread: a
    callback handed to an event loop or a GUI toolkit runs only after the constructor has
    returned and the loop has taken over."""
    spawned = in_base_constructor = off_self = False
    for hop in trace:
        if not hop.on_self:
            if not handed_out:
                return False
            off_self = True
        if hop.kind == "spawn":
            if not hop.concurrent:
                return False
            spawned = True
        elif hop.kind == "call" and (hop.function.endswith(".__init__")
                                     or hop.function.rsplit(".", 1)[1] in HOOK_NAMES):
            # A base constructor, or a framework hook a base method runs (Qt's
            # resizeEvent inside setGeometry): an override called under construction.
            in_base_constructor = True
    # Without a thread, the read must happen while a base class's constructor runs and
    # calls an override (the Checker Framework's "under initialization" receiver); a
    # plain helper of the same constructor that reads too early is taken only on paths
    # its author knows are not, or it would fail every time.
    return spawned or (in_base_constructor and not off_self)


def _establishing_store(function, attr: str, presence: bool = False) -> Optional[int]:
    """Line of an unconditional `self.attr = <not None>` in the function's body (with
    presence, of any value: the attribute then exists), or of one made lazily: inside
    `if self.attr is None:` (or `if not self.attr:`), whose other branch finds it set."""
    me = Attr(Name(function.self_name), attr) if function.self_name else None

    def scan(block):
        for node in block:
            if isinstance(node, Store) and node.target == me \
                    and (presence or not isinstance(node.value, NoneConst)):
                return node.line
            if isinstance(node, Try) or (isinstance(node, If) and me in node.false_facts):
                found = scan(node.body)
                if found is not None:
                    return found
        return None

    return scan(function.body) if function.self_name else None


def _hazard_key(hazard: Hazard):
    # One finding per field and line: `g[-1] - g[-2]` is one read site for a reviewer.
    return (hazard.field, hazard.read_function, hazard.rule, hazard.line)


def _collect_unconditional(body, out: Dict[str, int]) -> None:
    """Fields a block assigns on every path that goes on normally: at its top level, in
    both arms of an `if`, and in a `try` body (its handlers are the failures:
    `try: self.cat = connect() except ConnectionError: log()` still establishes it)."""
    for node in body:
        if isinstance(node, RGen) and node.assignment:
            out.setdefault(node.field, node.line)
            out.setdefault(present(node.field), node.line)
        elif isinstance(node, RKill):
            out.setdefault(present(node.field), node.line)
        elif isinstance(node, RTry):
            _collect_unconditional(node.body, out)
        elif isinstance(node, RIf):
            body_fields: Dict[str, int] = {}
            else_fields: Dict[str, int] = {}
            _collect_unconditional(node.body, body_fields)
            _collect_unconditional(node.orelse, else_fields)
            for field in sorted(body_fields.keys() & else_fields.keys()):
                out.setdefault(field, min(body_fields[field], else_fields[field]))


def walk_resolved(body):
    """Every node of a resolved body, nested ones included, in order."""
    return walk_nodes(body, branches=(RIf, RLoop), tries=(RTry,))
