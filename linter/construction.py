"""What a constructor leaves in each field when it runs with its default arguments.

A method entry point runs on a fresh instance; the documented way to build one is often
`Api()` with every optional argument left out (the Flask extension pattern: `ext = Ext()`
at import, `ext.init_app(app)` later). Run the constructor, and the methods it calls on
`self`, with each parameter whose default is `None` known to be `None`: the branches that
need it to be something else (`if app is not None: self.init_app(app)`) are not taken,
and `self.app = app` stores `None`. The result says, per attribute, whether that
construction certainly leaves it `None` or certainly never assigns it.

The same walk, with both arms of such a branch taken, finds the constructor's early
reads (early_reads): attributes it reads before anything assigned them, on a branch only
some arguments take. And hands_out_self says whether the constructor passes the object
itself to other code.

Only certainties are kept: where the constructor hands `self` (or one of its bound
methods) to other code, which could assign anything, there is no answer at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import (
    Attr, Bind, Call, Exit, If, Loop, Name, NoneConst, Read, Starred, Store, Super, Try,
    walk_nodes,
)

NONE, SET, UNKNOWN = "none", "set", "unknown"
_MAX_DEPTH = 8


@dataclass(frozen=True)
class DefaultConstruction:
    none: FrozenSet[str]  # attributes certainly None afterwards
    present: FrozenSet[str]  # attributes assigned on some path (the rest are absent)
    # Per attribute, the `None`-default parameters that decided it: stored into it, or
    # steering away from a branch that would have assigned it.
    deciding: Dict[str, Tuple[str, ...]]


@dataclass(frozen=True)
class EarlyRead:
    """A read of self.attr in the constructor, or a method it calls on self, at a point
    where no path has assigned attr yet, on a branch taken only for some values of
    optional (`None`-default) parameters: (parameter, given) for each such test."""

    attr: str
    function: str
    line: int
    column: int
    calls: Tuple[Tuple[str, int, str], ...]  # (callee, line of the call, caller), in order
    arms: Tuple[Tuple[str, bool], ...]
    presence: bool


class _Escape(Exception):
    """The constructor hands the object to code this walk does not follow."""


State = Dict[str, str]


def _join(a: Optional[State], b: Optional[State]) -> Optional[State]:
    if a is None:
        return b
    if b is None:
        return a
    return {attr: (a[attr] if a.get(attr) == b.get(attr) else UNKNOWN)
            for attr in set(a) | set(b)}


class _Run:
    """One walk of a constructor. With prune, the optional parameters are None (their
    defaults) and decide branches; without, both arms of such a branch run, and reads
    there of attributes nothing has assigned yet are collected (early)."""

    def __init__(self, index: ProjectIndex, cid: str, method_of, prune: bool = True):
        self.index = index
        self.cid = cid
        self.method_of = method_of  # (cid, method, function, Call) -> method id or None
        self.prune = prune
        self.deciding: Dict[str, Set[str]] = {}
        self.stack: List[str] = []
        self.calls: List[Tuple[str, int, str]] = []
        self.arms: List[Tuple[str, bool]] = []
        self.early: List[EarlyRead] = []

    def method(self, fid: str, state: State, known_none: FrozenSet[str]) -> Optional[State]:
        """The state after method fid returns, or None if it never returns."""
        if fid in self.stack or len(self.stack) >= _MAX_DEPTH:
            raise _Escape()  # recursion: no certain answer
        self.stack.append(fid)
        function = self.index.function(fid)
        rebound = {node.name for node in walk_nodes(function.body) if isinstance(node, Bind)}
        jumps: Dict[str, list] = {}
        end = self.block(fid, function, function.body, dict(state),
                         frozenset(known_none - rebound), jumps)
        self.stack.pop()
        for returned in jumps.get("return", []):
            end = _join(end, returned)
        return end

    def block(self, fid, function, block, state: Optional[State], known: FrozenSet[str],
              jumps) -> Optional[State]:
        me = function.self_name
        for node in block:
            if state is None:
                return None
            if isinstance(node, Read):
                if not self.prune and self.arms and isinstance(node.target.base, Name) \
                        and node.target.base.id == me and node.target.attr not in state:
                    self.early.append(EarlyRead(
                        node.target.attr, fid, node.line, node.column, tuple(self.calls),
                        tuple(self.arms), node.presence))
            elif isinstance(node, Store):
                self._escapes(me, node.value)
                if isinstance(node.target.base, Name) and node.target.base.id == me:
                    value = node.value
                    if isinstance(value, Name) and value.id in known and self.prune:
                        self.deciding.setdefault(node.target.attr, set()).add(value.id)
                    none = isinstance(value, NoneConst) or (
                        self.prune and isinstance(value, Name) and value.id in known)
                    state = dict(state)
                    state[node.target.attr] = NONE if none else SET
            elif isinstance(node, Bind):
                self._escapes(me, node.value)
            elif isinstance(node, Call):
                state = self.call(fid, function, node, state, known)
            elif isinstance(node, If) and not self.prune:
                given = [f.id for f in node.true_facts if isinstance(f, Name) and f.id in known]
                left = [f.id for f in node.false_facts if isinstance(f, Name) and f.id in known]
                arms = []
                for block, true_arm in ((node.body, True), (node.orelse, False)):
                    depth = len(self.arms)
                    self.arms.extend([(p, true_arm) for p in given]
                                     + [(p, not true_arm) for p in left])
                    arms.append(self.block(fid, function, block, state, known, jumps))
                    del self.arms[depth:]
                state = _join(*arms)
            elif isinstance(node, If):
                decided = [f.id for f in node.true_facts if isinstance(f, Name) and f.id in known]
                skip_body = bool(decided)
                decided_else = [f.id for f in node.false_facts
                                if isinstance(f, Name) and f.id in known]
                skip_else = bool(decided_else)
                if skip_body:
                    self._decide(fid, function, node.body, decided, 0)
                if skip_else:
                    self._decide(fid, function, node.orelse, decided_else, 0)
                body = None if skip_body else self.block(fid, function, node.body, state,
                                                         known, jumps)
                orelse = None if skip_else else self.block(fid, function, node.orelse, state,
                                                           known, jumps)
                state = _join(body, orelse)
            elif isinstance(node, Loop):
                inner: Dict[str, list] = {}
                end = self.block(fid, function, node.body, state, known, inner)
                for kind in ("return", "raise"):
                    jumps.setdefault(kind, []).extend(inner.get(kind, []))
                after = None if node.infinite else state
                if not node.infinite:
                    after = _join(after, end)
                    for other in inner.get("continue", []):
                        after = _join(after, other)
                for other in inner.get("break", []):
                    after = _join(after, other)
                state = after
                if state is not None and node.orelse:
                    state = self.block(fid, function, node.orelse, state, known, jumps)
            elif isinstance(node, Try):
                end = self.block(fid, function, node.body, state, known, jumps)
                if end is not None and node.orelse:
                    end = self.block(fid, function, node.orelse, end, known, jumps)
                for handler in node.handlers:
                    end = _join(end, self.block(fid, function, handler, state, known, jumps))
                if node.final:
                    start = end if end is not None else state
                    final = self.block(fid, function, node.final, start, known, jumps)
                    end = final if end is not None else None
                state = end
            elif isinstance(node, Exit):
                if node.kind != "raise":
                    jumps.setdefault(node.kind, []).append(state)
                return None
        return state

    def call(self, fid, function, node: Call, state: State, known) -> Optional[State]:
        me = function.self_name
        callee = self.method_of(self.cid, fid, function, node)
        args = list(node.args)
        if callee is None:  # other code: it must not get the object
            for expr in args + [value for _, value in node.kwargs]:
                self._escapes(me, expr)
            return state
        if not isinstance(node.func.base, (Super,)) and not (
                isinstance(node.func.base, Name) and node.func.base.id == me):
            args = args[1:]  # `Base.__init__(self, ...)`: self is the first argument
        for expr in args + [value for _, value in node.kwargs]:
            self._escapes(me, expr)
        params = [p for p in self.index.function(callee).params if p.kind not in ("*", "**")]
        params = params[1:]  # self
        if any(isinstance(a, Starred) for a in args) or any(k == "**" for k, _ in node.kwargs):
            # Forwarded `*args, **kwargs`: which ones come is not known; without pruning,
            # the callee's optional parameters still are optional.
            callee_known: Set[str] = set() if self.prune else \
                {p.name for p in params if p.default_none}
        else:
            passed = {p.name: a for p, a in zip(params, args)}
            passed.update({k: v for k, v in node.kwargs if k in {p.name for p in params}})
            callee_known = set()
            for p in params:
                value = passed.get(p.name)
                if value is None:
                    if p.default_none:
                        callee_known.add(p.name)
                elif isinstance(value, NoneConst) or (
                        isinstance(value, Name) and value.id in known):
                    callee_known.add(p.name)
        self.calls.append((callee, node.line, fid))
        try:
            return self.method(callee, state, frozenset(callee_known))
        finally:
            self.calls.pop()

    def _decide(self, fid, function, block, params, depth: int) -> None:
        """params steered away from block: they decide every attribute it would assign."""
        for node in walk_nodes(block):
            if isinstance(node, Store) and isinstance(node.target.base, Name) \
                    and node.target.base.id == function.self_name:
                self.deciding.setdefault(node.target.attr, set()).update(params)
            elif isinstance(node, Call) and depth < _MAX_DEPTH:
                callee = self.method_of(self.cid, fid, function, node)
                if callee is not None and callee not in self.stack:
                    self.stack.append(callee)
                    target = self.index.function(callee)
                    self._decide(callee, target, target.body, params, depth + 1)
                    self.stack.pop()

    def _escapes(self, me: str, expr) -> None:
        """Is self, or a bound method of it, handed on by this value?"""
        if isinstance(expr, Starred):
            expr = expr.value
        if isinstance(expr, Name) and expr.id == me:
            raise _Escape()
        if isinstance(expr, Attr) and isinstance(expr.base, Name) and expr.base.id == me:
            method = self.index.find_method(self.cid, expr.attr)
            if method is not None and self.index.function(method).kind != "property":
                raise _Escape()  # a bound method (a property gives its value)


def _walk(index: ProjectIndex, cid: str, method_of, prune: bool):
    """(the run, the state after the constructor or None if it never returns) for the
    constructor of cid run with its optional parameters left out; None when it has no
    constructor of its own, when construction machinery (a metaclass, `__new__`) may run
    other code, or when the walk has no certain answer (see _Escape)."""
    if cid not in index.classes or any(index.class_facts(k).custom_construction
                                       for k in index.mro(cid)):
        return None
    init = index.find_method(cid, "__init__")
    if init is None:
        return None
    run = _Run(index, cid, method_of, prune)
    params = [p for p in index.function(init).params if p.kind not in ("*", "**")][1:]
    try:
        return run, run.method(init, {}, frozenset(p.name for p in params if p.default_none))
    except _Escape:
        return None


def default_construction(index: ProjectIndex, cid: str, method_of
                         ) -> Optional[DefaultConstruction]:
    """What `cid(...)` with only its required arguments leaves in each attribute, or None
    when the analysis cannot be certain: a constructor that hands out the object, a base
    outside the project, or construction machinery (metaclass, `__new__`)."""
    if cid not in index.classes or not index.plain(cid):
        return None
    if index.find_method(cid, "__init__") is None and not any(
            index.class_facts(k).custom_construction for k in index.mro(cid)):
        return DefaultConstruction(frozenset(), frozenset(), {})  # object.__init__
    walked = _walk(index, cid, method_of, prune=True)
    if walked is None or walked[1] is None:
        return None  # no certain answer, or the constructor never returns
    run, end = walked
    none = frozenset(attr for attr, value in end.items() if value == NONE)
    deciding = {attr: tuple(sorted(params)) for attr, params in run.deciding.items()}
    return DefaultConstruction(none, frozenset(end), deciding)


def early_reads(index: ProjectIndex, cid: str, method_of) -> List[EarlyRead]:
    """The reads of attributes the constructor of cid makes before anything assigned
    them, on branches only some values of its optional parameters take (the documented
    default `nrad=None` computing from `self.nres` before `super().__init__()` sets it,
    or a base constructor's `if port is not None: self.open()` running an override that
    reads what the subclass assigns later). Empty where the walk has no certain answer.
    A base outside the project is no obstacle here: may_be_missing judges each read."""
    walked = _walk(index, cid, method_of, prune=False)
    return walked[0].early if walked is not None else []


def constructor_methods(index: ProjectIndex, cid: str, method_of) -> List[str]:
    """The constructor of cid and the methods it calls on self, in turn (`self.m()`,
    `super().__init__()`, `Base.__init__(self)`): what runs on the object as it is built,
    in the order first met; at most 40."""
    init = index.find_method(cid, "__init__") if cid in index.classes else None
    pending = [init] if init is not None else []
    seen: List[str] = []
    while pending and len(seen) <= 40:
        fid = pending.pop()
        if fid in seen:
            continue
        seen.append(fid)
        function = index.function(fid)
        for node in walk_nodes(function.body):
            if isinstance(node, Call):
                callee = method_of(cid, fid, function, node)
                if callee is not None:
                    pending.append(callee)
    return seen


def hands_out_self(index: ProjectIndex, cid: str, method_of) -> bool:
    """Does the constructor of cid, or a method it calls on self, pass the object itself
    to other code (`Engine(self)`, `zc.add_listener(self)`)? That code may keep it and
    call back into it, through other objects, while the constructor still runs."""
    for fid in constructor_methods(index, cid, method_of):
        function = index.function(fid)
        me = function.self_name
        for node in walk_nodes(function.body):
            if isinstance(node, Call) and method_of(cid, fid, function, node) is None and any(
                    isinstance(v, Name) and v.id == me
                    for v in list(node.args) + [value for _, value in node.kwargs]):
                return True
    return False
