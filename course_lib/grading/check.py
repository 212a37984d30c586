"""``course check``: run a student's exercise notebook and say which self-checks pass.

This is feedback before submitting, not grading: it runs the visible checks in the notebook as
it stands (hidden tests are not there) in a fresh process, the same way the grader does, but
without a sandbox: it is the student's own code on the student's own machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course_lib.grading.build import read_notebook
from course_lib.grading.markers import cell_kind
from course_lib.grading.runner import run_cells
from course_lib.grading.sandbox import Limits, Sandbox


def check_notebook(path: Path, timeout: float = 120.0) -> bool:
    """Print one line per test cell; return True when all pass."""
    nb = read_notebook(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    roles = [{"plain": "given"}.get(cell_kind(c), cell_kind(c)) for c in code]
    with tempfile.TemporaryDirectory(prefix="course-check-") as workdir:
        results = run_cells([c.source for c in code], roles, Path(workdir),
                            Limits(cell_seconds=timeout, notebook_seconds=20 * timeout), Sandbox("none"))
    passed = total = 0
    for cell, role, result in zip(code, roles, results):
        if role != "test":
            continue
        meta = cell.metadata["nbgrader"]
        total += 1
        if result.status == "ok":
            passed += 1
            print(f"✓ {meta['grade_id']} ({meta.get('points', 0):g} points)")
        elif result.ename == "NotImplementedError":
            print(f"· {meta['grade_id']}: not answered yet")
        else:
            print(f"✗ {meta['grade_id']}: {result.ename}: {result.evalue}")
    print(f"{passed} of {total} self-checks pass" + ("" if passed == total else "; hidden tests are run at grading"))
    return passed == total
