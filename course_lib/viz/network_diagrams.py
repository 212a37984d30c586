"""Diagrams of a neuron and of a layer, drawn on an Axes.

    >>> fig, (ax_neuron, ax_layer) = plt.subplots(1, 2, figsize=(12, 3.6))
    >>> draw_neuron(ax_neuron, n_inputs=3, activation="σ")
    >>> draw_layer(ax_layer, n_examples=4, n_in=3, n_out=2)

A neuron computes u = sum_k w_k x_k + b and h = f(u). A layer is M neurons reading the same D
inputs; for a batch X of shape (N, D) it is one matrix product, H = f(X W + b) with W (D, M),
b (M,) and H (N, M): entry H[n, m] is neuron m on example n, row n of X times column m of W.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

INPUT_COLOR, SUM_COLOR, ACT_COLOR = "#dbe9f6", "#fde3c8", "#d9f0d3"
ROW_COLOR, COLUMN_COLOR, ENTRY_COLOR = "#9ecae1", "#fdae6b", "#74c476"


def draw_neuron(ax: Axes, n_inputs: int = 3, activation: str = "f") -> None:
    r"""One neuron: D = ``n_inputs`` inputs x_k, weights w_k on the arrows, the sum u, the activation.

    Drawn in data coordinates with equal aspect; the inputs are stacked top to bottom.
    ``activation`` is mathtext without dollars, e.g. r"\sigma" or "f".
    """
    _check_count("n_inputs", n_inputs)
    arrow = dict(arrowstyle="-|>", mutation_scale=12, lw=1.0, color="0.3")
    ys = np.linspace(1.0, -1.0, n_inputs) * min(1.0, 0.45 * (n_inputs - 1)) if n_inputs > 1 else np.zeros(1)
    total, act, out = (3.0, 0.0), (5.0, 0.0), (6.7, 0.0)
    for k, y in enumerate(ys, start=1):
        ax.add_patch(Circle((0.0, y), 0.28, fc=INPUT_COLOR, ec="0.25", gid="input"))
        ax.text(0.0, y, f"$x_{{{k}}}$", ha="center", va="center", fontsize=12)
        ax.add_patch(FancyArrowPatch((0.28, y), (total[0] - 0.45, total[1] + 0.15 * y), **arrow))
        ax.text(1.4, 0.55 * y + 0.08 * np.sign(y) + 0.12, f"$w_{{{k}}}$", ha="center", va="bottom", fontsize=11,
                color="tab:blue")
    ax.add_patch(Circle(total, 0.45, fc=SUM_COLOR, ec="0.25", gid="sum"))
    ax.text(*total, r"$\Sigma$", ha="center", va="center", fontsize=16)
    ax.add_patch(FancyArrowPatch((total[0], -1.55), (total[0], -0.45), **arrow))  # the bias enters from below
    ax.text(total[0], -1.62, "$b$", ha="center", va="top", fontsize=12, color="tab:blue")
    ax.add_patch(FancyArrowPatch((total[0] + 0.45, 0), (act[0] - 0.4, 0), **arrow))
    ax.text((total[0] + act[0]) / 2, 0.12, "$u$", ha="center", va="bottom", fontsize=12)
    ax.add_patch(Rectangle((act[0] - 0.4, -0.35), 0.8, 0.7, fc=ACT_COLOR, ec="0.25", gid="activation"))
    ax.text(*act, f"${activation}$", ha="center", va="center", fontsize=14)
    ax.add_patch(FancyArrowPatch((act[0] + 0.4, 0), out, **arrow))
    ax.text(out[0] + 0.1, 0, "$h$", ha="left", va="center", fontsize=13)
    # Titles are drawn inside the data area: an equal-aspect axes may grow into a title above it.
    ax.text(3.4, 1.45, rf"a neuron: $u = \sum_{{k=1}}^{{{n_inputs}}} w_k x_k + b$, $h = {activation}(u)$",
            ha="center", va="bottom", fontsize=12)
    ax.set(xlim=(-0.5, 7.3), ylim=(-2.1, 2.5), aspect="equal")
    ax.set_axis_off()


def draw_layer(ax: Axes, n_examples: int = 4, n_in: int = 3, n_out: int = 2, activation: str = "f") -> None:
    r"""A layer as a matrix product: X (N, D) @ W (D, M) + b (M,), then f, gives H (N, M).

    Each matrix is drawn as a grid of unit cells, so the shapes can be read off the picture. Row
    0 of X, column 0 of W (and b[0]) and their result, the entry H[0, 0] (neuron 0 on example 0),
    are coloured. ``activation`` is mathtext without dollars, e.g. r"\sigma".
    """
    for name, count in (("n_examples", n_examples), ("n_in", n_in), ("n_out", n_out)):
        _check_count(name, count)
    N, D, M = n_examples, n_in, n_out
    gap = 1.2
    x_X, x_W = 0.0, D + gap
    x_b = x_W + M + gap
    x_H = x_b + M + gap + 0.8
    top = max(N, D) / 2  # matrices are centred on y = 0
    _matrix(ax, x_X, top - (max(N, D) - N) / 2, N, D, "$X$", f"({N}, {D})", row=0)
    _matrix(ax, x_W, top - (max(N, D) - D) / 2, D, M, "$W$", f"({D}, {M})", col=0)
    _matrix(ax, x_b, 0.5, 1, M, "$b$", f"({M},)", col=0)
    _matrix(ax, x_H, top - (max(N, D) - N) / 2, N, M, f"$H = {activation}(XW + b)$", f"({N}, {M})", entry=(0, 0))
    for x, symbol in ((x_W - gap / 2, "@"), (x_b - gap / 2, "+"), (x_H - (gap + 0.8) / 2, "→")):
        ax.text(x, 0, symbol, ha="center", va="center", fontsize=16)
    ax.text((x_H + M) / 2, -top - 0.9, rf"$H_{{00}} = {activation}$(row 0 of $X$ · column 0 of $W$ + $b_0$): "
            "neuron 0 on example 0; $b$ is added to every row", ha="center", va="top", fontsize=10, color="0.25")
    ax.text((x_H + M) / 2, top + 1.3, f"a layer of {M} neurons on a batch of {N} examples", ha="center",
            va="bottom", fontsize=12)
    ax.set(xlim=(-0.3, x_H + M + 0.3), ylim=(-top - 1.5, top + 2.1), aspect="equal")
    ax.set_axis_off()


def _matrix(ax: Axes, x: float, y_top: float, rows: int, cols: int, name: str, shape: str,
            row: int | None = None, col: int | None = None, entry: tuple[int, int] | None = None) -> None:
    """A rows x cols grid of unit cells with its top-left corner at (x, y_top), named above, shape below."""
    for i in range(rows):
        for j in range(cols):
            color = (ROW_COLOR if i == row else COLUMN_COLOR if j == col else
                     ENTRY_COLOR if (i, j) == entry else "white")
            ax.add_patch(Rectangle((x + j, y_top - i - 1), 1, 1, fc=color, ec="0.35", lw=0.8, gid=f"cell {name}"))
    ax.text(x + cols / 2, y_top + 0.2, name, ha="center", va="bottom", fontsize=12)
    ax.text(x + cols / 2, y_top - rows - 0.2, shape, ha="center", va="top", fontsize=11, family="DejaVu Sans Mono")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 12:
        raise ValueError(f"{name} must be an integer from 1 to 12 (a diagram, not a data set), got {value!r}")
