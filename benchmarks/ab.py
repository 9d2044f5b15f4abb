"""Paired comparison of two ways to run nilcheck on one project: two installs (a commit
against the one before it) or two option sets (--jobs 1 against --jobs 2).

    python benchmarks/ab.py PROJECT --rounds 10 \
        --side "base=/tmp/base-venv/bin/nilcheck --no-cache --jobs 2" \
        --side "new=/tmp/new-venv/bin/nilcheck --no-cache --jobs 2"

Each round runs both sides back to back, in reverse order every other round (ABBA), so
that the host's drift hits both alike; the paired ratio is the median of the rounds'
new/base ratios, for wall time and for CPU (the scan and its workers). On a shared host
whose speed swings by a third within minutes, medians of unpaired runs say little.
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path
from typing import List, Tuple

from bench import Run, run_child


def parse_side(text: str) -> Tuple[str, List[str]]:
    name, separator, command = text.partition("=")
    words = shlex.split(command)
    if not separator or not name or not words:
        raise argparse.ArgumentTypeError(f"expected NAME=COMMAND [OPTIONS], got {text!r}")
    return name, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--side", type=parse_side, action="append", required=True,
                        help="NAME=NILCHECK [OPTIONS]; give it twice")
    args = parser.parse_args()
    if len(args.side) != 2:
        parser.error("give --side twice")
    runs = {name: [] for name, _ in args.side}  # type: dict
    for index in range(args.rounds):
        order = args.side if index % 2 == 0 else args.side[::-1]
        for name, words in order:
            run = run_child([words[0], "scan", ".", "--exit-zero", "--quiet", *words[1:]],
                            args.project.resolve())
            runs[name].append(run)
            print(f"  {name:<8} round {index + 1}: {run.wall:7.2f} s wall {run.cpu:7.2f} s CPU",
                  flush=True)
    (base, base_runs), (new, new_runs) = [(name, runs[name]) for name, _ in args.side]
    for name, measured in runs.items():
        print(f"{name}: median wall {statistics.median(r.wall for r in measured):.3f} s, "
              f"CPU {statistics.median(r.cpu for r in measured):.3f} s")
    print(f"{new}/{base} paired: wall {_paired(new_runs, base_runs, 'wall'):.3f}x, "
          f"CPU {_paired(new_runs, base_runs, 'cpu'):.3f}x")


def _paired(new: List[Run], base: List[Run], what: str) -> float:
    return statistics.median(getattr(n, what) / getattr(b, what) for n, b in zip(new, base))


if __name__ == "__main__":
    sys.exit(main())
