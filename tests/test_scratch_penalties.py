import numpy as np
import pytest
import torch

from course_lib.scratch import penalties
from course_lib.scratch.layers import Linear, ReLU, Sequential
from course_lib.scratch.parameter import Parameter


@pytest.fixture
def w():
    return np.random.default_rng(0).standard_normal((5, 4))


@pytest.mark.parametrize("kind, torch_penalty", [
    ("l2", lambda w, lam: 0.5 * lam * (w**2).sum()),
    ("l1", lambda w, lam: lam * w.abs().sum()),
])
def test_value_and_gradient_match_torch_autograd(w, kind, torch_penalty):
    lam = 0.3
    value, grad = getattr(penalties, kind), getattr(penalties, kind + "_grad")
    wt = torch.tensor(w, requires_grad=True)
    ref = torch_penalty(wt, lam)
    ref.backward()
    assert value(w, lam) == pytest.approx(ref.item(), rel=1e-14)
    np.testing.assert_allclose(grad(w, lam), wt.grad.numpy(), rtol=1e-14)


def test_l2_gradient_is_sgds_weight_decay(w):
    """One SGD step with weight_decay=lam equals one step on data loss + L2 penalty."""
    g, lam, lr = np.ones_like(w), 0.1, 0.5
    wt = torch.tensor(w, requires_grad=True)
    wt.grad = torch.tensor(g)
    torch.optim.SGD([wt], lr=lr, weight_decay=lam).step()
    np.testing.assert_allclose(w - lr * (g + penalties.l2_grad(w, lam)), wt.detach().numpy(), rtol=1e-14)


def test_l1_gradient_is_zero_at_zero():
    np.testing.assert_array_equal(penalties.l1_grad(np.array([-2.0, 0.0, 3.0]), 0.5), [-0.5, 0.0, 0.5])


def test_l1_prox_soft_thresholds_to_exact_zeros():
    w = np.array([-1.0, -0.05, 0.0, 0.02, 0.3])
    np.testing.assert_allclose(penalties.l1_prox(w, 0.1), [-0.9, 0.0, 0.0, 0.0, 0.2])
    assert np.count_nonzero(penalties.l1_prox(w, 0.1)) == 2


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_add_penalty_adds_into_grad_and_returns_the_sum(kind):
    rng = np.random.default_rng(1)
    net = Sequential(Linear(3, 4, rng), ReLU(), Linear(4, 2, rng))
    weights = [layer.params["W"] for layer in net.layers if isinstance(layer, Linear)]
    weights[0].accumulate_grad(np.ones((3, 4)))  # a gradient from the data loss is already there
    value = penalties.add_penalty(weights, 0.2, kind)
    f, df = getattr(penalties, kind), getattr(penalties, kind + "_grad")
    assert value == pytest.approx(sum(f(p.data, 0.2) for p in weights))
    np.testing.assert_allclose(weights[0].grad, 1.0 + df(weights[0].data, 0.2))
    np.testing.assert_allclose(weights[1].grad, df(weights[1].data, 0.2))
    assert net.layers[0].params["b"].grad is None  # biases were not passed, so not penalized


def test_add_penalty_on_a_whole_model(w):
    net = Sequential(Linear(5, 4, np.random.default_rng(2)))
    value = penalties.add_penalty(net, 1.0)
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    assert value == pytest.approx(0.5 * (np.sum(W.data**2) + np.sum(b.data**2)))
    np.testing.assert_allclose(b.grad, b.data)


def test_a_missing_parameter_is_a_clear_error():
    net = Sequential(Linear(3, 4, np.random.default_rng(3)))
    missing = net.layers[0].params.get("gamma")  # a Linear has no gamma: None
    with pytest.raises(ValueError, match="params\\[1\\] must be a Parameter, got None"):
        penalties.add_penalty([net.layers[0].params["W"], missing], 0.1)
    with pytest.raises(ValueError, match="params\\[0\\] must be a Parameter, got ndarray"):
        penalties.add_penalty([np.ones(3)], 0.1)


@pytest.mark.parametrize("call, message", [
    (lambda p: penalties.add_penalty(p, 0.1, kind="l3"), "kind must be one of"),
    (lambda p: penalties.add_penalty(p, -0.1), "must be a number >= 0, got -0.1"),
    (lambda p: penalties.l1_prox(np.ones(2), -1.0), "must be a number >= 0"),
    (lambda p: penalties.add_penalty(3.0, 0.1), "expects a model or an iterable of Parameters, got float"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(Parameter(np.ones(3)))
