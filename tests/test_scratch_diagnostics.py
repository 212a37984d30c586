import numpy as np
import pytest
import torch

from course_lib.scratch import diagnostics as diag
from course_lib.scratch.initializers import normal, xavier_normal
from course_lib.scratch.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy, Tanh


def deep_tanh(init, rng, depth=6, width=200):
    layers = []
    for _ in range(depth):
        lin = Linear(width, width, rng)
        lin.params["W"].data = init((width, width), rng)
        lin.params["b"].data[:] = 0
        layers += [lin, Tanh()]
    return Sequential(*layers)


def test_saturation_counts_entries_near_the_asymptotes():
    y = np.array([[-0.995, 0.0, 0.5, 0.999]])
    assert diag.saturation(y, "tanh") == 0.5
    assert diag.saturation(np.array([0.001, 0.5, 0.2, 0.995]), "sigmoid") == 0.5
    assert diag.saturation(y, "tanh", margin=0.1) == 0.5


def test_large_init_saturates_tanh_and_xavier_does_not():
    """The lecture's experiment in small: std 1.0 saturates a deep tanh net, Xavier keeps it alive."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 200))
    for init, expect_saturated in [(lambda s, r: normal(s, r, std=1.0), True), (xavier_normal, False)]:
        net = deep_tanh(init, rng)
        records = diag.trace(net, x, dout=rng.standard_normal((100, 200)))
        last_tanh = diag.health(records)[-1]
        assert last_tanh.kind == "tanh"
        assert (last_tanh.saturated > 0.5) is expect_saturated, last_tanh


def test_dead_fraction_counts_units_dead_on_every_example():
    y = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    assert diag.dead_fraction(y) == 0.5  # columns 0 and 3 are zero for both examples


def test_update_ratios_after_an_sgd_step():
    rng = np.random.default_rng(1)
    net = Sequential(Linear(4, 3, rng), ReLU(), Linear(3, 2, rng))
    diag.trace(net, rng.standard_normal((5, 4)), loss=SoftmaxCrossEntropy(), t=rng.integers(0, 2, 5))
    before, lr = net.state_dict(), 1e-2
    for p in net.parameters():
        p.data -= lr * p.grad
    ratios = diag.update_ratios(net, before)
    assert list(ratios) == ["0.W", "0.b", "2.W", "2.b"]
    W = net.layers[2].params["W"]
    assert ratios["2.W"] == pytest.approx(lr * np.linalg.norm(W.grad) / np.linalg.norm(before["2.W"]))
    assert diag.update_ratio(np.ones(4), np.full(4, 1.001)) == pytest.approx(1e-3)


def test_trace_records_the_gradients_torch_sees():
    rng = np.random.default_rng(2)
    net = Sequential(Linear(3, 5, rng), Tanh(), Linear(5, 4, rng), ReLU(), Linear(4, 3, rng))
    x, t = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    records = diag.trace(net, x, loss=SoftmaxCrossEntropy(), t=t)

    h, kept = torch.tensor(x, requires_grad=True), []
    for layer in net.layers:
        if isinstance(layer, Linear):
            h = h @ torch.tensor(layer.params["W"].data) + torch.tensor(layer.params["b"].data)
        else:
            h = torch.tanh(h) if isinstance(layer, Tanh) else torch.relu(h)
        h.retain_grad()
        kept.append(h)
    torch.nn.functional.cross_entropy(h, torch.tensor(t)).backward()
    assert [r.kind for r in records] == ["linear", "tanh", "linear", "relu", "linear"]
    for record, ref in zip(records, kept):
        np.testing.assert_allclose(record.output, ref.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(record.grad, ref.grad.numpy(), atol=1e-12)
    assert net.layers[0].params["W"].grad is not None  # a real backward: ready for a step


def test_health_table_has_one_row_per_layer():
    rng = np.random.default_rng(3)
    net = Sequential(Linear(3, 4, rng), ReLU(), Linear(4, 2, rng), Tanh())
    rows = diag.health(diag.trace(net, rng.standard_normal((7, 3)), dout=np.ones((7, 2))))
    assert [r.kind for r in rows] == ["linear", "relu", "linear", "tanh"]
    assert np.isnan(rows[0].saturated) and np.isnan(rows[0].dead) and not np.isnan(rows[1].dead)
    table = diag.health_table(rows)
    assert len(table.splitlines()) == 5 and "saturated" in table


@pytest.mark.parametrize("call, message", [
    (lambda: diag.saturation(np.ones(3), "relu"), "defined for \\['sigmoid', 'tanh'\\] outputs, got 'relu'"),
    (lambda: diag.saturation(np.ones(3), "tanh", margin=0), "margin must lie in"),
    (lambda: diag.dead_fraction(np.ones(3)), "shape \\(N, M\\), got shape \\(3,\\)"),
    (lambda: diag.update_ratio(np.ones(3), np.ones(4)), "same shape"),
    (lambda: diag.update_ratios(Sequential(Linear(2, 2, np.random.default_rng(0))), {}), "no entry for parameters"),
    (lambda: diag.trace(Sequential(), np.ones((2, 2))), "either loss and t, or dout"),
    (lambda: diag.trace(Linear(2, 2, np.random.default_rng(0)), np.ones((2, 2)), dout=np.ones((2, 2))), "expects a Sequential"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_trace_without_param_grads_passes_the_same_signal():
    rng = np.random.default_rng(4)
    net = Sequential(Linear(3, 5, rng), Tanh(), Linear(5, 2, rng))
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    full = diag.trace(net, x, dout=g)
    light = diag.trace(net, x, dout=g, param_grads=False)
    for a, b in zip(full, light):
        np.testing.assert_array_equal(a.grad, b.grad)
    assert all(p.grad is None for p in net.parameters())
