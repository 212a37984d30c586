"""``course build``: write the student notebooks in exercises/ from the solved ones in solutions/.

For each ``solutions/NN_topic.ipynb``:

- answer cells: each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block becomes
  ``raise NotImplementedError(hint)``;
- test cells: ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` blocks are dropped, the
  visible self-checks stay;
- written answers (markdown cells graded by a person): the model answer becomes
  ``YOUR ANSWER HERE`` and the rubric leaves the metadata, as nbgrader's release step does;
- every output and execution count is cleared; cell ids and metadata are kept, so the grader
  can match a student's cells to the source;
- the notebook's kernelspec is the course's (``cells.KERNELSPEC``), so JupyterLab opens the
  exercise without marking it modified.

Every notebook is checked before anything is written: one malformed solution stops the build
with its file and cell named, and exercises/ is left as it was.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading.cells import KERNELSPEC
from course_lib.grading.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    WRITTEN_STUB,
    MarkerError,
    cell_kind,
    check_written,
    has_marker,
    strip_hidden_tests,
    strip_solution,
)


class BuildError(ValueError):
    """A solution notebook that cannot be turned into an exercise; the message names file and cell."""


@dataclass(frozen=True)
class Exercise:
    """The text of one exercise notebook and where it goes."""

    source: Path
    target: Path
    text: str


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, turning bad JSON or a non-notebook into a BuildError that names the file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is allowed, and dropped
        data = json.loads(text)
    except RecursionError:
        raise BuildError(f"{path}: not a readable JSON notebook (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BuildError(f"{path}: not a readable JSON notebook ({error})") from None
    if not isinstance(data, dict) or "cells" not in data:
        raise BuildError(f"{path}: valid JSON but not a Jupyter notebook (no 'cells' list)")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        raise BuildError(f"{path}: not a valid notebook ({str(error).splitlines()[0]})") from None
    return nb


def make_exercise(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Return the student version of a solved notebook (the input is not modified)."""
    out = copy.deepcopy(nb)
    seen_ids: dict[str, int] = {}
    for index, cell in enumerate(out.cells):
        where = f"cell {index} (id {cell.get('id', '?')})"
        try:
            _transform_cell(cell)
        except MarkerError as error:
            raise BuildError(f"{where}: {error}") from None
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            if grade_id in seen_ids:
                raise BuildError(f"{where}: grade_id {grade_id!r} is already used by cell {seen_ids[grade_id]}")
            seen_ids[grade_id] = index
    out.metadata["course"] = {"chapter": name}
    out.metadata["kernelspec"] = dict(KERNELSPEC)
    return out


def _transform_cell(cell: nbformat.NotebookNode) -> None:
    kind = cell_kind(cell)
    meta = cell.metadata.get("nbgrader", {})
    if kind != "plain" and not meta.get("grade_id"):
        raise MarkerError(f"{kind} cell has no nbgrader grade_id")
    if kind == "test" and not isinstance(meta.get("points"), (int, float)):
        raise MarkerError("test cell has no numeric nbgrader 'points'")
    if kind != "answer" and has_marker(cell.source, BEGIN_SOLUTION, END_SOLUTION):
        raise MarkerError(f"'{BEGIN_SOLUTION}' in a cell whose nbgrader metadata does not mark it solution: true")
    if kind != "test" and has_marker(cell.source, BEGIN_HIDDEN, END_HIDDEN):
        raise MarkerError(f"'{BEGIN_HIDDEN}' in a cell whose nbgrader metadata does not mark it grade: true")
    if kind == "answer":
        if cell.cell_type != "code":
            raise MarkerError("only code cells can be answer cells")
        cell.source = strip_solution(cell.source)
    elif kind == "test":
        cell.source = strip_hidden_tests(cell.source)
    elif kind == "written":
        check_written(cell)
        cell.source = WRITTEN_STUB
        _drop_rubric(cell.metadata)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def _drop_rubric(metadata: dict) -> None:
    """Remove ``course.rubric`` (and ``course`` when nothing else is left in it): students see no rubric."""
    course = metadata.get("course")
    if isinstance(course, dict):
        course.pop("rubric", None)
        if not course:
            del metadata["course"]


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Serialize exactly as Jupyter does (indent 1, sorted keys), with a final newline."""
    return nbformat.writes(nb, version=4) + "\n"


def plan_build(solutions: Path, exercises: Path) -> list[Exercise]:
    """Build every exercise in memory; raise BuildError naming file and cell on the first problem."""
    sources = sorted(Path(solutions).glob("*.ipynb"))
    if not sources:
        raise BuildError(f"{solutions}: no solution notebooks (*.ipynb) found")
    plan = []
    for source in sources:
        try:
            exercise = make_exercise(read_notebook(source), source.stem)
        except BuildError as error:
            message = str(error)
            raise BuildError(message if message.startswith(str(source)) else f"{source}: {message}") from None
        plan.append(Exercise(source, Path(exercises) / source.name, notebook_text(exercise)))
    return plan


def build(solutions: Path, exercises: Path) -> list[Path]:
    """Write every exercise notebook (atomically, only after all were built); return the paths written."""
    plan = plan_build(solutions, exercises)
    Path(exercises).mkdir(parents=True, exist_ok=True)
    for item in plan:
        _write_atomic(item.target, item.text)
    return [item.target for item in plan]


def stale(solutions: Path, exercises: Path) -> list[str]:
    """Describe every exercise notebook that differs from what ``build`` would write now."""
    plan = plan_build(solutions, exercises)
    problems = []
    for item in plan:
        if not item.target.exists():
            problems.append(f"{item.target}: missing")
        elif item.target.read_text(encoding="utf-8") != item.text:
            problems.append(f"{item.target}: out of date with {item.source}")
    expected = {item.target.name for item in plan}
    for orphan in sorted(Path(exercises).glob("*.ipynb")):
        if orphan.name not in expected:
            problems.append(f"{orphan}: has no source in {solutions}")
    return problems


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
