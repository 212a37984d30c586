"""Self-checks for the exercises that say *what* is wrong, not just that something is.

    >>> check_close("mse_grad", grad, expected)
    ✓ mse_grad
    >>> check_close("mse_grad", grad.ravel(), expected)      # doctest: +SKIP
    CheckError: mse_grad: expected shape (3, 1), got (3,)

Every check raises ``CheckError`` (an ``AssertionError``) with a sentence a student can act on,
and prints one ``✓ name`` line when it passes. In a notebook a failed check shows as that
sentence alone (``✗ name: ...``), without a traceback through this module.

A check that cannot fail is the author's bug, not the student's success: ``check_close`` raises
``AuthoringError`` when its tolerance would accept an all-zeros answer for a nonzero reference.

When a notebook is graded, the grader installs a *recorder* (``set_recorder``) and every check
also reports the value it looked at. The grader compares those values with the ones the
reference solution produced, in its own process, so a check cannot be passed by patching
this module or by returning objects that compare equal to anything.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

Recorder = Callable[[str, str, Any, dict], None]
_recorder: Recorder | None = None


class CheckError(AssertionError):
    """A self-check failed; the message says what was expected and what was found."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error: the message, not a traceback into course_lib."""
        return rendered(str(self))


class AuthoringError(ValueError):
    """A check written so that it cannot fail (e.g. a tolerance wider than the value it checks)."""


def rendered(message: str) -> list[str]:
    """The lines a failed check shows, in the notebook and in the grader's feedback: ``✗ name: ...``."""
    lines = message.splitlines() or [""]
    return [f"✗ {lines[0]}", *lines[1:]]


def set_recorder(recorder: Recorder | None) -> None:
    """Install ``recorder(kind, name, value, options)``, called by every check (used by the grader).

    ``options`` holds what the comparison needs besides the value, e.g. ``rtol`` and ``atol``.
    """
    global _recorder
    _recorder = recorder


def _record(kind: str, name: str, value: Any, **options: float) -> None:
    if _recorder is not None:
        _recorder(kind, name, value, options)


def _passed(name: str) -> None:
    print(f"✓ {name}")


def _as_array(name: str, value: Any) -> np.ndarray:
    """Accept NumPy arrays, Python numbers and torch tensors; reject everything else by name."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise CheckError(f"{name}: expected a NumPy array or a number, got {type(value).__name__}")
    return value


def check_shape(name: str, actual: Any, shape: tuple[int, ...]) -> None:
    """Check that ``actual`` has exactly ``shape`` (no broadcasting excuses)."""
    got = _as_array(name, actual).shape
    _record("shape", name, got)
    if tuple(got) != tuple(shape):
        raise CheckError(f"{name}: expected shape {tuple(shape)}, got {tuple(got)}")
    _passed(name)


def check_close(name: str, actual: Any, expected: Any, *, rtol: float = 1e-7, atol: float = 1e-10) -> None:
    """Check shape, finiteness and values of ``actual`` against ``expected``.

    Passes when ``|actual - expected| <= atol + rtol * |expected|`` everywhere (NumPy's
    ``allclose`` rule). On failure the message names the worst element:
    ``max abs error 0.3 at index [4, 2] (got 1.3, expected 1.0)``.
    """
    got = _as_array(name, actual)
    want = _as_array(name, expected)
    _refuse_toothless(name, want, rtol, atol)
    _record("close", name, got, rtol=rtol, atol=atol)
    if got.shape != want.shape:
        raise CheckError(f"{name}: expected shape {want.shape}, got {got.shape}")
    if not np.issubdtype(got.dtype, np.number) and got.dtype != np.bool_:
        raise CheckError(f"{name}: expected numbers, got an array of dtype {got.dtype}")
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    finite_expected = np.isfinite(want64)
    bad = finite_expected & ~np.isfinite(got64)
    if bad.any():
        index = _index(np.argwhere(bad)[0])
        raise CheckError(f"{name}: got {got64[tuple(np.argwhere(bad)[0])]} at index {index}, expected a finite number")
    error = np.where(finite_expected, np.abs(got64 - want64), 0.0)
    allowed = atol + rtol * np.abs(np.where(finite_expected, want64, 0.0))
    if (error > allowed).any():
        worst = np.unravel_index(np.argmax(error - allowed), error.shape)
        raise CheckError(
            f"{name}: max abs error {error[worst]:.3g} at index {_index(worst)} "
            f"(got {got64[worst]:.6g}, expected {want64[worst]:.6g}; tolerance {allowed[worst]:.1g})"
        )
    _passed(name)


def _refuse_toothless(name: str, expected: np.ndarray, rtol: float, atol: float) -> None:
    """Raise AuthoringError when zeros would pass: ``|0 - e| <= atol + rtol |e|`` for every element e.

    A reference that is itself all zeros is exempt (there zeros are the right answer); a
    non-finite reference is too (zeros fail its finiteness check).
    """
    if rtol < 0 or atol < 0:
        raise AuthoringError(f"{name}: tolerances must be >= 0, got rtol={rtol}, atol={atol}")
    want = expected.astype(np.float64)
    if want.size == 0 or not np.isfinite(want).all() or not want.any():
        return
    if (np.abs(want) <= atol + rtol * np.abs(want)).all():
        raise AuthoringError(
            f"{name}: this check cannot fail: rtol={rtol:g}, atol={atol:g} accept an all-zeros answer for a "
            f"reference whose largest magnitude is {np.abs(want).max():.3g}; tighten the tolerance"
        )


def check_equal(name: str, actual: Any, expected: Any) -> None:
    """Exact equality for labels, counts, strings and tuples (compared as plain Python data)."""
    got = actual.tolist() if isinstance(actual, np.ndarray) else actual
    want = expected.tolist() if isinstance(expected, np.ndarray) else expected
    _record("equal", name, got)
    if type(got) is not type(want) and not (isinstance(got, (int, float)) and isinstance(want, (int, float))):
        raise CheckError(f"{name}: expected a {type(want).__name__}, got a {type(got).__name__}")
    if got != want:
        raise CheckError(f"{name}: expected {want!r}, got {got!r}")
    _passed(name)


def check_true(name: str, condition: bool, message: str) -> None:
    """Check a condition; ``message`` says what should hold, e.g. 'the loss should decrease'."""
    ok = isinstance(condition, (bool, np.bool_)) and bool(condition)
    _record("true", name, ok)
    if not ok:
        raise CheckError(f"{name}: {message}")
    _passed(name)


def check_pure(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``, fail if it changed any array argument in place, return its result."""
    before = copy.deepcopy((args, kwargs))
    result = fn(*args, **kwargs)
    for label, old, new in _array_arguments(before, (args, kwargs)):
        if old.shape != new.shape or not np.array_equal(old, new, equal_nan=True):
            _record("pure", name, False)
            raise CheckError(f"{name}: your function changed its input {label} in place; work on a copy")
    _record("pure", name, True)
    _passed(name)
    return result


def check_raises(name: str, error: type[BaseException], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Check that ``fn(*args, **kwargs)`` raises ``error`` (e.g. ValueError on bad shapes)."""
    try:
        fn(*args, **kwargs)
    except error:
        _record("raises", name, True)
        _passed(name)
        return
    except Exception as other:  # noqa: BLE001 - the wrong exception is exactly what we report
        _record("raises", name, False)
        raise CheckError(f"{name}: expected {error.__name__}, got {type(other).__name__}: {other}") from None
    _record("raises", name, False)
    raise CheckError(f"{name}: expected {error.__name__} to be raised, but the call returned normally")


def _array_arguments(before: Any, after: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    (args0, kwargs0), (args1, kwargs1) = before, after
    pairs = [(f"#{i + 1}", a, b) for i, (a, b) in enumerate(zip(args0, args1))]
    pairs += [(f"{key!r}", kwargs0[key], kwargs1[key]) for key in kwargs0]
    return [(label, a, b) for label, a, b in pairs if isinstance(a, np.ndarray)]


def _index(index: Any) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"
