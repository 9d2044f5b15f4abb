"""The pre-commit hook, end to end: the real `pre-commit`, a real git repository, real commits.

pre-commit installs a hook from a git revision, so the hook repository here is a throwaway
clone of this checkout with the working tree's packaging, engine, rules and
`.pre-commit-hooks.yaml` committed on top: the test checks the working tree, not the last
commit. The hook's environment is installed once per module (pip, from the package index)
and shared by every test through PRE_COMMIT_HOME.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is not installed (it is in the test extra)")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

pytestmark = pytest.mark.network

CHECKOUT = Path(__file__).resolve().parents[1]
EXAMPLE = CHECKOUT / "examples" / "plugin_host"
# What pre-commit needs to install and run the hook: packaging, code, the hook definition.
HOOK_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "linter", "rules")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".nilcheck_cache")
INSTALL_TIMEOUT = 900  # seconds: a cold pip install of the hook's environment
HOOK_TIMEOUT = 300


def run(args, cwd: Path, env: Dict[str, str], timeout: float = HOOK_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def git(*args, cwd: Path, env: Dict[str, str]) -> str:
    completed = run(["git", *args], cwd, env)
    assert completed.returncode == 0, f"git {' '.join(map(str, args))} failed:\n{completed.stdout}"
    return completed.stdout.strip()


def pre_commit(*args, cwd: Path, env: Dict[str, str], timeout: float = HOOK_TIMEOUT) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pre_commit", *args], cwd, env, timeout)


def isolated_env(pre_commit_home: Path) -> Dict[str, str]:
    # GIT_DIR, GIT_INDEX_FILE... of an enclosing hook (pytest run from a hook) would point
    # every git call here at the wrong repository; the user's git config (signing, hooksPath,
    # templates) must not leak in either.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        GIT_AUTHOR_NAME="nilcheck tests",
        GIT_AUTHOR_EMAIL="tests@nilcheck.invalid",
        GIT_COMMITTER_NAME="nilcheck tests",
        GIT_COMMITTER_EMAIL="tests@nilcheck.invalid",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(pre_commit_home),
    )
    return env


def hook_config(repo: Path, rev: str) -> str:
    return f"repos:\n  - repo: {repo.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: nilcheck\n"


@pytest.fixture(scope="module")
def hook(tmp_path_factory) -> Tuple[str, Dict[str, str]]:
    """(.pre-commit-config.yaml text, environment) with the hook already installed."""
    if not (CHECKOUT / ".git").exists():
        pytest.skip(f"{CHECKOUT} is not a git checkout")
    if not EXAMPLE.is_dir():
        pytest.skip("examples/plugin_host is not in this checkout")
    env = isolated_env(tmp_path_factory.mktemp("pre-commit-home"))

    clone = tmp_path_factory.mktemp("hook-repo") / "nilcheck"
    git("clone", "--quiet", CHECKOUT, clone, cwd=clone.parent, env=env)
    present = [name for name in HOOK_FILES if (CHECKOUT / name).exists()]
    for name in present:
        source, target = CHECKOUT / name, clone / name
        if target.is_dir():
            shutil.rmtree(target)  # so files deleted in the working tree are gone here too
        elif target.exists():
            target.unlink()
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED)
        else:
            shutil.copy2(source, target)
    git("add", "--all", "--", *present, cwd=clone, env=env)
    git("commit", "--quiet", "--allow-empty", "--no-verify", "-m", "working tree", cwd=clone, env=env)
    config = hook_config(clone, git("rev-parse", "HEAD", cwd=clone, env=env))

    # Install the hook's environment now, once, so a failure is reported as what it is.
    warmup = tmp_path_factory.mktemp("warmup")
    git("init", "--quiet", cwd=warmup, env=env)
    (warmup / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    installed = pre_commit("install-hooks", cwd=warmup, env=env, timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0, f"pre-commit could not install the nilcheck hook:\n{installed.stdout}"
    return config, env


class Repo:
    """A user's repository holding a copy of examples/plugin_host, the hook installed."""

    def __init__(self, path: Path, env: Dict[str, str]) -> None:
        self.path = path
        self.env = env

    def git(self, *args) -> str:
        return git(*args, cwd=self.path, env=self.env)

    def commit(self, message: str) -> subprocess.CompletedProcess:
        return run(["git", "commit", "-m", message], self.path, self.env)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{rel} no longer contains {old!r}: update this test with the example"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def head(self) -> str:
        completed = run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], self.path, self.env)
        return completed.stdout.strip() if completed.returncode == 0 else ""


@pytest.fixture
def repo(tmp_path, hook) -> Repo:
    config, env = hook
    path = tmp_path / "plugin_host"
    shutil.copytree(EXAMPLE, path, ignore=IGNORED)
    (path / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    user = Repo(path, env)
    user.git("init", "--quiet")
    installed = pre_commit("install", cwd=path, env=env)
    assert installed.returncode == 0, installed.stdout
    return user


def inject_host_in_constructor(repo: Repo) -> None:
    """The fix the finding suggests: PluginAPI gets its host when it is constructed."""
    repo.edit(
        "plugin_host/plugins.py",
        "def __init__(self):\n        self.host = None  # the Server, set by attach()",
        "def __init__(self, host):\n        self.host = host  # the Server",
    )
    repo.edit("plugin_host/plugins.py", "    def attach(self, host) -> None:\n        self.host = host\n\n", "")
    repo.edit("plugin_host/server.py", "PluginAPI()", "PluginAPI(host=self)")
    repo.edit("plugin_host/server.py", "        self.plugins.attach(self)\n", "")


def test_hazard_blocks_the_commit_until_fixed(repo):
    repo.git("add", "--all")
    blocked = repo.commit("plugin host")
    assert blocked.returncode != 0, blocked.stdout
    assert "nilcheck" in blocked.stdout and "Failed" in blocked.stdout
    assert "plugin_host/plugins.py:" in blocked.stdout and "NIL001" in blocked.stdout
    assert repo.head() == ""  # nothing was committed

    inject_host_in_constructor(repo)
    repo.git("add", "--all")
    fixed = repo.commit("plugin host, host injected")
    assert fixed.returncode == 0, fixed.stdout
    assert "NIL001" not in fixed.stdout
    assert repo.head() != ""


def test_only_findings_touching_the_staged_files_block(repo):
    repo.git("add", "--all")
    repo.git("commit", "--quiet", "--no-verify", "-m", "plugin host, hazard and all")
    first = repo.head()

    # tasks.py is analysed (the project is), but neither the read nor the trace is in it.
    repo.edit("plugin_host/tasks.py", '"""Tasks the server runs', '"""The tasks the server runs')
    repo.git("add", "plugin_host/tasks.py")
    unrelated = repo.commit("reword a docstring")
    assert unrelated.returncode == 0, unrelated.stdout
    assert "NIL001" not in unrelated.stdout
    assert repo.head() != first

    # server.py holds no read, but the trace from the entry point to the read passes it.
    repo.edit("plugin_host/server.py", "import threading\n", "import threading  # watchers\n")
    repo.git("add", "plugin_host/server.py")
    on_trace = repo.commit("comment an import")
    assert on_trace.returncode != 0, on_trace.stdout
    assert "plugin_host/plugins.py:" in on_trace.stdout and "NIL001" in on_trace.stdout
