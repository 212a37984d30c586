"""Written answers: collected by ``course grade`` for a person to read, scored back from a CSV.

A written question (``markers``: a markdown answer cell with ``grade: true, solution: true``)
earns no automatic points. ``course grade`` gives it status "needs review" (or "failed" when
left as ``YOUR ANSWER HERE``) and writes, beside grades.csv:

    review/NN_topic/written_NAME.html   the question, the rubric and every student's answer, side by side
    written_scores.csv                  a row per answer to fill in: student, chapter, grade_id, points,
                                        score, comment

``course grade merge-scores OUT scores.csv`` checks every row (a known answer, a score between 0
and its points) before it changes anything, then puts the scores into grades.csv, the chapter
sheets, the feedback and the LMS exports. The scores are kept in ``OUT/written/scores.csv``, so
grading the class again keeps them.
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from course_lib.grading.cache import output_key, read_signed, write_atomic, write_signed
from course_lib.grading.lms import points_text
from course_lib.grading.markers import WRITTEN_STUB, cell_kind
from course_lib.grading.results import Result, TestResult
from course_lib.grading.status import Status

TEMPLATE = "written_scores.csv"
KEPT = Path("written") / "scores.csv"  # the scores merged so far, under the output folder
RUN = Path("written") / "run.json"  # what merge-scores needs to write the reports again (signed)
COLUMNS = ("student", "chapter", "grade_id", "score", "comment")
VERSION = 1


@dataclass(frozen=True)
class Question:
    """A written question of a source notebook."""

    grade_id: str
    points: float
    question: str  # the markdown cell before the answer cell
    rubric: tuple[str, ...]
    cell_id: str | None


def questions(source: nbformat.NotebookNode) -> list[Question]:
    """The written questions of a solution notebook, in order."""
    found = []
    for index, cell in enumerate(source.cells):
        if cell_kind(cell) == "written":
            meta = cell.metadata["nbgrader"]
            before = source.cells[index - 1].source if index and source.cells[index - 1].cell_type == "markdown" else ""
            rubric = tuple(cell.metadata.get("course", {}).get("rubric", []))
            found.append(Question(meta["grade_id"], float(meta["points"]), before, rubric, cell.get("id")))
    return found


def student_answer(question: Question, student: nbformat.NotebookNode) -> str:
    """The student's text for ``question``: their cell with its grade_id, else with its cell id ("" if none)."""
    cells = [c for c in student.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == question.grade_id]
    cells = cells or [c for c in student.cells if question.cell_id and c.get("id") == question.cell_id]
    return cells[0].source if cells and isinstance(cells[0].get("source"), str) else ""


def answered(text: str) -> bool:
    return bool(text.strip()) and text.strip() != WRITTEN_STUB


def pending(question: Question, text: str) -> TestResult:
    """The result of a written answer before a person scores it: 0 points, needs review (or failed, if blank)."""
    if not answered(text):
        return TestResult(question.grade_id, 0.0, question.points, Status.FAILED, "not answered yet")
    return TestResult(question.grade_id, 0.0, question.points, Status.NEEDS_REVIEW,
                      "a written answer: graded by a person")


# ---------------------------------------------------------------------------
# What a person reads and fills in
# ---------------------------------------------------------------------------

def write_review(results: list[Result], sources: dict[str, nbformat.NotebookNode], out: Path) -> None:
    """One review page per written question, and the scores template, under ``out``."""
    rows = []
    for chapter, source in sorted(sources.items()):
        graded = [r for r in results if r.chapter == chapter and r.status in (Status.OK, Status.FLAGGED)]
        for question in questions(source):
            answers = [(r.student, r.answers.get(question.grade_id, "")) for r in graded]
            if not answers:
                continue
            write_atomic(out / "review" / chapter / f"{question.grade_id}.html", review_html(chapter, question, answers))
            rows += [(student, chapter, question.grade_id, question.points) for student, text in answers if answered(text)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "chapter", "grade_id", "points", "score", "comment"])
    for student, chapter, grade_id, points in rows:
        writer.writerow([student, chapter, grade_id, points_text(points), "", ""])
    write_atomic(out / TEMPLATE, buffer.getvalue())


def review_html(chapter: str, question: Question, answers: list[tuple[str, str]]) -> str:
    """The question, its rubric, and every student's answer side by side (all text escaped)."""
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(chapter)}: {e(question.grade_id)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}.answers{display:grid;"
             "grid-template-columns:repeat(auto-fill,minmax(22em,1fr));gap:1em}.answer{border:1px solid #ccc;"
             "padding:.6em}.answer pre{white-space:pre-wrap;font-family:inherit}.blank{color:#888}</style>",
             f"<h1>{e(chapter)} · {e(question.grade_id)} ({points_text(question.points)} points)</h1>",
             f"<h2>Question</h2><pre>{e(question.question)}</pre>",
             "<h2>Rubric</h2><ul>", *[f"<li>{e(line)}</li>" for line in question.rubric], "</ul>",
             f"<h2>Answers ({len(answers)})</h2><div class='answers'>"]
    for student, text in answers:
        body = f"<pre>{e(text)}</pre>" if answered(text) else "<p class='blank'>not answered</p>"
        parts.append(f"<div class='answer'><h3>{e(student)}</h3>{body}</div>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------
# Scores back from the CSV
# ---------------------------------------------------------------------------

Scores = dict[tuple[str, str, str], tuple[float, str]]  # (student, chapter, grade_id) -> (score, comment)


def read_scores(text: str, results: list[Result], where: str = "scores") -> Scores:
    """Parse a scores CSV, checking each row against the graded answers; ValueError names the row.

    Rows with an empty score are skipped (not scored yet).
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{where}: expected columns {', '.join(COLUMNS)}; missing {', '.join(missing)}")
    known = {(r.student, r.chapter, t.grade_id): t.max_points for r in results if r.status in (Status.OK, Status.FLAGGED)
             for t in r.tests if t.status in (Status.NEEDS_REVIEW, Status.REVIEWED)}
    scores: Scores = {}
    for line, row in enumerate(reader, start=2):
        key = (row["student"] or "", row["chapter"] or "", row["grade_id"] or "")
        text = (row["score"] or "").strip()
        if not text:
            continue
        if key not in known:
            raise ValueError(f"{where}, line {line}: no written answer {key[2]!r} of {key[0]!r} in {key[1]!r} "
                             "needs a score (unknown student, chapter or grade_id, or an unanswered question)")
        try:
            score = float(text)
        except ValueError:
            raise ValueError(f"{where}, line {line}: expected a number of points, got {text!r}") from None
        if not (math.isfinite(score) and 0 <= score <= known[key]):
            raise ValueError(f"{where}, line {line}: score {text} for {key[2]!r} of {key[0]!r}: expected 0 to "
                             f"{points_text(known[key])} (its points)")
        if key in scores:
            raise ValueError(f"{where}, line {line}: a second score for {key[2]!r} of {key[0]!r}")
        scores[key] = (score, row["comment"] or "")
    return scores


def apply_scores(results: list[Result], scores: Scores) -> None:
    """Put each score and comment into its written answer's result."""
    for r in results:
        for t in r.tests:
            if (r.student, r.chapter, t.grade_id) in scores:
                t.points, comment = scores[(r.student, r.chapter, t.grade_id)]
                t.status, t.message = Status.REVIEWED, comment or "scored by a person"


def save_run(out: Path, results: list[Result], tests: dict, warning: str) -> None:
    """Keep what ``merge_scores`` needs to write the reports again, signed with the folder's key."""
    write_signed(out / RUN, output_key(out), {"version": VERSION, "tests": tests, "warning": warning,
                                              "results": [asdict(r) for r in results]})


def kept_scores(out: Path, results: list[Result]) -> Scores:
    """The scores merged into ``out`` before (none if never); applied again when a class is re-graded."""
    path = out / KEPT
    if not path.is_file():
        return {}
    try:
        return read_scores(path.read_text(encoding="utf-8"), results, str(path))
    except ValueError as error:  # the class changed since: say so rather than drop a person's scores
        raise RuntimeError(f"{error}; correct {path} (or delete it to start the scores afresh)") from None


def merge_scores(out: Path, scores_csv: Path) -> list[Result]:
    """``course grade merge-scores``: check every row of ``scores_csv``, then rewrite the reports of ``out``."""
    from course_lib.grading.report import write_reports

    out = Path(out)
    data = read_signed(out / RUN, output_key(out)) if (out / ".grader-key").is_file() else None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"{out}: expected the output folder of `course grade` (a signed {RUN}), found none")
    results = [Result.from_dict(r) for r in data["results"]]
    try:
        text = Path(scores_csv).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{scores_csv}: cannot read it ({error})") from None
    scores = {**kept_scores(out, results), **read_scores(text, results, str(scores_csv))}
    apply_scores(results, scores)
    tests = {name: [(gid, points) for gid, points in cells] for name, cells in data["tests"].items()}
    write_reports(results, tests, out, data["warning"])
    write_atomic(out / KEPT, scores_csv_text(scores))
    return results


def scores_csv_text(scores: Scores) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for (student, chapter, grade_id), (score, comment) in sorted(scores.items()):
        writer.writerow([student, chapter, grade_id, points_text(score), comment])
    return buffer.getvalue()
