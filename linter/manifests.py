"""Where a project's packaging metadata says its packages live.

Read from the project's own files, never by running them: pyproject.toml
(`[tool.setuptools] package-dir`, `[tool.setuptools.packages.find] where`, poetry's
`packages = [{include, from}]`, hatch's wheel `packages` and `sources`, pdm's
`package-dir`, maturin's `python-source`), setup.cfg (`[options] package_dir`,
`[options.packages.find] where`) and the literal arguments of setup.py
(`package_dir={"": "src"}`, `find_packages(where="src")`).

Each answer is a directory relative to the project directory (posix, normalised, never
outside it) and the dotted package that directory is: "" for a directory that holds
top-level packages (`where = ["src"]`), "app" for `package-dir = {"app" = "lib"}`. A file
that cannot be read or understood declares nothing: the conventions apply instead.
"""
from __future__ import annotations

import ast
import configparser
import os
import posixpath
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.9/3.10
    import tomli as tomllib

# (directory relative to the project, package it is or "")
DeclaredRoot = Tuple[str, str]

# setup.py is code: only a small one is worth parsing for its literal arguments.
_SETUP_PY_LIMIT = 1 << 20


def declared_roots(project: str, present: Iterable[str]) -> List[DeclaredRoot]:
    """The roots that the files named in present (of "pyproject.toml", "setup.cfg",
    "setup.py") in the directory project declare, in that order, without repeats."""
    readers = {"pyproject.toml": _pyproject_roots, "setup.cfg": _setup_cfg_roots,
               "setup.py": _setup_py_roots}
    found: List[DeclaredRoot] = []
    for filename in ("pyproject.toml", "setup.cfg", "setup.py"):
        if filename not in present:
            continue
        try:
            values = readers[filename](os.path.join(project, filename))
        except Exception:  # noqa: BLE001 - any file unreadable or not understood (say
            continue  # setup.py's `package_dir={[1]: "src"}`, a TypeError) declares nothing
        for directory, package in values:
            root = _inside(directory)
            if root is not None and _is_package_name(package) and (root, package) not in found:
                found.append((root, package))
    return found


def _pyproject_roots(path: str) -> List[Tuple[Any, Any]]:
    with open(path, "rb") as handle:
        document = tomllib.load(handle)
    tool = _table(document.get("tool"))
    roots: List[Tuple[Any, Any]] = []

    setuptools = _table(tool.get("setuptools"))
    roots.extend(_package_dir(_table(setuptools.get("package-dir"))))
    find = _table(_table(setuptools.get("packages")).get("find"))
    roots.extend((where, "") for where in _strings(find.get("where")))

    for package in _list(_table(tool.get("poetry")).get("packages")):
        package = _table(package)
        if "include" in package and "to" not in package:  # "to" renames it: not a root
            roots.append((package.get("from", "."), ""))

    hatch = _table(_table(tool.get("hatch")).get("build"))
    for target in (hatch, _table(_table(hatch.get("targets")).get("wheel"))):
        # packages = ["src/app"]: app/ is a top-level package, so src/ is a root.
        roots.extend((posixpath.dirname(_posix(item)) or ".", "")
                     for item in _strings(_list(target.get("packages"))))
        sources = target.get("sources")
        if isinstance(sources, dict):  # {"src/app" = "app"}: src/app/ is the package app
            roots.extend((prefix, _dotted(dest)) for prefix, dest in sources.items()
                         if isinstance(dest, str))
        else:  # ["src"]: the prefix is removed, src/ is a root
            roots.extend((prefix, "") for prefix in _strings(_list(sources)))

    pdm = _table(_table(tool.get("pdm")).get("build")).get("package-dir")
    if isinstance(pdm, str):
        roots.append((pdm, ""))
    maturin = _table(tool.get("maturin")).get("python-source")
    if isinstance(maturin, str):
        roots.append((maturin, ""))
    return roots


def _setup_cfg_roots(path: str) -> List[Tuple[Any, Any]]:
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.Error as error:
        raise ValueError(str(error)) from None
    roots: List[Tuple[Any, Any]] = []
    if parser.has_option("options", "package_dir"):
        # "=src", or one "package = directory" per line.
        mapping = {}
        for line in parser.get("options", "package_dir").replace(",", "\n").splitlines():
            key, equals, value = line.partition("=")
            if equals:
                mapping[key.strip()] = value.strip()
        roots.extend(_package_dir(mapping))
    if parser.has_option("options.packages.find", "where"):
        roots.extend((where.strip(), "") for where in
                     parser.get("options.packages.find", "where").splitlines() if where.strip())
    return roots


def _setup_py_roots(path: str) -> List[Tuple[Any, Any]]:
    if os.path.getsize(path) > _SETUP_PY_LIMIT:
        return []
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), path)
    roots: List[Tuple[Any, Any]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func.attr if isinstance(node.func, ast.Attribute) else \
            node.func.id if isinstance(node.func, ast.Name) else ""
        if function in ("find_packages", "find_namespace_packages"):
            where = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "where"), None)
            if isinstance(where, ast.Constant) and isinstance(where.value, str):
                roots.append((where.value, ""))
        for keyword in node.keywords:
            if keyword.arg == "package_dir" and isinstance(keyword.value, ast.Dict):
                try:
                    mapping = ast.literal_eval(keyword.value)
                except ValueError:
                    continue
                roots.extend(_package_dir(mapping))
    return roots


def _package_dir(mapping: Dict[Any, Any]) -> List[Tuple[Any, Any]]:
    """setuptools' package_dir: {"": "src"} makes src/ a root; {"app": "lib"} makes lib/
    the package app."""
    return [(directory, _dotted(package)) for package, directory in mapping.items()
            if isinstance(package, str) and isinstance(directory, str)]


def _inside(directory: Any) -> Optional[str]:
    """directory normalised, relative to the project ("" for the project itself); None
    when it is not a relative path inside the project."""
    if not isinstance(directory, str):
        return None
    directory = _posix(directory.strip())
    if posixpath.isabs(directory) or (len(directory) > 1 and directory[1] == ":"):
        return None
    directory = posixpath.normpath(directory or ".")
    if directory == "..":
        return None
    if directory.startswith("../"):
        return None
    return "" if directory == "." else directory


def _dotted(package: str) -> str:
    return package.strip().replace("/", ".").strip(".")


def _is_package_name(package: str) -> bool:
    return package == "" or all(part.isidentifier() for part in package.split("."))


def _posix(path: str) -> str:
    return path.replace("\\", "/")


def _table(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in _list(value) if isinstance(item, str)]
