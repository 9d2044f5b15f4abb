"""`nilcheck graph`: the call graph the analysis used, read off its resolved program.

The edges are the resolved calls of every context the analysis explored from the roots
(entry points, or every function with `--all`), with the contexts folded into their
functions: a call (it runs now), a spawn (it may run later or on another thread) or a
deferred call (a callback taken from where it was stored, which the ordering counts
at the store), and the calls to code outside the project by the names the value flow
gave them. Nothing
here resolves anything again: it reads the resolver's records.

Formats: json, dot, mermaid, and pycg: PyCG's `{caller: [callees]}` (module-level code
named by its module, nested functions without `<locals>`, builtins as `<builtin>.len`),
so the graph can be compared with PyCG's on its micro-benchmark. A call graph says who
calls whom: pycg has the calls and deferred calls, not the spawns (a callback
registered where it is stored, a thread's target started), which PyCG has no notion of.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Set, Tuple

from nilcheck.linter.analysis import walk_resolved
from nilcheck.linter.diagnostics import display_function
from nilcheck.linter.ir import (
    Attr, Await, CallExpr, Either, Expr, Iter, Lit, LocalFunc, Name, Subscript, Super,
)
from nilcheck.linter.ordering import Ctx, RCall, ctx_key

FORMATS = ("json", "dot", "mermaid", "pycg")


@dataclass(frozen=True)
class Edge:
    caller: str  # function id
    callee: str  # function id, or a name outside the project
    # "call": runs now; "spawn": may run later or on another thread; "deferred": a call
    # of a callback taken from an object, which the ordering counts where it was stored
    kind: str
    file: str  # where the call is, relative to the project root
    line: int
    external: bool = False


@dataclass(frozen=True)
class Unresolved:
    function: str
    file: str
    line: int
    call: str  # the call's text, as far as the facts keep it


@dataclass
class CallGraph:
    roots: List[str]
    functions: Dict[str, Tuple[str, int]] = field(default_factory=dict)  # id -> (file, line)
    edges: List[Edge] = field(default_factory=list)
    unresolved: List[Unresolved] = field(default_factory=list)
    calls_resolved: int = 0

    @property
    def shown_files(self) -> Set[str]:
        files = {file for file, _ in self.functions.values()}
        files.update(edge.file for edge in self.edges)
        files.update(item.file for item in self.unresolved)
        return files


def build(program, entries: Sequence[str] = (), every_function: bool = False) -> CallGraph:
    """The call graph of program from its entry points (entries, else configured, else
    discovered), or from every function and module."""
    index = program.index
    analysis = program.analysis
    resolver = program.resolver
    if every_function:
        # The modules' code first; then, as called by an unknown caller, each function
        # that code does not reach: one it reaches runs with what its callers pass.
        roots = [(f"{name}.<module>", None) for name in sorted(index.modules)]
        resolver.prepare(roots)
        reached = {ctx[0] for ctx in resolver.flow.lowered}
        uncalled = [default_context(index, fid) for fid in sorted(index.functions)
                    if not fid.endswith((".<module>", ".<main>")) and fid not in reached]
        resolver.prepare(uncalled)
        roots += uncalled
    else:
        found = program.entries(entries)
        roots = [entry.ctx for entry in found]
        resolver.prepare([ctx for entry in found for ctx in (entry.ctx,) + entry.prelude],
                         live=[entry.ctx[1] for entry in found if entry.ctx[1]])
    for ctx in roots:
        analysis.explore(ctx)
    graph = CallGraph(roots=sorted({display_function(ctx[0]) for ctx in roots}))
    seen: Set[Tuple[str, str, str, int]] = set()
    for ctx in sorted(analysis.bodies, key=ctx_key):
        fid = ctx[0]
        path = index.path_of(fid)
        graph.functions.setdefault(fid, (path, index.function(fid).line))
        for node in walk_resolved(analysis.bodies[ctx]):
            if not isinstance(node, RCall):
                continue
            for target in node.targets:
                _add(graph, seen, Edge(fid, target[0], "spawn" if node.spawn else "call",
                                       path, node.line))
        for line, name in resolver.external_calls.get(ctx, ()):
            _add(graph, seen, Edge(fid, name, "call", path, line, external=True))
        for line, target in resolver.deferred_calls.get(ctx, ()):
            _add(graph, seen, Edge(fid, target[0], "deferred", path, line))
    for (ctx, line, _), call in sorted(resolver.calls_unresolved.items(),
                                       key=lambda item: (item[0][0][0], item[0][1:])):
        graph.unresolved.append(Unresolved(ctx[0], index.path_of(ctx[0]), line,
                                           expr_text(call.func) + "()"))
    graph.unresolved = sorted(set(graph.unresolved), key=lambda u: (u.file, u.line, u.call))
    graph.calls_resolved = len(resolver.calls_resolved)
    graph.edges.sort(key=lambda e: (e.caller, e.callee, e.kind, e.line))
    return graph


def _add(graph: CallGraph, seen: set, edge: Edge) -> None:
    key = (edge.caller, edge.callee, edge.kind, edge.line)
    if key not in seen:
        seen.add(key)
        graph.edges.append(edge)


def default_context(index, fid: str) -> Ctx:
    """The context a function runs in when nothing calls it: a method (or a closure
    inside one) on an instance of its own class."""
    current = fid
    while current in index.functions:
        function = index.function(current)
        module = index.module_of(current).name
        if function.owner_class is not None:
            return (fid, f"{module}.{function.owner_class}")
        if function.parent is None:
            break
        current = f"{module}.{function.parent}"
    return (fid, None)


# ---------------------------------------------------------------- formats


def render(graph: CallGraph, fmt: str, unresolved_only: bool = False) -> str:
    if unresolved_only:
        if fmt == "json":
            return _dump({"version": 1, "unresolved": [_unresolved(u) for u in graph.unresolved]})
        return "".join(f"{u.file}:{u.line}: {u.call}  (in {display_function(u.function)})\n"
                       for u in graph.unresolved)
    return {"json": _json, "dot": _dot, "mermaid": _mermaid, "pycg": _pycg}[fmt](graph)


def _json(graph: CallGraph) -> str:
    return _dump({
        "version": 1,
        "roots": graph.roots,
        "functions": [{"function": display_function(fid), "file": file, "line": line}
                      for fid, (file, line) in sorted(graph.functions.items())],
        "edges": [{"caller": display_function(e.caller),
                   "callee": e.callee if e.external else display_function(e.callee),
                   "kind": e.kind, "external": e.external, "file": e.file, "line": e.line}
                  for e in graph.edges],
        "unresolved": [_unresolved(u) for u in graph.unresolved],
        "summary": {"functions": len(graph.functions), "edges": len(graph.edges),
                    "calls_resolved": graph.calls_resolved,
                    "calls_unresolved": len(graph.unresolved)},
    })


def _unresolved(item: Unresolved) -> dict:
    return {"function": display_function(item.function), "file": item.file,
            "line": item.line, "call": item.call}


def _dump(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _folded(graph: CallGraph) -> Dict[Tuple[str, str], str]:
    """(caller, callee) -> "call", or "spawn" when every such edge is a spawn."""
    kinds: Dict[Tuple[str, str], str] = {}
    for edge in graph.edges:
        callee = edge.callee if edge.external else display_function(edge.callee)
        key = (display_function(edge.caller), callee)
        seen = kinds.get(key)
        kinds[key] = "call" if "call" in (edge.kind, seen) else seen or edge.kind
    return kinds


def _dot(graph: CallGraph) -> str:
    lines = ["digraph nilcheck {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for root in graph.roots:
        lines.append(f"  {_quote(root)} [style=bold];")
    for (caller, callee), kind in sorted(_folded(graph).items()):
        style = f" [style=dashed, label={kind}]" if kind != "call" else ""
        lines.append(f"  {_quote(caller)} -> {_quote(callee)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mermaid(graph: CallGraph) -> str:
    folded = _folded(graph)
    names = sorted({name for pair in folded for name in pair} | set(graph.roots))
    ids = {name: f"n{number}" for number, name in enumerate(names)}
    lines = ["flowchart LR"]
    for name in names:
        label = name.replace('"', "#quot;")
        lines.append(f'  {ids[name]}["{label}"]')
    for (caller, callee), kind in sorted(folded.items()):
        arrow = f"-.->|{kind}|" if kind != "call" else "-->"
        lines.append(f"  {ids[caller]} {arrow} {ids[callee]}")
    return "\n".join(lines) + "\n"


def _pycg(graph: CallGraph) -> str:
    calls: Dict[str, Set[str]] = {}
    for fid in graph.functions:
        calls.setdefault(pycg_name(fid), set())
    for edge in graph.edges:
        if edge.external and edge.callee.startswith("<container>"):
            continue  # methods of lists and dicts: PyCG names these only sometimes
        if edge.kind == "spawn":
            continue  # a callback registered where it is stored: not called there
        callee = edge.callee if edge.external else pycg_name(edge.callee)
        calls.setdefault(pycg_name(edge.caller), set()).add(callee)
        calls.setdefault(callee, set())
    return _dump({name: sorted(callees) for name, callees in sorted(calls.items())})


def pycg_name(fid: str) -> str:
    """A function id as PyCG names it: module-level code by its module, nested functions
    without `<locals>`."""
    for suffix in (".<module>", ".<main>"):
        if fid.endswith(suffix):
            return fid[: -len(suffix)]
    return fid.replace(".<locals>", "")


def expr_text(expr: Expr, depth: int = 0) -> str:
    """An expression of the facts written back as Python, as far as they keep it."""
    if depth > 8:
        return "..."
    kind = type(expr)
    if kind is Name:
        return expr.id.partition("#")[0]
    if kind is Attr:
        return f"{expr_text(expr.base, depth + 1)}.{expr.attr}"
    if kind is CallExpr:
        return f"{expr_text(expr.func, depth + 1)}(...)"
    if kind is Subscript:
        return f"{expr_text(expr.base, depth + 1)}[...]"
    if kind is Super:
        return "super()"
    if kind is Await:
        return f"(await {expr_text(expr.value, depth + 1)})"
    if kind is Iter:
        return f"<element of {expr_text(expr.base, depth + 1)}>"
    if kind is Either:
        return " or ".join(expr_text(option, depth + 1) for option in expr.options)
    if kind is LocalFunc:
        return expr.qualname.rsplit(".", 1)[-1]
    if kind is Lit and expr.value is not None:
        return repr(expr.value)
    return "<expression>"
