"""Written answers: graded by a person, from the review page to the scores in grades.csv."""

import csv
import html
import shutil

import pytest

from course_lib.cli import main
from course_lib.grading.build import notebook_text
from course_lib.grading.grade import grade_class
from course_lib.grading.runner import Limits
from demo_chapter import (CHAPTER, GOOD_DOUBLE, GOOD_NORM, WRITTEN_ID, WRITTEN_QUESTION, WRITTEN_RUBRIC, answered,
                          sandbox, solution)

ANSWERS = {
    "ada": "The caller's `v` would change: a side effect. <script>alert('x')</script>",
    "bob": "Because it is faster.",
    "cyd": None,  # left as YOUR ANSWER HERE
}


def _with_answer(text):
    def fill(nb):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID)
        cell.source = text
    return fill


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("written")
    (root / "solutions").mkdir()
    (root / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    for student, text in ANSWERS.items():
        nb = answered(GOOD_DOUBLE, GOOD_NORM, extra=_with_answer(text) if text else None)
        (root / "class" / student).mkdir(parents=True)
        (root / "class" / student / f"{CHAPTER}.ipynb").write_text(notebook_text(nb))
    out = root / "out"
    results = grade_class([root / "class"], root / "solutions", out, jobs=2, limits=Limits(cell_seconds=30),
                          sandbox=sandbox())
    return {r.student: r for r in results}, out, root


def rows(path):
    return list(csv.DictReader(path.open()))


def test_written_answers_earn_nothing_automatically_and_wait_for_review(graded):
    results, out, _ = graded
    for student, text in ANSWERS.items():
        written = next(t for t in results[student].tests if t.grade_id == WRITTEN_ID)
        assert (written.points, written.max_points) == (0, 3)
        assert written.status == ("needs review" if text else "failed")
        assert results[student].status == "ok" and results[student].total == 3
    sheet = {r["student"]: r for r in rows(out / "chapters" / f"{CHAPTER}.csv")}
    assert sheet["ada"][WRITTEN_ID] == "0" and sheet["ada"]["max"] == "6"


def test_one_review_page_per_question_shows_every_answer_escaped(graded):
    _, out, _ = graded
    page = (out / "review" / CHAPTER / f"{WRITTEN_ID}.html").read_text()
    assert "Why must `normalize` return a new array" in page and WRITTEN_QUESTION.startswith("**Question")
    assert all(html.escape(line) in page for line in WRITTEN_RUBRIC)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page and "<script>" not in page
    assert "Because it is faster." in page
    assert page.index("ada") < page.index("bob") < page.index("cyd")
    assert "not answered" in page.split("cyd")[1]
    assert "The caller still holds" not in page, "the model answer is not shown beside the students'"


def test_the_scores_template_lists_every_answer_to_score(graded):
    _, out, _ = graded
    template = rows(out / "written_scores.csv")
    assert [(r["student"], r["chapter"], r["grade_id"], r["points"], r["score"], r["comment"]) for r in template] == [
        ("ada", CHAPTER, WRITTEN_ID, "3", "", ""), ("bob", CHAPTER, WRITTEN_ID, "3", "", "")]


def _scores(path, *lines):
    path.write_text("student,chapter,grade_id,score,comment\n" + "".join(f"{line}\n" for line in lines))
    return path


@pytest.mark.parametrize("lines, message", [
    ([f"ada,{CHAPTER},{WRITTEN_ID},4,"], "score 4 for 'written_why_copy' of 'ada': expected 0 to 3"),
    ([f"ada,{CHAPTER},{WRITTEN_ID},-1,"], "expected 0 to 3"),
    ([f"ada,{CHAPTER},written_nothing,1,"], "no written answer 'written_nothing' of 'ada'"),
    ([f"zed,{CHAPTER},{WRITTEN_ID},1,"], "no written answer 'written_why_copy' of 'zed'"),
    ([f"cyd,{CHAPTER},{WRITTEN_ID},1,"], "an unanswered question"),
    ([f"ada,{CHAPTER},{WRITTEN_ID},two,"], "expected a number of points, got 'two'"),
    ([f"ada,{CHAPTER},{WRITTEN_ID},1,", f"ada,{CHAPTER},{WRITTEN_ID},2,"], "a second score"),
])
def test_a_bad_scores_file_is_refused_and_changes_nothing(graded, tmp_path, capsys, lines, message):
    _, out, _ = graded
    before = (out / "grades.csv").read_text()
    assert main(["grade", "merge-scores", str(out), str(_scores(tmp_path / "scores.csv", *lines))]) == 2
    assert message in capsys.readouterr().err
    assert (out / "grades.csv").read_text() == before


def test_missing_columns_are_named(graded, tmp_path, capsys):
    _, out, _ = graded
    (tmp_path / "scores.csv").write_text(f"student,grade_id,score\nada,{WRITTEN_ID},1\n")
    assert main(["grade", "merge-scores", str(out), str(tmp_path / "scores.csv")]) == 2
    assert "missing chapter, comment" in capsys.readouterr().err


def test_merged_scores_reach_every_report_and_survive_a_regrade(graded, tmp_path):
    _, out_graded, root = graded
    out = tmp_path / "out"
    shutil.copytree(out_graded, out)  # the other tests keep the class unscored
    scores = _scores(tmp_path / "scores.csv", f"ada,{CHAPTER},{WRITTEN_ID},2.5,\"names the side effect, not purity\"",
                     f"bob,{CHAPTER},{WRITTEN_ID},0,no reason given", f"bob,{CHAPTER},{WRITTEN_ID},,")
    assert main(["grade", "merge-scores", str(out), str(scores)]) == 0
    grades = {r["student"]: r for r in rows(out / "grades.csv")}
    assert (grades["ada"]["total"], grades["bob"]["total"], grades["cyd"]["total"]) == ("5.5", "3", "3")
    sheet = {r["student"]: r for r in rows(out / "chapters" / f"{CHAPTER}.csv")}
    assert (sheet["ada"][WRITTEN_ID], sheet["ada"]["total"]) == ("2.5", "5.5")
    assert {r["student"]: r[CHAPTER] for r in rows(out / "overview.csv")}["ada"] == "5.5"
    assert "5.5" in (out / "canvas.csv").read_text() and "5.5" in (out / "moodle.csv").read_text()
    feedback = (out / "feedback" / "ada.html").read_text()
    assert "names the side effect, not purity" in feedback and "reviewed" in feedback
    again = grade_class([root / "class"], root / "solutions", out, jobs=2, limits=Limits(cell_seconds=30),
                        sandbox=sandbox())
    assert {r.student: r.total for r in again} == {"ada": 5.5, "bob": 3, "cyd": 3}

