import numpy as np
import pytest

from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.layers import Linear, ReLU, Sequential


def make_net(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(3, 4, rng), BatchNorm1d(4), ReLU(), Sequential(Linear(4, 2, rng)))


def test_names_follow_torchs_convention():
    net = make_net()
    assert [name for name, _ in net.named_parameters()] == ["0.W", "0.b", "1.gamma", "1.beta", "3.0.W", "3.0.b"]
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert dict(net.named_parameters())["3.0.W"] is net.layers[3].layers[0].params["W"]


def test_state_dict_is_a_copy_and_load_restores_in_place():
    net = make_net()
    W = net.layers[0].params["W"].data
    saved = net.state_dict()
    W += 1.0                                            # training moves the weights...
    net.forward(np.random.default_rng(1).standard_normal((5, 3)))  # ...and the running statistics
    assert not np.array_equal(saved["0.W"], W)
    assert not np.array_equal(saved["1.running_mean"], net.layers[1].running_mean)
    net.load_state_dict(saved)
    assert net.layers[0].params["W"].data is W          # the same array: optimizers still hold it
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, saved[name], err_msg=name)


def test_load_state_dict_from_another_model_of_the_same_architecture():
    a, b = make_net(0), make_net(1)
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(2).standard_normal((6, 3))
    np.testing.assert_array_equal(a.eval().forward(x), b.eval().forward(x))


def test_mismatched_state_is_a_clear_error():
    net = make_net()
    saved = net.state_dict()
    with pytest.raises(ValueError, match="missing \\['0.W'\\], unexpected \\['0.weight'\\]"):
        net.load_state_dict({("0.weight" if k == "0.W" else k): v for k, v in saved.items()})
    with pytest.raises(ValueError, match="state\\['0.b'\\] has shape \\(3,\\), the model's has \\(4,\\)"):
        net.load_state_dict(saved | {"0.b": np.zeros(3)})
