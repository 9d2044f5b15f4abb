"""nilcheck's call graph against PyCG's micro-benchmark.

    python benchmarks/pycg_bench.py PYCG [--nilcheck CMD] [--pycg CMD] [--verbose]

PYCG is PyCG's repository (github.com/vitsalis/PyCG): a checkout, or the bare git
directory that the search tool's `fetch` brings (its newest commit is read with git).
Its `micro-benchmark/snippets/<category>/<case>/` hold small programs, each with the
expected call graph in `callgraph.json`. Every case is copied into a temporary
directory and `nilcheck graph --all --format pycg` is run on it; nothing of PyCG's is
kept or committed.

A case is exact when nilcheck's set of edges (caller -> callee) is the expected set.
Precision and recall are over all edges of all cases. Functions without edges are not
compared (PyCG lists every function it saw; nilcheck lists those it reached).

With --pycg CMD (e.g. `pycg`, after `pip install pycg==0.0.7` in a venv of its own)
PyCG itself is run the same way (`CMD --package CASE CASE/main.py`) and scored beside.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

SNIPPETS = "micro-benchmark/snippets"
Edges = Set[Tuple[str, str]]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pycg_repo", type=Path, help="PyCG's repository (checkout or git dir)")
    parser.add_argument("--nilcheck", default=f"{shlex.quote(sys.executable)} -m "
                        "nilcheck.linter.cli", help="how to run nilcheck")
    parser.add_argument("--pycg", default=None, help="also run PyCG with this command")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print the missing and extra edges of every inexact case")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="nilcheck-pycg-") as work:
        snippets = _snippets(args.pycg_repo, Path(work))
        cases = sorted(path.parent for path in snippets.glob("*/*/callgraph.json"))
        if not cases:
            print(f"no cases under {snippets}", file=sys.stderr)
            return 2
        tools = [("nilcheck", lambda case: _nilcheck(args.nilcheck, case))]
        if args.pycg:
            tools.append(("pycg", lambda case: _pycg(args.pycg, case, Path(work))))
        for name, run in tools:
            _score(name, cases, snippets, run, args.verbose)
    return 0


def _snippets(repo: Path, work: Path) -> Path:
    """The snippets directory: in a checkout, or extracted from a git directory."""
    if (repo / SNIPPETS).is_dir():
        return repo / SNIPPETS
    git_dir = repo if (repo / "HEAD").exists() else repo / ".git"
    archive = work / "snippets.tar"
    with open(archive, "wb") as handle:
        subprocess.run(["git", "--git-dir", str(git_dir), "archive", "HEAD", SNIPPETS],
                       stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(work / "pycg", filter="data")
    return work / "pycg" / SNIPPETS


def _nilcheck(command: str, case: Path) -> Dict[str, List[str]]:
    with tempfile.TemporaryDirectory(prefix="case-") as directory:
        project = Path(directory) / case.name
        shutil.copytree(case, project, ignore=shutil.ignore_patterns("callgraph.json"))
        # PyCG runs with `--package CASE`: the case directory is where imports start
        # (it is on sys.path), even when it holds an __init__.py. nilcheck's way to
        # say the same is a source root.
        if not (project / "pyproject.toml").exists():
            (project / "pyproject.toml").write_text('[tool.nilcheck]\nsource-roots = ["."]\n')
        result = subprocess.run(shlex.split(command) + ["graph", str(project), "--all",
                                                        "--format", "pycg", "--no-cache"],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(f"  {case.name}: nilcheck failed: {result.stderr.strip()}", file=sys.stderr)
            return {}
        return json.loads(result.stdout)


def _pycg(command: str, case: Path, work: Path) -> Dict[str, List[str]]:
    output = work / "pycg.json"
    result = subprocess.run(shlex.split(command) + ["--package", str(case),
                                                    str(case / "main.py"), "-o", str(output)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"  {case.name}: pycg failed: {result.stderr.strip()[-200:]}", file=sys.stderr)
        return {}
    return json.loads(output.read_text())


def _edges(graph: Dict[str, List[str]]) -> Edges:
    return {(caller, callee) for caller, callees in graph.items() for callee in callees}


def _score(tool: str, cases: List[Path], snippets: Path, run, verbose: bool) -> None:
    per_category: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    inexact: List[Tuple[str, Edges, Edges]] = []
    for case in cases:
        expected = _edges(json.loads((case / "callgraph.json").read_text()))
        found = _edges(run(case))
        category = case.parent.name
        counts = per_category[category]
        counts[0] += found == expected
        counts[1] += 1
        counts[2] += len(found & expected)
        counts[3] += len(found - expected)
        counts[4] += len(expected - found)
        if found != expected:
            inexact.append((case.relative_to(snippets).as_posix(), found - expected,
                            expected - found))
    print(f"{tool} on PyCG's micro-benchmark ({len(cases)} cases)")
    print(f"  {'category':<14} {'exact':>7} {'precision':>10} {'recall':>8}")
    totals = [0, 0, 0, 0, 0]
    for category in sorted(per_category):
        counts = per_category[category]
        totals = [a + b for a, b in zip(totals, counts)]
        print(f"  {category:<14} {counts[0]:>3}/{counts[1]:<3} {_ratio(counts[2], counts[3]):>10}"
              f" {_ratio(counts[2], counts[4]):>8}")
    print(f"  {'total':<14} {totals[0]:>3}/{totals[1]:<3} {_ratio(totals[2], totals[3]):>10}"
          f" {_ratio(totals[2], totals[4]):>8}")
    print(f"  edges: {totals[2]} found, {totals[3]} extra, {totals[4]} missing")
    print("  inexact: " + (", ".join(name for name, _, _ in inexact) or "none"))
    if verbose:
        for name, extra, missing in inexact:
            print(f"  {name}")
            for caller, callee in sorted(extra):
                print(f"      extra    {caller} -> {callee}")
            for caller, callee in sorted(missing):
                print(f"      missing  {caller} -> {callee}")
    print()


def _ratio(hits: int, misses: int) -> str:
    return f"{hits / (hits + misses):.3f}" if hits + misses else "-"


if __name__ == "__main__":
    sys.exit(main())
