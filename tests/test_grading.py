"""`course grade` on a small chapter made here: good, buggy, broken and tampered submissions."""

import csv
import html
from pathlib import Path

import pytest

from course_lib.cli import main
from course_lib.grading import cells
from course_lib.grading.build import notebook_text
from course_lib.grading.grade import grade_class
from course_lib.grading.runner import Limits
from demo_chapter import (CHAPTER, EXPECTED, FLAGGED, GOOD_DOUBLE, GOOD_NORM, answered, bwrap_works, sandbox,
                          write_class)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    classroom = write_class(root)
    (classroom / "bad_json").mkdir()
    (classroom / "bad_json" / f"{CHAPTER}.ipynb").write_text('{"cells": [')
    (classroom / "not_a_notebook").mkdir()
    (classroom / "not_a_notebook" / f"{CHAPTER}.ipynb").write_text('{"hello": 1}')
    (classroom / "unknown_chapter").mkdir()
    (classroom / "unknown_chapter" / "homework.ipynb").write_text(notebook_text(cells.notebook([cells.code("1")])))
    out = root / "out"
    results = grade_class([classroom], root / "solutions", out, jobs=2, limits=Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072), sandbox=sandbox())
    return {r.student: r for r in results}, out, root


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_earns_exactly_what_its_surviving_tests_earn(graded, student):
    result = graded[0][student]
    points = tuple(int(t.points) for t in result.tests)
    assert result.status == ("flagged" if student in FLAGGED else "ok"), (result.message, result.diagnostics)
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
    ("wrong_sign", "failed", "✗ double(2): expected 4, got -4"),  # as the notebook shows it
    ("syntax_error", "error", "SyntaxError"),
    ("renamed_function", "error", "NameError: name 'double' is not defined"),
])
def test_messages_say_what_happened(graded, student, status, words):
    test = graded[0][student].tests[0]
    assert test.status == status and words in test.message, (test.status, test.message)


@pytest.mark.parametrize("student, run, words", [
    ("good", "ok", ""),
    ("infinite_loop", "timeout", "timed out after 5 s in answer 'double' (code cell 2)"),
    ("os_exit", "crashed", "process exited with code 1 (os._exit or a crash) in answer 'double' (code cell 2)"),
    ("huge_allocation", "out-of-memory", "out of memory in answer 'double' (code cell 2) (MemoryError)"),
])
def test_the_notebook_says_what_happened_to_its_run_apart_from_its_tests(graded, student, run, words):
    results, out, _ = graded
    result = results[student]
    assert (result.run, result.run_message) == (run, words)
    row = next(r for r in csv.DictReader((out / "grades.csv").open()) if r["student"] == student)
    assert (row["run"], row["run_message"]) == (run, words)
    assert html.escape(words) in (out / "feedback" / f"{student}.html").read_text()


def test_repairs_are_reported(graded):
    notes = {s: " ".join(graded[0][s].diagnostics) for s in graded[0]}
    assert "'test_normalize' was edited; the original was restored" in notes["edited_tests"]
    assert "'test_normalize' was missing" in notes["deleted_tests"]
    assert "answer cell 'normalize' is missing" in notes["missing_answer"]
    assert "matched by cell id" in notes["lost_metadata"]
    assert "appears 2 times; the first is graded" in notes["duplicated_answer"]
    assert "for review: answer 'double': calls .glob() on a path or file (line 2)" in notes["reads_solutions"]
    assert "answer 'double': opens a file with open() (line 1)" in notes["writes_outside"]
    if bwrap_works():  # without the sandbox (a trusted run), the write is only reported
        assert not Path("/tmp/course_grader_escape.txt").exists()


def test_csv_feedback_and_summary(graded):
    results, out, _ = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(results)
    good = next(r for r in rows if r["student"] == "good")
    assert (good["total"], good["max"], good["status"], good["run"]) == ("3", "3", "ok", "ok")
    bad = next(r for r in rows if r["student"] == "bad_json")
    assert bad["status"] == "invalid" and bad["total"] == "0" and bad["max"] == "3" and bad["run"] == ""
    sheet = {r["student"]: r for r in csv.DictReader((out / "chapters" / f"{CHAPTER}.csv").open())}
    assert (sheet["good"]["test_double"], sheet["good"]["test_normalize"], sheet["good"]["total"]) == ("1", "2", "3")
    assert len(sheet) == len(results) - 1  # every notebook but the one of no known chapter
    overview = {r["student"]: r for r in csv.DictReader((out / "overview.csv").open())}
    assert (overview["good"][CHAPTER], overview["bad_json"][CHAPTER], overview["unknown_chapter"][CHAPTER]) == \
        ("3", "0", "")
    assert overview["unknown_chapter"]["missing"] == CHAPTER and overview["good"]["missing"] == ""
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
                        out, jobs=1, limits=Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072), sandbox=sandbox())
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


def test_forbidden_shortcuts_are_reported_and_cost_their_tests(tmp_path):
    from demo_chapter import solution

    source = solution()
    source.metadata["course"] = {"forbid": ["numpy.sum"]}  # "write the sum yourself"
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(source))
    for student, norm in {"shortcut": GOOD_NORM, "by_hand": "def normalize(v):\n    return v / v.sum()"}.items():
        (tmp_path / student).mkdir()
        (tmp_path / student / f"{CHAPTER}.ipynb").write_text(notebook_text(answered(GOOD_DOUBLE, norm)))
    results = {r.student: r for r in grade_class([tmp_path / "shortcut", tmp_path / "by_hand"], tmp_path / "solutions",
                                                 tmp_path / "out", jobs=2, limits=Limits(cell_seconds=30), sandbox=sandbox())}
    assert results["by_hand"].total == 3
    shortcut = results["shortcut"]
    assert [t.points for t in shortcut.tests] == [1, 0]
    assert "uses numpy.sum, which this exercise forbids" in shortcut.tests[1].message
    assert any("numpy.sum" in d for d in shortcut.diagnostics)


def test_another_chapters_notebook_is_named_and_earns_nothing(tmp_path):
    from demo_chapter import solution

    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    other = cells.notebook([cells.code("def something_else():\n    return 1")])
    other.metadata["course"] = {"chapter": "03_backprop"}
    (tmp_path / "mixed_up").mkdir()
    (tmp_path / "mixed_up" / f"{CHAPTER}.ipynb").write_text(notebook_text(other))
    by_metadata = answered(GOOD_DOUBLE, GOOD_NORM)  # carries metadata course.chapter = 07_demo
    (tmp_path / "renamed").mkdir()
    (tmp_path / "renamed" / "my_homework.ipynb").write_text(notebook_text(by_metadata))
    results = {r.student: r for r in grade_class([tmp_path / "mixed_up", tmp_path / "renamed"], tmp_path / "solutions",
                                                 tmp_path / "out", jobs=2, limits=Limits(cell_seconds=30), sandbox=sandbox())}
    mixed = results["mixed_up"]
    assert mixed.status == "ok" and mixed.total == 0
    assert any("holds 03_backprop's exercises" in d for d in mixed.diagnostics)
    assert results["renamed"].chapter == CHAPTER and results["renamed"].total == 3
