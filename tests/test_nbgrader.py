"""Our notebooks claim nbgrader's format: nbgrader itself must grade them as `course grade` does."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader", reason="nbgrader is an instructors' tool: pip install -e '.[instructor]'")

from course_lib.grading.build import notebook_text  # noqa: E402
from course_lib.grading.grade import grade_class  # noqa: E402
from course_lib.grading.runner import Limits  # noqa: E402
from demo_chapter import CHAPTER, sandbox, solution, write_class  # noqa: E402

STUDENTS = ["good", "blank", "wrong_sign", "in_place"]


def nbgrader_scores(root: Path, classroom: Path) -> dict[str, float]:
    """Run nbgrader's generate_assignment and autograde on the same files; return each student's score."""
    course = root / "nbgrader"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "source" / "ps1" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    for student in STUDENTS:
        target = course / "submitted" / student / "ps1"
        target.mkdir(parents=True)
        shutil.copy(classroom / student / f"{CHAPTER}.ipynb", target)
    for command in (["generate_assignment", "ps1", "--force"], ["autograde", "ps1", "--create"]):
        subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=course, check=True, capture_output=True)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s: gradebook.find_submission("ps1", s).score for s in STUDENTS}


def test_nbgrader_and_course_grade_agree(tmp_path):
    classroom = write_class(tmp_path, STUDENTS)
    ours = grade_class([classroom / s for s in STUDENTS], tmp_path / "solutions", tmp_path / "out", jobs=2,
                       limits=Limits(cell_seconds=30), sandbox=sandbox())
    theirs = nbgrader_scores(tmp_path, classroom)
    assert {r.student: r.total for r in ours} == theirs
    assert theirs == {"good": 3.0, "blank": 0.0, "wrong_sign": 2.0, "in_place": 3.0}
