"""Is a file that libcst parsed valid Python for the project's target version?

libcst's native parser accepts the union of every grammar it knows (up to Python 3.14),
so a file it parses may still be one the project's Python cannot compile. Measured with
libcst 1.9.0 against CPython 3.7-3.13 (`compile()`, and `ast.parse(feature_version=)` on
3.11, 3.12 and 3.13), libcst accepts all of these:

- Python 2's `except X, e:` (valid 3.14 syntax, PEP 758: `except A, B:` catches both);
  all other Python 2 statements (`print x`, `exec "..."`, backticks, `<>`, `0777`,
  `10L`, `ur''`, `raise E, v`, tuple parameters) are libcst syntax errors already;
- t-strings `t'...'` (3.14);
- never valid in any CPython: bytes literals with non-ASCII characters, `[*a for a in b]`,
  `{**a for a in b}`, `(*a for a in b)`;
- version-gated syntax, each valid only from the version given: `:=` (3.8; unparenthesized
  in a set display 3.9, in a subscript 3.10), positional-only `/` (3.8), unparenthesized
  starred items in `return`/`yield`/annotated assignments (3.8), in augmented assignments
  and `for ... in` (3.9), parenthesized context managers `with (a as b, c as d):` (3.9),
  decorators that are any expression `@a[0].b` (3.9), `match` (3.10), `except*`,
  `a[*b]` and `*args: *Ts` (3.11), PEP 695 `type X = ...`, `def f[T]()`, `class C[T]`
  and PEP 701 f-strings (the enclosing quote, a backslash or a `#` comment inside the
  replacement field, more than two levels of nested format specs, line breaks in a
  single-quoted f-string; all 3.12), type parameter defaults `[T = int]` (3.13).

What libcst rejects stays its error (parsing.py). Errors that only CPython's compiler
finds, after a successful parse (`return` outside a function, duplicate parameter names,
`nonlocal` at module level, `continue` in `finally` before 3.8), are not reported, and
neither is `f'{x=}'` for targets before 3.8.

Why not simply `ast.parse(feature_version=)`: it is best effort, and measured, it misses
most of the gated syntax above (starred items anywhere, relaxed decorators, walrus in
subscripts, and on 3.12+ every f-string rule and parenthesized context managers), and
on 3.11 and 3.12 it rejects valid 3.8 code (`with (lock):`, `with (a, b):`). And it cannot
speak for a version newer than the interpreter running it. So the verdict is the running
CPython's own parser for what it rejects; for version-gated syntax it accepts, a walk of
its AST looking for the constructs above, with their exact first versions; and for
f-strings, a port of 3.11's f-string scanner (a 3.12+ interpreter reads them the new way).
Checked against real CPython 3.8-3.13 on 13,087 files (their six standard libraries and
Django's sdist), each file for targets 3.8-3.13, running on 3.11, 3.12 and 3.13: no false
errors, and nothing missed but one file CPython 3.12.1 itself fails on (not a
SyntaxError).

Why a prefilter: parsing every file again with CPython costs ~12% of libcst's parse
(Django: 1.2 s next to ~10 s), too much for a check that almost never fires. Each
construct above has a cheap text trigger over the file's code with strings and comments
taken out (parsing.py computes it anyway for its nesting check); only a file that trips
a trigger of a construct the target lacks is parsed with CPython. Measured on Django
(883 files, target 3.10, CPython 3.11): the whole check took 73-78 ms (triggers ~40 ms,
the f-string pre-check ~32 ms, one file parsed again), under 1% of libcst's parse.

The running interpreter sets the limits: for a target newer than itself, it checks only
what it can tell apart. A file that trips a trigger of syntax newer than the running
interpreter but not newer than the target is left to libcst: its SyntaxError could be
that valid syntax.
"""
from __future__ import annotations

import ast
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from nilcheck.linter.pyversion import RUNNING, PythonTarget, Version

Problem = Tuple[int, str]  # (line, message)
NEVER: Version = (99, 0)  # "since" of syntax no CPython accepts


# ---------------------------------------------------------------- triggers


@dataclass(frozen=True)
class _Trigger:
    """Text that any use of a construct leaves in the code (strings and comments gone,
    each string reduced to its opening quote character): a literal that must be in it,
    then a pattern, both cheap (they start with a literal, so the regex engine skips to
    it). False alarms cost a CPython parse; a miss would cost a missed error."""

    name: str
    since: Version
    literals: Tuple[str, ...]
    pattern: Optional["re.Pattern[str]"] = None

    def fires(self, code: str) -> bool:
        if self.literals and not any(literal in code for literal in self.literals):
            return False
        return self.pattern is None or self.pattern.search(code) is not None


def _prefixed(letters: str) -> "re.Pattern[str]":
    """A string with one of letters in its prefix (`t"`, `rt"`, `tr"`; strings are `"` in
    the code). Led by the quote: measured on Django's code, 5 ms where six literal
    searches took 19 ms and a letter-led pattern 24 ms."""
    return re.compile(f'"(?<=[{letters}]")|"(?<=[{letters}][rR]")')


# One level of balanced brackets, for the patterns that must look past a call or subscript.
_GROUP = r"\((?:[^()]|\([^()]*\))*\)|\[(?:[^\[\]]|\[[^\[\]]*\])*\]|\{(?:[^{}]|\{[^{}]*\})*\}"
_STAR_ITEM = r"[ \t]*(?:\*|[^\n]*?,[ \t]*\*)"  # a starred item, first or after a comma

_TRIGGERS: Tuple[_Trigger, ...] = (
    # `except A, e:` (a comma outside brackets before the colon); 3.14 reads it as two types.
    _Trigger("except-comma", (3, 14), ("except",), re.compile(
        r"except(?<![\w.]except)\b(?:[^,:()\[\]{}\n]|" + _GROUP + r")*,")),
    _Trigger("t-string", (3, 14), (), _prefixed("tT")),
    # No CPython accepts these; its parser gives the message.
    _Trigger("star-comprehension", NEVER, ("for",), re.compile(
        r"\*(?<=[\[({\s]\*)\*?\s*[\w.]+(?:" + _GROUP
        + r")*\s*(?:async\s+)?for\b")),
    _Trigger("pep695-def", (3, 12), ("def",), re.compile(r"def[ \t]+\w+[ \t]*\[")),
    _Trigger("pep695-class", (3, 12), ("class",), re.compile(r"class[ \t]+\w+[ \t]*\[")),
    _Trigger("pep695-type", (3, 12), ("type",), re.compile(
        r"type(?<![\w.]type)[ \t]+\w+[ \t]*[=\[]")),
    _Trigger("except-star", (3, 11), ("except",), re.compile(r"except[ \t]*\*")),
    _Trigger("star-subscript", (3, 11), ("[",), re.compile(
        r'\[(?<=[\w)\]"]\[)(?:\s*\*|(?:[^\[\]()]|' + _GROUP + r')*?,\s*\*)')),
    _Trigger("star-annotation", (3, 11), ("*",), re.compile(r"\*[ \t]*\w+[ \t]*:[ \t]*\*")),
    _Trigger("match", (3, 10), ("match",), re.compile(
        r"^[ \t]*match\b(?![ \t]*(?:[=.,):}\]]|[-+*/%&|^@<>]=|$))", re.M)),
    # Unparenthesized in a subscript (3.10) or a set (3.9): right after `[`, `{` or `,`.
    _Trigger("walrus-bracketed", (3, 10), (":=",), re.compile(r"[\[{,]\s*\w+\s*:=")),
    _Trigger("walrus", (3, 8), (":=",)),
    _Trigger("with-parentheses", (3, 9), ("with",), re.compile(
        r"with(?<![\w.]with)[ \t]*\(")),
    _Trigger("decorator", (3, 9), ("@",), re.compile(
        r"@(?![ \t]*[\w. \t]*(?:$|\())|@[ \t]*[\w. \t]*(?:" + _GROUP + r")[ \t]*[^\s]",
        re.M)),
    _Trigger("star-for", (3, 9), ("for",), re.compile(
        r"for(?<![\w.]for)\b[^\n]*?\bin\b[ \t]*(?:\*|[^\n(\[{]*?,[ \t]*\*)")),
    _Trigger("star-augmented", (3, 9), ("=",), re.compile(
        r"=(?:(?<=[-+*/%&|^@]=)|(?<=<<=)|(?<=>>=))" + _STAR_ITEM)),
    _Trigger("positional-only", (3, 8), ("/",), re.compile(r"/(?=\s*[,):])")),
    _Trigger("star-return", (3, 8), ("return", "yield", "="), re.compile(
        r"(?:return|yield|=)" + _STAR_ITEM)),
)
_BYTES = _Trigger("non-ascii-bytes", NEVER, (), _prefixed("bB"))
_BYTES_OPENING = re.compile(r"(?:[bB][rR]?|[rR][bB])(?='|\")")
# f-strings, for the PEP 701 check: any f-string in the code, then in the text one that a
# Python before 3.12 may not read (a replacement field reaching a quote of the string's
# own kind, a backslash, a `#` or a line break; format specs nested three deep). Led by
# the prefix, so the regex engine only tries at an `f`; measured on Django: ~30 ms over
# the 142 files with f-strings (a quote-led variant took 150 ms).
_F_STRING = _Trigger("f-string", (3, 12), (), _prefixed("fF"))
_SUSPECT_F_STRING = re.compile(
    r"[fF][rR]?(['\"])(?:(?!\1)[^\\\r\n{]|\\.|\{\{|\{(?:(?!\1)[^}\\#\r\n{])*\})*"
    r"\{(?:(?!\1)[^}\r\n])*?(?:\1|[\\#\r\n]|\Z)"
    r"|[fF][rR]?('\'\'|\"\"\")(?:(?!\2)[^\\{]|\\.|\{\{|\{(?:(?!\2)[^}\\#{])*\})*"
    r"\{(?:(?!\2)[^}])*?(?:\2|[\\#]|\Z)"
    r"|[fF][rR]?['\"][^\r\n]*?\{[^}\r\n]*\{[^}\r\n]*\{")


def fired_triggers(text: str, code: str, below: Version) -> List[_Trigger]:
    """The triggers, of constructs newer than below, that code trips (f-strings aside)."""
    fired = [trigger for trigger in _TRIGGERS if trigger.since > below and trigger.fires(code)]
    if not text.isascii() and _BYTES.fires(code) and _non_ascii_bytes(text):
        fired.append(_BYTES)
    return fired


def _non_ascii_bytes(text: str) -> bool:
    """Whether a bytes literal of text holds a non-ASCII character."""
    for opening in _BYTES_OPENING.finditer(text):
        start = opening.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        literal = STRINGS_AND_COMMENTS.match(text, opening.end())
        if literal is not None and not literal.group().isascii():
            return True
    return False


def _old_fstrings_unreadable(text: str, code: str) -> List["Found"]:
    """The f-strings of text that a Python before 3.12 cannot read."""
    if not _F_STRING.fires(code) or _SUSPECT_F_STRING.search(text) is None:
        return []
    return _old_fstring_problems(text)


# ---------------------------------------------------------------- the check


def version_problem(text: str, code: str, target: PythonTarget,
                    running: Version = RUNNING) -> Optional[Problem]:
    """(line, message) when text is not valid Python for the target version, as far as
    the running interpreter can tell; None otherwise. code is text with its strings and
    comments replaced by `"` (parsing._code_of)."""
    wanted = target.version
    fired = fired_triggers(text, code, min(wanted, running))
    fstrings = _old_fstrings_unreadable(text, code) if min(wanted, running) < (3, 12) else []
    if wanted > running:
        # What this interpreter rejects and the target accepts is not an error, and its
        # parser cannot tell that apart from one: only files without such syntax.
        if any(running < t.since <= wanted for t in fired) or (
                fstrings and running < (3, 12) <= wanted):
            return None
        fstrings = []
    elif wanted >= (3, 12):
        fstrings = []
    found: List[Found] = list(fstrings)
    if fired:
        parsed = _parse_with_cpython(text)
        if parsed is not None and not isinstance(parsed, ast.AST):
            line, message = parsed
            return line, f"syntax error for {target.describe()}: {message}"
        gated = {t.name for t in fired if wanted < t.since <= running}
        if isinstance(parsed, ast.AST) and gated:
            found.extend(_gated_syntax(parsed, text, gated, wanted))
    if not found:
        return None
    line, what, since = min(found)
    return line, (f"syntax error for {target.describe()}: {what} needs Python "
                  f"{since[0]}.{since[1]}")


def _parse_with_cpython(text: str):
    """The AST of text, (line, message) for its SyntaxError, or None when CPython fails
    otherwise (too deep, out of memory): then libcst's verdict stands."""
    old_limit = sys.getrecursionlimit()
    try:
        # CPython scales its AST depth limit by the recursion limit; keep the default.
        sys.setrecursionlimit(1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
            return compile(text, "<nilcheck>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        message = " ".join(str(error.msg or "invalid syntax").split())
        return max(error.lineno or 1, 1), message
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError, ValueError
        return None
    finally:
        sys.setrecursionlimit(old_limit)


# ---------------------------------------------------------------- gated syntax in the AST

Found = Tuple[int, str, Version]  # (line, what, first version that accepts it)


class _Source:
    """The source's lines as UTF-8 bytes: AST columns are byte offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: Optional[List[bytes]] = None

    @property
    def lines(self) -> List[bytes]:
        if self._lines is None:
            self._lines = self.text.encode("utf-8", "surrogatepass").splitlines()
        return self._lines

    def at(self, line: int, column: int) -> bytes:
        if 0 < line <= len(self.lines):
            return self.lines[line - 1][column:column + 1]
        return b""

    def before(self, node: ast.AST) -> bytes:
        """The last non-blank byte before node on its line, or b"" at the line's start."""
        text = self.lines[node.lineno - 1][:node.col_offset].rstrip()  # type: ignore[attr-defined]
        return text[-1:]


def _parenthesized_tuple(node: ast.Tuple, source: _Source) -> bool:
    """Whether the tuple has parentheses of its own (AST positions include them, from
    3.8); `(a), *b` starts with a parenthesis that is its first item's."""
    if not node.elts or source.at(node.lineno, node.col_offset) != b"(":
        return False
    last = node.elts[-1]
    return (source.at(node.end_lineno, node.end_col_offset - 1) == b")"  # type: ignore[arg-type,operator]
            and (last.end_lineno, last.end_col_offset) < (node.end_lineno, node.end_col_offset))


def _unparenthesized_starred(value: Optional[ast.AST], source: _Source) -> bool:
    return (isinstance(value, ast.Tuple) and any(isinstance(e, ast.Starred) for e in value.elts)
            and not _parenthesized_tuple(value, source))


def _dotted(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _old_decorator(node: ast.expr, source: _Source) -> bool:
    """The decorator grammar before 3.9: a dotted name, optionally called once."""
    callee = node.func if isinstance(node, ast.Call) else node
    return _dotted(callee) and source.before(node) == b"@"


def _with_group_binds(node: ast.AST, source: _Source) -> bool:
    """Whether a with statement's items are in parentheses that hold an `as`:
    `with (a as b):` needs 3.9, while `with (a) as b:` and `with (a, b):` are 3.8
    expressions in parentheses."""
    lines = source.text.splitlines(keepends=True)[node.lineno - 1:]  # type: ignore[attr-defined]
    depth = 0
    opened = False
    try:
        for token in tokenize.generate_tokens(iter(lines).__next__):
            if token.type != tokenize.OP and token.type != tokenize.NAME:
                continue
            if not opened:
                if token.string in ("async", "with"):
                    continue
                if token.string != "(":
                    return False
                opened = True
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
                if depth == 0:
                    return False
            elif token.string == "as" and depth == 1:
                return True
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return False
    return False


def _gated_syntax(tree: ast.AST, text: str, gated: Sequence[str] | set,
                  target: Version) -> List[Found]:
    """Every use of version-gated syntax newer than target among the gated trigger
    names, with the first version that accepts it."""
    source = _Source(text)
    found: List[Found] = []
    add = found.append
    walrus = bool({"walrus", "walrus-bracketed"} & set(gated))
    star_return = "star-return" in gated
    decorators = "decorator" in gated
    typed = bool({"pep695-def", "pep695-class", "pep695-type"} & set(gated))
    try_star = getattr(ast, "TryStar", ())
    type_alias = getattr(ast, "TypeAlias", ())
    template = getattr(ast, "TemplateStr", ())
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            if walrus and target < (3, 8):
                add((node.lineno, "an assignment expression (`:=`)", (3, 8)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                               ast.Lambda)):
            arguments = getattr(node, "args", None)
            if isinstance(arguments, ast.arguments):
                if arguments.posonlyargs and "positional-only" in gated:
                    add((node.lineno, "a positional-only parameter (`/`)", (3, 8)))
                vararg = arguments.vararg
                if (vararg is not None and isinstance(vararg.annotation, ast.Starred)
                        and "star-annotation" in gated):
                    add((vararg.lineno, "a starred annotation (`*args: *Ts`)", (3, 11)))
            if decorators and not isinstance(node, ast.Lambda):
                for decorator in node.decorator_list:
                    if not _old_decorator(decorator, source):
                        add((decorator.lineno, "a decorator that is not a dotted name "
                                               "or a call of one", (3, 9)))
            if typed and getattr(node, "type_params", None):
                add((node.lineno, "a type parameter list (PEP 695)", (3, 12)))
            _type_defaults(node, add, target)
        elif isinstance(node, (ast.Return, ast.Yield, ast.AnnAssign)):
            if star_return and _unparenthesized_starred(node.value, source):
                add((node.lineno, "an unparenthesized tuple with a starred item", (3, 8)))
        elif isinstance(node, ast.AugAssign):
            if "star-augmented" in gated and _unparenthesized_starred(node.value, source):
                add((node.lineno, "an unparenthesized tuple with a starred item", (3, 9)))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if "star-for" in gated and _unparenthesized_starred(node.iter, source):
                add((node.lineno, "an unparenthesized tuple with a starred item", (3, 9)))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            if "with-parentheses" in gated and _with_group_binds(node, source):
                add((node.lineno, "a parenthesized group of context managers", (3, 9)))
        elif isinstance(node, ast.Set):
            if walrus and target >= (3, 8):
                for element in node.elts:
                    if isinstance(element, ast.NamedExpr) and source.before(element) in b"{,":
                        add((element.lineno, "an unparenthesized `:=` in a set", (3, 9)))
        elif isinstance(node, ast.Subscript):
            index = node.slice
            items = ([index] if not isinstance(index, ast.Tuple)
                     else [] if _parenthesized_tuple(index, source) else index.elts)
            for item in items:
                if isinstance(item, ast.Starred) and "star-subscript" in gated:
                    add((item.lineno, "a starred expression in a subscript", (3, 11)))
                elif (isinstance(item, ast.NamedExpr) and walrus and target >= (3, 8)
                      and source.before(item) in b"[,"):
                    add((item.lineno, "an unparenthesized `:=` in a subscript", (3, 10)))
        elif isinstance(node, ast.Match):
            if "match" in gated:
                add((node.lineno, "a `match` statement", (3, 10)))
        elif try_star and isinstance(node, try_star):
            if "except-star" in gated:
                handlers = node.handlers  # type: ignore[attr-defined]
                add((handlers[0].lineno if handlers else node.lineno, "`except*`", (3, 11)))
        elif type_alias and isinstance(node, type_alias):
            if typed:
                add((node.lineno, "a `type` statement (PEP 695)", (3, 12)))
            _type_defaults(node, add, target)
        elif isinstance(node, ast.ExceptHandler):
            if ("except-comma" in gated and isinstance(node.type, ast.Tuple)
                    and not _parenthesized_tuple(node.type, source)):
                add((node.lineno, "exception types not in parentheses", (3, 14)))
        elif template and isinstance(node, template):
            if "t-string" in gated:
                add((node.lineno, "a template string (t-string)", (3, 14)))  # type: ignore[attr-defined]
    return found


def _type_defaults(node: ast.AST, add: Callable[[Found], None], target: Version) -> None:
    if target < (3, 13):
        for parameter in getattr(node, "type_params", None) or ():
            if getattr(parameter, "default_value", None) is not None:
                add((parameter.lineno, "a type parameter default", (3, 13)))


# ---------------------------------------------------------------- f-strings before PEP 701

# Comments and string literals, as the tokenizer reads them (unterminated ones end where
# the tokenizer would give up); before 3.12 an f-string is a string like any other, which
# ends at the first unescaped quote of its kind. Written unrolled so the regex engine
# never backtracks. parsing.py blanks them out with it too.
STRINGS_AND_COMMENTS = re.compile(
    r"#[^\r\n]*"
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    r"|'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*(?:'|(?=[\r\n])|\Z)"
    r'|"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*(?:"|(?=[\r\n])|\Z)',
    re.S)
_PREFIX = re.compile(r"(?<![\w])[A-Za-z]{1,2}\Z")


def _old_fstring_problems(text: str) -> List[Found]:
    """The f-strings that a Python before 3.12 could not read (PEP 701 lifted these
    limits): a quote of the enclosing kind, a backslash or a comment inside a
    replacement field, format specs nested more than twice, a single-quoted f-string
    that spans lines. A port of CPython 3.11's f-string scanner (fstring_find_expr)."""
    found: List[Found] = []
    for match in STRINGS_AND_COMMENTS.finditer(text):
        token = match.group()
        if token[0] == "#":
            continue
        start = match.start()
        prefix = _PREFIX.search(text, max(0, start - 3), start)
        if prefix is None or "f" not in prefix.group().lower():
            continue
        quote = token[:3] if token[:3] in ("'''", '"""') else token[0]
        closed = len(token) >= 2 * len(quote) and token.endswith(quote)
        body = token[len(quote):len(token) - len(quote)] if closed else token[len(quote):]
        raw = "r" in prefix.group().lower()
        problem = None if closed else "an f-string that is not closed where a Python " \
                                          "before 3.12 ends it"
        if problem is None:
            problem = _FStringScanner(body, raw).problem()
        if problem is not None:
            line = text.count("\n", 0, start) + 1
            found.append((line, problem, (3, 12)))
    return found


class _FStringScanner:
    """Reads an f-string's body as CPython 3.8-3.11 did; problem() says what stops it."""

    def __init__(self, body: str, raw: bool) -> None:
        self.body = body
        self.raw = raw
        self.at = 0

    def problem(self) -> Optional[str]:
        try:
            self._literal_and_fields(0)
        except _OldFStringError as error:
            return f"an f-string that {error}"
        return None

    def _literal_and_fields(self, level: int) -> None:
        body = self.body
        while self.at < len(body):
            char = body[self.at]
            if char == "\\" and not self.raw:
                if body.startswith("N{", self.at + 1):  # \N{NAME}: braces are the escape's
                    end = body.find("}", self.at)
                    self.at = len(body) if end < 0 else end + 1
                    continue
                self.at += 1 if body[self.at + 1:self.at + 2] in ("{", "}") else 2
                continue
            if char in "{}":
                if level == 0 and body[self.at + 1:self.at + 2] == char:
                    self.at += 2  # {{ or }}
                    continue
                if char == "}":
                    if level == 0:
                        raise _OldFStringError("has a single '}'")
                    return  # the end of a format spec
                self.at += 1
                self._field(level)
                continue
            self.at += 1

    def _field(self, level: int) -> None:
        if level >= 2:
            raise _OldFStringError("nests format specs more than two deep")
        body = self.body
        quote = ""
        brackets: List[str] = []
        while self.at < len(body):
            char = body[self.at]
            if char == "\\":
                raise _OldFStringError("has a backslash inside a replacement field")
            if quote:
                if body.startswith(quote, self.at):
                    self.at += len(quote)
                    quote = ""
                else:
                    self.at += 1
                continue
            if char in "'\"":
                quote = char * 3 if body.startswith(char * 3, self.at) else char
                self.at += len(quote)
                continue
            if char in "([{":
                brackets.append(char)
            elif char == "#":
                raise _OldFStringError("has a comment inside a replacement field")
            elif char in ")]}" and brackets:
                brackets.pop()
            elif not brackets and char in "!:}=<>":
                following = body[self.at + 1:self.at + 2]
                if following == "=" and char in "!=<>":
                    self.at += 2
                    continue
                if char in "<>":
                    self.at += 1
                    continue
                break
            self.at += 1
        if quote:
            raise _OldFStringError("has a string inside a replacement field that does not "
                                   "close before the f-string does")
        if self.at >= len(body) or brackets:
            raise _OldFStringError("is closed inside a replacement field (a quote of its "
                                   "own kind, or a line break, inside `{...}`)")
        char = body[self.at]
        if char == "=":  # `{x=}`, 3.8
            self.at += 1
            while self.at < len(body) and body[self.at].isspace():
                self.at += 1
            char = body[self.at:self.at + 1]
        if char == "!":
            conversion = body[self.at + 1:self.at + 2]
            if conversion not in ("s", "r", "a") or body[self.at + 2:self.at + 3] not in (":", "}"):
                raise _OldFStringError("has a conversion (`!r`) not followed at once by "
                                       "`:` or `}`")
            self.at += 2
            char = body[self.at]
        if char == ":":
            self.at += 1
            self._literal_and_fields(level + 1)
            char = body[self.at:self.at + 1]
        if char != "}":
            raise _OldFStringError("is closed inside a replacement field")
        self.at += 1


class _OldFStringError(Exception):
    pass
