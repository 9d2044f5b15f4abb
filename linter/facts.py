"""Turns one parsed module (a libcst tree) into ModuleFacts (see ir.py).

This is the only stage that touches CST nodes. It keeps what the ordering analysis needs
and nothing else: the events of each function body in evaluation order, the guards that
make a branch know a value is set, and the declarations (classes, imports, globals)
that names resolve against. Local aliases of attributes (`c = self.x; c.attr`) are
substituted here, so a later dereference is recorded as a read of `self.x`.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from nilcheck.linter.contents import KnownContents, literal_key
from nilcheck.linter.ir import (
    Attr, Await, AwaitValue, Bind, Block, Call, CallExpr, ClassAttr, ClassFacts, Comp,
    Declared, Decorated, DictLit, Either, Enter, Exit, Expr, FalsyConst, FunctionFacts, If,
    ImportFacts, Iter, Lit, LocalClass, LocalFunc, Loop, ModuleFacts, Name, NoneConst, Opaque,
    Param, Read, Seq, SetItem, Snapshot, Starred, Store, Subscript, Super, Try, AliasGuard,
    dotted, walk_nodes,
)
from nilcheck.linter.positions import start_positions

_OPAQUE = Opaque()
# Expressions whose evaluation runs no code of their own (their parts are checked one by
# one; a call, a subscript and an attribute decide for themselves): see contents.py.
_INERT = frozenset({cst.Name, cst.Call, cst.Subscript, cst.Attribute, cst.SimpleString,
                    cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis, cst.Lambda,
                    cst.Tuple, cst.List, cst.Dict})
_PLAIN_STATEMENTS = frozenset({cst.Expr, cst.Assign, cst.AnnAssign, cst.Pass, cst.Break,
                               cst.Continue, cst.Return, cst.Global, cst.Nonlocal})
_NONE = NoneConst()
_FALSY = FalsyConst()
_TRUE = Lit("bool", True)
_STR = Lit("str")
_FLOAT = Lit("float")
_DISPLAY_KINDS = {cst.Tuple: "tuple", cst.List: "list", cst.Set: "set"}
_COMPREHENSION_KINDS = {cst.ListComp: "list", cst.SetComp: "set", cst.DictComp: "dict",
                        cst.GeneratorExp: "gen"}
# Literal strings longer than this keep no value: dictionary keys and attribute names
# are short, and a value costs memory in every cached fact.
_MAX_KEY_LENGTH = 64
# Handlers that catch the AttributeError/TypeError a None dereference raises.
_CATCHES_NONE_DEREF = {"AttributeError", "TypeError", "Exception", "BaseException"}
_DATACLASS_DECORATORS = {"dataclass", "dataclasses.dataclass", "attr.s", "attrs.define",
                         "attr.define", "define", "attr.attrs", "attrs.frozen", "frozen"}
# Class decorators and metaclasses that run no method of the instances they make.
_PLAIN_CLASS_DECORATORS = _DATACLASS_DECORATORS | {
    "total_ordering", "functools.total_ordering", "final", "typing.final",
    "runtime_checkable", "typing.runtime_checkable", "unique", "enum.unique",
    "dataclass_transform", "typing.dataclass_transform"}
_PLAIN_METACLASSES = {"ABCMeta", "abc.ABCMeta", "type"}


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """The absolute module named by `from <level dots><target> import ...`."""
    if level == 0:
        return target
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if target:
        parts.append(target)
    return ".".join(parts)


class _Scope:
    """State of one function body being converted."""

    def __init__(self, qualname: str, self_name: Optional[str]):
        self.qualname = qualname
        self.self_name = self_name
        self.aliases: Dict[str, Attr] = {}
        self.bound: set = set()
        self.returns: List[Expr] = []
        self.yields: List[Expr] = []
        self.generator = False
        self.globals: set = set()  # `global` / `nonlocal` names: not this scope's locals
        self.global_decls: set = set()  # the `global` ones
        self.lambdas = 0
        self.displays = 0  # numbers the list/tuple/set/dict displays and comprehensions
        # Each assignment to a local makes a new version of it, `name#k`; current is the
        # version each name's uses see at this point (see ModuleConverter.bind_name).
        self.versions: Dict[str, int] = {}
        self.current: Dict[str, str] = {}
        self.alias_labels: Dict[str, str] = {}  # alias name -> the version it is
        self.contents = KnownContents()  # what local displays hold now (contents.py)

    def display_site(self) -> int:
        self.displays += 1
        return self.displays

    def new_version(self, name: str) -> str:
        number = self.versions.get(name, 0) + 1
        self.versions[name] = number
        label = f"{name}#{number}"
        self.bound.add(label)
        return label


class ModuleConverter:
    def __init__(self, module_name: str, path: str, is_package: bool,
                 positions) -> None:
        self.module_name = module_name
        self.path = path
        self.is_package = is_package
        self.positions = positions
        self.imports: List[ImportFacts] = []
        self.classes: List[ClassFacts] = []
        self.functions: List[FunctionFacts] = []
        self.global_values: List[Tuple[str, Expr]] = []
        self.decorated: List[Tuple[str, Expr]] = []
        self.scopes: List[_Scope] = []
        self._facts_memo: Dict[int, tuple] = {}
        # By id(): the tree is alive throughout, and libcst's __hash__ is Python code.
        self._sites: Dict[int, int] = {}
        # One object per distinct name and attribute expression: the facts of a module
        # repeat `self`, `self.x`... thousands of times, and a shared object is pickled
        # (into the cache, between processes) and loaded once.
        self._exprs: Dict[object, Expr] = {}
        self._names: Dict[str, Name] = {}
        self._attrs: Dict[Tuple[int, str], Tuple[Expr, Attr]] = {}

    # ------------------------------------------------------------ positions

    def pos(self, node: cst.CSTNode) -> Tuple[int, int]:
        if self.positions is None:
            # Unpositioned mode: a site number as the line, the same for the same node.
            # The converter asks in the same order for the same tree, so the numbers
            # are stable, and distinct nodes never share one (distinct nodes may share
            # a start, which a later positioned pass keeps exact where it is reported).
            site = self._sites.get(id(node))
            if site is None:
                site = self._sites[id(node)] = len(self._sites) + 1
            return (site, 0)
        line, column = self.positions.get(node, (0, -1))
        return (line, column + 1)

    def name(self, identifier: str) -> Name:
        # Looked up by plain keys first: hashing the frozen dataclasses runs Python code.
        shared = self._names.get(identifier)
        if shared is None:
            shared = self._names[identifier] = self._shared(Name(identifier))
        return shared

    def attr(self, base: Expr, attr: str) -> Attr:
        key = (id(base), attr)
        known = self._attrs.get(key)
        if known is None:
            # base is stored with it: while it lives, no other object has its id.
            known = self._attrs[key] = (base, self._shared(Attr(base, attr)))
        return known[1]

    def _shared(self, expr):
        return self._exprs.setdefault(expr, expr)

    @property
    def scope(self) -> _Scope:
        return self.scopes[-1]

    # ------------------------------------------------------------ module

    def convert(self, module: cst.Module) -> ModuleFacts:
        scope = _Scope("<module>", None)
        self.scopes.append(scope)
        toplevel: List = []
        main: List = []
        main_line = 0
        for stmt in module.body:
            if _is_main_guard(stmt):
                main_line = main_line or self.pos(stmt)[0]
                body = self.block(stmt.body)
                main.extend(body)
                if stmt.orelse is not None:
                    toplevel.extend(self.orelse_block(stmt.orelse))
                continue
            nodes = self.statement(stmt, toplevel_scope=True)
            toplevel.extend(nodes)
            main.extend(nodes)
        self.scopes.pop()
        top = FunctionFacts(qualname="<module>", line=1, params=(), body=tuple(toplevel),
                            local_names=tuple(sorted(scope.bound)))
        main_facts = None
        if main_line:
            main_facts = FunctionFacts(qualname="<main>", line=main_line, params=(),
                                       body=tuple(main),
                                       local_names=tuple(sorted(scope.bound)))
        return ModuleFacts(
            name=self.module_name, path=self.path, is_package=self.is_package,
            imports=tuple(self.imports), classes=tuple(self.classes),
            functions=tuple(self.functions), global_values=tuple(self.global_values),
            toplevel=top, main_block=main_facts, decorated=tuple(self.decorated),
            positioned=self.positions is not None,
            stored_attrs=_stored_attrs(self.functions, top, main_facts),
            global_declarations=tuple(sorted({(f.qualname, name) for f in self.functions
                                              for name in f.global_names})),
        )

    # ------------------------------------------------------------ statements

    def block(self, body) -> Block:
        nodes: List = []
        statements = body.body if type(body) is cst.IndentedBlock else [body]
        if type(body) is cst.SimpleStatementSuite:
            statements = [body]
        for stmt in statements:
            nodes.extend(self.statement(stmt))
        return tuple(nodes)

    def orelse_block(self, orelse) -> Block:
        if orelse is None:
            return ()
        if type(orelse) is cst.If:
            return tuple(self.statement(orelse))
        return self.block(orelse.body)

    def statement(self, stmt, toplevel_scope: bool = False) -> List:
        kind = type(stmt)
        if kind is cst.SimpleStatementSuite or kind is cst.SimpleStatementLine:
            return self._statement(stmt, toplevel_scope)
        # A branch, loop, definition...: what containers hold is known again only from
        # stores in a straight run of statements.
        self.scope.contents.forget_all()
        out = self._statement(stmt, toplevel_scope)
        self.scope.contents.forget_all()
        return out

    def _statement(self, stmt, toplevel_scope: bool = False) -> List:
        out: List = []
        if type(stmt) is cst.SimpleStatementSuite:
            for small in stmt.body:
                self.small_statement(small, out, toplevel_scope)
        elif type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self.small_statement(small, out, toplevel_scope)
        elif type(stmt) is cst.If:
            self.if_statement(stmt, out)
        elif type(stmt) in (cst.For,):
            iterable = self.expr(stmt.iter, out, deref=True)
            before = dict(self.scope.aliases)
            phis = self.loop_versions(stmt.body)
            self.bind_target(stmt.target, Iter(iterable), out)
            body = self.block(stmt.body)
            self.join_aliases(before)
            self.close_loop(phis, out)
            orelse = self.orelse_block(stmt.orelse)
            out.append(Loop(body=body, orelse=orelse, runs_once=True))
        elif type(stmt) is cst.While:
            phis = self.loop_versions(stmt.body)
            self.expr(stmt.test, out)
            truthy, falsy = self.facts(stmt.test)
            infinite = type(stmt.test) is cst.Name and stmt.test.value == "True"
            before = dict(self.scope.aliases)
            body = self.block(stmt.body)
            self.join_aliases(before)
            self.close_loop(phis, out)
            out.append(Loop(body=body, orelse=self.orelse_block(stmt.orelse),
                            infinite=infinite, exit_facts=falsy))
        elif type(stmt) is cst.With:
            for item in stmt.items:
                manager = self.expr(item.item, out, deref=True)
                if item.asname is not None:
                    self.bind_target(item.asname.name, Enter(manager), out)
            out.extend(self.block(stmt.body))
        elif isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            self.try_statement(stmt, out)
        elif type(stmt) is cst.FunctionDef:
            self.function_def(stmt, out)
        elif type(stmt) is cst.ClassDef:
            self.class_def(stmt, out)
        elif isinstance(stmt, getattr(cst, "Match", ())):
            self.match_statement(stmt, out)
        return out

    def if_statement(self, stmt: cst.If, out: List) -> None:
        self.expr(stmt.test, out)
        truthy, falsy = self.facts(stmt.test)
        scope = self.scope
        before = dict(scope.aliases)
        versions = dict(scope.current)
        body = self.block(stmt.body)
        after_body = scope.aliases
        body_versions = scope.current
        scope.aliases = dict(before)
        scope.current = dict(versions)
        orelse = self.orelse_block(stmt.orelse)
        self.join_aliases(after_body)
        out.append(If(true_facts=truthy, false_facts=falsy, body=body, orelse=orelse,
                      type_tests=self._type_tests(stmt.test), line=self.pos(stmt)[0]))
        self.join_versions([body_versions, scope.current], out)

    def _type_tests(self, test) -> tuple:
        """`isinstance(name, classes)` (or its negation) as an If's type_tests."""
        arm = True
        while type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            test, arm = test.expression, not arm
        if type(test) is not cst.Call or type(test.func) is not cst.Name \
                or test.func.value != "isinstance" or len(test.args) != 2 \
                or type(test.args[0].value) is not cst.Name:
            return ()
        subject = self._symbol(test.args[0].value)
        if type(subject) is not Name:
            return ()
        return ((subject.id, self.expr(test.args[1].value, [], load=False), arm),)

    def join_aliases(self, other: Dict[str, Attr]) -> None:
        """After branches: a name aliases an attribute only if it does on both."""
        current = self.scope.aliases
        self.scope.aliases = {name: value for name, value in current.items()
                              if other.get(name) == value}

    def try_statement(self, stmt, out: List) -> None:
        catches = False
        handlers = []
        scope = self.scope
        before = dict(scope.aliases)
        versions = dict(scope.current)
        body = self.block(stmt.body)
        self.join_aliases(before)
        # A handler may start anywhere in the body: what the body rebinds, it sees
        # before or after.
        self.join_versions([versions, scope.current], out)
        handler_start = dict(scope.current)
        ends = []
        for handler in stmt.handlers:
            scope.current = dict(handler_start)
            if handler.type is None or any(
                    n in _CATCHES_NONE_DEREF for n in _exception_names(handler.type)):
                catches = True
            nodes: List = []
            if handler.name is not None:
                self.bind_target(handler.name.name, _OPAQUE, nodes)
            nodes.extend(self.block(handler.body))
            handlers.append(tuple(nodes))
            ends.append(scope.current)
        scope.current = dict(handler_start)
        orelse = self.orelse_block(stmt.orelse)
        self.join_versions([scope.current] + ends, out)
        out.append(Try(body=body, handlers=tuple(handlers), orelse=orelse,
                       final=self.block(stmt.finalbody.body) if stmt.finalbody else (),
                       catches_attribute_error=catches))

    def match_statement(self, stmt, out: List) -> None:
        self.expr(stmt.subject, out)
        scope = self.scope
        versions = dict(scope.current)
        bodies, ends = [], [versions]  # no case may match
        for case in stmt.cases:
            scope.current = dict(versions)
            bodies.append(self.block(case.body))
            ends.append(scope.current)
        chain: Block = ()
        for body in reversed(bodies):
            chain = (If(true_facts=(), false_facts=(), body=body, orelse=chain),)
        out.extend(chain)
        self.join_versions(ends, out)

    def small_statement(self, small, out: List, toplevel_scope: bool) -> None:
        if type(small) not in _PLAIN_STATEMENTS:  # `del`, `+=`, `import`...: may run code
            self.scope.contents.forget_all()
        if type(small) is cst.Expr:
            self.expr(small.value, out)
        elif type(small) is cst.Assign:
            value = self.expr(small.value, out)
            for target in small.targets:
                self.assign(target.target, value, out, toplevel_scope)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                value = self.expr(small.value, out)
            else:
                value = None
            target = small.target
            annotation = annotation_expr(small.annotation.annotation)
            if type(target) is cst.Name and value is not None and annotation is not None \
                    and isinstance(value, (Opaque, NoneConst)):
                # An annotated local or global: its declared type is what we know.
                self.assign(target, value, out, toplevel_scope)
                out.append(Bind(target.value, Declared(annotation), self.pos(target)[0]))
            elif value is not None:
                self.assign(target, value, out, toplevel_scope)
                if type(target) is cst.Attribute and annotation is not None:
                    base = self.expr(target.value, [])
                    out.append(Store(self.attr(base, target.attr.value), Declared(annotation),
                                     *self.pos(target)) if not isinstance(value, NoneConst)
                               else Store(self.attr(base, target.attr.value), value,
                                          *self.pos(target)))
            elif type(target) is cst.Name and annotation is not None:
                out.append(Bind(target.value, Declared(annotation), self.pos(target)[0]))
        elif type(small) is cst.AugAssign:
            self.expr(small.value, out)
            self.expr(small.target, out)
        elif type(small) is cst.Return:
            value = self.expr(small.value, out) if small.value is not None else _NONE
            self.scope.returns.append(value)
            out.append(Exit("return"))
        elif type(small) is cst.Raise:
            if small.exc is not None:
                exception = self.expr(small.exc, out)
                if type(small.exc) in (cst.Name, cst.Attribute):
                    out.append(Call(exception, (), (), *self.pos(small.exc), kind="raise"))
            out.append(Exit("raise"))
        elif type(small) is cst.Assert:
            self.expr(small.test, out)
            truthy, falsy = self.facts(small.test)
            out.append(If(true_facts=truthy, false_facts=falsy, body=(),
                          orelse=(Exit("raise"),)))
        elif type(small) is cst.Break:
            out.append(Exit("break"))
        elif type(small) is cst.Continue:
            out.append(Exit("continue"))
        elif type(small) in (cst.Global, cst.Nonlocal):
            # Not this scope's locals: `global` binds are the module's (see the flow).
            self.scope.globals.update(name.name.value for name in small.names)
            if type(small) is cst.Global:
                self.scope.global_decls.update(name.name.value for name in small.names)
        elif type(small) is cst.Import:
            for alias in small.names:
                full = _dotted_cst(alias.name)
                if alias.asname is not None:
                    local = _dotted_cst(alias.asname.name)
                    self.imports.append(ImportFacts(local=local, module=full))
                else:
                    # `import a.b` binds `a`; `a.b` is reached through attributes.
                    self.imports.append(ImportFacts(local=full.split(".")[0],
                                                    module=full.split(".")[0]))
                    if "." in full:
                        self.imports.append(ImportFacts(local=full, module=full))
        elif type(small) is cst.ImportFrom:
            self.import_from(small)

    def import_from(self, small: cst.ImportFrom) -> None:
        target = _dotted_cst(small.module) if small.module is not None else ""
        level = len(small.relative)
        module = resolve_relative(self.module_name, self.is_package, level, target)
        if type(small.names) is cst.ImportStar:
            self.imports.append(ImportFacts(local="*", module=module))
            return
        for alias in small.names:
            name = _dotted_cst(alias.name)
            local = _dotted_cst(alias.asname.name) if alias.asname is not None else name
            self.imports.append(ImportFacts(local=local, module=module, name=name))

    def assign(self, target, value: Expr, out: List, toplevel_scope: bool = False) -> None:
        if type(target) is cst.Name:
            self.bind_name(target.value, value, self.pos(target)[0], out)
            if toplevel_scope and len(self.scopes) == 1:
                self.global_values.append((target.value, value))
        elif type(target) is cst.Attribute:
            self.scope.contents.forget_all()  # a setter may run
            base = self.expr(target.value, out, deref=True)
            line, column = self.pos(target)
            stored = self.attr(base, target.attr.value)
            out.append(Store(stored, value, line, column))
        elif type(target) in (cst.Tuple, cst.List):
            elements = target.elements
            star = next((i for i, e in enumerate(elements) if type(e) is cst.StarredElement),
                        None)
            count = len(elements)
            for position, element in enumerate(elements):
                inner = element.value
                if position == star:
                    self.assign(inner, self._starred_part(value, position, count), out,
                                toplevel_scope)
                else:
                    index = position if star is None or position < star else position - count
                    self.assign(inner, _item(value, index), out, toplevel_scope)
        elif type(target) is cst.Subscript:
            base = self.expr(target.value, out, deref=True)
            index, _ = self.subscript_index(target, out)
            out.append(SetItem(base, index, value, *self.pos(target.value)))
            if self.scope.contents.known:  # else nothing is tracked, nothing to forget
                label, path = self._literal_path(target)
                self.scope.contents.stored(label, path, value)
        elif type(target) is cst.StarredElement:
            self.assign(target.value, self._starred_part(value, 0, 1), out, toplevel_scope)

    def _starred_part(self, value: Expr, position: int, count: int) -> Expr:
        """The list a starred target gets: value's elements from position on, less the
        count - position - 1 targets after the star."""
        site = self.scope.display_site()
        if isinstance(value, Seq) and not any(isinstance(i, Starred) for i in value.items):
            return Seq("list", value.items[position:len(value.items) - (count - position - 1)],
                       site)
        return Seq("list", (Starred(value),), site)

    def bind_target(self, target, value: Expr, out: List) -> None:
        if type(target) is cst.Name:
            self.bind_name(target.value, value, self.pos(target)[0], out)
        else:
            self.assign(target, value, out)

    def bind_name(self, name: str, value: Expr, line: int, out: List) -> None:
        """name = value. A local gets a new version, `name#k`, that the uses after this
        point see (a `global` name is the module's, one for all of them): a name that
        holds a client on one branch and a server on the other is not both everywhere."""
        scope = self.scope
        if isinstance(value, Attr) and name != scope.self_name:
            scope.aliases[name] = value
        else:
            scope.aliases.pop(name, None)
        if name in scope.globals:
            out.append(Bind(name, value, line))
            return
        scope.bound.add(name)
        label = scope.new_version(name)
        scope.current[name] = label
        scope.contents.bound(label, value)
        if name in scope.aliases:
            scope.alias_labels[name] = label
            out.append(Snapshot(label, value, line))
        out.append(Bind(label, value, line))

    def _alias_of(self, node) -> str:
        """The version of the alias a dereferenced expression is written as, if any."""
        if type(node) is cst.Name and node.value in self.scope.aliases:
            return self.scope.alias_labels.get(node.value, "")
        return ""

    def join_versions(self, branches: List[Dict[str, str]], out: List) -> None:
        """After branches: a name each left at its own version now holds one of them (a
        new version bound to either)."""
        scope = self.scope
        merged: Dict[str, str] = {}
        for name in sorted(set().union(*branches)):
            labels: List[str] = []
            for branch in branches:
                label = branch.get(name)
                if label is not None and label not in labels:
                    labels.append(label)
            if len(labels) == 1 and all(name in branch for branch in branches):
                merged[name] = labels[0]
                continue
            phi = scope.new_version(name)
            out.append(Bind(phi, Either(tuple(self.name(label) for label in labels)), 0))
            merged[name] = phi
        scope.current = merged

    def loop_versions(self, body) -> Dict[str, Tuple[Optional[str], str]]:
        """Before a loop body: a version for each name the body binds, that its uses (in
        this iteration or the next) and the code after the loop see."""
        scope = self.scope
        phis: Dict[str, Tuple[Optional[str], str]] = {}
        for name in sorted(_assigned_names(body)):
            if name in scope.globals:
                continue
            phis[name] = (scope.current.get(name), scope.new_version(name))
            scope.current[name] = phis[name][1]
        return phis

    def close_loop(self, phis: Dict[str, Tuple[Optional[str], str]], out: List) -> None:
        """After a loop body: each loop version holds what it had before the loop or at
        the end of an iteration."""
        scope = self.scope
        for name, (before, phi) in phis.items():
            options = [label for label in (before, scope.current.get(name))
                       if label is not None and label != phi]
            out.append(Bind(phi, Either(tuple(self.name(label) for label in options)), 0))
            scope.current[name] = phi

    # ------------------------------------------------------------ definitions

    def function_def(self, node: cst.FunctionDef, out: List,
                     owner_class: Optional[str] = None,
                     class_qualname: Optional[str] = None) -> FunctionFacts:
        decorators = []
        for decorator in node.decorators:
            decorators.append(self.expr(decorator.decorator, out))
        kind = "function"
        if owner_class is not None:
            kind = "method"
            for decorator in decorators:
                name = dotted(decorator.func if isinstance(decorator, CallExpr) else decorator)
                if name in ("staticmethod",):
                    kind = "staticmethod"
                elif name in ("classmethod",):
                    kind = "classmethod"
                elif name and (name.endswith("property") or name.endswith(".setter")
                               or name.endswith(".getter")):
                    kind = "property"
        if class_qualname is not None:
            qualname = f"{class_qualname}.{node.name.value}"
        elif self.scope.qualname in ("<module>",):
            qualname = node.name.value
        else:
            qualname = f"{self.scope.qualname}.<locals>.{node.name.value}"
        for decorator in decorators:
            self.decorated.append((qualname, decorator))
        params = self.parameters(node.params, out)
        self_name = params[0].name if kind in ("method", "property") and params else None
        enclosing = self.scope.qualname
        parent = None if enclosing == "<module>" or enclosing.startswith("<class>") \
            else enclosing
        inherited_self = None if self_name else (self.scope.self_name if parent else None)
        scope = _Scope(qualname, self_name or inherited_self)
        scope.bound.update(p.name for p in params)
        self.scopes.append(scope)
        body = self.block(node.body)
        self.scopes.pop()
        returns = annotation_expr(node.returns.annotation) if node.returns else None
        facts = FunctionFacts(
            qualname=qualname, line=self.pos(node.name)[0], params=params, body=body,
            owner_class=owner_class, parent=parent, self_name=self_name, kind=kind,
            is_async=node.asynchronous is not None, returns=returns,
            return_values=tuple(scope.returns), local_names=tuple(sorted(scope.bound)),
            yield_values=tuple(scope.yields), is_generator=scope.generator,
            global_names=tuple(sorted(scope.global_decls)),
        )
        self.functions.append(facts)
        if class_qualname is None:
            value = self.decorate(LocalFunc(qualname), decorators, node.decorators, out)
            self.bind_name(node.name.value, value, facts.line, out)
        return facts

    def decorate(self, value: Expr, decorators: List[Expr], nodes, out: List) -> Expr:
        """value after its decorators, innermost first; each application is a call."""
        for decorator, node in zip(reversed(decorators), reversed(nodes)):
            out.append(Call(decorator, (value,), (), *self.pos(node.decorator),
                            kind="decorator"))
            value = Decorated(decorator, value)
        return value

    def parameters(self, params: cst.Parameters, out: List) -> Tuple[Param, ...]:
        """The parameters; their defaults are evaluated into out, where the def runs."""
        result = []
        every = [(param, "posonly") for param in params.posonly_params]
        every += [(param, "") for param in params.params]
        if type(params.star_arg) is cst.Param:
            every.append((params.star_arg, "*"))
        every += [(param, "kwonly") for param in params.kwonly_params]
        if params.star_kwarg is not None:
            every.append((params.star_kwarg, "**"))
        for param, kind in every:
            annotation = annotation_expr(param.annotation.annotation) \
                if param.annotation is not None else None
            default_none = type(param.default) is cst.Name and param.default.value == "None"
            default = self.expr(param.default, out) if param.default is not None else None
            result.append(Param(param.name.value, annotation, default_none, default, kind))
        return tuple(result)

    def lambda_def(self, node: cst.Lambda, out: List) -> Expr:
        scope = self.scope
        scope.lambdas += 1
        line, _ = self.pos(node)
        # Numbered in order within their scope, as PyCG names them: stable whatever the
        # positions (facts are extracted with and without them).
        prefix = "" if scope.qualname == "<module>" else f"{scope.qualname}.<locals>."
        qualname = f"{prefix}<lambda{scope.lambdas}>"
        while any(f.qualname == qualname for f in self.functions):
            scope.lambdas += 1  # a redefined function's scope numbered its lambdas too
            qualname = f"{prefix}<lambda{scope.lambdas}>"
        params = self.parameters(node.params, out)
        inner = _Scope(qualname, scope.self_name)
        inner.bound.update(p.name for p in params)
        self.scopes.append(inner)
        out: List = []
        value = self.expr(node.body, out)
        self.scopes.pop()
        self.functions.append(FunctionFacts(
            qualname=qualname, line=line, params=params, body=tuple(out),
            parent=None if scope.qualname == "<module>" else scope.qualname,
            return_values=(value,), local_names=tuple(sorted(inner.bound))))
        return LocalFunc(qualname)

    def class_def(self, node: cst.ClassDef, out: List) -> None:
        decorators = [self.expr(decorator.decorator, out) for decorator in node.decorators]
        bases = tuple(self.expr(arg.value, out) for arg in node.bases)
        if self.scope.qualname == "<module>":
            qualname = node.name.value
        elif self.scope.qualname.startswith("<class>"):
            qualname = f"{self.scope.qualname[7:]}.{node.name.value}"
        else:
            qualname = f"{self.scope.qualname}.<locals>.{node.name.value}"
        is_dataclass = any(
            _decorator_name(d.decorator) in _DATACLASS_DECORATORS for d in node.decorators)
        methods: List[Tuple[str, str]] = []
        attrs: List[Tuple[str, ClassAttr]] = []
        statements = node.body.body if type(node.body) is cst.IndentedBlock else []
        for stmt in statements:
            if type(stmt) is cst.FunctionDef:
                facts = self.function_def(stmt, [], owner_class=qualname,
                                          class_qualname=qualname)
                if not any(name == stmt.name.value for name, _ in methods):
                    methods.append((stmt.name.value, facts.qualname))
                else:
                    # A later def (e.g. a property setter) keeps the getter's slot.
                    pass
            elif type(stmt) is cst.ClassDef:
                self.scopes.append(_Scope("<class>" + qualname, None))
                self.class_def(stmt, [])
                self.scopes.pop()
            elif type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    attrs.extend(self.class_attribute(small))
        dynamic = any(name in ("__getattr__", "__getattribute__", "__setattr__")
                      for name, _ in methods) or self._sets_computed_attributes(
                          qualname, attrs, {name for name, _ in methods})
        custom = any(name == "__new__" for name, _ in methods) or any(
            _decorator_name(d.decorator) not in _PLAIN_CLASS_DECORATORS
            for d in node.decorators) or any(
            arg.keyword is not None and arg.keyword.value == "metaclass"
            and _decorator_name(arg.value) not in _PLAIN_METACLASSES for arg in node.keywords)
        self.classes.append(ClassFacts(
            qualname=qualname, line=self.pos(node.name)[0], bases=bases,
            methods=tuple(methods), attrs=tuple(attrs), is_dataclass=is_dataclass,
            dynamic_attributes=dynamic, custom_construction=custom))
        if self.scope.qualname.startswith("<class>"):
            return  # a class attribute: the index finds nested classes by name
        value = self.decorate(LocalClass(qualname), decorators, node.decorators, out)
        self.bind_name(node.name.value, value, self.pos(node.name)[0], out)

    def _explicit_super(self, node: cst.Call) -> bool:
        """`super(Cls, self)` or `super(self.__class__, self)` in a method: Python 2's
        spelling of `super()` (the second runs the next class after the instance's own
        class, the enclosing one when it is not subclassed)."""
        if len(node.args) != 2 or any(arg.keyword or arg.star for arg in node.args):
            return False
        me = self.scope.self_name
        first, second = node.args[0].value, node.args[1].value
        if me is None or type(second) is not cst.Name or second.value != me:
            return False
        enclosing = self.scope.qualname.split(".<locals>.")[0].rsplit(".", 2)
        own_class = enclosing[-2] if len(enclosing) > 1 else None
        if type(first) is cst.Name:
            return first.value == own_class  # super(Cls, self)
        if type(first) is cst.Attribute:
            return _dotted_cst(first) == f"{me}.__class__"
        return type(first) is cst.Call and type(first.func) is cst.Name \
            and first.func.value == "type" and len(first.args) == 1 \
            and type(first.args[0].value) is cst.Name and first.args[0].value.value == me

    def _sets_computed_attributes(self, qualname: str, attrs, methods: Set[str]) -> bool:
        """Does a method of the class create attributes whose names the code does not
        spell (`setattr(self, name, v)`, `self.__dict__.update(d)`, `self.__dict__[k] = v`)?
        Its instances then have attributes no store names: an attribute bag. Not when
        the name runs over a literal list of names the class already defines (its
        properties or class attributes): `for key in self._SETTINGS: setattr(self, key,
        d[key])` goes through those, and creates nothing."""
        defined = methods | {name for name, _ in attrs}
        constants = {name: attr.value for name, attr in attrs}
        for function in self.functions:
            if function.owner_class != qualname or function.self_name is None:
                continue
            me = function.self_name
            binds = {node.name: node.value for node in walk_nodes(function.body)
                     if type(node) is Bind}
            for node in walk_nodes(function.body):
                if type(node) is Call:
                    func = node.func
                    if type(func) is Name and func.id == "setattr" and node.args \
                            and node.args[0] == Name(me) and not (
                                len(node.args) > 1 and (type(node.args[1]) is Lit or (
                                    _names_over(node.args[1], binds, constants, me)
                                    <= defined))):
                        return True
                    if type(func) is Attr and type(func.base) is Attr \
                            and func.base.attr == "__dict__" and func.base.base == Name(me):
                        return True
                elif type(node) is SetItem and type(node.base) is Attr \
                        and node.base.attr == "__dict__" and node.base.base == Name(me):
                    return True
        return False

    def class_attribute(self, small) -> List[Tuple[str, ClassAttr]]:
        if type(small) is cst.Assign:
            value = self.expr(small.value, [])
            return [(t.target.value, ClassAttr(value, None, self.pos(t.target)[0]))
                    for t in small.targets if type(t.target) is cst.Name]
        if type(small) is cst.AnnAssign and type(small.target) is cst.Name:
            value = self.expr(small.value, []) if small.value is not None else None
            if type(small.value) is cst.Call and _decorator_name(small.value.func) in (
                    "field", "dataclasses.field", "attr.ib", "attrs.field"):
                value = _OPAQUE
                for arg in small.value.args:
                    if arg.keyword is not None and arg.keyword.value == "default":
                        value = self.expr(arg.value, [])
            return [(small.target.value, ClassAttr(
                value, annotation_expr(small.annotation.annotation),
                self.pos(small.target)[0]))]
        return []

    # ------------------------------------------------------------ expressions

    def expr(self, node, out: List, deref: bool = False, awaited: bool = False,
             load: bool = True) -> Expr:
        """Append the events evaluating `node` causes to `out`; return its symbolic value.

        deref: the value itself is dereferenced here (`for _ in v`, `with v`).
        load: an attribute written here is loaded as a value (a presence read), unless
        the caller dereferences it itself.
        """
        value = self._expr(node, out, awaited)
        if deref and isinstance(value, Attr):
            out.append(Read(value, *self.pos(node), self._alias_of(node)))
        elif load and type(node) is cst.Attribute and isinstance(value, Attr):
            out.append(Read(value, *self.pos(node), presence=True))
        return value

    def _expr(self, node, out: List, awaited: bool) -> Expr:
        kind = type(node)  # the tests below are exclusive: their order is by frequency
        if kind not in _INERT:
            self.scopes[-1].contents.forget_all()  # evaluating node may run code
        if kind is cst.Name:
            if node.value == "None":
                return _NONE
            if node.value == "False":
                return _FALSY
            if node.value == "True":
                return _TRUE
            scope = self.scope
            alias = scope.aliases.get(node.value)
            if alias is not None:
                return alias
            return self.name(scope.current.get(node.value, node.value))
        if kind is cst.Attribute:
            scope = self.scopes[-1]
            if scope.contents.known and not (
                    type(node.value) is cst.Name
                    and scope.contents.tracks(scope.current.get(node.value.value))):
                scope.contents.forget_all()  # a property or __getattr__ may run
            base = self.expr(node.value, out, load=False)
            if isinstance(base, Attr):
                out.append(Read(base, *self.pos(node), self._alias_of(node.value)))
            return self.attr(base, node.attr.value)
        if kind is cst.Call:
            return self.call(node, out, awaited)
        if kind is cst.SimpleString:
            # Only short literals are evaluated (a long one, such as a docstring, is no
            # dictionary key); an empty literal is at most 8 characters (`rb""""""`).
            if len(node.value) > _MAX_KEY_LENGTH:
                return _STR
            text = _string_value(node)
            return self._shared(Lit("str", text)) if text is not None else _STR
        if kind is cst.Integer:
            try:
                return self._shared(Lit("int", int(node.value.replace("_", ""), 0)))
            except ValueError:  # `0777`: Python 2
                return _OPAQUE
        if kind is cst.Await:
            if type(node.expression) is cst.Call:
                return Await(self.call(node.expression, out, awaited=True))
            value = self.expr(node.expression, out, deref=True)
            out.append(AwaitValue(value, *self.pos(node.expression)))
            return Await(value)
        if kind is cst.Subscript:
            contents = self.scopes[-1].contents
            label, path = self._literal_path(node) if contents.known else (None, ())
            known = contents.read(label, path)
            if known is not None:
                return known
            base = self.expr(node.value, out, deref=True)
            index, is_slice = self.subscript_index(node, out)
            if contents.known and not contents.readable(label, path[:-1]):
                contents.forget_all()  # a __getitem__ may run
            return Subscript(base, index, is_slice)
        if kind is cst.BooleanOperation:
            left = self.expr(node.left, out)
            truthy, falsy = self.facts(node.left)
            right: List = []
            right_value = self.expr(node.right, right)
            if type(node.operator) is cst.And:
                out.append(If(truthy, falsy, tuple(right), ()))
            else:
                out.append(If(truthy, falsy, (), tuple(right)))
            return Either((left, right_value))
        if kind is cst.IfExp:
            self.expr(node.test, out)
            truthy, falsy = self.facts(node.test)
            body: List = []
            orelse: List = []
            body_value = self.expr(node.body, body)
            orelse_value = self.expr(node.orelse, orelse)
            out.append(If(truthy, falsy, tuple(body), tuple(orelse)))
            return Either((body_value, orelse_value))
        if kind is cst.Lambda:
            return self.lambda_def(node, out)
        if kind is cst.NamedExpr:
            value = self.expr(node.value, out)
            if type(node.target) is cst.Name:
                self.bind_name(node.target.value, value, self.pos(node)[0], out)
            return value
        if kind in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
            return self.comprehension(node, out)
        if kind in (cst.Tuple, cst.List, cst.Set):
            items = []
            for element in node.elements:
                value = self.expr(element.value, out)
                items.append(Starred(value) if type(element) is cst.StarredElement else value)
            return Seq(_DISPLAY_KINDS[kind], tuple(items), self.scope.display_site())
        if kind is cst.Dict:
            pairs = []
            for element in node.elements:
                key = self.expr(element.key, out) if type(element) is cst.DictElement else None
                pairs.append((key, self.expr(element.value, out)))
                if key is None or literal_key(key) is None:
                    self.scopes[-1].contents.forget_all()  # a __hash__ or `**` may run
            return DictLit(tuple(pairs), self.scope.display_site())
        if kind is cst.StarredElement:
            return Starred(self.expr(node.value, out))
        if kind is cst.BinaryOperation:
            self.expr(node.left, out)
            self.expr(node.right, out)
            return _OPAQUE
        if kind is cst.UnaryOperation:
            self.expr(node.expression, out)
            return _OPAQUE
        if kind is cst.Comparison:
            self.expr(node.left, out)
            for target in node.comparisons:
                self.expr(target.comparator, out)
            return _OPAQUE
        if kind is cst.FormattedString:
            for part in node.parts:
                if type(part) is cst.FormattedStringExpression:
                    self.expr(part.expression, out)
            return _STR
        if kind is cst.ConcatenatedString:
            self.expr(node.left, out)
            self.expr(node.right, out)
            return _STR
        if kind in (cst.Yield,):
            scope = self.scope
            scope.generator = True
            if isinstance(node.value, cst.BaseExpression):
                scope.yields.append(self.expr(node.value, out))
            elif node.value is not None:  # yield from
                scope.yields.append(Iter(self.expr(node.value.item, out)))
            return _OPAQUE
        if kind in (cst.Float, cst.Imaginary):
            return _FLOAT
        return _OPAQUE

    def subscript_index(self, node: cst.Subscript, out: List) -> Tuple[Expr, bool]:
        """The index of a subscript, and whether it is a slice."""
        if len(node.slice) != 1:
            for element in node.slice:
                self.subscript_index_part(element.slice, out)
            return _OPAQUE, False
        inner = node.slice[0].slice
        return self.subscript_index_part(inner, out), type(inner) is cst.Slice

    def subscript_index_part(self, inner, out: List) -> Expr:
        if type(inner) is cst.Index:
            return self.expr(inner.value, out)
        for part in (inner.lower, inner.upper, inner.step):
            if part is not None:
                self.expr(part, out)
        bounds = (_literal_int(inner.lower), _literal_int(inner.upper))
        if inner.step is None and None not in bounds:
            return Lit("slice", (bounds[0][0], bounds[1][0]))
        return _OPAQUE

    def comprehension(self, node, out: List) -> Expr:
        clause = node.for_in
        iterable = self.expr(clause.iter, out, deref=True)
        body: List = []
        element, key = self.comprehension_clause(node, clause, body, iterable)
        out.append(Loop(body=tuple(body), orelse=()))
        return Comp(_COMPREHENSION_KINDS[type(node)], element, key, self.scope.display_site())

    def comprehension_clause(self, node, clause, out: List, iterable: Optional[Expr]
                             ) -> Tuple[Expr, Optional[Expr]]:
        """Convert one `for` clause (and those nested in it) into out; return the
        element value (and a dict comprehension's key)."""
        if iterable is None:
            iterable = self.expr(clause.iter, out, deref=True)
        self.bind_target(clause.target, Iter(iterable), out)
        inner: List = out
        wrappers = []
        for condition in clause.ifs:
            self.expr(condition.test, inner)
            truthy, falsy = self.facts(condition.test)
            nested: List = []
            wrappers.append((truthy, falsy, inner, nested))
            inner = nested
        key = None
        if clause.inner_for_in is not None:
            element, key = self.comprehension_clause(node, clause.inner_for_in, inner, None)
        elif type(node) is cst.DictComp:
            key = self.expr(node.key, inner)
            element = self.expr(node.value, inner)
        else:
            element = self.expr(node.elt, inner)
        for truthy, falsy, parent, nested in reversed(wrappers):
            parent.append(If(truthy, falsy, tuple(nested), ()))
        return element, key

    def call(self, node: cst.Call, out: List, awaited: bool) -> Expr:
        value = self._call(node, out, awaited)
        # The call may run any code, and change what any container holds; but a dict's
        # own update() with literal keys stores them.
        scope = self.scopes[-1]
        contents = scope.contents
        if not contents.known:
            return value
        func = node.func
        if type(value) is CallExpr and type(func) is cst.Attribute \
                and func.attr.value == "update" and type(func.value) is cst.Name:
            label = scope.current.get(func.value.value)
            contents.updated(label, _literal_items(value) if contents.tracks(label) else None)
        else:
            contents.forget_all()
        return value

    def _literal_path(self, node) -> Tuple[Optional[str], Tuple[object, ...]]:
        """For `name[k1][k2]...` with literal keys (str, non-negative int): the version of
        the local name and the keys; else (None, ())."""
        keys: List[object] = []
        while type(node) is cst.Subscript:
            if len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
                return None, ()
            key = literal_key(_literal_cst(node.slice[0].slice.value))
            if key is None:
                return None, ()
            keys.append(key)
            node = node.value
        if type(node) is not cst.Name:
            return None, ()
        return self.scope.current.get(node.value), tuple(reversed(keys))

    def _call(self, node: cst.Call, out: List, awaited: bool) -> Expr:
        func_name = _dotted_cst(node.func) if type(node.func) in (cst.Name, cst.Attribute) \
            else None
        if func_name == "super" and (not node.args or self._explicit_super(node)):
            out.append(Call(self.name("super"), (), (), *self.pos(node)))
            return Super()
        if func_name == "getattr" and len(node.args) >= 2 and _string_value(node.args[1].value):
            base = self.expr(node.args[0].value, out)
            for arg in node.args[2:]:
                self.expr(arg.value, out)
            return self.attr(base, _string_value(node.args[1].value))
        if func_name in ("partial", "functools.partial") and node.args:
            # A partial of a callable is, for ordering purposes, that callable.
            values = [self.expr(arg.value, out) for arg in node.args]
            return values[0]
        func = self.expr(node.func, out, load=False)
        if isinstance(func, Attr) and not isinstance(func.base, Super):
            # Calling `self.callback()` dereferences the attribute's value.
            out.append(Read(func, *self.pos(node), self._alias_of(node.func)))
        args: List[Expr] = []
        kwargs: List[Tuple[str, Expr]] = []
        for arg in node.args:
            value = self.expr(arg.value, out)
            if arg.keyword is not None:
                kwargs.append((arg.keyword.value, value))
            elif arg.star == "**":
                kwargs.append(("**", value))
            elif arg.star:
                args.append(Starred(value))
            else:
                args.append(value)
        line, column = self.pos(node)
        out.append(Call(func, tuple(args), tuple(kwargs), line, column, awaited))
        return CallExpr(func, tuple(args), tuple(kwargs))

    # ------------------------------------------------------------ guards

    def facts(self, test) -> Tuple[Tuple[Expr, ...], Tuple[Expr, ...]]:
        """Expressions known set (not None) when `test` is true, and when it is false.

        Memoized per node: `a and b and c ...` asks again for every prefix."""
        key = id(test)
        cached = self._facts_memo.get(key)
        if cached is not None and cached[0] is test:
            return cached[1]
        result = self._facts(test)
        self._facts_memo[key] = (test, result)
        return result

    def _facts(self, test) -> Tuple[Tuple[Expr, ...], Tuple[Expr, ...]]:
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            truthy, falsy = self.facts(test.expression)
            return falsy, truthy
        if type(test) is cst.BooleanOperation:
            left_t, left_f = self.facts(test.left)
            right_t, right_f = self.facts(test.right)
            if type(test.operator) is cst.And:
                return left_t + right_t, ()
            return (), left_f + right_f
        if type(test) is cst.Comparison and len(test.comparisons) == 1:
            comparison = test.comparisons[0]
            other = comparison.comparator
            left = test.left
            if type(left) is cst.Name and left.value == "None":
                left, other = other, left
            if type(other) is cst.Name and other.value == "None":
                subject = self._fact(left)
                if subject is None:
                    return (), ()
                if type(comparison.operator) in (cst.IsNot, cst.NotEqual):
                    return (subject,), ()
                if type(comparison.operator) in (cst.Is, cst.Equal):
                    return (), (subject,)
                return (), ()
            # Equal or identical to some other value (`self.x is canvas`,
            # `self.level >= 1`): on the true branch the attribute holds a value.
            if type(comparison.operator) in (cst.Is, cst.Equal, cst.GreaterThan, cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual, cst.In):
                subjects = tuple(x for x in (self._fact(test.left), self._fact(other))
                                 if isinstance(x, (Attr, AliasGuard)))
                return subjects, ()
            return (), ()
        if type(test) is cst.Call:
            name = _dotted_cst(test.func) if type(test.func) in (cst.Name, cst.Attribute) \
                else None
            if name in ("isinstance", "callable", "bool") and test.args:
                subject = self._fact(test.args[0].value)
                return ((subject,), ()) if subject is not None else ((), ())
            if name in ("hasattr", "getattr") and len(test.args) >= 2:
                attr = _string_value(test.args[1].value)
                base = self._symbol(test.args[0].value)
                if attr and base is not None:
                    return (self.attr(base, attr),), ()
            return (), ()
        if type(test) is cst.NamedExpr:
            return self.facts(test.target)
        subject = self._fact(test)
        return ((subject,), ()) if subject is not None else ((), ())

    def _fact(self, node) -> Optional[Expr]:
        """What a test on node tells of: the attribute it denotes; for an alias of one
        (`sink = self.sink; if sink:`), the alias's value (AliasGuard) as well."""
        subject = self._symbol(node)
        if type(node) is cst.Name and isinstance(subject, Attr):
            label = self.scope.alias_labels.get(node.value)
            if label:
                return AliasGuard(label, subject)
        return subject

    def _symbol(self, node) -> Optional[Expr]:
        """The attribute an expression denotes, without recording events."""
        if type(node) is cst.Name:
            alias = self.scope.aliases.get(node.value)
            return alias if alias is not None else self.name(node.value)
        if type(node) is cst.Attribute:
            base = self._symbol(node.value)
            return self.attr(base, node.attr.value) if base is not None else None
        if type(node) is cst.Call:
            name = _dotted_cst(node.func) if type(node.func) in (cst.Name, cst.Attribute) \
                else None
            if name == "getattr" and len(node.args) >= 2 and _string_value(node.args[1].value):
                base = self._symbol(node.args[0].value)
                return self.attr(base, _string_value(node.args[1].value)) if base else None
        if type(node) is cst.NamedExpr:
            return self._symbol(node.value)
        return None


# ---------------------------------------------------------------- small CST helpers


def _stored_attrs(functions: List[FunctionFacts], *specials: Optional[FunctionFacts]
                  ) -> Tuple[str, ...]:
    """Attribute names stored in the functions the index keeps: of several defs with one
    qualname, the last (see ProjectIndex)."""
    kept = {function.qualname: function for function in functions}
    kept.update((special.qualname, special) for special in specials if special is not None)
    return tuple(sorted({node.target.attr for function in kept.values()
                         for node in walk_nodes(function.body) if isinstance(node, Store)}))


def _names_over(expr, binds, constants, me: str) -> Set[str]:
    """The attribute names a loop variable takes (`for key in ("a", "b")`, or over a
    class constant `self._SETTINGS` / `Cls._SETTINGS` holding such a display); a set
    that no class defines when it is anything else."""
    unknown = {"<computed>"}
    value = binds.get(expr.id) if type(expr) is Name else None
    if type(value) is not Iter:
        return unknown
    source = value.base
    if type(source) is Attr and type(source.base) is Name:
        source = constants.get(source.attr)
    elif type(source) is Name:
        source = constants.get(source.id)
    if type(source) is not Seq or not source.items:
        return unknown
    names = {item.value for item in source.items
             if type(item) is Lit and item.kind == "str" and isinstance(item.value, str)}
    return names if len(names) == len(source.items) else unknown


def _literal_int(node) -> Optional[Tuple[Optional[int]]]:
    """(value,) of a missing slice bound or one written as an int literal, else None."""
    if node is None:
        return (None,)
    negative = False
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus:
        negative, node = True, node.expression
    if type(node) is cst.Integer:
        try:
            value = int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
        return (-value if negative else value,)
    return None


def _assigned_names(body) -> set:
    """Names a block's statements bind (not inside nested functions and classes; not a
    walrus inside an expression). Walks statements only: libcst's `children` visits."""
    names: set = set()
    stack = [body]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.IndentedBlock:
            stack.extend(node.body)
        elif kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            for small in node.body:
                small_kind = type(small)
                if small_kind is cst.Assign:
                    for target in small.targets:
                        _target_names(target.target, names)
                elif small_kind is cst.AnnAssign or small_kind is cst.AugAssign:
                    _target_names(small.target, names)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            names.add(node.name.value)
        elif kind is cst.For:
            _target_names(node.target, names)
            stack.append(node.body)
            if node.orelse is not None:
                stack.append(node.orelse)
        elif kind is cst.While or kind is cst.If:
            stack.append(node.body)
            if node.orelse is not None:
                stack.append(node.orelse)
        elif kind is cst.Else or kind is cst.Finally:
            stack.append(node.body)
        elif kind is cst.With:
            for item in node.items:
                if item.asname is not None:
                    _target_names(item.asname.name, names)
            stack.append(node.body)
        elif isinstance(node, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            stack.append(node.body)
            for handler in node.handlers:
                if handler.name is not None:
                    _target_names(handler.name.name, names)
                stack.append(handler.body)
            for part in (node.orelse, node.finalbody):
                if part is not None:
                    stack.append(part)
        elif isinstance(node, getattr(cst, "Match", ())):
            stack.extend(case.body for case in node.cases)
    return names


def _target_names(target, names: set) -> None:
    kind = type(target)
    if kind is cst.Name:
        names.add(target.value)
    elif kind in (cst.Tuple, cst.List):
        for element in target.elements:
            _target_names(element.value, names)
    elif kind is cst.StarredElement:
        _target_names(target.value, names)


def _item(value: Expr, index: int) -> Expr:
    """Element index of value, for a tuple target: the display's own element when value
    is a display without starred items."""
    if isinstance(value, Seq) and not any(isinstance(i, Starred) for i in value.items) \
            and -len(value.items) <= index < len(value.items):
        return value.items[index]
    return Subscript(value, Lit("int", index))


def _is_main_guard(stmt) -> bool:
    if not type(stmt) is cst.If:
        return False
    test = stmt.test
    if not type(test) is cst.Comparison or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if type(s) is cst.Name and s.value == "__name__"]
    strings = [s for s in sides if _string_value(s) == "__main__"]
    return bool(names and strings) and type(test.comparisons[0].operator) is cst.Equal


def _string_value(node) -> Optional[str]:
    if type(node) is cst.SimpleString:
        text = node.value
        body = text.lstrip("rRuU")
        if "\\" not in text and "\r" not in text and body[:1] in ("'", '"'):
            # Plain text between the quotes: what evaluated_value computes by compiling.
            quote = 3 if body[:3] in ("'" * 3, '"' * 3) and len(body) >= 6 else 1
            return body[quote:-quote]
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - odd prefixes: not a plain string
            return None
        return value if isinstance(value, str) else None
    return None


def _dotted_cst(node) -> str:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return f"{_dotted_cst(node.value)}.{node.attr.value}"
    return ""


def _decorator_name(node) -> str:
    if type(node) is cst.Call:
        node = node.func
    return _dotted_cst(node) if type(node) in (cst.Name, cst.Attribute) else ""


def _exception_names(node) -> List[str]:
    if type(node) is cst.Tuple:
        names: List[str] = []
        for element in node.elements:
            names.extend(_exception_names(element.value))
        return names
    name = _dotted_cst(node) if type(node) in (cst.Name, cst.Attribute) else ""
    return [name.rsplit(".", 1)[-1]] if name else []


def annotation_expr(node) -> Optional[Expr]:
    """The class an annotation names, with Optional/None unions and quotes stripped."""
    if node is None:
        return None
    if type(node) is cst.SimpleString:
        text = _string_value(node)
        if not text:
            return None
        try:
            node = cst.parse_expression(text)
        except Exception:  # noqa: BLE001 - a string annotation that is not an expression
            return None
    if type(node) is cst.Name:
        return None if node.value == "None" else Name(node.value)
    if type(node) is cst.Attribute:
        base = annotation_expr(node.value)
        return Attr(base, node.attr.value) if base is not None else None
    if type(node) is cst.Subscript:
        outer = _dotted_cst(node.value) if type(node.value) in (cst.Name, cst.Attribute) \
            else ""
        short = outer.rsplit(".", 1)[-1]
        elements = [e.slice.value for e in node.slice if type(e.slice) is cst.Index]
        if short in ("Optional", "Final", "ClassVar", "Annotated") and elements:
            return annotation_expr(elements[0])
        if short == "Union":
            kinds = [annotation_expr(e) for e in elements]
            kinds = [k for k in kinds if k is not None]
            return kinds[0] if len(kinds) == 1 else None
        return None
    if type(node) is cst.BinaryOperation and type(node.operator) is cst.BitOr:
        kinds = [annotation_expr(node.left), annotation_expr(node.right)]
        kinds = [k for k in kinds if k is not None]
        return kinds[0] if len(kinds) == 1 else None
    return None


def _literal_cst(node) -> Expr:
    """A str or int literal node as a Lit (else opaque), without converting it."""
    if type(node) is cst.SimpleString and len(node.value) <= _MAX_KEY_LENGTH:
        text = _string_value(node)
        if text is not None:
            return Lit("str", text)
    if type(node) is cst.Integer:
        try:
            return Lit("int", int(node.value.replace("_", ""), 0))
        except ValueError:
            pass
    return _OPAQUE


def _literal_items(call: CallExpr) -> Optional[Dict[object, Expr]]:
    """The keys and values `d.update(...)` stores, when it is one dict display with
    literal keys or keyword arguments."""
    if len(call.args) > 1 or call.args and (call.kwargs or type(call.args[0]) is not DictLit):
        return None
    items: Dict[object, Expr] = {}
    for key, value in call.args[0].items if call.args else ():
        literal = literal_key(key) if key is not None else None
        if literal is None:
            return None
        items[literal] = value
    for keyword, value in call.kwargs:
        if keyword == "**":
            return None
        items[keyword] = value
    return items


# The node kinds whose start ModuleConverter.pos is asked for.
POSITIONED = frozenset({cst.Name, cst.Attribute, cst.Call, cst.Lambda, cst.NamedExpr, cst.If})


def extract(module: cst.Module, module_name: str, path: str, is_package: bool,
            positioned: bool = True) -> ModuleFacts:
    """Facts of one parsed module; with positioned=False, site numbers stand for the
    positions, which saves the code generation that computes them (as long as the parse)."""
    positions = start_positions(module, POSITIONED) if positioned else None
    return ModuleConverter(module_name, path, is_package, positions).convert(module)
