"""Reads and parses one file into ModuleFacts, or a FileError; never raises.

This is the per-file stage that worker processes run and the cache stores: its output
depends only on the file's bytes, its module name and its path.

Whatever the bytes are (Python 2, binary, a wrong coding cookie, 5000 nested
parentheses), the result is a value. Two things make that hold for hostile input:

- libcst's native parser recurses on the C stack and kills the whole process with a
  segfault on deep nesting (measured: ~1300 nested parentheses on an 8 MiB stack), and it
  is quadratic in time and memory in expression depth (`a+(a+(...))` 1000 deep: 14 s and
  2 GB). A cheap token pass turns input nested beyond what CPython itself accepts into a
  FileError before libcst sees it.
- The parse and the conversion run in a thread with a large stack, so the deep but
  accepted input has room (for the parser's native frames and for our own recursion).
"""
from __future__ import annotations

import ast
import io
import re
import sys
import threading
import tokenize
import warnings
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple, TypeVar, Union

import libcst as cst

from nilcheck.linter.facts import extract
from nilcheck.linter.ftypes import FileError
from nilcheck.linter.syntax import STRINGS_AND_COMMENTS
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.stack import call_on_large_stack
from nilcheck.linter.pyversion import PythonTarget, python_target
from nilcheck.linter.syntax import version_problem

ParseResult = Union[ModuleFacts, FileError]
T = TypeVar("T")

# CPython's tokenizer refuses more nested brackets than this ("too many nested
# parentheses"), so no runnable module has more.
MAX_BRACKET_DEPTH = 200
# Nesting of one expression without brackets (`a.b.c...`, `x+x+x...`, `not not ...`,
# `f()()()...`, `lambda: lambda: ...`), as counted by _nesting_problem. CPython compiles
# every such chain of 1000 and gives up between 1000 and 3000; libcst needs 1-5 s for
# 1000 and grows quadratically beyond.
MAX_EXPRESSION_DEPTH = 1000

# Binding strength of the tokens that nest expressions, loosest first; closing brackets
# and `.` are trailers (`f(x)`, `a[i]`, `a.b`), the tightest.
_LEVEL_OF = {
    "lambda": 0, "if": 1, "or": 2, "and": 3, "not": 4, "|": 5, "^": 6, "&": 7,
    "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10, "@": 10,
    "~": 11, "**": 12, "await": 13, ".": 14, ")": 14, "]": 14, "}": 14,
}
_TRAILER = 14
_LEVELS = _TRAILER + 1
_KEYWORDS = frozenset(name for name in _LEVEL_OF if name.isalpha())
_OPENERS = frozenset({"(", "[", "{"})
# Tokens after which a new, independent expression starts in the same bracket.
_SEPARATORS = frozenset({",", ";", "=", "for"})
_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")
_ALL_BRACKETS_ROUND = str.maketrans("[{]}", "(())")


def parse_source(source: bytes, relative: str, module_name: str,
                 is_package: bool, positioned: bool = True,
                 target: Optional[PythonTarget] = None) -> ParseResult:
    """The facts of one module's source bytes, or the FileError saying why there are none
    (positioned: see facts.extract). target: the Python version the file must be valid
    for (syntax.py); None: the running interpreter's."""
    if target is None:
        target = python_target(None)
    try:
        return call_on_large_stack(
            lambda: _parse_guarded(source, relative, module_name, is_package, positioned,
                                   target))
    except Exception as error:  # noqa: BLE001 - _parse_guarded catches; this is the net
        return _internal_error(relative, error)


# ---------------------------------------------------------------- the stages


def _parse_guarded(source: bytes, relative: str, module_name: str,
                   is_package: bool, positioned: bool, target: PythonTarget) -> ParseResult:
    try:
        return _parse(source, relative, module_name, is_package, positioned, target)
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the scan
        return _internal_error(relative, error)


def _internal_error(relative: str, error: BaseException) -> FileError:
    if _caused_by(error, RecursionError):
        return FileError(relative, 1, "file is nested too deeply to analyse")
    if _caused_by(error, MemoryError):
        return FileError(relative, 1, "out of memory while analysing file")
    return FileError(relative, 1, f"internal error while analysing file: {_describe(error)}")


def _parse(source: bytes, relative: str, module_name: str, is_package: bool,
           positioned: bool, target: PythonTarget) -> ParseResult:
    if b"\x00" in source:
        return FileError(relative, _line_at(source, source.index(b"\x00")),
                         "not a Python source file (contains null bytes)")
    text = _decode(source, relative)
    if isinstance(text, FileError):
        return text
    code = _code_of(text)
    problem = None if _surely_shallow(text, code) else _nesting_problem(text)
    if problem is not None:
        line, message = problem
        return FileError(relative, line, message)
    try:
        with _unvalidated_nodes():
            module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _syntax_error(text, relative, error)
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the scan
        if _caused_by(error, (RecursionError, MemoryError)):
            return _internal_error(relative, error)
        return FileError(relative, 1, f"cannot parse file: {_describe(error)}")
    # After libcst: what it rejects keeps its message, and a file it accepts is checked
    # against the target version only when the text trips a trigger (syntax.py).
    problem = version_problem(text, code, target)
    if problem is not None:
        return FileError(relative, *problem)
    return extract(module, module_name, relative, is_package, positioned)


@contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """libcst checks every node it builds (CSTNode.__post_init__ calls _validate), which
    serves trees built by hand; a tree from its own parser is valid by construction,
    and libcst's source says as much ("PERF: ... avoid validating the tree when parsing
    a file"). Measured on Django, the checks were 15% of the parse: skipped while
    libcst parses here. The class attribute is restored however the parse ends, once
    the last of any concurrent parses (threads of a program using the API) is done."""
    global _parses_unvalidated
    with _validation_switch:
        _parses_unvalidated += 1
        cst.CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _validation_switch:
            _parses_unvalidated -= 1
            if not _parses_unvalidated:
                cst.CSTNode.__post_init__ = _VALIDATING  # type: ignore[method-assign]


def _no_validation(_node: cst.CSTNode) -> None:
    return None


_VALIDATING = cst.CSTNode.__dict__["__post_init__"]
_validation_switch = threading.Lock()
_parses_unvalidated = 0


def _decode(source: bytes, relative: str) -> Union[str, FileError]:
    """The source text per PEP 263 (coding cookie, BOM, else UTF-8)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        return _encoding_error(source, relative, str(error.msg or error))
    try:
        text = source.decode(encoding)
    except UnicodeDecodeError as error:
        # utf-8-sig counts offsets after the byte order mark it strips.
        offset = error.start + (3 if encoding == "utf-8-sig" else 0)
        return _undecodable(source, relative, min(offset, len(source) - 1), encoding,
                            _has_cookie(source))
    except (UnicodeError, LookupError) as error:  # 'undefined', 'rot13', 'hex'...
        return FileError(relative, 1, f"cannot decode file as {encoding}: "
                                      f"{_first_line(str(error))}")
    if not encoding.startswith("utf-8"):
        # Escape codecs (`# coding: unicode_escape`) can produce lone surrogates, which
        # the parser cannot take.
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            return FileError(relative, text.count("\n", 0, error.start) + 1,
                             f"cannot decode file as {encoding}: it yields a lone surrogate")
    return text


def _encoding_error(source: bytes, relative: str, reason: str) -> FileError:
    if reason == "invalid or missing encoding declaration":
        # No cookie and not UTF-8 in the first two lines: say where.
        try:
            source.decode("utf-8")
        except UnicodeDecodeError as error:
            return _undecodable(source, relative, error.start, "utf-8", False)
    if source.startswith(b"\xef\xbb\xbf") and reason.startswith("encoding problem"):
        return FileError(relative, 1, "cannot decode file: the UTF-8 byte order mark "
                                      "contradicts the coding declaration")
    line = 2 if reason.startswith("unknown encoding") and not _cookie_on_line_one(source) else 1
    return FileError(relative, line, f"cannot decode file: {reason}")


def _undecodable(source: bytes, relative: str, offset: int, encoding: str,
                 declared: bool) -> FileError:
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding
    reason = "" if declared else " and there is no coding declaration"
    return FileError(relative, _line_at(source, offset),
                     f"cannot decode file: byte 0x{source[offset]:02x} is not valid "
                     f"{shown}{reason}")


def _code_of(text: str) -> str:
    """text with each string literal and comment replaced by `"`: the code alone, in
    which a string prefix still shows (`f"`, `t"`, `b"`) and a keyword in a docstring
    does not (syntax.py's triggers read it). A constant replacement: measured on Django,
    keeping each string's own quote (capture groups) made the substitution 4x slower."""
    return STRINGS_AND_COMMENTS.sub('"', text)


def _surely_shallow(text: str, code: Optional[str] = None) -> bool:
    """True when no bracket nests deeper than MAX_BRACKET_DEPTH and no logical line has
    more than MAX_EXPRESSION_DEPTH characters outside strings and comments, so that
    _nesting_problem cannot find anything. A conservative bound at a tenth of its cost
    (measured on Django: 0.2 s instead of 2.5 s); files it cannot clear get the exact check.

    A logical line nests at most one level per character; brackets are counted per
    physical line, so the deepest point of a line is at most the depth before it plus
    the line's opening brackets.
    """
    code = (_code_of(text) if code is None else code).translate(_ALL_BRACKETS_ROUND)
    depth = 0
    length = 0
    continued = False
    for line in code.split("\n"):
        length = length + len(line) if depth or continued else len(line)
        opens = line.count("(")
        if depth + opens > MAX_BRACKET_DEPTH or length > MAX_EXPRESSION_DEPTH:
            return False
        if opens or depth:
            depth = max(depth + opens - line.count(")"), 0)
        continued = line.endswith("\\") or line.endswith("\\\r")
    return True


def _nesting_problem(text: str) -> Optional[Tuple[int, str]]:
    """(line, message) when the source nests deeper than MAX_BRACKET_DEPTH brackets or
    MAX_EXPRESSION_DEPTH expression levels, else None.

    The expression depth is estimated from the operators, keywords and trailers met since
    the start of the expression, summed over the enclosing brackets. Within a bracket, an
    operator counts for its own binding strength and forgets the counts of the tighter
    ones, so `a*b + c*d + ...` is as deep as its number of `+` (plus one product), not its
    number of operators, while `a.b.c...`, `x+x+x...` and `not not ...` count every link.
    Pure tokenizing: linear, no recursion, but a quarter of the cost of the parse, hence
    _surely_shallow first.
    """
    counts = [0] * _LEVELS  # per binding strength, in the innermost open bracket
    depth = 0  # the same, summed
    enclosing: List[Tuple[List[int], int]] = []  # the outer brackets' (counts, depth)
    outer = 0  # depth of all enclosing brackets together
    readline = io.StringIO(text, newline=None).readline  # lone CR ends a line too
    try:
        for token in tokenize.generate_tokens(readline):
            kind, string = token.type, token.string
            if kind == tokenize.OP and string in _OPENERS:
                enclosing.append((counts, depth))
                outer += depth
                counts, depth = [0] * _LEVELS, 0
                if len(enclosing) > MAX_BRACKET_DEPTH:
                    return (token.start[0], f"too many nested parentheses (more than "
                                            f"{MAX_BRACKET_DEPTH} levels)")
                continue
            if kind == tokenize.OP or (kind == tokenize.NAME and string in _KEYWORDS):
                level = _LEVEL_OF.get(string)
                if level == _TRAILER and string != "." and enclosing:  # a closing bracket
                    counts, depth = enclosing.pop()
                    outer -= depth
                if level is not None:
                    counts[level] += 1
                    if any(counts[level + 1:]):
                        counts[level + 1:] = [0] * (_LEVELS - level - 1)
                    depth = sum(counts)
                    if outer + depth > MAX_EXPRESSION_DEPTH:
                        return (token.start[0], f"expression nested too deeply (more than "
                                                f"{MAX_EXPRESSION_DEPTH} levels)")
                elif string in _SEPARATORS:
                    counts, depth = [0] * _LEVELS, 0
            elif kind == tokenize.NAME and string == "for":
                counts, depth = [0] * _LEVELS, 0
            elif kind == tokenize.NEWLINE:
                counts, depth, enclosing, outer = [0] * _LEVELS, 0, [], 0
    except tokenize.TokenError:
        return None  # at the end of the text: all of it was seen; the parser reports it
    except SyntaxError as error:  # IndentationError; on 3.12+ any tokenizer error
        return (max(error.lineno or 1, 1), f"syntax error: {_first_line(str(error.msg))}")
    return None


def _syntax_error(text: str, relative: str, error: cst.ParserSyntaxError) -> FileError:
    """The FileError for a file libcst cannot parse, with CPython's wording when CPython
    rejects it too: it is clearer ("Missing parentheses in call to 'print'") and what
    users know. The nesting check has run, so CPython's parser is safe to call here."""
    cpython = _cpython_compile(text)
    if isinstance(cpython, tuple):
        return FileError(relative, *cpython)
    message = _first_line(error.message)
    position = _LIBCST_POSITION.search(message)
    # libcst's raw_line is sometimes one past the line its message names.
    line = max(int(position.group(1)) if position else error.raw_line, 1)
    if len(message) > 160:
        message = message[:157].rstrip(", ") + "..."
    if cpython is True:
        # libcst's grammar has limits of its own (e.g. ~4000 implicitly concatenated
        # strings); don't call a file Python runs a syntax error.
        return FileError(relative, line,
                         f"cannot parse file with libcst (Python itself accepts it): {message}")
    return FileError(relative, line, f"syntax error: {message}")


def _cpython_compile(text: str) -> Union[bool, Tuple[int, str]]:
    """True when CPython's parser accepts text, (line, message) for its SyntaxError,
    False when it fails otherwise (too deep, out of memory)."""
    old_limit = sys.getrecursionlimit()
    try:
        # CPython scales its AST depth limit by the recursion limit; keep it at the default.
        sys.setrecursionlimit(1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
            compile(text, "<nilcheck>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return (max(error.lineno or 1, 1), f"syntax error: {_first_line(str(error.msg))}")
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError, ValueError
        return False
    finally:
        sys.setrecursionlimit(old_limit)
    return True


# ---------------------------------------------------------------- helpers


def _caused_by(error: BaseException, kinds) -> bool:
    """Whether error, or an exception it was raised while handling, is one of kinds
    (libcst turns a RecursionError deep in its code generator into a KeyError)."""
    seen = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _describe(error: BaseException) -> str:
    """`Type: message` without calling str() on arbitrary objects: a KeyError holding a
    CST node would render the whole tree, or recurse past the limit doing it."""
    name = type(error).__name__
    if isinstance(error, UnicodeError):  # its str() is safe and better than its args
        return f"{name}: {_first_line(str(error))[:200]}"
    if error.args and all(isinstance(arg, (str, int, float)) for arg in error.args):
        text = " ".join(str(arg) for arg in error.args)
        return f"{name}: {_first_line(text)[:200]}"
    return name


def _line_at(source: bytes, offset: int) -> int:
    """1-based line of a byte offset, counting \\n, \\r\\n and a lone \\r as line ends."""
    before = source[:offset]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)


def _first_two_lines(source: bytes) -> List[bytes]:
    return source[:65536].splitlines()[:2]


def _has_cookie(source: bytes) -> bool:
    return any(_COOKIE.search(line) for line in _first_two_lines(source))


def _cookie_on_line_one(source: bytes) -> bool:
    lines = _first_two_lines(source)
    return bool(lines) and _COOKIE.search(lines[0]) is not None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
