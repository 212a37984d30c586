"""im2col: lay every window of an image out as one column of a matrix, so a convolution is a matmul.

A conv layer multiplies each (C, kH, kW) window of the padded input by each of its C_out filters.
Copy the windows into the columns of a matrix first,

    cols[(c, a, b), (i, j, n)] = x_padded[n, c, i s + a, j s + b]        shape (C kH kW, H_out W_out N)

and the whole layer is one matrix product, ``w.reshape(C_out, C kH kW) @ cols``, which BLAS runs
at full speed. The price is memory: every pixel is copied into up to kH kW columns.

``col2im`` is the adjoint (the transpose) of ``im2col``: it sends every entry of a cols-shaped
array back to the pixel it was copied from, *adding up* the entries of overlapping windows. That
is exactly the backward pass of im2col: a pixel used by several windows receives the sum of their
gradients.

Both loop over the kH kW offsets (a, b) inside the kernel, not over pixels: each iteration moves
a whole (C, H_out, W_out, N) slab with one strided slice, so the Python loop has 9 or 25 turns.
The batch index n comes last (the image is first copied to (C, H, W, N) order) so that every
slab is made of long contiguous runs of W_out N numbers: copying many short runs is what makes
a naive im2col slow.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.spatial import Pair

Array = np.ndarray


def im2col(x_padded: Array, kernel: Pair, stride: Pair, out_size: Pair) -> Array:
    """x_padded (N, C, Hp, Wp) -> cols (C kH kW, H_out W_out N), one window per column.

    Rows run over (c, a, b), the order of ``weight.reshape(C_out, C kH kW)``'s columns for a
    weight of shape (C_out, C, kH, kW); columns run over output positions (i, j, n).
    """
    N, C = x_padded.shape[:2]
    (kH, kW), (sH, sW), (Ho, Wo) = kernel, stride, out_size
    x = np.ascontiguousarray(x_padded.transpose(1, 2, 3, 0))  # (C, Hp, Wp, N)
    windows = np.empty((C, kH, kW, Ho, Wo, N), dtype=x_padded.dtype)
    for a in range(kH):
        for b in range(kW):
            # pixel (i s + a, j s + b) for every output position (i, j): one strided slice
            windows[:, a, b] = x[:, a:a + sH * Ho:sH, b:b + sW * Wo:sW]
    return windows.reshape(C * kH * kW, Ho * Wo * N)


def col2im(cols: Array, padded_shape: tuple[int, int, int, int], kernel: Pair, stride: Pair, out_size: Pair) -> Array:
    """cols (C kH kW, H_out W_out N) -> (N, C, Hp, Wp): each entry added back to its pixel.

    The transpose of ``im2col``: sum(im2col(x) * g) == sum(x * col2im(g)) for every x and g.
    """
    N, C, Hp, Wp = padded_shape
    (kH, kW), (sH, sW), (Ho, Wo) = kernel, stride, out_size
    windows = cols.reshape(C, kH, kW, Ho, Wo, N)
    x = np.zeros((C, Hp, Wp, N), dtype=cols.dtype)
    for a in range(kH):
        for b in range(kW):
            # windows overlap when s < k: += accumulates every window's share of a pixel
            x[:, a:a + sH * Ho:sH, b:b + sW * Wo:sW] += windows[:, a, b]
    return x.transpose(3, 0, 1, 2)
