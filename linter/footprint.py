"""Which edits the last analysis cannot see, so that its outcome stands after them.

The whole-program analysis is deterministic and reads the facts only through the
project index (index.py), which notes what it was asked: the functions whose facts were
read, the function table's keys and each module's global names that were looked up.
Replay the analysis on the edited program: it asks the same questions in the same order,
and as long as every answer is the same it does the same thing. An edit of one module
gives the same answers when

- the module's facts are the same except for functions the edit added, removed or
  changed, up to renumbering its lines in order (an edit shifts the lines, or site
  numbers, of everything after it; nothing compares one module's lines with another's,
  and within the module their order is kept);
- none of those functions was read, and none of their names was looked up in the
  function table or, for a module-level def, among the module's globals (the module
  body binds the def's name: that bind is all the module's code says about it);
- the module's summaries the analysis reads whole (classes, imports, attributes it
  stores, decorators, `global` declarations) are unchanged; and
- the outcome shows no line of the module (its lines may have moved).

Then the last outcome is the outcome of the edited program. This is what makes editing
code the entry points never reach (a new helper, a dead function's body) cost a parse,
not an analysis. Anything else, a new method, a changed import, a new file, runs the
analysis again.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from nilcheck.linter.ir import Bind, FunctionFacts, LocalFunc, ModuleFacts

@dataclass(frozen=True)
class Footprint:
    """What one analysis read of the facts (see ProjectIndex.read and .asked), and the
    files its outcome shows lines of."""

    read: FrozenSet[str]
    asked: FrozenSet[Tuple[str, str]]
    shown: FrozenSet[str]


def footprint(index, shown) -> Footprint:
    asked = {("", key) for key in index.asked_functions}
    return Footprint(frozenset(index.read), frozenset(asked | index.asked), frozenset(shown))


def unseen_edit(old: ModuleFacts, new: ModuleFacts, seen: Footprint) -> Optional[str]:
    """None when the analysis that left `seen` cannot tell new from old (module docstring);
    else what it would see."""
    if old.path in seen.shown:
        return "the outcome shows its lines"
    if old.positioned != new.positioned or (old.main_block is None) != (new.main_block is None):
        return "its facts are of another kind"
    if ("", "*") in seen.asked:
        return "the analysis listed every function"
    before = {function.qualname: function for function in old.functions}
    after = {function.qualname: function for function in new.functions}
    came_or_went = before.keys() ^ after.keys()
    edited = came_or_went | {q for q in before.keys() & after.keys()
                             if not _same_shape(before[q], after[q])}
    for qualname in sorted(edited):
        fid = f"{old.name}.{qualname}"
        if fid in seen.read:
            return f"the analysis read {qualname}"
        if qualname not in came_or_went:
            continue
        if ("", fid) in seen.asked:
            return f"the analysis looked up {qualname}"
        parent = qualname.rpartition(".<locals>.")[0] or qualname.rpartition(".")[0]
        if parent and parent not in edited:
            return f"{qualname} is defined in {parent}, which did not change"
    # The module body and __main__ block bind each module-level def's name: compared
    # without the binds of edited functions, whose names then must not have been looked
    # up where they are bound to something else.
    dropped_old: Set[Tuple[str, str]] = set()
    dropped_new: Set[Tuple[str, str]] = set()
    kept_old = _kept(old, before, edited, dropped_old)
    kept_new = _kept(new, after, edited, dropped_new)
    for name, _ in sorted(dropped_old ^ dropped_new):
        if (old.name, name) in seen.asked or (old.name, "*") in seen.asked:
            return f"the analysis looked up the name {name}"
    dropped_names = {name for name, _ in dropped_old | dropped_new}
    kept_old = _without_names(kept_old, dropped_names)
    kept_new = _without_names(kept_new, dropped_names)
    if kept_old == kept_new:  # no line moved (an edit at the end): no need to rank them
        return None
    ranks_old, ranks_new = _ranks(kept_old), _ranks(kept_new)
    for part in kept_old:
        if _canonical(kept_old[part], ranks_old) != _canonical(kept_new[part], ranks_new):
            return f"its {part} changed"
    return None


def _kept(module: ModuleFacts, functions: Dict[str, FunctionFacts], edited: Set[str],
          dropped: Set[Tuple[str, str]]) -> Dict[str, object]:
    """What of module the edit must leave as it was, by part: every field but the
    edited functions and the binds of their names (added to dropped as (name, qualname))."""
    kept: Dict[str, object] = {
        f.name: getattr(module, f.name) for f in fields(ModuleFacts)
        if f.name not in ("functions", "toplevel", "main_block")}
    kept["unedited functions"] = [functions[q] for q in sorted(functions.keys() - edited)]
    for special in ("toplevel", "main_block"):
        code = getattr(module, special)
        if code is None:
            continue
        body = []
        for node in code.body:
            if type(node) is Bind and type(node.value) is LocalFunc \
                    and node.value.qualname in edited:
                dropped.add((node.name.partition("#")[0], node.value.qualname))
            else:
                body.append(node)
        kept[special] = (tuple(body), code.local_names) + tuple(
            getattr(code, f.name) for f in fields(FunctionFacts)
            if f.name not in ("body", "local_names"))
    return kept


def _without_names(kept: Dict[str, object], names: Set[str]) -> Dict[str, object]:
    for special in ("toplevel", "main_block"):
        if special in kept:
            body, local_names, *rest = kept[special]
            kept[special] = (body, tuple(n for n in local_names
                                         if n.partition("#")[0] not in names), *rest)
    return kept


def _same_shape(old: FunctionFacts, new: FunctionFacts) -> bool:
    return old == new or _canonical(old, _ranks(old)) == _canonical(new, _ranks(new))


# ------------------------------------------------------------ facts up to their lines

def _ranks(value) -> Dict[int, int]:
    """Each line (or site number) in value, by its rank among them."""
    lines: Set[int] = set()
    _lines(value, lines)
    return {line: rank for rank, line in enumerate(sorted(lines))}


def _lines(value, out: Set[int]) -> None:
    kind = type(value)
    if kind in (tuple, list, frozenset, set):
        for item in value:
            _lines(item, out)
    elif kind is dict:
        for item in value.values():
            _lines(item, out)
    elif is_dataclass(value):
        for name in _field_names(kind):
            item = getattr(value, name)
            if name == "line":
                out.add(item)
            else:
                _lines(item, out)


def _canonical(value, ranks: Dict[int, int]):
    """value as nested tuples, with each line replaced by its rank."""
    kind = type(value)
    if kind in (tuple, list):
        return tuple(_canonical(item, ranks) for item in value)
    if kind in (frozenset, set):
        return frozenset(_canonical(item, ranks) for item in value)
    if kind is dict:
        return tuple((key, _canonical(item, ranks)) for key, item in value.items())
    if is_dataclass(value):
        return (_base_name(kind),) + tuple(
            ranks[getattr(value, name)] if name == "line"
            else _canonical(getattr(value, name), ranks) for name in _field_names(kind))
    return value


_FIELD_NAMES: Dict[type, Tuple[str, ...]] = {}


def _field_names(kind: type) -> Tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


def _base_name(kind: type) -> str:
    """The IR class a lazily unpickled one stands for (ir.py's _FunctionWithPickledBody)."""
    while kind.__name__.startswith("_") and kind.__bases__[0] is not object:
        kind = kind.__bases__[0]
    return kind.__name__


def unseen_edits(pairs: List[Tuple[ModuleFacts, ModuleFacts]],
                 seen: Footprint) -> Optional[str]:
    """None when no edit of (old, new) pairs is seen by the analysis; else the first
    module's path and why."""
    for old, new in pairs:
        reason = unseen_edit(old, new, seen)
        if reason is not None:
            return f"{new.path}: {reason}"
    return None
