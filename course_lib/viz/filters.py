"""The first layer's filters, drawn as a grid of small images.

    >>> plot_filters(model.features[0].weight)          # (C_out, C_in, kH, kW), a tensor or an array

A first-layer filter lives in pixel space, so it can be looked at: trained on natural images,
they become edge and colour-blob detectors (Krizhevsky et al., 2012). Deeper filters act on
feature maps and mean little as pictures. ``filter_grid`` (pure, testable) lays the filters out;
``plot_filters`` draws the grid.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes

Array = np.ndarray


def filter_grid(weights, ncols: int | None = None, gap: int = 1, channel: int | None = None) -> Array:
    """Tile filters (C_out, C_in, kH, kW) into one image, each filter rescaled to [0, 1].

    C_in = 1 gives a gray image (rows, cols); C_in = 3 an RGB image (rows, cols, 3); other C_in
    need ``channel``, the one input channel to show. Filters fill ``ncols`` columns (default:
    about square), separated by ``gap`` pixels of NaN (gray) or white (RGB).
    """
    w = _as_array(weights)
    if w.ndim != 4:
        raise ValueError(f"filter_grid expects weights of shape (C_out, C_in, kH, kW), got {w.shape}")
    if channel is not None:
        if not 0 <= channel < w.shape[1]:
            raise ValueError(f"channel must lie in [0, {w.shape[1]}), got {channel}")
        w = w[:, channel:channel + 1]
    if w.shape[1] not in (1, 3):
        raise ValueError(f"filters with {w.shape[1]} input channels are not images: pass channel= to show one of them")
    C_out, C_in, kH, kW = w.shape
    low = w.min(axis=(1, 2, 3), keepdims=True)
    span = w.max(axis=(1, 2, 3), keepdims=True) - low
    w = (w - low) / np.where(span > 0, span, 1.0)  # each filter on its own scale: the pattern, not the size
    ncols = ncols or math.ceil(math.sqrt(C_out))
    nrows = math.ceil(C_out / ncols)
    fill = np.nan if C_in == 1 else 1.0
    grid = np.full((nrows * (kH + gap) - gap, ncols * (kW + gap) - gap, C_in), fill)
    for f in range(C_out):
        r, c = divmod(f, ncols)
        grid[r * (kH + gap):r * (kH + gap) + kH, c * (kW + gap):c * (kW + gap) + kW] = w[f].transpose(1, 2, 0)
    return grid[:, :, 0] if C_in == 1 else grid


def plot_filters(weights, ax: Axes | None = None, ncols: int | None = None, channel: int | None = None,
                 title: str | None = None) -> Axes:
    """Draw ``filter_grid(weights)`` on ``ax`` (a new figure when None); returns the axes."""
    grid = filter_grid(weights, ncols=ncols, channel=channel)
    if ax is None:
        import matplotlib.pyplot as plt  # only when asked to make a figure

        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    n = _as_array(weights).shape[0]
    ax.set_title(title or f"{n} first-layer filters (each scaled to its own range)")
    return ax


def _as_array(weights) -> Array:
    """A NumPy float array from an array or a torch tensor (read without importing torch)."""
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    return np.asarray(weights, dtype=np.float64)
