"""What a notebook costs to grade with cold processes and with processes forked from warm zygotes.

    python benchmarks/grading_warm.py            # every chapter, solved and untouched, median of 3
    python benchmarks/grading_warm.py --quick    # two chapters, once

Each notebook of the course (the solution handed in as a submission, and the untouched exercise)
is run the way ``course grade`` runs it (``grade.run_assembled``: sandboxed worker plus trusted
judge), once with a fresh Python per process (``Sandbox(warm=False)``, the grader before the
zygotes) and once forked from the zygotes, alternating so both see the same load. The zygotes'
own start-up is paid once per grader process and reported on its own line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from course_lib.grading.assemble import assemble
from course_lib.grading.build import read_notebook
from course_lib.grading.grade import policy_of, run_assembled
from course_lib.grading.sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[1]


def notebooks(chapters: list[str]) -> list[tuple[str, list, list[str]]]:
    """(label, assembled cells, forbidden functions) of each chapter's solved and untouched notebook."""
    found = []
    for chapter in chapters:
        source = read_notebook(ROOT / "solutions" / f"{chapter}.ipynb")
        forbid, _ = policy_of(source)
        found.append((f"{chapter} solved", assemble(source, source).cells, forbid))
        exercise = ROOT / "exercises" / f"{chapter}.ipynb"
        if exercise.exists():
            found.append((f"{chapter} untouched", assemble(source, read_notebook(exercise)).cells, forbid))
    return found


def seconds(cells: list, sandbox: Sandbox, forbid: list[str]) -> float:
    start = time.perf_counter()
    run_assembled(cells, Limits(), sandbox, forbid)
    return time.perf_counter() - start


def measure(chapters: list[str], repeat: int, kind: str) -> tuple[list[tuple[str, float, float]], float]:
    """Per notebook (label, cold s, warm s), medians; and the zygotes' start-up in seconds."""
    cold, warm = Sandbox(kind, warm=False), Sandbox(kind, warm=True)
    items = notebooks(chapters)
    startup = seconds(items[0][1][:1], warm, [])  # the first warm run starts the zygotes
    startup -= seconds(items[0][1][:1], warm, [])
    rows = []
    for label, cells, forbid in items:
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeat):
            for sandbox in (cold, warm):
                times[sandbox.warm].append(seconds(cells, sandbox, forbid))
        rows.append((label, statistics.median(times[False]), statistics.median(times[True])))
        print(f"  {label}: cold {rows[-1][1]:.2f} s, warm {rows[-1][2]:.2f} s", file=sys.stderr, flush=True)
    return rows, startup


def table(rows: list[tuple[str, float, float]], startup: float) -> str:
    lines = ["| notebook | cold s | warm s | cold / warm |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {c:.2f} | {w:.2f} | {c / w:.1f}x |" for label, c, w in rows]
    cold, warm = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(f"| **all {len(rows)} notebooks** | {cold:.2f} | {warm:.2f} | {cold / warm:.1f}x |")
    lines.append(f"\nzygotes' start-up, once per grader process: {startup:.2f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two chapters, once")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sandbox", default="bwrap", choices=["bwrap", "none"])
    args = parser.parse_args()
    chapters = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    if args.quick:
        chapters, args.repeat = chapters[:2], 1
    sandbox = args.sandbox
    if sandbox == "bwrap" and not Sandbox("bwrap").warm_workers:
        print("warm workers need bwrap run as root; comparing judges only (--sandbox none)")
        sandbox = "none"
    rows, startup = measure(chapters, args.repeat, sandbox)
    print(f"per notebook, sandbox {sandbox}, median of {args.repeat}\n")
    print(table(rows, startup))


if __name__ == "__main__":
    main()
