"""Startup entry points: the configured ones, resolved, or the discovered ones.

An entry point `pkg.mod:Qual.name` is a function, or a method whose receiver is an
instance of its class, constructed before the method runs. `pkg.mod:__main__` is the
module run as a script: its top-level code, then its `if __name__ == "__main__":` block.
Whatever an entry's module imports has run before it (module top-level code); that is
its prelude.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Set, Tuple

from nilcheck.linter.analysis import Entry
from nilcheck.linter.ftypes import ConfigError
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ordering import Ctx


def configured_entries(index: ProjectIndex, specs: Sequence[str], source: str) -> List[Entry]:
    entries = []
    for spec in specs:
        entry = resolve_entry(index, spec)
        if isinstance(entry, str):
            raise ConfigError(f"{source}: entry point '{spec}' does not resolve: {entry}")
        entries.append(entry)
    return entries


def discovered_entries(index: ProjectIndex, scripts: Sequence[str]) -> List[Entry]:
    entries = []
    for spec in scripts:
        entry = resolve_entry(index, spec)
        if isinstance(entry, Entry):  # a script defined outside the scanned tree: skip
            entries.append(entry)
    for name in sorted(index.modules):
        module = index.modules[name]
        if module.main_block is not None or name == "__main__" or name.endswith(".__main__"):
            entry = resolve_entry(index, f"{name}:__main__")
            if isinstance(entry, Entry):
                entries.append(entry)
    seen = set()
    unique = []
    for entry in entries:
        if entry.ctx not in seen:
            seen.add(entry.ctx)
            unique.append(entry)
    return unique


def resolve_entry(index: ProjectIndex, spec: str, depth: int = 0):
    """An Entry, or a string saying why spec does not resolve."""
    module_name, _, qualname = spec.partition(":")
    if not module_name or not qualname:
        return "expected 'module:Qual.name'"
    module = index.modules.get(module_name)
    if module is None:
        return _no_module(index, module_name, qualname)
    imported = tuple((f"{m}.<module>", None) for m in sorted(imported_modules(index, module_name)))
    own_toplevel: Tuple[Ctx, ...] = ((f"{module_name}.<module>", None),)
    if qualname == "__main__":
        special = "<main>" if module.main_block is not None else "<module>"
        others = tuple(c for c in imported if c[0] != f"{module_name}.<module>")
        return Entry(spec, (f"{module_name}.{special}", None), others)
    fid = f"{module_name}.{qualname}"
    cid = fid if fid in index.classes else None
    if cid is not None:
        init = index.find_method(cid, "__init__")
        if init is None:
            return f"class '{qualname}' has no __init__ to run"
        return Entry(spec, (init, cid), imported + own_toplevel)
    owner = _owner_of_method(index, module_name, qualname)
    if owner is not None:
        method = index.find_method(owner, qualname.rsplit(".", 1)[1])
        if method is None:
            return f"class '{owner}' has no method '{qualname.rsplit('.', 1)[1]}'"
        init = index.find_method(owner, "__init__")
        prelude = imported + own_toplevel + (((init, owner),) if init else ())
        return Entry(spec, (method, owner), prelude)
    if fid in index.functions:
        return Entry(spec, (fid, None), imported + own_toplevel)
    # A name the module re-exports (`from .cli import main` in pkg/__init__.py).
    head, _, rest = qualname.partition(".")
    for imported_name in module.imports:
        if imported_name.local == head and imported_name.name and depth < 5:
            target = f"{imported_name.module}:{imported_name.name}" + (f".{rest}" if rest else "")
            entry = resolve_entry(index, target, depth + 1)
            if isinstance(entry, Entry):
                return Entry(spec, entry.ctx, entry.prelude)
    return f"no function or method '{qualname}' in module '{module_name}'"


def _no_module(index: ProjectIndex, module_name: str, qualname: str) -> str:
    """Why module_name is not analysed; when a file that would be that module is analysed
    under another name (its path ends with the module's: owrx/reporting/mqtt.py analysed
    as owrx.reporting.mqtt, asked for as reporting.mqtt), which name to use instead, the
    source root that name is from, and the directory that as a source root would give
    the name asked for."""
    message = f"no module '{module_name}' among the analysed files"
    tail = module_name.replace(".", "/")
    for module in sorted(index.modules.values(), key=lambda m: m.path):
        for suffix in (f"{tail}.py", f"{tail}/__init__.py"):
            if module.path != suffix and not module.path.endswith(f"/{suffix}"):
                continue
            directory = module.path[:-len(suffix)].rstrip("/") or "."
            root = _root_of(module.path, module.name)
            under = f" (under the source root '{root}')" if root is not None else ""
            return (f"{message}; did you mean '{module.name}:{qualname}'? {module.path} "
                    f"is analysed as '{module.name}'{under}; or add '{directory}' to "
                    f"[tool.nilcheck] source-roots")
    return message


def _root_of(path: str, name: str) -> Optional[str]:
    """The directory a module at path is named name from, "." for the project root; None
    when its name is not its path (a package-dir mapping: lib/ named app)."""
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts[-1] == "__init__":
        parts.pop()
    names = name.split(".")
    if len(parts) < len(names) or parts[len(parts) - len(names):] != names:
        return None
    return "/".join(parts[:len(parts) - len(names)]) or "."


def _owner_of_method(index: ProjectIndex, module_name: str, qualname: str) -> Optional[str]:
    if "." not in qualname:
        return None
    class_part = qualname.rsplit(".", 1)[0]
    cid = f"{module_name}.{class_part}"
    return cid if cid in index.classes else None


def imported_modules(index: ProjectIndex, start: str) -> Set[str]:
    """Project modules that importing `start` runs (transitively), start included."""
    seen: Set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name in seen or name not in index.modules:
            continue
        seen.add(name)
        # Importing pkg.mod runs pkg/__init__.py first.
        parts = name.split(".")
        for i in range(1, len(parts)):
            stack.append(".".join(parts[:i]))
        for imported in index.modules[name].imports:
            stack.append(imported.module)
            if imported.name is not None:
                stack.append(f"{imported.module}.{imported.name}")
    return seen
