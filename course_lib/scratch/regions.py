"""Linear regions of small ReLU networks on a 2-D input: count them (``viz.regions`` draws them).

A ReLU net computes a piecewise-linear function. Fix which hidden units are active (the
*activation pattern*, one bit per unit): every pre-activation is then an affine function of the
input, so the set of inputs sharing a pattern is an intersection of half-planes, a convex
polygon on which the network is linear. Counting the distinct patterns seen on a fine grid
therefore counts the linear regions inside the grid's box (those larger than a grid cell).

Pascanu, Montufar & Bengio (2014, https://arxiv.org/abs/1312.6098) compare nets with the same
number of units: a shallow net with n units on n0 inputs has at most sum_{j<=n0} C(n, j) regions,
while k layers of 2 n0 units can reach 2^((k-1) n0) sum_{j<=n0} C(2 n0, j): exponential in depth.
``folding_net`` builds such a deep net explicitly; random nets reach far fewer.

Shapes: a net is a list of ``Affine`` layers ``(W, b)`` with W (D_in, D_out) and b (D_out,);
inputs X are (N, 2); patterns are (N, U) booleans with U the total number of hidden units.
"""

from __future__ import annotations

from math import comb

import numpy as np

Array = np.ndarray
Affine = tuple[Array, Array]  # one layer's (W, b)


def random_relu_net(widths: list[int], rng: np.random.Generator, bias_std: float = 1.0) -> list[Affine]:
    """Hidden layers of the given widths on 2 inputs; W ~ N(0, 2 / D_in) (He), b ~ N(0, bias_std^2).

    Non-zero biases matter: with b = 0 every first-layer boundary would pass through the origin.
    """
    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive ints, got {widths}")
    layers, fan_in = [], 2
    for width in widths:
        W = rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, width))
        layers.append((W, rng.normal(scale=bias_std, size=width)))
        fan_in = width
    return layers


def activation_patterns(layers: list[Affine], X: Array) -> Array:
    """Which hidden units are active (pre-activation > 0) at each input: X (N, 2) -> (N, U) bool."""
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {X.shape}")
    bits, h = [], X
    for i, (W, b) in enumerate(layers):
        if W.shape[0] != h.shape[1] or b.shape != (W.shape[1],):
            raise ValueError(f"layer {i}: W {W.shape} and b {b.shape} do not fit an input of width {h.shape[1]}")
        z = h @ W + b
        bits.append(z > 0)
        h = np.maximum(z, 0.0)
    return np.concatenate(bits, axis=1)


def grid(lo: float, hi: float, resolution: int) -> tuple[Array, Array]:
    """Cell centres of a resolution x resolution grid on [lo, hi]^2: X (R*R, 2) and the 1-D axis (R,)."""
    step = (hi - lo) / resolution
    axis = lo + step * (np.arange(resolution) + 0.5)  # centres never sit exactly on a kink
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1), axis


def region_map(layers: list[Affine], lo: float = -3.0, hi: float = 3.0, resolution: int = 400) -> Array:
    """Label every grid cell with its region: (R, R) int array, labels 0..count-1 (row = y, col = x)."""
    X, _ = grid(lo, hi, resolution)
    patterns = activation_patterns(layers, X)
    if patterns.shape[1] <= 62:
        keys = patterns @ (np.int64(1) << np.arange(patterns.shape[1], dtype=np.int64))  # pattern as an int
        _, labels = np.unique(keys, return_inverse=True)
    else:
        _, labels = np.unique(patterns, axis=0, return_inverse=True)
    return labels.reshape(resolution, resolution)


def count_regions(layers: list[Affine], lo: float = -3.0, hi: float = 3.0, resolution: int = 400) -> int:
    """Number of distinct activation patterns (= linear regions) seen on the grid over [lo, hi]^2."""
    return int(region_map(layers, lo, hi, resolution).max()) + 1


def max_regions_shallow(units: int, n_in: int = 2) -> int:
    """Most regions n hyperplanes in general position cut R^n0 into: sum_{j=0}^{n0} C(n, j)."""
    return sum(comb(units, j) for j in range(n_in + 1))


def deep_regions(n_in: int, depth: int) -> int:
    """Pascanu et al.'s count for ``depth`` layers of 2 n0 units: 2^((k-1) n0) sum_{j<=n0} C(2 n0, j)."""
    return 2 ** ((depth - 1) * n_in) * max_regions_shallow(2 * n_in, n_in)


# Four lines in general position whose 6 crossings all lie inside the unit square (x = 0.35,
# y = 0.4, x + y = 1.2, y - x = 0.2): they cut the square into 1 + 4 + 6 = 11 pieces.
_LINES_W = np.array([[1.0, 0.0, 1.0, -1.0], [0.0, 1.0, 1.0, 1.0]])
_LINES_B = np.array([-0.35, -0.4, -1.2, -0.2])


def folding_net(depth: int) -> list[Affine]:
    """A net of ``depth`` layers of 4 ReLUs on [0, 1]^2 with exactly ``deep_regions(2, depth)`` regions.

    Each of the first depth - 1 layers folds both coordinates with the tent map
    t(x) = 2 relu(x) - 4 relu(x - 1/2), which sends [0, 1/2] and [1/2, 1] onto [0, 1]: the square
    is folded onto itself 4 times per layer. The last layer cuts the folded square with 4 lines
    into 11 pieces, and every piece is repeated in each of the 4^(depth-1) folds.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    fold_W = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])  # (2, 4): x, x, y, y
    fold_b = np.array([0.0, -0.5, 0.0, -0.5])
    unfold = np.array([[2.0, 0.0], [-4.0, 0.0], [0.0, 2.0], [0.0, -4.0]])  # (4, 2): tent output
    layers: list[Affine] = []
    for i in range(depth):
        W, b = (fold_W, fold_b) if i < depth - 1 else (_LINES_W, _LINES_B)
        layers.append((W if i == 0 else unfold @ W, b.copy()))
    return layers
