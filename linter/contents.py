"""What a local list or dict display holds at a literal key, while nothing can have
changed it: `d = {"a": f}; d["a"] = g; d["a"]()` calls g, not f.

The value flow keeps one set of values per container and key for the whole program
(flow-insensitive: `d["a"]` is f or g everywhere). Within one straight run of statements
of one function, facts.py knows more: a local bound to a display is a builtin list or
dict, and between a store at a literal key and a read of it, when nothing ran that
could reach the container (no call, no attribute load or store, no operator on
something else, no await or yield, no other subscript store, no branch or loop
boundary), the read gives exactly what was stored. Then the read is written in the facts
as the stored value itself. Only values that mean the same wherever they are read are
kept (versioned names, literals, functions, classes, displays of them): a stored call's
result is not evaluated again.

Anything else forgets: what a container holds is then the flow's answer, as before.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from nilcheck.linter.ir import (
    DictLit, Expr, FalsyConst, Lit, LocalClass, LocalFunc, Name, NoneConst, Seq,
)

Path = Tuple[object, ...]


class KnownContents:
    """Per version label of a local bound to a display: the value at each literal key
    path known now."""

    def __init__(self) -> None:
        # Empty nearly always: facts.py skips its checks then.
        self.known: Dict[str, Dict[Path, Expr]] = {}

    def forget_all(self) -> None:
        if self.known:
            self.known.clear()

    def forget(self, label: str) -> None:
        self.known.pop(label, None)

    def tracks(self, label: Optional[str]) -> bool:
        return label is not None and label in self.known

    def bound(self, label: str, value: Expr) -> None:
        """label = value: a display of known values starts being tracked."""
        if _container(value) and _pure(value):
            known: Dict[Path, Expr] = {}
            _flatten((), value, known)
            self.known[label] = known

    def read(self, label: Optional[str], path: Path) -> Optional[Expr]:
        """What label[path...] holds now, if known."""
        if label is None:
            return None
        known = self.known.get(label)
        return known.get(path) if known is not None else None

    def readable(self, label: Optional[str], path: Path) -> bool:
        """Whether reading label[path...] runs no code: every container on the way is a
        tracked builtin display."""
        known = self.known.get(label) if label is not None else None
        return known is not None and all(
            _container(known.get(path[:depth])) for depth in range(len(path)))

    def stored(self, label: Optional[str], path: Optional[Path], value: Expr) -> None:
        """label[path...] = value. A store into something not tracked may be into any
        container (an alias): everything is forgotten."""
        known = self.known.get(label) if label is not None else None
        if known is None:
            self.forget_all()
            return
        parent = known.get(path[:-1]) if path else None
        if not path or not self._settable(parent, path[-1]):
            self.forget(label)  # type: ignore[arg-type]
            return
        for key in [key for key in known if key[:len(path)] == path]:
            del known[key]
        if _pure(value):
            _flatten(path, value, known)

    def updated(self, label: Optional[str], items: Optional[Dict[object, Expr]]) -> None:
        """label.update(...): with items (literal keys and known values) on a tracked
        dict, those keys are stored; any other update forgets everything."""
        known = self.known.get(label) if label is not None else None
        if known is None or items is None or type(known.get(())) is not DictLit:
            self.forget_all()
            return
        for key, value in items.items():
            self.stored(label, (key,), value)

    @staticmethod
    def _settable(parent: Optional[Expr], key: object) -> bool:
        if type(parent) is DictLit:
            return True
        return type(parent) is Seq and parent.kind == "list" and type(key) is int \
            and 0 <= key < len(parent.items)


def literal_key(expr: Expr) -> Optional[object]:
    """A str or non-negative int literal used as a key, else None."""
    if type(expr) is Lit and ((expr.kind == "str" and type(expr.value) is str)
                              or (expr.kind == "int" and type(expr.value) is int
                                  and expr.value >= 0)):
        return expr.value
    return None


def _container(value: Optional[Expr]) -> bool:
    return type(value) is DictLit or (type(value) is Seq and value.kind in ("list", "tuple"))


def _pure(value: Expr) -> bool:
    """Means the same wherever it is read (until its names are bound again, which makes
    new versions)."""
    kind = type(value)
    if kind in (Name, LocalFunc, LocalClass, NoneConst, FalsyConst, Lit):
        return True
    if kind is DictLit:
        return all(key is not None and literal_key(key) is not None and _pure(item)
                   for key, item in value.items)
    if kind is Seq and value.kind in ("list", "tuple"):
        return all(_pure(item) for item in value.items)
    return False


def _flatten(path: Path, value: Expr, known: Dict[Path, Expr]) -> None:
    known[path] = value
    if type(value) is DictLit:
        for key, item in value.items:
            _flatten(path + (literal_key(key),), item, known)
    elif type(value) is Seq:
        for position, item in enumerate(value.items):
            _flatten(path + (position,), item, known)
