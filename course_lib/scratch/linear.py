"""Linear regression by hand: the closed form, ridge, and (stochastic) gradient descent.

The model is a linear map ``f_w(X) = X w`` with

- ``X``: inputs, float64, shape (N, D) (N examples, D features)
- ``y``: targets, float64, shape (N,)
- ``w``: weights, float64, shape (D,)

A bias (intercept) is not a separate argument: append a column of ones with ``add_bias(X)``,
then the last weight ``w[-1]`` is the intercept. One code path serves both cases.

Two ways to find the weights that minimise the mean squared error:

- the **normal equations** ``X^T X w* = X^T y``: exact, costs O(N D^2 + D^3), needs X^T X invertible;
- **ridge** ``(X^T X + lam I) w* = X^T y``: always solvable for lam > 0, and better conditioned;
- **SGD**: ``w <- w - lr * grad`` on mini-batches; each update costs O(B D) for a batch of B rows.

Shapes are checked at every entry point: a (N, 1) target next to a (N,) prediction would
broadcast into an (N, N) matrix and give a wrong loss without any error, so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from course_lib.data import minibatches

Array = np.ndarray
Loss = Literal["mse", "l1"]


class SingularMatrixError(np.linalg.LinAlgError):
    """X^T X cannot be inverted (a ``ValueError`` too, so ``except ValueError`` catches it)."""


# ---------------------------------------------------------------------------
# Shape checks
# ---------------------------------------------------------------------------

def _as_float_array(name: str, value: Array) -> Array:
    """Return ``value`` as float64, refusing non-arrays, booleans and non-real dtypes by name."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(value).__name__}")
    if value.dtype == np.bool_ or not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
        raise ValueError(f"{name} must hold real numbers (float64 preferred), got dtype {value.dtype}")
    return value.astype(np.float64, copy=False)


def check_data(X: Array, y: Array) -> tuple[Array, Array]:
    """Check that X is (N, D) and y is (N,); return both as float64."""
    X = _as_float_array("X", X)
    y = _as_float_array("y", y)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (N,) = ({X.shape[0]},) to match X {X.shape}, got {y.shape}"
            + (" (flatten it with y.ravel())" if y.ndim == 2 and 1 in y.shape else "")
        )
    return X, y


def check_weights(X: Array, w: Array) -> Array:
    """Check that w is (D,) for X of shape (N, D); return w as float64."""
    w = _as_float_array("w", w)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape (D,) = ({X.shape[1]},) to match X {X.shape}, got {w.shape}")
    return w


# ---------------------------------------------------------------------------
# Model and losses
# ---------------------------------------------------------------------------

def add_bias(X: Array) -> Array:
    """Append a column of ones: (N, D) -> (N, D + 1), so that ``w[-1]`` acts as the intercept."""
    X = _as_float_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    return np.hstack([X, np.ones((X.shape[0], 1))])


def predict(X: Array, w: Array) -> Array:
    """Predictions ``X w``: X (N, D), w (D,) -> (N,)."""
    X = _as_float_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    return X @ check_weights(X, w)


def mse(X: Array, w: Array, y: Array) -> float:
    """Mean squared error ``(1/N) sum_i (x_i . w - y_i)^2``."""
    X, y = check_data(X, y)
    residual = X @ check_weights(X, w) - y
    return float(np.mean(residual**2))


def mse_grad(X: Array, w: Array, y: Array) -> Array:
    """Gradient of the MSE with respect to w: ``(2/N) X^T (X w - y)``, shape (D,)."""
    X, y = check_data(X, y)
    residual = X @ check_weights(X, w) - y
    return 2.0 / X.shape[0] * (X.T @ residual)


def l1(X: Array, w: Array, y: Array) -> float:
    """Mean absolute error ``(1/N) sum_i |x_i . w - y_i|``."""
    X, y = check_data(X, y)
    residual = X @ check_weights(X, w) - y
    return float(np.mean(np.abs(residual)))


def l1_grad(X: Array, w: Array, y: Array) -> Array:
    """A subgradient of the mean absolute error: ``(1/N) X^T sign(X w - y)``, shape (D,).

    |r| has no derivative at r = 0; we use sign(0) = 0, as torch.abs does in its backward.
    Each residual pulls with the same force whatever its size, hence the robustness to outliers.
    """
    X, y = check_data(X, y)
    residual = X @ check_weights(X, w) - y
    return X.T @ np.sign(residual) / X.shape[0]


def mse_surface(x: Array, y: Array, slopes: Array, intercepts: Array) -> Array:
    """``mse`` of the line a x + b on 1-D data x, y (N,), for every a in slopes (S,), b in intercepts (I,).

    Returns (I, S), rows = intercepts (the layout ``plt.contour(slopes, intercepts, Z)`` expects).
    The MSE is a quadratic in (a, b) whose coefficients are five averages of the data:

        mean((a x + b - y)^2) = a^2 m_xx + 2 a b m_x + b^2 - 2 a m_xy - 2 b m_y + m_yy

    (m_x = mean(x), m_xx = mean(x^2), m_xy = mean(x y), ...), so a G x G grid costs O(N + G^2)
    instead of O(N G^2).
    """
    x, y = _as_float_array("x", x), _as_float_array("y", y)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(f"x and y must both have shape (N,) with N >= 1, got x {x.shape} and y {y.shape}")
    slopes, intercepts = np.asarray(slopes, dtype=np.float64), np.asarray(intercepts, dtype=np.float64)
    if slopes.ndim != 1 or intercepts.ndim != 1:
        raise ValueError(f"slopes and intercepts must be 1-D grids, got {slopes.shape} and {intercepts.shape}")
    a, b = slopes[None, :], intercepts[:, None]
    m_x, m_y, m_xx, m_xy, m_yy = x.mean(), y.mean(), (x * x).mean(), (x * y).mean(), (y * y).mean()
    return a**2 * m_xx + 2 * a * b * m_x + b**2 - 2 * a * m_xy - 2 * b * m_y + m_yy


LOSSES: dict[str, tuple[Callable[[Array, Array, Array], float], Callable[[Array, Array, Array], Array]]] = {
    "mse": (mse, mse_grad),
    "l1": (l1, l1_grad),
}


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------

def condition_number(X: Array, lam: float = 0.0) -> float:
    """Condition number of ``X^T X + lam I``: (s_max^2 + lam) / (s_min^2 + lam).

    Uses the singular values s of X (never forms X^T X, whose rounding would hide the answer).
    With D > N, X^T X has D - N zero eigenvalues: s_min is 0 and the result is inf when lam = 0.
    """
    X = _as_float_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    _check_lam(lam)
    s = np.linalg.svd(X, compute_uv=False)
    eig = np.zeros(X.shape[1])
    eig[: s.size] = s**2  # the eigenvalues of X^T X; the missing ones (D > N) are 0
    smallest = eig.min() + lam
    return float("inf") if smallest == 0.0 else float((eig.max() + lam) / smallest)


def least_squares(X: Array, y: Array, rcond: float = 1e-13) -> Array:
    """Solve the normal equations ``X^T X w = X^T y`` for w (D,); cost O(N D^2 + D^3).

    Raises SingularMatrixError when X^T X is singular to working precision, i.e. its smallest
    eigenvalue is below ``rcond`` times its largest (duplicated or collinear columns, or fewer
    examples than features): then no unique minimiser exists; use ``ridge``. In float64 an
    eigenvalue ratio under ~1e-13 is rounding noise: the solve would return digits of noise.
    """
    X, y = check_data(X, y)
    gram = X.T @ X                       # (D, D), O(N D^2): the expensive part when N >> D
    eig = np.linalg.eigvalsh(gram)       # ascending; real because gram is symmetric, O(D^3)
    if eig[0] <= rcond * eig[-1]:
        why = f"N = {X.shape[0]} < D = {X.shape[1]}" if X.shape[0] < X.shape[1] else "duplicated or collinear columns"
        raise SingularMatrixError(
            f"X^T X ({X.shape[1]}x{X.shape[1]}) is singular ({why}): its smallest eigenvalue is "
            f"at most {rcond:g} times its largest, so no unique solution exists. Use ridge(X, y, lam) with lam > 0."
        )
    # Solving is cheaper and more accurate than forming the inverse (X^T X)^-1 explicitly.
    return np.linalg.solve(gram, X.T @ y)


def ridge(X: Array, y: Array, lam: float) -> Array:
    """Minimise ``||X w - y||^2 + lam ||w||^2``: solve ``(X^T X + lam I) w = X^T y``.

    For lam > 0 the matrix is positive definite, so a solution always exists. Every weight is
    penalised, the intercept column of ``add_bias`` included (as in the formula above).
    """
    X, y = check_data(X, y)
    _check_lam(lam)
    if lam == 0.0:
        return least_squares(X, y)
    A = X.T @ X + lam * np.eye(X.shape[1])
    return np.linalg.solve(A, X.T @ y)


def _check_lam(lam: float) -> None:
    if not isinstance(lam, (int, float, np.floating, np.integer)) or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")


# ---------------------------------------------------------------------------
# Gradient descent
# ---------------------------------------------------------------------------

def sgd_step(X: Array, y: Array, w: Array, lr: float, loss: Loss = "mse") -> Array:
    """One gradient step on a batch: returns ``w - lr * grad`` (w itself is not changed).

    X (B, D), y (B,), w (D,). With B = 1 this is the O(D) update of plain SGD.
    """
    _, grad = _loss_pair(loss)
    return w - lr * grad(X, w, y)


def sgd(
    X: Array,
    y: Array,
    w0: Array,
    *,
    lr: float,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    loss: Loss = "mse",
    lr_decay: float = 0.0,
) -> tuple[Array, list[float]]:
    """Mini-batch SGD for linear regression; returns the final w (D,) and the loss history.

    Each epoch shuffles the rows with ``rng`` and takes one step per batch of ``batch_size``
    rows (``batch_size = N`` is full-batch gradient descent, 1 is plain SGD). The learning
    rate of epoch e (from 0) is ``lr / (1 + lr_decay * e)``: a decaying rate lets SGD settle
    on the minimum instead of hovering around it.

    ``history[0]`` is the loss of ``w0`` on all of (X, y); ``history[e]`` the loss after epoch e.
    """
    X, y = check_data(X, y)
    w = check_weights(X, w0).copy()
    value, _ = _loss_pair(loss)
    _check_positive_int("epochs", epochs, allow_zero=True)
    _check_positive_int("batch_size", batch_size)
    if not np.isfinite(lr) or lr <= 0 or lr_decay < 0:
        raise ValueError(f"lr must be > 0 and lr_decay >= 0, got lr={lr!r}, lr_decay={lr_decay!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    history = [value(X, w, y)]
    for epoch in range(epochs):
        rate = lr / (1.0 + lr_decay * epoch)
        for Xb, yb in minibatches(X, y, batch_size, rng):
            w = sgd_step(Xb, yb, w, rate, loss)
        history.append(value(X, w, y))
    return w, history


def _loss_pair(loss: str) -> tuple[Callable[[Array, Array, Array], float], Callable[[Array, Array, Array], Array]]:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    return LOSSES[loss]


def _check_positive_int(name: str, value: int, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
