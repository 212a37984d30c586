"""Data sets for the course: small 2-D toys you can plot, and real sets shipped with scikit-learn.

Every loader returns ``(X, y)`` as NumPy arrays:

- ``X``: float64, shape (N, D)
- ``y``: int64 class labels in {0, ..., C-1}, shape (N,), or float64 targets for regression

Randomness is always an explicit ``numpy.random.Generator`` (``rng``); nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


# ---------------------------------------------------------------------------
# Toy 2-D sets
# ---------------------------------------------------------------------------

def _check_n(n: int, name: str = "n") -> None:
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{name} must be a positive int, got {n!r}")


def _check_rng(rng: np.random.Generator) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )


def make_xor(n: int, rng: np.random.Generator, noise: float = 0.1) -> tuple[Array, Array]:
    """Four blobs at (+-1, +-1); the label is 1 when the signs of x1 and x2 differ.

    Returns X (n, 2) and y (n,). No line separates the classes.
    """
    _check_n(n)
    _check_rng(rng)
    corners = rng.integers(0, 2, size=(n, 2)) * 2 - 1
    X = corners + noise * rng.standard_normal((n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(np.int64)
    return X.astype(np.float64), y


def make_circles(n: int, rng: np.random.Generator, noise: float = 0.05, factor: float = 0.5) -> tuple[Array, Array]:
    """Two concentric circles: radius 1 (label 0) and radius ``factor`` (label 1). X (n, 2), y (n,)."""
    _check_n(n)
    _check_rng(rng)
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie in (0, 1), got {factor}")
    y = rng.integers(0, 2, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = np.where(y == 1, factor, 1.0)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X + noise * rng.standard_normal((n, 2)), y.astype(np.int64)


def make_moons(n: int, rng: np.random.Generator, noise: float = 0.1) -> tuple[Array, Array]:
    """Two interleaving half circles. X (n, 2), y (n,)."""
    _check_n(n)
    _check_rng(rng)
    y = rng.integers(0, 2, size=n)
    t = rng.uniform(0, np.pi, size=n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower)
    return X + noise * rng.standard_normal((n, 2)), y.astype(np.int64)


def make_spirals(n: int, rng: np.random.Generator, classes: int = 3, noise: float = 0.2) -> tuple[Array, Array]:
    """``classes`` interleaved spiral arms (the CS231n toy set). X (n, 2), y (n,) in {0..classes-1}."""
    _check_n(n)
    _check_rng(rng)
    _check_n(classes, "classes")
    y = rng.integers(0, classes, size=n)
    r = rng.uniform(0.05, 1.0, size=n)
    theta = y * (2 * np.pi / classes) + 4 * r + noise * rng.standard_normal(n)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return X, y.astype(np.int64)


def make_gaussians(
    n: int, rng: np.random.Generator, centers: Array | None = None, std: float = 0.5
) -> tuple[Array, Array]:
    """Isotropic Gaussian blobs, one class per row of ``centers`` (C, 2); default: 2 blobs at (+-1, 0)."""
    _check_n(n)
    _check_rng(rng)
    centers = np.array([[-1.0, 0.0], [1.0, 0.0]]) if centers is None else np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[0] < 1:
        raise ValueError(f"centers must have shape (C, D), got {centers.shape}")
    y = rng.integers(0, len(centers), size=n)
    X = centers[y] + std * rng.standard_normal((n, centers.shape[1]))
    return X, y.astype(np.int64)


def make_linear(
    n: int, rng: np.random.Generator, w: Array | None = None, b: float = 0.0, noise: float = 0.1
) -> tuple[Array, Array]:
    """Regression data y = X w + b + noise, with X ~ U(-1, 1).

    ``w`` (D,) defaults to [2.0] (a 1-D problem). Returns X (n, D) and y (n,) float64.
    """
    _check_n(n)
    _check_rng(rng)
    w = np.array([2.0]) if w is None else np.asarray(w, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"w must have shape (D,), got {w.shape}")
    X = rng.uniform(-1, 1, size=(n, w.shape[0]))
    y = X @ w + b + noise * rng.standard_normal(n)
    return X, y


def make_bumps(n: int, rng: np.random.Generator, noise: float = 0.1, width: float = 0.3) -> tuple[Array, Array]:
    """Regression on the plane: a bump up at (-0.5, 0.5) and one down at (0.5, -0.5).

    X ~ U(-1, 1)^2 (n, 2); y = exp(-|x - c1|^2 / 2 width^2) - exp(-|x - c2|^2 / 2 width^2) + noise * N(0, 1),
    shape (n,), in about [-1, 1]. A target no single plane fits, for the networks of the playground.
    """
    _check_n(n)
    _check_rng(rng)
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    X = rng.uniform(-1, 1, size=(n, 2))
    up, down = np.array([-0.5, 0.5]), np.array([0.5, -0.5])
    bump = lambda c: np.exp(-((X - c) ** 2).sum(axis=1) / (2 * width**2))  # noqa: E731
    return X, bump(up) - bump(down) + noise * rng.standard_normal(n)


# ---------------------------------------------------------------------------
# Real sets shipped with scikit-learn (no download)
# ---------------------------------------------------------------------------

def _sklearn(name: str) -> tuple[Array, Array]:
    from sklearn import datasets  # imported lazily: it is slow and only these loaders need it

    bunch = getattr(datasets, f"load_{name}")()
    y = bunch.target
    y = y.astype(np.float64) if name == "diabetes" else y.astype(np.int64)
    return bunch.data.astype(np.float64), y


def load_digits() -> tuple[Array, Array]:
    """8x8 handwritten digits: X (1797, 64) with pixel values 0..16, y (1797,) in {0..9}."""
    return _sklearn("digits")


def load_iris() -> tuple[Array, Array]:
    """Fisher's iris flowers: X (150, 4) in cm, y (150,) in {0, 1, 2}."""
    return _sklearn("iris")


def load_breast_cancer() -> tuple[Array, Array]:
    """Wisconsin breast cancer: X (569, 30) cell-nucleus features, y (569,) with 1 = benign."""
    return _sklearn("breast_cancer")


def load_diabetes() -> tuple[Array, Array]:
    """Diabetes progression: X (442, 10) standardized features, y (442,) float64 one year later."""
    return _sklearn("diabetes")


# ---------------------------------------------------------------------------
# Splits, scaling and mini-batches
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays, each X (N_part, D) and y (N_part,)."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array
    X_test: Array
    y_test: Array


def _check_xy(X: Array, y: Array) -> None:
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (N, D), got {getattr(X, 'shape', type(X).__name__)}")
    if not isinstance(y, np.ndarray) or y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have shape (N,) = ({X.shape[0]},) to match X {X.shape}, got {getattr(y, 'shape', type(y).__name__)}"
        )


def train_val_test_split(
    X: Array, y: Array, rng: np.random.Generator, val: float = 0.2, test: float = 0.2
) -> Split:
    """Shuffle once and cut into train / val / test with the given fractions (val or test may be 0)."""
    _check_xy(X, y)
    _check_rng(rng)
    if val < 0 or test < 0 or val + test >= 1:
        raise ValueError(f"val and test must be >= 0 with val + test < 1, got val={val}, test={test}")
    n = X.shape[0]
    order = rng.permutation(n)
    n_test, n_val = int(round(test * n)), int(round(val * n))
    te, va, tr = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return Split(X[tr], y[tr], X[va], y[va], X[te], y[te])


def standardize(X_train: Array, *others: Array) -> tuple[Array, ...]:
    """Scale every column to mean 0, std 1 using the *training* statistics only.

    Returns the scaled X_train followed by each of ``others`` scaled the same way.
    Constant columns are left centred but unscaled (their std is 0).
    """
    if X_train.ndim != 2:
        raise ValueError(f"X_train must have shape (N, D), got {X_train.shape}")
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    for X in others:
        if X.ndim != 2 or X.shape[1] != X_train.shape[1]:
            raise ValueError(f"every array must have shape (N, {X_train.shape[1]}), got {X.shape}")
    return tuple((X - mean) / std for X in (X_train, *others))


def minibatches(X, y, batch_size: int, rng=None) -> Iterator[tuple]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch): every loop's batches.

    X (N, ...) and y (N, ...) are NumPy arrays, or torch tensors (the PyTorch loop of ``train.fit``);
    a batch is X[idx], y[idx] for consecutive slices idx of one order of the N rows. That order is
    ``rng.permutation(N)`` for a ``numpy.random.Generator``, ``torch.randperm(N, generator=rng)``
    for a ``torch.Generator``, and 0..N-1 for ``rng=None`` (no shuffling). The last batch may be
    smaller than ``batch_size``.
    """
    n = _check_batches(X, y)
    _check_n(batch_size, "batch_size")
    if rng is None:
        order = np.arange(n)
    elif isinstance(rng, np.random.Generator):
        order = rng.permutation(n)
    elif type(rng).__module__.startswith("torch"):
        import torch  # only for tensors: the NumPy loops never load torch

        order = torch.randperm(n, generator=rng).to(X.device)
    else:
        raise ValueError(f"rng must be a numpy.random.Generator, a torch.Generator or None, got {type(rng).__name__}")
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def _check_batches(X, y) -> int:
    """N for X (N, ...) and y (N, ...) with the same number of rows (arrays or tensors)."""
    shape_x, shape_y = getattr(X, "shape", None), getattr(y, "shape", None)
    if shape_x is None or shape_y is None or len(shape_x) == 0 or len(shape_y) == 0:
        raise ValueError(f"X and y must be arrays with a first axis of N rows, "
                         f"got {type(X).__name__} and {type(y).__name__}")
    if shape_x[0] != shape_y[0]:
        raise ValueError(f"X and y must have the same number of rows, got {tuple(shape_x)} and {tuple(shape_y)}")
    return int(shape_x[0])
