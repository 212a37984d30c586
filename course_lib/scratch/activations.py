"""Activation functions and their derivatives, elementwise on NumPy arrays.

Every function takes an array ``x`` of any shape (...) and returns an array of the same shape:
``f(x)`` for the activation, ``f'(x)`` (the elementwise derivative) for ``*_grad``. Backprop
through an activation is then ``dx = dout * f'(x)``.

=============  ==================================  ==========================================
name           f(x)                                f'(x)
=============  ==================================  ==========================================
sigmoid        1 / (1 + e^-x)                      f(x) (1 - f(x))            (at most 1/4)
tanh           (e^x - e^-x) / (e^x + e^-x)         1 - f(x)^2                 (at most 1)
relu           max(0, x)                           1 if x > 0 else 0
leaky_relu     x if x > 0 else a x                 1 if x > 0 else a
elu            x if x > 0 else a (e^x - 1)         1 if x > 0 else a e^x
=============  ==================================  ==========================================

At the kink x = 0 we use the derivative PyTorch's autograd uses (ReLU: 0, Leaky ReLU: a,
ELU: a), so a gradient computed here matches ``torch.autograd`` exactly. A NaN input gives a
NaN output (never a silent 0), and at NaN the derivatives are torch's too (ReLU's is 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


def _as_float(x: Array, name: str = "x") -> Array:
    """Return ``x`` as a floating-point array; integer inputs would silently truncate."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be a floating-point array, got dtype {x.dtype}")
    return x


def sigmoid(x: Array) -> Array:
    """Logistic sigmoid 1 / (1 + e^-x), computed without overflow for large |x|."""
    x = _as_float(x)
    # e^-|x| never overflows; the two branches are the same function written two ways.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x: Array) -> Array:
    """sigma'(x) = sigma(x) (1 - sigma(x)); at most 1/4, reached at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent, a sigmoid rescaled to (-1, 1): tanh(x) = 2 sigma(2x) - 1."""
    return np.tanh(_as_float(x))


def tanh_grad(x: Array) -> Array:
    """tanh'(x) = 1 - tanh(x)^2; at most 1, reached at x = 0."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x: Array) -> Array:
    """Rectified linear unit max(0, x); NaN stays NaN (as in PyTorch: a NaN must not hide as a 0)."""
    x = _as_float(x)
    return np.where(x <= 0, 0.0, x).astype(x.dtype)  # NaN <= 0 is False: NaN passes through


def relu_grad(x: Array) -> Array:
    """0 where x <= 0 (including x = 0), else 1: PyTorch's rule, which also passes the gradient at NaN."""
    x = _as_float(x)
    return np.where(x <= 0, 0.0, 1.0).astype(x.dtype)


def leaky_relu(x: Array, negative_slope: float = 0.01) -> Array:
    """x for x > 0, ``negative_slope * x`` otherwise (PyTorch's default slope is 0.01)."""
    x = _as_float(x)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def leaky_relu_grad(x: Array, negative_slope: float = 0.01) -> Array:
    """1 where x > 0, else ``negative_slope``: the gradient never dies completely."""
    x = _as_float(x)
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """x for x > 0, ``alpha * (e^x - 1)`` otherwise: smooth, saturating to -alpha."""
    x = _as_float(x)
    # expm1 is accurate near 0; min(x, 0) keeps exp from overflowing on the unused branch.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(x.dtype)


def elu_grad(x: Array, alpha: float = 1.0) -> Array:
    """1 where x > 0, else ``alpha * e^x``."""
    x = _as_float(x)
    return np.where(x <= 0, alpha * np.exp(np.minimum(x, 0.0)), 1.0).astype(x.dtype)  # NaN: 1, as torch


@dataclass(frozen=True)
class Activation:
    """An activation and its derivative, by name: ``ACTIVATIONS["tanh"].f(x)``."""

    name: str
    f: Callable[[Array], Array]
    grad: Callable[[Array], Array]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_grad),
    "tanh": Activation("tanh", tanh, tanh_grad),
    "relu": Activation("relu", relu, relu_grad),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_grad),
    "elu": Activation("elu", elu, elu_grad),
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name; the error lists the names that exist."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
