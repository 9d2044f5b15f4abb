"""Finds the Python files of a project, every `*.py` under the root minus tool and
environment directories and the configured `exclude` globs, and names each one by the
dotted module name Python imports it by.

Discovery never raises for a bad path: an unreadable file or directory becomes a
FileError and the walk goes on. Symlinks are handled so that nothing outside the root is
read and no link can make the walk loop.

Module names, the rule (mypy's `explicit_package_bases` with namespace packages, over
the source roots ruff's `src` and pyright's `extraPaths` would list):

1. A file's module name is its path from the innermost *source root* that holds it,
   every directory in between being a package, with or without `__init__.py` (PEP 420
   namespace packages: `custom_components/hue/light.py` is `custom_components.hue.light`).
   A root's own `__init__.py` is named after its directory.
2. The source roots are the `source-roots` of the configuration, which take precedence
   over every detected one, and those found from the project: the project root; every
   directory below it with its own pyproject.toml, setup.cfg or setup.py (a project of a
   monorepo); the roots each project's packaging metadata declares (setuptools `where`
   and `package-dir`, poetry `from`, hatch `packages` / `sources`, pdm `package-dir`,
   maturin `python-source`: see manifests.py), or else its `src/` directory. A detected
   root is never a directory holding `__init__.py`: that is a package, named from its
   parent; only the project root may be one, and then it is the package named after it
   (`django/` scanned alone is still `django`).
3. A directory whose name is not an identifier (`my-scripts/`, `.github/`) cannot be a
   package: what is below it is named from it, as `python my-scripts/tool.py` would
   import its neighbours.
4. Two files with the same name: the one from the root of precedence wins (configured,
   then innermost, then a package over a module); the other is named from a root further
   out (`services/b/app/main.py` is `services.b.app.main` when `services/a/app/main.py` is
   `app.main`), with a warning, or is not analysed when no other name is left.
"""
from __future__ import annotations

import errno
import os
import posixpath
import stat
from dataclasses import dataclass
from fnmatch import fnmatchcase
from operator import attrgetter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from nilcheck.linter.ftypes import ConfigError, FileError
from nilcheck.linter.manifests import declared_roots

# Directories that hold tools' state, build output or third-party code, never the project.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".venv",
        "__pycache__",
        "node_modules",
        "build",
        "dist",
        ".nilcheck_cache",
        ".mypy_cache",
        ".pytest_cache",
    }
)


_by_name = attrgetter("name")


def discover_files(root: Path, exclude_globs: Iterable[str] = ()) -> Tuple[List[Path], List[FileError]]:
    """Absolute paths of the project's .py files, sorted by relative posix path, and the
    errors met on the way (sorted)."""
    root = Path(root).resolve()
    globs = tuple(_normalise_glob(glob) for glob in exclude_globs if glob.strip())
    found: List[Tuple[str, Path]] = []
    errors: List[FileError] = []
    _walk(root, globs, found, errors)
    found.sort(key=lambda item: item[0])
    errors.sort(key=lambda error: error.sort_key)
    return [path for _, path in found], errors


def relpath(root: Path, path: Path) -> str:
    """path relative to root with "/" separators; the resolved path is tried second so a
    symlinked working directory still matches a resolved root."""
    root = Path(root)
    path = Path(path)
    for candidate_root, candidate in (
        (root, Path(os.path.abspath(path))),
        (root.resolve(), path.resolve()),
    ):
        try:
            return candidate.relative_to(candidate_root).as_posix()
        except ValueError:
            continue
    return Path(os.path.relpath(path, root)).as_posix()


def is_excluded(rel: str, globs: Iterable[str]) -> bool:
    """Whether the relative posix path rel, or a directory above it, matches a glob.

    fnmatch semantics on the whole path and on each leading prefix ("tests/*",
    "legacy/**", "pkg/generated.py"); a glob without "/" also matches any single path
    component ("generated.py", "*_pb2.py"), as in .gitignore.
    """
    globs = tuple(_normalise_glob(glob) for glob in globs if glob.strip())
    parts = rel.split("/")
    return any(
        _matches_here("/".join(parts[: index + 1]), part, globs) for index, part in enumerate(parts)
    )


def _matches_here(rel: str, name: str, globs: Tuple[str, ...]) -> bool:
    """is_excluded for rel alone, its ancestors aside: the walk has checked them already."""
    for glob in globs:
        patterns = (glob, glob[3:]) if glob.startswith("**/") else (glob,)  # "**/x" matches "x"
        for pattern in patterns:
            if fnmatchcase(rel, pattern) or fnmatchcase(rel + "/", pattern):
                return True
            if "/" not in pattern and fnmatchcase(name, pattern):
                return True
    return False


def _normalise_glob(glob: str) -> str:
    glob = glob.strip().replace("\\", "/")
    while glob.startswith("./"):
        glob = glob[2:]
    # "/build" anchors at the root, which every glob here already is; "build/" means the
    # directory, which prefix matching already covers.
    return glob.strip("/") or glob


def _walk(
    root: Path,
    globs: Tuple[str, ...],
    found: List[Tuple[str, Path]],
    errors: List[FileError],
) -> None:
    # An explicit stack rather than recursion: a deep tree must not hit the recursion limit.
    # Directories travel as strings: a project can have thousands (Django: 2455, mostly
    # locale data), and a Path per directory was a third of the walk.
    pending: List[Tuple[str, str]] = [(str(root), "")]
    visited: Set[Tuple[int, int]] = set()
    while pending:
        directory, rel_dir = pending.pop()
        try:
            identity = _identity(os.stat(directory))
            if identity in visited:  # a bind mount or similar cycle back to a walked directory
                continue
            visited.add(identity)
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=_by_name)
        except OSError as error:
            errors.append(FileError(rel_dir or ".", 1, f"cannot read directory: {_reason(error)}"))
            continue
        if rel_dir and _is_environment(entries):
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if globs and _matches_here(rel, entry.name, globs):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as error:
                errors.append(FileError(rel, 1, f"cannot read: {_reason(error)}"))
                continue
            if is_link:
                # Never walk a linked directory: a target inside the root is walked under
                # its own path anyway (or was excluded on purpose), one outside must not
                # be read, and not following is what makes link loops impossible.
                if entry.name.endswith(".py"):
                    _add_linked_file(root, Path(entry.path), rel, found, errors)
            elif is_dir:
                if entry.name not in SKIPPED_DIRS and not entry.name.endswith(".egg-info"):
                    pending.append((entry.path, rel))
            elif entry.name.endswith(".py"):
                # The listing's file type spares the stat of a regular file (most of them).
                _add_file(Path(entry.path), rel, found, errors,
                          regular=entry.is_file(follow_symlinks=False))


def _is_environment(entries: List[os.DirEntry]) -> bool:
    """Any virtual environment, whatever its name (venv, env, .env311...), has pyvenv.cfg;
    a plain package called "env" does not and is still analysed. (Read from the listing
    the walk has anyway, rather than a stat per directory.)"""
    for entry in entries:
        if entry.name == "pyvenv.cfg":
            try:
                return entry.is_file()
            except OSError:
                return False
    return False


def _add_linked_file(
    root: Path, path: Path, rel: str, found: List[Tuple[str, Path]], errors: List[FileError]
) -> None:
    try:
        target = Path(os.path.realpath(path))
        os.stat(path)  # raises ELOOP for a link cycle, ENOENT for a dangling link
    except OSError as error:
        if error.errno == errno.ELOOP:
            errors.append(FileError(rel, 1, "cannot read: symlink loop"))
        else:
            errors.append(FileError(rel, 1, f"cannot read: broken symlink ({_reason(error)})"))
        return
    if target != root and root not in target.parents:
        return  # resolves outside the project: never read
    _add_file(path, rel, found, errors)


def _add_file(path: Path, rel: str, found: List[Tuple[str, Path]], errors: List[FileError],
              regular: bool = False) -> None:
    try:
        mode = stat.S_IFREG if regular else os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return  # reached through a link; directories are never files
        if not stat.S_ISREG(mode):
            errors.append(FileError(rel, 1, "cannot read: not a regular file"))
            return
        # Opening proves readability now, so the engine never meets an unreadable file;
        # O_NONBLOCK keeps a FIFO that slipped past the check from hanging the scan.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        os.close(descriptor)
    except OSError as error:
        errors.append(FileError(rel, 1, f"cannot read: {_reason(error)}"))
        return
    found.append((rel, path))


def _identity(status: os.stat_result) -> Tuple[int, int]:
    return (status.st_dev, status.st_ino)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


# Files that make a directory a project of its own: a root of a monorepo.
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")

# (group, path key): configured roots, the project root, other detected roots, then
# non-identifier directories
Precedence = Tuple[int, Tuple[Tuple[int, str], ...]]


@dataclass(frozen=True)
class SourceRoot:
    """A directory top-level packages live in: what a sys.path entry would be.

    directory is relative to the project root ("" for the root itself), with "/";
    package is the dotted package the directory itself is, when the packaging metadata
    maps one onto it (`package-dir = {"app" = "lib"}`: lib/ is `app`), else "".
    """

    directory: str
    package: str = ""
    configured: bool = False

    def holds(self, directory: str) -> bool:
        return not self.directory or directory == self.directory \
            or directory.startswith(self.directory + "/")

    def parts_to(self, directory: str) -> List[str]:
        """The directory names from this root down to directory (which it holds)."""
        below = directory[len(self.directory) + 1:] if self.directory else directory
        return below.split("/") if below else []

    @property
    def order(self) -> Precedence:
        """Which of the roots holding a directory names it: configured roots first, then
        the innermost."""
        return _precedence(0 if self.configured else 1, self.directory)

    @property
    def precedence(self) -> Precedence:
        """Which root's file keeps a name two files have: a configured root's, the
        project root's, another root's (a root inside another before it, then path
        order), in that order."""
        return _precedence(0 if self.configured else 1 if not self.directory else 2,
                           self.directory)


@dataclass(frozen=True)
class _Directory:
    """What the files of one directory are named from."""

    package: str  # the directory's dotted package name ("" directly in a root)
    base: str  # the root it is named from, or the non-identifier directory below it
    precedence: Precedence  # of base, for name conflicts
    mapped: bool = False  # base is a directory that package-dir makes a package


class ModuleNamer:
    """Names a project's files as Python imports them (see this module's docstring).

    Works on paths relative to the root, as strings: a project has thousands of files.
    Each directory is looked at once (the project files it holds, whether it is a
    package), and each project's metadata is read once.
    """

    def __init__(self, root: os.PathLike | str, source_roots: Sequence[str] = ()) -> None:
        self.root = os.fspath(root)
        configured: Dict[str, SourceRoot] = {}
        for directory in source_roots:
            normal = posixpath.normpath(directory.replace("\\", "/").strip() or ".")
            normal = "" if normal == "." else normal.strip("/")
            configured.setdefault(normal, SourceRoot(normal, configured=True))
        self.configured: Tuple[SourceRoot, ...] = tuple(configured.values())
        # Filled by names(): which files are named from a root further out and why, and
        # the files left without a name.
        self.warnings: List[str] = []
        self.unnamed: Dict[str, FileError] = {}
        self._files: Optional[Set[str]] = None  # every file to name, when known
        self._package_dirs: Optional[Set[str]] = None  # directories with __init__.py
        self._detected_above: Dict[str, Tuple[SourceRoot, ...]] = {}
        self._directories: Dict[str, _Directory] = {}
        # A package directory or module file whose name another base's file has: the
        # bases it is not named from any more.
        self._demoted: Dict[str, Set[str]] = {}

    def name_of(self, relative: str) -> Tuple[str, bool]:
        """(module name, is_package) of one file, conflicts with others aside."""
        directory, _, filename = relative.rpartition("/")
        if relative in self._demoted:
            named_from = self._named_from(directory, self._excluded(directory)
                                          | self._demoted[relative])
        else:
            named_from = self._directory(directory)
        if filename == "__init__.py":
            return (named_from.package or os.path.basename(directory or self.root)
                    or "__init__"), True
        stem = filename[:-3] if filename.endswith(".py") else os.path.splitext(filename)[0]
        return (f"{named_from.package}.{stem}" if named_from.package else stem), False

    def names(self, relatives: Iterable[str]) -> Dict[str, Tuple[str, bool]]:
        """(module name, is_package) of every file, no two alike.

        When files of two bases (roots, or non-identifier directories) have one name,
        the file of the base of precedence keeps it. The other's outermost regular
        package (or, outside one, the module itself) is named from the next root out
        instead, as a whole, as Python would never import it by that name; a warning
        says so. Two files of one base with one name (`mod.py` beside `mod/`): the
        package keeps it, the module is left out and self.unnamed says why.
        """
        relatives = list(relatives)
        self._files = set(relatives)
        self._package_dirs = {relative[:-len("/__init__.py")] if relative != "__init__.py"
                              else "" for relative in relatives
                              if relative == "__init__.py" or relative.endswith("/__init__.py")}
        # (loser base, winner base) -> (name the unit had, winner file, unit)
        moved: Dict[Tuple[str, str], List[Tuple[str, str, str]]] = {}
        while True:
            named = {relative: self.name_of(relative) for relative in relatives}
            claims: Dict[str, List[str]] = {}
            for relative, (name, _) in named.items():
                claims.setdefault(name, []).append(relative)
            losers = self._losers(named, [c for c in claims.values() if len(c) > 1])
            demote: Dict[str, Tuple[str, str, str]] = {}
            for relative, winner in losers:
                base, winner_base = self._base(relative), self._base(winner)
                if base and base != winner_base:  # the project root has no root further out
                    unit, unit_name = self._unit(relative, named[relative][0])
                    demote.setdefault(unit, (base, winner_base, unit_name, winner))
            if not demote:
                break
            for unit, (base, winner_base, unit_name, winner) in sorted(demote.items()):
                self._demoted.setdefault(unit, set()).add(base)
                moved.setdefault((base, winner_base), []).append((unit_name, winner, unit))
            self._directories.clear()
        for relative, winner in losers:
            name = named.pop(relative)[0]
            why = "a package over a module" if named[winner][1] else "its root's"
            self.unnamed[relative] = FileError(
                relative, 1, f"not analysed: its module name '{name}' is {winner}'s, which "
                             f"takes precedence ({why})")
        for (base, winner_base), units in sorted(moved.items()):
            taken = sorted({unit_name for unit_name, _, _ in units})
            shown = ", ".join(f"'{name}'" for name in taken[:3]) + (", ..." if taken[3:] else "")
            unit_name, winner, unit = units[0]
            now = named.get(unit) or named.get(f"{unit}/__init__.py")
            self.warnings.append(
                f"{base}/: {shown} {'is' if len(taken) == 1 else 'are'} also under "
                f"{winner_base or '.'}/ (e.g. {winner}), which takes precedence: named from "
                f"a root further out instead" + (f" (e.g. '{now[0]}')" if now else "")
                + f", and imports of {'it' if len(taken) == 1 else 'them'} reach "
                  f"{winner_base or '.'}/")
        return named

    def roots(self) -> List[SourceRoot]:
        """The roots met so far (every one, once names() has run), by precedence."""
        found = {root.directory: root for above in self._detected_above.values()
                 for root in above}
        found.update((root.directory, root) for root in self.configured)
        return sorted(found.values(), key=lambda root: root.precedence)

    def _losers(self, named: Dict[str, Tuple[str, bool]],
                conflicts: List[List[str]]) -> List[Tuple[str, str]]:
        """(loser, winner) of every file that does not keep its name: the winner is
        the file of the base of precedence, a package over a module, then the first path."""
        losers = []
        for claimants in conflicts:
            ordered = sorted(claimants, key=lambda relative: (
                self._directory(relative.rpartition("/")[0]).precedence,
                not named[relative][1], relative))
            losers.extend((relative, ordered[0]) for relative in ordered[1:])
        return sorted(losers)

    def _unit(self, relative: str, name: str) -> Tuple[str, str]:
        """What Python would not import from relative's base, and its name: the
        outermost regular package holding relative, or else relative itself (a module,
        or a module of a namespace package, whose other modules may still be imported)."""
        directory = relative.rpartition("/")[0]
        named_from = self._directory(directory)
        if named_from.mapped:
            return named_from.base, named_from.package.rpartition(".")[0] or named_from.package
        current = named_from.base
        below = directory[len(current):].lstrip("/") if current else directory
        for part in below.split("/") if below else []:
            current = _join(current, part)
            if self._is_package(current):
                return current, self._directory(current).package
        return relative, name

    def _base(self, relative: str) -> str:
        return self._directory(relative.rpartition("/")[0]).base

    def _directory(self, directory: str) -> _Directory:
        known = self._directories.get(directory)
        if known is None:
            known = self._named_from(directory, self._excluded(directory))
            self._directories[directory] = known
        return known

    def _excluded(self, directory: str) -> Set[str]:
        """The bases that the demoted packages holding directory may not be named from."""
        excluded: Set[str] = set()
        for unit, bases in self._demoted.items():
            if directory == unit or directory.startswith(unit + "/"):
                excluded |= bases
        return excluded

    def _named_from(self, directory: str, excluded: Set[str]) -> _Directory:
        roots = sorted({root.directory: root for root in
                        (*self._detected(directory), *self.configured)
                        if root.holds(directory)}.values(),
                       key=lambda root: root.order)
        # The project root holds every directory, and is never excluded.
        first = next(root for root in roots if root.directory not in excluded)
        parts = first.parts_to(directory)
        unimportable = [index for index, part in enumerate(parts) if not part.isidentifier()]
        base = "/".join(filter(None, (first.directory, *parts[:unimportable[-1] + 1]))) \
            if unimportable else first.directory
        if unimportable and base not in excluded:
            return _Directory(".".join(parts[unimportable[-1] + 1:]), base, _precedence(3, base))
        # Excluded, the name is the path from the root: no import can name it.
        return _Directory(".".join(filter(None, (first.package, *parts))), first.directory,
                          first.precedence, mapped=bool(first.package))

    def _detected(self, directory: str) -> Tuple[SourceRoot, ...]:
        """The roots declared by the projects at or above directory."""
        pending: List[str] = []
        current = directory
        while current not in self._detected_above:
            pending.append(current)
            if not current:
                break
            current = current.rpartition("/")[0]
        inherited = self._detected_above.get(current, ())
        for below in reversed(pending):
            if self._is_project(below):
                inherited = inherited + self._project_roots(below)
            self._detected_above[below] = inherited
        return inherited

    def _is_project(self, directory: str) -> bool:
        if not directory:
            return True
        return not self._is_package(directory) and bool(self._project_files(directory))

    def _project_roots(self, project: str) -> Tuple[SourceRoot, ...]:
        own = SourceRoot(project, self._root_package() if not project else "")
        roots: Dict[str, SourceRoot] = {project: own}
        declared = declared_roots(self._absolute(project), self._project_files(project))
        for directory, package in declared:
            directory = _join(project, directory)
            if directory not in roots or (roots[directory] is own and package):
                roots[directory] = SourceRoot(directory, package)
        source = _join(project, "src")
        if not declared and not self._is_package(source) \
                and os.path.isdir(self._absolute(source)):
            roots[source] = SourceRoot(source)
        return tuple(roots.values())

    def _root_package(self) -> str:
        """The project root's own package name, when it is a package."""
        name = os.path.basename(os.path.abspath(self.root))
        return name if name.isidentifier() and self._is_package("") else ""

    def _project_files(self, directory: str) -> List[str]:
        present = []
        for filename in PROJECT_FILES:
            relative = _join(directory, filename)
            if filename.endswith(".py") and self._files is not None:
                if relative in self._files:
                    present.append(filename)
            elif os.path.isfile(self._absolute(relative)):
                present.append(filename)
        return present

    def _is_package(self, directory: str) -> bool:
        if self._package_dirs is not None:
            return directory in self._package_dirs
        return os.path.isfile(self._absolute(_join(directory, "__init__.py")))

    def _absolute(self, relative: str) -> str:
        return os.path.join(self.root, relative) if relative else self.root


def module_name_for(root: Path, path: Path,
                    source_roots: Optional[Sequence[str]] = None) -> Tuple[str, bool]:
    """(module name, is_package) of the file at path, as the engine names it when no
    other file claims the same name. source_roots default to the configuration's.

    One file at a time, reading the metadata of the projects above it each time: a
    scan names all its files at once with ModuleNamer.names."""
    if source_roots is None:
        from nilcheck.linter.config import load_config  # only here: a scan passes its own

        try:
            source_roots = load_config(Path(root)).source_roots
        except ConfigError:
            source_roots = ()
    return ModuleNamer(root, source_roots).name_of(relpath(root, path))


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory and name else directory or name


def _precedence(group: int, directory: str) -> Precedence:
    """Roots by group, then a root inside another before it, then path order."""
    parts = directory.split("/") if directory else []
    return (group, tuple((0, part) for part in parts) + ((1, ""),))
