"""What a standard-library base class gives its instances, read from the interpreter
that runs nilcheck (never from the scanned project, which is not imported).

A project class deriving from `io.RawIOBase` or `socketserver.BaseRequestHandler` has
the base's attributes as well as its own; whether `self.buffer_size` can be missing
depends on whether the base defines it. For a base in the standard library this is
knowable: the class's own attributes (`dir()`, which for classes written in C includes
their instance slots) plus every `self.x = ...` in the source of the Python classes in
its MRO. Anything else (a third-party base, a class whose source is not there) stays
unknown, and callers assume it may provide any attribute.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import sysconfig
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Optional

# Standard modules that do something when imported (open a browser, print a poem) or
# that are applications rather than libraries.
_NOT_IMPORTED = frozenset({"antigravity", "this", "__hello__", "__phello__", "idlelib",
                           "turtledemo", "tkinter.__main__", "pydoc_data", "lib2to3"})


@lru_cache(maxsize=None)
def _stdlib_modules() -> FrozenSet[str]:
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names:
        return frozenset(names)
    # Python 3.9: the top-level names in the interpreter's own library directory.
    found = set(sys.builtin_module_names)
    try:
        for entry in Path(sysconfig.get_paths()["stdlib"]).iterdir():
            if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").exists()):
                found.add(entry.stem if entry.suffix == ".py" else entry.name)
    except OSError:
        pass
    return frozenset(found - {"site-packages"})


@lru_cache(maxsize=None)
def stdlib_attributes(dotted: str) -> Optional[FrozenSet[str]]:
    """The attributes instances of the standard-library class `dotted` get from it, or
    None when dotted is not such a class or they cannot be known."""
    parts = dotted.split(".")
    if len(parts) < 2 or parts[0] not in _stdlib_modules() or parts[0] in _NOT_IMPORTED:
        return None
    if not _from_the_standard_library(parts[0]):
        return None
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        if module_name in _NOT_IMPORTED:
            return None
        try:
            value = importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - not importable here: unknown
            continue
        try:
            for name in parts[split:]:
                value = getattr(value, name)
        except AttributeError:
            return None
        break
    else:
        return None
    if not inspect.isclass(value):
        return None
    names = set(dir(value))
    for klass in value.__mro__:
        if klass is object or not _written_in_python(klass):
            continue
        stored = _stored_on_self(klass)
        if stored is None:
            return None
        names |= stored
    return frozenset(names)


def _from_the_standard_library(top: str) -> bool:
    """Would importing top load the interpreter's own module, not a file of the same
    name on sys.path (the scanned project's `queue.py` in the working directory)?"""
    if top in sys.modules:
        origin = getattr(sys.modules[top], "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return False
        if spec is None:
            return False
        origin = spec.origin
    if origin is None or origin in ("built-in", "frozen"):
        return True
    library = Path(sysconfig.get_paths()["stdlib"]).resolve()
    try:
        path = Path(origin).resolve()
    except OSError:
        return False
    return library in path.parents and "site-packages" not in path.parts


def _written_in_python(klass) -> bool:
    return any(inspect.isfunction(member) for member in vars(klass).values())


def _stored_on_self(klass) -> Optional[FrozenSet[str]]:
    """Attribute names the class's methods assign on their first parameter."""
    try:
        source = inspect.getsource(klass)
        tree = ast.parse(textwrap.dedent(source))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    names = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or not function.args.args:
            continue
        me = function.args.args[0].arg
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id == me:
                names.add(node.attr)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "setattr" and node.args \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == me:
                return None  # computed attribute names: anything may exist
    return frozenset(names)
