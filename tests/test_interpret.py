"""Saliency, FGSM, the accuracy-vs-epsilon curve, top-activating inputs, and the filter grid."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.data import load_digits
from course_lib.interpret import accuracy_under_attack, fgsm, saliency_map, top_activating
from course_lib.viz.filters import filter_grid, plot_filters


def linear_model(seed=0, C=2, H=3, W=4, classes=5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, classes)).double()


@pytest.fixture(scope="module")
def digits_model():
    """Softmax regression on 500 8x8 digits in [0, 1], fitted to over 90 % training accuracy."""
    X, y = load_digits()
    x = torch.tensor(X[:500] / 16.0).view(-1, 1, 8, 8).float()
    y = torch.tensor(y[:500])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(50):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model, x, y


def test_saliency_of_a_linear_model_is_the_weight_row_of_the_class():
    model = linear_model()
    x = torch.randn(3, 2, 3, 4, dtype=torch.float64)
    target = torch.tensor([0, 4, 2])
    sal = saliency_map(model, x, target)
    W = model[1].weight.detach()
    expected = W[target].view(3, 2, 3, 4).abs().amax(dim=1)
    torch.testing.assert_close(sal, expected)
    assert model[1].weight.grad is None  # parameters' gradients untouched
    default = saliency_map(model, x)  # the predicted class
    torch.testing.assert_close(default, W[model(x).argmax(1)].view(3, 2, 3, 4).abs().amax(dim=1))


def test_fgsm_steps_along_the_sign_of_the_loss_gradient():
    model = linear_model(1)
    x = torch.rand(4, 2, 3, 4, dtype=torch.float64) * 0.8 + 0.1
    y = torch.tensor([1, 0, 3, 4])
    W = model[1].weight.detach()
    p = F.softmax(model(x), dim=1).detach()
    grad = (p - F.one_hot(y, 5)) @ W  # d CE / d x for a linear model, per example
    x_adv = fgsm(model, x, y, epsilon=0.05)
    torch.testing.assert_close(x_adv, x + 0.05 * grad.sign().view_as(x))
    assert F.cross_entropy(model(x_adv), y) > F.cross_entropy(model(x), y)
    assert fgsm(model, x, y, epsilon=0.5).min() >= 0 and fgsm(model, x, y, epsilon=0.5).max() <= 1
    assert fgsm(model, x, y, epsilon=0.5, clamp=None).min() < 0


def test_accuracy_falls_as_epsilon_grows(digits_model):
    model, x, y = digits_model
    model.train()
    curve = accuracy_under_attack(model, x, y, [0.0, 0.05, 0.1, 0.2], batch_size=128)
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    assert curve[0] == pytest.approx(clean) and clean > 0.9
    assert all(a >= b for a, b in zip(curve, curve[1:])), curve
    assert curve[-1] < 0.5 * curve[0], curve
    assert model.training  # the mode it had


def test_top_activating_inputs_for_a_unit():
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten())
    x = torch.randn(50, 1, 4, 4)
    idx, act = top_activating(model, conv, unit=0, inputs=x, k=5, batch_size=16)
    means = x.mean(dim=(1, 2, 3))
    assert idx.tolist() == means.argsort(descending=True)[:5].tolist()
    torch.testing.assert_close(act, means[idx])
    idx_max, _ = top_activating(model, conv, unit=1, inputs=x, k=3, reduce="max")
    assert idx_max.tolist() == (-x).amax(dim=(1, 2, 3)).argsort(descending=True)[:3].tolist()
    with pytest.raises(ValueError, match=r"unit must lie in \[0, 2\), got 2"):
        top_activating(model, conv, unit=2, inputs=x)
    with pytest.raises(ValueError, match="did not run"):
        top_activating(model, nn.Linear(2, 2), unit=0, inputs=x)
    assert not conv._forward_hooks  # the hook is removed


def test_bad_inputs_raise_value_errors():
    model = linear_model()
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(3, 24\)"):
        saliency_map(model, torch.zeros(3, 24))
    with pytest.raises(ValueError, match=r"int64 class indices of shape \(2,\)"):
        fgsm(model, torch.zeros(2, 2, 3, 4, dtype=torch.float64), torch.tensor([0, 1, 2]), 0.1)
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\), got \[0, 7\]"):
        fgsm(model, torch.zeros(2, 2, 3, 4, dtype=torch.float64), torch.tensor([0, 7]), 0.1)


def test_filter_grid_tiles_and_rescales_each_filter():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 1, 3, 3))
    grid = filter_grid(w, ncols=3)
    assert grid.shape == (2 * 3 + 1, 3 * 3 + 2)
    first = grid[:3, :3]
    np.testing.assert_allclose(first, (w[0, 0] - w[0].min()) / (w[0].max() - w[0].min()))
    np.testing.assert_allclose(grid[4:7, 8:11], (w[5, 0] - w[5].min()) / np.ptp(w[5]))
    assert np.isnan(grid[3]).all() and np.isnan(grid[:, 3]).all()  # the gaps
    rgb = filter_grid(torch.tensor(rng.standard_normal((4, 3, 5, 5)), requires_grad=True))
    assert rgb.shape == (11, 11, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert np.nanmax(filter_grid(np.zeros((2, 1, 2, 2)))) == 0  # a constant filter: no division by zero
    assert filter_grid(rng.standard_normal((4, 6, 3, 3)), channel=2).shape == (7, 7)
    with pytest.raises(ValueError, match="pass channel="):
        filter_grid(rng.standard_normal((4, 6, 3, 3)))
    with pytest.raises(ValueError, match=r"\(C_out, C_in, kH, kW\), got \(4, 3, 3\)"):
        filter_grid(np.zeros((4, 3, 3)))


def test_plot_filters_draws_the_grid():
    import matplotlib.pyplot as plt

    w = torch.randn(8, 1, 5, 5)
    ax = plot_filters(w)
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(np.ma.filled(image, np.nan), filter_grid(w), equal_nan=True)
    assert "8 first-layer filters" in ax.get_title()
    plt.close(ax.figure)
