import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch import activations, losses

TOL = dict(rtol=1e-10, atol=1e-12)


def torch_value_and_grad(fn, z, *args):
    zt = torch.tensor(z, requires_grad=True)
    value = fn(zt, *args)
    value.backward()
    return value.item(), zt.grad.numpy()


def extreme_logits(rng, shape):
    """Ordinary logits with some of +-1000 mixed in, where naive formulas overflow."""
    z = rng.standard_normal(shape) * 5
    z.flat[::3] = 1000.0
    z.flat[1::4] = -1000.0
    return z


@pytest.mark.parametrize("seed", range(3))
def test_sigmoid_matches_torch_and_stays_finite(seed):
    z = extreme_logits(np.random.default_rng(seed), (7, 3))
    zt = torch.tensor(z, requires_grad=True)
    torch.sigmoid(zt).backward(torch.ones_like(zt))
    np.testing.assert_allclose(activations.sigmoid(z), torch.sigmoid(zt).detach().numpy(), **TOL)
    np.testing.assert_allclose(activations.sigmoid_grad(z), zt.grad.numpy(), **TOL)
    assert np.isfinite(activations.sigmoid(z)).all()


def test_bce_terms_batched_over_many_networks_match_torch():
    """The unchecked per-entry form, averaged over the last axis: G losses in one call."""
    rng = np.random.default_rng(4)
    z, t = extreme_logits(rng, (5, 8)), rng.integers(0, 2, size=8).astype(np.float64)
    ours = losses.binary_cross_entropy_with_logits_terms(z, t).mean(axis=-1)
    theirs = [F.binary_cross_entropy_with_logits(torch.tensor(row), torch.tensor(t)).item() for row in z]
    np.testing.assert_allclose(ours, theirs, **TOL)


@pytest.mark.parametrize("shape", [(9,), (6, 3)])
def test_bce_with_logits_matches_torch_in_value_and_gradient(shape):
    rng = np.random.default_rng(1)
    z = extreme_logits(rng, shape)
    t = rng.integers(0, 2, size=shape).astype(np.float64)
    value, grad = torch_value_and_grad(F.binary_cross_entropy_with_logits, z, torch.tensor(t))
    assert np.isfinite(losses.binary_cross_entropy_with_logits(z, t))
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits(z, t), value, **TOL)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits_grad(z, t), grad, **TOL)


def test_bce_accepts_soft_targets_like_torch():
    rng = np.random.default_rng(2)
    z, t = rng.standard_normal(10), rng.uniform(0, 1, 10)
    value, grad = torch_value_and_grad(F.binary_cross_entropy_with_logits, z, torch.tensor(t))
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits(z, t), value, **TOL)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits_grad(z, t), grad, **TOL)


def test_plus_minus_one_form_is_the_same_loss():
    rng = np.random.default_rng(3)
    f = extreme_logits(rng, (12,))
    y = rng.choice([-1.0, 1.0], size=12)
    t = (y + 1) / 2
    np.testing.assert_allclose(losses.logistic_loss(f, y), losses.binary_cross_entropy_with_logits(f, t), **TOL)
    np.testing.assert_allclose(losses.logistic_loss_grad(f, y), losses.binary_cross_entropy_with_logits_grad(f, t), **TOL)
    # and the formula ln(1 + e^(-y f)) itself, where it does not overflow
    g = rng.standard_normal(12)
    np.testing.assert_allclose(losses.logistic_loss(g, y), np.mean(np.log(1 + np.exp(-y * g))), **TOL)


@pytest.mark.parametrize("C", [2, 5])
def test_cross_entropy_matches_torch_in_value_and_gradient(C):
    rng = np.random.default_rng(C)
    z = extreme_logits(rng, (8, C))
    t = rng.integers(0, C, size=8)
    value, grad = torch_value_and_grad(F.cross_entropy, z, torch.tensor(t))
    assert np.isfinite(losses.cross_entropy(z, t))
    np.testing.assert_allclose(losses.cross_entropy(z, t), value, **TOL)
    np.testing.assert_allclose(losses.cross_entropy_grad(z, t), grad, **TOL)


def test_softmax_and_its_vector_jacobian_product_match_torch():
    rng = np.random.default_rng(4)
    z, g = extreme_logits(rng, (5, 4)), rng.standard_normal((5, 4))
    zt = torch.tensor(z, requires_grad=True)
    s = torch.softmax(zt, dim=1)
    s.backward(torch.tensor(g))
    np.testing.assert_allclose(losses.softmax(z), s.detach().numpy(), **TOL)
    np.testing.assert_allclose(losses.log_softmax(z), torch.log_softmax(torch.tensor(z), 1).numpy(), **TOL)
    np.testing.assert_allclose(losses.softmax_grad(z, g), zt.grad.numpy(), **TOL)
    np.testing.assert_allclose(losses.softmax(z).sum(axis=1), np.ones(5), **TOL)


def test_cross_entropy_gradient_is_prediction_minus_target():
    rng = np.random.default_rng(5)
    z, t = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    expected = (losses.softmax(z) - np.eye(3)[t]) / 6
    np.testing.assert_allclose(losses.cross_entropy_grad(z, t), expected, **TOL)


def test_mse_is_half_the_sum_of_squares_and_matches_torch():
    rng = np.random.default_rng(6)
    y, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    value, grad = torch_value_and_grad(lambda a, b: 0.5 * F.mse_loss(a, b, reduction="sum"), y, torch.tensor(t))
    np.testing.assert_allclose(losses.squared_error(y, t), value, **TOL)
    np.testing.assert_allclose(losses.squared_error_grad(y, t), grad, **TOL)


def test_functions_do_not_modify_their_inputs():
    rng = np.random.default_rng(7)
    z, t = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    z0 = z.copy()
    losses.cross_entropy_grad(z, t)
    losses.softmax(z)
    np.testing.assert_array_equal(z, z0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: losses.binary_cross_entropy_with_logits(np.zeros(4), np.zeros((4, 1))), r"shape of logits \(4,\), got \(4, 1\)"),
        (lambda: losses.binary_cross_entropy_with_logits(np.zeros(3), np.array([0.0, 1.0, 2.0])), r"\[0, 1\]"),
        (lambda: losses.logistic_loss(np.zeros(3), np.array([0.0, 1.0, -1.0])), r"-1 or \+1"),
        (lambda: losses.cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2, 3])), r"0\.\.2"),
        (lambda: losses.cross_entropy(np.zeros((4, 3)), np.zeros(4)), r"integer"),
        (lambda: losses.cross_entropy(np.zeros((4, 3)), np.zeros(5, dtype=int)), r"\(N,\) = \(4,\)"),
        (lambda: losses.cross_entropy(np.zeros(4), np.zeros(4, dtype=int)), r"\(N, C\)"),
        (lambda: losses.binary_cross_entropy_with_logits(np.array([0.0, np.nan]), np.zeros(2)), r"finite"),
        (lambda: losses.cross_entropy(np.array([[np.inf, 0.0]]), np.array([0])), r"finite"),
        (lambda: losses.squared_error(np.zeros((3, 1)), np.zeros(3)), r"\(3, 1\), got \(3,\)"),
        (lambda: losses.binary_cross_entropy_with_logits(np.array([1, 2]), np.zeros(2)), r"floating dtype"),
    ],
)
def test_bad_input_raises_value_error_naming_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
