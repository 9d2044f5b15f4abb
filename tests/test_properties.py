"""Properties that hold for every input, checked on generated programs.

- parse_source returns ModuleFacts or a FileError and never raises: on valid Python from
  the grammar (hypothesmith), on arbitrary bytes, and on valid modules with random bytes
  changed.
- The whole engine returns for any project, and its report is deterministic: the same
  input twice gives byte-identical JSON, and so does the file list in reverse order (and
  a different PYTHONHASHSEED, in a child process).
- On generated class-based programs (late fields, initializers, readers, guards, calls
  between methods, threads) the analysis itself is exercised: besides not crashing and
  being deterministic, a program that runs every initializer first has no finding, and
  one whose entry calls an unguarded reader first has that finding.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nilcheck.linter import engine
from nilcheck.linter.ftypes import AnalysisSettings, FileError
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.parsing import parse_source
from nilcheck.linter.reporters import render

try:
    import hypothesmith
except ImportError:  # pragma: no cover - the test extra installs it
    hypothesmith = None

needs_hypothesmith = pytest.mark.skipif(hypothesmith is None, reason="hypothesmith not installed")
# hypothesmith compiles what it generates, and so does _callables: `1()` and the like warn.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# Bounded so the file stays fast; NILCHECK_PROPERTY_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("NILCHECK_PROPERTY_EXAMPLES", "30"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
FIXTURES = Path(__file__).parent / "fixtures"


def _parse(source: bytes, name: str = "app.gen") -> object:
    return parse_source(source, name.replace(".", "/") + ".py", name, False)


def _assert_value(result: object) -> None:
    assert isinstance(result, (ModuleFacts, FileError)), result
    if isinstance(result, FileError):
        assert result.line >= 1 and result.message.strip()
        assert "\n" not in result.message


# ------------------------------------------------------------------ parse_source


@needs_hypothesmith
@BOUNDED
@given(source=hypothesmith.from_grammar() if hypothesmith else st.nothing())
def test_parse_source_on_grammar_programs(source: str) -> None:
    first = _parse(source.encode("utf-8", "surrogatepass"))
    _assert_value(first)
    assert _parse(source.encode("utf-8", "surrogatepass")) == first  # deterministic


@needs_hypothesmith
@settings(BOUNDED, max_examples=max(1, EXAMPLES // 4))  # libcst-based generation is slow
@given(source=hypothesmith.from_node() if hypothesmith else st.nothing())
def test_parse_source_on_libcst_generated_modules(source: str) -> None:
    result = _parse(source.encode("utf-8", "surrogatepass"))
    _assert_value(result)


@BOUNDED
@given(source=st.binary(max_size=400))
def test_parse_source_on_arbitrary_bytes(source: bytes) -> None:
    _assert_value(_parse(source))


@BOUNDED
@given(source=st.text(max_size=300))
def test_parse_source_on_arbitrary_text(source: str) -> None:
    _assert_value(_parse(source.encode("utf-8", "surrogatepass")))


SEED_MODULE = textwrap.dedent("""\
    # -*- coding: utf-8 -*-
    import threading


    class Server:
        def __init__(self):
            self.conn = None

        def connect(self):
            self.conn = object()

        def serve(self, items=[(1, 2), {"a": [3]}]):
            if self.conn is not None and self.conn.ready:
                return [x for x in items if x]
            threading.Thread(target=self.connect).start()
            return lambda: self.conn.send(f"{items!r:>10}")


    if __name__ == "__main__":
        Server().serve()
    """).encode()


@BOUNDED
@given(edits=st.lists(st.tuples(st.integers(0, len(SEED_MODULE)),
                                st.integers(0, 3),
                                st.binary(min_size=0, max_size=3)),
                      min_size=1, max_size=6))
def test_parse_source_on_corrupted_modules(edits: List[Tuple[int, int, bytes]]) -> None:
    """Valid source with a few byte ranges replaced: any mix of syntax and encoding
    damage, at any place."""
    source = bytearray(SEED_MODULE)
    for offset, length, replacement in edits:
        source[offset:offset + length] = replacement
    _assert_value(_parse(bytes(source)))


# ------------------------------------------------------------------ the whole engine


def _analyse(root: Path, files: Sequence[Path]) -> str:
    result = engine.analyze(AnalysisSettings(root=root, files=tuple(files), jobs=1,
                                             use_cache=False))
    return render("json", result, root, timing=False)


def _write_project(root: Path, modules: Dict[str, str]) -> List[Path]:
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, source in modules.items():
        (package / f"{name}.py").write_bytes(source.encode("utf-8", "surrogatepass"))
    return sorted(package.glob("*.py"), key=lambda path: path.as_posix())


def _assert_deterministic(modules: Dict[str, str], twice: bool = True) -> dict:
    """Analyse twice, and with the file list reversed: byte-identical JSON each time."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory).resolve()
        files = _write_project(root, modules)
        first = _analyse(root, files)
        if twice:
            assert _analyse(root, files) == first
        assert _analyse(root, list(reversed(files))) == first
    report = json.loads(first)
    keys = [(f["file"], f["line"], f["column"], f["rule"]) for f in report["findings"]]
    assert keys == sorted(keys)
    for finding in report["findings"]:
        assert finding["trace"][0]["kind"] == "entry"
        assert finding["trace"][-1]["kind"] == "read"
        assert (finding["trace"][-1]["file"], finding["trace"][-1]["line"]) == \
            (finding["file"], finding["line"])
    return report


def _callables(source: str) -> List[str]:
    """Calls a main block can make into a module: its functions and classes' methods."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    calls = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            calls.append(f"{node.name}()")
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    calls.append(f"{node.name}().{item.name}()")
    return calls


@needs_hypothesmith
@BOUNDED
@given(sources=st.lists(hypothesmith.from_grammar() if hypothesmith else st.nothing(),
                        min_size=1, max_size=3))
def test_engine_on_grammar_modules(sources: List[str]) -> None:
    modules = {f"gen{index}": source for index, source in enumerate(sources)}
    main = [f"import app.gen{index}" for index in range(len(sources))]
    main += ["", "", "if __name__ == '__main__':", "    pass"]
    for index, source in enumerate(sources):
        main += [f"    app.gen{index}.{call}" for call in _callables(source)]
    modules["main"] = "\n".join(main) + "\n"
    _assert_deterministic(modules)


# ------------------------------------------------------------------ class-based programs

FIELDS = ("conn", "store", "host", "clock")
ATTRS = ("send", "get", "close", "now")


@dataclass(frozen=True)
class ClassSpec:
    name: str
    fields: Tuple[str, ...]
    methods: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (name, statements); setup first


@dataclass(frozen=True)
class Program:
    modules: Dict[str, str]
    classes: Tuple[Tuple[str, ClassSpec], ...]  # (module, class)
    main_calls: Tuple[str, ...]
    # The finding the entry must produce: (module, class, field, line) or None.
    expected: Optional[Tuple[str, str, str, int]]


@st.composite
def statements(draw, fields: Sequence[str], methods: Sequence[str]) -> Tuple[str, ...]:
    """One method body: reads, guarded reads, stores, calls, threads, early exits."""
    field = st.sampled_from(fields)
    attr = st.sampled_from(ATTRS)
    kinds = st.sampled_from(["read", "alias_read", "guarded", "early_exit", "store", "call",
                             "thread", "timer", "lambda", "loop", "try"])
    body: List[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(kinds)
        f, a = draw(field), draw(attr)
        callee = draw(st.sampled_from(methods)) if methods else None
        if kind == "read":
            body.append(f"self.{f}.{a}()")
        elif kind == "alias_read":
            body.append(f"value = self.{f}\nvalue.{a}")
        elif kind == "guarded":
            body.append(f"if self.{f} is not None:\n    self.{f}.{a}()")
        elif kind == "early_exit":
            body.append(f"if self.{f} is None:\n    return\nself.{f}.{a}()")
        elif kind == "store":
            body.append(f"self.{f} = object()")
        elif kind == "call" and callee:
            body.append(f"self.{callee}()")
        elif kind == "thread" and callee:
            body.append(f"threading.Thread(target=self.{callee}).start()")
        elif kind == "timer" and callee:
            body.append(f"threading.Timer(1.0, self.{callee}).start()")
        elif kind == "lambda":
            body.append(f"callback = lambda: self.{f}.{a}()\ncallback()")
        elif kind == "loop":
            body.append(f"for _ in range(2):\n    self.{f}.{a}()")
        elif kind == "try":
            body.append(f"try:\n    self.{f}.{a}()\nexcept AttributeError:\n    pass")
        else:
            body.append("pass")
    return tuple(body)


@st.composite
def class_specs(draw, name: str) -> ClassSpec:
    fields = tuple(draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)))
    names = [f"step{index}" for index in range(draw(st.integers(1, 4)))]
    methods = [("setup", tuple(f"self.{f} = object()" for f in fields))]
    for index, method in enumerate(names):
        # Calls go to later methods only, or to any (recursion) when drawn so.
        callees = names[index + 1:] if draw(st.booleans()) else names
        methods.append((method, draw(statements(fields, callees))))
    return ClassSpec(name, fields, tuple(methods))


def _class_source(spec: ClassSpec, style: str) -> Tuple[str, Dict[str, int]]:
    """The class's source and the line (within it) of each method's first statement."""
    lines = [f"class {spec.name}:"]
    if style == "class_attribute":
        lines += [f"    {f} = None" for f in spec.fields] + [""]
    else:
        lines.append("    def __init__(self):")
        for f in spec.fields:
            annotation = ": Optional[object]" if style == "annotated" else ""
            lines.append(f"        self.{f}{annotation} = None")
        lines.append("")
    first_lines = {}
    for method, body in spec.methods:
        lines.append(f"    def {method}(self):")
        first_lines[method] = len(lines) + 1
        for statement in body:
            lines += ["        " + line for line in statement.splitlines()]
        lines.append("")
    return "\n".join(lines) + "\n", first_lines


@st.composite
def class_programs(draw, order: str = "any") -> Program:
    """order: "any" (random calls), "initialized" (every setup() before anything else,
    no finding possible), "unguarded_first" (a reader of a late field called first, its
    initializer right after)."""
    module_count = draw(st.integers(1, 2))
    modules: Dict[str, str] = {}
    classes: List[Tuple[str, ClassSpec]] = []
    lines_of: Dict[Tuple[str, str], Dict[str, int]] = {}
    for module_index in range(module_count):
        module = f"mod{module_index}"
        header = ["import threading", "from typing import Optional", "", ""]
        body = []
        offset = len(header)
        for class_index in range(draw(st.integers(1, 2))):
            spec = draw(class_specs(f"C{module_index}{class_index}"))
            if order == "unguarded_first":
                reader = ("reader", (f"self.{spec.fields[0]}.send()",))
                spec = ClassSpec(spec.name, spec.fields, spec.methods + (reader,))
            source, first_lines = _class_source(
                spec, draw(st.sampled_from(["init", "annotated", "class_attribute"])))
            lines_of[(module, spec.name)] = {m: offset + line for m, line in first_lines.items()}
            body.append(source)
            offset += source.count("\n") + 2
            classes.append((module, spec))
        modules[module] = "\n".join(header) + "\n" + "\n\n".join(body)

    imports = [f"from app.{module} import {spec.name}" for module, spec in classes]
    calls: List[str] = []
    expected = None
    instances = [(f"obj{index}", module, spec) for index, (module, spec) in enumerate(classes)]
    constructions = [f"{obj} = {spec.name}()" for obj, _, spec in instances]
    if order == "initialized":
        calls = [f"{obj}.setup()" for obj, _, _ in instances]
    if order == "unguarded_first":
        obj, module, spec = instances[0]
        calls = [f"{obj}.reader()", f"{obj}.setup()"]
        expected = (module, spec.name, spec.fields[0], lines_of[(module, spec.name)]["reader"])
    steps = [f"{obj}.{method}()" for obj, _, spec in instances
             for method, _ in spec.methods if method != "reader"]
    calls += draw(st.lists(st.sampled_from(steps), min_size=1, max_size=8))
    main = imports + ["", "", "if __name__ == '__main__':"]
    main += ["    " + line for line in constructions + calls]
    modules["main"] = "\n".join(main) + "\n"
    return Program(modules, tuple(classes), tuple(calls), expected)


@BOUNDED
@given(program=class_programs())
def test_class_programs_are_deterministic(program: Program) -> None:
    report = _assert_deterministic(program.modules)
    declared = {f"app.{module}.{spec.name}.{f}" for module, spec in program.classes
                for f in spec.fields}
    for finding in report["findings"]:
        assert finding["field"] in declared, finding
        assert finding["entry"] == "app.main:__main__"


@BOUNDED
@given(program=class_programs(order="initialized"))
def test_no_finding_when_every_initializer_runs_first(program: Program) -> None:
    """setup() assigns every field and nothing ever assigns None again, so no read that
    follows can see None: any finding here is a false positive."""
    report = _assert_deterministic(program.modules, twice=False)
    assert report["findings"] == [], (program.modules, report["findings"])


@BOUNDED
@given(program=class_programs(order="unguarded_first"))
def test_unguarded_read_before_initializer_is_found(program: Program) -> None:
    report = _assert_deterministic(program.modules, twice=False)
    module, cls, field, line = program.expected
    found = {(f["file"], f["line"], f["field"]) for f in report["findings"]}
    assert (f"app/{module}.py", line, f"app.{module}.{cls}.{field}") in found, \
        (program.modules, report["findings"])


# ------------------------------------------------------------------ hash seeds

_DRIVER = """\
import sys
from pathlib import Path
from nilcheck.linter import api
from nilcheck.linter.reporters import render
for root in sys.argv[1:]:
    outcome = api.scan([root], use_cache=False, jobs=1)
    sys.stdout.write(render("json", outcome.result, outcome.root, timing=False))
"""


def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the report must not."""
    roots = sorted(str(path.parent) for path in FIXTURES.glob("*/*/pyproject.toml"))
    assert roots, "the fixture projects are the corpus"
    children = [
        subprocess.Popen([sys.executable, "-c", _DRIVER, *roots], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONHASHSEED": seed})
        for seed in ("1", "4242")
    ]
    outputs = set()
    for child in children:
        stdout, stderr = child.communicate(timeout=300)
        assert child.returncode == 0, stderr[-2000:]
        outputs.add(stdout)
    assert len(outputs) == 1
