import numpy as np
import pytest

from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.layers import Linear, ReLU, Sequential
from course_lib.scratch.state import load_state_dict, named_buffers, named_parameters, state_dict


def make_net(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(3, 4, rng), BatchNorm1d(4), ReLU(), Sequential(Linear(4, 2, rng)))


def test_names_follow_torchs_convention():
    net = make_net()
    assert list(named_parameters(net)) == ["0.W", "0.b", "1.gamma", "1.beta", "3.0.W", "3.0.b"]
    assert list(named_buffers(net)) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert named_parameters(net)["3.0.W"] is net.layers[3].layers[0].params["W"]


def test_state_dict_is_a_copy_and_load_restores_in_place():
    net = make_net()
    W = net.layers[0].params["W"].data
    saved = state_dict(net)
    W += 1.0                                            # training moves the weights...
    net.forward(np.random.default_rng(1).standard_normal((5, 3)))  # ...and the running statistics
    assert not np.array_equal(saved["0.W"], W)
    assert not np.array_equal(saved["1.running_mean"], net.layers[1].running_mean)
    load_state_dict(net, saved)
    assert net.layers[0].params["W"].data is W          # the same array: optimizers still hold it
    for name, value in state_dict(net).items():
        np.testing.assert_array_equal(value, saved[name], err_msg=name)


def test_load_state_dict_from_another_model_of_the_same_architecture():
    a, b = make_net(0), make_net(1)
    load_state_dict(b, state_dict(a))
    x = np.random.default_rng(2).standard_normal((6, 3))
    np.testing.assert_array_equal(a.eval().forward(x), b.eval().forward(x))


def test_mismatched_state_is_a_clear_error():
    net = make_net()
    saved = state_dict(net)
    with pytest.raises(ValueError, match="missing \\['0.W'\\], unexpected \\['0.weight'\\]"):
        load_state_dict(net, {("0.weight" if k == "0.W" else k): v for k, v in saved.items()})
    with pytest.raises(ValueError, match="state\\['0.b'\\] has shape \\(3,\\), the model's has \\(4,\\)"):
        load_state_dict(net, saved | {"0.b": np.zeros(3)})
