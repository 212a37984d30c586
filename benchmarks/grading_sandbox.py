"""What the OS sandbox costs: start-up per notebook, and a class's wall time on the course's chapters.

    python benchmarks/grading_sandbox.py                      # overhead, then the class with bwrap and without
    python benchmarks/grading_sandbox.py --checkout OTHER     # the class also graded by another checkout's grader

Overhead: the time from starting a worker to the answer of a one-line cell, with each sandbox,
median of ``--repeat`` runs. Class: every exercise of the course, untouched, plus its solution
handed in as a submission, graded with ``course grade --jobs 2`` in a fresh output folder
(references included). Chapters whose solution fails its own tests are left out, and named.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_lib.grading.runner import Worker
from course_lib.grading.sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[1]


def overhead_ms(sandbox: Sandbox, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as workdir:
            start = time.perf_counter()
            worker = Worker(Path(workdir), Limits(), sandbox, [])
            worker.run("1 + 1", 60)
            times.append(time.perf_counter() - start)
            worker.close()
    return 1000 * statistics.median(times)


def write_class(root: Path, chapters: list[str]) -> Path:
    for chapter in chapters:
        for student, source in (("untouched", ROOT / "exercises"), ("solved", ROOT / "solutions")):
            (root / "class" / student).mkdir(parents=True, exist_ok=True)
            shutil.copy(source / f"{chapter}.ipynb", root / "class" / student)
        (root / "solutions").mkdir(exist_ok=True)
        shutil.copy(ROOT / "solutions" / f"{chapter}.ipynb", root / "solutions")
    return root / "class"


def time_class(root: Path, flags: list[str], pythonpath: Path) -> tuple[float, str]:
    out = root / f"out-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "course_lib.cli", "grade", str(root / "class"), "--out", str(out),
                          "--jobs", "2", "--solutions", str(root / "solutions"), *flags],
                         capture_output=True, text=True, env=env, cwd=root)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return seconds, (out / "summary.txt").read_text().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--checkout", type=Path, help="another checkout whose grader to time on the same class")
    parser.add_argument("--chapters", nargs="*", help="chapters to grade (default: all that pass their own tests)")
    parser.add_argument("--quick", action="store_true", help="2 repeats, one chapter")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 2
    for label, sandbox in (("none", Sandbox("none", warm=False)), ("bwrap", Sandbox("bwrap", warm=False)),
                           ("bwrap warm", Sandbox("bwrap"))):
        print(f"worker start + one cell, sandbox {label:10}: {overhead_ms(sandbox, args.repeat):7.0f} ms")
    chapters = args.chapters or sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb"))
    if args.quick:
        chapters = chapters[:1]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        write_class(root, chapters)
        runs = [("bwrap", [], ROOT), ("none", ["--no-sandbox"], ROOT)]
        if args.checkout:
            runs.append((f"{args.checkout}", [], args.checkout))
        for label, flags, path in runs:
            seconds, summary = time_class(root, flags, path)
            print(f"class of {2 * len(chapters)} notebooks, {label}: {seconds:6.1f} s  ({summary})")


if __name__ == "__main__":
    main()
