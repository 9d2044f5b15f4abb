"""Check that reusing the last outcome after an edit the analysis cannot see
(linter/footprint.py) never changes a scan's result.

For each of --edits random edits of a copy of a project (seeded: the same seed makes the
same edits), scan it as a user would (with the cache, so that an unseen edit reuses the
last outcome) and again with --no-cache, and compare the two JSON reports (the timing
left out). Edits: a function appended to a module, a function inserted before another,
a statement added to a function's or a method's body, a method added to a class; the
new code calls and assigns names the project uses, so that an edit the analysis would
see has a chance to change the findings.

    python benchmarks/unseen_edits.py PROJECT [--edits 40] [--seed 1] [--work DIR]

Prints, per edit, whether the outcome was reused and whether the reports agree; exits 1
on any disagreement.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

DEF = re.compile(r"^(?P<indent>(?:    )?)def (?P<name>\w+)\(.*\):\s*$")
CLASS = re.compile(r"^class (?P<name>\w+)\b.*:\s*$")
WORD = re.compile(r"\b[a-z_][a-z0-9_]{2,}\b")


# nilcheck's CLI, saying on stderr whether the scan reused the last outcome.
CLI = """
import sys
from nilcheck.linter import engine
from nilcheck.linter.cli import main
after = engine._LastOutcome.unseen
def noted(*args, **kwargs):
    found = after(*args, **kwargs)
    if found:
        print("nilcheck-unseen-edits: reused", file=sys.stderr)
    return found
engine._LastOutcome.unseen = noted
sys.argv = ["nilcheck"] + sys.argv[1:]
main()
"""


def scan(project: Path, *extra: str) -> Tuple[dict, bool]:
    """The JSON report (without its timing), and whether the last outcome was reused."""
    run = subprocess.run([sys.executable, "-c", CLI, "scan", ".",
                          "--format", "json", "--exit-zero", *extra],
                         cwd=project, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"nilcheck failed ({run.returncode}):\n{run.stderr}")
    report = json.loads(run.stdout)
    report.get("summary", {}).pop("seconds", None)
    return report, "nilcheck-unseen-edits: reused" in run.stderr


def edit(rng: random.Random, files: List[Path], words: List[str], number: int) -> str:
    path = rng.choice(files)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    name = f"_nilcheck_edit_{number}"
    used = rng.choice(words)
    kind = rng.choice(["append", "insert", "body", "method", "append-used-name"])
    defs = [i for i, line in enumerate(lines) if DEF.match(line)]
    classes = [i for i, line in enumerate(lines) if CLASS.match(line)]
    new_function = f"def {name}():\n    return {used}()\n\n\n"
    if kind == "append-used-name":
        name = used
        new_function = f"def {used}(*args, **kwargs):\n    return None\n\n\n"
    top = [i for i in defs if not lines[i].startswith(" ")]
    if kind == "insert" and top:
        at = rng.choice(top)
        lines[at:at] = [new_function]
    elif kind == "body" and defs:
        at = rng.choice(defs)
        indent = DEF.match(lines[at]).group("indent") + "    "
        lines[at + 1:at + 1] = [f"{indent}{used} = {name}\n" if rng.random() < 0.5
                                else f"{indent}{used}()\n"]
    elif kind == "method" and classes:
        at = rng.choice(classes)
        lines[at + 1:at + 1] = [f"    def {name}(self):\n        self.{used} = None\n\n"]
    else:  # an append, or the file has nowhere for the edit drawn
        kind = "append"
        lines.append("\n\n" + new_function)
    path.write_text("".join(lines), encoding="utf-8")
    return f"{kind} {name} in {path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nilcheck-unseen-"))
    copy = work / "project"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(args.project, copy, ignore=shutil.ignore_patterns(".nilcheck_cache", ".git"))
    files = sorted(p for p in copy.rglob("*.py") if p.stat().st_size < 200_000)
    text = " ".join(p.read_text(encoding="utf-8", errors="replace") for p in files[:400])
    words = sorted(set(WORD.findall(text)) - {"def", "class", "return", "import", "from",
                                              "self", "none", "true", "false", "pass",
                                              "lambda", "yield", "await", "async", "global",
                                              "nonlocal", "while", "with", "for", "not",
                                              "and", "del", "try", "except", "finally",
                                              "raise", "elif", "else", "assert", "break",
                                              "continue", "print"})
    rng = random.Random(args.seed)
    scan(copy)  # fills the cache
    disagreements = reused = 0
    for number in range(args.edits):
        what = edit(rng, files, words, number)
        cached, was_reused = scan(copy)
        fresh, _ = scan(copy, "--no-cache")
        same = cached == fresh
        reused += was_reused
        disagreements += not same
        print(f"{number:3d} {'reused ' if was_reused else 'analysed'} "
              f"{'same' if same else 'DIFFERENT'}  {what}", flush=True)
        if not same:
            print(json.dumps({"with cache": cached, "without": fresh}, indent=1)[:4000])
    print(f"{args.edits} edits: {reused} reused the last outcome, "
          f"{disagreements} reports differed")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
