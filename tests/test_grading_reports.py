"""The reports of a class with two chapters of different maxima, built from results made here."""

import csv
import io

import pytest

from course_lib.grading.report import write_reports
from course_lib.grading.results import Result
from course_lib.grading.results import TestResult as Scored
from course_lib.grading.status import Status

TESTS = {"01_small": [("t_a", 1.0), ("t_b", 1.0)], "02_big": [("t_c", 5.0), ("t_d", 5.0)]}


def graded(student, chapter, points, status=Status.OK, run=Status.OK, run_message=""):
    tests = [Scored(gid, p, top, Status.PASSED if p == top else Status.FAILED)
             for (gid, top), p in zip(TESTS[chapter], points)]
    return Result(student, f"{chapter}.ipynb", chapter, status, "", tests, [], "", run, run_message)


RESULTS = [
    graded("ada", "01_small", [1, 1]),
    graded("ada", "02_big", [5, 0], run=Status.TIMEOUT, run_message="timed out after 60 s in answer 'fit' (code cell 4)"),
    graded("bob", "01_small", [1, 0]),
    Result("bob", "02_big.ipynb", "02_big", Status.INVALID, "not a readable JSON notebook"),
    graded("cy", "02_big", [5, 5]),
]


@pytest.fixture
def out(tmp_path):
    write_reports(RESULTS, TESTS, tmp_path)
    return tmp_path


def rows(path):
    return list(csv.reader(io.StringIO(path.read_text(), newline="")))


def test_one_sheet_per_chapter_with_only_its_tests(out):
    small, big = rows(out / "chapters" / "01_small.csv"), rows(out / "chapters" / "02_big.csv")
    assert small[0][:5] == ["student", "notebook", "t_a", "t_b", "total"]
    assert big[0][:5] == ["student", "notebook", "t_c", "t_d", "total"]
    assert [r[0] for r in small[1:]] == ["ada", "bob"] and [r[0] for r in big[1:]] == ["ada", "bob", "cy"]
    assert big[1][2:5] == ["5", "0", "5"] and big[2][2:4] == ["", ""]


def test_overview_has_a_column_per_chapter_and_lists_missing_notebooks(out):
    table = {r["student"]: r for r in csv.DictReader((out / "overview.csv").open())}
    assert list(table["ada"]) == ["student", "01_small", "02_big", "total", "max", "missing", "problems"]
    assert (table["ada"]["01_small"], table["ada"]["02_big"], table["ada"]["total"], table["ada"]["max"]) == \
        ("2", "5", "7", "12")
    assert (table["bob"]["02_big"], table["cy"]["01_small"]) == ("0", "")  # handed in but unreadable; missing
    assert (table["ada"]["missing"], table["bob"]["missing"], table["cy"]["missing"]) == ("", "", "01_small")
    assert "02_big.ipynb: timed out after 60 s in answer 'fit' (code cell 4)" in table["ada"]["problems"]
    assert "02_big.ipynb: invalid: not a readable JSON notebook" in table["bob"]["problems"]
    assert "Missing</b>: no notebook for 01_small" in (out / "feedback" / "cy.html").read_text()


def test_summary_gives_each_chapter_its_own_maximum(out):
    text = (out / "summary.txt").read_text()
    assert text.splitlines()[0] == "5 notebooks from 3 students"
    assert "01_small: 2 graded, mean score 1.50 of 2 (75%), 1 student(s) missing it" in text
    assert "02_big: 2 graded, mean score 7.50 of 10 (75%)" in text
    assert "1 notebook(s) invalid" in text and "1 run(s) timeout" in text


def test_grades_csv_keeps_the_run_apart_from_the_tests(out):
    table = {(r["student"], r["chapter"]): r for r in csv.DictReader((out / "grades.csv").open())}
    ada = table[("ada", "02_big")]
    assert (ada["total"], ada["max"], ada["status"], ada["message"]) == ("5", "10", "ok", "")
    assert (ada["run"], ada["run_message"]) == ("timeout", "timed out after 60 s in answer 'fit' (code cell 4)")


def test_canvas_import_format(out):
    """Canvas's gradebook CSV: its five identity columns, an assignment per column, Points Possible second."""
    text = (out / "canvas.csv").read_bytes().decode()
    table = rows(out / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_small", "02_big"]
    assert table[1] == ["Points Possible", "", "", "", "", "2", "10"]
    assert table[2:] == [["ada", "", "", "ada", "", "2", "5"], ["bob", "", "", "bob", "", "1", "0"],
                         ["cy", "", "", "cy", "", "", "10"]]
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")


def test_moodle_import_format(out):
    """Moodle's grade import CSV: a user-identifying column (username), then one column per grade item."""
    table = rows(out / "moodle.csv")
    assert table == [["username", "01_small", "02_big"], ["ada", "2", "5"], ["bob", "1", "0"], ["cy", "", "10"]]
