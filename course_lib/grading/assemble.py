"""Rebuild the notebook to grade from a student's answers and the instructor's source.

The source (``solutions/NN_topic.ipynb``) decides the cells and their order. From the student's
notebook we take only the answer cells (matched by nbgrader ``grade_id``, then by cell id), the
plain cells they were free to edit, and code cells they added. Test cells always come from the
source, hidden tests included, so editing, deleting, copying or moving them changes nothing.
Cells kept as the instructor wrote them are "given": the trusted test process runs them too.
Every repair is reported in ``diagnostics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from course_lib.grading.markers import cell_kind, strip_hidden_tests, strip_solution


@dataclass(frozen=True)
class GradedCell:
    """A code cell to run: its source, role, and for tests the grade_id and points."""

    source: str
    role: str  # "given" | "setup" | "answer" | "test" | "student"
    grade_id: str | None = None
    points: float = 0.0


@dataclass
class Assembled:
    cells: list[GradedCell]
    diagnostics: list[str] = field(default_factory=list)


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def assemble(source: nbformat.NotebookNode, student: nbformat.NotebookNode) -> Assembled:
    """Merge ``student`` into ``source``; see the module docstring for the rules."""
    diagnostics: list[str] = []
    by_grade_id: dict[str, list[int]] = {}
    by_id: dict[str, int] = {}
    for index, cell in enumerate(student.cells):
        if _grade_id(cell):
            by_grade_id.setdefault(_grade_id(cell), []).append(index)
        if cell.get("id"):
            by_id.setdefault(cell["id"], index)
    source_ids = {c.get("id") for c in source.cells}
    source_grade_ids = {_grade_id(c) for c in source.cells if _grade_id(c)}
    used: set[int] = set()
    cells: list[GradedCell] = []

    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        kind, grade_id = cell_kind(cell), _grade_id(cell)
        if kind == "test":
            cells.append(GradedCell(cell.source, "test", grade_id, float(cell.metadata["nbgrader"]["points"])))
            mine = [student.cells[i] for i in by_grade_id.get(grade_id, [])]
            if not mine:
                diagnostics.append(f"test cell {grade_id!r} was missing; the original was restored")
            elif any(c.source not in (cell.source, strip_hidden_tests(cell.source)) for c in mine):
                diagnostics.append(f"test cell {grade_id!r} was edited; the original was restored")
            if len(mine) > 1:
                diagnostics.append(f"test cell {grade_id!r} appears {len(mine)} times; copies were dropped")
            used.update(by_grade_id.get(grade_id, []))
        elif kind == "answer":
            index = _match(grade_id, cell.get("id"), by_grade_id, by_id, used)
            if index is None:
                diagnostics.append(f"answer cell {grade_id!r} is missing; graded as unanswered")
                cells.append(GradedCell(strip_solution(cell.source), "answer", grade_id))
            else:
                if _grade_id(student.cells[index]) != grade_id:
                    diagnostics.append(f"answer cell {grade_id!r} had lost its metadata; matched by cell id")
                if len(by_grade_id.get(grade_id, [])) > 1:
                    diagnostics.append(
                        f"answer cell {grade_id!r} appears {len(by_grade_id[grade_id])} times; the first is graded"
                    )
                    used.update(by_grade_id[grade_id])
                used.add(index)
                cells.append(GradedCell(student.cells[index].source, "answer", grade_id))
            cells.extend(_added_after(student, index, source_ids, source_grade_ids, used))
        else:
            locked = cell.get("metadata", {}).get("nbgrader", {}).get("locked", False)
            index = by_id.get(cell.get("id"))
            mine = student.cells[index] if index is not None else None
            if mine is not None and not locked and mine.cell_type == "code" and mine.source != cell.source:
                used.add(index)
                cells.append(GradedCell(mine.source, "setup"))  # edited by the student: runs in the sandbox only
            else:
                if index is not None:
                    used.add(index)
                cells.append(GradedCell(cell.source, "given"))  # the instructor's: runs beside the tests too
    return Assembled(cells, diagnostics)


def _match(grade_id, cell_id, by_grade_id, by_id, used) -> int | None:
    for index in by_grade_id.get(grade_id, []):
        if index not in used:
            return index
    index = by_id.get(cell_id)
    if index is not None and index not in used and not _grade_id_elsewhere(index, by_grade_id):
        return index
    return None


def _grade_id_elsewhere(index: int, by_grade_id: dict[str, list[int]]) -> bool:
    return any(index in indices for indices in by_grade_id.values())


def _added_after(student, index, source_ids, source_grade_ids, used) -> list[GradedCell]:
    """Code cells the student added right after their answer cell (helpers, experiments)."""
    added = []
    if index is None:
        return added
    for cell in student.cells[index + 1:]:
        if cell.get("id") in source_ids or _grade_id(cell) in source_grade_ids:
            break
        if cell.cell_type == "code":
            added.append(GradedCell(cell.source, "student"))
    return added
