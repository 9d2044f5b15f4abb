"""Turns hazards (analysis results) into findings: words, locations and a suggestion.

The only place that phrases a hazard for people; the analysis never formats messages.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

from nilcheck.linter.analysis import Analysis, Hazard, walk_resolved
from nilcheck.linter.ftypes import Finding, Initializer, TraceStep
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ordering import RCall


def display_function(fid: str) -> str:
    """Function ids as people write them: the module pseudo-functions by their role."""
    if fid.endswith(".<main>"):
        return fid[: -len(".<main>")] + ".__main__"
    return fid


class Diagnostics:
    def __init__(self, index: ProjectIndex, analysis: Analysis, root: Path):
        self.index = index
        self.analysis = analysis
        self.root = root
        self._lines: Dict[str, List[str]] = {}
        # Every file a finding shows a line of: its facts must be positioned (see engine).
        self.shown_files: Set[str] = set()

    def findings(self, hazards: Sequence[Hazard]) -> List[Finding]:
        return sorted((self.finding(h) for h in hazards), key=lambda f: f.sort_key)

    def finding(self, hazard: Hazard) -> Finding:
        index = self.index
        owner_class, attr = hazard.field.rsplit(".", 1)
        class_name = self._class_name(owner_class)
        read_file = self._path_of(hazard.read_function)
        trace = [TraceStep("entry", display_function(hazard.entry.ctx[0]),
                           self._path_of(hazard.entry.ctx[0]),
                           index.function(hazard.entry.ctx[0]).line)]
        for hop in hazard.trace:
            file = self._path_of(hop.caller)
            trace.append(TraceStep(hop.kind, display_function(hop.function), file, hop.line))
        initializer = None
        init_text = "its initializer"
        if hazard.initializer is not None:
            init_fid, init_line = hazard.initializer
            initializer = Initializer(display_function(init_fid), self._path_of(init_fid),
                                      init_line)
            init_text = f"`{self._short_function(init_fid)}()`"
        message = self._message(hazard, class_name, attr, init_text,
                                any(step.kind == "spawn" for step in trace))
        suggestion = self._suggestion(owner_class, class_name, attr, hazard) \
            if hazard.rule != "NIL002" else self._construction_suggestion(class_name, attr,
                                                                           hazard, trace)
        sites = self._construction_sites(owner_class) if hazard.rule != "NIL002" else []
        return Finding(
            rule=hazard.rule, severity="error", file=read_file, line=hazard.line,
            column=hazard.column, field=hazard.field, message=message,
            entry=hazard.entry.display, initializer=initializer, trace=tuple(trace),
            suggestion=suggestion,
            read_text=self._line_text(read_file, hazard.line),
            construction_sites=tuple(sites),
        )

    def _message(self, hazard: Hazard, class_name: str, attr: str, init_text: str,
                 spawned: bool) -> str:
        field = f"`{class_name}.{attr}`"
        if hazard.rule == "NIL002":
            where = ""
            if hazard.initializer is not None:
                where = f" (at {self._path_of(hazard.initializer[0])}:{hazard.initializer[1]})"
            how = "a callback or thread the constructor started" if spawned else \
                "a method the constructor calls" if any(hop.kind == "call"
                                                        for hop in hazard.trace) \
                else "the constructor itself"
            message = (f"{field} is read by {how} before `{class_name}.__init__` assigns "
                       f"it{where}")
            if hazard.built_with:
                # construction.early_reads: a branch only some arguments take.
                arms = [f"`{arm[:-5]}` is left out" if arm.endswith("=None")
                        else f"`{arm}` is given" for arm in hazard.built_with]
                message += f", on the path taken when {' and '.join(arms)}"
            return message + (": the attribute does not exist yet (AttributeError)"
                              if hazard.missing else "")
        if hazard.rule == "NIL003":
            found = "finds no such attribute (AttributeError)" if hazard.missing \
                else "finds None"
            return (f"{field} is read, but no path from an entry point calls {init_text}, "
                    f"which assigns it: nothing else can have set it, so the read always "
                    f"{found}")
        if hazard.built_with is not None:
            return self._fresh_message(hazard, class_name, field, init_text)
        if hazard.initializer is not None and hazard.initializer[0] == hazard.read_function:
            # The initializer reads it itself, on a path that has not assigned it.
            message = (f"{field} is read by {init_text} on a path that has not assigned it "
                       f"(an exception handler, or a branch that skips the assignment)")
            if hazard.missing:
                message += "; there the attribute does not exist (AttributeError)"
            return message
        message = f"{field} is read before {init_text} assigns it"
        if hazard.initializer_call is not None:
            caller, line = hazard.initializer_call
            how = "scheduled" if hazard.initializer_scheduled else "called"
            message += f" ({how} at {self._path_of(caller)}:{line})"
        if spawned:
            message += "; the read runs in a callback or thread started before that"
        if hazard.missing:
            message += "; until then the attribute does not exist (AttributeError)"
        return message

    def _fresh_message(self, hazard: Hazard, class_name: str, field: str,
                       init_text: str) -> str:
        """A read on a method entry's fresh receiver (see construction.py)."""
        defaults = ", ".join(f"`{name}=None`" for name in hazard.built_with)
        built = f"its default arguments ({defaults})" if defaults else "its default arguments"
        state = "without the attribute (AttributeError)" if hazard.missing else "None"
        message = (f"{field} is read on a fresh `{class_name}` built with {built}, which leaves "
                   f"it {state}")
        if hazard.initializer is not None and hazard.initializer[0] != \
                self.index.find_method(hazard.receiver, "__init__"):
            message += f": {init_text} assigns it, but nothing calls it before this read"
        return message

    def _construction_suggestion(self, class_name: str, attr: str, hazard: Hazard,
                                 trace: List[TraceStep]) -> str:
        escape = next((step for step in trace if step.kind == "spawn"), None)
        if escape is not None:
            before = f"{escape.file}:{escape.line} starts `{escape.function}`"
            first = trace[1] if len(trace) > 1 else escape
            if first is not escape:  # started further down, e.g. by the base __init__
                before = (f"{first.file}:{first.line} calls `{first.function}` (which "
                          f"starts `{escape.function}` at {escape.file}:{escape.line})")
            return (f"assign `self.{attr}` in `{class_name}.__init__` before {before}, or "
                    f"move that start out of the constructor (e.g. into a `start()` method "
                    f"called once the object is built)")
        if not any(step.kind == "call" for step in trace):
            reader = display_function(hazard.read_function).rsplit(".", 2)[-2]
            return (f"`{reader}.__init__` reads `self.{attr}` before anything assigned it: "
                    f"compute the value in a local variable, or assign `self.{attr}` (or "
                    f"call the constructor that assigns it) before this read")
        return (f"assign `self.{attr}` before `{class_name}.__init__` calls the method that "
                f"reads it (a subclass override runs before the subclass constructor has "
                f"finished), or pass the value to the base constructor")

    def _suggestion(self, owner_class: str, class_name: str, attr: str,
                    hazard: Hazard) -> str:
        if hazard.built_with and not hazard.missing:
            given = " or ".join(f"`{name}`" for name in hazard.built_with)
            return (f"`{class_name}.__init__` leaves `self.{attr}` None unless it is given "
                    f"{given}: make that argument required, use the value the method "
                    f"itself receives, or guard the read with `if self.{attr} is None: ...`.")
        init = self.index.find_method(owner_class, "__init__") \
            if owner_class in self.index.classes else None
        if init is None:
            where = f"give `{class_name}` an `__init__(self, {attr})`"
        else:
            where = (f"add a `{attr}` parameter to `{class_name}.__init__` "
                     f"({self._path_of(init)}:{self.index.function(init).line})")
        sites = [f"{path}:{line}" for path, line in self._construction_sites(owner_class)]
        construct = ""
        if sites:
            shown = ", ".join(sites[:3]) + (" ..." if len(sites) > 3 else "")
            construct = f" and pass it where `{class_name}` is constructed ({shown})"
        tail = ""
        if hazard.initializer is not None:
            tail = (f"; `{self._short_function(hazard.initializer[0])}()` then no longer "
                    f"needs to assign it")
        guard = f"guard the read with `if self.{attr} is None: ...`"
        if hazard.missing:
            guard = f"assign `self.{attr} = None` in `__init__` and {guard}"
        return (f"pass `{attr}` to `{class_name}.__init__` (constructor injection): {where}, "
                f"assign `self.{attr} = {attr}` there{construct}{tail}. If the value does "
                f"not exist yet when `{class_name}` is constructed, create it earlier or "
                f"{guard}.")

    def _construction_sites(self, cid: str) -> List[Tuple[str, int]]:
        """(file, line) of every analysed `cid(...)` call that runs its constructor."""
        init = self.index.find_method(cid, "__init__") if cid in self.index.classes else None
        if init is None:
            return []
        target = (init, cid)
        graph = self.analysis.graph
        if target not in graph:
            return []
        sites = set()
        for caller in graph.predecessors(target):
            for node in _calls(self.analysis.bodies.get(caller, ())):
                if target in node.targets and not node.spawn:
                    sites.add((self._path_of(caller[0]), node.line))
        return sorted(sites)

    def _class_name(self, cid: str) -> str:
        if cid in self.index.classes:
            return self.index.classes[cid][1].qualname
        return cid.rsplit(".", 1)[-1]

    def _short_function(self, fid: str) -> str:
        module = self.index.module_of(fid)
        return self.index.function(fid).qualname if module else fid

    def _path_of(self, fid: str) -> str:
        # Lines always travel with the path of the function they are in: every one
        # shown passes here.
        path = self.index.path_of(fid)
        self.shown_files.add(path)
        return path

    def _line_text(self, file: str, line: int) -> str:
        lines = self._lines.get(file)
        if lines is None:
            try:
                text = (self.root / file).read_bytes().decode("utf-8", errors="replace")
                lines = text.splitlines()
            except OSError:
                lines = []
            self._lines[file] = lines
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _calls(body) -> List[RCall]:
    return [node for node in walk_resolved(body) if isinstance(node, RCall)]

