"""Compare what a student's test cell recorded with what the reference solution recorded.

Everything here runs in the grader's own process on plain data (lists, numbers, strings), so
nothing a submission does to NumPy or to ``course_lib.checks`` in its own process can change it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
