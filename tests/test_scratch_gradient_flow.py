"""Gradient flow through deep stacks: per-layer norms from the layer engine and from NumPy, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.gradient_flow import (
    deep_net,
    gaussian_weights,
    gradient_norm_profile,
    input_gradient_norms,
    layer_gradient_norms,
)
from course_lib.scratch.layers import Sigmoid, Tanh

TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "leaky_relu": F.leaky_relu, "elu": F.elu}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_layer_gradient_norms_match_torch(name):
    rng = np.random.default_rng(0)
    weights = gaussian_weights(6, 8, rng)
    X, upstream = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    ws = [torch.tensor(W, requires_grad=True) for W in weights]
    h = torch.tensor(X)
    for W in ws:
        h = TORCH[name](h @ W)
    grads = torch.autograd.grad((h * torch.tensor(upstream)).sum(), ws)
    np.testing.assert_allclose(layer_gradient_norms(name, weights, X, upstream),
                               [g.norm().item() for g in grads], rtol=1e-12)


def test_sigmoid_gradients_vanish_with_depth_and_relu_ones_do_not():
    sigmoid, relu = gradient_norm_profile("sigmoid", depth=20), gradient_norm_profile("relu", depth=20)
    assert sigmoid[0] / sigmoid[-1] < 1e-8       # each layer multiplies by f' <= 1/4
    assert 0.1 < relu[0] / relu[-1] < 10
    # With small weights tanh is nearly linear: signals shrink by ~gain per layer on the way in and
    # gradients on the way back, so every layer's weight gradient is ~gain^(depth-1) times smaller.
    tanh, tanh_small = gradient_norm_profile("tanh", depth=20), gradient_norm_profile("tanh", depth=20, gain=0.5)
    assert tanh_small.max() < 1e-4 * tanh.min()




@pytest.mark.parametrize("activation,name", [(None, None), (Sigmoid, "sigmoid"), (Tanh, "tanh")])
def test_input_gradient_norms_match_torch(activation, name):
    rng = np.random.default_rng(1)
    net = deep_net(5, 6, 1.2, activation, rng)
    X, G = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    inputs, h = [], torch.tensor(X, requires_grad=True)
    for layer in net.layers:
        if "W" in layer.params:
            inputs.append(h)
            h = h @ torch.tensor(layer.params["W"].data) + torch.tensor(layer.params["b"].data)
        else:
            h = TORCH[name](h)
    grads = torch.autograd.grad((h * torch.tensor(G)).sum(), inputs)
    expected = [g.norm().item() for g in grads]
    np.testing.assert_allclose(input_gradient_norms(net, X, G), expected, rtol=1e-12)


def test_deep_net_has_the_requested_shape_and_scale():
    rng = np.random.default_rng(2)
    net = deep_net(4, 200, 2.0, None, rng)
    Ws = [p.data for name, p in net.named_parameters() if name.endswith("W")]
    assert len(Ws) == 4 and all(W.shape == (200, 200) for W in Ws)
    assert np.std(Ws[0]) == pytest.approx(2.0 / np.sqrt(200), rel=0.02)
    assert all(not p.data.any() for name, p in net.named_parameters() if name.endswith("b"))


def test_bad_shapes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="upstream"):
        layer_gradient_norms("relu", gaussian_weights(2, 4, rng), np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="depth"):
        gaussian_weights(0, 4, rng)
    with pytest.raises(ValueError, match="depth"):
        deep_net(0, 4, 1.0, None, rng)
    with pytest.raises(ValueError, match="G must have"):
        input_gradient_norms(deep_net(2, 4, 1.0, Tanh, rng), np.zeros((3, 4)), np.zeros((3, 5)))
