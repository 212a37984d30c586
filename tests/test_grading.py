"""`course grade` on a small chapter made here: good, buggy, broken and tampered submissions."""

import csv
import json
from pathlib import Path

import nbformat
import pytest

from course_lib.cli import main
from course_lib.grading import cells
from course_lib.grading.build import make_exercise, notebook_text
from course_lib.grading.grade import grade_class
from course_lib.grading.runner import Limits

CHAPTER = "07_demo"

SETUP = "import numpy as np\nfrom course_lib.checks import check_close, check_equal\nrng = np.random.default_rng(0)"
DOUBLE = '''def double(x):
    ### BEGIN SOLUTION
    ### HINT: multiply by two
    return 2 * x
    ### END SOLUTION'''
NORM = '''def normalize(v):
    """v (N,) -> v / sum(v), a new array."""
    ### BEGIN SOLUTION
    ### HINT: divide by the sum
    return v / v.sum()
    ### END SOLUTION'''
TEST_DOUBLE = '''check_equal("double(2)", double(2), 4)
### BEGIN HIDDEN TESTS
check_equal("double(-7)", double(-7), -14)
### END HIDDEN TESTS'''
TEST_NORM = '''v = np.random.default_rng(1).uniform(1, 2, 5)
check_close("normalize", normalize(v), v / v.sum())
### BEGIN HIDDEN TESTS
w = np.random.default_rng(2).uniform(1, 2, 7)
check_close("normalize hidden", normalize(w), w / w.sum())
### END HIDDEN TESTS'''


def make_solution() -> nbformat.NotebookNode:
    return cells.notebook([
        cells.markdown("# Demo"),
        cells.code(SETUP),
        cells.answer("double", DOUBLE),
        cells.test("test_double", TEST_DOUBLE, points=1),
        cells.answer("normalize", NORM),
        cells.test("test_normalize", TEST_NORM, points=2),
    ])


SOLUTION = make_solution()  # made once: students' cells keep its cell ids


def solution() -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(SOLUTION)))


def exercise() -> nbformat.NotebookNode:
    return make_exercise(solution(), CHAPTER)


def answered(double: str | None = None, norm: str | None = None, extra=None) -> nbformat.NotebookNode:
    """The exercise with the given answer sources filled in (None keeps the stub)."""
    nb = exercise()
    if double is not None:
        nb.cells[2].source = double
    if norm is not None:
        nb.cells[4].source = norm
    if extra:
        extra(nb)
    return nb


GOOD_DOUBLE = "def double(x):\n    return x + x"
GOOD_NORM = "def normalize(v):\n    return v / np.sum(v)"
FIXTURES = {
    "good": lambda: answered(GOOD_DOUBLE, GOOD_NORM),
    "blank": exercise,
    "wrong_sign": lambda: answered("def double(x):\n    return -2 * x", GOOD_NORM),
    "in_place": lambda: answered(GOOD_DOUBLE, "def normalize(v):\n    v /= v.sum()\n    return v"),
    "syntax_error": lambda: answered("def double(x)\n    return 2 * x", GOOD_NORM),
    "exception_at_import": lambda: answered("import no_such_module\ndef double(x):\n    return 2 * x", GOOD_NORM),
    "renamed_function": lambda: answered("def twice(x):\n    return 2 * x", GOOD_NORM),
    "infinite_loop": lambda: answered("while True:\n    pass", GOOD_NORM),
    "huge_allocation": lambda: answered("big = bytearray(10**11)", GOOD_NORM),
    "sys_exit": lambda: answered("import sys\nsys.exit(0)", GOOD_NORM),
    "os_exit": lambda: answered("import os\nos._exit(1)", GOOD_NORM),
    "prints_100mb": lambda: answered(GOOD_DOUBLE + "\nprint('x' * 100_000_000)", GOOD_NORM),
    "tamper_numpy": lambda: answered(
        "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n" + GOOD_DOUBLE,
        "def normalize(v):\n    return v"),
    "tamper_checks": lambda: answered(
        "import course_lib.checks as c\nc.check_close = lambda *a, **k: print('✓ normalize')\n"
        "c.check_equal = lambda *a, **k: print('✓ double(2)')\ncheck_close, check_equal = c.check_close, c.check_equal\n"
        "def double(x):\n    return 0", "def normalize(v):\n    return v"),
    "tamper_recorder": lambda: answered(
        "import course_lib.checks as c\nc.set_recorder = lambda r: None\nc.set_recorder.__globals__['_recorder'] = None\n"
        + "def double(x):\n    return 0", GOOD_NORM),
    "rigged_eq": lambda: answered(
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def double(x):\n    return Anything()", "def normalize(v):\n    return Anything()"),
    "fake_passed_output": lambda: answered("print('✓ double(2)\\n✓ double(-7)\\nAll tests passed!')\ndef double(x):\n    return 1", GOOD_NORM),
    "reads_solutions": lambda: answered(
        "import pathlib\ntext = [p.read_text() for p in pathlib.Path(SOLUTIONS).glob('*.ipynb')]\n"
        "def double(x):\n    return 2 * x", GOOD_NORM),
    "writes_outside": lambda: answered("open('/tmp/course_grader_escape.txt', 'w').write('x')\n" + GOOD_DOUBLE, GOOD_NORM),
    "edited_tests": lambda: answered(GOOD_DOUBLE, "def normalize(v):\n    return v", extra=_edit_tests),
    "deleted_tests": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.pop(5)),
    "missing_answer": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.pop(4)),
    "lost_metadata": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells[4].metadata.clear()),
    "duplicated_answer": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=_duplicate_answer),
    "reordered": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.reverse()),
}
# points (double, normalize) each submission must earn: 1 and 2 are full marks
EXPECTED = {
    "good": (1, 2), "blank": (0, 0), "wrong_sign": (0, 2), "in_place": (1, 2), "syntax_error": (0, 2),
    "exception_at_import": (0, 2), "renamed_function": (0, 2), "infinite_loop": (0, 2), "huge_allocation": (0, 2),
    "sys_exit": (0, 2), "os_exit": (0, 2), "prints_100mb": (1, 2), "tamper_numpy": (1, 0), "tamper_checks": (0, 0),
    "tamper_recorder": (0, 2), "rigged_eq": (0, 0), "fake_passed_output": (0, 2), "reads_solutions": (0, 2),
    "writes_outside": (0, 2), "edited_tests": (1, 0), "deleted_tests": (1, 2), "missing_answer": (1, 0),
    "lost_metadata": (1, 2), "duplicated_answer": (1, 2), "reordered": (1, 2),
}


def _edit_tests(nb):
    nb.cells[5].source = "print('all good')"  # replaced test: the original must be restored


def _duplicate_answer(nb):
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[4])))
    copy.source = "def normalize(v):\n    return v"
    copy.id = "copy-of-normalize"
    nb.cells.insert(6, copy)  # a later, wrong copy: the first (right) one is graded


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "solutions").mkdir()
    (root / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    classroom = root / "submissions"
    for student, make in FIXTURES.items():
        (classroom / student).mkdir(parents=True)
        text = notebook_text(make()).replace("SOLUTIONS", repr(str(root / "solutions")).replace("'", '\\"'))
        (classroom / student / f"{CHAPTER}.ipynb").write_text(text)
    (classroom / "bad_json").mkdir()
    (classroom / "bad_json" / f"{CHAPTER}.ipynb").write_text('{"cells": [')
    (classroom / "not_a_notebook").mkdir()
    (classroom / "not_a_notebook" / f"{CHAPTER}.ipynb").write_text('{"hello": 1}')
    (classroom / "unknown_chapter").mkdir()
    (classroom / "unknown_chapter" / "homework.ipynb").write_text(notebook_text(cells.notebook([cells.code("1")])))
    out = root / "out"
    results = grade_class([classroom / s for s in sorted(p.name for p in classroom.iterdir())],
                          root / "solutions", out, jobs=2, limits=Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072))
    return {r.student: r for r in results}, out, root


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_earns_exactly_what_its_surviving_tests_earn(graded, student):
    result = graded[0][student]
    points = tuple(int(t.points) for t in result.tests)
    assert result.status == "ok", result.message
    assert points == EXPECTED[student], [(t.grade_id, t.status, t.message) for t in result.tests]


@pytest.mark.parametrize("student, status, message", [
    ("bad_json", "invalid", "not a readable JSON notebook"),
    ("not_a_notebook", "invalid", "not a Jupyter notebook"),
    ("unknown_chapter", "unknown-chapter", "cannot tell which chapter"),
])
def test_unreadable_submissions_get_a_status_and_zero(graded, student, status, message):
    result = graded[0][student]
    assert result.status == status and message in result.message and result.total == 0


@pytest.mark.parametrize("student, status, words", [
    ("infinite_loop", "error", "answer cell 'double' failed (timeout: timeout: the cell ran longer than its 5 s limit)"),
    ("os_exit", "error", "failed (crashed: crashed: the process exited with code 1"),
    ("blank", "failed", "not answered yet"),
    ("wrong_sign", "failed", "check 'double(2)': expected 4, got -4"),
    ("syntax_error", "error", "SyntaxError"),
    ("renamed_function", "error", "NameError: name 'double' is not defined"),
    ("reads_solutions", "error", "PermissionError: grading sandbox: reading"),
    ("writes_outside", "error", "PermissionError: grading sandbox: writing outside"),
])
def test_messages_say_what_happened(graded, student, status, words):
    test = graded[0][student].tests[0]
    assert test.status == status and words in test.message, (test.status, test.message)


def test_repairs_are_reported(graded):
    notes = {s: " ".join(graded[0][s].diagnostics) for s in graded[0]}
    assert "'test_normalize' was edited; the original was restored" in notes["edited_tests"]
    assert "'test_normalize' was missing" in notes["deleted_tests"]
    assert "answer cell 'normalize' is missing" in notes["missing_answer"]
    assert "matched by cell id" in notes["lost_metadata"]
    assert "appears 2 times; the first is graded" in notes["duplicated_answer"]
    assert not Path("/tmp/course_grader_escape.txt").exists()


def test_csv_feedback_and_summary(graded):
    results, out, _ = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(results)
    good = next(r for r in rows if r["student"] == "good")
    assert (good["test_double"], good["test_normalize"], good["total"], good["max"]) == ("1", "2", "3", "3")
    bad = next(r for r in rows if r["student"] == "bad_json")
    assert bad["status"] == "invalid" and bad["total"] == "0" and bad["max"] == "3"
    page = (out / "feedback" / "wrong_sign.html").read_text()
    assert "expected 4, got -4" in page
    assert "BEGIN HIDDEN" not in page and "double(-7)\", double(-7)" not in page, "hidden test source leaked"
    summary = (out / "summary.txt").read_text()
    assert f"{len(results)} notebooks" in summary and "tests failed most often" in summary


def test_regrade_is_deterministic_and_resumes(graded):
    results, out, root = graded
    before = (out / "grades.csv").read_text()
    first = out / "results" / "good" / f"{CHAPTER}.ipynb.json"
    first.unlink()  # as if the run had been interrupted before this one
    again = grade_class([root / "submissions" / "good", root / "submissions" / "wrong_sign"], root / "solutions",
                        out, jobs=1, limits=Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072))
    assert first.exists()
    assert [(r.student, r.total) for r in again] == [("good", 3.0), ("wrong_sign", 2.0)]
    rows_now = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    rows_before = {r["student"]: r for r in csv.DictReader(before.splitlines())}
    assert rows_now["good"] == rows_before["good"]


def test_course_check_for_students(tmp_path, capsys):
    path = tmp_path / f"{CHAPTER}.ipynb"
    path.write_text(notebook_text(answered(GOOD_DOUBLE)))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "✓ test_double (1 points)" in out and "· test_normalize: not answered yet" in out
    path.write_text(notebook_text(answered(GOOD_DOUBLE, GOOD_NORM)))
    assert main(["check", str(path)]) == 0
