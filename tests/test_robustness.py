"""A scan holds up on whatever a real codebase contains.

Every test builds a small project with one real finding (`app/server.py:9`), adds the
hostile input, runs the real CLI with `--format json`, and checks three things: nilcheck
did not crash (exit 0 or 1, a JSON report), the bad file is exactly one `errors` entry
with a line and a clear message, and the rest of the project was still analysed (the
finding is there).

Inputs that once killed the process (libcst's native parser overflows the C stack on
deep nesting) run in a subprocess, so a regression fails one test instead of pytest.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest
from click.testing import CliRunner

from nilcheck.linter import api, cli

SERVER = """\
class Server:
    def __init__(self):
        self.conn = None

    def connect(self):
        self.conn = object()

    def serve(self):
        self.conn.send("hi")


if __name__ == "__main__":
    server = Server()
    server.serve()
    server.connect()
"""
SERVER_FINDING = ("app/server.py", 9, "app.server.Server.conn")


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "server.py").write_text(SERVER, encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def scan(root: Path, *options: str) -> Tuple[int, dict]:
    """The real CLI in this process: (exit code, parsed JSON report)."""
    result = CliRunner().invoke(
        cli.main, ["scan", str(root), "--format", "json", "--no-cache", *options]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def scan_in_subprocess(root: Path, *options: str, timeout: float = 120) -> Tuple[int, dict]:
    """The real CLI in a child process: a native crash is a failed test, not a dead run."""
    command = [sys.executable, "-c", "import sys; from nilcheck.linter.cli import main; "
               "sys.exit(main())", "scan", str(root), "--format", "json", "--no-cache",
               *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=root)
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-2000:])
    return done.returncode, json.loads(done.stdout)


def finding_keys(report: dict) -> List[Tuple[str, int, str]]:
    return [(f["file"], f["line"], f["field"]) for f in report["findings"]]


def assert_rest_analysed(code: int, report: dict) -> None:
    assert SERVER_FINDING in finding_keys(report), report["findings"]
    assert code == 1


def only_error(report: dict, file: str) -> dict:
    """The single errors entry, which must be for file."""
    assert [error["file"] for error in report["errors"]] == [file], report["errors"]
    error = report["errors"][0]
    assert error["line"] >= 1 and error["message"].strip()
    assert report["summary"]["errors"] == 1
    return error


# ------------------------------------------------------------------ file contents


def _nested(opening: str, leaf: str, closing: str, depth: int) -> bytes:
    return f"x = {opening * depth}{leaf}{closing * depth}\n".encode()


def _indented(header: str, depth: int) -> bytes:
    lines = ["    " * level + header.format(level) + "\n" for level in range(depth)]
    return ("".join(lines) + "    " * depth + "pass\n").encode()


# id -> (bytes, expected line or None for "any", message fragment)
BAD_SOURCES: Dict[str, Tuple[bytes, Optional[int], str]] = {
    "syntax_error": (b"x = 1\ndef broken(:\n    pass\n", 2, "syntax error"),
    "python2_print": (b"import sys\n\nprint 'hello'\n", 3, "syntax error"),
    "python2_octal_and_ur": (b"x = 0777\ny = ur'abc'\n", 1, "syntax error"),
    "python2_exec_backticks": (b"x = 1\nexec 'x = 2'\ny = `x`\n", 2, "syntax error"),
    "unterminated_string": (b'x = 1\ny = """never closed\n\n', 2, "syntax error"),
    "tabs_and_spaces": (b"if True:\n\tif True:\n        pass\n", 3, "syntax error"),
    "latin1_without_cookie": ("x = 1\n\nname = 'caf\xe9'\n".encode("latin-1"), 3,
                              "not valid UTF-8"),
    "mixed_utf8_and_latin1": ("a = 'caf\xe9'\n".encode() + "b = 'caf\xe9'\n".encode("latin-1"),
                              2, "not valid UTF-8"),
    "cookie_says_ascii": ("# coding: ascii\nname = 'caf\xe9'\n".encode("latin-1"), 2, "ascii"),
    "unknown_cookie": (b"# -*- coding: klingon -*-\nx = 1\n", 1, "unknown encoding"),
    "bom_contradicts_cookie": (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", 1, "byte order mark"),
    "null_bytes": (b"x = 1\ny = 2\x00\n", 2, "null bytes"),
    "binary_png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), None, "null bytes"),
    "binary_without_nulls": (bytes(range(1, 256)) * 8, None, "not valid UTF-8"),
    "utf16": ("class A:\n    pass\n".encode("utf-16"), 1, "null bytes"),
    # libcst stops at ~4000 implicitly concatenated strings; CPython does not.
    "libcst_grammar_limit": (b"x = (\n" + b'    "a"\n' * 5000 + b")\n", None, "libcst"),
}

# Each of these segfaulted (or ran for minutes in gigabytes) inside libcst before the
# nesting check; run in a subprocess.
DEEP_SOURCES: Dict[str, Tuple[bytes, Optional[int], str]] = {
    "parentheses_5000": (_nested("(", "1", ")", 5000), 1, "too many nested parentheses"),
    "a_plus_paren_5000": (_nested("a+(", "a", ")", 5000), 1, "too many nested parentheses"),
    "lists_5000": (_nested("[", "", "]", 5000), 1, "too many nested parentheses"),
    "attribute_chain_5000": (b"x = a" + b".b" * 5000 + b"\n", 1, "nested too deeply"),
    "call_chain_5000": (b"x = f" + b"()" * 5000 + b"\n", 1, "nested too deeply"),
    "subscript_chain_5000": (b"x = f" + b"[0]" * 5000 + b"\n", 1, "nested too deeply"),
    "not_chain_5000": (b"x = " + b"not " * 5000 + b"a\n", 1, "nested too deeply"),
    "lambda_chain_5000": (b"x = " + b"lambda: " * 5000 + b"a\n", 1, "nested too deeply"),
    "binary_chain_20000": (b"x = " + b" + ".join([b"a"] * 20000) + b"\n", 1,
                           "nested too deeply"),
    "nested_ifs_1000": (_indented("if x{}:", 1000), 101, "indentation"),
    "nested_defs_1000": (_indented("def f{}():", 1000), 101, "indentation"),
}


@pytest.mark.parametrize("name", sorted(BAD_SOURCES))
def test_bad_source_is_one_error_and_the_rest_is_analysed(project: Path, name: str) -> None:
    source, line, fragment = BAD_SOURCES[name]
    (project / "app" / "bad.py").write_bytes(source)
    code, report = scan(project)
    error = only_error(report, "app/bad.py")
    assert fragment in error["message"], error
    if line is not None:
        assert error["line"] == line, error
    assert_rest_analysed(code, report)


def test_deep_nesting_is_one_error_per_file_not_a_crash(project: Path) -> None:
    # One child process for all of them: each costs a second of start-up alone.
    for name, (source, _, _) in DEEP_SOURCES.items():
        (project / "app" / f"deep_{name}.py").write_bytes(source)
    code, report = scan_in_subprocess(project)
    errors = {error["file"]: error for error in report["errors"]}
    assert sorted(errors) == sorted(f"app/deep_{name}.py" for name in DEEP_SOURCES)
    assert len(report["errors"]) == len(DEEP_SOURCES)
    for name, (_, line, fragment) in DEEP_SOURCES.items():
        error = errors[f"app/deep_{name}.py"]
        assert fragment in error["message"], error
        assert line is None or error["line"] == line, error
    assert_rest_analysed(code, report)


def test_deep_but_accepted_nesting_is_analysed(project: Path) -> None:
    """Just inside the limits (what CPython compiles): parsed and analysed, no error."""
    lines = [
        _nested("(", "1", ")", 190).decode(),
        "y = a" + ".b" * 900 + "\n",
        "z = " + " + ".join(["a"] * 900) + "\n",
        "if a:\n    pass\n" + "elif a:\n    pass\n" * 800,
    ]
    (project / "app" / "deep.py").write_text("".join(lines), encoding="utf-8")
    code, report = scan_in_subprocess(project)
    assert report["errors"] == []
    assert_rest_analysed(code, report)


def test_long_flat_expression_is_not_mistaken_for_deep_nesting(project: Path) -> None:
    """sympy's polyquinticconst.py shape: sums of hundreds of products, one per line.
    Its operator count is far past the nesting limit; its depth is not."""
    terms = [f"{index}*p**{index % 7}*q**{index % 11}*r**2" for index in range(1, 300)]
    (project / "app" / "poly.py").write_text(
        "def coefficient(p, q, r):\n    return " + " - ".join(terms) + "\n", encoding="utf-8")
    code, report = scan(project)
    assert report["errors"] == []
    assert_rest_analysed(code, report)


def _server_variant(transform: Callable[[str], bytes]) -> bytes:
    return transform(SERVER.replace("Server", "Weird"))


# Valid files in unusual encodings and line endings: analysed like any other, findings
# on the right lines (the read is on line 9 of SERVER; the cookie variants add a line).
WEIRD_BUT_VALID: Dict[str, Tuple[bytes, int]] = {
    "crlf": (_server_variant(lambda s: s.replace("\n", "\r\n").encode()), 9),
    "lone_cr": (_server_variant(lambda s: s.replace("\n", "\r").encode()), 9),
    "mixed_line_endings": (_server_variant(
        lambda s: "".join(line + ("\r\n", "\n", "\r")[i % 3]
                          for i, line in enumerate(s.split("\n"))).encode()), 9),
    "bom": (_server_variant(lambda s: b"\xef\xbb\xbf" + s.encode()), 9),
    "latin1_cookie": (_server_variant(
        lambda s: ("# -*- coding: latin-1 -*-\n" + s.replace('"hi"', '"caf\xe9"'))
        .encode("latin-1")), 10),
    "cp1252_cookie": (_server_variant(
        lambda s: ("# vim: set fileencoding=cp1252 :\n" + s.replace('"hi"', '"\u20ac"'))
        .encode("cp1252")), 10),
    "no_trailing_newline": (_server_variant(lambda s: s.rstrip("\n").encode()), 9),
    "tab_indentation": (_server_variant(lambda s: s.replace("    ", "\t").encode()), 9),
    "form_feed": (_server_variant(lambda s: s.replace("\n\n\nif", "\n\n\x0c\nif").encode()), 9),
}


@pytest.mark.parametrize("name", sorted(WEIRD_BUT_VALID))
def test_unusual_but_valid_file_is_analysed(project: Path, name: str) -> None:
    source, line = WEIRD_BUT_VALID[name]
    (project / "app" / "weird.py").write_bytes(source)
    code, report = scan(project)
    assert report["errors"] == []
    assert ("app/weird.py", line, "app.weird.Weird.conn") in finding_keys(report)
    assert_rest_analysed(code, report)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n\t\n", b"# only a comment", b"\xef\xbb\xbf",
                                     b"\r", b'"""docstring only"""'],
                         ids=["empty", "whitespace", "comment", "bom_only", "lone_cr", "docstring"])
def test_nearly_empty_file_is_fine(project: Path, content: bytes) -> None:
    (project / "app" / "empty.py").write_bytes(content)
    code, report = scan(project)
    assert report["errors"] == []
    assert_rest_analysed(code, report)


def test_only_errors_exit_zero(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'broken'\n", encoding="utf-8")
    (root / "app" / "one.py").write_bytes(b"print 'python 2'\n")
    (root / "app" / "two.py").write_bytes(b"\x00\x01\x02")
    code, report = scan(root)
    assert code == 0
    assert [error["file"] for error in report["errors"]] == ["app/one.py", "app/two.py"]
    assert report["findings"] == []


def test_large_generated_module(project: Path) -> None:
    """A 5 MB generated module (the shape protoc writes: a serialized descriptor split
    over long byte-string lines, then the classes) is analysed, finding included."""
    chunk = "".join("\\x%02x" % (index * 7 % 256) for index in range(2000))
    lines = ["# Generated by the protocol buffer compiler.  DO NOT EDIT!\n", "DESCRIPTOR = (\n"]
    size = 0
    while size < 5_000_000:
        lines.append(f"    b'{chunk}'\n")
        size += len(lines[-1])
    lines.append(")\n\n\n")
    generated = "".join(lines)
    offset = generated.count("\n")
    (project / "app" / "generated_pb2.py").write_text(
        generated + SERVER.replace("Server", "Generated"), encoding="utf-8")
    assert (project / "app" / "generated_pb2.py").stat().st_size > 5_000_000
    code, report = scan(project)
    assert report["errors"] == []
    assert ("app/generated_pb2.py", offset + 9, "app.generated_pb2.Generated.conn") in \
        finding_keys(report)
    assert_rest_analysed(code, report)


# ------------------------------------------------------------------ the filesystem

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                    reason="POSIX symlinks")


@needs_symlinks
def test_symlink_loop(project: Path) -> None:
    os.symlink("loop.py", project / "app" / "loop.py")
    os.symlink("b.py", project / "app" / "a.py")
    os.symlink("a.py", project / "app" / "b.py")
    code, report = scan(project)
    assert [error["file"] for error in report["errors"]] == ["app/a.py", "app/b.py", "app/loop.py"]
    assert all("loop" in error["message"] for error in report["errors"])
    assert_rest_analysed(code, report)


@needs_symlinks
def test_directory_symlink_loop(project: Path) -> None:
    os.symlink("..", project / "app" / "up")
    os.symlink(".", project / "app" / "self")
    code, report = scan(project)
    assert report["errors"] == []
    assert_rest_analysed(code, report)


@needs_symlinks
def test_dangling_symlink(project: Path) -> None:
    os.symlink("gone.py", project / "app" / "dangling.py")
    code, report = scan(project)
    assert "broken symlink" in only_error(report, "app/dangling.py")["message"]
    assert_rest_analysed(code, report)


def test_directory_named_like_a_module(project: Path) -> None:
    (project / "app" / "looks_like_a_file.py").mkdir()
    (project / "app" / "package.py").mkdir()
    (project / "app" / "package.py" / "inner.py").write_text("x = 1\n", encoding="utf-8")
    code, report = scan(project)
    assert report["errors"] == []
    assert_rest_analysed(code, report)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_fifo_named_like_a_module_does_not_hang(project: Path) -> None:
    os.mkfifo(project / "app" / "pipe.py")
    code, report = scan(project)
    assert "not a regular file" in only_error(report, "app/pipe.py")["message"]
    assert_rest_analysed(code, report)


@pytest.mark.skipif(os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="root reads any file; POSIX permissions")
def test_unreadable_file(project: Path) -> None:
    secret = project / "app" / "secret.py"
    secret.write_text("x = 1\n", encoding="utf-8")
    secret.chmod(0)
    try:
        code, report = scan(project)
    finally:
        secret.chmod(0o644)
    assert "cannot read" in only_error(report, "app/secret.py")["message"]
    assert_rest_analysed(code, report)


def _after_discovery(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Run change() between discovery and parsing, like an editor or `git checkout`."""
    discover = api.discover_files

    def discover_then_change(*args, **kwargs):
        found = discover(*args, **kwargs)
        change()
        return found

    monkeypatch.setattr(api, "discover_files", discover_then_change)


def test_file_vanishes_between_discovery_and_parsing(project: Path, monkeypatch) -> None:
    doomed = project / "app" / "doomed.py"
    doomed.write_text("x = 1\n", encoding="utf-8")
    _after_discovery(monkeypatch, doomed.unlink)
    code, report = scan(project)
    assert "cannot read" in only_error(report, "app/doomed.py")["message"]
    assert_rest_analysed(code, report)


def test_file_becomes_a_directory_between_discovery_and_parsing(project: Path,
                                                                 monkeypatch) -> None:
    changing = project / "app" / "changing.py"
    changing.write_text("x = 1\n", encoding="utf-8")

    def to_directory() -> None:
        changing.unlink()
        changing.mkdir()

    _after_discovery(monkeypatch, to_directory)
    code, report = scan(project)
    assert "cannot read" in only_error(report, "app/changing.py")["message"]
    assert_rest_analysed(code, report)


def test_file_becomes_binary_between_discovery_and_parsing(project: Path, monkeypatch) -> None:
    changing = project / "app" / "changing.py"
    changing.write_text("x = 1\n", encoding="utf-8")
    _after_discovery(monkeypatch, lambda: changing.write_bytes(b"\x00" * 100))
    code, report = scan(project)
    assert "null bytes" in only_error(report, "app/changing.py")["message"]
    assert_rest_analysed(code, report)


def _non_utf8_named_file(project: Path) -> None:
    with open(os.fsencode(project / "app") + b"/caf\xe9.py", "wb") as handle:
        handle.write(b"print 'python 2'\n")


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="needs non-UTF-8 file names")
def test_non_utf8_file_name_is_analysed(project: Path) -> None:
    _non_utf8_named_file(project)
    result = api.scan([project], use_cache=False)
    assert [(error.line, error.message.split(":")[0]) for error in result.result.errors] == \
        [(1, "syntax error")]
    assert SERVER_FINDING[:2] in [(f.file, f.line) for f in result.result.findings]


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="needs non-UTF-8 file names")
@pytest.mark.parametrize("fmt", ["json", "text", "sarif", "github", "markdown"])
def test_non_utf8_file_name_is_reported(project: Path, tmp_path: Path, fmt: str) -> None:
    _non_utf8_named_file(project)
    output = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(cli.main, ["scan", str(project), "--format", fmt,
                                           "--no-cache", "--output", str(output)])
    assert result.exit_code == 1, result.stderr
    output.read_text(encoding="utf-8")  # valid UTF-8


def test_many_bad_files_in_parallel_workers(project: Path) -> None:
    """Enough files for the process pool: every kind of bad file at once, each one
    error, nothing lost between workers."""
    bad = {**BAD_SOURCES, **{name: DEEP_SOURCES[name] for name in
                             ("parentheses_5000", "attribute_chain_5000", "lambda_chain_5000")}}
    for name, (source, _, _) in bad.items():
        (project / "app" / f"bad_{name}.py").write_bytes(source)
    for index in range(40):
        (project / "app" / f"filler{index}.py").write_text(f"X{index} = {index}\n",
                                                            encoding="utf-8")
    code, report = scan_in_subprocess(project, "--jobs", "2")
    assert sorted(error["file"] for error in report["errors"]) == \
        sorted(f"app/bad_{name}.py" for name in bad)
    for error in report["errors"]:
        name = error["file"][len("app/bad_"):-len(".py")]
        assert bad[name][2] in error["message"], error
    assert_rest_analysed(code, report)


# ------------------------------------------------------------------ pathological graphs


def _write(project: Path, relative: str, source: str) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def test_recursion(project: Path) -> None:
    _write(project, "app/rec.py", textwrap.dedent("""\
        class Walker:
            def __init__(self):
                self.store = None

            def open(self):
                self.store = object()

            def walk(self, depth):
                self.store.get(depth)
                if depth:
                    self.walk(depth - 1)
                self.open()
                self.walk(depth)


        def countdown(n):
            if n:
                countdown(n - 1)


        if __name__ == "__main__":
            countdown(10)
            Walker().walk(3)
        """))
    code, report = scan(project)
    assert ("app/rec.py", 9, "app.rec.Walker.store") in finding_keys(report)
    assert_rest_analysed(code, report)


def test_mutual_recursion_across_50_functions(project: Path) -> None:
    lines = ["from app.server import Server\n\nSERVER = Server()\n"]
    for index in range(50):
        lines.append(f"\n\ndef f{index}(k):\n    if k:\n        f{(index + 1) % 50}(k - 1)\n"
                     f"    SERVER.conn.send({index})\n")
    lines.append("\n\nif __name__ == '__main__':\n    f0(100)\n    SERVER.connect()\n")
    source = "".join(lines)
    _write(project, "app/mutual.py", source)
    first_read = source.splitlines().index("    SERVER.conn.send(0)") + 1
    code, report = scan(project)
    assert ("app/mutual.py", first_read, "app.server.Server.conn") in finding_keys(report)
    assert_rest_analysed(code, report)


def test_3000_classes_with_the_same_method_name(project: Path) -> None:
    for module in range(10):
        classes = [f"class C{index}:\n    def run(self):\n        self.conn.go()\n"
                   for index in range(module * 300, module * 300 + 300)]
        if module == 7:  # one of them has a late field, read by its `run`
            classes[0] = ("class C2100:\n    def __init__(self):\n        self.conn = None\n\n"
                          "    def setup(self):\n        self.conn = 1\n\n"
                          "    def run(self):\n        self.conn.go()\n        self.run()\n")
        _write(project, f"app/many{module}.py", "\n\n".join(classes))
    _write(project, "app/drive.py", textwrap.dedent("""\
        from app.many7 import C2100


        def drive(thing):
            thing.run()


        if __name__ == "__main__":
            obj = C2100()
            drive(obj)
            obj.run()
            obj.setup()
        """))
    code, report = scan(project)
    assert ("app/many7.py", 9, "app.many7.C2100.conn") in finding_keys(report)
    assert_rest_analysed(code, report)


HUB = """\
class Hub:
    def __init__(self):
        self.conn = None

    def connect(self):
        self.conn = object()

    def serve(self):
        self.conn.send("hi")


HUB = Hub()
"""


def test_call_chain_across_300_modules(project: Path) -> None:
    for index in range(300):
        if index < 299:
            source = f"from app.hop{index + 1} import f{index + 1}\n\n\ndef f{index}():\n" \
                     f"    f{index + 1}()\n"
        else:
            source = "from app.hub import HUB\n\n\ndef f299():\n    HUB.serve()\n"
        _write(project, f"app/hop{index}.py", source)
    _write(project, "app/hub.py", HUB)
    _write(project, "app/start.py", "from app.hop0 import f0\nfrom app.hub import HUB\n\n"
                                    "if __name__ == '__main__':\n    f0()\n    HUB.connect()\n")
    code, report = scan_in_subprocess(project, "--jobs", "2")
    (finding,) = [f for f in report["findings"] if f["file"] == "app/hub.py"]
    assert (finding["line"], finding["entry"]) == (9, "app.start:__main__")
    assert len(finding["trace"]) >= 300
    assert_rest_analysed(code, report)


def _hierarchy(depth: int) -> str:
    lines = [textwrap.dedent("""\
        class C0:
            def __init__(self):
                self.conn = None

            def connect(self):
                self.conn = object()

            def serve(self):
                self.conn.send("hi")
        """)]
    for index in range(1, depth):
        lines.append(f"\nclass C{index}(C{index - 1}):\n    def m{index}(self):\n"
                     f"        super().serve()\n")
    lines.append(f"\n\nif __name__ == '__main__':\n    obj = C{depth - 1}()\n"
                 f"    obj.m{depth - 1}()\n    obj.connect()\n")
    return "".join(lines)


def test_class_hierarchy_300_deep(project: Path) -> None:
    _write(project, "app/tower.py", _hierarchy(300))
    code, report = scan(project)
    assert ("app/tower.py", 9, "app.tower.C0.conn") in finding_keys(report)
    assert_rest_analysed(code, report)


def test_class_hierarchy_1000_deep(project: Path) -> None:
    _write(project, "app/tower.py", _hierarchy(1000))
    code, report = scan_in_subprocess(project)
    assert ("app/tower.py", 9, "app.tower.C0.conn") in finding_keys(report)


def test_elif_chain_1000_long(project: Path) -> None:
    branches = "".join(f"        elif k == {index}:\n            self.conn.send({index})\n"
                       for index in range(1, 1000))
    _write(project, "app/dispatch.py",
           "class Dispatch:\n    def __init__(self):\n        self.conn = None\n\n"
           "    def setup(self):\n        self.conn = object()\n\n"
           "    def handle(self, k):\n        if k == 0:\n            self.conn.send(0)\n"
           + branches +
           "\n\nif __name__ == '__main__':\n    d = Dispatch()\n    d.handle(1)\n    d.setup()\n")
    code, report = scan_in_subprocess(project)
    assert any(f["file"] == "app/dispatch.py" for f in report["findings"])


# ------------------------------------------------------------------ security

_MARKER_CODE = """\
import os, pathlib
pathlib.Path({marker!r}).write_text("executed: " + __name__)
"""


def _planted(marker: Path, tail: str = "") -> str:
    return _MARKER_CODE.format(marker=str(marker)) + tail


def _console_script() -> Optional[str]:
    candidate = Path(sys.executable).parent / ("nilcheck.exe" if os.name == "nt" else "nilcheck")
    return str(candidate) if candidate.exists() else None


def test_scanned_code_is_never_imported_or_executed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    marker = tmp_path / "marker"
    exits = "raise SystemExit(3)\n"
    # Top level that would write the marker, then stop the process, in every place an
    # importer would look: the package, its __main__, a module, a script entry point, and
    # modules that shadow nilcheck's own dependencies if the project root were on sys.path.
    _write(root, "app/__init__.py", _planted(marker, exits))
    _write(root, "app/__main__.py", _planted(marker, "os._exit(7)\n"))
    _write(root, "app/boom.py", _planted(marker, exits) + "\n\ndef main():\n    pass\n")
    _write(root, "setup.py", _planted(marker, exits))
    _write(root, "conftest.py", _planted(marker, exits))
    for shadow in ("click", "libcst", "networkx", "tomli", "json", "typing_extensions"):
        _write(root, f"{shadow}.py", _planted(marker, exits))
    _write(root, "sitecustomize.py", _planted(marker, exits))
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\n\n[project.scripts]\nboom = 'app.boom:main'\n",
        encoding="utf-8")
    script = _console_script()
    command = ([script] if script else
               [sys.executable, "-I", "-c",
                "import sys; from nilcheck.linter.cli import main; sys.exit(main())"])
    # From inside the project, as a developer or a pre-commit hook runs it.
    done = subprocess.run(command + ["scan", ".", "--format", "json"], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert not marker.exists(), marker.read_text()
    assert done.returncode == 1, done.stderr
    assert SERVER_FINDING in finding_keys(json.loads(done.stdout))


def _secret_outside(tmp_path: Path) -> Tuple[Path, str]:
    secret = "TOP-SECRET-" + "7" * 12
    outside = tmp_path / "outside"
    outside.mkdir()
    # Code that would give a finding, and a secret that must not appear in any output.
    (outside / "leak.py").write_text(
        SERVER.replace("Server", "Leak").replace('"hi"', repr(secret))
        + f"\n# {secret}\nbroken syntax {secret} (\n", encoding="utf-8")
    return outside, secret


@needs_symlinks
@pytest.mark.parametrize("fmt", ["json", "text", "sarif", "github", "markdown"])
def test_symlinks_out_of_the_root_are_never_read(tmp_path: Path, fmt: str) -> None:
    root = make_project(tmp_path / "project")
    outside, secret = _secret_outside(tmp_path)
    os.symlink(outside / "leak.py", root / "app" / "leak.py")
    os.symlink(outside, root / "app" / "outside_dir")
    os.symlink(outside, root / "linked_dir")
    if os.path.exists("/etc/passwd"):
        os.symlink("/etc/passwd", root / "app" / "evil.py")
    (root / "app" / "relative.py").symlink_to(Path("..") / ".." / "outside" / "leak.py")
    result = CliRunner().invoke(cli.main, ["scan", str(root), "--format", fmt, "--no-cache"])
    assert result.exit_code == 1, result.stderr
    output = result.stdout + result.stderr
    assert secret not in output
    assert "Leak" not in output and "leak.py" not in output
    assert "root:" not in output and "evil.py" not in output
    if fmt == "json":
        report = json.loads(result.stdout)
        assert report["errors"] == []
        assert finding_keys(report) == [SERVER_FINDING]


def _tree(base: Path) -> Dict[str, bytes]:
    """Every file under base (links as their target text), relative path -> content."""
    files = {}
    for directory, _, names in os.walk(base):
        for name in names:
            path = Path(directory) / name
            relative = path.relative_to(base).as_posix()
            files[relative] = (os.readlink(path).encode() if path.is_symlink()
                               else path.read_bytes())
    return files


@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_output_files_land_exactly_where_asked(tmp_path: Path, option: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project")
    reports = tmp_path / "reports"
    reports.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    before = _tree(tmp_path)
    # One absolute path, one relative to the working directory (not to the project).
    for target, expected in ((str(reports / "out.json"), reports / "out.json"),
                             ("rel/out.json", None)):
        if expected is None:
            (elsewhere / "rel").mkdir()
            expected = elsewhere / "rel" / "out.json"
            before = _tree(tmp_path)
        result = CliRunner().invoke(cli.main, ["scan", str(root), "--format", "json",
                                               "--no-cache", option, target])
        assert result.exit_code in (0, 1), result.stderr
        after = _tree(tmp_path)
        created = sorted(set(after) - set(before))
        assert created == [expected.relative_to(tmp_path).as_posix()]
        assert {k: v for k, v in after.items() if k in before} == before, "nothing else changes"
        json.loads(expected.read_text(encoding="utf-8"))  # a complete document
        before = after


def test_cache_writes_only_its_own_directory(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    for _ in range(2):  # cold, then warm
        result = CliRunner().invoke(cli.main, ["scan", str(root), "--format", "json"])
        assert result.exit_code == 1, result.stderr
        assert SERVER_FINDING in finding_keys(json.loads(result.stdout))
    created = set(_tree(tmp_path)) - set(before)
    assert created, "the cache was written"
    assert all(path.startswith(("project/.nilcheck_cache/", "xdg/nilcheck/"))
               for path in created), created
