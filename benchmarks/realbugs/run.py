"""Measure nilcheck's recall on real init-order bugs from public repositories.

    python benchmarks/realbugs/run.py [--mirrors DIR] [--cases FILE] [--case ID ...]
                                      [--nilcheck CMD] [--keep DIR] [--json FILE] [--show]

For each case in cases.toml this extracts the listed paths at the buggy and at the
fixed commit from a git mirror (DIR/owner+name/repo, as the `fetch` tool makes it)
into fresh temporary directories, writes a pyproject.toml with the case's entry points,
runs `nilcheck scan DIR --format json --no-cache --exit-zero` on each version as a
subprocess and compares the findings with the case's expected read.

This is a benchmark, not a test: it always exits 0. It never imports or runs the
analysed code (nilcheck does not either), and nothing third-party is committed: the
code is extracted at run time from the mirrors. See README.md in this directory.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Sequence, Tuple

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: nilcheck itself depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
DEFAULT_MIRRORS = Path("/work/.mirror")
DEFAULT_CASES = HERE / "cases.toml"
TIMEOUT = 900  # seconds for one nilcheck run

REQUIRED = ("id", "repo", "buggy", "fixed", "extract", "entry-points", "field", "kind",
            "link", "summary", "buggy-read")


@dataclass(frozen=True)
class Read:
    file: str
    line: int
    also: Tuple[int, ...] = ()  # other lines that are the same read (CONTRACT: alias reads)

    def lines(self) -> Tuple[int, ...]:
        return (self.line,) + self.also

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Case:
    id: str
    repo: str
    buggy: str
    fixed: str
    extract: Dict[str, str]
    entry_points: List[str]
    spawners: List[str]
    field: str
    kind: str
    rule: str
    link: str
    buggy_read: Read
    fixed_read: Optional[Read]


@dataclass
class Version:
    """The outcome of one nilcheck run on one version of a case."""
    error: Optional[str] = None
    findings: List[dict] = field(default_factory=list)
    parse_errors: int = 0
    seconds: float = 0.0


def _read(table: Optional[dict]) -> Optional[Read]:
    if table is None:
        return None
    return Read(str(table["file"]), int(table["line"]), tuple(int(x) for x in table.get("also", ())))


def load_cases(path: Path) -> List[Case]:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    cases = []
    seen = set()
    for raw in data.get("case", []):
        missing = [key for key in REQUIRED if key not in raw]
        if missing:
            raise SystemExit(f"{path}: case {raw.get('id', '?')}: missing {', '.join(missing)}")
        if raw["id"] in seen:
            raise SystemExit(f"{path}: duplicate case id {raw['id']}")
        seen.add(raw["id"])
        for key in ("buggy", "fixed"):
            sha = raw[key]
            if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
                raise SystemExit(f"{path}: case {raw['id']}: {key} must be a full 40-hex SHA")
        cases.append(Case(
            id=raw["id"], repo=raw["repo"], buggy=raw["buggy"], fixed=raw["fixed"],
            extract=dict(raw["extract"]), entry_points=list(raw["entry-points"]),
            spawners=list(raw.get("spawners", [])),
            field=raw["field"], kind=raw["kind"], rule=raw.get("rule", "NIL001"),
            link=raw["link"], buggy_read=_read(raw["buggy-read"]),
            fixed_read=_read(raw.get("fixed-read")),
        ))
    return sorted(cases, key=lambda case: case.id)


def mirror_dir(mirrors: Path, repo: str) -> Path:
    """The git directory of a fetched repository: DIR/owner+name/repo (bare), or its
    .git when the snapshot came as a work tree."""
    base = mirrors / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True)


def has_commit(git_dir: Path, sha: str) -> bool:
    return _git(git_dir, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def _relocate(name: str, extract: Dict[str, str]) -> Optional[PurePosixPath]:
    """Where repository path `name` goes in the extracted project (longest prefix wins)."""
    path = PurePosixPath(name)
    best = None
    for source, dest in extract.items():
        src = PurePosixPath(source)
        if path == src or src in path.parents:
            if best is None or len(src.parts) > len(best[0].parts):
                best = (src, PurePosixPath(dest))
    if best is None:
        return None
    src, dest = best
    relative = path.relative_to(src)
    target = dest / relative if str(relative) != "." else dest
    if target.is_absolute() or ".." in target.parts:
        return None
    return target


def extract(git_dir: Path, sha: str, mapping: Dict[str, str], dest: Path) -> Tuple[int, List[str]]:
    """Write the mapped paths of commit `sha` under `dest`.

    Returns the number of files written and the paths whose content the mirror lacks
    (a snapshot leaves out files of 4 MiB and more). Only regular files are written (no
    links, no submodules), and a path that would leave `dest` is skipped."""
    listing = _git(git_dir, "ls-tree", "-r", "-z", "--full-tree", sha, "--", *sorted(mapping))
    if listing.returncode != 0:
        raise RuntimeError(listing.stderr.decode(errors="replace").strip() or "git ls-tree failed")
    wanted: List[Tuple[str, PurePosixPath]] = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, blob = meta.decode().split()
        if kind != "blob" or mode not in ("100644", "100755"):
            continue
        target = _relocate(name.decode("utf-8", errors="surrogateescape"), mapping)
        if target is not None:
            wanted.append((blob, target))
    if not wanted:
        return 0, []
    batch = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                           input=b"".join(blob.encode() + b"\n" for blob, _ in wanted),
                           capture_output=True)
    if batch.returncode != 0:
        raise RuntimeError(batch.stderr.decode(errors="replace").strip() or "git cat-file failed")
    data, pos, count, missing = batch.stdout, 0, 0, []
    for blob, target in wanted:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode().split()
        pos = end + 1
        if len(header) < 3 or header[1] != "blob":  # "<sha> missing"
            missing.append(str(target))
            continue
        size = int(header[2])
        content, pos = data[pos:pos + size], pos + size + 1  # the content ends with "\n"
        out = dest.joinpath(*target.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
        count += 1
    return count, missing


def write_pyproject(dest: Path, case: Case) -> None:
    def toml_list(items: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    text = ("# Written by benchmarks/realbugs/run.py for case " + case.id + "\n"
            "[tool.nilcheck]\n"
            f"entry-points = {toml_list(case.entry_points)}\n")
    if case.spawners:
        text += f"spawners = {toml_list(case.spawners)}\n"
    (dest / "pyproject.toml").write_text(text, encoding="utf-8")


def nilcheck_command(option: Optional[str]) -> List[str]:
    if option:
        return option.split()
    found = shutil.which("nilcheck")
    if found:
        return [found]
    return [sys.executable, "-m", "nilcheck.linter.cli"]


def run_nilcheck(command: Sequence[str], project: Path) -> Version:
    args = [*command, "scan", str(project), "--format", "json", "--no-cache", "--exit-zero"]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=project)
    except subprocess.TimeoutExpired:
        return Version(error=f"timed out after {TIMEOUT} s")
    except OSError as error:
        return Version(error=f"could not run {args[0]}: {error}")
    if proc.returncode not in (0, 1):
        message = " ".join(proc.stderr.split()) or f"exit code {proc.returncode}"
        return Version(error=f"exit {proc.returncode}: {message}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as error:
        return Version(error=f"unreadable JSON output: {error}")
    summary = report.get("summary", {})
    return Version(findings=list(report.get("findings", [])),
                   parse_errors=len(report.get("errors", [])),
                   seconds=float(summary.get("seconds", 0.0)))


def line_text(project: Path, read: Read) -> str:
    try:
        lines = (project / read.file).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[read.line - 1]
    except (OSError, IndexError):
        return ""


def manifest_problem(project: Path, read: Read, case: Case) -> Optional[str]:
    """The manifest's read line must exist and name the attribute; else say what is wrong."""
    attr = case.field.rsplit(".", 1)[1]
    text = line_text(project, read)
    if not text:
        return f"{read} does not exist"
    if attr not in text:
        return f"{read} does not mention `{attr}`: {text.strip()!r}"
    return None


def at(findings: Sequence[dict], read: Read) -> List[dict]:
    return [f for f in findings if f.get("file") == read.file and f.get("line") in read.lines()]


@dataclass
class Outcome:
    case: Case
    status: str  # "ok", "not fetched", "missing commit", "extract error", "nilcheck error"
    message: str = ""
    found: bool = False
    found_rule: str = ""
    field_matches: bool = False
    fixed_hits: int = 0
    other_buggy: int = 0
    other_fixed: int = 0
    problems: List[str] = field(default_factory=list)
    buggy: Optional[Version] = None
    fixed: Optional[Version] = None
    lines: Dict[str, str] = field(default_factory=dict)  # "buggy"/"fixed" -> read line text


def evaluate(case: Case, mirrors: Path, command: Sequence[str], keep: Optional[Path]) -> Outcome:
    git_dir = mirror_dir(mirrors, case.repo)
    if not git_dir.is_dir():
        return Outcome(case, "not fetched", f"not fetched: {case.repo}")
    for sha in (case.buggy, case.fixed):
        if not has_commit(git_dir, sha):
            return Outcome(case, "missing commit", f"commit {sha} not in the mirror of {case.repo}")
    outcome = Outcome(case, "ok")
    with tempfile.TemporaryDirectory(prefix=f"realbugs-{case.id}-") as tmp:
        versions = {}
        for label, sha in (("buggy", case.buggy), ("fixed", case.fixed)):
            project = Path(tmp) / label
            project.mkdir()
            try:
                written, missing = extract(git_dir, sha, case.extract, project)
                if written == 0:
                    raise RuntimeError("no files extracted")
            except RuntimeError as error:
                return Outcome(case, "extract error", f"{label} {sha[:12]}: {error}")
            lost = [m for m in missing if m.endswith(".py")]
            if lost:
                outcome.problems.append(f"{label}: the mirror lacks {len(lost)} Python "
                                        f"file(s), e.g. {lost[0]}")
            write_pyproject(project, case)
            read = case.buggy_read if label == "buggy" else case.fixed_read
            if read is not None:
                outcome.lines[label] = line_text(project, read).strip()
            if read is not None and label == "buggy":
                problem = manifest_problem(project, read, case)
                if problem:
                    outcome.problems.append(f"manifest: buggy {problem}")
            if read is not None and label == "fixed" and not line_text(project, read):
                outcome.problems.append(f"manifest: fixed {read} does not exist")
            versions[label] = run_nilcheck(command, project)
            if keep is not None:
                target = keep / case.id / label
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(project, target)
    outcome.buggy, outcome.fixed = versions["buggy"], versions["fixed"]
    errors = [f"{label}: {v.error}" for label, v in versions.items() if v.error]
    if errors:
        outcome.status = "nilcheck error"
        outcome.message = "; ".join(errors)
        return outcome
    for label, version in versions.items():
        if version.parse_errors:
            outcome.problems.append(f"{label}: {version.parse_errors} file(s) nilcheck could not parse")
    hits = at(outcome.buggy.findings, case.buggy_read)
    outcome.found = bool(hits)
    outcome.found_rule = ",".join(sorted({h.get("rule", "?") for h in hits}))
    outcome.field_matches = any(h.get("field") == case.field for h in hits)
    outcome.other_buggy = len(outcome.buggy.findings) - len(hits)
    fixed_hits = at(outcome.fixed.findings, case.fixed_read) if case.fixed_read else []
    outcome.fixed_hits = len(fixed_hits)
    outcome.other_fixed = len(outcome.fixed.findings) - len(fixed_hits)
    return outcome


def report(outcomes: Sequence[Outcome], out=sys.stdout, show_lines: bool = False) -> None:
    width = max([len(o.case.id) for o in outcomes] + [4])
    kind_width = max([len(o.case.kind) for o in outcomes] + [4])
    header = f"{'case':<{width}}  {'kind':<{kind_width}}  found  fixed-hits  other(buggy/fixed)"
    print(header, file=out)
    print("-" * len(header), file=out)
    for o in outcomes:
        prefix = f"{o.case.id:<{width}}  {o.case.kind:<{kind_width}}  "
        if o.status != "ok":
            print(prefix + o.message, file=out)
        else:
            found = "yes" if o.found else "no"
            if o.found:
                found += f" ({o.found_rule}{'' if o.field_matches else ', other field'})"
            fixed = str(o.fixed_hits) if o.case.fixed_read else "-"
            print(prefix + f"{found:<5}  {fixed:>10}  {o.other_buggy}/{o.other_fixed}", file=out)
        for problem in o.problems:
            print(" " * (width + 2) + "! " + problem, file=out)
        if show_lines:
            for label, read in (("buggy", o.case.buggy_read), ("fixed", o.case.fixed_read)):
                if read is not None and label in o.lines:
                    print(" " * (width + 2) + f"{label} {read}: {o.lines[label]}", file=out)
            if o.buggy is not None and o.fixed is not None:
                for label, version in (("buggy", o.buggy), ("fixed", o.fixed)):
                    for f in sorted(version.findings, key=lambda f: (f.get("file", ""), f.get("line", 0))):
                        print(" " * (width + 2) + f"{label} finding: {f.get('rule')} "
                              f"{f.get('file')}:{f.get('line')} {f.get('field')}", file=out)
    ran = [o for o in outcomes if o.status == "ok"]
    found = sum(o.found for o in ran)
    by_status: Dict[str, int] = {}
    for o in outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    print(file=out)
    print("; ".join([f"cases: {len(outcomes)}", f"analysed: {len(ran)}"]
                    + [f"{status}: {n}" for status, n in sorted(by_status.items())
                       if status != "ok"]), file=out)
    total = len(outcomes)
    recall = f"{found}/{total} = {found / total:.0%}" if total else "n/a"
    analysed = f"{found}/{len(ran)}" if ran else "n/a"
    print(f"recall (found / cases): {recall}  (found / analysed: {analysed})", file=out)
    print(f"fixed-version hits at the repaired read: {sum(o.fixed_hits for o in ran)}", file=out)
    print(f"extra findings: buggy {sum(o.other_buggy for o in ran)}, "
          f"fixed {sum(o.other_fixed for o in ran)}", file=out)


def as_json(outcomes: Sequence[Outcome]) -> dict:
    rows = []
    for o in outcomes:
        row = {"id": o.case.id, "repo": o.case.repo, "kind": o.case.kind, "status": o.status,
               "message": o.message, "found": o.found, "fixed_hits": o.fixed_hits,
               "other_buggy": o.other_buggy, "other_fixed": o.other_fixed,
               "problems": o.problems}
        for label in ("buggy", "fixed"):
            version = getattr(o, label)
            if version is not None:
                row[f"{label}_findings"] = [
                    {k: f.get(k) for k in ("rule", "file", "line", "field")}
                    for f in version.findings]
        rows.append(row)
    return {"cases": rows}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS,
                        help="directory of fetched mirrors, owner+name/repo (default: %(default)s)")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="the manifest")
    parser.add_argument("--case", action="append", default=[], metavar="ID",
                        help="run only this case (repeatable)")
    parser.add_argument("--nilcheck", metavar="CMD",
                        help="command that runs nilcheck (default: `nilcheck` on PATH, "
                             "else `python -m nilcheck.linter.cli`)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="copy each extracted project to DIR/<id>/{buggy,fixed} for triage")
    parser.add_argument("--show", action="store_true",
                        help="also print the expected read's source line in both versions "
                             "and every finding (for triage and for checking the manifest)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write every finding of every run to FILE as JSON")
    args = parser.parse_args(argv)
    cases = load_cases(args.cases)
    if args.case:
        unknown = sorted(set(args.case) - {c.id for c in cases})
        if unknown:
            print(f"unknown case id: {', '.join(unknown)}", file=sys.stderr)
        cases = [c for c in cases if c.id in set(args.case)]
    command = nilcheck_command(args.nilcheck)
    outcomes = []
    for case in cases:
        outcomes.append(evaluate(case, args.mirrors, command, args.keep))
        print(f"  ... {case.id}: {outcomes[-1].status}", file=sys.stderr, flush=True)
    report(outcomes, show_lines=args.show)
    if args.json:
        args.json.write_text(json.dumps(as_json(outcomes), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
