import numpy as np
import pytest

from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.init_explorer import INIT_SCHEMES, build_net, explore, layer_weights
from course_lib.scratch.layers import Linear, ReLU

SMALL = {"depth": 8, "width": 100, "batch": 200}


def test_build_net_structure_and_weights():
    net = build_net(3, 20, "relu", "he", batch_norm=True, seed=1)
    assert [type(layer) for layer in net.layers] == [Linear, BatchNorm1d, ReLU] * 3
    W0 = net.layers[0].params["W"].data
    np.testing.assert_array_equal(W0, layer_weights("he", 20, "relu", 1, 0))
    assert W0.flags.writeable and not np.all(net.layers[0].params["b"].data)  # a copy; biases 0
    # one stream per layer: a deeper net keeps the first layers' weights
    deeper = build_net(5, 20, "relu", "he", batch_norm=False, seed=1)
    np.testing.assert_array_equal(deeper.layers[2].params["W"].data, net.layers[3].params["W"].data)
    assert not np.array_equal(net.layers[3].params["W"].data, W0)


def test_shapes_and_shared_edges():
    data = explore(activation="tanh", init="xavier", bins=30, **SMALL)
    assert data.act_counts.shape == data.grad_counts.shape == (8, 30)
    assert data.act_edges.shape == data.grad_edges.shape == (31,)
    np.testing.assert_array_equal(data.act_edges[[0, -1]], [-1.0, 1.0])
    assert (data.act_counts.sum(axis=1) == 200 * 100).all()  # every tanh output falls in [-1, 1]
    assert data.grad_edges[0] == -data.grad_edges[-1]
    assert np.isnan(data.dead).all() and not np.isnan(data.saturated).any()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_small_init_collapses_and_gradients_vanish(activation):
    data = explore(activation=activation, init="std 0.01", **SMALL)
    assert data.act_std[-1] < 1e-5 * data.act_std[0]
    assert data.grad_std[0] < 1e-5 * data.grad_std[-1]  # dL/dh shrinks on its way back to layer 1


def test_large_init_saturates_tanh():
    data = explore(activation="tanh", init="std 1.0", **SMALL)
    assert data.saturated[-1] > 0.6  # pre-activations of std ~10 at width 100: |z| > 2.6 most of the time
    # most of the mass sits in the outermost bins
    assert data.act_counts[-1, [0, -1]].sum() > 0.5 * data.act_counts[-1].sum()


@pytest.mark.parametrize("activation, init", [("tanh", "xavier"), ("relu", "he"), ("relu", "orthogonal")])
def test_matched_init_keeps_the_signal(activation, init):
    data = explore(activation=activation, init=init, **SMALL)
    assert 0.2 < data.act_std[-1] / data.act_std[0] < 5
    assert 0.1 < data.grad_std[0] / data.grad_std[-1] < 10


def test_relu_with_xavier_halves_the_variance_per_layer():
    """The missing gain sqrt(2): each ReLU layer multiplies E[h^2] by about 1/2."""
    data = explore(activation="relu", init="xavier", **SMALL)
    second_moment = data.act_std**2 + data.act_mean**2
    ratios = second_moment[1:] / second_moment[:-1]
    assert np.median(ratios) == pytest.approx(0.5, abs=0.1)


def test_batch_norm_rescues_a_bad_init():
    data = explore(activation="relu", init="std 0.01", batch_norm=True, **SMALL)
    assert data.act_std[-1] == pytest.approx(data.act_std[0], rel=0.2)


def test_zero_init_is_symmetric():
    data = explore(activation="relu", init="zeros", **SMALL)
    assert (data.act_std == 0).all() and (data.dead == 1).all()
    assert (data.grad_std[:-1] == 0).all()  # no gradient reaches the hidden layers


def test_float32_agrees_with_float64():
    a = explore(activation="tanh", init="he", **SMALL)
    b = explore(activation="tanh", init="he", dtype=np.float32, **SMALL)
    np.testing.assert_allclose(b.act_std, a.act_std, rtol=1e-4)
    np.testing.assert_allclose(b.grad_std, a.grad_std, rtol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    ({"init": "lecun"}, "init must be one of"),
    ({"activation": "gelu"}, "activation must be one of"),
    ({"depth": 0}, "depth must be an integer >= 1"),
    ({"width": 2.5}, "width must be an integer >= 1"),
    ({"batch": 1}, "batch must be an integer >= 2"),
    ({"bins": 0}, "bins must be an integer >= 1"),
])
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore(**({"depth": 2, "width": 4, "batch": 4} | kwargs))


def test_every_scheme_runs():
    for scheme in INIT_SCHEMES:
        assert explore(depth=2, width=8, batch=16, init=scheme).act_counts.shape == (2, 50)
