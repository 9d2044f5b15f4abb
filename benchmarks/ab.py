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
from pathlib import Path
from typing import List, Tuple

from bench import Measure, _paired, _show, run_child


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
    measures = [Measure(name) for name, _ in args.side]
    sides = list(zip(measures, (words for _, words in args.side)))
    for index in range(args.rounds):
        for measure, words in sides if index % 2 == 0 else sides[::-1]:
            run = run_child([words[0], "scan", ".", "--exit-zero", "--quiet", *words[1:]],
                            args.project.resolve())
            measure.runs.append(run)
            _show(measure.name, index, run)
    for measure in measures:
        print(f"{measure.name}: median wall {measure.wall:.3f} s, CPU {measure.cpu:.3f} s")
    base, new = measures
    print(f"{new.name}/{base.name} paired: wall {_paired(new, base, 'wall'):.3f}x, "
          f"CPU {_paired(new, base, 'cpu'):.3f}x")


if __name__ == "__main__":
    main()
