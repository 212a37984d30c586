"""Grade a class of submissions to one chapter with `course grade --jobs 2` and with nbgrader's autograde.

    python benchmarks/grading_vs_nbgrader.py            # classes of 20 and 40 submissions
    python benchmarks/grading_vs_nbgrader.py --quick    # classes of 4 and 8

Both grade the same files (a mix of correct, buggy and unanswered notebooks) in one run, each a class
of n and of 2n. The table gives the wall time of each class and the cost of one more submission,
(T(2n) - T(n)) / n: what a class of hundreds pays per student once the one-time start-up (the
warm processes, nbgrader's own imports) is spread over it. Per core, course grade's cost counts
every job's core; nbgrader grades on one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from demo_chapter import CHAPTER, solution, write_class  # noqa: E402

from course_lib.grading.build import notebook_text  # noqa: E402

KINDS = ["good", "wrong_sign", "blank", "in_place"]


def time_course_grade(classroom: Path, solutions: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "course_lib.cli", "grade", str(classroom), "--out", str(out),
                    "--jobs", str(jobs), "--solutions", str(solutions)], check=True, capture_output=True)
    return time.perf_counter() - start


def time_nbgrader(classroom: Path, root: Path, students: list[str]) -> float:
    course = root / "nbgrader"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "source" / "ps1" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    for student in students:
        (course / "submitted" / student / "ps1").mkdir(parents=True)
        shutil.copy(classroom / student / f"{CHAPTER}.ipynb", course / "submitted" / student / "ps1")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", "ps1", "--force"], cwd=course, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run([*nbgrader, "autograde", "ps1", "--create"], cwd=course, check=True, capture_output=True)
    return time.perf_counter() - start


def grade_both(root: Path, students: list[str], jobs: int) -> tuple[float, float, float]:
    """Wall seconds of course grade (first run with its reference, then warm) and of nbgrader on one class."""
    classroom = write_class(root, students)
    # the reference solution is run once and cached in --out: time a warm class, as an instructor re-grading sees
    cold = time_course_grade(classroom, root / "solutions", root / "out", jobs)
    shutil.copytree(root / "out" / "reference", root / "out2" / "reference")
    warm = time_course_grade(classroom, root / "solutions", root / "out2", jobs)
    try:
        theirs = time_nbgrader(classroom, root, students)
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        theirs = float("nan")
        print(f"nbgrader unavailable: {error}")
    return cold, warm, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="classes of 4 and 8 instead of 20 and 40")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    n = 4 if args.quick else 20
    students = [f"{KINDS[i % len(KINDS)]}-{i:02d}" for i in range(2 * n)]
    runs = {}
    for size in (n, 2 * n):
        with tempfile.TemporaryDirectory() as tmp:
            runs[size] = grade_both(Path(tmp), students[:size], args.jobs)
    (cold_n, ours_n, theirs_n), (cold_2n, ours_2n, theirs_2n) = runs[n], runs[2 * n]
    ours_more, theirs_more = (ours_2n - ours_n) / n, (theirs_2n - theirs_n) / n
    print(f"classes of {n} and {2 * n} submissions of one chapter, {args.jobs} jobs for course grade, nbgrader serial\n")
    print(f"{'grader':<30}{f'class of {n} (s)':>16}{f'class of {2 * n} (s)':>16}{'one more (s)':>14}"
          f"{'one more, core-s':>18}")
    print(f"{'course grade --jobs ' + str(args.jobs):<30}{ours_n:>16.2f}{ours_2n:>16.2f}{ours_more:>14.3f}"
          f"{ours_more * args.jobs:>18.3f}")
    print(f"{'  (first run, with reference)':<30}{cold_n:>16.2f}{cold_2n:>16.2f}")
    print(f"{'nbgrader autograde':<30}{theirs_n:>16.2f}{theirs_2n:>16.2f}{theirs_more:>14.3f}{theirs_more:>18.3f}")
    print(f"\nnbgrader / course grade, class of {2 * n}, wall: {theirs_2n / ours_2n:.2f}x; "
          f"per core: {theirs_2n / (ours_2n * args.jobs):.2f}x")
    print(f"nbgrader / course grade, one more submission, per core: {theirs_more / (ours_more * args.jobs):.2f}x")


if __name__ == "__main__":
    main()
