"""The whole-program stages, run once on the merged facts of every file: project index,
value flow and resolution, ordering analysis from the entry points, and what the
commands read from them (findings, the call graph)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple

from nilcheck.linter.analysis import Analysis, Entry
from nilcheck.linter.diagnostics import Diagnostics
from nilcheck.linter.entrypoints import configured_entries, discovered_entries
from nilcheck.linter.ftypes import AnalysisSettings, Finding
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.resolve import Resolver


class Program:
    def __init__(self, settings: AnalysisSettings, root: Path, modules: List[ModuleFacts]):
        self.settings = settings
        self.root = root
        self.index = ProjectIndex(modules)
        self.resolver = Resolver(self.index, spawners=settings.spawners)
        self.analysis = Analysis(self.index, self.resolver, settings.initializer_methods)

    def entries(self, specs: Sequence[str] = ()) -> List[Entry]:
        """The entry points: specs (from --entry), else the configured ones, else the
        discovered ones. Raises ConfigError for one that does not resolve."""
        if specs:
            return configured_entries(self.index, specs, "--entry")
        if self.settings.entry_points:
            return configured_entries(self.index, self.settings.entry_points, "entry-points")
        return discovered_entries(self.index, self.settings.project_scripts)

    def findings(self) -> Tuple[List[Finding], Set[str]]:
        """The findings, and the files they show lines of."""
        hazards = self.analysis.hazards(self.entries())
        diagnostics = Diagnostics(self.index, self.analysis, self.root)
        return diagnostics.findings(hazards), diagnostics.shown_files

    def call_counts(self) -> Tuple[int, int]:
        """Calls met on the analysed paths: (resolved, unresolved)."""
        return len(self.resolver.calls_resolved), len(self.resolver.calls_unresolved)


def whole_program(settings: AnalysisSettings, root: Path, modules: List[ModuleFacts],
                  program: Optional[List[Program]] = None) -> Tuple[List[Finding], Set[str]]:
    """The findings, and the files they show lines of; program, when given, receives
    the Program that computed them."""
    built = Program(settings, root, modules)
    if program is not None:
        program.append(built)
    return built.findings()
