"""The class overview in the CSV formats two learning-management systems import as they are.

A student is known here by the name of their folder; hand-ins downloaded from an LMS are named
by login, so the folder name is written where each LMS matches students by login.

Canvas (Gradebook > Import), following its documented gradebook CSV, the same layout as its
own export: the columns ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
assignment; a second row ``Points Possible`` gives each assignment's maximum. Canvas matches a row
to a student by ``ID``, ``SIS User ID`` or ``SIS Login ID`` (here: the login), and creates an
assignment for a column it does not know. A blank cell leaves a grade as it is, so a missing
notebook is left blank for the instructor to decide.

Moodle (Grades > Import > CSV file): a header row, one row per student; on import one column is
chosen to identify the user (here ``username``, "Map to: username") and each other column is
mapped to a grade item. Blank cells are not imported.
"""

from __future__ import annotations

import csv
import io

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
Scores = dict[str, dict[str, float | None]]  # student -> chapter -> points (None: nothing handed in)


def canvas_csv(scores: Scores, maxima: dict[str, float]) -> str:
    """Canvas's gradebook CSV: a row per student, a column per chapter, the Points Possible row second."""
    chapters = sorted(maxima)
    rows = [CANVAS_COLUMNS + chapters, ["Points Possible", "", "", "", "", *[points_text(maxima[c]) for c in chapters]]]
    rows += [[student, "", "", student, "", *_cells(scores[student], chapters)] for student in sorted(scores)]
    return _csv(rows)


def moodle_csv(scores: Scores, maxima: dict[str, float]) -> str:
    """Moodle's grade import CSV: ``username`` to identify each student, then one column per grade item."""
    chapters = sorted(maxima)
    rows = [["username", *chapters]]
    rows += [[student, *_cells(scores[student], chapters)] for student in sorted(scores)]
    return _csv(rows)


def _cells(mine: dict[str, float | None], chapters: list[str]) -> list[str]:
    return ["" if mine[c] is None else points_text(mine[c]) for c in chapters]


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # RFC 4180 line ends, as both export
    return buffer.getvalue()


def points_text(x: float) -> str:
    """Points as every report writes them: 3, 2.5, 0.125 (no trailing zeros)."""
    return f"{x:g}"
