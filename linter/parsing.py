"""Reads and parses one file into ModuleFacts, or a FileError; never raises.

This is the per-file stage that worker processes run and the cache stores: its output
depends only on the file's bytes, its module name and its path.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Tuple, Union

import libcst as cst

from nilcheck.linter.facts import extract
from nilcheck.linter.ftypes import FileError
from nilcheck.linter.ir import ModuleFacts

# libcst's parser and our converter recurse per nesting level; generated code with
# deeply nested expressions needs more than CPython's default of 1000.
_RECURSION_LIMIT = 20000


def module_name_for(root: Path, path: Path) -> Tuple[str, bool]:
    """Dotted module name from the package structure (__init__.py files), so that
    `src/app/server.py` is `app.server` whatever folder it sits in."""
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory != directory.parent:
        parts.insert(0, directory.name)
        if directory == root:
            break
        directory = directory.parent
    if not parts:
        parts = [path.parent.name or "__init__"]
    return ".".join(parts), is_package


def parse_file(root: Path, path: Path, module_name: str,
               is_package: bool) -> Union[ModuleFacts, FileError]:
    relative = path.relative_to(root).as_posix()
    try:
        source = path.read_bytes()
    except OSError as error:
        return FileError(relative, 1, f"cannot read file: {error.strerror or error}")
    return parse_source(source, relative, module_name, is_package)


def parse_source(source: bytes, relative: str, module_name: str,
                 is_package: bool) -> Union[ModuleFacts, FileError]:
    if b"\x00" in source:
        return FileError(relative, 1, "not a Python source file (contains null bytes)")
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return FileError(relative, max(error.raw_line, 1),
                         f"syntax error: {_first_line(error.message)}")
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        return FileError(relative, 1, f"cannot decode file: {_first_line(str(error))}")
    except RecursionError:
        return FileError(relative, 1, "file is nested too deeply to parse")
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the scan
        return FileError(relative, 1, f"cannot parse file: {type(error).__name__}: "
                                      f"{_first_line(str(error))}")
    try:
        return extract(module, module_name, relative, is_package)
    except RecursionError:
        return FileError(relative, 1, "file is nested too deeply to analyse")
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the scan
        return FileError(relative, 1, f"internal error while analysing file: "
                                      f"{type(error).__name__}: {_first_line(str(error))}")
    finally:
        sys.setrecursionlimit(old_limit)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
