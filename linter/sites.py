"""Where the project constructs each class, calls each method and stores each field,
read from the value flow: what the fix planner (fixes.py) must edit or rule out.

The program is analysed from every function and module (as `nilcheck graph --all`
does), so that every construction and call in the project is seen, reached from an
entry point or not; each call's targets are the ones its call site recorded. Nothing
here resolves a name a second way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Set, Tuple

from nilcheck.linter.callgraph import default_context, expr_text
from nilcheck.linter.ir import (
    AwaitValue, Bind, Call, Decorated, LocalClass, Name, SetItem, Starred, Store, walk_nodes,
)

# Calls whose arguments are only looked at, never kept or called.
_INSPECTING = frozenset({"isinstance", "issubclass", "type", "id", "repr", "str", "hash"})


@dataclass(frozen=True, order=True)
class Site:
    file: str  # relative to the project root
    line: int
    column: int  # 1-based column of the call (where its callee expression starts)
    function: str  # id of the function the site is in
    text: str = ""  # for a store: its target, as written


@dataclass
class ProjectSites:
    constructions: Dict[str, List[Site]] = field(default_factory=dict)  # class id ->
    class_uses: Dict[str, List[Site]] = field(default_factory=dict)  # class held, not called
    method_calls: Dict[str, List[Site]] = field(default_factory=dict)  # function id ->
    method_uses: Dict[str, List[Site]] = field(default_factory=dict)  # taken, not called
    field_stores: Dict[str, List[Site]] = field(default_factory=dict)  # field id -> not self
    # class id -> its project subclasses, each with (file, line) of its class statement
    subclasses: Dict[str, List[Tuple[str, Tuple[str, int]]]] = field(default_factory=dict)
    # file -> the module name the analysis gave it (source roots and name conflicts
    # decided once, for the whole project: the planner must name ids the same way)
    module_names: Dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> Set[str]:
        return {site.file for table in (self.constructions, self.class_uses, self.method_calls,
                                        self.method_uses, self.field_stores)
                for sites in table.values() for site in sites}


def project_sites(program) -> ProjectSites:
    """Every site of the project, from a Program (see program.py) analysed now from
    every function and module."""
    index = program.index
    resolver = program.resolver
    flow = resolver.flow
    roots = [(f"{name}.<module>", None) for name in sorted(index.modules)]
    roots += [default_context(index, fid) for fid in sorted(index.functions)
              if not fid.endswith((".<module>", ".<main>"))]
    resolver.prepare(roots)
    sites = ProjectSites(module_names={module.path: name
                                       for name, module in index.modules.items()})
    for ctx in list(flow.lowered):
        fid = ctx[0]
        function = index.function(fid)
        path = index.path_of(fid)
        for node in walk_nodes(function.body):
            kind = type(node)
            if kind is Call:
                _call(sites, resolver, ctx, node, Site(path, node.line, node.column, fid))
            elif kind is Bind:
                if not isinstance(node.value, (LocalClass, Decorated)):
                    _uses(sites, resolver, ctx, (node.value,), Site(path, node.line, 0, fid))
            elif kind is Store:
                here = Site(path, node.line, node.column, fid, expr_text(node.target))
                _uses(sites, resolver, ctx, (node.value,), here)
                if not (isinstance(node.target.base, Name)
                        and node.target.base.id == function.self_name):
                    for field_id, _ in resolver.fields_of(ctx, node.target):
                        _add(sites.field_stores, field_id, here)
            elif kind is SetItem or kind is AwaitValue:
                _uses(sites, resolver, ctx, (node.value,), Site(path, node.line, node.column, fid))
        _uses(sites, resolver, ctx, function.return_values, Site(path, function.line, 0, fid))
    for cid in sorted(index.classes):
        module, klass = index.classes[cid]
        for base in index.mro(cid)[1:]:
            _add(sites.subclasses, base, (cid, (module.path, klass.line)))
    for table in (sites.constructions, sites.class_uses, sites.method_calls, sites.method_uses,
                  sites.field_stores, sites.subclasses):
        for key in table:
            table[key] = sorted(set(table[key]))
    return sites


def _call(sites: ProjectSites, resolver, ctx, node: Call, here: Site) -> None:
    flow = resolver.flow
    if node.kind == "decorator":
        return  # the function or class it decorates is defined here, not used
    for value in flow.values(ctx, node.func):
        if value[0] == "class":
            _add(sites.constructions, value[1], here)
    site = flow.site(ctx, node)
    if site is not None:
        for target in site.invoked:
            _add(sites.method_calls, target[0], here)
    if isinstance(node.func, Name) and node.func.id in _INSPECTING:
        return
    arguments = [a.value if isinstance(a, Starred) else a for a in node.args]
    _uses(sites, resolver, ctx, arguments + [v for _, v in node.kwargs], here)


def _uses(sites: ProjectSites, resolver, ctx, exprs: Iterable, here: Site) -> None:
    """Classes and methods held by exprs (kept, passed or returned, not called)."""
    for expr in exprs:
        for value in resolver.evaluate(ctx, expr):
            kind = value[0]
            if kind == "class":
                _add(sites.class_uses, value[1], here)
            elif kind in ("bound", "unbound", "func"):
                _add(sites.method_uses, value[1], here)


def _add(table: Dict[str, list], key: str, item) -> None:
    table.setdefault(key, []).append(item)
