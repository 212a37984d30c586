"""Shapes of images and of sliding windows: the bookkeeping every conv and pooling layer shares.

Images are NCHW arrays: N batch, C channels, H height, W width (PyTorch's layout).
A window of size k slides over an input of size H padded by p on both sides, moving s at a time;
it fits in

    H_out = (H + 2p - k) / s + 1

positions. PyTorch rounds that down and silently drops the last rows when s does not divide
H + 2p - k; here it is an error, so that every pixel of the input is seen by some window.

Stacked windows see more: after layers with kernels k_l and strides s_l, one output value depends
on an r x r patch of the input, its receptive field (``receptive_field``).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
Pair = tuple[int, int]


def pair(value: int | tuple[int, int], name: str) -> Pair:
    """``3`` -> ``(3, 3)``; ``(3, 5)`` stays. One number for height and width, or one each."""
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(values[0]), int(values[1])


def output_size(size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    """(H_out, W_out) = ((H + 2p - k) / s + 1, one per axis), checked to be whole and positive.

    ``size`` is the unpadded input's (H, W). Raises a ValueError, with the numbers, when the kernel
    is larger than the padded input or when the stride does not divide the distance it travels.
    """
    if min(stride) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ValueError(f"need kernel >= 1, stride >= 1, padding >= 0; got kernel {kernel}, stride {stride}, padding {padding}")
    out = []
    for axis, H, k, s, p in zip(("height", "width"), size, kernel, stride, padding):
        if k > H + 2 * p:
            raise ValueError(f"kernel {kernel} is larger than the padded input {(size[0] + 2 * padding[0], size[1] + 2 * padding[1])} "
                             f"(input {size}, padding {padding})")
        if (H + 2 * p - k) % s:
            raise ValueError(f"output {axis} (H + 2p - k) / s + 1 = ({H} + {2 * p} - {k}) / {s} + 1 = {(H + 2 * p - k) / s + 1:g} "
                             f"is not an integer: input {size}, kernel {kernel}, stride {stride}, padding {padding}")
        out.append((H + 2 * p - k) // s + 1)
    return out[0], out[1]


def receptive_field(layers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Receptive field r and jump j after each of ``layers``, given as (kernel k, stride s) pairs.

    The jump j_l is the input distance between neighbouring outputs of layer l; a window of k_l
    neighbours spans (k_l - 1) jumps more than one of them:

        r_0 = 1, j_0 = 1,      r_l = r_{l-1} + (k_l - 1) j_{l-1},      j_l = j_{l-1} s_l.

    Padding moves the field but does not change its size. Returns [(r_1, j_1), ..., (r_L, j_L)]
    (one axis; apply it per axis for rectangular kernels).
    """
    r, j, out = 1, 1, []
    for layer in layers:
        if (not isinstance(layer, tuple) or len(layer) != 2
                or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in layer)):
            raise ValueError(f"each layer must be a (kernel, stride) pair of ints >= 1, got {layer!r}")
        k, s = layer
        r, j = r + (k - 1) * j, j * s
        out.append((int(r), int(j)))
    return out


def check_images(layer: str, x: Array, channels: int | None = None) -> None:
    """ValueError unless x is a finite floating-point (N, C, H, W) array with ``channels`` channels."""
    shape = getattr(x, "shape", type(x).__name__)
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(f"{layer} expects images of shape (N, C, H, W), got {shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{layer} expects a floating-point array, got dtype {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{layer} expects images of shape (N, {channels}, H, W), got {shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{layer} expects finite inputs, got nan or inf")


def pad(x: Array, padding: Pair, value: float = 0.0) -> Array:
    """x (N, C, H, W) -> (N, C, H + 2 pH, W + 2 pW), the border filled with ``value``."""
    pH, pW = padding
    if pH == 0 and pW == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)), constant_values=value)


def unpad(x: Array, padding: Pair) -> Array:
    """Undo ``pad``: drop pH rows and pW columns on each side of the last two axes."""
    pH, pW = padding
    H, W = x.shape[2], x.shape[3]
    return x[:, :, pH:H - pH, pW:W - pW]
