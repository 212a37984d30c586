"""The plane coloured by what a classifier predicts, with the data on top (2-D inputs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.contour import QuadContourSet

Array = np.ndarray


def plot_decision_boundary(
    ax: Axes,
    predict: Callable[[Array], Array],
    X: Array,
    y: Array,
    title: str,
    names: Sequence[str] | None = None,
    grid: int = 200,
    pad: float = 0.5,
    probability: bool = False,
) -> QuadContourSet:
    """Colour the box around X (N, 2) (plus ``pad``) by ``predict``, then scatter the points by class y (N,).

    ``predict`` maps points P (M, 2) to class labels (M,): each region takes its class colour
    (C0, C1, ...). With ``probability=True`` it returns p(class 1) (M,) instead, drawn as
    filled contours from 0 to 1 (blue to red). Returns the filled contour set, for a colorbar.
    """
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"need X of shape (N, 2) and y of shape (N,), got X {X.shape} and y {y.shape}")
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, grid)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, grid)
    gx, gy = np.meshgrid(xs, ys)
    values = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
    classes = np.unique(y).astype(int)
    if probability:
        filled = ax.contourf(gx, gy, values, levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.6)
    else:
        colours = ListedColormap([f"C{c}" for c in classes])
        filled = ax.contourf(gx, gy, values, levels=np.arange(len(classes) + 1) - 0.5, cmap=colours, alpha=0.2)
    for c in classes:
        ax.scatter(*X[y == c].T, s=10, color=f"C{c}", edgecolor="k" if probability else None, linewidth=0.2,
                   label=names[c] if names else f"class {c}")
    ax.set(title=title)
    ax.legend(loc="upper center", fontsize=8, framealpha=0.9)
    return filled
