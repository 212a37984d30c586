"""Cells with nbgrader metadata, for writing exercise notebooks from Python.

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     markdown("## 1. The gradient of the MSE"),
    ...     answer("mse_grad", "def mse_grad(X, w, y):\\n    ### BEGIN SOLUTION\\n    ..."),
    ...     test("test_mse_grad", "check_close('mse_grad', mse_grad(X, w, y), expected)", points=2),
    ...     markdown("**Question (2 points).** Why does the MSE gradient grow with the residual?"),
    ...     written("written_residual", "Because ...", points=2, rubric=["2 pts: names the residual"]),
    ... ])
"""

from __future__ import annotations

import nbformat
from nbformat.notebooknode import NotebookNode

# The kernelspec ipykernel installs as "python3". A notebook that stores another display name is
# rewritten by JupyterLab when it opens, so it shows as modified before the student types anything.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer(grade_id: str, source: str) -> NotebookNode:
    """A code cell students fill in; its source holds ``### BEGIN SOLUTION`` ... ``### END SOLUTION``."""
    return nbformat.v4.new_code_cell(source, metadata=_nbgrader(grade_id, solution=True, grade=False, locked=False))


def test(grade_id: str, source: str, points: float) -> NotebookNode:
    """A locked, graded code cell of ``course_lib.checks`` calls; hidden ones go between the hidden-test markers."""
    return nbformat.v4.new_code_cell(
        source, metadata=_nbgrader(grade_id, solution=False, grade=True, locked=True, points=points)
    )


def written(grade_id: str, model_answer: str, points: float, rubric: list[str]) -> NotebookNode:
    """A markdown answer a person grades (``grade_id`` starts with ``written_``), with its rubric.

    ``rubric`` lines start with their points ("2 pts: names X") and add up to ``points``.
    """
    metadata = _nbgrader(grade_id, solution=True, grade=True, locked=False, points=points)
    metadata["nbgrader"]["task"] = False
    metadata["course"] = {"rubric": list(rubric)}
    return nbformat.v4.new_markdown_cell(model_answer, metadata=metadata)


def markdown(source: str) -> NotebookNode:
    """A plain markdown cell (instructions, theory)."""
    return nbformat.v4.new_markdown_cell(source)


def code(source: str, tags: tuple[str, ...] = ()) -> NotebookNode:
    """A plain code cell; ``tags`` e.g. ("nbval-check-output",)."""
    metadata = {"tags": list(tags)} if tags else {}
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """A notebook with the course's python3 kernel metadata."""
    return nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
        },
    )
