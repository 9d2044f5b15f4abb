"""The project index: every module's facts, looked up by qualified name.

Functions and classes are identified by their fully qualified dotted name
("pkg.mod.Class.method"); the index answers the questions name resolution asks: what a
module-level name denotes, a class's method resolution order over the project's
classes, and which class declares an attribute.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from nilcheck.linter.models import PLAIN_BASES, WRAPPER_BASE_PACKAGES, may_be_wrapper_member
from nilcheck.linter.stdlib_bases import stdlib_attributes
from nilcheck.linter.ir import (
    Bind, ClassFacts, FunctionFacts, ModuleFacts, Name, NoneConst, Store, walk_nodes,
)

class ProjectIndex:
    def __init__(self, modules: Iterable[ModuleFacts]):
        self.modules: Dict[str, ModuleFacts] = {}
        # What the analysis asked of the facts, for footprint.py (which edits it cannot
        # see): the functions whose facts it read, the keys it looked up in the function
        # table, and the names it looked up in a module's globals as (module, name);
        # "*" for a table listed whole.
        self.read: Set[str] = set()
        self.asked_functions: Set[str] = set()
        self.asked: Set[Tuple[str, str]] = set()
        # fid -> (module, position in module.functions; -1 the module body, -2 its
        # __main__ block): a module's functions are unpickled only when one is read.
        self.functions: Dict[str, Tuple[ModuleFacts, int]] = _Asked(self.asked_functions.add)
        self.classes: Dict[str, Tuple[ModuleFacts, ClassFacts]] = {}
        self.method_owners: Dict[str, List[str]] = {}
        for module in modules:
            if module.name in self.modules:
                continue
            self.modules[module.name] = module
            prefix = f"{module.name}."
            for position, qualname in enumerate(module.function_names):
                self.functions[prefix + qualname] = (module, position)
            for position, special in ((-1, module.toplevel), (-2, module.main_block)):
                if special is not None:
                    self.functions[prefix + special.qualname] = (module, position)
            for klass in module.classes:
                cid = f"{module.name}.{klass.qualname}"
                self.classes[cid] = (module, klass)
                for name, _ in klass.methods:
                    self.method_owners.setdefault(name, []).append(cid)
        self._binds: Dict[str, Dict[str, List]] = {}
        self._namespaces: Dict[str, Dict[str, List]] = {}
        self._global_binds: Dict[str, Dict[str, List]] = {}
        self._versions: Dict[str, Dict[str, List[str]]] = {}
        self._self_stores: Dict[str, Dict[str, List]] = {}
        self._mro: Dict[str, Tuple[List[str], List[str]]] = {}
        # Set by the Resolver: base-class expressions need name resolution, which needs
        # the index; the callback breaks the cycle.
        self.base_resolver = lambda module, expr: None

    # ------------------------------------------------------------ functions

    def function(self, fid: str) -> FunctionFacts:
        module, position = dict.__getitem__(self.functions, fid)  # noted as read instead
        self.read.add(fid)
        if position >= 0:
            return module.functions[position]
        return module.toplevel if position == -1 else module.main_block  # type: ignore

    def module_of(self, fid: str) -> ModuleFacts:
        return self.functions[fid][0]

    def path_of(self, fid: str) -> str:
        return self.functions[fid][0].path

    def binds(self, fid: str) -> Dict[str, List]:
        """Every value each local name of the function is bound to (flow-insensitive).
        A module body's (and __main__ block's) locals are the module's globals: which
        of them are asked for is noted."""
        if not fid.endswith(_MODULE_CODE):
            return self._local_binds(fid)
        namespace = self._namespaces.get(fid)
        if namespace is None:
            namespace = self._namespaces[fid] = _globals_of(
                self.functions[fid][0].name, self.asked, self._local_binds(fid))
        return namespace

    def _local_binds(self, fid: str) -> Dict[str, List]:
        cached = self._binds.get(fid)
        if cached is None:
            cached = {}
            self_stores: Dict[str, List] = {}
            function = self.function(fid)
            for node in walk_nodes(function.body):
                if isinstance(node, Bind):
                    cached.setdefault(node.name, []).append(node.value)
                elif isinstance(node, Store) and function.self_name is not None \
                        and _is_name(node.target.base, function.self_name):
                    self_stores.setdefault(node.target.attr, []).append(node.value)
            self._binds[fid] = cached
            self._self_stores[fid] = self_stores
        return cached

    def global_binds(self, module_name: str) -> Dict[str, List]:
        """Every value a module's global names are bound to: by its top-level code and
        `if __name__ == "__main__":` block, and by functions that declare them `global`."""
        cached = self._global_binds.get(module_name)
        if cached is None:
            cached = {}
            module = self.modules[module_name]
            functions = [f"{module_name}.<module>"]
            if module.main_block is not None:
                functions.append(f"{module_name}.<main>")
            for fid in functions:
                for name, values in self._local_binds(fid).items():
                    # Every version of a global (`name#k`, see facts.py) is the global.
                    known = cached.setdefault(name.partition("#")[0], [])
                    known.extend(v for v in values if not any(v is k for k in known))
            for qualname, name in module.global_declarations:
                fid = f"{module_name}.{qualname}"
                if fid in self.functions:
                    cached.setdefault(name, []).extend(self._local_binds(fid).get(name, ()))
            cached = self._global_binds[module_name] = _globals_of(module_name, self.asked,
                                                                   cached)
        return cached

    def versions(self, fid: str, name: str) -> List[str]:
        """The versions (`name#k`) a function binds a local name to."""
        by_name = self._versions.get(fid)
        if fid.endswith(_MODULE_CODE):
            self.asked.add((self.functions[fid][0].name, name))
        if by_name is None:
            by_name = {}
            for label in self._local_binds(fid):
                base, _, number = label.partition("#")
                if number:
                    by_name.setdefault(base, []).append(label)
            self._versions[fid] = by_name
        return by_name.get(name, [])

    def self_stores(self, fid: str) -> Dict[str, List]:
        """Values assigned to `self.<attr>` in the function, by attribute."""
        self._local_binds(fid)
        return self._self_stores[fid]

    # ------------------------------------------------------------ classes

    def class_facts(self, cid: str) -> ClassFacts:
        return self.classes[cid][1]

    def mro(self, cid: str) -> List[str]:
        return self._linearize(cid)[0]

    def external_bases(self, cid: str) -> List[str]:
        """Dotted names of bases outside the project, anywhere up the hierarchy."""
        return self._linearize(cid)[1]

    def _linearize(self, cid: str) -> Tuple[List[str], List[str]]:
        cached = self._mro.get(cid)
        if cached is not None:
            return cached
        self._mro[cid] = ([cid], [])  # guards against cyclic bases
        module, klass = self.classes[cid]
        order: List[str] = [cid]
        external: List[str] = []
        for base in klass.bases:
            target = self.base_resolver(module, base)
            if target is None:
                continue
            kind, name = target
            if kind == "class":
                base_order, base_external = self._linearize(name)
                for entry in base_order:
                    if entry in order:
                        order.remove(entry)
                    order.append(entry)
                external.extend(e for e in base_external if e not in external)
            elif name not in external:
                external.append(name)
        # Depth-first with later duplicates winning approximates C3 for the usual
        # single-inheritance-plus-mixins shapes; exact C3 matters little here.
        self._mro[cid] = (order, external)
        return self._mro[cid]

    def find_method(self, cid: str, name: str, after: Optional[str] = None) -> Optional[str]:
        """The function a method name resolves to on an instance of cid (MRO order)."""
        order = self.mro(cid)
        if after is not None and after in order:
            order = order[order.index(after) + 1:]
        for klass in order:
            qualname = self.class_facts(klass).method(name)
            if qualname is not None:
                return f"{self.classes[klass][0].name}.{qualname}"
        return None

    def field_owner(self, cid: str, attr: str) -> str:
        """The class that declares attr for instances of cid: the most basic class in the
        MRO that declares it at class level or assigns `self.attr` in one of its methods."""
        owner = cid
        for klass in self.mro(cid):
            facts = self.class_facts(klass)
            if any(name == attr for name, _ in facts.attrs) or self.assigns(klass, attr):
                owner = klass
        return owner

    def assigns(self, cid: str, attr: str) -> bool:
        """Does a method of cid itself assign `self.attr`?"""
        module, facts = self.classes[cid]
        return any(attr in self.self_stores(f"{module.name}.{qualname}")
                   for _, qualname in facts.methods)

    def may_be_unset(self, cid: str, attr: str) -> bool:
        """Can `attr` be None or missing on an instance of cid before something assigns
        it? Not when the class gives it a real default, when a dataclass constructor
        sets it, or when a non-project base or __getattr__ may provide it. A
        constructor's `self.attr = None` wins over a class-level default: it is what
        every instance holds."""
        if self.none_in_constructor(cid, attr):
            return True
        declared = self.class_attr(cid, attr)
        if declared is not None:
            klass, value = declared
            if value.value is not None:
                return isinstance(value.value, NoneConst)
            # A bare annotation: a dataclass field (set by the generated __init__) or
            # something a framework base synthesizes, unless the bases are plain.
            facts = self.class_facts(klass)
            return not facts.is_dataclass and self.plain(klass)
        return not self.may_provide(cid, attr)

    def none_in_constructor(self, cid: str, attr: str) -> bool:
        """Does a constructor of cid's hierarchy store None into `self.attr`?"""
        for klass in self.mro(cid):
            init = self.class_facts(klass).method("__init__")
            if init is not None:
                stored = self.self_stores(f"{self.classes[klass][0].name}.{init}").get(attr, ())
                if any(isinstance(value, NoneConst) for value in stored):
                    return True
        return False

    def may_be_missing(self, cid: str, attr: str) -> bool:
        """Can an instance of cid lack `attr` altogether until code assigns it? Only
        when its class body and its bases' give it nothing (no value, no method or
        property; a bare annotation outside a dataclass creates nothing) and no base
        outside the project or __getattr__ may provide it."""
        declared = self.class_attr(cid, attr)
        if declared is not None:
            klass, value = declared
            if value.value is not None or self.class_facts(klass).is_dataclass:
                return False
        if self.find_method(cid, attr) is not None:
            return False
        return not self.may_provide(cid, attr)

    def may_provide(self, cid: str, attr: str) -> bool:
        """May something outside the project's code give instances of cid `attr`: a
        __getattr__ or computed attribute names, or a base class outside the project
        that is not known (a standard-library base is known: stdlib_bases)?"""
        if any(self.class_facts(k).dynamic_attributes for k in self.mro(cid)):
            return True
        for base in self.external_bases(cid):
            if base in PLAIN_BASES or (base.split(".", 1)[0] in WRAPPER_BASE_PACKAGES
                                       and not may_be_wrapper_member(attr)):
                continue
            known = stdlib_attributes(base)
            if known is None or attr in known:
                return True
        return False

    def plain(self, cid: str) -> bool:
        """Does cid get its attributes only from the project (no framework base, no
        __getattr__)?"""
        if any(self.class_facts(k).dynamic_attributes for k in self.mro(cid)):
            return False
        return all(base in PLAIN_BASES for base in self.external_bases(cid))

    def class_attr(self, cid: str, attr: str):
        for klass in self.mro(cid):
            for name, value in self.class_facts(klass).attrs:
                if name == attr:
                    return klass, value
        return None


_MODULE_CODE = (".<module>", ".<main>")


class _Asked(dict):
    """A table whose lookups are noted: note(key) for each key looked up, note("*")
    when it is listed whole."""

    __slots__ = ("_note",)

    def __init__(self, note: Callable[[str], None], items=()):
        super().__init__(items)
        self._note = note

    def __contains__(self, key) -> bool:
        self._note(key)
        return dict.__contains__(self, key)

    def __getitem__(self, key):
        self._note(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        self._note(key)
        return dict.get(self, key, default)

    def __iter__(self):
        self._note("*")
        return dict.__iter__(self)

    def keys(self):
        self._note("*")
        return dict.keys(self)

    def values(self):
        self._note("*")
        return dict.values(self)

    def items(self):
        self._note("*")
        return dict.items(self)


def _globals_of(module_name: str, asked: Set[Tuple[str, str]], items) -> _Asked:
    """A module's globals, whose lookups are noted in asked as (module, name), a versioned
    global (`name#2`, see facts.py) as its name."""
    return _Asked(lambda key: asked.add((module_name, key.partition("#")[0])), items)


def _is_name(expr, name: str) -> bool:
    return isinstance(expr, Name) and expr.id == name
