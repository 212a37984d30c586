import numpy as np
import pytest
import torch

from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.gradcheck import check_layer
from course_lib.scratch.layers import Linear, ReLU, Sequential


def twins(D, rng, **kwargs):
    """A scratch and a torch batch norm with the same random gamma and beta (float64)."""
    ours = BatchNorm1d(D, **kwargs)
    theirs = torch.nn.BatchNorm1d(D, dtype=torch.float64, **kwargs)
    gamma, beta = rng.normal(1.0, 0.5, D), rng.normal(0.0, 0.5, D)
    ours.params["gamma"].data[:] = gamma
    ours.params["beta"].data[:] = beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    return ours, theirs


def step_both(ours, theirs, x, g):
    """One forward and backward in each; returns (ours, torch's) output, dx, dgamma, dbeta."""
    ours.zero_grad()
    y = ours.forward(x)
    dx = ours.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    theirs.zero_grad(set_to_none=True)
    yt = theirs(xt)
    yt.backward(torch.tensor(g))
    mine = (y, dx, ours.params["gamma"].grad, ours.params["beta"].grad)
    ref = (yt.detach().numpy(), xt.grad.numpy(), theirs.weight.grad.numpy(), theirs.bias.grad.numpy())
    return mine, ref


def assert_close(mine, ref, atol=1e-10):
    for name, a, b in zip(("y", "dx", "dgamma", "dbeta"), mine, ref):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.3, "eps": 1e-3}, {"momentum": None}])
def test_matches_torch_in_train_then_eval_mode(kwargs):
    rng = np.random.default_rng(0)
    N, D = 16, 7
    ours, theirs = twins(D, rng, **kwargs)
    for step in range(5):  # batches with different means and scales move the running statistics
        x = rng.normal(step - 2.0, 1.0 + step, (N, D))
        mine, ref = step_both(ours, theirs, x, rng.standard_normal((N, D)))
        assert_close(mine, ref)
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=0, atol=1e-10)
    assert int(ours.buffers["num_batches_tracked"]) == int(theirs.num_batches_tracked) == 5

    ours.eval()
    theirs.eval()
    x = rng.normal(0.5, 2.0, (N, D))
    mine, ref = step_both(ours, theirs, x, rng.standard_normal((N, D)))
    assert_close(mine, ref)
    running = ours.running_mean.copy()
    ours.forward(x)
    np.testing.assert_array_equal(ours.running_mean, running)  # eval mode never updates them


def test_running_variance_is_unbiased():
    bn = BatchNorm1d(1, momentum=1.0)  # momentum 1: the running value is the last batch's
    x = np.array([[1.0], [2.0], [4.0]])
    y = bn.forward(x)
    assert bn.running_mean[0] == pytest.approx(7 / 3)
    assert bn.running_var[0] == pytest.approx(np.var(x, ddof=1))
    # ...while the normalization itself divides by N
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 7 / 3) / np.sqrt(np.var(x) + 1e-5))


def test_train_output_has_zero_mean_unit_variance_per_feature():
    rng = np.random.default_rng(1)
    y = BatchNorm1d(5).forward(rng.normal(3.0, 10.0, (200, 5)))
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, atol=1e-6)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradcheck(mode):
    rng = np.random.default_rng(2)
    bn, _ = twins(4, rng)
    bn.forward(rng.normal(1.0, 2.0, (10, 4)))  # move the running statistics away from 0 and 1
    bn.train(mode == "train")
    report = check_layer(bn, rng.normal(0.0, 3.0, (6, 4)), rng)
    assert report.passed, str(report)


def test_inside_a_network_gradcheck_and_modes_propagate():
    rng = np.random.default_rng(3)
    net = Sequential(Linear(3, 6, rng), BatchNorm1d(6), ReLU(), Linear(6, 2, rng))
    report = check_layer(net, rng.standard_normal((8, 3)), rng)
    # A bias just before batch norm is subtracted away with the mean: its gradient is exactly 0,
    # so the relative error compares 0 with finite-difference noise; check it is 0 instead.
    assert np.abs(net.layers[0].params["b"].grad).max() < 1e-14
    errors = {name: e for name, e in report.errors.items() if name != "0.b"}
    assert max(errors.values()) < 1e-7, str(report)
    assert {"1.gamma", "1.beta"} <= set(errors)
    net.eval()
    assert net.layers[1].training is False


def test_float32_stays_float32():
    bn = BatchNorm1d(3, dtype=np.float32)
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    y = bn.forward(x)
    assert y.dtype == np.float32 and bn.backward(np.ones_like(y)).dtype == np.float32
    assert bn.running_var.dtype == np.float32


def test_batch_of_one_in_train_mode_is_a_clear_error():
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match="at least 2 examples.*got x of shape \\(1, 3\\)"):
        bn.forward(np.ones((1, 3)))
    bn.eval()
    assert bn.forward(np.ones((1, 3))).shape == (1, 3)  # eval mode uses the running statistics


@pytest.mark.parametrize("call, message", [
    (lambda: BatchNorm1d(0), "num_features must be a positive integer"),
    (lambda: BatchNorm1d(3, momentum=1.5), "momentum must lie in"),
    (lambda: BatchNorm1d(3, eps=0.0), "eps must be > 0"),
    (lambda: BatchNorm1d(3).forward(np.ones((4, 2))), "expects x of shape \\(N, 3\\), got \\(4, 2\\)"),
    (lambda: BatchNorm1d(3).backward(np.ones((4, 3))), "before forward"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()
