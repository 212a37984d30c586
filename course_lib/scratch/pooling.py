"""Max and average pooling over k x k windows, each channel on its own, forward and backward.

Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out), H_out = (H + 2p - k) / s + 1; the stride s
defaults to the kernel size (windows side by side, no overlap), as in torch.

    max:      out[n, c, i, j] = max of window(n, c, i, j)
              backward: the whole gradient goes to the window's largest input (the argmax);
              the others did not change the output, so they get 0
    average:  out[n, c, i, j] = mean of window(n, c, i, j)   (padding counts as zeros, torch's default)
              backward: each of the k_H k_W inputs gets dout / (k_H k_W)

Both reuse ``im2col``: with the windows of each channel laid out as rows, pooling is a max or
a mean along one axis, and ``col2im`` sends the gradients back, adding them where windows overlap.
Padding is at most half the kernel (torch's rule), so no window is all padding; max pooling pads
with -inf, which never wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.scratch.im2col import col2im, im2col
from course_lib.scratch.layers import Layer
from course_lib.scratch.spatial import Pair, check_images, output_size, pad, pair, unpad

Array = np.ndarray


@dataclass(frozen=True)
class PoolGeometry:
    """Where the windows of one pooling call lie: all sizes are (height, width) pairs."""

    input_shape: tuple[int, int, int, int]
    kernel: Pair
    stride: Pair
    padding: Pair
    out: Pair

    @property
    def padded_shape(self) -> tuple[int, int, int, int]:
        N, C, H, W = self.input_shape
        return N, C, H + 2 * self.padding[0], W + 2 * self.padding[1]

    def windows(self, x: Array, fill: float) -> Array:
        """x (N, C, H, W) -> (C, kH kW, H_out W_out N): every channel's windows, one per column."""
        C, size = x.shape[1], self.kernel[0] * self.kernel[1]
        cols = im2col(pad(x, self.padding, fill), self.kernel, self.stride, self.out)
        return cols.reshape(C, size, -1)

    def to_image(self, dwindows: Array) -> Array:
        """The adjoint of ``windows``: (C, kH kW, H_out W_out N) -> (N, C, H, W), overlaps added."""
        cols = dwindows.reshape(-1, dwindows.shape[2])
        return unpad(col2im(cols, self.padded_shape, self.kernel, self.stride, self.out), self.padding)

    def columns(self, dout: Array) -> Array:
        """dout (N, C, H_out, W_out) -> (C, H_out W_out N), columns in the order of ``windows``."""
        expected = self.input_shape[:2] + self.out
        if not isinstance(dout, np.ndarray) or dout.shape != expected:
            raise ValueError(f"pooling backward expects dout of the output's shape {expected}, "
                             f"got {getattr(dout, 'shape', type(dout).__name__)}")
        return dout.transpose(1, 2, 3, 0).reshape(dout.shape[1], -1)

    def to_output(self, values: Array) -> Array:
        """(C, H_out W_out N) -> (N, C, H_out, W_out)."""
        N, C = self.input_shape[:2]
        return values.reshape(C, *self.out, N).transpose(3, 0, 1, 2)


def pool_geometry(name: str, x: Array, kernel_size: int | Pair, stride: int | Pair | None, padding: int | Pair) -> PoolGeometry:
    """Check x and the pooling arguments (ValueError with the shapes) and place the windows."""
    check_images(name, x)
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    if 2 * padding[0] > kernel[0] or 2 * padding[1] > kernel[1]:
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel {kernel}")
    return PoolGeometry(x.shape, kernel, stride, padding, output_size(x.shape[2:], kernel, stride, padding))


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

def max_pool2d(x: Array, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> Array:
    """Largest value of every window.   x (N, C, H, W) -> (N, C, H_out, W_out)."""
    return _max_pool(x, pool_geometry("max_pool2d", x, kernel_size, stride, padding))[0]


def max_pool2d_backward(dout: Array, x: Array, kernel_size: int | Pair, stride: int | Pair | None = None,
                        padding: int | Pair = 0) -> Array:
    """dx (N, C, H, W): dout routed to the argmax of each window (ties: the first, as in torch)."""
    geometry = pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    return _max_pool_backward(dout, _max_pool(x, geometry)[1], geometry)


def avg_pool2d(x: Array, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> Array:
    """Mean of every window (padding counts as zeros).   x (N, C, H, W) -> (N, C, H_out, W_out)."""
    geometry = pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    return geometry.to_output(geometry.windows(x, 0.0).mean(axis=1))


def avg_pool2d_backward(dout: Array, x: Array, kernel_size: int | Pair, stride: int | Pair | None = None,
                        padding: int | Pair = 0) -> Array:
    """dx (N, C, H, W): every input of a window gets dout / (kH kW), summed over its windows."""
    return _avg_pool_backward(dout, pool_geometry("avg_pool2d", x, kernel_size, stride, padding), x.dtype)


def _max_pool(x: Array, geometry: PoolGeometry) -> tuple[Array, Array]:
    """(out, argmax): argmax (C, H_out W_out N), each window's winner, is all backward needs."""
    windows = geometry.windows(x, -np.inf)
    argmax = windows.argmax(axis=1)
    best = np.take_along_axis(windows, argmax[:, None, :], axis=1)[:, 0, :]
    return geometry.to_output(best), argmax


def _max_pool_backward(dout: Array, argmax: Array, geometry: PoolGeometry) -> Array:
    D = geometry.columns(dout)
    dwindows = np.zeros((argmax.shape[0], geometry.kernel[0] * geometry.kernel[1], argmax.shape[1]), dtype=dout.dtype)
    np.put_along_axis(dwindows, argmax[:, None, :], D[:, None, :], axis=1)
    return geometry.to_image(dwindows)


def _avg_pool_backward(dout: Array, geometry: PoolGeometry, dtype: np.dtype) -> Array:
    D = geometry.columns(dout).astype(dtype, copy=False)
    size = geometry.kernel[0] * geometry.kernel[1]
    dwindows = np.broadcast_to((D / size)[:, None, :], (D.shape[0], size, D.shape[1]))
    return geometry.to_image(dwindows)


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

class MaxPool2d(Layer):
    """Max pooling as a layer: x (N, C, H, W) -> (N, C, H_out, W_out); no parameters."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Array) -> Array:
        geometry = pool_geometry("MaxPool2d", x, self.kernel_size, self.stride, self.padding)
        out, argmax = _max_pool(x, geometry)
        self.cache = (geometry, argmax)
        return out

    def backward(self, dout: Array) -> Array:
        geometry, argmax = self._cached()
        return _max_pool_backward(dout, argmax, geometry)


class AvgPool2d(Layer):
    """Average pooling as a layer: x (N, C, H, W) -> (N, C, H_out, W_out); no parameters."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Array) -> Array:
        geometry = pool_geometry("AvgPool2d", x, self.kernel_size, self.stride, self.padding)
        self.cache = (geometry, x.dtype)
        return geometry.to_output(geometry.windows(x, 0.0).mean(axis=1))

    def backward(self, dout: Array) -> Array:
        geometry, dtype = self._cached()
        return _avg_pool_backward(dout, geometry, dtype)
