import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.models.init import he_init_, seeded
from course_lib.models.mlp import MLP, LogisticRegression
from course_lib.scratch.activations import ACTIVATIONS
from course_lib.scratch.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy, Tanh


def test_mlp_layout_and_shapes():
    model = MLP([4, 8, 6, 3], activation="tanh")
    kinds = [type(m).__name__ for m in model.net]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert model(torch.randn(5, 4)).shape == (5, 3)


@pytest.mark.parametrize("activation, scratch_act", [("relu", ReLU), ("tanh", Tanh)])
def test_mlp_matches_the_scratch_twin_in_value_and_gradient(activation, scratch_act):
    rng = np.random.default_rng(0)
    scratch = Sequential(Linear(5, 7, rng), scratch_act(), Linear(7, 3, rng))
    model = MLP([5, 7, 3], activation=activation, dtype=torch.float64)
    with torch.no_grad():
        for lin, ours in zip([model.net[0], model.net[2]], [scratch.layers[0], scratch.layers[2]]):
            lin.weight.copy_(torch.tensor(ours.params["W"].data.T))  # torch stores (M, D)
            lin.bias.copy_(torch.tensor(ours.params["b"].data))
    X, t = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    loss = SoftmaxCrossEntropy()
    value = loss.forward(scratch.forward(X), t)
    scratch.backward(loss.backward())
    ref = F.cross_entropy(model(torch.tensor(X)), torch.tensor(t))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-10)
    np.testing.assert_allclose(model.net[0].weight.grad.numpy().T, scratch.layers[0].params["W"].grad, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(model.net[2].bias.grad.numpy(), scratch.layers[2].params["b"].grad, rtol=1e-8, atol=1e-12)


def test_mlp_with_batch_norm_normalizes_each_hidden_layer():
    model = MLP([4, 8, 6, 3], batch_norm=True, dtype=torch.float64)
    kinds = [type(m).__name__ for m in model.net]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert model.net[0].bias is None and model.net[3].bias is None  # beta replaces the bias
    assert model.net[6].bias is not None  # the output layer keeps its bias
    x = 5.0 + 3.0 * torch.randn(32, 4, dtype=torch.float64)
    z = model.net[1](model.net[0](x))  # train mode: the batch's own statistics
    torch.testing.assert_close(z.mean(0), torch.zeros(8, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(z.var(0, unbiased=False), torch.ones(8, dtype=torch.float64), atol=1e-3, rtol=0)
    model.eval()  # eval mode: running statistics, one update old, so the output is not normalized
    assert not torch.allclose(model.net[1](model.net[0](x)).mean(0), torch.zeros(8, dtype=torch.float64), atol=1e-3)


def test_he_init_draws_std_sqrt2_over_fan_in_from_the_seeded_generator():
    model = MLP([400, 300, 200, 10], batch_norm=True)
    with seeded(0):
        he_init_(model)
    for lin in (model.net[0], model.net[3], model.net[6]):
        assert lin.weight.std().item() == pytest.approx(np.sqrt(2.0 / lin.in_features), rel=0.02)
    assert torch.count_nonzero(model.net[6].bias) == 0
    assert torch.equal(model.net[1].weight, torch.ones(300))  # batch norm's gamma is left alone
    twin = MLP([400, 300, 200, 10], batch_norm=True)
    with seeded(0):
        he_init_(twin)
    assert torch.equal(twin.net[3].weight, model.net[3].weight)
    with seeded(1):
        he_init_(twin)
    assert not torch.equal(twin.net[3].weight, model.net[3].weight)
    tanh = nn.Linear(500, 500)
    with seeded(0):
        he_init_(tanh, nonlinearity="tanh")
    assert tanh.weight.std().item() == pytest.approx(5.0 / 3.0 / np.sqrt(500), rel=0.02)


def test_logistic_regression_binary_and_softmax_outputs():
    assert LogisticRegression(3)(torch.randn(4, 3)).shape == (4,)
    assert LogisticRegression(3, num_classes=5)(torch.randn(4, 3)).shape == (4, 5)


def test_models_are_built_on_the_requested_device_and_dtype():
    model = MLP([2, 3, 1], device=torch.device("cpu"), dtype=torch.float64)
    assert all(p.device.type == "cpu" and p.dtype == torch.float64 for p in model.parameters())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_models_run_on_cuda():
    device = torch.device("cuda")
    assert MLP([2, 4, 2], device=device)(torch.randn(3, 2, device=device)).device.type == "cuda"
    assert LogisticRegression(2, device=device)(torch.randn(3, 2, device=device)).device.type == "cuda"


def test_bad_configuration_and_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="at least 2 positive ints"):
        MLP([4])
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([2, 2], activation="swish")
    with pytest.raises(ValueError, match=r"\(N, 4\), got \(3, 5\)"):
        MLP([4, 2])(torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"\(N, 2\), got \(2,\)"):
        LogisticRegression(2)(torch.zeros(2))


def test_a_seed_fixes_the_weights_without_touching_the_global_generator():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = MLP([4, 8, 2], seed=0)
    assert torch.equal(torch.rand(3), expected_next)  # the global generator did not move
    b = MLP([4, 8, 2], seed=0)
    c = MLP([4, 8, 2], seed=1)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    torch.manual_seed(0)
    reference = MLP([4, 8, 2])  # the old idiom: seed the global generator, then build
    assert all(torch.equal(p, q) for p, q in zip(MLP([4, 8, 2], seed=0).parameters(), reference.parameters()))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(LogisticRegression(4, seed=g1).linear.weight, LogisticRegression(4, seed=g2).linear.weight)
    with pytest.raises(ValueError, match="seed"):
        MLP([4, 2], seed=1.5)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_scratch_activation_has_a_torch_twin_with_the_same_values(name):
    # Chapter 04 trains the same MLP with each activation: the torch module must compute the scratch f.
    model = MLP([3, 4, 2], activation=name, dtype=torch.float64)
    x = np.linspace(-4.0, 4.0, 41)
    torch_values = model.net[1](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(torch_values, ACTIVATIONS[name].f(x), rtol=1e-12, atol=1e-12)
