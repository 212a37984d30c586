"""Gradient checking: compare a backward pass with central finite differences, in float64.

    >>> report = check_layer(Linear(3, 4, rng), x, rng)
    >>> print(report)                 # one row per checked array, with its relative error
    >>> report.passed                 # True when every relative error is below 1e-7

The numerical derivative of a scalar function f at x, one coordinate at a time:

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h),   error O(h^2), h ~ 1e-5.

A layer maps arrays to arrays, so we check the scalar f(x) = sum(layer(x) * g) for a *random*
upstream gradient g: its gradient is exactly what ``backward(g)`` returns, and a random g
catches mistakes (a transposed matrix, a missing term) that g = 1 would hide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib.scratch.layers import Layer, Loss

Array = np.ndarray


def numerical_gradient(f: Callable[[], float], x: Array, h: float = 1e-5) -> Array:
    """Central differences of ``f()`` with respect to every entry of ``x`` (same shape as x).

    ``f`` takes no argument: it reads ``x``, which is nudged **in place** and restored.
    ``x`` must be float64: in float32 the rounding error (~1e-7 / h) swamps the derivative.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"x must be a float64 array, got {getattr(x, 'dtype', type(x).__name__)}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a: Array, b: Array) -> float:
    """max |a - b| / max(|a| + |b|): scale-free, 0 for identical arrays (0 when both are 0)."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    scale = np.max(np.abs(a) + np.abs(b), initial=0.0)
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


@dataclass
class GradcheckReport:
    """Relative error between analytic and numerical gradient, per checked array."""

    name: str
    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-7

    @property
    def passed(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __str__(self) -> str:
        rows = [f"{self.name}: {'passed' if self.passed else 'FAILED'} (tolerance {self.tolerance:.0e})"]
        rows += [f"  d/d{key:<4s} relative error {err:.1e}" for key, err in self.errors.items()]
        return "\n".join(rows)


def check_layer(layer: Layer, x: Array, rng: np.random.Generator, h: float = 1e-5, tolerance: float = 1e-7) -> GradcheckReport:
    """Check ``layer.backward`` for the input x (N, D) and for every parameter of the layer.

    A ``Sequential`` is checked end to end; its parameters are named "0.W", "0.b", "2.W", ...
    """
    _check_float64("x", x)
    x = x.copy()  # nudged in place below: never touch the caller's array
    g = rng.standard_normal(layer.forward(x).shape)
    layer.zero_grad()  # gradients add up: start from none
    dx = layer.backward(g)
    named = dict(layer.named_parameters())
    params = {name: p.data for name, p in named.items()}
    analytic = {"x": dx} | {name: p.grad.copy() for name, p in named.items()}

    def f() -> float:
        return float(np.sum(layer.forward(x) * g))

    report = GradcheckReport(type(layer).__name__, tolerance=tolerance)
    for name, array in ({"x": x} | params).items():
        _check_float64(name, array)
        report.errors[name] = relative_error(analytic[name], numerical_gradient(f, array, h))
    return report


def check_loss(loss: Loss, z: Array, t: Array, h: float = 1e-5, tolerance: float = 1e-7) -> GradcheckReport:
    """Check ``loss.backward`` (d loss / d z) for predictions z against targets t."""
    _check_float64("z", z)
    z = z.copy()
    loss.forward(z, t)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(z, t), z, h)
    return GradcheckReport(type(loss).__name__, {"z": relative_error(analytic, numeric)}, tolerance)


def _check_float64(name: str, x: Array) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"gradient checks need float64 arrays; {name} has dtype {getattr(x, 'dtype', type(x).__name__)}")
