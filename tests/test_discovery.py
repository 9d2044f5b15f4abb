"""File discovery: skipped directories, exclude globs, symlinks, unreadable paths."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nilcheck.linter import engine
from nilcheck.linter.discovery import discover_files, is_excluded, relpath


def make(root: Path, *relative: str) -> None:
    for rel in relative:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def rels(root: Path, files) -> list:
    return [relpath(root, path) for path in files]


def test_finds_py_files_sorted_and_absolute(tmp_path):
    make(tmp_path, "b.py", "a/z.py", "a/b/c.py", "a.py", "notes.txt", "a/data.pyc")
    files, errors = discover_files(tmp_path)
    assert errors == []
    assert rels(tmp_path, files) == ["a.py", "a/b/c.py", "a/z.py", "b.py"]
    assert all(path.is_absolute() for path in files)


def test_tool_and_environment_directories_are_skipped(tmp_path):
    make(
        tmp_path,
        "pkg/mod.py",
        ".git/hooks/x.py",
        ".hg/x.py",
        ".tox/py311/x.py",
        ".nox/x.py",
        ".venv/lib/x.py",
        "pkg/__pycache__/x.py",
        "node_modules/x.py",
        "build/lib/x.py",
        "dist/x.py",
        ".nilcheck_cache/x.py",
        "pkg.egg-info/x.py",
        "venv/lib/x.py",
        "venv/pyvenv.cfg",
        "envs/py311/lib/x.py",
        "envs/py311/pyvenv.cfg",
        # No pyvenv.cfg: a package that happens to be called env is project code.
        "app/env/settings.py",
    )
    files, errors = discover_files(tmp_path)
    assert errors == []
    assert rels(tmp_path, files) == ["app/env/settings.py", "pkg/mod.py"]


@pytest.mark.parametrize(
    "glob, expected",
    [
        ("tests/*", ["app/core.py", "app/tests/t.py", "legacy/old.py", "pkg/generated.py"]),
        ("legacy/**", ["app/core.py", "app/tests/t.py", "pkg/generated.py", "tests/test_a.py"]),
        ("generated.py", ["app/core.py", "app/tests/t.py", "legacy/old.py", "tests/test_a.py"]),
        ("pkg/generated.py", ["app/core.py", "app/tests/t.py", "legacy/old.py", "tests/test_a.py"]),
        ("**/tests/*", ["app/core.py", "legacy/old.py", "pkg/generated.py"]),
        ("./legacy/", ["app/core.py", "app/tests/t.py", "pkg/generated.py", "tests/test_a.py"]),
        ("legacy", ["app/core.py", "app/tests/t.py", "pkg/generated.py", "tests/test_a.py"]),
        ("*_a.py", ["app/core.py", "app/tests/t.py", "legacy/old.py", "pkg/generated.py"]),
    ],
)
def test_exclude_globs(tmp_path, glob, expected):
    make(tmp_path, "app/core.py", "app/tests/t.py", "legacy/old.py", "pkg/generated.py", "tests/test_a.py")
    files, errors = discover_files(tmp_path, [glob])
    assert errors == []
    assert rels(tmp_path, files) == expected


def test_is_excluded_does_not_match_partial_names():
    assert not is_excluded("legacy_new/mod.py", ["legacy"])
    assert not is_excluded("mytests/a.py", ["tests/*"])
    # The directory itself matches too, so the walk prunes it instead of testing each file.
    assert is_excluded("tests", ["tests/*"])
    assert is_excluded("tests/a.py", ["tests/*"])


def test_symlink_loops_terminate(tmp_path):
    make(tmp_path, "a/mod.py")
    os.symlink(tmp_path, tmp_path / "loop")  # points at the root
    os.symlink("..", tmp_path / "a" / "up")  # points at its parent
    os.symlink("cycle2.py", tmp_path / "cycle1.py")
    os.symlink("cycle1.py", tmp_path / "cycle2.py")
    files, errors = discover_files(tmp_path)
    assert rels(tmp_path, files) == ["a/mod.py"]
    assert [(error.file, error.line) for error in errors] == [("cycle1.py", 1), ("cycle2.py", 1)]
    assert all("symlink loop" in error.message for error in errors)


def test_symlinks_escaping_root_are_not_followed(tmp_path):
    project = tmp_path / "project"
    outside = tmp_path / "outside"
    make(project, "app.py")
    make(outside, "secret.py")
    os.symlink(outside, project / "vendored")
    os.symlink(outside / "secret.py", project / "secret.py")
    os.symlink("../outside/secret.py", project / "relative_secret.py")
    files, errors = discover_files(project)
    assert rels(project, files) == ["app.py"]
    assert errors == []


def test_symlinked_file_inside_root_is_a_module(tmp_path):
    make(tmp_path, "pkg/real.py")
    os.symlink("pkg/real.py", tmp_path / "alias.py")
    files, errors = discover_files(tmp_path)
    assert rels(tmp_path, files) == ["alias.py", "pkg/real.py"]
    assert errors == []


def test_broken_symlink_is_an_error(tmp_path):
    os.symlink("missing.py", tmp_path / "dangling.py")
    files, errors = discover_files(tmp_path)
    assert files == []
    assert [(error.file, error.line) for error in errors] == [("dangling.py", 1)]
    assert "broken symlink" in errors[0].message


def test_directory_named_like_a_module_is_not_a_file(tmp_path):
    make(tmp_path, "a.py/inner.py", "b.py")
    files, errors = discover_files(tmp_path)
    assert rels(tmp_path, files) == ["a.py/inner.py", "b.py"]
    assert errors == []


def test_unreadable_file_is_an_error_not_an_exception(tmp_path, monkeypatch):
    # Tests run as root, for whom chmod 000 does not stop a read; make os.open fail for
    # that one path instead, the way it fails for an ordinary user.
    make(tmp_path, "ok.py", "locked.py")
    locked = str(tmp_path / "locked.py")
    real_open = os.open

    def failing_open(path, flags, *args, **kwargs):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    files, errors = discover_files(tmp_path)
    assert rels(tmp_path, files) == ["ok.py"]
    assert [(error.file, error.line, error.message) for error in errors] == [
        ("locked.py", 1, "cannot read: Permission denied")
    ]


def test_unreadable_directory_is_an_error_not_an_exception(tmp_path, monkeypatch):
    # As above: root reads every directory, so os.scandir is made to fail for one.
    make(tmp_path, "ok.py", "private/hidden.py")
    private = str(tmp_path / "private")
    real_scandir = os.scandir

    def failing_scandir(path="."):
        if os.fspath(path) == private:
            raise PermissionError(13, "Permission denied", private)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", failing_scandir)
    files, errors = discover_files(tmp_path)
    assert rels(tmp_path, files) == ["ok.py"]
    assert [(error.file, error.line) for error in errors] == [("private", 1)]
    assert "cannot read directory" in errors[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_named_like_a_module_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    files, errors = discover_files(tmp_path)
    assert files == []
    assert [(error.file, error.message) for error in errors] == [
        ("pipe.py", "cannot read: not a regular file")
    ]


def test_relpath_is_posix_and_relative(tmp_path):
    assert relpath(tmp_path, tmp_path / "a" / "b.py") == "a/b.py"
    assert relpath(tmp_path, tmp_path) == "."


def test_deep_tree_does_not_hit_the_recursion_limit(tmp_path):
    # A tree deeper than the recursion limit allows, made cheap by lowering the limit
    # (a real 1000-deep tree would also break rmtree when pytest cleans up).
    import inspect
    import sys

    deep = tmp_path
    for _ in range(120):
        deep = deep / "d"
        deep.mkdir()
    (deep / "m.py").write_text("")
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 60)
    try:
        files, errors = discover_files(tmp_path, ["nothing/*"])
    finally:
        sys.setrecursionlimit(old_limit)
    assert errors == [] and len(files) == 1 and files[0].name == "m.py"


def test_read_sources_names_modules_from_packages_however_paths_are_given(tmp_path):
    for rel in ("app/__init__.py", "app/core/__init__.py", "app/core/server.py",
                "app/.hidden/tool.py", "scripts/run.py", "top.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"# {rel}\n")
    given = [tmp_path / "app" / "core" / "server.py",  # absolute, as discovery gives them
             "app/__init__.py",  # relative to the root
             str(tmp_path / "app" / "." / "core" / "__init__.py"),  # not normalised
             tmp_path / "app" / ".hidden" / "tool.py",  # a hidden directory
             Path("scripts/run.py"), tmp_path / "top.py"]
    sources, unreadable = engine.read_sources(tmp_path, given)
    assert unreadable == {}
    read = [(rel, name, package, source) for rel, source, name, package in sources.values()]
    assert read == [  # in path order
        ("app/.hidden/tool.py", "tool", False, b"# app/.hidden/tool.py\n"),
        ("app/__init__.py", "app", True, b"# app/__init__.py\n"),
        ("app/core/__init__.py", "app.core", True, b"# app/core/__init__.py\n"),
        ("app/core/server.py", "app.core.server", False, b"# app/core/server.py\n"),
        # A directory without __init__.py is a namespace package under the root.
        ("scripts/run.py", "scripts.run", False, b"# scripts/run.py\n"),
        ("top.py", "top", False, b"# top.py\n"),
    ]
    assert all(key == job[0] for key, job in sources.items())
