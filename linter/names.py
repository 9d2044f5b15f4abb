"""Static names: what a module-level name or a dotted chain denotes, without running
anything: class and function statements, imports (relative ones already made absolute
by facts.py), star imports and plain aliases (`Base = other.Base`).

Class bases and annotations name classes this way; the value flow (valueflow.py) uses
it for them and for deciding when a name is not the project's (an external or builtin).
"""
from __future__ import annotations

import builtins
from typing import Dict, Optional, Set, Tuple

from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import (
    Attr, Decorated, Expr, ImportFacts, LocalClass, LocalFunc, ModuleFacts, Name,
)

Value = tuple
BUILTIN_NAMES = frozenset(dir(builtins))
_MAX_DEPTH = 40  # alias chains longer than this are not followed (and cannot loop)


class StaticNames:
    def __init__(self, index: ProjectIndex):
        self.index = index
        self._memo: Dict[Tuple[str, str], Optional[Value]] = {}
        self._active: Set[Tuple[str, str]] = set()

    def resolve(self, module: ModuleFacts, expr: Expr, depth: int = 0) -> Optional[Value]:
        """("class", id) | ("func", id) | ("module", name) | ("extern", dotted) | None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, Name):
            # A module-level version (`Base#1`, see facts.py) is that global's.
            return self.lookup(module, expr.id.partition("#")[0], depth + 1)
        if isinstance(expr, Attr):
            base = self.resolve(module, expr.base, depth + 1)
            return self.member(base, expr.attr, depth + 1) if base is not None else None
        if isinstance(expr, LocalClass):
            return ("class", f"{module.name}.{expr.qualname}")
        if isinstance(expr, LocalFunc):
            return ("func", f"{module.name}.{expr.qualname}")
        if isinstance(expr, Decorated) and isinstance(expr.function, LocalClass):
            return self.resolve(module, expr.function, depth + 1)  # class decorators return it
        return None

    def member(self, base: Value, attr: str, depth: int = 0) -> Optional[Value]:
        kind = base[0]
        if kind == "module":
            module = self.index.modules[base[1]]
            if self.provides(module, attr):
                return self.lookup(module, attr, depth)
            if f"{base[1]}.{attr}" in self.index.modules:
                return ("module", f"{base[1]}.{attr}")
            return None
        if kind == "class":
            nested = f"{base[1]}.{attr}"
            return ("class", nested) if nested in self.index.classes else None
        if kind == "extern":
            return ("extern", f"{base[1]}.{attr}")
        return None

    def lookup(self, module: ModuleFacts, name: str, depth: int = 0) -> Optional[Value]:
        """The value of module's global `name` (memoized; cycles give None)."""
        key = (module.name, name)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return None
        self._active.add(key)
        try:
            found = self._lookup(module, name, depth)
        finally:
            self._active.discard(key)
        self._memo[key] = found
        return found

    def _lookup(self, module: ModuleFacts, name: str, depth: int) -> Optional[Value]:
        index = self.index
        for value in index.global_binds(module.name).get(name, ()):
            found = self.resolve(module, value, depth)
            if found is not None:
                return found
        for imported in module.imports:
            if imported.local == name:
                found = self.imported(imported, depth)
                if found is not None:
                    return found
        cid = f"{module.name}.{name}"
        if cid in index.classes:
            return ("class", cid)
        if cid in index.functions and index.function(cid).parent is None:
            return ("func", cid)
        for provider in self.star_providers(module, name):
            return self.lookup(index.modules[provider], name, depth)
        if index.global_binds(module.name).get(name):
            return None  # assigned something not static (a call, a literal)
        if name in BUILTIN_NAMES:
            return ("extern", name)
        external = self._external_star_import(module)
        return ("extern", f"{external}.{name}" if external else name)

    def imported(self, imported: ImportFacts, depth: int = 0) -> Optional[Value]:
        """What an import binds its local name to."""
        index = self.index
        if imported.name is None:
            if imported.module in index.modules:
                return ("module", imported.module)
            return ("extern", imported.module)
        full = f"{imported.module}.{imported.name}"
        if imported.module in index.modules:
            source = index.modules[imported.module]
            if self.provides(source, imported.name):
                found = self.lookup(source, imported.name, depth)
                if found is not None:
                    return found
            if full in index.modules:
                return ("module", full)
            return ("extern", full) if not self.provides(source, imported.name) else None
        if full in index.modules:
            return ("module", full)
        return ("extern", full)

    def provides(self, module: ModuleFacts, name: str) -> bool:
        """Does the module itself give `name` a value (a statement, an import, a star
        import of a project module that does)?"""
        index = self.index
        if name in index.global_binds(module.name):
            return True
        if any(imported.local == name for imported in module.imports):
            return True
        cid = f"{module.name}.{name}"
        if cid in index.classes or (cid in index.functions
                                    and index.function(cid).parent is None):
            return True
        return bool(self.star_providers(module, name))

    def star_providers(self, module: ModuleFacts, name: str, seen: Optional[set] = None):
        """Project modules whose `name` a `from m import *` of this module brings in."""
        providers = []
        seen = set() if seen is None else seen
        seen.add(module.name)
        for imported in module.imports:
            if imported.local != "*" or imported.module not in self.index.modules \
                    or imported.module in seen:
                continue
            source = self.index.modules[imported.module]
            if name in self.index.global_binds(source.name) or any(
                    i.local == name for i in source.imports if i.local != "*") \
                    or self.star_providers(source, name, seen):
                providers.append(imported.module)
        return providers

    def _external_star_import(self, module: ModuleFacts) -> Optional[str]:
        """The first module outside the project that `from m import *` reads, if any: an
        unknown name is taken to come from there."""
        for imported in module.imports:
            if imported.local == "*" and imported.module not in self.index.modules:
                return imported.module
        return None
