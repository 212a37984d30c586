"""What ``course grade`` writes: grades.csv, one feedback page per student, and a class summary.

Feedback shows each test's result, its message and numeric diff, never a hidden test's source.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from pathlib import Path

from course_lib.grading.cache import write_atomic
from course_lib.grading.results import Result

TestCells = dict[str, list[tuple[str, float]]]  # chapter -> [(grade_id, points)] of its test cells


def write_reports(results: list[Result], tests: TestCells, out: Path, warning: str = "") -> str:
    """Write grades.csv, feedback/<student>.html and summary.txt under ``out``; return the summary.

    ``warning`` (e.g. that no sandbox was used) heads every report.
    """
    write_atomic(out / "grades.csv", grades_csv(results, tests, warning))
    for student in sorted({r.student for r in results}):
        mine = [r for r in results if r.student == student]
        write_atomic(out / "feedback" / f"{student}.html", feedback_html(student, mine, warning))
    text = summary(results, warning)
    write_atomic(out / "summary.txt", text)
    return text


def grades_csv(results: list[Result], tests: TestCells, warning: str = "") -> str:
    test_ids = [gid for name in sorted(tests) for gid, _ in tests[name]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if warning:
        buffer.write(f"# WARNING: {warning}\n")
    writer.writerow(["student", "notebook", "chapter", *test_ids, "total", "max", "status", "message"])
    for r in results:
        points = {t.grade_id: _num(t.points) for t in r.tests}
        message = "; ".join(filter(None, [r.message, *r.diagnostics]))
        max_points = sum(p for _, p in tests[r.chapter]) if r.chapter in tests else 0
        writer.writerow([r.student, r.notebook, r.chapter or "", *[points.get(g, "") for g in test_ids],
                         _num(r.total), _num(max_points), r.status, message])
    return buffer.getvalue()


def feedback_html(student: str, results: list[Result], warning: str = "") -> str:
    parts = [f"<!doctype html><meta charset='utf-8'><title>Feedback for {html.escape(student)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.3em .6em;"
             "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}.passed{color:#1a7f37}"
             ".failed,.error,.timeout,.crashed,.skipped{color:#b3261e}</style>",
             f"<h1>Feedback for {html.escape(student)}</h1>"]
    if warning:
        parts.append(f"<p class='error'><b>Warning</b>: {html.escape(warning)}</p>")
    for r in results:
        parts.append(f"<h2>{html.escape(r.notebook)}: {_num(r.total)} / {_num(r.max_points)} points</h2>")
        if r.status != "ok":
            parts.append(f"<p class='error'><b>{html.escape(r.status)}</b>: {html.escape(r.message)}</p>")
        for note in r.diagnostics:
            parts.append(f"<p>Note: {html.escape(note)}</p>")
        if r.tests:
            parts.append("<table><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>")
            for t in r.tests:
                parts.append(f"<tr><td>{html.escape(t.grade_id)}</td><td>{_num(t.points)} / {_num(t.max_points)}</td>"
                             f"<td class='{t.status}'>{t.status}</td><td>{html.escape(t.message)}</td></tr>")
            parts.append("</table>")
    return "\n".join(parts) + "\n"


def summary(results: list[Result], warning: str = "") -> str:
    lines = [f"WARNING: {warning}"] if warning else []
    lines.append(f"{len(results)} notebooks from {len({r.student for r in results})} students")
    graded = [r for r in results if r.status in ("ok", "flagged")]
    if graded:
        mean = sum(r.total for r in graded) / len(graded)
        lines.append(f"mean score {mean:.2f} (of {sum(r.max_points for r in graded) / len(graded):.2f})")
    problems = Counter(str(r.status) for r in results if r.status != "ok")
    lines += [f"{count} notebook(s) {status}" for status, count in sorted(problems.items())]
    failed = Counter(t.grade_id for r in graded for t in r.tests if t.status != "passed")
    if failed:
        lines.append("tests failed most often: " + ", ".join(f"{gid} ({n})" for gid, n in failed.most_common(5)))
    return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    return f"{x:g}"
