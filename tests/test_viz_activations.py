"""Per-layer gradient norms against torch.autograd, and the activation explorer driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course_lib.viz.activations import ActivationExplorer, deep_net, gradient_norm_profile, layer_gradient_norms  # noqa: E402

TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "leaky_relu": F.leaky_relu, "elu": F.elu}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_layer_gradient_norms_match_torch(name):
    rng = np.random.default_rng(0)
    weights = deep_net(6, 8, rng)
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


def test_explorer_updates_artists():
    e = ActivationExplorer(names=("sigmoid",), depth=10)
    assert e.norm_lines["sigmoid"].get_visible() and not e.norm_lines["relu"].get_visible()
    e.names.value = ("sigmoid", "relu")
    assert e.norm_lines["relu"].get_visible()
    np.testing.assert_allclose(e.norm_lines["relu"].get_ydata(), gradient_norm_profile("relu", 10))
    e.depth.value = 30
    assert len(e.norm_lines["sigmoid"].get_xdata()) == 30
    before = e.norm_lines["relu"].get_ydata().copy()
    e.gain.value = 2.0
    assert not np.allclose(before, e.norm_lines["relu"].get_ydata())


def test_bad_shapes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="upstream"):
        layer_gradient_norms("relu", deep_net(2, 4, rng), np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="depth"):
        deep_net(0, 4, rng)
