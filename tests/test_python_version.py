"""Files are checked against the project's Python (requires-python, else the running one).

libcst parses every grammar up to 3.14, so these are files it accepts and the target
Python rejects: each must be one FileError at the construct's line, while valid modern
syntax under a modern target gives none. syntax.py's docstring lists what was measured.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional, Tuple

import pytest
from click.testing import CliRunner

from nilcheck.linter import cli, syntax
from nilcheck.linter.ftypes import FileError
from nilcheck.linter.parsing import _code_of, parse_source
from nilcheck.linter.pyversion import RUNNING, lowest_python, python_target

from test_robustness import SERVER_FINDING, assert_rest_analysed, finding_keys, make_project

RUNNING_TEXT = f"{RUNNING[0]}.{RUNNING[1]}"


def check(source: str, requires: Optional[str]) -> Optional[FileError]:
    result = parse_source(source.encode(), "m.py", "m", False, target=python_target(requires))
    return result if isinstance(result, FileError) else None


# name -> (source, target requires-python, line of the error, message fragment)
REJECTED = {
    "python2_except_comma": ("x = 1\ntry:\n    pass\nexcept ValueError, e:\n    pass\n",
                             ">=3.9", 4, "must be parenthesized"),
    "python2_except_tuple_comma": ("try:\n    pass\nexcept (A, B), e:\n    pass\n",
                                   None, 3, "must be parenthesized"),
    "t_string": ("a = 1\nx = t'{a}'\n", None, 2, "syntax error"),
    "non_ascii_bytes": ("x = 1\ny = b'caf\xe9'\n", None, 2, "ASCII"),
    "star_in_comprehension": ("x = [\n    *a for a in b\n]\n", None, 2, "unpacking"),
    "walrus_before_3_8": ("x = 1\nif (n := x) > 0:\n    pass\n", ">=3.7", 2, "3.8"),
    "positional_only_before_3_8": ("def f(a, /, b):\n    pass\n", ">=3.7", 1, "3.8"),
    "star_return_before_3_8": ("def f(a):\n    return 1, *a\n", ">=3.7", 2, "3.8"),
    "star_yield_before_3_8": ("def f(a):\n    yield 1, *a\n", ">=3.7", 2, "3.8"),
    "parenthesized_with_before_3_9": ("x = 1\nwith (open(a) as f, open(b) as g):\n    pass\n",
                                      ">=3.8", 2, "3.9"),
    "relaxed_decorator_before_3_9": ("@buttons[0].clicked.connect\ndef f():\n    pass\n",
                                     ">=3.8", 1, "3.9"),
    "called_twice_decorator_before_3_9": ("@a(b)(c)\ndef f():\n    pass\n", ">=3.8", 1, "3.9"),
    "star_for_before_3_9": ("for x in *a, *b:\n    pass\n", ">=3.8", 1, "3.9"),
    "star_augmented_before_3_9": ("x = ()\nx += 1, *a\n", ">=3.8", 2, "3.9"),
    "set_walrus_before_3_9": ("x = {y := 1, 2}\n", ">=3.8", 1, "3.9"),
    "match_before_3_10": ("def f(x):\n    match x:\n        case 1:\n            pass\n",
                          ">=3.9", 2, "3.10"),
    "subscript_walrus_before_3_10": ("x = 1\ny = a[b := 1]\n", "~=3.9", 2, "3.10"),
    "except_star_before_3_11": ("try:\n    pass\nexcept* ValueError:\n    pass\n",
                                ">=3.10", 3, "syntax error"),
    "star_subscript_before_3_11": ("x = 1\ny: tuple[int, *Ts]\n", ">=3.10,<4", 2, "3.11"),
    "star_annotation_before_3_11": ("def f(*args: *Ts):\n    pass\n", "==3.10.*", 1, "3.11"),
    "type_alias_before_3_12": ("x = 1\ntype X = int\n", ">=3.11", 2, "syntax error"),
    "generic_def_before_3_12": ("def f[T](x: T) -> T:\n    return x\n", ">=3.9", 1,
                                "syntax error"),
    "generic_class_before_3_12": ("class C[T]:\n    pass\n", ">=3.11", 1, "syntax error"),
    "fstring_same_quote_before_3_12": ("d = {}\nx = f'{d['k']}'\n", ">=3.9", 2,
                                       "syntax error"),
    "fstring_backslash_before_3_12": ("a = []\nx = f'{\"\\n\".join(a)}'\n", ">=3.10", 2,
                                      "syntax error"),
    "fstring_nested_specs_before_3_12": ("x = f'{a:{b:{c}}}'\n", ">=3.11", 1, "syntax error"),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_construct_is_a_file_error_at_its_line(name: str) -> None:
    source, requires, line, fragment = REJECTED[name]
    error = check(source, requires)
    assert error is not None, name
    assert error.line == line, error
    assert fragment in error.message, error
    target = python_target(requires)
    assert error.message.startswith(f"syntax error for {target.describe()}: "), error


def test_the_message_names_the_version_and_the_requirement() -> None:
    error = check(*REJECTED["match_before_3_10"][:2])
    assert error is not None
    assert error.message == ("syntax error for Python 3.9 (requires-python >=3.9): "
                             "a `match` statement needs Python 3.10")


# Valid at the target: no error (each one is rejected by an older target above).
ACCEPTED = {
    "match_at_3_10": (REJECTED["match_before_3_10"][0], ">=3.10"),
    "walrus_at_3_8": (REJECTED["walrus_before_3_8"][0], ">=3.8"),
    "parenthesized_with_at_3_9": (REJECTED["parenthesized_with_before_3_9"][0], ">=3.9"),
    "star_subscript_at_3_11": (REJECTED["star_subscript_before_3_11"][0], ">=3.11"),
    "subscript_walrus_at_3_10": (REJECTED["subscript_walrus_before_3_10"][0], ">=3.10"),
    "relaxed_decorator_at_3_9": (REJECTED["relaxed_decorator_before_3_9"][0], ">=3.9"),
    # 3.8 reads these as an expression in parentheses (ast.parse(feature_version=(3, 8))
    # on 3.11 and 3.12 wrongly rejects the first two).
    "with_parenthesized_expression": ("with (lock):\n    pass\nwith (a, b):\n    pass\n"
                                      "with (a) as b, (c) as d:\n    pass\n", ">=3.8"),
    "dotted_decorators": ("@a.b\n@c.d(e)\n@ f . g ( h )\ndef f():\n    pass\n", ">=3.8"),
    "parenthesized_star_return": ("def f(a):\n    return (1, *a)\n", ">=3.7"),
    "fstrings_valid_before_3_12": ("x = f'{a[\"k\"]}' + f\"{a['k']!r:>{w}}\" + f'''{a['k']}'''"
                                   " + f'{{}}' + f'\\N{EM DASH}{a}'\n", ">=3.8"),
    "names_like_keywords": ("match = type = 1\nmatch(x)\ntype(x)\nprint(match, type)\n",
                            ">=3.8"),
    "keywords_in_strings_and_comments": ("# except A, e: match x: type X = int\n"
                                         "s = 'except A, e:'\nt = \"with (a as b):\"\n",
                                         ">=3.8"),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_valid_syntax_for_the_target_is_no_error(name: str) -> None:
    source, requires = ACCEPTED[name]
    assert check(source, requires) is None


MODERN = """\
from dataclasses import dataclass


@dataclass
class Point:
    x: int
    y: int


def area(shape: dict[str, int] | None, *args: int, **kwargs: str) -> int:
    if (n := len(args)) > 2:
        return n
    with (open("a") as first, open("b") as second):
        pass
    match shape:
        case {"w": w, "h": h}:
            return w * h
        case _:
            return 0


async def fetch(items):
    return [item async for item in items]
"""


def test_modern_syntax_under_a_modern_target_gives_no_error() -> None:
    assert check(MODERN, ">=3.10") is None
    assert check(MODERN, None) is None


@pytest.mark.skipif(RUNNING < (3, 12), reason="the running interpreter parses 3.12 syntax")
def test_pep_695_and_701_are_valid_for_3_12() -> None:
    source = "type X = int\ndef f[T](x: T) -> T:\n    return f'{x['k']}'\n"
    assert check(source, ">=3.12") is None


# ------------------------------------------------------------------ requires-python


@pytest.mark.parametrize("specifier, lowest", [
    (">=3.9", (3, 9)),
    (">= 3.10", (3, 10)),
    (">=3.8,<4", (3, 8)),
    (">=3.8, <4.0", (3, 8)),
    ("~=3.10", (3, 10)),
    ("~=3.10.2", (3, 10)),
    ("==3.11.*", (3, 11)),
    ("==3.11", (3, 11)),
    (">3.8", (3, 8)),  # 3.8.1 is allowed
    (">3.8.*", None),  # `.*` only goes with == and !=
    (">=3.7, !=3.7.*, !=3.8.*", (3, 9)),
    (">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", (3, 4)),
    (">=3.13.0b1", (3, 13)),
    ("<3.12", (3, 0)),
    ("<3", None),  # no Python 3: nothing to check against
    ("python>=3.9", None),
    ("3.9", None),
    ("", None),
    (">=3.9,,", (3, 9)),
    ("~=3", None),
])
def test_lowest_python(specifier: str, lowest: Optional[Tuple[int, int]]) -> None:
    assert lowest_python(specifier) == lowest


@pytest.mark.parametrize("value, reason", [
    (None, "the running interpreter; no requires-python"),
    ("not a specifier", "the running interpreter; requires-python 'not a specifier' "
                        "not understood"),
    (3.9, "the running interpreter; requires-python 'float' not understood"),
    (["3.9"], "the running interpreter; requires-python 'list' not understood"),
])
def test_without_a_readable_requires_python_the_running_interpreter_stands_in(
        value: object, reason: str) -> None:
    target = python_target(value)
    assert target.version == RUNNING
    assert target.reason == reason


def test_the_running_interpreter_checks_what_it_rejects() -> None:
    error = check(REJECTED["python2_except_comma"][0], None)
    assert error is not None
    assert error.message.startswith(
        f"syntax error for Python {RUNNING_TEXT} (the running interpreter; "
        f"no requires-python): ")


def test_a_target_newer_than_the_running_interpreter_is_checked_only_where_it_can_be() -> None:
    newer = syntax.PythonTarget((3, 13), "requires-python >=3.13")
    running = (3, 11)
    # Python 2's except clause is invalid for 3.13 too: 3.11's parser may say so.
    source = REJECTED["python2_except_comma"][0]
    problem = syntax.version_problem(source, _code_of(source), newer, running)
    assert problem is not None and problem[0] == 4
    # With a `type` statement beside it, 3.11's SyntaxError could be that valid 3.12
    # syntax: nothing is claimed.
    source = "type X = int\n" + source
    assert syntax.version_problem(source, _code_of(source), newer, running) is None
    # A 3.12 f-string likewise.
    source = "x = f'{a['k']}'\n" + REJECTED["python2_except_comma"][0]
    assert syntax.version_problem(source, _code_of(source), newer, running) is None


# ------------------------------------------------------------------ f-strings, as text


@pytest.mark.parametrize("fstring, readable", [
    ("f'{a}'", True),
    ("f'{a[\"k\"]}'", True),
    ("f'{a!r:>{w}}'", True),
    ("f'{x:{{}}}'", True),
    ("f'{{}}{a}'", True),
    ("f'''{a['k']}'''", True),
    ("f'{\"#\"}'", True),
    ("f'{a = !r}'", True),
    ("f'{a != b}'", True),
    ("rf'\\d{a}'", True),
    ("f'\\N{EM DASH} {a}'", True),
    ("f'{a['k']}'", False),
    ("f'{\"\\n\".join(a)}'", False),
    ("f'''{a # c\n}'''", False),
    ("f'{a +\n b}'", False),
    ("f'{a:{b:{c}}}'", False),
    ("f'{a!r }'", False),
    ("f'''{f'''{a}'''}'''", False),
])
def test_fstrings_as_python_before_3_12_reads_them(fstring: str, readable: bool) -> None:
    text = f"x = {fstring}\n"
    assert (syntax._old_fstring_problems(text) == []) is readable
    if RUNNING < (3, 12):  # this interpreter is the reference
        try:
            compile(text, "<test>", "exec", dont_inherit=True)
            accepted = True
        except SyntaxError:
            accepted = False
        assert accepted is readable


# ------------------------------------------------------------------ the whole scan


def write(root: Path, relative: str, text: str) -> None:
    (root / relative).write_text(text, encoding="utf-8")


def scan(root: Path, *options: str):
    result = CliRunner().invoke(cli.main, ["scan", str(root), "--format", "json", *options])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_cli_reports_the_error_and_analyses_the_rest(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = make_project(tmp_path / "project")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nrequires-python = '>=3.9'\n", encoding="utf-8")
    write(root, "app/legacy.py", REJECTED["python2_except_comma"][0])
    write(root, "app/modern.py", REJECTED["match_before_3_10"][0])
    code, report = scan(root, "--no-cache")
    assert_rest_analysed(code, report)
    assert [(e["file"], e["line"]) for e in report["errors"]] == [
        ("app/legacy.py", 4), ("app/modern.py", 2)]
    assert all("requires-python >=3.9" in e["message"] for e in report["errors"])


def test_only_a_version_error_exits_zero(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nrequires-python = '>=3.9'\n", encoding="utf-8")
    write(root, "app/__init__.py", "")
    write(root, "app/new.py", REJECTED["match_before_3_10"][0])
    result = CliRunner().invoke(cli.main, ["scan", str(root), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "app/new.py:2:" in result.output and "needs Python 3.10" in result.output


def test_changing_requires_python_checks_cached_files_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = make_project(tmp_path / "project")
    pyproject = root / "pyproject.toml"
    write(root, "app/new.py", REJECTED["match_before_3_10"][0])
    for requires, errors in ((">=3.9", ["app/new.py"]), (">=3.10", []), (">=3.9", ["app/new.py"])):
        pyproject.write_text(f"[project]\nname = 'app'\nrequires-python = '{requires}'\n",
                             encoding="utf-8")
        code, report = scan(root)  # with the cache
        assert [e["file"] for e in report["errors"]] == errors, requires
        assert SERVER_FINDING in finding_keys(report)
    assert (root / ".nilcheck_cache" / "facts.pack").exists()


def test_unreadable_requires_python_falls_back_without_failing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = make_project(tmp_path / "project")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nrequires-python = ['nonsense']\n", encoding="utf-8")
    code, report = scan(root, "--no-cache")
    assert report["errors"] == []
    assert_rest_analysed(code, report)


@pytest.mark.skipif(sys.platform == "win32", reason="fork-based worker pool")
def test_workers_check_against_the_same_target(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = make_project(tmp_path / "project")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nrequires-python = '>=3.9'\n", encoding="utf-8")
    for index in range(60):  # enough files for worker processes
        write(root, f"app/filler_{index:02}.py", f"def f{index}():\n    return {index}\n")
    write(root, "app/new.py", REJECTED["match_before_3_10"][0])
    code, report = scan(root, "--no-cache", "--jobs", "2")
    assert [(e["file"], e["line"]) for e in report["errors"]] == [("app/new.py", 2)]
    assert_rest_analysed(code, report)
