"""Grade a class of submissions to one chapter with `course grade --jobs 2` and with nbgrader's autograde.

    python benchmarks/grading_vs_nbgrader.py            # 40 submissions
    python benchmarks/grading_vs_nbgrader.py --quick    # 4 submissions

Both grade the same files (a mix of correct, buggy and unanswered notebooks) in one run; the table
gives wall time per class and per submission, and the ratio nbgrader / course grade.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 submissions instead of 40")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    n = 4 if args.quick else 40
    students = [f"{KINDS[i % len(KINDS)]}-{i:02d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        classroom = write_class(root, students)
        # the reference solution is run once and cached in --out: time a warm class, as an instructor re-grading sees
        ours_cold = time_course_grade(classroom, root / "solutions", root / "out", args.jobs)
        shutil.copytree(root / "out" / "reference", root / "out2" / "reference")
        ours = time_course_grade(classroom, root / "solutions", root / "out2", args.jobs)
        try:
            theirs = time_nbgrader(classroom, root, students)
        except (subprocess.CalledProcessError, FileNotFoundError) as error:
            theirs = float("nan")
            print(f"nbgrader unavailable: {error}")
    print(f"{n} submissions of one chapter, {args.jobs} jobs for course grade, nbgrader serial\n")
    print(f"{'grader':<28}{'class (s)':>12}{'per submission (s)':>22}")
    print(f"{'course grade --jobs ' + str(args.jobs):<28}{ours:>12.2f}{ours / n:>22.3f}")
    print(f"{'  (first run, with reference)':<28}{ours_cold:>12.2f}{ours_cold / n:>22.3f}")
    print(f"{'nbgrader autograde':<28}{theirs:>12.2f}{theirs / n:>22.3f}")
    print(f"\nnbgrader / course grade: {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()
