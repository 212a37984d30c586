"""Weight initializers: draw a fresh weight array whose scale keeps signals alive through depth.

    >>> rng = np.random.default_rng(0)
    >>> W = kaiming_normal((500, 500), rng)                  # He: std sqrt(2 / fan_in), for ReLU
    >>> W = xavier_uniform((784, 100), rng, gain=calculate_gain("tanh"))
    >>> layer.params["W"].data = W                           # a scratch Linear stores W as (D, M)

Every function *returns a new array* (the caller's arrays are never touched) and takes the
randomness as a ``numpy.random.Generator``. The formulas and names are those of ``torch.nn.init``:

=====================  ===============================================  ============================
scheme                 distribution                                     scale
=====================  ===============================================  ============================
normal                 N(0, std^2)                                      std given
xavier_normal          N(0, std^2)                                      std = gain sqrt(2 / (fan_in + fan_out))
xavier_uniform         U(-a, a)                                         a = gain sqrt(6 / (fan_in + fan_out))
kaiming_normal         N(0, std^2)                                      std = gain / sqrt(fan)
kaiming_uniform        U(-a, a)                                         a = gain sqrt(3 / fan)
orthogonal             Q of a QR factorization, rows or columns orthonormal, times gain
=====================  ===============================================  ============================

``fan`` is ``fan_in`` (mode="fan_in", keeps the forward variance: Var(y) = Var(x)) or ``fan_out``
(mode="fan_out", keeps the backward variance of the gradients). A uniform U(-a, a) has variance
a^2 / 3, hence the sqrt(3) between the normal and uniform versions of the same scheme.

Which axis is fan-in?  The layout of the weight array decides, and the two libraries differ:

- ``layout="in_out"`` (the default): the scratch ``Linear`` stores W as (D, M) so that y = x W + b;
  fan_in = shape[0] = D, fan_out = shape[1] = M. Only 2-D arrays have this layout.
- ``layout="out_in"``: torch's ``nn.Linear`` stores ``weight`` as (M, D) (y = x W^T + b) and a
  convolution as (out_channels, in_channels, kH, kW); fan_in = shape[1] * kH * kW,
  fan_out = shape[0] * kH * kW, exactly as ``torch.nn.init`` computes them.

So ``kaiming_normal((D, M), rng)`` here and ``torch.nn.init.kaiming_normal_(torch.empty(M, D))``
draw from the same distribution. A 1-D array (a bias) has no fan-in: it is an error.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

LAYOUTS = ("in_out", "out_in")
MODES = ("fan_in", "fan_out")

# calculate_gain: the factor that undoes an activation's shrinking of the variance.
_UNIT_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    linear / conv / sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  selu: 3/4;
    leaky_relu with negative slope a (``param``, default 0.01): sqrt(2 / (1 + a^2)).

    ReLU zeroes half of a symmetric input, so E[relu(z)^2] = Var(z) / 2: the gain sqrt(2)
    puts the lost half back (chapter 04's ReLU result).
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"the negative slope of leaky_relu must be a number, got {slope!r}")
        return math.sqrt(2.0 / (1.0 + slope**2))
    known = ", ".join(_UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu"))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected one of {known}")


def fans(shape: tuple[int, ...], layout: str = "in_out") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight array of this ``shape`` in this ``layout`` (see the module doc)."""
    shape = _check_shape(shape)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if len(shape) < 2:
        raise ValueError(
            f"fan-in and fan-out are defined for arrays with at least 2 dimensions, got shape {shape}; "
            "a bias or other 1-D parameter is initialized with normal() or zeros"
        )
    if layout == "in_out":
        if len(shape) != 2:
            raise ValueError(f'layout "in_out" is a 2-D (D, M) matrix, got shape {shape}; use layout="out_in" for (out, in, kH, kW)')
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])  # 1 for a matrix, kH * kW for a 2-D convolution
    return shape[1] * receptive_field, shape[0] * receptive_field


def normal(shape: tuple[int, ...], rng: np.random.Generator, std: float = 1.0, mean: float = 0.0, dtype: type = np.float64) -> Array:
    """N(mean, std^2) entries, any shape (the "std 0.01" and "std 1.0" of the depth experiment)."""
    shape = _check_shape(shape)
    _check_rng(rng)
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return rng.normal(mean, std, size=shape).astype(dtype)


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0, layout: str = "in_out", dtype: type = np.float64
) -> Array:
    """Glorot & Bengio (2010): N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape, layout)
    return normal(shape, rng, std=_check_gain(gain) * math.sqrt(2.0 / (fan_in + fan_out)), dtype=dtype)


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0, layout: str = "in_out", dtype: type = np.float64
) -> Array:
    """Glorot & Bengio (2010): U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape, layout)
    return _uniform(shape, rng, _check_gain(gain) * math.sqrt(6.0 / (fan_in + fan_out)), dtype)


def kaiming_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "in_out",
    dtype: type = np.float64,
) -> Array:
    """He et al. (2015): N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).

    torch's defaults (a=0, nonlinearity="leaky_relu") give gain sqrt(2), i.e. std sqrt(2 / fan_in).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(shape, mode, layout))
    return normal(shape, rng, std=std, dtype=dtype)


def kaiming_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "in_out",
    dtype: type = np.float64,
) -> Array:
    """He et al. (2015): U(-bound, bound), bound = gain sqrt(3 / fan): the same variance as kaiming_normal."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(shape, mode, layout))
    return _uniform(shape, rng, bound, dtype)


def orthogonal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0, dtype: type = np.float64) -> Array:
    """Saxe et al. (2014): a (semi-)orthogonal matrix times ``gain``, as ``torch.nn.init.orthogonal_``.

    The array is viewed as rows = shape[0] by cols = (everything else); Q from the QR
    factorization of a standard normal matrix has orthonormal columns, and multiplying each
    column by the sign of R's diagonal makes Q uniformly distributed (Haar), not biased by QR's
    sign convention. With rows >= cols the columns are orthonormal (W^T W = I), otherwise the rows
    (W W^T = I): every singular value equals ``gain``, so no direction grows or shrinks with depth.
    """
    shape = _check_shape(shape)
    _check_rng(rng)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs an array with at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T  # factorize the tall matrix, transpose back at the end
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (_check_gain(gain) * q).reshape(shape).astype(dtype)


def _fan(shape: tuple[int, ...], mode: str, layout: str) -> int:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    fan_in, fan_out = fans(shape, layout)
    return fan_in if mode == "fan_in" else fan_out


def _uniform(shape: tuple[int, ...], rng: np.random.Generator, bound: float, dtype: type) -> Array:
    _check_rng(rng)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"shape must be a tuple of positive integers, got {shape}")
    return tuple(int(s) for s in shape)


def _check_rng(rng: np.random.Generator) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def _check_gain(gain: float) -> float:
    if not gain >= 0:
        raise ValueError(f"gain must be >= 0, got {gain}")
    return float(gain)
