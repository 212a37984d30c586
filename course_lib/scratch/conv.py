"""2-D convolution (cross-correlation, as every deep-learning library computes it), forward and backward.

Shapes: x (N, C, H, W) images; w (C_out, C, kH, kW) filters, as ``torch.nn.Conv2d`` stores them;
b (C_out,); stride s and padding p per axis; out (N, C_out, H_out, W_out) with
H_out = (H + 2p - kH) / s + 1 (see ``scratch.spatial``). With xp the zero-padded input,

    out[n, o, i, j] = b[o] + sum_{c, a, b'} w[o, c, a, b'] xp[n, c, i s + a, j s + b']

Backward, for dout = dL/dout of out's shape: each output touched one window, so

    dw[o]            = sum_{n, i, j} dout[n, o, i, j] * window(n, i, j)
    db[o]            = sum_{n, i, j} dout[n, o, i, j]
    dxp[window(n,i,j)] += sum_o dout[n, o, i, j] * w[o]         (windows overlap: gradients add)

and dx is dxp without its border. The same maths twice: ``conv2d_loops`` / ``conv2d_backward_loops``
say it with four nested loops, one output at a time; ``conv2d_im2col`` / ``conv2d_backward_im2col``
say it with matrix products (``scratch.im2col``), and are some 100 times faster.
``Conv2d`` wraps the fast pair as a layer of the scratch engine.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.im2col import col2im, im2col
from course_lib.scratch.layers import Layer
from course_lib.scratch.parameter import Parameter
from course_lib.scratch.spatial import Pair, check_images, output_size, pad, pair, unpad

Array = np.ndarray


def check_conv_args(x: Array, w: Array, b: Array | None, stride: int | Pair, padding: int | Pair) -> tuple[Pair, Pair, Pair]:
    """Validate a conv's arrays; return (stride, padding, (H_out, W_out)) as pairs. ValueError on any mismatch."""
    if not isinstance(w, np.ndarray) or w.ndim != 4:
        raise ValueError(f"conv2d expects weights of shape (C_out, C_in, kH, kW), got {getattr(w, 'shape', type(w).__name__)}")
    check_images("conv2d", x, channels=w.shape[1])
    if b is not None and (not isinstance(b, np.ndarray) or b.shape != (w.shape[0],)):
        raise ValueError(f"conv2d expects a bias of shape ({w.shape[0]},), got {getattr(b, 'shape', type(b).__name__)}")
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    return stride, padding, output_size(x.shape[2:], w.shape[2:], stride, padding)


# ---------------------------------------------------------------------------
# Loops: one output value at a time, exactly as the formula reads
# ---------------------------------------------------------------------------

def conv2d_loops(x: Array, w: Array, b: Array | None = None, stride: int | Pair = 1, padding: int | Pair = 0) -> Array:
    """out[n, o, i, j] = b[o] + sum(w[o] * window(n, i, j)).   x (N, C, H, W) -> (N, C_out, H_out, W_out)."""
    (sH, sW), padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    xp = pad(x, padding)
    C_out, _, kH, kW = w.shape
    out = np.zeros((x.shape[0], C_out, Ho, Wo), dtype=x.dtype)
    for n in range(x.shape[0]):
        for o in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * sH:i * sH + kH, j * sW:j * sW + kW]  # (C, kH, kW)
                    out[n, o, i, j] = np.sum(window * w[o])
    if b is not None:
        out += b[:, None, None]
    return out


def conv2d_backward_loops(dout: Array, x: Array, w: Array, stride: int | Pair = 1, padding: int | Pair = 0) -> tuple[Array, Array, Array]:
    """(dx, dw, db) for dout (N, C_out, H_out, W_out): each output sends its gradient back to its window."""
    (sH, sW), padding, (Ho, Wo) = check_conv_args(x, w, None, stride, padding)
    _check_dout(dout, (x.shape[0], w.shape[0], Ho, Wo))
    xp = pad(x, padding)
    C_out, _, kH, kW = w.shape
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(x.shape[0]):
        for o in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, o, i, j]
                    rows, cols = slice(i * sH, i * sH + kH), slice(j * sW, j * sW + kW)
                    dw[o] += g * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += g * w[o]  # += : overlapping windows share pixels
    return unpad(dxp, padding), dw, dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------------------
# im2col: the same sums as two matrix products
# ---------------------------------------------------------------------------

def conv2d_im2col(x: Array, w: Array, b: Array | None = None, stride: int | Pair = 1, padding: int | Pair = 0) -> Array:
    """Same result as ``conv2d_loops``: out = W im2col(x) + b, with W = w.reshape(C_out, C kH kW)."""
    return _conv2d_im2col(x, w, b, stride, padding)[0]


def conv2d_backward_im2col(dout: Array, x: Array, w: Array, stride: int | Pair = 1, padding: int | Pair = 0,
                           cols: Array | None = None) -> tuple[Array, Array, Array]:
    """(dx, dw, db) as ``conv2d_backward_loops`` computes them, with matrix products.

    With D = dout as a (C_out, H_out W_out N) matrix (columns in the order of cols'):
    dW = D cols^T, db = row sums of D, dcols = W^T D and dx = col2im(dcols).
    ``cols`` (from the forward pass) saves recomputing im2col(x).
    """
    stride, padding, (Ho, Wo) = check_conv_args(x, w, None, stride, padding)
    N, C_out = x.shape[0], w.shape[0]
    _check_dout(dout, (N, C_out, Ho, Wo))
    if cols is None:
        cols = im2col(pad(x, padding), w.shape[2:], stride, (Ho, Wo))
    D = dout.transpose(1, 2, 3, 0).reshape(C_out, Ho * Wo * N)  # columns (i, j, n), as in cols
    dw = (cols @ D.T).T.reshape(w.shape)  # = D cols^T; this order is BLAS's faster path for a short, wide D
    dcols = w.reshape(C_out, -1).T @ D
    padded_shape = (N, x.shape[1], x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    dx = unpad(col2im(dcols, padded_shape, w.shape[2:], stride, (Ho, Wo)), padding)
    return dx, dw, D.sum(axis=1)


def _conv2d_im2col(x: Array, w: Array, b: Array | None, stride: int | Pair, padding: int | Pair) -> tuple[Array, Array]:
    """(out, cols): the forward pass and the matrix of windows its backward pass reuses."""
    stride, padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N, C_out = x.shape[0], w.shape[0]
    cols = im2col(pad(x, padding), w.shape[2:], stride, (Ho, Wo))  # (C kH kW, Ho Wo N)
    out = w.reshape(C_out, -1) @ cols  # (C_out, Ho Wo N)
    if b is not None:
        out += b[:, None]
    return out.reshape(C_out, Ho, Wo, N).transpose(3, 0, 1, 2), cols


def _check_dout(dout: Array, shape: tuple[int, ...]) -> None:
    if not isinstance(dout, np.ndarray) or dout.shape != shape:
        raise ValueError(f"conv2d backward expects dout of the output's shape {shape}, got {getattr(dout, 'shape', type(dout).__name__)}")


# ---------------------------------------------------------------------------
# The layer
# ---------------------------------------------------------------------------

class Conv2d(Layer):
    """A conv layer of the scratch engine: x (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    Parameters "W" (C_out, C_in, kH, kW) and "b" (C_out,), initialized like ``torch.nn.Conv2d``:
    uniform in +-1/sqrt(C_in kH kW), drawn from ``rng``. ``method="loops"`` uses the readable
    loop version instead of im2col (same numbers, much slower).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair, rng: np.random.Generator, *,
                 stride: int | Pair = 1, padding: int | Pair = 0, bias: bool = True, method: str = "im2col",
                 dtype: type = np.float64) -> None:
        super().__init__()
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if method not in ("im2col", "loops"):
            raise ValueError(f"method must be 'im2col' or 'loops', got {method!r}")
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"channel counts must be positive, got in_channels={in_channels}, out_channels={out_channels}")
        kH, kW = pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.method = pair(stride, "stride"), pair(padding, "padding"), method
        bound = 1.0 / np.sqrt(in_channels * kH * kW)
        self.params["W"] = Parameter(rng.uniform(-bound, bound, size=(out_channels, in_channels, kH, kW)).astype(dtype))
        if bias:
            self.params["b"] = Parameter(rng.uniform(-bound, bound, size=out_channels).astype(dtype))

    def forward(self, x: Array) -> Array:
        w, b = self.params["W"].data, self._bias()
        if self.method == "loops":
            out, cols = conv2d_loops(x, w, b, self.stride, self.padding), None
        else:
            out, cols = _conv2d_im2col(x, w, b, self.stride, self.padding)
        self.cache = (x, cols)
        return out

    def backward(self, dout: Array) -> Array:
        x, cols = self._cached()
        w = self.params["W"].data
        if self.method == "loops":
            dx, dw, db = conv2d_backward_loops(dout, x, w, self.stride, self.padding)
        else:
            dx, dw, db = conv2d_backward_im2col(dout, x, w, self.stride, self.padding, cols)
        self.params["W"].accumulate_grad(dw)
        if "b" in self.params:
            self.params["b"].accumulate_grad(db)
        return dx

    def _bias(self) -> Array | None:
        return self.params["b"].data if "b" in self.params else None

    def __repr__(self) -> str:
        C_out, C_in, kH, kW = self.params["W"].shape
        return f"Conv2d({C_in}, {C_out}, kernel_size={(kH, kW)}, stride={self.stride}, padding={self.padding})"
