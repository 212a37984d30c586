"""Mixup (Zhang et al., 2018): train on convex combinations of pairs of examples and of their targets.

    >>> x_mix, y_mix, lam = mixup(x, one_hot(t, C), alpha=0.2, rng=rng)
    >>> loss = F.cross_entropy(model(torch.tensor(x_mix)), torch.tensor(y_mix))   # torch, soft targets

Shapes: x (N, ...) inputs; y (N, C) one-hot or soft targets (each row a distribution over C
classes); t (N,) class indices. One lam ~ Beta(alpha, alpha) per batch, one random pairing:

    x_mix = lam * x + (1 - lam) * x[perm]
    y_mix = lam * y + (1 - lam) * y[perm]

Small alpha (0.1 to 0.4) puts most lam near 0 or 1: mostly one example, a little of another.
The network is pushed to behave linearly between training examples, which smooths its decision
boundaries and its confidence. With torch, ``F.cross_entropy`` accepts such (N, C) probability
targets directly.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def one_hot(t: Array, num_classes: int, dtype: type = np.float64) -> Array:
    """(N,) integer class indices in [0, C) -> (N, C) rows with a single 1."""
    t = np.asarray(t)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"t must be a 1-D integer array of class indices, got shape {t.shape} and dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(f"class indices must lie in [0, {num_classes}), got values in [{t.min()}, {t.max()}]")
    out = np.zeros((t.size, num_classes), dtype=dtype)
    out[np.arange(t.size), t] = 1
    return out


def mixup(x: Array, y: Array, alpha: float, rng: np.random.Generator) -> tuple[Array, Array, float]:
    """Mix a batch with a shuffled copy of itself; returns (x_mix, y_mix, lam). New arrays."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0 (the Beta(alpha, alpha) parameter), got {alpha!r}")
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"y must be (N, C) one-hot or soft float targets (see one_hot), got shape {y.shape} and dtype {y.dtype}")
    if x.ndim < 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows N, got shapes {x.shape} and {y.shape}")
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(x.shape[0])
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], lam
