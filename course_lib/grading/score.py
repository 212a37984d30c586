"""Score a test cell: compare what it recorded with what the reference solution recorded.

Everything here runs in the grader's own process on plain data (lists, numbers, strings), so
nothing a submission does to NumPy or to ``course_lib.checks`` in its own process can change it.
The only things taken from the student's process are the recorded values (checked for shape and
type by ``runner.parse_answer``) and the name and message of an error, which are shown with any
line of a hidden test blotted out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.checks import rendered
from course_lib.grading.markers import BEGIN_HIDDEN, END_HIDDEN, find_blocks
from course_lib.grading.results import TestResult
from course_lib.grading.runner import CellResult
from course_lib.grading.status import FATAL, Status

PASSING_KINDS = {"true", "pure", "raises"}  # checks whose recorded value must simply be True


def compare_records(reference: list[dict], student: list[dict]) -> str | None:
    """Return None when the student's records match the reference, else a sentence saying why not."""
    for i, ref in enumerate(reference):
        if i >= len(student):
            return f"check {ref['name']!r} never ran (the cell stopped before it)"
        got = student[i]
        if (got.get("kind"), got.get("name")) != (ref["kind"], ref["name"]):
            return f"expected check {ref['name']!r} here, found {got.get('name')!r}"
        problem = _compare_value(ref, got.get("value"))
        if problem:
            return f"check {ref['name']!r}: {problem}"
    if len(student) > len(reference):
        return f"the cell made {len(student)} checks, the reference {len(reference)}"
    return None


def _compare_value(ref: dict, got: Any) -> str | None:
    kind, want = ref["kind"], ref["value"]
    if kind in PASSING_KINDS:
        return None if got is True else "did not pass"
    if kind == "close":
        return _compare_close(want, got, ref.get("options", {}))
    return None if _same(got, want) else f"expected {_show(want)}, got {_show(got)}"


def _same(a: Any, b: Any) -> bool:
    """Exact equality of plain data, types included (True is not 1, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _compare_close(want: Any, got: Any, options: dict) -> str | None:
    want_a, got_a = _array(want), _array(got)
    if got_a is None:
        unsupported = got.get("unsupported") if isinstance(got, dict) else type(got).__name__
        return f"expected an array or a number, got {unsupported}"
    if want_a.shape != got_a.shape:
        return f"expected shape {want_a.shape}, got {got_a.shape}"
    if isinstance(want, dict) and isinstance(got, dict) and want.get("dtype") != got.get("dtype"):
        return f"expected dtype {want['dtype']}, got {got['dtype']}"
    rtol, atol = options.get("rtol", 1e-7), options.get("atol", 1e-10)
    w, g = want_a.astype(np.float64), got_a.astype(np.float64)
    if not np.array_equal(np.isfinite(w), np.isfinite(g)):
        index = np.argwhere(np.isfinite(w) != np.isfinite(g))[0]
        return f"got {g[tuple(index)]} at index {list(map(int, index))}, expected {w[tuple(index)]}"
    finite = np.isfinite(w)
    error = np.where(finite, np.abs(g - w), 0.0)
    allowed = atol + rtol * np.abs(np.where(finite, w, 0.0))
    if (error > allowed).any():
        worst = np.unravel_index(np.argmax(error - allowed), error.shape)
        relative = error[worst] / max(abs(w[worst]), 1e-300)
        first = np.argwhere(error > allowed)[0]
        return (
            f"max abs error {error[worst]:.3g} (relative {relative:.3g}) at index {list(map(int, worst))}; "
            f"first differing index {list(map(int, first))}"
        )
    return None


def _array(value: Any) -> np.ndarray | None:
    if isinstance(value, dict) and "array" in value:
        return np.asarray(value["array"], dtype=np.float64).reshape(value["shape"])
    if type(value) in (int, float, bool):
        return np.asarray(float(value))
    return None


def _show(value: Any) -> str:
    text = repr(value.get("array") if isinstance(value, dict) and "array" in value else value)
    return text if len(text) <= 80 else text[:77] + "..."


def score_test(grade_id: str, points: float, source: str, outcome: CellResult, reference: list[dict],
               forbidden_used: list[str]) -> TestResult:
    """The points and message of one test cell, from its outcome and the reference's records."""
    test = TestResult(grade_id, 0.0, points, Status.FAILED)
    if outcome.status in FATAL:
        test.status, test.message = outcome.status, outcome.evalue or str(outcome.status)
        return test
    problem = compare_records(reference, outcome.records)
    if outcome.status == Status.ERROR and outcome.ename == "NotImplementedError":
        test.message = "not answered yet (NotImplementedError)"
    elif outcome.status == Status.ERROR and problem is not None and outcome.ename != "CheckError":
        test.status, test.message = Status.ERROR, f"{outcome.ename}: {outcome.evalue}"
    elif problem is not None:
        test.message = _as_shown(outcome, reference) or problem
    elif forbidden_used and outcome.forbidden:
        test.message = f"uses {', '.join(outcome.forbidden)}, which this exercise forbids"
    else:
        test.status, test.points = Status.PASSED, points
    test.message = redact(test.message, source)
    return test


def _as_shown(outcome: CellResult, reference: list[dict]) -> str | None:
    """The failed check's own message, as the notebook showed it (``✗ name: ...``), when it is one.

    Only a CheckError naming one of the test's checks counts: the points never depend on it.
    """
    if outcome.ename != "CheckError" or not outcome.evalue:
        return None
    names = {ref["name"] for ref in reference}
    if not any(outcome.evalue.startswith(f"{name}: ") for name in names):
        return None
    return "\n".join(rendered(outcome.evalue))


def redact(message: str, test_source: str) -> str:
    """``message`` with every line of the test's hidden part (longer than a few characters) blotted out."""
    lines = test_source.split("\n")
    hidden = [line.strip() for block in find_blocks(lines, BEGIN_HIDDEN, END_HIDDEN)
              for line in lines[block.begin:block.end + 1]]
    for line in sorted((h for h in hidden if len(h) >= 6), key=len, reverse=True):
        message = message.replace(line, "[hidden test]")
    for line in hidden:  # and any long enough piece of one, quoted in a traceback or an error
        for piece in line.replace("(", " ").replace(")", " ").replace(",", " ").split():
            if len(piece) >= 12:
                message = message.replace(piece, "[hidden]")
    return message
