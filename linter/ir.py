"""The per-module facts that parsing produces and analysis consumes.

A function body becomes a small structured program of events in evaluation order: reads
(dereferences of an attribute's value), calls, attribute stores, local bindings, and the
control flow that decides which of them run (if / loop / try / exits). Expressions are
kept symbolic (`Attr(Name("self"), "api")`); which class or function they denote is
decided later, with the whole project in view. Everything here is plain frozen data, so
facts can be pickled between worker processes and cached on disk.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field, fields
from typing import Dict, Iterable, Optional, Tuple, Union

# ---------------------------------------------------------------- symbolic expressions


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Attr:
    base: "Expr"
    attr: str


@dataclass(frozen=True)
class CallExpr:
    """The value a call returns (used for types: `Cls(...)`, `Thread(target=...)`)."""

    func: "Expr"
    args: Tuple["Expr", ...] = ()
    kwargs: Tuple[Tuple[str, "Expr"], ...] = ()


@dataclass(frozen=True)
class Super:
    """`super()` inside a method."""


@dataclass(frozen=True)
class LocalFunc:
    """A nested def or lambda of the enclosing function, by its module qualname."""

    qualname: str


@dataclass(frozen=True)
class LocalClass:
    """A class statement's class (the name a `class` statement binds), by module qualname."""

    qualname: str


@dataclass(frozen=True)
class NoneConst:
    pass


@dataclass(frozen=True)
class FalsyConst:
    """`False` (a false 0 or "" is a Lit, an empty container a display without items:
    see is_falsy_literal)."""


@dataclass(frozen=True)
class Lit:
    """A literal other than None and False: kind is "str", "int", "bool", "float",
    "slice"...; value is kept for short strings and ints (dictionary keys and indices)
    and literal slice bounds, else None."""

    kind: str
    value: object = None


@dataclass(frozen=True)
class Seq:
    """A list, tuple or set display. `site` numbers the displays of one function, so
    that two equal-looking `[]` are two objects."""

    kind: str  # "list" | "tuple" | "set"
    items: Tuple["Expr", ...]
    site: int


@dataclass(frozen=True)
class DictLit:
    """A dict display: (key, value) pairs; key None for `**other`."""

    items: Tuple[Tuple[Optional["Expr"], "Expr"], ...]
    site: int


@dataclass(frozen=True)
class Comp:
    """A comprehension's result: a kind ("list", "set", "dict", "gen") of `element`
    values (for a dict, `key` too), evaluated where the loop binds its names."""

    kind: str
    element: "Expr"
    key: Optional["Expr"]
    site: int


@dataclass(frozen=True)
class Starred:
    """`*value` in a display, an argument list or an assignment target's value."""

    value: "Expr"


@dataclass(frozen=True)
class Subscript:
    """`base[index]`; `is_slice` for `base[a:b]` (a container like base, not an element)."""

    base: "Expr"
    index: "Expr"
    is_slice: bool = False


@dataclass(frozen=True)
class Iter:
    """One element of iterating `base` (`for x in base`, a comprehension's target)."""

    base: "Expr"


@dataclass(frozen=True)
class Either:
    """One of several values: `a or b`, `a and b`, `x if c else y`."""

    options: Tuple["Expr", ...]


@dataclass(frozen=True)
class Await:
    """The value of `await value`."""

    value: "Expr"


@dataclass(frozen=True)
class Enter:
    """The `as` target of `with value as target`: what value.__enter__() returns."""

    value: "Expr"


@dataclass(frozen=True)
class Declared:
    """An instance of the class an annotation names (`x: Store`), not a construction."""

    annotation: "Expr"


@dataclass(frozen=True)
class Decorated:
    """`function` after `@decorator`: what a project decorator returns for it; an
    external decorator is taken to return the function itself."""

    decorator: "Expr"
    function: "Expr"


@dataclass(frozen=True)
class Opaque:
    """Any value nilcheck does not model (arithmetic, comparisons, unknown literals...)."""


Expr = Union[Name, Attr, CallExpr, Super, LocalFunc, LocalClass, NoneConst, FalsyConst, Lit,
             Seq, DictLit, Comp, Starred, Subscript, Iter, Either, Await, Enter, Declared,
             Decorated, Opaque]


def is_falsy_literal(expr: "Expr") -> bool:
    """A literal that is false: False, 0, "", None aside; an empty display."""
    if isinstance(expr, FalsyConst):
        return True
    if isinstance(expr, Lit):
        return expr.value in (0, "") and expr.value is not False
    if isinstance(expr, (Seq, DictLit)):
        return not expr.items
    return False

# ---------------------------------------------------------------- events and control flow


@dataclass(frozen=True)
class Read:
    """The value of `target` (an Attr) is dereferenced at line:column. alias: the
    version of the local it was read through (`c = self.x; c.y`), whose Snapshot holds
    the value it was given; "" for a read of the attribute itself. presence: the
    attribute is only loaded (`if self.x:`, `f(self.x)`), which fails only when it does
    not exist yet (AttributeError), not when it holds None."""

    target: Attr
    line: int
    column: int
    alias: str = ""
    presence: bool = False


@dataclass(frozen=True)
class Snapshot:
    """`alias = target`: a local takes the attribute's value as it is here."""

    alias: str
    target: Attr
    line: int


@dataclass(frozen=True)
class Call:
    """A call. args may hold Starred values; a kwargs name "**" is a `**mapping`.

    kind: "" for a call written as such; "decorator" for applying a decorator to the
    function or class it decorates; "raise" for `raise X` without a call (X may be a
    class, which is then instantiated)."""

    func: Expr
    args: Tuple[Expr, ...]
    kwargs: Tuple[Tuple[str, Expr], ...]
    line: int
    column: int
    awaited: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Store:
    """`target = value` where target is an attribute (`self.x`, `svc.hooks.x`)."""

    target: Attr
    value: Expr
    line: int
    column: int


@dataclass(frozen=True)
class SetItem:
    """`base[index] = value`."""

    base: Expr
    index: Expr
    value: Expr
    line: int
    column: int


@dataclass(frozen=True)
class AwaitValue:
    """`await value` where value is not written as a call (`await task`, `await self.fut`):
    a coroutine object runs here."""

    value: Expr
    line: int
    column: int


@dataclass(frozen=True)
class Bind:
    """A local name is bound to a value (assignment, `with ... as`, `for` target)."""

    name: str
    value: Expr
    line: int


@dataclass(frozen=True)
class AliasGuard:
    """A guard fact about an alias (`sink = self.sink; if sink:`): its value, taken from
    target, is set in that arm (and, as far as nothing stored since, target's too)."""

    alias: str
    target: Attr


@dataclass(frozen=True)
class If:
    """A branch. The *_facts name expressions known to be set (not None) in that arm.
    type_tests: `isinstance(name, classes)` tests of a plain name, as (name, classes,
    arm): arm True when an instance takes the body (`if isinstance(x, C):`), False when
    it takes the orelse (`if not isinstance(x, C):`)."""

    true_facts: Tuple[Expr, ...]
    false_facts: Tuple[Expr, ...]
    body: "Block"
    orelse: "Block"
    type_tests: Tuple[Tuple[str, "Expr", bool], ...] = ()
    line: int = 0  # of an `if` statement (0 for the tests inside expressions)


@dataclass(frozen=True)
class Loop:
    """for/while: the body runs zero or more times; `infinite` for `while True`.

    `runs_once`: a `for` statement. nilcheck assumes a for loop's body runs at least
    once: code that initializes inside `for x in items:` expects items."""

    body: "Block"
    orelse: "Block"
    infinite: bool = False
    runs_once: bool = False
    exit_facts: Tuple[Expr, ...] = ()  # known on normal exit (`while self.x is None: ...`)


@dataclass(frozen=True)
class Try:
    body: "Block"
    handlers: Tuple["Block", ...]
    orelse: "Block"
    final: "Block"
    # An `except AttributeError` (or broader) handler: a None dereference in the body
    # is caught, so reads there are not hazards.
    catches_attribute_error: bool = False


@dataclass(frozen=True)
class Exit:
    kind: str  # "return" | "raise" | "break" | "continue"


Node = Union[Read, Snapshot, Call, Store, SetItem, AwaitValue, Bind, If, Loop, Try, Exit]
Block = Tuple[Node, ...]

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Param:
    name: str
    annotation: Optional[Expr] = None
    default_none: bool = False
    default: Optional[Expr] = None  # evaluated where the def statement runs
    kind: str = ""  # "" positional or keyword, "posonly", "kwonly", "*", "**"


@dataclass(frozen=True)
class FunctionFacts:
    qualname: str  # within the module: "Server.start", "Server.start.<locals>.cb"
    line: int
    params: Tuple[Param, ...]
    body: Block
    owner_class: Optional[str] = None  # qualname of the class whose method this is
    parent: Optional[str] = None  # qualname of the enclosing function, for closures
    self_name: Optional[str] = None  # first parameter of an instance method
    kind: str = "function"  # function | method | staticmethod | classmethod | property
    is_async: bool = False
    returns: Optional[Expr] = None  # return annotation
    return_values: Tuple[Expr, ...] = ()
    local_names: Tuple[str, ...] = ()  # names bound in this scope (Python's locals)
    yield_values: Tuple[Expr, ...] = ()  # what a generator yields (`yield from g`: Iter(g))
    is_generator: bool = False
    global_names: Tuple[str, ...] = ()  # `global` declarations: these binds are the module's

    def __reduce__(self):
        # Bodies are most of the facts and an analysis reads few of them (440 of Django's
        # 9391 functions): pickled apart, so that loading facts from the cache or from a
        # worker leaves each body as bytes until something reads it.
        body = pickle.dumps(self.body, protocol=pickle.HIGHEST_PROTOCOL)
        return (_function_with_pickled_body,
                (body, tuple(getattr(self, name) for name in _FIELDS_BUT_BODY)))


_FIELDS_BUT_BODY = tuple(f.name for f in fields(FunctionFacts) if f.name != "body")


class _FunctionWithPickledBody(FunctionFacts):
    """A FunctionFacts whose body is unpickled when first read."""

    @property
    def body(self) -> Block:  # type: ignore[override]
        state = self.__dict__
        if "_body" not in state:
            state["_body"] = pickle.loads(state.pop("_pickled_body"))
        return state["_body"]

    @body.setter
    def body(self, value: Block) -> None:
        self.__dict__["_body"] = value

    def __eq__(self, other: object) -> bool:
        return _equal_fields(self, other, FunctionFacts)

    __hash__ = FunctionFacts.__hash__


def _equal_fields(lazy: object, other: object, base: type) -> object:
    """Whether a lazily unpickled object equals other (NotImplemented for other types):
    it equals the object it was pickled from, though dataclass equality wants the same
    class."""
    if not isinstance(other, base):
        return NotImplemented
    return all(getattr(lazy, f.name) == getattr(other, f.name) for f in fields(base))


def _function_with_pickled_body(body: bytes, values: tuple) -> FunctionFacts:
    function = object.__new__(_FunctionWithPickledBody)
    state = function.__dict__
    state.update(zip(_FIELDS_BUT_BODY, values))
    state["_pickled_body"] = body
    return function


@dataclass(frozen=True)
class ClassAttr:
    """A class-level declaration: `x = value`, `x: T = value` or a bare `x: T`."""

    value: Optional[Expr]  # None for a bare annotation
    annotation: Optional[Expr]
    line: int


@dataclass(frozen=True)
class ClassFacts:
    qualname: str
    line: int
    bases: Tuple[Expr, ...]
    methods: Tuple[Tuple[str, str], ...]  # (method name, function qualname)
    attrs: Tuple[Tuple[str, ClassAttr], ...]
    is_dataclass: bool = False
    dynamic_attributes: bool = False  # defines __getattr__/__getattribute__/__setattr__
    # A metaclass, a class decorator (other than a dataclass-like one) or `__new__`:
    # something other than `__init__` may run code when an instance is made.
    custom_construction: bool = False

    def method(self, name: str) -> Optional[str]:
        for method_name, qualname in self.methods:
            if method_name == name:
                return qualname
        return None


@dataclass(frozen=True)
class ImportFacts:
    """`local` is bound to module `module` (name None) or to `module`'s member `name`."""

    local: str
    module: str
    name: Optional[str] = None


@dataclass(frozen=True)
class ModuleFacts:
    name: str  # dotted module name
    path: str  # relative to the project root, "/" separators
    is_package: bool
    imports: Tuple[ImportFacts, ...]
    classes: Tuple[ClassFacts, ...]
    functions: Tuple[FunctionFacts, ...]  # every def and lambda, nested ones included
    global_values: Tuple[Tuple[str, Expr], ...]  # module-level `name = value`
    toplevel: FunctionFacts  # the module body, in order, as a pseudo-function "<module>"
    main_block: Optional[FunctionFacts] = None  # `if __name__ == "__main__":` bodies
    decorated: Tuple[Tuple[str, Expr], ...] = ()  # (function qualname, decorator expr)
    extra: Dict[str, str] = field(default_factory=dict)
    # False: every line/column in these facts is a site number instead (see facts.py),
    # unique per node and stable for the same bytes; analyse, then extract again with
    # positions the files a report shows.
    positioned: bool = True
    # Attribute names this module's code assigns (`x.attr = ...`), in any function the
    # index keeps: what the resolver's late-field candidates are drawn from, summed up
    # here so that the analysis need not walk every body of the project.
    stored_attrs: Tuple[str, ...] = ()
    # (function qualname, name) for each `global name` in a function: their binds are
    # the module's, and the index should not unpickle every function to find them.
    global_declarations: Tuple[Tuple[str, str], ...] = ()

    @property
    def function_names(self) -> Tuple[str, ...]:
        """The qualnames of self.functions, in order."""
        return tuple(function.qualname for function in self.functions)

    def __reduce__(self):
        # An analysis looks into the functions of few modules (those its entry points
        # reach), but loading facts made every FunctionFacts of the project: most of the
        # objects unpickled. Pickled apart, they stay bytes until first read; their names
        # are all the index needs of the others.
        functions = pickle.dumps(self.functions, protocol=pickle.HIGHEST_PROTOCOL)
        return (_module_with_pickled_functions,
                (functions, self.function_names,
                 tuple(getattr(self, name) for name in _MODULE_FIELDS_BUT_FUNCTIONS)))


_MODULE_FIELDS_BUT_FUNCTIONS = tuple(f.name for f in fields(ModuleFacts) if f.name != "functions")


class _ModuleWithPickledFunctions(ModuleFacts):
    """A ModuleFacts whose functions are unpickled when first read."""

    @property
    def functions(self) -> Tuple[FunctionFacts, ...]:  # type: ignore[override]
        state = self.__dict__
        if "_functions" not in state:
            state["_functions"] = pickle.loads(state.pop("_pickled_functions"))
        return state["_functions"]

    @functions.setter
    def functions(self, value: Tuple[FunctionFacts, ...]) -> None:
        self.__dict__["_functions"] = value
        self.__dict__["_function_names"] = tuple(function.qualname for function in value)

    @property
    def function_names(self) -> Tuple[str, ...]:
        return self.__dict__["_function_names"]

    def __eq__(self, other: object) -> bool:
        return _equal_fields(self, other, ModuleFacts)

    __hash__ = ModuleFacts.__hash__


def _module_with_pickled_functions(functions: bytes, names: Tuple[str, ...],
                                   values: tuple) -> ModuleFacts:
    module = object.__new__(_ModuleWithPickledFunctions)
    state = module.__dict__
    state.update(zip(_MODULE_FIELDS_BUT_FUNCTIONS, values))
    state["_pickled_functions"] = functions
    state["_function_names"] = names
    return module


def dotted(expr: Expr) -> Optional[str]:
    """`a.b.c` for Name/Attr chains, else None."""
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Attr):
        base = dotted(expr.base)
        return f"{base}.{expr.attr}" if base else None
    return None


def walk_nodes(block, branches: tuple = (If, Loop), tries: tuple = (Try,)):
    """Every node of a block, nested ones included, in source order. branches are the
    node types with body and orelse blocks, tries those with body, handlers, orelse and
    final; the resolved IR (ordering.py) passes its own."""
    for node in block:
        yield node
        if isinstance(node, branches):
            yield from walk_nodes(node.body, branches, tries)
            yield from walk_nodes(node.orelse, branches, tries)
        elif isinstance(node, tries):
            yield from walk_nodes(node.body, branches, tries)
            for handler in node.handlers:
                yield from walk_nodes(handler, branches, tries)
            yield from walk_nodes(node.orelse, branches, tries)
            yield from walk_nodes(node.final, branches, tries)


def node_exprs(node) -> Iterable[Expr]:
    """The expressions one IR node evaluates (not those of its nested blocks)."""
    if isinstance(node, Read):
        yield node.target
    elif isinstance(node, Call):
        yield node.func
        yield from node.args
        yield from (value for _, value in node.kwargs)
    elif isinstance(node, Store):
        yield node.target
        yield node.value
    elif isinstance(node, SetItem):
        yield node.base
        yield node.index
        yield node.value
    elif isinstance(node, Bind):
        yield node.value
    elif isinstance(node, AwaitValue):
        yield node.value
    elif isinstance(node, If):
        yield from node.true_facts
        yield from node.false_facts


def subexpressions(expr: Expr) -> Iterable[Expr]:
    """expr and every expression inside it."""
    stack = [expr]
    while stack:
        current = stack.pop()
        yield current
        kind = type(current)
        if kind is Attr:
            stack.append(current.base)
        elif kind is CallExpr:
            stack.append(current.func)
            stack.extend(current.args)
            stack.extend(value for _, value in current.kwargs)
        elif kind in (Iter,):
            stack.append(current.base)
        elif kind in (Enter, Await, Starred):
            stack.append(current.value)
        elif kind is Subscript:
            stack.append(current.base)
            stack.append(current.index)
        elif kind is Either:
            stack.extend(current.options)
        elif kind is Seq:
            stack.extend(current.items)
        elif kind is DictLit:
            stack.extend(key for key, _ in current.items if key is not None)
            stack.extend(value for _, value in current.items)
        elif kind is Comp:
            stack.append(current.element)
            if current.key is not None:
                stack.append(current.key)
        elif kind is Decorated:
            stack.append(current.decorator)
            stack.append(current.function)

