"""How the gradient grows or fades on its way back through a deep network.

Backprop multiplies the upstream gradient by one Jacobian per layer, so through L layers its
norm behaves like a product of L factors: below 1 on average it vanishes geometrically, above
1 it explodes. Two measurements, each on a stack of square layers (width, width):

- ``input_gradient_norms(net, X, G)`` (lecture 03): ||dL/dh_{l-1}||, the gradient arriving at the
  input of each ``Linear`` of a layer-engine ``Sequential``, with L = sum(net(X) * G).
- ``layer_gradient_norms(name, weights, X, upstream)`` (lecture 04): ||dL/dW_l||_F, the gradient
  each weight matrix receives, for h_l = f(h_{l-1} W_l) with any activation of
  ``scratch.activations``, and L = sum(h_depth * upstream).

Shapes: N batch, ``width`` units per layer, ``depth`` layers; norms are returned input side first.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.activations import get_activation
from course_lib.scratch.layers import Layer, Linear, Sequential

Array = np.ndarray


def gaussian_weights(depth: int, width: int, rng: np.random.Generator, std: float | None = None) -> list[Array]:
    """``depth`` square weight matrices (width, width), W ~ N(0, std^2), std = 1/sqrt(width) by default."""
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got depth={depth}, width={width}")
    std = 1.0 / np.sqrt(width) if std is None else std
    return [rng.normal(scale=std, size=(width, width)) for _ in range(depth)]


def deep_net(depth: int, width: int, gain: float, activation: type[Layer] | None, rng: np.random.Generator) -> Sequential:
    """``depth`` times Linear(width, width) (+ ``activation()`` after each, if given), as a ``Sequential``.

    Weights N(0, gain^2 / width) and zero biases: the gain sets the typical size of each Jacobian
    factor, so gain 1 keeps a linear stack's gradient norm roughly constant.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got depth={depth}, width={width}")
    layers: list[Layer] = []
    for _ in range(depth):
        linear = Linear(width, width, rng)
        linear.params["W"].data = rng.normal(0, gain / np.sqrt(width), (width, width))
        linear.params["b"].data = np.zeros(width)
        layers += [linear] + ([activation()] if activation else [])
    return Sequential(*layers)


def input_gradient_norms(net: Sequential, X: Array, G: Array) -> list[float]:
    """||dL/d(input of each Linear)|| for L = sum(net(X) * G): forward X (N, D), send G (N, M) back.

    One norm per ``Linear`` of ``net``, input side first. The parameters' ``grad`` fill up as a
    side effect (call ``net.zero_grad()`` before training afterwards).
    """
    out = net.forward(X)
    if G.shape != out.shape:
        raise ValueError(f"G must have the output's shape {out.shape}, got {G.shape}")
    g, norms = G, []
    for layer in reversed(net.layers):
        g = layer.backward(g)
        if isinstance(layer, Linear):
            norms.append(float(np.linalg.norm(g)))
    return norms[::-1]


def layer_gradient_norms(name: str, weights: list[Array], X: Array, upstream: Array) -> Array:
    """||dL/dW_l||_F for every layer of h_l = f(h_{l-1} W_l), with L = sum(h_depth * upstream).

    weights: ``depth`` arrays (width, width); X (N, width) the input h_0; upstream (N, width) the
    gradient arriving at the last layer. Returns (depth,), first layer first.
    """
    act = get_activation(name)
    if X.ndim != 2 or upstream.shape != X.shape or any(W.shape != (X.shape[1],) * 2 for W in weights):
        raise ValueError(f"need X (N, width), upstream of X's shape and weights (width, width); got X {X.shape}, "
                         f"upstream {upstream.shape}, weights {[W.shape for W in weights]}")
    hs, zs = [X], []
    for W in weights:                    # forward, keeping what backward needs
        zs.append(hs[-1] @ W)
        hs.append(act.f(zs[-1]))
    norms, dh = [], upstream
    for W, z, h_in in zip(weights[::-1], zs[::-1], hs[-2::-1]):   # backward, last layer first
        dz = dh * act.grad(z)
        norms.append(np.linalg.norm(h_in.T @ dz))
        dh = dz @ W.T
    return np.array(norms[::-1])


def gradient_norm_profile(name: str, depth: int = 20, width: int = 64, gain: float = 1.0, n: int = 64,
                          seed: int = 0) -> Array:
    """``layer_gradient_norms`` on a seeded net with W ~ N(0, gain^2 / width), the same net for every name."""
    rng = np.random.default_rng(seed)
    weights = gaussian_weights(depth, width, rng, std=gain / np.sqrt(width))
    X, upstream = rng.standard_normal((n, width)), rng.standard_normal((n, width)) / n
    return layer_gradient_norms(name, weights, X, upstream)
