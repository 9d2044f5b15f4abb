"""Finds the Python files of a project: every `*.py` under the root, minus tool and
environment directories and the configured `exclude` globs.

Discovery never raises for a bad path: an unreadable file or directory becomes a
FileError and the walk goes on. Symlinks are handled so that nothing outside the root is
read and no link can make the walk loop.
"""
from __future__ import annotations

import errno
import os
import stat
from fnmatch import fnmatchcase
from operator import attrgetter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from nilcheck.linter.ftypes import FileError

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


def module_name_for(root: Path, path: Path,
                    packages: Optional[Dict[str, Tuple[str, ...]]] = None) -> Tuple[str, bool]:
    """Dotted module name from the package structure (__init__.py files), so that
    `src/app/server.py` is `app.server` whatever folder it sits in. packages, when
    given, remembers each directory's package path across calls (one scan's).

    Works on strings (paths as given, normalised): a project has thousands of files, and
    Path objects made a third of the time of reading them all."""
    directory, filename = os.path.split(os.fspath(path))
    is_package = filename == "__init__.py"
    parts = list(_package_parts(os.fspath(root), directory, {} if packages is None else packages))
    if not is_package:
        parts.append(os.path.splitext(filename)[0])
    if not parts:
        parts = [os.path.basename(directory) or "__init__"]
    return ".".join(parts), is_package


def _package_parts(root: str, directory: str,
                   packages: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    """The names of the packages directory is nested in, itself included."""
    unknown: List[str] = []  # walked up from directory, innermost first
    known: Optional[Tuple[str, ...]] = None
    while known is None:
        known = packages.get(directory)
        if known is not None:
            break
        parent = os.path.dirname(directory)
        if not os.path.isfile(os.path.join(directory, "__init__.py")) or directory == parent:
            known = ()
            packages[directory] = known
            break
        unknown.append(directory)
        if directory == root:
            known = ()
            break
        directory = parent
    for package in reversed(unknown):
        known = known + (os.path.basename(package),)
        packages[package] = known
    return known
