import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import data
from course_lib.scratch.gradcheck import check_layer, check_loss
from course_lib.scratch.optim import SGD
from course_lib.scratch.train import fit
from course_lib.scratch.layers import (
    BCEWithLogits, Linear, ReLU, Sequential, Sigmoid, SoftmaxCrossEntropy, SquaredError, Tanh,
)

ACTIVATIONS = {"tanh": (Tanh, torch.tanh), "relu": (ReLU, torch.relu), "sigmoid": (Sigmoid, torch.sigmoid)}


def make_net(widths, activation, rng):
    layers = []
    for i, (d, m) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(Linear(d, m, rng))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation][0]())
    return Sequential(*layers)


def torch_forward(net, x, activation):
    """The same network in torch, with the scratch weights; returns output and leaf tensors."""
    leaves, h = [], x
    for layer in net.layers:
        if isinstance(layer, Linear):
            W = torch.tensor(layer.params["W"].data, requires_grad=True)
            b = torch.tensor(layer.params["b"].data, requires_grad=True)
            leaves.append((layer, W, b))
            h = h @ W + b
        else:
            h = ACTIVATIONS[activation][1](h)
    return h, leaves


@pytest.mark.parametrize("widths", [[3, 2], [4, 8, 3], [5, 16, 7, 3], [2, 6, 6, 6, 6, 4]])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("loss_name", ["ce", "mse", "bce"])
def test_layer_engine_gradients_match_torch_autograd(widths, activation, loss_name):
    rng = np.random.default_rng(sum(widths) + len(activation))
    net = make_net(widths, activation, rng)
    N, C = 9, widths[-1]
    X = rng.standard_normal((N, widths[0]))
    if loss_name == "ce":
        loss, t = SoftmaxCrossEntropy(), rng.integers(0, C, N)
        torch_loss = lambda z: F.cross_entropy(z, torch.tensor(t))  # noqa: E731
    elif loss_name == "mse":
        loss, t = SquaredError(), rng.standard_normal((N, C))
        torch_loss = lambda z: 0.5 * ((z - torch.tensor(t)) ** 2).sum()  # noqa: E731
    else:
        loss, t = BCEWithLogits(), rng.integers(0, 2, (N, C)).astype(np.float64)
        torch_loss = lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(t))  # noqa: E731

    Xt = torch.tensor(X, requires_grad=True)
    z, leaves = torch_forward(net, Xt, activation)
    ref = torch_loss(z)
    ref.backward()

    value = loss.forward(net.forward(X), t)
    dX = net.backward(loss.backward())
    assert value == pytest.approx(ref.item(), rel=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-8, atol=1e-12)
    for layer, W, b in leaves:
        np.testing.assert_allclose(layer.params["W"].grad, W.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(layer.params["b"].grad, b.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("make", [lambda r: Linear(4, 3, r), Sigmoid, Tanh, ReLU, lambda r: make_net([4, 5, 3], "tanh", r)])
def test_gradient_check_passes_on_every_layer(make):
    rng = np.random.default_rng(0)
    layer = make(rng) if not isinstance(make, type) else make()
    report = check_layer(layer, rng.standard_normal((6, 4)), rng)
    assert report.passed, str(report)


def test_gradient_check_passes_on_every_loss():
    rng = np.random.default_rng(1)
    assert check_loss(SoftmaxCrossEntropy(), rng.standard_normal((6, 3)), rng.integers(0, 3, 6)).passed
    assert check_loss(SquaredError(), rng.standard_normal((6, 2)), rng.standard_normal((6, 2))).passed
    assert check_loss(BCEWithLogits(), rng.standard_normal((6, 1)), rng.integers(0, 2, (6, 1)).astype(float)).passed


@pytest.mark.parametrize("layer", [Linear(2, 2, np.random.default_rng(0)), Sigmoid(), Tanh(), ReLU()])
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize("loss", [SquaredError(), SoftmaxCrossEntropy(), BCEWithLogits()])
def test_loss_backward_before_forward_is_a_clear_error(loss):
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        loss.backward()


def test_bad_shapes_raise_value_errors_naming_both_shapes():
    rng = np.random.default_rng(0)
    lin = Linear(3, 2, rng)
    with pytest.raises(ValueError, match=r"\(N, 3\), got \(4, 5\)"):
        lin.forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"\(N, D\), got \(3,\)"):
        lin.forward(np.zeros(3))
    lin.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"output's shape \(4, 2\), got \(4, 3\)"):
        lin.backward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        Tanh().forward(np.array([[np.nan]]))
    with pytest.raises(ValueError, match=r"shape of predictions \(4, 1\), got \(4,\)"):
        SquaredError().forward(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="Generator"):
        Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"same number of rows, got \(4, 3\) and \(5,\)"):
        fit(Sequential(lin), SoftmaxCrossEntropy(), SGD(lin.parameters(), lr=0.1), np.zeros((4, 3)), np.zeros(5, dtype=int),
            epochs=1, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        fit(Sequential(lin), SoftmaxCrossEntropy(), SGD(lin.parameters(), lr=0.1), np.zeros((4, 3)), np.zeros(4, dtype=int),
            epochs=1, batch_size=0, rng=rng)
    with pytest.raises(ValueError, match="scratch.optim.Optimizer"):
        fit(Sequential(lin), SoftmaxCrossEntropy(), 0.1, np.zeros((4, 3)), np.zeros(4, dtype=int),
            epochs=1, batch_size=2, rng=rng)


def test_initialization_is_seeded_by_the_rng_and_bounded_like_torch():
    a, b = Linear(50, 7, np.random.default_rng(3)), Linear(50, 7, np.random.default_rng(3))
    np.testing.assert_array_equal(a.params["W"].data, b.params["W"].data)
    assert a.params["W"].data.shape == (50, 7) and a.params["b"].data.shape == (7,)
    assert np.abs(a.params["W"].data).max() <= 1 / np.sqrt(50)


def test_an_sgd_step_moves_the_layer_engine_against_the_gradient():
    rng = np.random.default_rng(0)
    net = Sequential(Linear(2, 1, rng))
    opt = SGD(net.parameters(), lr=0.01)
    loss = SquaredError()
    X, t = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    before = loss.forward(net.forward(X), t)
    net.backward(loss.backward())
    W0, g = net.layers[0].params["W"].data.copy(), net.layers[0].params["W"].grad.copy()
    opt.step()
    np.testing.assert_allclose(net.layers[0].params["W"].data, W0 - 0.01 * g)
    assert loss.forward(net.forward(X), t) < before


def accuracy(net, X, y):
    return float((net.forward(X).argmax(axis=1) == y).mean())


def test_two_layer_mlp_solves_xor_where_a_linear_model_fails():
    rng = np.random.default_rng(0)
    X, y = data.make_xor(200, rng)
    linear = Sequential(Linear(2, 2, rng))
    fit(linear, SoftmaxCrossEntropy(), SGD(linear.parameters(), lr=0.5), X, y, epochs=200, batch_size=200, rng=rng)
    mlp = Sequential(Linear(2, 8, rng), Tanh(), Linear(8, 2, rng))
    fit(mlp, SoftmaxCrossEntropy(), SGD(mlp.parameters(), lr=0.5), X, y, epochs=200, batch_size=20, rng=rng)
    assert accuracy(mlp, X, y) == 1.0
    assert accuracy(linear, X, y) < 0.8  # no line separates the four blobs


def test_mlp_reaches_the_linear_model_on_breast_cancer():
    rng = np.random.default_rng(0)
    X, y = data.load_breast_cancer()
    split = data.train_val_test_split(X, y, rng, val=0.0, test=0.3)
    X_train, X_test = data.standardize(split.X_train, split.X_test)
    results = {}
    for name, net in {"linear": Sequential(Linear(30, 2, rng)),
                      "mlp": Sequential(Linear(30, 32, rng), ReLU(), Linear(32, 2, rng))}.items():
        history = fit(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.1), X_train, split.y_train, epochs=60, batch_size=32, rng=rng)
        assert history[-1] < history[0]
        results[name] = accuracy(net, X_test, split.y_test)
    assert results["linear"] > 0.93
    assert results["mlp"] >= results["linear"]


def test_named_parameters_and_state_dict_round_trip():
    rng = np.random.default_rng(0)
    net = Sequential(Linear(2, 3, rng), Tanh(), Linear(3, 1, rng))
    assert [name for name, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    saved = net.state_dict()
    for p in net.parameters():
        p.data += 1.0
    net.load_state_dict(saved)
    for name, p in net.named_parameters():
        np.testing.assert_array_equal(p.data, saved[name])
    with pytest.raises(ValueError, match="shape"):
        net.load_state_dict({**saved, "0.W": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="state does not fit this model: missing"):
        net.load_state_dict({"0.W": saved["0.W"]})


# --- the remaining activations as layers, and the mean squared error ----------------------------

from course_lib.scratch.layers import ELU, Identity, LeakyReLU, MeanSquaredError  # noqa: E402

MORE_ACTIVATIONS = [
    (lambda: LeakyReLU(), lambda x: F.leaky_relu(x, 0.01)),
    (lambda: LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (lambda: ELU(), lambda x: F.elu(x, 1.0)),
    (lambda: ELU(0.5), lambda x: F.elu(x, 0.5)),
    (Identity, lambda x: x),
]


@pytest.mark.parametrize("make, reference", MORE_ACTIVATIONS)
def test_leaky_relu_elu_and_identity_layers_match_torch(make, reference):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 5)) * 3
    x[0, :2] = 0.0  # the kink: torch's convention
    dout = rng.standard_normal((7, 5))
    layer = make()
    xt = torch.tensor(x, requires_grad=True)
    yt = reference(xt)
    (yt * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert check_layer(make(), rng.standard_normal((6, 4)) + 0.05, rng).passed
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        make().backward(dout)


def test_mean_squared_error_is_torchs_mse_loss():
    rng = np.random.default_rng(5)
    y, t = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    yt = torch.tensor(y, requires_grad=True)
    ref = F.mse_loss(yt, torch.tensor(t))
    ref.backward()
    loss = MeanSquaredError()
    assert loss.forward(y, t) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), yt.grad.numpy(), rtol=1e-12)
    assert check_loss(MeanSquaredError(), y, t).passed
    with pytest.raises(ValueError, match="shape"):
        loss.forward(y, t[:, :1])
