"""Constructor injection, applied: turns NIL001 findings into source edits where that is
safe, and explains the findings it leaves to a person.

The fix for a late field `Cls.host`, whose initializer is `def attach(self, host):
self.host = host`, passes the value to the constructor instead:

- `Cls.__init__` gets a `host` parameter (before any parameter with a default, or
  keyword-only when there is a `*`), and assigns `self.host = host` (replacing
  `self.host = None`, or as its first statement);
- every `Cls(...)` call gets `host=<value>`;
- `attach()` no longer assigns the field (its other work stays; an emptied body
  becomes `pass`), so existing `attach()` calls still run and change nothing.

It is safe only when the value exists wherever `Cls` is constructed. Concretely: every
construction is `<obj> = Cls(...)` or `self.<obj> = Cls(...)`; every call of the
initializer is `<obj>.attach(<value>)` for such an object; and either the call is in the
same function as the construction, after it, with `<value>` being `self` or a name bound
before the construction and never rebound, or the construction is `self.<obj> = Cls(...)`
in `D.__init__` and the call is `self.<obj>.attach(self)` in a method of `D`. Anything
else — a subclass, a factory, an alias, a value created after `Cls` — is explained.

Where the class is constructed, where the initializer is called and where the field is
stored come from the value flow (sites.py: the program analysed from every function),
not from names: an alias or a factory that the flow follows is a construction like any
other, and a call that only shares the method's name is not the initializer's.

Edits are planned on libcst trees of the files as they are when the plan is made and
keyed by the nodes they change, so all the fixes in one file are applied in one pass and
everything else in the file (comments, formatting) is reproduced byte for byte.
"""
from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from nilcheck.linter.discovery import module_name_for
from nilcheck.linter.fileio import write_bytes_atomic
from nilcheck.linter.ftypes import Finding
from nilcheck.linter.sites import ProjectSites, Site

FIXABLE_RULES = frozenset({"NIL001"})


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Explanation:
    """Why the findings of one field are not fixed automatically."""

    findings: Tuple[Finding, ...]
    reason: str

    def lines(self) -> List[str]:
        out = []
        for finding in self.findings:
            out.append(f"{finding.file}:{finding.line}:{finding.column}: {finding.rule} "
                       f"`{_short_field(finding.field)}`: not fixed: {self.reason}")
        return out


@dataclass
class FieldFix:
    """Constructor injection for one field: the findings it resolves and the edits."""

    field: str
    findings: Tuple[Finding, ...]
    summary: str
    edits: Dict[str, "_FileEdits"]  # relative path -> edits

    @property
    def files(self) -> List[str]:
        return sorted(self.edits)


@dataclass
class FixPlan:
    root: Path
    fixes: List[FieldFix] = field(default_factory=list)
    explanations: List[Explanation] = field(default_factory=list)
    # Bytes of every file the plan read, as they were when it was made.
    originals: Dict[str, bytes] = field(default_factory=dict)
    _modules: Dict[str, cst.Module] = field(default_factory=dict)

    def new_sources(self, fixes: Optional[Sequence[FieldFix]] = None) -> Dict[str, bytes]:
        """relative path -> new bytes, for every file the given fixes (default: all) change."""
        chosen = self.fixes if fixes is None else list(fixes)
        per_file: Dict[str, _FileEdits] = {}
        for fix in chosen:
            for rel, edits in fix.edits.items():
                per_file.setdefault(rel, _FileEdits()).merge(edits)
        out = {}
        for rel in sorted(per_file):
            module = self._modules[rel]
            new = module.visit(_Apply(per_file[rel]))
            data = new.bytes
            if data != self.originals[rel]:
                out[rel] = data
        return out

    def diff(self) -> str:
        """A unified diff of every planned fix, paths `a/<rel>` and `b/<rel>`."""
        chunks = []
        for rel, data in sorted(self.new_sources().items()):
            chunks.append(unified_diff(rel, self.originals[rel], data))
        return "".join(chunks)


@dataclass
class ApplyResult:
    applied: List[FieldFix] = field(default_factory=list)
    skipped: List[Explanation] = field(default_factory=list)
    written: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)  # (file, error)


# ---------------------------------------------------------------- entry points


def plan_fixes(root: Path, findings: Sequence[Finding], files: Iterable[Path],
               sites: ProjectSites) -> FixPlan:
    """Plan constructor-injection fixes for the NIL001 findings; explain the others.

    files are the project's analysed .py files (absolute); sites, where the value flow
    found each class constructed and each method called (sites.py). Never raises on a
    project problem: a file that cannot be read or parsed makes the fixes that need it
    explained.
    """
    root = Path(root).resolve()
    plan = FixPlan(root=root)
    project = _Project(root, [Path(f) for f in files], plan, sites)
    claimed: Set[Tuple[str, int, str]] = set()  # (file, __init__ node id, parameter)
    by_field: Dict[Tuple[str, str], List[Finding]] = defaultdict(list)
    for finding in findings:
        by_field[(finding.rule, finding.field)].append(finding)
    for (rule, field_id), group in sorted(by_field.items(), key=lambda item: item[0][::-1]):
        group_t = tuple(sorted(group, key=lambda f: f.sort_key))
        if rule not in FIXABLE_RULES:
            plan.explanations.append(Explanation(group_t, _unfixable_rule_reason(group_t[0])))
            continue
        try:
            fix = _Planner(project, group_t).plan()
        except _NeedsPerson as reason:
            plan.explanations.append(Explanation(group_t, str(reason)))
            continue
        added = {(rel, key, name) for rel, edits in fix.edits.items()
                 for key, params in edits.params.items() for name, _ in params}
        if added & claimed:  # two fields injected through one parameter: a person decides
            plan.explanations.append(Explanation(group_t, (
                f"another field of the same class is injected through the same "
                f"parameter ({', '.join(sorted(name for _, _, name in added & claimed))})")))
            continue
        claimed |= added
        plan.fixes.append(fix)
    # A fix whose edits do not compile is a bug here; never offer it.
    for fix in list(plan.fixes):
        for rel, data in plan.new_sources([fix]).items():
            try:
                compile(data, rel, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                plan.fixes.remove(fix)
                plan.explanations.append(Explanation(
                    fix.findings, f"the planned edit of {rel} would not compile ({error}); "
                                  f"please report this to nilcheck"))
                break
    plan.explanations.sort(key=lambda e: e.findings[0].sort_key)
    return plan


def plan_for_scan(outcome) -> FixPlan:
    """The fix plan for a ScanOutcome (api.scan), over the project's analysed files."""
    from nilcheck.linter import api

    files, sites = api.project_sites(outcome.root)
    return plan_fixes(outcome.root, outcome.result.findings, files, sites)


def plan_report(plan: FixPlan) -> List[str]:
    """For --diff, on stderr: why each finding left out of the patch is not fixed, and
    a summary line."""
    lines = [line for explanation in plan.explanations for line in explanation.lines()]
    fixed = sum(len(fix.findings) for fix in plan.fixes)
    left = sum(len(explanation.findings) for explanation in plan.explanations)
    lines.append(f"nilcheck: {_count(len(plan.fixes), 'fix', 'fixes')} offered "
                 f"({_count(fixed, 'finding')}); {_count(left, 'finding')} "
                 f"{'needs' if left == 1 else 'need'} a person")
    return lines


def apply_report(plan: FixPlan, result: ApplyResult) -> List[str]:
    """For --fix, on stderr: what was changed, and why the rest was not."""
    lines = []
    for fix in result.applied:
        lines.append(f"nilcheck: fixed {fix.summary} [{', '.join(fix.files)}]")
    for file, error in result.failed:
        lines.append(f"nilcheck: could not write {file}: {error}")
    for explanation in [*result.skipped, *plan.explanations]:
        lines.extend(explanation.lines())
    fixed = sum(len(fix.findings) for fix in result.applied)
    lines.append(f"nilcheck: applied {_count(len(result.applied), 'fix', 'fixes')} "
                 f"({_count(fixed, 'finding')}) to {_count(len(result.written), 'file')}")
    return lines


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def apply_fixes(plan: FixPlan, scan_started_ns: Optional[int] = None) -> ApplyResult:
    """Write the planned fixes in place, each file atomically.

    A fix is skipped, whole, when one of its files changed since the plan was made, or
    was modified after scan_started_ns (a time.time_ns() taken before the scan).
    """
    result = ApplyResult()
    changed: Set[str] = set()
    for rel, original in plan.originals.items():
        path = plan.root / rel
        try:
            stat = path.stat()
            current = path.read_bytes()
        except OSError:
            changed.add(rel)
            continue
        if current != original or (scan_started_ns is not None and stat.st_mtime_ns > scan_started_ns):
            changed.add(rel)
    for fix in plan.fixes:
        stale = sorted(set(fix.files) & changed)
        if stale:
            result.skipped.append(Explanation(
                fix.findings, f"{', '.join(stale)} changed since the scan; run nilcheck again"))
        else:
            result.applied.append(fix)
    for rel, data in plan.new_sources(result.applied).items():
        try:
            write_bytes_atomic(plan.root / rel, data)
        except OSError as error:
            result.failed.append((rel, error.strerror or str(error)))
            continue
        result.written.append(rel)
    return result


def unified_diff(rel: str, before: bytes, after: bytes) -> str:
    """A unified diff of one file, as `git apply` and `patch -p1` accept it."""
    old = _decode(before).splitlines(keepends=True)
    new = _decode(after).splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
        elif not line.endswith(("\n", "\r")):
            out.append(line + "\n\\ No newline at end of file\n")
        else:
            out.append(line)
    return "".join(out)


# ---------------------------------------------------------------- planning


class _NeedsPerson(Exception):
    """The fix is not safe; the message says why, for a person."""


def _unfixable_rule_reason(finding: Finding) -> str:
    if finding.rule == "NIL002":
        return ("nilcheck does not rewrite constructors for NIL002 (the order of a "
                "constructor's statements is the author's call): " + finding.suggestion)
    if finding.rule == "NIL003":
        return ("nothing calls the initializer, so there is no value to pass to the "
                "constructor: call it, or assign the field in the constructor")
    return f"nilcheck has no automatic fix for {finding.rule}"


def _short_field(field_id: str) -> str:
    parts = field_id.split(".")
    return ".".join(parts[-2:])


@dataclass
class _Ref:
    """One reference to a name in the project: the node, where it is, what encloses it."""

    rel: str
    node: cst.CSTNode
    line: int
    function: Optional[cst.CSTNode]  # innermost FunctionDef/Lambda, None at module level
    klass: Optional[cst.ClassDef]  # class whose body holds `function` directly


class _SourceFile:
    def __init__(self, rel: str, module: cst.Module, wrapper: MetadataWrapper, name: str):
        self.rel = rel
        self.module = module
        self.name = name
        self.parents = wrapper.resolve(ParentNodeProvider)
        self.positions = wrapper.resolve(PositionProvider)
        self._calls: Optional[Dict[Tuple[int, int], List[cst.Call]]] = None

    def calls_at(self, line: int, column: int) -> List[cst.Call]:
        """The calls that start at line and (1-based) column, innermost first."""
        if self._calls is None:
            self._calls = {}
            for node in _walk(self.module):
                if isinstance(node, cst.Call):
                    start = self.positions[node].start
                    self._calls.setdefault((start.line, start.column + 1), []).append(node)
            for calls in self._calls.values():
                calls.sort(key=lambda call: len(list(_walk(call))))
        return self._calls.get((line, column), [])

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode):
        node = self.parents.get(node)
        while node is not None:
            yield node
            node = self.parents.get(node)

    def enclosing(self, node: cst.CSTNode) -> Tuple[Optional[cst.CSTNode], Optional[cst.ClassDef]]:
        """(innermost function or lambda, the class holding that function directly)."""
        function = None
        for ancestor in self.ancestors(node):
            if function is None and isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                function = ancestor
                continue
            if function is not None:
                if isinstance(ancestor, cst.ClassDef):
                    return function, ancestor
                if isinstance(ancestor, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                    continue
                return function, None
        return function, None

    def statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The simple statement line (or compound statement) that holds node."""
        for ancestor in [node, *self.ancestors(node)]:
            if isinstance(ancestor, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return ancestor
        return None


class _Project:
    """The project's files, parsed on demand with the metadata the planner needs, and
    the value flow's sites in them."""

    def __init__(self, root: Path, files: List[Path], plan: FixPlan, sites: ProjectSites):
        self.root = root
        self.plan = plan
        self.sites = sites
        self.rels: Dict[str, Path] = {}
        for path in sorted(files):
            try:
                rel = path.resolve().relative_to(root).as_posix()
            except ValueError:
                continue
            self.rels[rel] = path
        self._texts: Dict[str, Optional[bytes]] = {}
        self._parsed: Dict[str, Optional[_SourceFile]] = {}

    def text(self, rel: str) -> Optional[bytes]:
        if rel not in self._texts:
            try:
                self._texts[rel] = self.rels.get(rel, self.root / rel).read_bytes()
            except OSError:
                self._texts[rel] = None
        return self._texts[rel]

    def source(self, rel: str) -> Optional[_SourceFile]:
        if rel in self._parsed:
            return self._parsed[rel]
        data = self.text(rel)
        parsed = None
        if data is not None:
            try:
                module = cst.parse_module(data)
                name = self.sites.module_names.get(rel) \
                    or module_name_for(self.root, self.root / rel)[0]
                wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
                parsed = _SourceFile(rel, module, wrapper, name)
                self.plan.originals[rel] = data
                self.plan._modules[rel] = module
            except Exception:  # noqa: BLE001 - a file libcst cannot handle is not edited
                parsed = None
        self._parsed[rel] = parsed
        return parsed

    def call_ref(self, site: Site) -> _Ref:
        """The callee expression of the call at a site, as a reference the planner can
        edit around; _NeedsPerson when the file or the call cannot be found in it."""
        source = self.source(site.file)
        if source is None:
            raise _NeedsPerson(f"{site.file} could not be parsed for editing")
        for call in source.calls_at(site.line, site.column):
            if isinstance(call.func, (cst.Name, cst.Attribute)):
                function, klass = source.enclosing(call.func)
                return _Ref(site.file, call.func, site.line, function, klass)
        raise _NeedsPerson(f"the call at {site.file}:{site.line} is not written as a call "
                           f"of a name (a `raise`, or a call of a call)")

    def constructions(self, class_id: str) -> List[_Ref]:
        """Every call the value flow found constructing class_id (through any name)."""
        return [self.call_ref(site) for site in self.sites.constructions.get(class_id, ())]

    def class_uses(self, class_id: str) -> List[Site]:
        """Where class_id is held rather than called: an alias, a factory argument, a
        class method's receiver."""
        return self.sites.class_uses.get(class_id, [])

    def method_calls(self, function_id: str) -> List[_Ref]:
        return [self.call_ref(site) for site in self.sites.method_calls.get(function_id, ())]

    def method_uses(self, function_id: str) -> List[Site]:
        """Where the method is taken without being called (a callback, an alias)."""
        return self.sites.method_uses.get(function_id, [])

    def field_stores(self, field_id: str) -> List[Site]:
        """Stores into the field other than through the `self` of a method."""
        return self.sites.field_stores.get(field_id, [])

    def find_class(self, rel: str, qualname: str) -> Optional[cst.ClassDef]:
        source = self.source(rel)
        if source is None:
            return None
        found = _find_qualname(source.module.body, qualname.split("."))
        return found if isinstance(found, cst.ClassDef) else None


class _Planner:
    def __init__(self, project: _Project, findings: Tuple[Finding, ...]):
        self.project = project
        self.findings = findings
        self.finding = findings[0]
        self.owner_id, self.attr = self.finding.field.rsplit(".", 1)

    # -------------------------------------------------------------- the plan

    def plan(self) -> FieldFix:
        finding = self.finding
        initializer = finding.initializer
        if initializer is None:
            raise _NeedsPerson("the finding names no initializer")
        _, owner_qual, method = self._locate(initializer.function)
        rel = initializer.file
        source = self.project.source(rel)
        if source is None:
            raise _NeedsPerson(f"{rel} could not be parsed for editing")
        klass = self.project.find_class(rel, owner_qual)
        if klass is None:
            raise _NeedsPerson(f"class `{owner_qual}` was not found in {rel}")
        self.class_name = owner_qual.rsplit(".", 1)[-1]
        if klass.decorators:
            raise _NeedsPerson(f"`{self.class_name}` is decorated, and a decorator (such as "
                               f"@dataclass) may generate or wrap its constructor")
        init = _method(klass, "__init__")
        if init is None:
            raise _NeedsPerson(f"`{self.class_name}` has no `__init__` of its own to take "
                               f"the value")
        initializer_def = _method(klass, method)
        if initializer_def is None:
            raise _NeedsPerson(f"`{method}()` is not defined in `{self.class_name}` itself")
        param, param_index, store_at = self._initializer_parameter(initializer_def, method, source)
        self.param = param
        init_self = _self_name(init)
        if init_self is None:
            raise _NeedsPerson(f"`{self.class_name}.__init__` has no `self` parameter")
        if param in _param_names(init):
            raise _NeedsPerson(f"`{self.class_name}.__init__` already has a parameter "
                               f"named `{param}`")
        init_store = self._init_assignment(init, init_self, source)
        if _attr_store_count(klass, self.attr) != (1 if init_store is not None else 0) + 1:
            raise _NeedsPerson(f"`{self.class_name}` assigns `self.{self.attr}` in other "
                               f"methods too (a reset or a reconnect), which rely on "
                               f"`{method}()` assigning it")
        for site in self.project.field_stores(self.finding.field):
            raise _NeedsPerson(f"`{site.text}` is assigned at {site.file}:{site.line}, "
                               f"outside `{self.class_name}`'s methods")

        constructions = self._constructions()
        init_calls = self._initializer_calls(method)
        values = self._match(constructions, init_calls, method, param, param_index)

        edits: Dict[str, _FileEdits] = defaultdict(_FileEdits)
        mode = self._param_mode(init, [call for call, _ in constructions])
        edits[rel].params.setdefault(id(init), []).append((param, mode))
        edits[rel].keep(init)
        if init_store is not None:
            edits[rel].set_values.setdefault(id(init), []).append((init_store, param))
        else:
            statement = f"{init_self}.{self.attr} = {param}\n"
            edits[rel].prepend.setdefault(id(init), []).append(statement)
        edits[rel].removals.setdefault(id(initializer_def), []).append(store_at)
        edits[rel].keep(initializer_def)
        for (call_ref, _), value in zip(constructions, values):
            call = self.project.source(call_ref.rel).parent(call_ref.node)
            edits[call_ref.rel].kwargs.setdefault(id(call), []).append((param, value))
            edits[call_ref.rel].keep(call)

        sites = ", ".join(f"{ref.rel}:{ref.line}" for ref, _ in constructions)
        summary = (f"`{self.class_name}.{self.attr}`: constructor injection: "
                   f"`{self.class_name}.__init__` takes `{param}`, passed where "
                   f"`{self.class_name}` is constructed ({sites}); `{method}()` no longer "
                   f"assigns it")
        return FieldFix(self.finding.field, self.findings, summary, dict(edits))

    def _locate(self, function_id: str) -> Tuple[str, str, str]:
        """(module, class qualname, method) of the initializer, which must be a method
        of the field's own class."""
        owner_prefix = self.owner_id + "."
        if not function_id.startswith(owner_prefix) or "." in function_id[len(owner_prefix):]:
            raise _NeedsPerson(f"the initializer `{function_id}` is not a method of "
                               f"`{self.owner_id.rsplit('.', 1)[-1]}` itself")
        method = function_id[len(owner_prefix):]
        source = self.project.source(self.finding.initializer.file)
        module = source.name if source is not None else ""
        if not self.owner_id.startswith(module + "."):
            raise _NeedsPerson(f"`{self.owner_id}` is not defined in "
                               f"{self.finding.initializer.file}")
        return module, self.owner_id[len(module) + 1:], method

    def _initializer_parameter(self, function: cst.FunctionDef, method: str,
                               source: _SourceFile):
        """The parameter the initializer assigns to the field: (name, positional index
        after self or None for keyword-only, (statement index, small statement index))."""
        self_name = _self_name(function)
        if self_name is None or function.decorators:
            raise _NeedsPerson(f"`{method}()` is not a plain method")
        if function.asynchronous is not None:
            raise _NeedsPerson(f"`{method}()` is a coroutine: awaiting it may be what "
                               f"makes the value ready")
        positional = [p.name.value for p in (*function.params.posonly_params,
                                              *function.params.params)][1:]
        keyword_only = [p.name.value for p in function.params.kwonly_params]
        found = None
        for index, statement in enumerate(function.body.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small_index, small in enumerate(statement.body):
                if _assigns_self_attr(small, self_name, self.attr):
                    if found is not None:
                        raise _NeedsPerson(f"`{method}()` assigns `{self.attr}` twice")
                    found = (index, small_index, small)
        stores = _attr_stores(function, self_name, self.attr)
        if found is None or len(stores) != 1:
            raise _NeedsPerson(f"`{method}()` does not simply assign one of its parameters "
                               f"to `self.{self.attr}` (the value is computed or assigned "
                               f"conditionally), so there is no value to hand to the "
                               f"constructor instead")
        index, small_index, small = found
        value = small.value
        if not isinstance(value, cst.Name) or value.value not in positional + keyword_only:
            raise _NeedsPerson(f"`{method}()` assigns `self.{self.attr}` a value it computes "
                               f"(`{_code(value)}`), not one of its parameters")
        name = value.value
        for earlier in function.body.body[:index]:
            if name in _bound_names(earlier):
                raise _NeedsPerson(f"`{method}()` rebinds `{name}` before assigning it")
        if name in _bound_names_in(function.body.body[index].body[:small_index]):
            raise _NeedsPerson(f"`{method}()` rebinds `{name}` before assigning it")
        position = positional.index(name) if name in positional else None
        return name, position, (index, small_index)

    def _init_assignment(self, init: cst.FunctionDef, self_name: str, source: _SourceFile):
        """(statement index, small index) of `self.attr = None` at the top level of
        __init__, None when __init__ does not assign the field; explains anything else."""
        stores = _attr_stores(init, self_name, self.attr)
        if not stores:
            return None
        top = []
        for index, statement in enumerate(init.body.body):
            if isinstance(statement, cst.SimpleStatementLine):
                for small_index, small in enumerate(statement.body):
                    if _assigns_self_attr(small, self_name, self.attr):
                        top.append((index, small_index, small))
        if len(stores) == 1 and len(top) == 1 and _is_none(top[0][2].value):
            return top[0][:2]
        raise _NeedsPerson(f"`{self.class_name}.__init__` assigns `self.{self.attr}` "
                           f"other than once with `= None` at its top level, so where the "
                           f"injected value belongs is a person's decision")

    # -------------------------------------------------------------- sites and calls

    def _constructions(self) -> List[Tuple[_Ref, "_Receiver"]]:
        """Every construction of the class in the project (as the value flow found
        them) with the variable it is assigned to."""
        for subclass, (rel, line) in self.project.sites.subclasses.get(self.owner_id, ()):
            raise _NeedsPerson(f"`{self.class_name}` has a subclass ({rel}:{line}) whose "
                               f"construction would need the value too")
        for site in self.project.class_uses(self.owner_id):
            raise _NeedsPerson(f"`{self.class_name}` is used at {site.file}:{site.line} other "
                               f"than by calling it (an alias, a factory or a class "
                               f"method), so not every construction can be found")
        constructions = []
        for ref in self.project.constructions(self.owner_id):
            source = self.project.source(ref.rel)
            receiver = self._receiver_of_construction(source, source.parent(ref.node), ref)
            constructions.append((ref, receiver))
        if not constructions:
            raise _NeedsPerson(f"no call of `{self.class_name}(...)` was found in the project")
        known = {(ref.rel, line) for ref, _ in constructions
                 for line in self._lines_of(ref, self.project.source(ref.rel).parent(ref.node))}
        for site in self.finding.construction_sites:
            if tuple(site) not in known:
                raise _NeedsPerson(f"`{self.class_name}` is constructed at {site[0]}:{site[1]} "
                                   f"in a way the fix cannot follow")
        return constructions

    def _lines_of(self, ref: _Ref, node: cst.CSTNode) -> range:
        position = self.project.source(ref.rel).positions[node]
        return range(position.start.line, position.end.line + 1)

    def _receiver_of_construction(self, source: _SourceFile, call: cst.Call, ref: _Ref):
        statement_parent = source.parent(call)
        target = None
        if isinstance(statement_parent, cst.Assign) and statement_parent.value is call \
                and len(statement_parent.targets) == 1:
            target = statement_parent.targets[0].target
        elif isinstance(statement_parent, cst.AnnAssign) and statement_parent.value is call:
            target = statement_parent.target
        for arg in call.args:
            if arg.star == "**":
                raise _NeedsPerson(f"`{self.class_name}(**...)` at {ref.rel}:{ref.line} may "
                                   f"already pass `{self.param}`")
            if arg.keyword is not None and arg.keyword.value == self.param:
                raise _NeedsPerson(f"`{self.class_name}(...)` at {ref.rel}:{ref.line} "
                                   f"already passes `{self.param}`")
        self_name = _self_name(ref.function) if isinstance(ref.function, cst.FunctionDef) \
            and ref.klass is not None else None
        if isinstance(target, cst.Name):
            return _Receiver(target.value, None, source.statement_of(call), ref)
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                and self_name is not None and target.value.value == self_name:
            return _Receiver(f"{self_name}.{target.attr.value}", target.attr.value,
                             source.statement_of(call), ref)
        return _Receiver(None, None, source.statement_of(call), ref)

    def _initializer_calls(self, method: str) -> List[_Ref]:
        function_id = self.finding.initializer.function
        for site in self.project.method_uses(function_id):
            raise _NeedsPerson(f"`{method}` is referenced at {site.file}:{site.line} without "
                               f"being called directly (a callback, or an alias), so not "
                               f"every call of the initializer can be checked")
        calls = self.project.method_calls(function_id)
        for ref in calls:
            if not isinstance(ref.node, cst.Attribute) or ref.node.attr.value != method:
                raise _NeedsPerson(f"`{method}()` is called at {ref.rel}:{ref.line} through "
                                   f"another name, so the value it is given cannot be told")
        return calls

    def _match(self, constructions, init_calls: List[_Ref], method: str, param: str,
               param_index: Optional[int]) -> List[str]:
        """The value to pass at each construction site, or _NeedsPerson."""
        matched_calls: Set[int] = set()
        values: List[str] = []
        for ref, receiver in constructions:
            if receiver.target is None:
                raise _NeedsPerson(f"`{self.class_name}(...)` at {ref.rel}:{ref.line} is not "
                                   f"assigned to a variable or `self` attribute, so the "
                                   f"`{method}()` call that belongs to it cannot be found")
            chosen: Set[str] = set()
            for index, call_ref in enumerate(init_calls):
                value = self._value_for(ref, receiver, call_ref, param, param_index)
                if value is not None:
                    matched_calls.add(index)
                    chosen.add(value)
            if not chosen:
                raise _NeedsPerson(self._why_no_value(ref, receiver, init_calls, method,
                                                      param, param_index))
            if len(chosen) > 1:
                raise _NeedsPerson(f"`{receiver.target}.{method}()` is called with different "
                                   f"values ({', '.join(sorted(chosen))}) for the "
                                   f"`{self.class_name}` constructed at {ref.rel}:{ref.line}")
            values.append(chosen.pop())
        for index, call_ref in enumerate(init_calls):
            if index not in matched_calls:
                raise _NeedsPerson(self._why_unmatched_call(call_ref, constructions, method,
                                                            param, param_index))
        return values

    def _call_value(self, call_ref: _Ref, param: str, param_index: Optional[int]):
        """(receiver code, value node) of `<receiver>.method(...)`, value being the
        argument bound to param; None when it cannot be told."""
        source = self.project.source(call_ref.rel)
        call = source.parent(call_ref.node)
        value = None
        for position, arg in enumerate(call.args):
            if arg.star:
                return None
            if arg.keyword is not None:
                if arg.keyword.value == param:
                    value = arg.value
            elif param_index is not None and position == param_index:
                value = arg.value
        if value is None:
            return None
        return _code(call_ref.node.value), value

    def _unconditional(self, call_ref: _Ref) -> bool:
        """Is the call a statement of its function's own body (not in an if, a loop, a
        try or a with)? Only then does injecting the value keep the behaviour."""
        source = self.project.source(call_ref.rel)
        statement = source.statement_of(call_ref.node)
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        block = source.parent(statement)
        if call_ref.function is None:
            return isinstance(block, cst.Module)
        return isinstance(block, cst.IndentedBlock) and source.parent(block) is call_ref.function

    def _value_for(self, ref: _Ref, receiver: "_Receiver", call_ref: _Ref, param: str,
                   param_index: Optional[int]) -> Optional[str]:
        """The code to pass at construction ref when call_ref is its initializer call."""
        if not self._unconditional(call_ref):
            return None
        found = self._call_value(call_ref, param, param_index)
        if found is None:
            return None
        receiver_code, value = found
        if not isinstance(value, cst.Name):
            return None
        call_self = _self_name(call_ref.function) if isinstance(call_ref.function, cst.FunctionDef) \
            and call_ref.klass is not None else None
        # Same function, after the construction.
        if call_ref.rel == ref.rel and call_ref.function is ref.function \
                and receiver_code == receiver.target and call_ref.line > ref.line:
            if self._assignments_to(ref, receiver.target) != 1:
                return None
            scope_self = call_self
            if scope_self is not None and value.value == scope_self:
                if _rebinds(ref.function, scope_self):
                    return None
                return scope_self
            if value.value == receiver.target or not self._bound_before(ref, value.value,
                                                                        receiver):
                return None
            return value.value
        # Built in D.__init__ as self.<obj>, attached as self.<obj>.method(self) in D.
        if receiver.attribute is not None and call_self is not None \
                and ref.klass is not None and call_ref.klass is ref.klass \
                and isinstance(ref.function, cst.FunctionDef) \
                and ref.function.name.value == "__init__" \
                and value.value == call_self \
                and receiver_code == f"{call_self}.{receiver.attribute}":
            if _attr_store_count(ref.klass, receiver.attribute) != 1:
                return None
            if _rebinds(call_ref.function, call_self):
                return None
            return _self_name(ref.function)
        return None

    def _assignments_to(self, ref: _Ref, target: str) -> int:
        scope = ref.function if ref.function is not None else self.project.source(ref.rel).module
        if "." in target:
            base, attr = target.split(".", 1)
            return len(_attr_stores(scope, base, attr))
        return _binding_count(scope, target)

    def _bound_before(self, ref: _Ref, name: str, receiver: "_Receiver") -> bool:
        """Is name a parameter of the construction's function, or assigned once by a
        top-level statement before the construction, and never rebound?"""
        scope = ref.function
        source = self.project.source(ref.rel)
        if isinstance(scope, cst.Lambda):
            return False
        if scope is not None and name in _param_names(scope):
            return _binding_count(scope, name) == 0
        body = scope.body.body if scope is not None else source.module.body
        if _binding_count(scope if scope is not None else source.module, name) != 1:
            return False
        statement = receiver.statement
        for item in body:
            if item is statement:
                return False
            if isinstance(item, cst.SimpleStatementLine) and name in _bound_names(item):
                return True
        return False

    # -------------------------------------------------------------- explanations

    def _why_no_value(self, ref: _Ref, receiver: "_Receiver", init_calls: List[_Ref],
                      method: str, param: str, param_index: Optional[int]) -> str:
        where = f"{ref.rel}:{ref.line}"
        related = [c for c in init_calls
                   if self._call_value(c, param, param_index) is not None
                   and self._call_value(c, param, param_index)[0].split(".")[-1]
                   == receiver.target.split(".")[-1]]
        if not init_calls:
            return (f"nothing calls `{method}()` directly, so there is no value to pass "
                    f"where `{self.class_name}` is constructed ({where})")
        candidates = related or init_calls
        return self._why_unmatched_call(candidates[0], [(ref, receiver)], method, param,
                                        param_index)

    def _why_unmatched_call(self, call_ref: _Ref, constructions, method: str, param: str,
                            param_index: Optional[int]) -> str:
        at = f"{call_ref.rel}:{call_ref.line}"
        advice = (f": reorder so the value exists when `{self.class_name}` is constructed, "
                  f"or guard the read (`if self.{self.attr} is None: ...`)")
        found = self._call_value(call_ref, param, param_index)
        if found is None:
            return (f"the `{method}()` call at {at} does not pass `{param}` plainly, so the "
                    f"value to inject cannot be told")
        if not self._unconditional(call_ref):
            return (f"`{method}()` is called at {at} only on some paths (inside an `if`, a "
                    f"loop, a `try` or a `with`): passing the value to the constructor "
                    f"would set `{self.attr}` on every path")
        _, value = found
        value_code = _code(value)
        sites = ", ".join(f"{ref.rel}:{ref.line}" for ref, _ in constructions[:3])
        built = f"`{self.class_name}` is constructed at {sites}"
        call_self = _self_name(call_ref.function) if isinstance(call_ref.function, cst.FunctionDef) \
            and call_ref.klass is not None else None
        if call_self is not None and isinstance(value, cst.Name) and value.value == call_self:
            holder = call_ref.klass.name.value
            later, cycle = self._constructed_after(call_ref, constructions)
            if later:
                note = (f", and is given the `{self.class_name}` there, so each needs the "
                        f"other first" if cycle else "")
                return (f"the `{holder}` that `{method}()` receives at {at} (as `{value_code}`) "
                        f"is created at {later}, after {built}{note}" + advice)
            return (f"the `{holder}` that `{method}()` receives at {at} (as `{value_code}`) "
                    f"is not the object that constructs `{self.class_name}` ({sites})" + advice)
        if isinstance(value, cst.Name):
            bound_at = self._binding_line(call_ref, value.value)
            if bound_at is not None and constructions and bound_at > constructions[0][0].line \
                    and call_ref.function is constructions[0][0].function:
                return (f"`{value_code}`, which `{method}()` receives at {at}, is bound at "
                        f"{call_ref.rel}:{bound_at}, after {built}" + advice)
            return (f"`{value_code}`, which `{method}()` receives at {at}, is not bound "
                    f"before {built} in the same function" + advice)
        return (f"the value `{value_code}` that `{method}()` receives at {at} is computed "
                f"there, after {built}" + advice)

    def _binding_line(self, call_ref: _Ref, name: str) -> Optional[int]:
        """Line of the first statement of call_ref's function that binds name."""
        source = self.project.source(call_ref.rel)
        scope = call_ref.function
        if isinstance(scope, cst.Lambda):
            return None
        body = scope.body.body if scope is not None else source.module.body
        for statement in body:
            if name in _bound_names(statement):
                return source.line(statement)
        return None

    def _constructed_after(self, call_ref: _Ref, constructions) -> Tuple[str, bool]:
        """('file:line', cycle): where the class holding call_ref is constructed after one
        of the constructions in the same function, and whether the constructed object is
        passed to it there; ('', False) when it is not."""
        source = self.project.source(call_ref.rel)
        if source is None or call_ref.klass is None:
            return "", False
        holder_id = f"{source.name}.{_qualname(source, call_ref.klass)}"
        try:
            refs = self.project.constructions(holder_id)
        except _NeedsPerson:
            return "", False
        for ref, receiver in constructions:
            for other in refs:
                parent = self.project.source(other.rel).parent(other.node)
                if other.rel == ref.rel and other.function is ref.function \
                        and other.line > ref.line:
                    cycle = bool(receiver.target) and any(
                        _code(arg.value) == receiver.target for arg in parent.args)
                    return f"{other.rel}:{other.line}", cycle
        return "", False

    # -------------------------------------------------------------- the parameter

    def _param_mode(self, init: cst.FunctionDef, calls: List[_Ref]) -> str:
        params = init.params
        if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None:
            return "kwonly"
        if params.posonly_params:
            return "kwonly_new_star"
        first_default = next((i for i, p in enumerate(params.params) if p.default is not None),
                             None)
        if first_default is None:
            return "positional_end"
        # Inserting before the defaults shifts them: only safe if no call passes them
        # by position.
        room = first_default - 1  # positional arguments a call may pass (self excluded)
        for ref in calls:
            call = self.project.source(ref.rel).parent(ref.node)
            positional = [a for a in call.args if a.keyword is None]
            if any(a.star for a in positional) or len(positional) > room:
                return "kwonly_new_star"
        return "positional_before_defaults"


@dataclass
class _Receiver:
    target: Optional[str]  # "api" or "self.api"
    attribute: Optional[str]  # "api" when the target is `self.api`
    statement: Optional[cst.CSTNode]
    ref: _Ref


# ---------------------------------------------------------------- applying edits


class _FileEdits:
    """The edits of one file, keyed by id() of the original nodes they change."""

    def __init__(self):
        self.params: Dict[int, List[Tuple[str, str]]] = {}
        self.set_values: Dict[int, List[Tuple[Tuple[int, int], str]]] = {}
        self.prepend: Dict[int, List[str]] = {}
        self.removals: Dict[int, List[Tuple[int, int]]] = {}
        self.kwargs: Dict[int, List[Tuple[str, str]]] = {}
        self._alive: Dict[int, cst.CSTNode] = {}  # keeps the keyed nodes (and ids) alive

    def keep(self, node: cst.CSTNode) -> None:
        self._alive[id(node)] = node

    def merge(self, other: "_FileEdits") -> None:
        for name in ("params", "set_values", "prepend", "removals", "kwargs"):
            mine = getattr(self, name)
            for key, values in getattr(other, name).items():
                mine.setdefault(key, []).extend(values)
        self._alive.update(other._alive)


class _Apply(cst.CSTTransformer):
    def __init__(self, edits: _FileEdits):
        super().__init__()
        self.edits = edits

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        for name, value in self.edits.kwargs.get(id(original), ()):
            arg = cst.Arg(value=cst.parse_expression(value), keyword=cst.Name(name),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                whitespace_after=cst.SimpleWhitespace("")))
            args = _append_item(list(updated.args), arg, updated.whitespace_before_args,
                                "whitespace_after_arg")
            updated = updated.with_changes(args=args)
        return updated

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        key = id(original)
        body = list(updated.body.body)
        footer = list(updated.body.footer)
        for (index, small_index), name in self.edits.set_values.get(key, ()):
            line = body[index]
            small = list(line.body)
            small[small_index] = small[small_index].with_changes(value=cst.Name(name))
            body[index] = line.with_changes(body=small)
        for index, small_index in sorted(self.edits.removals.get(key, ()), reverse=True):
            line = body[index]
            small = list(line.body)
            del small[small_index]
            if small:
                if small_index == len(small):  # removed the last: no dangling semicolon
                    small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                body[index] = line.with_changes(body=small)
                continue
            del body[index]
            # Comments above the removed statement stay where they were.
            comments = list(line.leading_lines)
            if index < len(body):
                follower = body[index]
                body[index] = follower.with_changes(
                    leading_lines=[*comments, *follower.leading_lines])
            elif body:
                footer[:0] = comments
            else:
                body.append(cst.SimpleStatementLine([cst.Pass()], leading_lines=comments))
        statements = self.edits.prepend.get(key, ())
        if statements:
            at = 1 if body and _is_docstring(body[0]) else 0
            body[at:at] = [cst.parse_statement(code) for code in statements]
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()])]
        updated = updated.with_changes(body=updated.body.with_changes(body=body, footer=footer))
        for name, mode in self.edits.params.get(key, ()):
            updated = updated.with_changes(
                params=_add_param(updated.params, name, mode, updated.whitespace_before_params))
        return updated


def _append_item(items: List, new, opening, trailing_attr: str) -> List:
    """items + [new], keeping the list's comma and line-break style."""
    if not items:
        return [new]
    last = items[-1]
    if isinstance(last.comma, cst.Comma):
        if isinstance(last.comma.whitespace_after, cst.ParenthesizedWhitespace):
            # A trailing comma before a line break: the break now follows the new item.
            separator = _separator(items, opening)
            items[-1] = last.with_changes(comma=separator)
            return [*items, new.with_changes(comma=last.comma)]
        return [*items, new.with_changes(comma=last.comma)]
    trailing = getattr(last, trailing_attr, None)
    separator = _separator(items, opening)
    if isinstance(trailing, cst.ParenthesizedWhitespace):
        items[-1] = last.with_changes(comma=separator,
                                      **{trailing_attr: cst.SimpleWhitespace("")})
        return [*items, new.with_changes(**{trailing_attr: trailing})]
    items[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return [*items, new]


def _separator(items: List, opening) -> cst.Comma:
    """The comma (with its line break and indentation) that separates items."""
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        return items[-2].comma
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=opening)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _add_param(params: cst.Parameters, name: str, mode: str, opening) -> cst.Parameters:
    new = cst.Param(name=cst.Name(name))
    ordered = _ordered_params(params)
    if mode == "positional_before_defaults":
        index = next(i for i, p in enumerate(params.params) if p.default is not None)
        previous = params.params[index - 1]
        items = list(params.params)
        items.insert(index, new.with_changes(comma=previous.comma))
        return params.with_changes(params=items)
    if mode == "positional_end" and not ordered[len(params.posonly_params) +
                                                (1 if _has_slash(params) else 0) +
                                                len(params.params):]:
        return params.with_changes(params=_append_item(list(params.params), new, opening,
                                                       "whitespace_after_param"))
    if mode == "positional_end":
        # Something (`**kwargs`) follows the last positional parameter.
        previous = params.params[-1]
        return params.with_changes(params=[*params.params, new.with_changes(comma=previous.comma)])
    if mode == "kwonly":
        if params.kwonly_params:
            if params.star_kwarg is not None:
                previous = params.kwonly_params[-1]
                items = [*params.kwonly_params, new.with_changes(comma=previous.comma)]
            else:
                items = _append_kwonly(params, new, opening)
            return params.with_changes(kwonly_params=items)
        star = params.star_arg
        if params.star_kwarg is not None or isinstance(star.comma, cst.Comma):
            return params.with_changes(kwonly_params=[new.with_changes(comma=star.comma)])
        trailing = star.whitespace_after_param if isinstance(star, cst.Param) else None
        if isinstance(trailing, cst.ParenthesizedWhitespace):
            star = star.with_changes(comma=_separator(ordered, opening),
                                     whitespace_after_param=cst.SimpleWhitespace(""))
            return params.with_changes(star_arg=star, kwonly_params=[
                new.with_changes(whitespace_after_param=trailing)])
        star = star.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return params.with_changes(star_arg=star, kwonly_params=[new])
    # kwonly_new_star: `..., *, name` after the last positional parameter.
    last_positional = params.params[-1] if params.params else None
    if last_positional is None:
        raise ValueError("no positional parameter to follow")
    comma = last_positional.comma
    if isinstance(comma, cst.Comma) and params.star_kwarg is None and \
            isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        separator = _separator(list(params.params), opening)
        items = list(params.params)
        items[-1] = last_positional.with_changes(comma=separator)
        return params.with_changes(params=items, star_arg=cst.ParamStar(comma=separator),
                                   kwonly_params=[new.with_changes(comma=comma)])
    if isinstance(comma, cst.Comma):
        return params.with_changes(star_arg=cst.ParamStar(comma=comma),
                                   kwonly_params=[new.with_changes(comma=comma)])
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    trailing = last_positional.whitespace_after_param
    items = list(params.params)
    if isinstance(trailing, cst.ParenthesizedWhitespace):
        separator = _separator(items, opening)
        items[-1] = last_positional.with_changes(comma=separator,
                                                 whitespace_after_param=cst.SimpleWhitespace(""))
        return params.with_changes(params=items, star_arg=cst.ParamStar(comma=separator),
                                   kwonly_params=[new.with_changes(whitespace_after_param=trailing)])
    items[-1] = last_positional.with_changes(comma=space)
    return params.with_changes(params=items, star_arg=cst.ParamStar(comma=space),
                               kwonly_params=[new])


def _append_kwonly(params: cst.Parameters, new: cst.Param, opening) -> List[cst.Param]:
    items = list(params.kwonly_params)
    if len(items) >= 2:
        return _append_item(items, new, opening, "whitespace_after_param")
    # One keyword-only parameter: its separator style is the star's comma.
    last = items[-1]
    star = params.star_arg
    if isinstance(last.comma, cst.Comma) and \
            isinstance(last.comma.whitespace_after, cst.ParenthesizedWhitespace):
        return [last.with_changes(comma=star.comma), new.with_changes(comma=last.comma)]
    if isinstance(last.comma, cst.Comma):
        return [last, new.with_changes(comma=last.comma)]
    trailing = last.whitespace_after_param
    if isinstance(trailing, cst.ParenthesizedWhitespace):
        return [last.with_changes(comma=star.comma, whitespace_after_param=cst.SimpleWhitespace("")),
                new.with_changes(whitespace_after_param=trailing)]
    return [last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), new]


def _has_slash(params: cst.Parameters) -> bool:
    return isinstance(params.posonly_ind, cst.ParamSlash)


def _ordered_params(params: cst.Parameters) -> List:
    ordered: List = list(params.posonly_params)
    if _has_slash(params):
        ordered.append(params.posonly_ind)
    ordered.extend(params.params)
    if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT):
        ordered.append(params.star_arg)
    ordered.extend(params.kwonly_params)
    if params.star_kwarg is not None:
        ordered.append(params.star_kwarg)
    return ordered


# ---------------------------------------------------------------- small CST helpers


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _string_value(node: cst.SimpleString) -> Optional[str]:
    try:
        value = node.evaluated_value
    except Exception:  # noqa: BLE001 - an odd literal is simply not a name
        return None
    return value if isinstance(value, str) else None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_docstring(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
        and isinstance(statement.body[0], cst.Expr) \
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _self_name(function) -> Optional[str]:
    if not isinstance(function, cst.FunctionDef):
        return None
    params = [*function.params.posonly_params, *function.params.params]
    if not params:
        return None
    if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in function.decorators):
        return None
    return params[0].name.value


def _decorator_name(decorator: cst.Decorator) -> str:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return _code(node)


def _param_names(function) -> Set[str]:
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params,
                                    *params.kwonly_params)}
    for special in (params.star_arg, params.star_kwarg):
        if isinstance(special, cst.Param):
            names.add(special.name.value)
    return names


def _method(klass: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    found = None
    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            found = statement  # the last definition wins, as at run time
    return found


def _find_qualname(body, parts: List[str]):
    for statement in body:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)) and \
                statement.name.value == parts[0]:
            if len(parts) == 1:
                return statement
            inner = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
            return _find_qualname(inner, parts[1:])
    return None


def _qualname(source: _SourceFile, klass: cst.ClassDef) -> str:
    parts = [klass.name.value]
    for ancestor in source.ancestors(klass):
        if isinstance(ancestor, (cst.ClassDef, cst.FunctionDef)):
            parts.insert(0, ancestor.name.value)
    return ".".join(parts)


def _assigns_self_attr(small: cst.CSTNode, self_name: str, attr: str) -> bool:
    targets = []
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        targets = [small.target]
    return len(targets) == 1 and _is_self_attr(targets[0], self_name, attr)


def _target_elements(target: cst.CSTNode):
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_elements(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_elements(target.value)
    else:
        yield target


def _is_self_attr(node: cst.CSTNode, self_name: str, attr: str) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) \
        and node.value.value == self_name and node.attr.value == attr


class _Stores(cst.CSTVisitor):
    """Assignments in one scope (nested functions, classes and lambdas excluded):
    attribute targets `base.attr`, and bound names."""

    def __init__(self, root: cst.CSTNode):
        super().__init__()
        self.root = root
        self.attr_stores: List[Tuple[str, str]] = []
        self.names: List[str] = []

    def _nested(self, node) -> bool:
        return node is not self.root

    def visit_FunctionDef(self, node):
        if self._nested(node):
            self.names.append(node.name.value)
            return False
        return True

    def visit_ClassDef(self, node):
        if self._nested(node):
            self.names.append(node.name.value)
            return False
        return True

    def visit_Lambda(self, node):
        return not self._nested(node)

    def _target(self, node):
        if isinstance(node, cst.Name):
            self.names.append(node.value)
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            self.attr_stores.append((node.value.value, node.attr.value))
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._target(element.value)
        elif isinstance(node, cst.StarredElement):
            self._target(node.value)

    def visit_AssignTarget(self, node):
        self._target(node.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._target(node.target)

    def visit_AugAssign(self, node):
        self._target(node.target)

    def visit_For(self, node):
        self._target(node.target)

    def visit_AsName(self, node):
        self._target(node.name)

    def visit_NamedExpr(self, node):
        self._target(node.target)

    def visit_CompFor(self, node):
        return True  # comprehension variables live in their own scope in Python 3

    def visit_Del(self, node):
        self._target(node.target)

    def visit_Global(self, node):
        for item in node.names:
            self.names.extend([item.name.value] * 2)  # never "bound once"

    def visit_Nonlocal(self, node):
        for item in node.names:
            self.names.extend([item.name.value] * 2)

    def visit_ImportAlias(self, node):
        if node.asname is None:
            self.names.append(_code(node.name).split(".")[0])


def _stores(scope: cst.CSTNode) -> _Stores:
    collector = _Stores(scope)
    scope.visit(collector)
    return collector


def _attr_stores(scope: cst.CSTNode, base: str, attr: str) -> List[Tuple[str, str]]:
    return [s for s in _stores(scope).attr_stores if s == (base, attr)]


def _attr_store_count(klass: cst.ClassDef, attr: str) -> int:
    count = 0
    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef):
            self_name = _self_name(statement)
            if self_name is not None:
                count += len(_attr_stores(statement, self_name, attr))
    return count


def _binding_count(scope: cst.CSTNode, name: str) -> int:
    return _stores(scope).names.count(name)


def _rebinds(function, name: str) -> bool:
    return function is not None and _binding_count(function, name) > 0


def _bound_names(statement: cst.CSTNode) -> Set[str]:
    collector = _Stores(statement)
    statement.visit(collector)
    return set(collector.names)


def _bound_names_in(smalls: Sequence[cst.CSTNode]) -> Set[str]:
    names: Set[str] = set()
    for small in smalls:
        names |= _bound_names(small)
    return names
