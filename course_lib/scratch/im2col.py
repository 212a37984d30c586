"""im2col: lay every window of an image out as one row of a matrix, so a convolution is a matmul.

A conv layer multiplies each (C, kH, kW) window of the padded input by each of its C_out filters.
Copy the windows into the rows of a matrix first,

    cols[(n, i, j), (c, a, b)] = x_padded[n, c, i s + a, j s + b]        shape (N H_out W_out, C kH kW)

and the whole layer is one matrix product, ``cols @ W.reshape(C_out, -1).T``, which BLAS runs
at full speed. The price is memory: every pixel is copied into up to kH kW rows.

``col2im`` is the adjoint (the transpose) of ``im2col``: it sends every entry of a cols-shaped
array back to the pixel it was copied from, *adding up* the entries of overlapping windows. That
is exactly the backward pass of im2col: a pixel used by several windows receives the sum of their
gradients.

Both loop over the kH kW offsets (a, b) inside the kernel, not over pixels: each iteration moves
a whole (N, C, H_out, W_out) slab with one strided slice, so the Python loop has 9 or 25 turns.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.spatial import Pair

Array = np.ndarray


def im2col(x_padded: Array, kernel: Pair, stride: Pair, out_size: Pair) -> Array:
    """x_padded (N, C, Hp, Wp) -> cols (N H_out W_out, C kH kW), one window per row.

    Rows run over (n, i, j) in that order, columns over (c, a, b): the order of
    ``weight.reshape(C_out, C kH kW)``'s columns, for a weight of shape (C_out, C, kH, kW).
    """
    N, C = x_padded.shape[:2]
    (kH, kW), (sH, sW), (Ho, Wo) = kernel, stride, out_size
    windows = np.empty((N, Ho, Wo, C, kH, kW), dtype=x_padded.dtype)
    for a in range(kH):
        for b in range(kW):
            # pixel (i s + a, j s + b) for every output position (i, j): one strided slice
            slab = x_padded[:, :, a:a + sH * Ho:sH, b:b + sW * Wo:sW]  # (N, C, Ho, Wo)
            windows[:, :, :, :, a, b] = slab.transpose(0, 2, 3, 1)
    return windows.reshape(N * Ho * Wo, C * kH * kW)


def col2im(cols: Array, padded_shape: tuple[int, int, int, int], kernel: Pair, stride: Pair, out_size: Pair) -> Array:
    """cols (N H_out W_out, C kH kW) -> (N, C, Hp, Wp): each entry added back to its pixel.

    The transpose of ``im2col``: sum(im2col(x) * g) == sum(x * col2im(g)) for every x and g.
    """
    N, C, Hp, Wp = padded_shape
    (kH, kW), (sH, sW), (Ho, Wo) = kernel, stride, out_size
    windows = cols.reshape(N, Ho, Wo, C, kH, kW)
    x = np.zeros(padded_shape, dtype=cols.dtype)
    for a in range(kH):
        for b in range(kW):
            # windows overlap when s < k: += accumulates every window's share of a pixel
            x[:, :, a:a + sH * Ho:sH, b:b + sW * Wo:sW] += windows[:, :, :, :, a, b].transpose(0, 3, 1, 2)
    return x
