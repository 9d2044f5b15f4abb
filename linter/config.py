"""Finds the project root and reads and validates `[tool.nilcheck]` from its pyproject.toml.

Every problem becomes a ConfigError whose message is one line naming the file and the
key, so the CLI can print it as is and exit 2. A missing pyproject.toml or a missing
table means the defaults.
"""
from __future__ import annotations

import difflib
import os
import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from nilcheck.linter.ftypes import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.9/3.10
    import tomli as tomllib

PYPROJECT = "pyproject.toml"

# key -> "list" (list of strings) or "str"; the table of CONTRACT.md.
KEYS: Dict[str, str] = {
    "entry-points": "list",
    "initializer-methods": "list",
    "spawners": "list",
    "exclude": "list",
    "select": "list",
    "ignore": "list",
    "baseline": "str",
    "source-roots": "list",
}


@dataclass(frozen=True)
class Config:
    """Validated `[tool.nilcheck]` settings; tuples so the value is hashable and frozen."""

    path: Optional[Path] = None  # the pyproject.toml read, None when there is none
    entry_points: Tuple[str, ...] = ()
    initializer_methods: Tuple[str, ...] = ()
    spawners: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = ()
    select: Optional[Tuple[str, ...]] = None  # None: every rule
    ignore: Tuple[str, ...] = ()
    baseline: Optional[Path] = None  # absolute; relative values are taken from the root
    project_scripts: Tuple[str, ...] = ()  # "module:qual" of [project.scripts]/gui-scripts
    # [project] requires-python as written (any type: syntax.python_target reads it and
    # falls back to the running interpreter, never an error); None when absent.
    requires_python: Optional[object] = None
    # Directories top-level packages live in, relative to the root, "/"-separated and
    # normalised ("." is the root); they take precedence over the detected ones.
    source_roots: Tuple[str, ...] = ()


def find_project_root(paths: Sequence[os.PathLike] | Sequence[str]) -> Path:
    """The nearest directory at or above the first path that holds a pyproject.toml.

    Without one, the root of the git work tree that holds the first path: a repository
    without pyproject.toml is still one project, and pre-commit passes files from anywhere
    in it. Without either, the first path when it is a directory, else its directory.
    """
    first = Path(paths[0]).resolve() if paths else Path(".").resolve()
    start = first if first.is_dir() else first.parent
    for candidate in (start, *start.parents):
        if (candidate / PYPROJECT).is_file():
            return candidate
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():  # a directory, or a file in worktrees and submodules
            return candidate
    return start


def load_config(root: Path) -> Config:
    """Read `<root>/pyproject.toml`; raise ConfigError (one line) when it is bad."""
    path = Path(root) / PYPROJECT
    if not path.is_file():
        return Config()
    shown = display_path(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{shown}: cannot read: {error.strerror or error}") from None
    except ValueError as error:  # TOMLDecodeError and UnicodeDecodeError
        raise ConfigError(f"{shown}: invalid TOML: {one_line(error)}") from None

    table = document.get("tool", {})
    table = table.get("nilcheck", {}) if isinstance(table, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [tool.nilcheck] must be a table")
    values = _validate_table(table, shown)
    where = f"{shown}: [tool.nilcheck] 'source-roots'"
    source_roots = [_source_root(Path(root), item, where)
                    for item in values.get("source-roots", ())]
    baseline = values.get("baseline")
    return Config(
        path=path,
        entry_points=values.get("entry-points", ()),
        initializer_methods=values.get("initializer-methods", ()),
        spawners=values.get("spawners", ()),
        exclude=values.get("exclude", ()),
        select=values.get("select"),
        ignore=values.get("ignore", ()),
        baseline=(Path(root) / baseline) if baseline else None,
        project_scripts=_project_scripts(document),
        requires_python=_requires_python(document),
        source_roots=tuple(dict.fromkeys(source_roots)),
    )


def _validate_table(table: Dict[str, Any], shown: str) -> Dict[str, Any]:
    where = f"{shown}: [tool.nilcheck]"
    values: Dict[str, Any] = {}
    for key in sorted(table):
        if key not in KEYS:
            raise ConfigError(f"{where} unknown key {key!r}{_did_you_mean(key)}")
        value = table[key]
        if KEYS[key] == "str":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    f"{where} {key!r} must be a non-empty string, got {_type_name(value)}"
                )
            values[key] = value
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(
                f"{where} {key!r} must be a list of strings, got {_type_name(value)}"
            )
        items = tuple(item.strip() for item in value)
        for item in items:
            problem = _item_problem(key, item)
            if problem:
                raise ConfigError(f"{where} {key!r}: {problem}")
        values[key] = items
    return values


def _item_problem(key: str, item: str) -> Optional[str]:
    """Why one list item is invalid for key, or None."""
    if key == "entry-points":
        return entry_point_problem(item)
    if key == "initializer-methods" and not item.isidentifier():
        return f"{item!r} is not a method name"
    if key == "spawners" and not is_dotted_name(item.replace(":", ".")):
        return f"{item!r} is not a qualified callable like 'module.function'"
    if key in ("select", "ignore"):
        return rule_code_problem(item)
    if key == "exclude" and not item:
        return "empty glob"
    if key == "source-roots" and not item:
        return "empty path (the project root is '.')"
    return None


def _source_root(root: Path, item: str, where: str) -> str:
    """item as a normalised "/"-separated directory relative to root; ConfigError when it
    is not a directory inside the project."""
    posix = item.replace("\\", "/")
    if os.path.isabs(item) or posixpath.isabs(posix):
        raise ConfigError(f"{where}: {item!r} must be relative to the project root")
    if "\0" in item:
        raise ConfigError(f"{where}: {item!r} is not a path (it holds a NUL character)")
    normal = posixpath.normpath(posix)
    directory = root / normal
    try:
        # Lexically too: the roots name the files below them by these relative paths.
        inside = normal != ".." and not normal.startswith("../") \
            and directory.resolve().is_relative_to(root.resolve())
        is_directory = inside and directory.is_dir()
    except (OSError, ValueError, RuntimeError) as error:  # too long, a link loop (<3.13)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ConfigError(f"{where}: {item[:80]!r} is not a usable path ({reason})") from None
    if not inside:
        raise ConfigError(f"{where}: {item!r} is outside the project root")
    if not is_directory:
        raise ConfigError(f"{where}: {item!r} is not a directory under the project root")
    return normal


def entry_point_problem(value: str) -> Optional[str]:
    """Why value is not a "module:Qual.name" entry point, or None when it is one."""
    module, colon, qual = value.partition(":")
    if not colon or not is_dotted_name(module) or not is_dotted_name(qual):
        return f"{value!r} is not of the form 'module:Qual.name'"
    return None


def rule_code_problem(code: str) -> Optional[str]:
    known = known_rule_codes()
    if code in known:
        return None
    return f"unknown rule code {code!r} (known codes: {', '.join(known)})"


def known_rule_codes() -> Tuple[str, ...]:
    # Imported late: the rule table imports every rule module, which config must not
    # need just to find the project root.
    from nilcheck.rules import RULES

    return tuple(sorted(RULES))


def is_dotted_name(value: str) -> bool:
    return bool(value) and all(part.isidentifier() for part in value.split("."))


def _project_scripts(document: Dict[str, Any]) -> Tuple[str, ...]:
    """Targets of [project.scripts] and [project.gui-scripts] as "module:qual"."""
    project = document.get("project")
    if not isinstance(project, dict):
        return ()
    targets = set()
    for table_name in ("scripts", "gui-scripts"):
        table = project.get(table_name)
        if not isinstance(table, dict):
            continue
        for value in table.values():
            if not isinstance(value, str):
                continue
            # "pkg.cli:main [extra]": the extras name optional dependencies, not code.
            target = value.split("[", 1)[0].strip().replace(" ", "")
            if entry_point_problem(target) is None:
                targets.add(target)
    return tuple(sorted(targets))


def _requires_python(document: Dict[str, Any]) -> Optional[object]:
    project = document.get("project")
    return project.get("requires-python") if isinstance(project, dict) else None


def _did_you_mean(key: str) -> str:
    candidates = difflib.get_close_matches(key.replace("_", "-"), list(KEYS), n=1, cutoff=0.6)
    return f" (did you mean {candidates[0]!r}?)" if candidates else ""


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        bad = sorted({type(item).__name__ for item in value if not isinstance(item, str)})
        return f"a list containing {', '.join(bad)}"
    return {dict: "a table", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def display_path(path: Path) -> str:
    """path relative to the working directory when it is below it, for short messages."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def split_codes(values: Iterable[str]) -> Tuple[str, ...]:
    """"NIL001,NIL002" pieces (possibly repeated) as a tuple of stripped codes."""
    codes = []
    for value in values:
        codes.extend(piece.strip().upper() for piece in value.split(",") if piece.strip())
    return tuple(codes)
