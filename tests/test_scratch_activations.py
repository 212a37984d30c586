"""The five activations and their derivatives against torch (float64) and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.activations import ACTIVATIONS, get_activation, leaky_relu, leaky_relu_grad, elu, elu_grad, sigmoid

TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
}


def _inputs(seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(scale=3.0, size=(7, 5))
    return np.concatenate([x.ravel(), [0.0, -40.0, 40.0, 1e-3, -1e-3]]).reshape(8, 5)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_value_and_derivative_match_torch_autograd(name):
    x = _inputs()
    act = get_activation(name)
    xt = torch.tensor(x, requires_grad=True)
    yt = TORCH[name](xt)
    (gt,) = torch.autograd.grad(yt.sum(), xt)
    np.testing.assert_allclose(act.f(x), yt.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(act.grad(x), gt.numpy(), rtol=1e-13, atol=1e-15)
    assert act.f(x).shape == x.shape and act.f(x).dtype == np.float64


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_passes_central_finite_differences(name):
    # Keep away from the kink at 0, where the derivative of ReLU-like functions is not defined.
    x = np.random.default_rng(1).normal(scale=2.0, size=200)
    x = x[np.abs(x) > 1e-3]
    act, h = get_activation(name), 1e-5
    numeric = (act.f(x + h) - act.f(x - h)) / (2 * h)
    # Central differences err by O(h^2) truncation plus O(eps / h) rounding: 1e-9 absolute covers both.
    np.testing.assert_allclose(act.grad(x), numeric, rtol=1e-7, atol=1e-9)


def test_parameters_match_torch():
    x = _inputs(2)
    np.testing.assert_allclose(leaky_relu(x, 0.1), F.leaky_relu(torch.tensor(x), 0.1).numpy(), rtol=1e-14)
    np.testing.assert_allclose(leaky_relu_grad(x, 0.1)[x < 0], 0.1)
    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(F.elu(xt, alpha=0.5).sum(), xt)
    np.testing.assert_allclose(elu(x, 0.5), F.elu(torch.tensor(x), 0.5).numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(elu_grad(x, 0.5), g.numpy(), rtol=1e-13, atol=1e-15)


def test_sigmoid_is_stable_and_saturates():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(x)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert get_activation("sigmoid").grad(np.array([0.0]))[0] == 0.25
    assert get_activation("sigmoid").grad(np.array([20.0]))[0] < 1e-8  # saturation


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        sigmoid(np.arange(3))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        get_activation("gelu")


@pytest.mark.parametrize("name", sorted(TORCH))
def test_nan_propagates_in_value_and_derivative_as_in_torch(name):
    """A NaN pre-activation must stay visible: torch gives NaN out, and its own derivative there."""
    x = np.array([np.nan, -1.0, 0.0, 2.0])
    xt = torch.tensor(x, requires_grad=True)
    out = TORCH[name](xt)
    out.backward(torch.ones_like(xt))
    act = ACTIVATIONS[name]
    np.testing.assert_array_equal(np.isnan(act.f(x)), np.isnan(out.detach().numpy()))
    np.testing.assert_allclose(act.f(x), out.detach().numpy(), rtol=1e-14)  # NaNs compare equal here
    np.testing.assert_allclose(act.grad(x), xt.grad.numpy(), rtol=1e-14)
