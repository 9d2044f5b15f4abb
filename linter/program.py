"""The whole-program stages, run once on the merged facts of every file: project index,
resolution and contextual call graph, ordering analysis from the entry points, findings."""
from __future__ import annotations

from pathlib import Path
from typing import List, Set, Tuple

from nilcheck.linter.analysis import Analysis
from nilcheck.linter.diagnostics import Diagnostics
from nilcheck.linter.entrypoints import configured_entries, discovered_entries
from nilcheck.linter.ftypes import AnalysisSettings, Finding
from nilcheck.linter.index import ProjectIndex
from nilcheck.linter.ir import ModuleFacts
from nilcheck.linter.resolve import Resolver


def whole_program(settings: AnalysisSettings, root: Path, modules: List[ModuleFacts]
                  ) -> Tuple[List[Finding], Set[str]]:
    """The findings, and the files they show lines of."""
    index = ProjectIndex(modules)
    resolver = Resolver(index, spawners=settings.spawners)
    if settings.entry_points:
        entries = configured_entries(index, settings.entry_points, "entry-points")
    else:
        entries = discovered_entries(index, settings.project_scripts)
    analysis = Analysis(index, resolver, settings.initializer_methods)
    hazards = analysis.hazards(entries)
    diagnostics = Diagnostics(index, analysis, root)
    return diagnostics.findings(hazards), diagnostics.shown_files
