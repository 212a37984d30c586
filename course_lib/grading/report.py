"""What ``course grade`` writes for the instructor, every file from the same list of results.

    grades.csv              one row per notebook: its total and maximum, its status and message
                            (what happened to the file), its run and run message (what happened to
                            its processes: a timeout, a crash, memory), apart from the test results
    chapters/NN_topic.csv   one sheet per chapter: a column per test of that chapter
    overview.csv            one row per student: a column per chapter, the chapters missing, problems
    summary.txt             the class, then each chapter with its own maximum
    feedback/STUDENT.html   one page per student: each test's result and message, never a hidden test
                            (and ``written`` adds review/ and written_scores.csv for written answers)
    canvas.csv, moodle.csv  the overview as those gradebooks import it (``lms``)

Which chapters a student should have handed in: every chapter that someone in the class handed
in. A student with no notebook for one of them has it listed as missing.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from pathlib import Path

from course_lib.grading.cache import write_atomic
from course_lib.grading.lms import canvas_csv, moodle_csv, points_text
from course_lib.grading.results import Result
from course_lib.grading.status import Status

TestCells = dict[str, list[tuple[str, float]]]  # chapter -> [(grade_id, points)] of its test cells
GRADED = (Status.OK, Status.FLAGGED)  # notebooks whose points count


def write_reports(results: list[Result], tests: TestCells, out: Path, warning: str = "") -> str:
    """Write every report (see the module docstring) under ``out``; return the summary.

    ``warning`` (e.g. that no sandbox was used) heads every report.
    """
    chapters = handed_in(results, tests)
    scores = chapter_scores(results, chapters)
    maxima = {c: maximum(tests, c) for c in chapters}
    write_atomic(out / "grades.csv", grades_csv(results, tests, warning))
    for chapter in chapters:
        write_atomic(out / "chapters" / f"{chapter}.csv", chapter_csv(chapter, results, tests, warning))
    write_atomic(out / "overview.csv", overview_csv(results, scores, maxima, warning))
    write_atomic(out / "canvas.csv", canvas_csv(scores, maxima))
    write_atomic(out / "moodle.csv", moodle_csv(scores, maxima))
    for student in sorted({r.student for r in results}):
        mine = [r for r in results if r.student == student]
        missing = [c for c in chapters if scores[student][c] is None]
        write_atomic(out / "feedback" / f"{student}.html", feedback_html(student, mine, missing, warning))
    text = summary(results, tests, scores, warning)
    write_atomic(out / "summary.txt", text)
    return text


def handed_in(results: list[Result], tests: TestCells) -> list[str]:
    """The chapters anyone in the class handed in a notebook for, sorted."""
    return sorted({r.chapter for r in results if r.chapter in tests})


def maximum(tests: TestCells, chapter: str | None) -> float:
    return sum(p for _, p in tests[chapter]) if chapter in tests else 0.0


def chapter_scores(results: list[Result], chapters: list[str]) -> dict[str, dict[str, float | None]]:
    """student -> chapter -> points: a graded notebook's total, 0 for one that could not be graded,
    None when the student handed in nothing for that chapter."""
    scores: dict[str, dict[str, float | None]] = {r.student: dict.fromkeys(chapters) for r in results}
    for r in results:
        if r.chapter in chapters:
            earned = r.total if r.status in GRADED else 0.0
            now = scores[r.student][r.chapter]
            scores[r.student][r.chapter] = earned if now is None else max(now, earned)
    return scores


def problems(r: Result) -> str:
    """One phrase for what went wrong with a notebook ("" when nothing did)."""
    parts = [f"{r.status}: {r.message}" if r.status != Status.OK else "",
             r.run_message if r.run not in (None, Status.OK) else ""]
    return "; ".join(p.rstrip(": ") for p in parts if p)


def _writer(warning: str) -> tuple[io.StringIO, csv.writer]:
    buffer = io.StringIO()
    if warning:
        buffer.write(f"# WARNING: {warning}\n")
    return buffer, csv.writer(buffer, lineterminator="\n")


def _outcome(r: Result) -> list[str]:
    return [r.status, "; ".join(filter(None, [r.message, *r.diagnostics])), r.run or "", r.run_message]


def grades_csv(results: list[Result], tests: TestCells, warning: str = "") -> str:
    """One row per notebook: its points, and apart from them what happened to the file and to its run."""
    buffer, writer = _writer(warning)
    writer.writerow(["student", "notebook", "chapter", "total", "max", "status", "message", "run", "run_message"])
    for r in results:
        writer.writerow([r.student, r.notebook, r.chapter or "", points_text(r.total), points_text(maximum(tests, r.chapter)),
                         *_outcome(r)])
    return buffer.getvalue()


def chapter_csv(chapter: str, results: list[Result], tests: TestCells, warning: str = "") -> str:
    """One chapter's sheet: a row per notebook handed in for it, a column per test."""
    test_ids = [gid for gid, _ in tests[chapter]]
    buffer, writer = _writer(warning)
    writer.writerow(["student", "notebook", *test_ids, "total", "max", "status", "message", "run", "run_message"])
    for r in results:
        if r.chapter == chapter:
            points = {t.grade_id: points_text(t.points) for t in r.tests}
            writer.writerow([r.student, r.notebook, *[points.get(g, "") for g in test_ids], points_text(r.total),
                             points_text(maximum(tests, chapter)), *_outcome(r)])
    return buffer.getvalue()


def overview_csv(results: list[Result], scores: dict, maxima: dict[str, float], warning: str = "") -> str:
    """One row per student: a column per chapter (empty when missing), the total, what is missing, what went wrong."""
    chapters = sorted(maxima)
    buffer, writer = _writer(warning)
    writer.writerow(["student", *chapters, "total", "max", "missing", "problems"])
    for student in sorted(scores):
        mine = scores[student]
        trouble = "; ".join(f"{r.notebook}: {p}" for r in results if r.student == student and (p := problems(r)))
        writer.writerow([student, *["" if mine[c] is None else points_text(mine[c]) for c in chapters],
                         points_text(sum(v for v in mine.values() if v is not None)), points_text(sum(maxima.values())),
                         " ".join(c for c in chapters if mine[c] is None), trouble])
    return buffer.getvalue()


def feedback_html(student: str, results: list[Result], missing: list[str] = (), warning: str = "") -> str:
    parts = [f"<!doctype html><meta charset='utf-8'><title>Feedback for {html.escape(student)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.3em .6em;"
             "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}.passed{color:#1a7f37}"
             ".failed,.error,.timeout,.crashed,.skipped{color:#b3261e}</style>",
             f"<h1>Feedback for {html.escape(student)}</h1>"]
    if warning:
        parts.append(f"<p class='error'><b>Warning</b>: {html.escape(warning)}</p>")
    if missing:
        parts.append(f"<p class='error'><b>Missing</b>: no notebook for {html.escape(', '.join(missing))}</p>")
    for r in results:
        parts.append(f"<h2>{html.escape(r.notebook)}: {points_text(r.total)} / {points_text(r.max_points)} points</h2>")
        if r.status != "ok":
            parts.append(f"<p class='error'><b>{html.escape(r.status)}</b>: {html.escape(r.message)}</p>")
        if r.run not in (None, Status.OK):
            parts.append(f"<p class='error'><b>{html.escape(r.run)}</b>: {html.escape(r.run_message)}</p>")
        for note in r.diagnostics:
            parts.append(f"<p>Note: {html.escape(note)}</p>")
        if r.tests:
            parts.append("<table><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>")
            for t in r.tests:
                parts.append(f"<tr><td>{html.escape(t.grade_id)}</td><td>{points_text(t.points)} / {points_text(t.max_points)}</td>"
                             f"<td class='{t.status}'>{t.status}</td><td>{html.escape(t.message)}</td></tr>")
            parts.append("</table>")
    return "\n".join(parts) + "\n"


def summary(results: list[Result], tests: TestCells, scores: dict, warning: str = "") -> str:
    """The class in a few lines: then each chapter's mean against its own maximum, and what went wrong."""
    lines = [f"WARNING: {warning}"] if warning else []
    lines.append(f"{len(results)} notebooks from {len(scores)} students")
    for chapter in handed_in(results, tests):
        graded = [r for r in results if r.chapter == chapter and r.status in GRADED]
        missing = sum(1 for s in scores.values() if s[chapter] is None)
        line = f"{chapter}: {len(graded)} graded"
        if graded:
            mean, top = sum(r.total for r in graded) / len(graded), maximum(tests, chapter)
            line += f", mean score {mean:.2f} of {points_text(top)}" + (f" ({100 * mean / top:.0f}%)" if top else "")
        lines.append(line + (f", {missing} student(s) missing it" if missing else ""))
        failed = Counter(t.grade_id for r in graded for t in r.tests
                         if t.status not in (Status.PASSED, Status.NEEDS_REVIEW, Status.REVIEWED))
        if failed:
            lines.append("  tests failed most often: " + ", ".join(f"{g} ({n})" for g, n in failed.most_common(5)))
    statuses = Counter(str(r.status) for r in results if r.status != Status.OK)
    lines += [f"{count} notebook(s) {status}" for status, count in sorted(statuses.items())]
    runs = Counter(str(r.run) for r in results if r.run not in (None, Status.OK))
    lines += [f"{count} run(s) {run}" for run, count in sorted(runs.items())]
    return "\n".join(lines) + "\n"
