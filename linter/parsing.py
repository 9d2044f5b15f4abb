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
from pathlib import Path
from typing import Callable, List, Optional, Tuple, TypeVar, Union

import libcst as cst

from nilcheck.linter.facts import extract
from nilcheck.linter.ftypes import FileError
from nilcheck.linter.ir import ModuleFacts

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
# libcst's code generator and our converter recurse per nesting level (elif chains,
# nested calls); the parse thread's stack has room for far more than CPython's 1000.
RECURSION_LIMIT = 20000
# Virtual size of that thread's stack; pages are committed only when touched.
STACK_BYTES = 256 * 1024 * 1024

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


def module_name_for(root: Path, path: Path) -> Tuple[str, bool]:
    """Dotted module name from the package structure (__init__.py files), so that
    `src/app/server.py` is `app.server` whatever folder it sits in."""
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while _is_file(directory / "__init__.py") and directory != directory.parent:
        parts.insert(0, directory.name)
        if directory == root:
            break
        directory = directory.parent
    if not parts:
        parts = [path.parent.name or "__init__"]
    return ".".join(parts), is_package


def parse_file(root: Path, path: Path, module_name: str, is_package: bool) -> ParseResult:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    try:
        source = path.read_bytes()
    except OSError as error:
        return FileError(relative, 1, f"cannot read file: {error.strerror or error}")
    return parse_source(source, relative, module_name, is_package)


def parse_source(source: bytes, relative: str, module_name: str,
                 is_package: bool) -> ParseResult:
    """The facts of one module's source bytes, or the FileError saying why there are none."""
    try:
        return call_on_large_stack(
            lambda: _parse_guarded(source, relative, module_name, is_package))
    except Exception as error:  # noqa: BLE001 - _parse_guarded catches; this is the net
        return _internal_error(relative, error)


# ---------------------------------------------------------------- the stages


def _parse_guarded(source: bytes, relative: str, module_name: str,
                   is_package: bool) -> ParseResult:
    try:
        return _parse(source, relative, module_name, is_package)
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the scan
        return _internal_error(relative, error)


def _internal_error(relative: str, error: BaseException) -> FileError:
    if _caused_by(error, RecursionError):
        return FileError(relative, 1, "file is nested too deeply to analyse")
    if _caused_by(error, MemoryError):
        return FileError(relative, 1, "out of memory while analysing file")
    return FileError(relative, 1, f"internal error while analysing file: {_describe(error)}")


def _parse(source: bytes, relative: str, module_name: str, is_package: bool) -> ParseResult:
    if b"\x00" in source:
        return FileError(relative, _line_at(source, source.index(b"\x00")),
                         "not a Python source file (contains null bytes)")
    text = _decode(source, relative)
    if isinstance(text, FileError):
        return text
    problem = _nesting_problem(text)
    if problem is not None:
        line, message = problem
        return FileError(relative, line, message)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _syntax_error(text, relative, error)
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the scan
        if _caused_by(error, (RecursionError, MemoryError)):
            return _internal_error(relative, error)
        return FileError(relative, 1, f"cannot parse file: {_describe(error)}")
    return extract(module, module_name, relative, is_package)


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


def _nesting_problem(text: str) -> Optional[Tuple[int, str]]:
    """(line, message) when the source nests deeper than MAX_BRACKET_DEPTH brackets or
    MAX_EXPRESSION_DEPTH expression levels, else None.

    The expression depth is estimated from the operators, keywords and trailers met since
    the start of the expression, summed over the enclosing brackets. Within a bracket, an
    operator counts for its own binding strength and forgets the counts of the tighter
    ones, so `a*b + c*d + ...` is as deep as its number of `+` (plus one product), not its
    number of operators, while `a.b.c...`, `x+x+x...` and `not not ...` count every link.
    Pure tokenizing: linear, no recursion, about 5% of the cost of the parse.
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


def call_on_large_stack(work: Callable[[], T], recursion_limit: int = RECURSION_LIMIT) -> T:
    """work() run in a fresh thread with a STACK_BYTES stack and at least
    recursion_limit, returning its value or raising its exception here. Deeply nested
    input (long elif chains, deep class hierarchies) then meets a RecursionError or
    succeeds, never a C stack overflow that kills the process. When the platform refuses
    such a thread, work() runs on this one, with the recursion limit left as it is."""
    outcome: List[Tuple[bool, object]] = []

    def run(limit: int) -> None:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, limit))
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome.append((False, error))
        finally:
            sys.setrecursionlimit(old_limit)

    thread: Optional[threading.Thread] = None
    try:
        previous = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):
        previous = None
    if previous is not None:
        try:
            thread = threading.Thread(target=run, args=(recursion_limit,),
                                      name="nilcheck-deep-stack", daemon=True)
            thread.start()
        except RuntimeError:  # cannot start a thread (resource limits)
            thread = None
        finally:
            threading.stack_size(previous)
    if thread is None:
        run(0)
    else:
        thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


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


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a directory we may not search
        return False


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
