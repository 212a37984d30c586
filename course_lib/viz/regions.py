"""Pictures of the linear regions of a ReLU net (counted by ``scratch.regions``)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

Array = np.ndarray


def draw_regions(ax: Axes, labels: Array, extent: tuple[float, float, float, float], seed: int = 0) -> None:
    """Paint each region in a random pastel colour with dark boundaries on a matplotlib Axes.

    labels (R, R) from ``scratch.regions.region_map``; extent (x_lo, x_hi, y_lo, y_hi) as for ``imshow``.
    """
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an (R, R) integer array from region_map, got {labels.dtype} {labels.shape}")
    rng = np.random.default_rng(seed)
    palette = 0.45 + 0.55 * rng.random((int(labels.max()) + 1, 3))  # light colours, shuffled
    image = palette[labels]
    edge = np.zeros(labels.shape, dtype=bool)
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    image[edge] = 0.15
    ax.imshow(image, origin="lower", extent=extent, interpolation="nearest")
