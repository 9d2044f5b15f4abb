"""`nilcheck why FIELD`: one field's story, read off the scan's own decisions.

Is the field late (None or missing after construction, assigned a real value later),
what establishes it, and every read of it in the project with a verdict:

  reported            the scan reports it (rule and trace as the finding has them);
  guarded             a check on the path makes it safe: an `if`/`while`/`assert`, a
                      try/except AttributeError, a flag only ever set together with it;
  initialized-before  something that certainly ran before the read assigned it;
  unreachable         no entry point reaches the function the read is in;
  escape              dropped because the analysis cannot see the object's whole life;
  not-reported        dropped for another reason, which is given.

Nothing is decided again here. A read the ordering exposed at an entry point and the
hazard filters dropped carries the filter's reason (Analysis.dropped). A read that is
not exposed is explained by running the ordering's own summarize() again on the
context where its exposure stops, taking one kind of fact away at a time (stores,
callees' assignments, guards, AttributeError handlers, earlier reads): the first whose
removal exposes the read is what made it safe.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field as dataclass_field
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from nilcheck.linter.analysis import Analysis, Hazard, _establishing_store, walk_resolved
from nilcheck.linter.callgraph import default_context, expr_text
from nilcheck.linter.diagnostics import Diagnostics, display_function
from nilcheck.linter.ftypes import ConfigError, Finding
from nilcheck.linter.ir import Attr, Call, Name, NoneConst, Read, Store, walk_nodes
from nilcheck.linter.ordering import (
    Ctx, RCall, RGen, RIf, RKill, RLoop, RRead, RTry, ReadKey, ctx_key, present, summarize,
    unmarked,
)
from nilcheck.linter.valueflow import variant_part

VERDICTS = ("reported", "guarded", "initialized-before", "unreachable", "escape",
            "not-reported")
# The note of an initializer some entry point runs (others: "no entry point runs it").
REACHED = "an entry point runs it"
# Which verdict wins when a read is judged in several contexts: the most dangerous.
_RANK = {"reported": 0, "escape": 1, "not-reported": 2, "guarded": 3,
         "initialized-before": 4, "unreachable": 5}


@dataclass(frozen=True)
class Place:
    function: str
    file: str
    line: int
    note: str = ""  # how it unsets (unset_at) or whether an entry runs it (initializers)


@dataclass(frozen=True)
class ReadVerdict:
    file: str
    line: int
    column: int
    function: str
    verdict: str
    reason: str
    finding: Optional[Finding] = None  # for `reported` (and reported-but-hidden) reads

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.function)


@dataclass
class FieldStory:
    field: str
    late: bool
    reason: str
    unset_at: List[Place] = dataclass_field(default_factory=list)
    initializers: List[Place] = dataclass_field(default_factory=list)
    reads: List[ReadVerdict] = dataclass_field(default_factory=list)
    # Every file a line shown (in a place, a trace or a reason) is in: its facts must
    # be positioned (see engine.on_program).
    shown_files: Set[str] = dataclass_field(default_factory=set)


# ---------------------------------------------------------------- the field asked for


def find_field(program, spec: str) -> str:
    """The field id (`pkg.mod.Owner.attr`, Owner declaring it) that spec names:
    `module:Class.attr`, or `Class.attr` when one class of that name has the field.
    Raises ConfigError."""
    index = program.index
    module, colon, rest = spec.strip().rpartition(":")
    qualname, dot, attr = rest.rpartition(".")
    if not dot or not qualname or not attr or (colon and not module):
        raise ConfigError(f"field {spec!r}: expected 'module:Class.attr' or 'Class.attr'")
    if colon:
        if module not in index.modules:
            raise ConfigError(f"field {spec!r}: no module '{module}' among the analysed files")
        classes = [f"{module}.{qualname}"]
        if classes[0] not in index.classes:
            raise ConfigError(f"field {spec!r}: no class '{qualname}' in module '{module}'")
    else:
        classes = sorted(cid for cid, (_, facts) in index.classes.items()
                         if facts.qualname == qualname or cid == qualname)
        if not classes:
            raise ConfigError(f"field {spec!r}: no class '{qualname}' among the analysed files")
    found = sorted({f"{index.field_owner(cid, attr)}.{attr}" for cid in classes
                    if _has_field(program, cid, attr)})
    if not found:
        what = "a method" if any(index.find_method(cid, attr) for cid in classes) \
            else "not a field"
        raise ConfigError(f"field {spec!r}: '{attr}' is {what} of {_names(index, classes)}")
    if len(found) > 1:
        raise ConfigError(f"field {spec!r} is ambiguous: it may be "
                          + ", ".join(_spec(index, field) for field in found))
    return found[0]


def _has_field(program, cid: str, attr: str) -> bool:
    index = program.index
    if index.find_method(cid, attr) is not None:
        return False
    return (cid, attr) in program.resolver.flow.stored_fields or any(
        any(name == attr for name, _ in index.class_facts(klass).attrs)
        or index.assigns(klass, attr) for klass in index.mro(cid))


def _spec(index, field: str) -> str:
    """A field id as `module:Class.attr`."""
    cid, attr = field.rsplit(".", 1)
    module = index.classes[cid][0].name if cid in index.classes else cid.rsplit(".", 1)[0]
    return f"{module}:{cid[len(module) + 1:]}.{attr}"


def _names(index, classes: Sequence[str]) -> str:
    return ", ".join(_spec(index, f"{cid}.x")[:-2] for cid in classes)


# ---------------------------------------------------------------- the story


def explain(program, spec: str, entry_specs: Sequence[str] = ()) -> FieldStory:
    """The story of the field spec names, from the scan's decisions on program."""
    analysis: Analysis = program.analysis
    entries = program.entries(entry_specs)
    hazards = analysis.hazards(entries)
    field = find_field(program, spec)
    teller = _Teller(program, field, entries, hazards)
    story = teller.field_story()
    story.reads = teller.reads()
    story.shown_files = teller.shown | teller.diagnostics.shown_files
    return story


class _Teller:
    def __init__(self, program, field: str, entries, hazards: Sequence[Hazard]):
        self.program = program
        self.index = program.index
        self.analysis: Analysis = program.analysis
        self.field = field
        self.owner, self.attr = field.rsplit(".", 1)
        self.roots = tuple(e.ctx for e in entries if e.ctx[0] in self.index.functions)
        self.preludes = tuple(ctx for e in entries for ctx in e.prelude
                              if ctx[0] in self.index.functions)
        self.diagnostics = Diagnostics(self.index, self.analysis, program.root)
        self.hazards: Dict[Tuple[str, int], List[Hazard]] = {}
        for hazard in hazards:
            if hazard.field == field:
                self.hazards.setdefault((hazard.read_function, hazard.line), []).append(hazard)
        self.parents = _bfs_parents(self.analysis.graph, self.roots)
        self.prelude_reach = set(_bfs_parents(self.analysis.graph, self.preludes))
        self._scanned: Optional[Tuple[List[str], Dict[str, Set[str]]]] = None
        self.shown: Set[str] = set()

    # ------------------------------------------------------------ late, and why

    def field_story(self) -> FieldStory:
        index, analysis = self.index, self.analysis
        family = sorted(cid for cid in index.classes if self.owner in index.mro(cid))
        unset = self._unset_places(family)
        # Missing after construction: what creates the attribute (even as None) is late.
        missing = index.may_be_missing(self.owner, self.attr) \
            and present(self.field) not in analysis.constructor_gen(self.owner)
        fact = present(self.field) if missing else self.field
        reached: Dict[str, int] = {}
        for ctx, line in analysis.initializers_of(fact, self.roots):
            reached.setdefault(ctx[0], line)
        found = [(fid, line, REACHED) for fid, line in sorted(reached.items())]
        for cid in family:
            module, klass = index.classes[cid]
            for name, qualname in klass.methods:
                fid = f"{module.name}.{qualname}"
                if name == "__init__" or fid in reached:
                    continue
                line = _establishing_store(index.function(fid), self.attr, missing)
                if line is not None:
                    found.append((fid, line, "no entry point runs it"))
        initializers = [self._place(fid, line, note) for fid, line, note in found]
        if not index.may_be_unset(self.owner, self.attr):
            late, reason = False, (f"not late: `{self._short(self.field)}` has a real "
                                   f"default, or a base class that may provide it")
        elif analysis.construction_only(self.field, self.owner):
            late, reason = False, (f"not late: the constructor assigns "
                                   f"`{self._short(self.field)}` a value before other code "
                                   f"can use the object")
        elif not initializers:
            late, reason = False, (f"not late: nothing assigns `{self._short(self.field)}` "
                                   f"after construction; it stays as it is")
        else:
            late = True
            how = "; ".join(place.note for place in unset) or "unset"
            names = ", ".join(f"`{self._qualname(fid)}()`" for fid, _, _ in found)
            reason = f"late: after construction it is {how}; assigned later by {names}"
        return FieldStory(self.field, late, reason, unset, initializers)

    def _unset_places(self, family: Sequence[str]) -> List[Place]:
        index = self.index
        places = []
        for cid in family:
            module, klass = index.classes[cid]
            init = klass.method("__init__")
            if init is not None:
                fid = f"{module.name}.{init}"
                function = index.function(fid)
                me = Attr(Name(function.self_name), self.attr) if function.self_name else None
                for node in walk_nodes(function.body):
                    if isinstance(node, Store) and node.target == me \
                            and isinstance(node.value, NoneConst):
                        places.append(self._place(fid, node.line,
                                                  f"None (`self.{self.attr} = None` in "
                                                  f"`{klass.qualname}.__init__`)"))
        for cid in sorted(set(family) | set(index.mro(self.owner))):
            if cid not in index.classes:
                continue
            module, klass = index.classes[cid]
            for name, value in klass.attrs:
                if name != self.attr:
                    continue
                if value.value is None:
                    how = f"missing (`{klass.qualname}` only annotates it)"
                elif isinstance(value.value, NoneConst):
                    how = f"None (class-level `{self.attr} = None` in `{klass.qualname}`)"
                else:
                    continue
                places.append(Place(f"{module.name}.{klass.qualname}", module.path,
                                    value.line, how))
        init = index.find_method(self.owner, "__init__") if self.owner in index.classes else None
        if not places and init is not None and self.attr in index.self_stores(init):
            return []  # the constructor assigns it (late only while it runs: NIL002)
        if not places and self.owner in index.classes:
            module, klass = index.classes[self.owner]
            if init is not None:
                how = "does not always assign" \
                    if self.attr in self.analysis.constructor_may_set(self.owner) \
                    else "never assigns"
                places.append(self._place(init, index.function(init).line,
                                          f"missing (the constructor {how} `{self.attr}`)"))
            else:
                places.append(Place(self.owner, module.path, klass.line,
                                    f"missing (`{klass.qualname}` has no constructor "
                                    f"that assigns `{self.attr}`)"))
        return sorted(set(places), key=lambda p: (p.file, p.line, p.note))

    # ------------------------------------------------------------ reads

    def reads(self) -> List[ReadVerdict]:
        analysis = self.analysis
        sites: Dict[Tuple[str, int, int], ReadVerdict] = {}

        def keep(verdict: ReadVerdict) -> None:
            where = (verdict.function, verdict.line, verdict.column)
            old = sites.get(where)
            if old is None or _RANK[verdict.verdict] < _RANK[old.verdict]:
                sites[where] = verdict

        # A context for the calls that leave out an optional parameter may hold a read
        # on a branch those calls never take: its verdict counts only where no other
        # context of the function judges the read.
        omitted_only: List[ReadVerdict] = []
        for ctx in sorted(analysis.bodies, key=ctx_key):
            for node in walk_resolved(analysis.bodies[ctx]):
                if isinstance(node, RRead) and node.field == self.field:
                    key = (present(node.field) if node.presence else node.field,
                           node.receiver, ctx[0], node.line, node.column)
                    verdict = self._judge(ctx, key)
                    if variant_part(ctx, "<omitted>") and verdict.verdict == "not-reported":
                        omitted_only.append(verdict)
                    else:
                        keep(verdict)
        for verdict in omitted_only:
            sites.setdefault((verdict.function, verdict.line, verdict.column), verdict)
        explored = {ctx[0] for ctx in analysis.bodies}
        for verdict in self._unexplored_reads(explored):
            keep(verdict)
        return sorted(sites.values(), key=lambda v: v.sort_key)

    def _judge(self, ctx: Ctx, key: ReadKey) -> ReadVerdict:
        analysis = self.analysis
        function, line, column = key[2], key[3], key[4]
        hazards = self.hazards.get((function, line))
        if hazards:
            hazard = min(hazards, key=lambda h: h.rule)
            finding = self.diagnostics.finding(hazard)
            return self._verdict(function, line, column, "reported", finding.message, finding)
        summaries = analysis.summaries
        if any(key in summaries[root].exposed for root in self.roots if root in summaries):
            verdict, reason = self._dropped(key)
            return self._verdict(function, line, column, verdict, reason)
        if ctx in self.parents:
            verdict, reason = self._unexposed(ctx, key)
            return self._verdict(function, line, column, verdict, reason)
        if key in analysis.dropped:  # exposed by a constructor (NIL002's question)
            verdict, reason = self._dropped(key)
            return self._verdict(function, line, column, verdict, reason)
        if ctx in self.prelude_reach:
            return self._verdict(function, line, column, "not-reported",
                                 "it runs only before the entry point (while modules are "
                                 "imported, or while the entry's receiver is constructed): "
                                 "NIL001 and NIL003 start at the entry, and NIL002 found no "
                                 "race with a constructor")
        return self._verdict(function, line, column, "unreachable", self._unreached(function))

    def _verdict(self, function: str, line: int, column: int, verdict: str, reason: str,
                 finding: Optional[Finding] = None) -> ReadVerdict:
        return ReadVerdict(self._path(function), line, column, display_function(function),
                           verdict, reason, finding)

    def _dropped(self, key: ReadKey) -> Tuple[str, str]:
        """The verdict and the words for the reason a hazard filter dropped key with."""
        reason, detail = self.analysis.dropped.get(key, ("", ""))
        receiver = self._class_name(key[1])
        attr = self.attr
        if reason == "ready":
            setter = next((c for c in self.preludes if key[0] in self.analysis.summaries[c].gen),
                          None)
            where = f" (`{display_function(setter[0])}`)" if setter else ""
            return "initialized-before", (f"what runs before the entry point{where} "
                                          f"assigns it")
        if reason == "constructor":
            return "initialized-before", (f"every constructor of `{receiver}` assigns it: "
                                          f"the read cannot see the object before that")
        if reason == "flag":
            return "guarded", (f"behind the flag `{self._short(detail)}`, which is only ever "
                               f"set together with `{attr}`")
        if reason == "flag-false":
            return "guarded", (f"behind the flag `{self._short(detail)}`, false until the "
                               f"constructor assigns `{attr}`")
        words = {
            "provided": ("not-reported", f"the attribute always exists on `{receiver}`: a "
                         f"class attribute, a method or a base class provides it"),
            "constructor-may-set": ("not-reported", f"`{receiver}.__init__` (or a method it "
                                    f"calls) assigns it on some path: it exists after "
                                    f"construction unless the arguments decide otherwise"),
            "not-late": ("not-reported", f"not late on `{receiver}`: a real default, or a "
                         f"base class that may provide it"),
            "presence-elsewhere": ("escape", f"only loads `{attr}` through another object: "
                                   f"the value flow merges every `{receiver}`, and one "
                                   f"built elsewhere may have it"),
            "presence-no-race": ("not-reported", f"only loads `{attr}` (it fails only if "
                                 f"missing) on a path of plain calls, without a thread: it "
                                 f"would fail on every run of that path"),
            "initializer-runs": ("not-reported", f"no entry point runs an initializer of "
                                 f"`{attr}` on this path, but one runs elsewhere (or Python "
                                 f"calls it): the field is optional by design"),
            "no-initializer": ("not-reported", f"nothing but the constructor assigns "
                               f"`{attr}` on `{receiver}`: it is not late, just unset"),
            "unknown-history": ("escape", f"no entry point runs its initializer, and the "
                                f"history of `{receiver}` objects is unknown (one escapes to "
                                f"code the analysis does not follow, a framework base, or a "
                                f"custom construction)"),
            "stored-outside": ("not-reported", f"code outside the class assigns `{attr}` "
                               f"(`obj.{attr} = value`)"),
            "callback-later": ("not-reported", "no entry point runs its initializer, and "
                               "the read runs in a callback that may run after it (not a "
                               "thread): only a race is reported then"),
            "after-construction": ("not-reported", "exposed in the constructor, on a path "
                                   "that leaves the object or runs only after the "
                                   "constructor returns"),
        }
        return words.get(reason, ("not-reported", "exposed at an entry point, and dropped "
                                  "by the hazard filters"))

    def _unexposed(self, ctx: Ctx, key: ReadKey) -> Tuple[str, str]:
        """Why a read reachable from an entry point is exposed at none: find where its
        exposure stops on a shortest path from an entry point, and what there stops it."""
        summaries = self.analysis.summaries
        path = [ctx]
        while self.parents.get(path[-1]) is not None:
            path.append(self.parents[path[-1]])
        # path runs from the read's context up to a root; the read is not exposed there.
        stop = path[0]
        for caller in path[1:]:
            if key not in summaries.get(stop, _EMPTY).exposed:
                break
            stop = caller
        return self._cause(stop, key)

    def _cause(self, ctx: Ctx, key: ReadKey) -> Tuple[str, str]:
        analysis = self.analysis
        body = analysis.bodies.get(ctx, ())
        fact = key[0]
        facts = frozenset({self.field, present(self.field)})
        flags = frozenset(analysis.resolver.flag_fields)
        where = "this function" if ctx[0] == key[2] else f"`{display_function(ctx[0])}`"

        def never(field: str, receiver: str) -> bool:
            return False

        def exposes(block, summaries=analysis.summaries, only=never):
            return key in summarize(ctx, block, summaries, flags, only,
                                    analysis.relevant).exposed

        # The ordering drops a read that can only be a hazard during construction as
        # soon as its path leaves `self`: that filter first, then (without it) the facts
        # that keep the read from being exposed, one kind after another.
        if not exposes(body, only=analysis.construction_only) and exposes(body):
            return "not-reported", (f"`{self._short(self.field)}` can be unset on "
                                    f"`{self._class_name(key[1])}` only during construction "
                                    f"(the constructor assigns it, or it has a real default), "
                                    f"and this path does not run then")
        # A load only needs the attribute to exist: a store of None creates it too.
        assigns = "creates the attribute" if fact != self.field else "assigns it"
        stripped = _strip(body, stores=facts)
        if exposes(stripped):
            line = _first(body, lambda n: isinstance(n, (RGen, RKill))
                          and n.field == self.field and (isinstance(n, RGen) or fact != self.field))
            return "initialized-before", f"{where} {assigns} first (at {self._at(ctx[0], line)})"
        without = _Without(analysis.summaries, frozenset({fact}))

        def establishes(target: Ctx) -> bool:
            return target in analysis.summaries and fact in analysis.summaries[target].gen

        if exposes(stripped, without):
            call = _first_node(body, lambda n: isinstance(n, RCall) and not n.spawn
                               and any(establishes(t) for t in n.targets))
            if call is None:
                return "initialized-before", f"a call in {where} {assigns} first"
            target = next(t for t in call.targets if establishes(t))
            if self.field not in analysis.assignments(target) and any(
                    unmarked(k[0])[0] == self.field for k in analysis.summaries[target].exposed):
                # Known set after the call because the callee dereferences it first.
                return "not-reported", (f"{where} calls `{display_function(target[0])}()` "
                                        f"first (at {self._at(ctx[0], call.line)}), which "
                                        f"reads it: an unset value fails there first")
            return "initialized-before", (f"{where} calls `{display_function(target[0])}()` "
                                          f"first (at {self._at(ctx[0], call.line)}), which "
                                          f"{assigns}")
        stripped = _strip(stripped, guards=facts)
        if exposes(stripped, without):
            line = next((node.line for node in walk_resolved(body)
                         if isinstance(node, RIf) and node.line
                         and _checks(node.true_fields | node.false_fields, facts)), 0)
            if line:
                return "guarded", (f"the check of `{self.attr}` at {self._at(ctx[0], line)} "
                                   f"guards it")
            return "guarded", (f"a check of `{self.attr}` in {where} (`if`, `while`, "
                               f"`assert`, `and`) guards it")
        stripped = _strip(stripped, unprotect=True)
        if exposes(stripped, without):
            return "guarded", f"inside a `try` in {where} that catches AttributeError"
        stripped = _strip(stripped, reads=facts, keep=(key[3], key[4]) if key[2] == ctx[0]
                          else None)
        if exposes(stripped, without):
            line = _first(body, lambda n: isinstance(n, RRead) and n.field == self.field
                          and (key[2] != ctx[0] or (n.line, n.column) != (key[3], key[4])))
            verb = "loads" if fact != self.field else "dereferences"
            return "not-reported", (f"an earlier read in {where} (at "
                                    f"{self._at(ctx[0], line)}) {verb} it first: that read "
                                    f"is the one judged")
        omitted = variant_part(ctx, "<omitted>")
        if omitted:
            # valueflow._omitted_variant: this context runs for the calls that leave
            # these parameters out, and their None defaults decide a branch on the way.
            names = ", ".join(f"`{name}`" for name in omitted)
            return "not-reported", (f"not on the path of the calls that leave out {names} "
                                    f"(their `None` default decides a branch before it)")
        return "not-reported", f"not exposed in {where} (cause not determined)"

    # ------------------------------------------------------------ unreachable reads

    def _unexplored_reads(self, explored: Set[str]) -> Iterable[ReadVerdict]:
        """Reads of the field in functions the analysis never explored from an entry
        point: resolved now in the context they would run in by default."""
        index = self.index
        resolver = self.program.resolver
        readers, _ = self._bodies_scanned()
        for fid in readers:
            if fid in explored:
                continue
            ctx = default_context(index, fid)
            body, _ = resolver.resolve_body(ctx)
            for node in walk_resolved(body):
                if isinstance(node, RRead) and node.field == self.field:
                    yield self._verdict(fid, node.line, node.column, "unreachable",
                                        self._unreached(fid))

    def _bodies_scanned(self) -> Tuple[List[str], Dict[str, Set[str]]]:
        """The functions whose code reads `.attr`, and the functions that call each
        name: one walk over every body, done once."""
        if self._scanned is None:
            readers: List[str] = []
            callers: Dict[str, Set[str]] = {}
            for fid in sorted(self.index.functions):
                reads = False
                for node in walk_nodes(self.index.function(fid).body):
                    if isinstance(node, Read) and node.target.attr == self.attr:
                        reads = True
                    elif isinstance(node, Call) and _call_name(node):
                        callers.setdefault(_call_name(node), set()).add(fid)
                if reads:
                    readers.append(fid)
            self._scanned = (readers, callers)
        return self._scanned

    def _unreached(self, fid: str) -> str:
        """Why nothing reaches fid: the unresolved call on the startup paths nearest to
        it by name (it, or a function that calls it, by name), if any."""
        unresolved = self.program.resolver.calls_unresolved
        by_name: Dict[str, List[Tuple[str, int, str]]] = {}
        for (ctx, line, _), call in unresolved.items():
            if ctx in self.parents:
                by_name.setdefault(_call_name(call), []).append(
                    (ctx[0], line, expr_text(call.func)))
        callers = self._bodies_scanned()[1]
        names = {fid.rsplit(".", 1)[-1]}
        seen: Set[str] = set()
        unreached = f"no entry point reaches `{display_function(fid)}`"
        for _ in range(4):
            hits = sorted(hit for name in sorted(names) for hit in by_name.get(name, ()))
            if hits:
                caller, line, text = hits[0]
                return (f"{unreached}; the nearest unresolved call on the way may be "
                        f"`{text}()` at {self._at(caller, line)} (in "
                        f"`{display_function(caller)}`)")
            seen |= names
            names = {caller.rsplit(".", 1)[-1] for name in names
                     for caller in callers.get(name, ())} - seen
            if not names:
                break
        # A computed callee (`getattr(obj, name)()`, `handlers[k]()`) may be anything.
        computed = sorted(by_name.get("", ()))
        if computed:
            caller, line, text = computed[0]
            return (f"{unreached}; an unresolved call with a computed callee may call it: "
                    f"`{text}()` at {self._at(caller, line)} (in `{display_function(caller)}`"
                    f"{f', one of {len(computed)}' if len(computed) > 1 else ''})")
        if by_name:
            return (f"{unreached}, and no unresolved call on the startup paths names it or "
                    f"its callers (`nilcheck graph --unresolved` lists them)")
        return unreached

    # ------------------------------------------------------------ words and places

    def _place(self, fid: str, line: int, note: str) -> Place:
        return Place(display_function(fid), self._path(fid), line, note)

    def _path(self, fid: str) -> str:
        # Every line shown travels with the path of its function: each passes here.
        path = self.index.path_of(fid)
        self.shown.add(path)
        return path

    def _at(self, fid: str, line) -> str:
        return f"{self._path(fid)}:{line}"

    def _qualname(self, fid: str) -> str:
        return display_function(fid)[len(self.index.module_of(fid).name) + 1:]

    def _class_name(self, cid: str) -> str:
        if cid in self.index.classes:
            return self.index.classes[cid][1].qualname
        return cid.rsplit(".", 1)[-1]

    def _short(self, field: str) -> str:
        cid, attr = unmarked(field)[0].rsplit(".", 1)
        return f"{self._class_name(cid)}.{attr}"


class _EmptySummary:
    exposed: Dict = {}


_EMPTY = _EmptySummary()


class _Without:
    """The summaries, with facts removed from every callee's gen: what a body exposes
    when its callees are not taken to assign the field."""

    def __init__(self, summaries, facts: FrozenSet[str]):
        self._summaries = summaries
        self._facts = facts
        self._changed: Dict[Ctx, object] = {}

    def get(self, ctx, default=None):
        summary = self._summaries.get(ctx)
        if summary is None:
            return default
        changed = self._changed.get(ctx)
        if changed is None:
            changed = dataclasses.replace(summary, gen=frozenset(summary.gen) - self._facts)
            self._changed[ctx] = changed
        return changed

    def __getitem__(self, ctx):
        found = self.get(ctx)
        if found is None:
            raise KeyError(ctx)
        return found

    def __contains__(self, ctx) -> bool:
        return ctx in self._summaries


def _strip(body: tuple, stores: FrozenSet[str] = frozenset(),
           guards: FrozenSet[str] = frozenset(), unprotect: bool = False,
           reads: FrozenSet[str] = frozenset(), keep: Optional[Tuple[int, int]] = None
           ) -> tuple:
    """body without the stores of these fields, the guards on them (an alias's too), the
    AttributeError protection of its tries, or the reads of these fields but keep."""

    def facts(fields: FrozenSet[str]) -> FrozenSet[str]:
        if not guards:
            return fields
        return frozenset(f for f in fields if f not in guards
                         and not any(f.endswith("=" + g) for g in guards))

    def block(nodes: tuple) -> tuple:
        out = []
        for node in nodes:
            if isinstance(node, (RGen, RKill)) and node.field in stores:
                continue
            if isinstance(node, RRead) and node.field in reads \
                    and (node.line, node.column) != keep:
                continue
            if isinstance(node, RIf):
                node = RIf(facts(node.true_fields), facts(node.false_fields),
                           block(node.body), block(node.orelse), node.line)
            elif isinstance(node, RLoop):
                node = dataclasses.replace(node, body=block(node.body),
                                           orelse=block(node.orelse),
                                           exit_fields=facts(node.exit_fields))
            elif isinstance(node, RTry):
                node = RTry(block(node.body), tuple(block(h) for h in node.handlers),
                            block(node.orelse), block(node.final),
                            node.protects and not unprotect)
            out.append(node)
        return tuple(out)

    return block(body)


def _first_node(body: tuple, wanted: Callable) -> Optional[object]:
    return next((node for node in walk_resolved(body) if wanted(node)), None)


def _first(body: tuple, wanted: Callable) -> str:
    node = _first_node(body, wanted)
    return str(node.line) if node is not None else "?"


def _bfs_parents(graph, roots: Sequence[Ctx]) -> Dict[Ctx, Optional[Ctx]]:
    """Every context reachable from roots, with its parent on a shortest path."""
    parents: Dict[Ctx, Optional[Ctx]] = {}
    queue = [root for root in roots if root in graph]
    for root in queue:
        parents.setdefault(root, None)
    for ctx in queue:
        for callee in sorted(graph.successors(ctx), key=ctx_key):
            if callee not in parents:
                parents[callee] = ctx
                queue.append(callee)
    return parents


def _call_name(call: Call) -> str:
    func = call.func
    if isinstance(func, Attr):
        return func.attr
    if isinstance(func, Name):
        return func.id.partition("#")[0]
    return ""


# ---------------------------------------------------------------- formats


def render(story: FieldStory, fmt: str) -> str:
    return _json(story) if fmt == "json" else _text(story)


def read_object(read: ReadVerdict) -> dict:
    found = {"file": read.file, "line": read.line, "column": read.column,
             "function": read.function, "verdict": read.verdict, "reason": read.reason}
    if read.finding is not None:
        found["rule"] = read.finding.rule
        found["trace"] = [{"kind": step.kind, "function": step.function, "file": step.file,
                           "line": step.line} for step in read.finding.trace]
    return found


def _json(story: FieldStory) -> str:
    import json

    document = {
        "version": 1,
        "field": story.field,
        "late": story.late,
        "reason": story.reason,
        "unset_at": [{"file": p.file, "line": p.line, "function": p.function, "how": p.note}
                     for p in story.unset_at],
        "initializers": [{"function": p.function, "file": p.file, "line": p.line,
                          "reached": p.note == REACHED}
                         for p in sorted(story.initializers,
                                         key=lambda p: (p.file, p.line, p.function))],
        "reads": [read_object(read) for read in sorted(story.reads, key=lambda r: r.sort_key)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _text(story: FieldStory) -> str:
    lines = [f"{story.field}: {story.reason}"]
    for place in story.unset_at:
        lines.append(f"    unset:       {place.file}:{place.line}: {place.note}")
    for place in sorted(story.initializers, key=lambda p: (p.file, p.line, p.function)):
        lines.append(f"    initializer: {place.file}:{place.line}: {place.function} "
                     f"({place.note})")
    reads = sorted(story.reads, key=lambda r: r.sort_key)
    lines.append("")
    lines.append(f"{len(reads)} read{'s' * (len(reads) != 1)}:" if reads
                 else "no reads of it in the analysed code")
    for read in reads:
        rule = f" {read.finding.rule}" if read.verdict == "reported" and read.finding else ""
        lines.append(f"{read.file}:{read.line}:{read.column}: {read.verdict}{rule} "
                     f"in {read.function}: {read.reason}")
        if read.finding is not None:
            for step in read.finding.trace:
                lines.append(f"    {step.file}:{step.line}: {step.kind.ljust(5)}  "
                             f"{step.function}")
    return "\n".join(lines) + "\n"


def hide(story: FieldStory, hidden: Callable[[Finding], Optional[str]]) -> FieldStory:
    """story with each reported read that the scan would not show (a rule not selected,
    a suppression comment, the baseline) turned into not-reported, saying why."""
    reads = []
    for read in story.reads:
        why = hidden(read.finding) if read.verdict == "reported" and read.finding else None
        reads.append(dataclasses.replace(read, verdict="not-reported",
                                         reason=f"{read.finding.rule}: {why}") if why else read)
    return dataclasses.replace(story, reads=reads)


__all__ = ["FieldStory", "ReadVerdict", "Place", "VERDICTS", "explain", "find_field",
           "hide", "render"]


def _checks(fields: FrozenSet[str], facts: FrozenSet[str]) -> bool:
    """Does a test establish one of facts (the field, its presence, an alias of it)?"""
    return any(field in facts or any(field.endswith("=" + fact) for fact in facts)
               for field in fields)
