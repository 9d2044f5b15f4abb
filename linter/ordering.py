"""The ordering analysis: which field reads can run before the field is set.

Input is a *resolved program*: for each context (a function, and the class of `self`
when it runs as a method) a body in which calls already name their target contexts and
attribute accesses already name their fields (see resolve.py). No CST, no names.

Each context gets a summary over the call graph's strongly connected components,
callees first:
  gen      fields certainly set (assigned or checked) on every normal exit,
  kill     fields that may be set back to None,
  exposed  reads that can run, in this context or anything it calls or spawns, before
           the context itself has set the field; each with the trace that reaches it.
A caller exposes a callee's read unless the caller has set the field before the call.
A spawned callable (thread, task, callback) may run at once, so its reads are checked
against the state at the spawn, and its assignments never count for the spawner.
Within an SCC the summaries start optimistic (gen = everything) and are iterated to the
greatest fixpoint, the standard answer for a must-analysis under recursion.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Optional, Sequence, Tuple

import networkx as nx

# (function id, class of self or None), and for a function analysed apart for a callable
# it is given (see valueflow.py) a third element naming that callable.
Ctx = Tuple  # (str, Optional[str]) or (str, Optional[str], tuple)

# ---------------------------------------------------------------- resolved program


@dataclass(frozen=True)
class RRead:
    field: str
    receiver: str  # class of the object read from
    line: int
    column: int
    on_self: bool = False  # read through the method's own `self`
    snapshot: str = ""  # read through a local that took the value earlier (RSnapshot)
    presence: bool = False  # only loaded: a hazard while the attribute does not exist


@dataclass(frozen=True)
class RSnapshot:
    """A local takes the value of these fields here (`port = self.port`)."""

    alias: str
    fields: FrozenSet[str]


@dataclass(frozen=True)
class RCall:
    targets: Tuple[Ctx, ...]
    line: int
    spawn: bool = False
    on_self: bool = False  # `self.m()`, `super().m()`, or spawning `self.m`
    concurrent: bool = False  # a spawn onto another thread (or a signal handler)


@dataclass(frozen=True)
class RGen:
    field: str
    line: int
    assignment: bool  # True for a store, False for a guard that checked the value
    truthy: bool = True  # False for a store of a false literal (False, 0, "", [])
    # An empty container: it turns true when filled (`.append`), which is no store.
    fillable: bool = False


@dataclass(frozen=True)
class RKill:
    """`self.x = None`: the field is no longer set, but it exists."""

    field: str
    line: int = 0


@dataclass(frozen=True)
class RIf:
    true_fields: FrozenSet[str]
    false_fields: FrozenSet[str]
    body: tuple
    orelse: tuple
    line: int = 0  # of an `if` statement, for `nilcheck why` (0: a test in an expression)


@dataclass(frozen=True)
class RLoop:
    body: tuple
    orelse: tuple
    infinite: bool
    exit_fields: FrozenSet[str]
    runs_once: bool = False


@dataclass(frozen=True)
class RTry:
    body: tuple
    handlers: Tuple[tuple, ...]
    orelse: tuple
    final: tuple
    protects: bool


@dataclass(frozen=True)
class RExit:
    kind: str


# ---------------------------------------------------------------- summaries


@dataclass(frozen=True)
class Hop:
    kind: str  # "call" | "spawn" | "read"
    function: str  # callee (call/spawn) or the reading function (read)
    line: int  # line of the call, spawn or read
    caller: str  # function the hop happens in (its file locates `line`)
    on_self: bool = False  # the hop stays on the same object (see RCall/RRead)
    concurrent: bool = False  # a spawn that may run on another thread at once


ReadKey = Tuple[str, str, str, int, int]  # field, receiver, function, line, column


class _Top(frozenset):
    """The optimistic "every field" state of a must-analysis, used inside recursion."""

    def __contains__(self, item) -> bool:
        return True

    def __or__(self, other):
        return self

    __ror__ = __or__

    def __and__(self, other):
        return other

    __rand__ = __and__

    def __sub__(self, other):
        return self

    def __eq__(self, other) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)


TOP = _Top()


@dataclass
class Summary:
    gen: FrozenSet[str]
    kill: FrozenSet[str]
    # Each exposed read: its trace, and the flag fields a guard had checked on the way
    # (`if self.polling: self.poll_list.append(...)`), see flag_states.
    exposed: Dict[ReadKey, Tuple[Tuple[Hop, ...], FrozenSet[str]]]
    returns: bool = True  # False: every path raises or exits (sys.exit, NoReturn)
    # For each flag field this context sets to a true value: the fields certainly set
    # at every such assignment. A flag set only together with a field implies it.
    flag_states: Dict[str, FrozenSet[str]] = field(default_factory=dict)


# A field in a state is set (not None); a flag field that may hold a false value (it was
# assigned False, 0, "" or an empty container on some path) carries this mark as well,
# so that reading it as a passed guard (`if self.ready:` ... elsewhere) is not assumed.
FALSE_MARK = ":false"
# A field's presence fact: the attribute exists (it may hold None). Invariant: a state
# that holds a field holds its presence fact too, so meets need no special case. A
# presence read's key names the field with this mark.
PRESENT_MARK = "?"


def present(field: str) -> str:
    return field + PRESENT_MARK


def unmarked(field: str) -> Tuple[str, bool]:
    """(field, is a presence fact) for a state fact or a read key's field."""
    if field.endswith(PRESENT_MARK):
        return field[:-1], True
    return field, False


def _meet(a: FrozenSet[str], b: FrozenSet[str]) -> FrozenSet[str]:
    """What holds on both paths: the fields both set; a flag may be false if it may be
    on either."""
    if a is TOP:
        return b
    if b is TOP:
        return a
    common = a & b
    marks = [x for x in a ^ b if x.endswith(FALSE_MARK)]
    return common.union(marks) if marks else common


def snapshot_key(ctx: Ctx, alias: str) -> str:
    """An alias (a local version that took a field's value) as the state names it: in
    its function, so that no other frame's facts can match it."""
    return f"{ctx[0]}|{alias}"


def snapshot_fact_key(key: str, field: str) -> str:
    """The state's fact that the alias named key holds a set value of field."""
    return f"{key}={field}"


def _truthy(state, fields):
    """state where fields are known set to a true value (a guard checked them)."""
    if state is TOP:
        return state
    return (state | fields) - {field + FALSE_MARK for field in fields}


class _Walker:
    """Runs one context's body once, against the current summaries of its callees."""

    def __init__(self, ctx: Ctx, summaries: Dict[Ctx, Summary], flags: FrozenSet[str],
                 construction_only: Callable[[str, str], bool] = lambda field, receiver: False,
                 relevant: Optional[Callable[[str, str], bool]] = None):
        self.ctx = ctx
        self.summaries = summaries
        self.flags = flags
        # relevant(owner, cls): can an instance of cls have fields of class owner? A
        # call that dispatches on the receiver's class sets a field when every callee
        # for a class that has it does (see _dispatched_gen); None: every callee.
        self.relevant = relevant
        # Reads that matter only while the object is being constructed (see solve):
        # dropped as soon as their path leaves the object's own `self`.
        self.construction_only = construction_only
        self.exposed: Dict[ReadKey, Tuple[Tuple[Hop, ...], FrozenSet[str]]] = {}
        self.kill: set = set()
        self.flag_states: Dict[str, FrozenSet[str]] = {}

    def expose(self, key: ReadKey, trace: Tuple[Hop, ...], guards: FrozenSet[str]) -> None:
        # The first path found is kept, unless a later one races (a thread, a library
        # callback gone live): what a read can do at once decides NIL002 and NIL003.
        old = self.exposed.get(key)
        if old is None or (races(trace) and not races(old[0])):
            self.exposed[key] = (trace, guards)

    def block(self, nodes: Sequence, state, protected: bool, jumps: Dict[str, list]):
        """Walk nodes from state; return the fall-through state, or None if none."""
        for position, node in enumerate(nodes):
            if isinstance(node, RRead):
                # Read through an alias: was the field set when the alias took it?
                if node.presence:
                    fact = present(node.field)
                elif node.snapshot:
                    fact = snapshot_fact_key(node.snapshot, node.field)
                else:
                    fact = node.field
                if fact not in state and not protected and (
                        node.on_self or not self.construction_only(node.field, node.receiver)):
                    self.expose((fact if node.presence else node.field, node.receiver,
                                 self.ctx[0], node.line, node.column),
                                (Hop("read", self.ctx[0], node.line, self.ctx[0], node.on_self),),
                                self._true_flags(state))
                if not protected and state is not TOP:
                    # Dereferenced: from here on it is not None (or this path ended);
                    # loaded: it exists.
                    state = state | {fact, present(node.field)}
            elif isinstance(node, RSnapshot):
                if state is not TOP:
                    state = state | {snapshot_fact_key(node.alias, field)
                                     for field in node.fields if field in state}
            elif isinstance(node, RGen):
                if node.assignment and node.truthy and node.field in self.flags:
                    seen = self.flag_states.get(node.field)
                    here = frozenset(state) if state is not TOP else frozenset(self.flags)
                    here |= self._set_later(nodes[position + 1:])
                    self.flag_states[node.field] = here if seen is None else seen & here
                if state is not TOP:
                    mark = node.field + FALSE_MARK
                    state = (state | {node.field, present(node.field), mark}) \
                        if not node.truthy \
                        else (state | {node.field, present(node.field)}) - {mark}
            elif isinstance(node, RKill):
                if state is not TOP:
                    state = (state - {node.field, node.field + FALSE_MARK}) \
                        | {present(node.field)}
                self.kill.add(node.field)
            elif isinstance(node, RCall):
                state = self.call(node, state, protected)
            elif isinstance(node, RIf):
                body = self.block(node.body, _truthy(state, node.true_fields), protected, jumps)
                orelse = self.block(node.orelse, _truthy(state, node.false_fields), protected,
                                    jumps)
                state = _join(body, orelse)
            elif isinstance(node, RLoop):
                state = self.loop(node, state, protected, jumps)
            elif isinstance(node, RTry):
                state = self.try_(node, state, protected, jumps)
            elif isinstance(node, RExit):
                jumps.setdefault(node.kind, []).append(state)
                return None
            if state is None:
                return None
        return state

    def _true_flags(self, state) -> FrozenSet[str]:
        """The flag fields known true in state: checked by a guard, or last assigned a
        true value (not False, 0 or an empty container) on every path."""
        if state is TOP:
            return frozenset()
        return frozenset(flag for flag in self.flags & state if flag + FALSE_MARK not in state)

    def _set_later(self, rest: Sequence) -> FrozenSet[str]:
        """Fields the rest of a straight-line block certainly sets: the fields a flag is
        set together with (`self.canvas = c; self.label = l`)."""
        fields: set = set()
        for node in rest:
            if isinstance(node, RGen) and node.assignment:
                fields.add(node.field)
            elif isinstance(node, RCall) and not node.spawn:
                gens = [self.summaries[t].gen for t in node.targets if t in self.summaries]
                if gens and all(g is not TOP for g in gens):
                    fields |= frozenset.intersection(*map(frozenset, gens))
            elif isinstance(node, (RIf, RLoop, RTry)):
                if _exits(node):
                    break  # it may leave the block: what follows is not certain
            elif not isinstance(node, (RRead, RKill)):
                break
        return frozenset(fields)

    def call(self, node: RCall, state, protected: bool):
        gen = TOP
        kill: set = set()
        known = 0
        returning = 0
        gens = []
        for target in node.targets:
            summary = self.summaries.get(target)
            if summary is None:
                continue
            known += 1
            hop = Hop("spawn" if node.spawn else "call", target[0], node.line, self.ctx[0],
                      node.on_self, node.concurrent)
            # A None dereference inside a try that catches AttributeError is handled,
            # unless it happens on another thread: then the handler is not on its stack.
            if not protected or node.spawn:
                checked = self._true_flags(state)
                only = None if node.on_self else self.construction_only
                for key, (trace, guards) in summary.exposed.items():
                    if key[0] not in state and (only is None or not only(key[0], key[1])):
                        self.expose(key, (hop,) + trace, guards | checked if checked else guards)
            gen = _meet(gen, summary.gen)
            gens.append((target[1], summary.gen))
            kill |= summary.kill
            returning += summary.returns
        if node.spawn or not known:
            return state
        if self.relevant is not None and len({cls for cls, _ in gens}) > 1 \
                and all(g is not TOP for _, g in gens):
            gen = _dispatched_gen(gens, self.relevant)
        if not returning:
            return None  # no callee returns: the rest of this path never runs
        self.kill |= kill
        if gen is TOP or state is TOP:
            return (state - kill) | gen
        # A flag the callees set true is no longer false; one they may set false is.
        cleared = {field + FALSE_MARK for field in gen if not field.endswith(FALSE_MARK)
                   and field + FALSE_MARK not in gen}
        return ((state - kill) - cleared) | gen

    def loop(self, node: RLoop, state, protected: bool, jumps):
        inner: Dict[str, list] = {}
        end = self.block(node.body, state, protected, inner)
        for kind in ("return", "raise"):
            jumps.setdefault(kind, []).extend(inner.get(kind, []))
        if node.infinite:
            after = None
            for broke in inner.get("break", []):
                after = broke if after is None else _meet(after, broke)
            return after
        # A for loop's body runs at least once; a while loop's maybe never.
        after = None if node.runs_once else state
        for other in [end] + inner.get("continue", []) + inner.get("break", []):
            if other is not None:
                after = other if after is None else _meet(after, other)
        if after is None:
            return None
        after = after | node.exit_fields
        if node.orelse:
            return self.block(node.orelse, after, protected, jumps)
        return after

    def try_(self, node: RTry, state, protected: bool, jumps):
        end = self.block(node.body, state, protected or node.protects, jumps)
        if end is not None and node.orelse:
            end = self.block(node.orelse, end, protected, jumps)
        ends = [end]
        for handler in node.handlers:
            # A handler may start after any statement of the body: assume the least.
            ends.append(self.block(handler, state, protected, jumps))
        after = None
        for other in ends:
            after = _join(after, other)
        if node.final:
            start = after if after is not None else state
            final = self.block(node.final, start, protected, jumps)
            return final if after is not None else None
        return after


def _dispatched_gen(gens, relevant: Callable[[str, str], bool]) -> FrozenSet[str]:
    """What a call that dispatches on its receiver's class certainly sets: a field of
    class A is set when every callee run for a class that has A's fields sets it (for
    `arg.create_stats()` on a cProfile or a profile Profile, cProfile's `stats` is set
    by cProfile's method alone). A field no callee's class has must be set by all; a
    flag's may-be-false mark from any callee stays."""
    every = frozenset().union(*(g for _, g in gens))
    found = set(frozenset.intersection(*(frozenset(g) for _, g in gens)))
    by_owner: Dict[str, list] = {}
    for fact in every - found:
        if fact.endswith(FALSE_MARK):
            found.add(fact)
        else:
            by_owner.setdefault(unmarked(fact)[0].rsplit(".", 1)[0], []).append(fact)
    for owner, facts in by_owner.items():
        concerned = [g for cls, g in gens if cls is None or relevant(owner, cls)] \
            or [g for _, g in gens]
        found.update(fact for fact in facts if all(fact in g for g in concerned))
    return frozenset(found)


def races(trace: Tuple[Hop, ...]) -> bool:
    """Does the path start a thread, or another start that may run at once?"""
    return any(hop.kind == "spawn" and hop.concurrent for hop in trace)


def _exits(node) -> bool:
    """Does a compound node contain a return, raise, break or continue?"""
    blocks = {RIf: lambda n: (n.body, n.orelse), RLoop: lambda n: (n.body, n.orelse),
              RTry: lambda n: (n.body, *n.handlers, n.orelse, n.final)}[type(node)](node)
    for block in blocks:
        for inner in block:
            if isinstance(inner, RExit) or (
                    isinstance(inner, (RIf, RLoop, RTry)) and _exits(inner)):
                return True
    return False


def _join(a, b):
    """The state after two paths meet; None stands for a path that does not get here."""
    if a is None:
        return b
    if b is None:
        return a
    return _meet(a, b)


def summarize(ctx: Ctx, body: tuple, summaries: Dict[Ctx, Summary],
              flags: FrozenSet[str] = frozenset(),
              construction_only: Callable[[str, str], bool] = lambda field, receiver: False,
              relevant: Optional[Callable[[str, str], bool]] = None) -> Summary:
    walker = _Walker(ctx, summaries, flags, construction_only, relevant)
    jumps: Dict[str, list] = {}
    end = walker.block(body, frozenset(), False, jumps)
    exits = ([end] if end is not None else []) + jumps.get("return", [])
    if not exits:
        return Summary(gen=frozenset(), kill=frozenset(walker.kill), exposed=walker.exposed,
                       returns=False, flag_states=walker.flag_states)
    gen = exits[0]
    for state in exits[1:]:
        gen = _meet(gen, state)
    if gen is not TOP:
        gen = frozenset(fact for fact in gen if "|" not in fact)  # aliases die with the frame
    kill = frozenset() if gen is TOP else frozenset(walker.kill - gen)
    return Summary(gen=gen if gen is TOP else frozenset(gen), kill=kill,
                   exposed=walker.exposed, flag_states=walker.flag_states)


def solve(graph: nx.DiGraph, bodies: Dict[Ctx, tuple], summaries: Dict[Ctx, Summary],
          nodes: Sequence[Ctx], flags: FrozenSet[str] = frozenset(),
          max_rounds: int = 20,
          construction_only: Callable[[str, str], bool] = lambda field, receiver: False,
          relevant: Optional[Callable[[str, str], bool]] = None) -> None:
    """Summarize the given not-yet-summarized contexts, callees first.

    construction_only(field, receiver) says that a read can be a hazard only while the
    receiver is being constructed (the field is set by its constructor, or has a real
    default): such a read is kept only on paths that stay on `self` (see analysis.py),
    which keeps the summaries of large recursive components small."""
    sub = graph.subgraph(nodes)
    condensed = nx.condensation(sub)
    order = list(nx.topological_sort(condensed))
    for component in reversed(order):
        members = sorted(condensed.nodes[component]["members"], key=ctx_key)
        recursive = len(members) > 1 or sub.has_edge(members[0], members[0])
        if not recursive:
            ctx = members[0]
            summaries[ctx] = summarize(ctx, bodies.get(ctx, ()), summaries, flags,
                                       construction_only, relevant)
            continue
        for ctx in members:
            summaries[ctx] = Summary(gen=TOP, kill=frozenset(), exposed={})
        # A worklist: when a summary changes, its callers inside the component are
        # summarized again. Gen only shrinks and exposed reads only grow, so this ends;
        # the budget only guards against a bug, not against large components.
        inside = set(members)
        pending = deque(members)
        queued = set(members)
        # Every exposed read may travel the whole component: n * n summaries in the
        # worst case (a ring); the cap bounds time on huge components, where the
        # fallback below then under-reports rather than over-reports.
        size = len(members)
        budget = min(max(size * size, max_rounds * size), 200_000) + 100
        while pending and budget:
            budget -= 1
            ctx = pending.popleft()
            queued.discard(ctx)
            new = summarize(ctx, bodies.get(ctx, ()), summaries, flags, construction_only,
                            relevant)
            changed = not _same(summaries[ctx], new)
            summaries[ctx] = new
            if changed:
                for caller in sorted(sub.predecessors(ctx), key=ctx_key):
                    if caller in inside and caller not in queued:
                        pending.append(caller)
                        queued.add(caller)
        if pending:
            # No fixpoint within the budget: keep only what needs no proof.
            for ctx in members:
                old = summaries[ctx]
                summaries[ctx] = Summary(gen=frozenset(), kill=old.kill, exposed=old.exposed,
                                         returns=old.returns, flag_states=old.flag_states)
        for ctx in members:
            if summaries[ctx].gen is TOP:  # only ever returns through itself: never
                old = summaries[ctx]
                summaries[ctx] = Summary(gen=frozenset(), kill=old.kill, exposed=old.exposed,
                                         returns=old.returns, flag_states=old.flag_states)


def _same(old: Summary, new: Summary) -> bool:
    same_gen = (old.gen is TOP) == (new.gen is TOP) and (
        old.gen is TOP or frozenset(old.gen) == frozenset(new.gen))
    return same_gen and old.kill == new.kill and old.returns == new.returns \
        and old.exposed.keys() == new.exposed.keys()


def ctx_key(ctx: Ctx) -> Tuple[str, str, str]:
    """A total order on contexts: (function id, class of self[, variant])."""
    return (ctx[0], ctx[1] or "", repr(ctx[2:]) if len(ctx) > 2 else "")
