import math

import numpy as np
import pytest
import torch

from course_lib.scratch.autograd import Value, topological_order, zero_grad


def test_every_operation_matches_torch():
    a, b = Value(1.5), Value(-0.7)
    out = ((a * b + 3 - b / a) ** 2 + (a - 4).exp() + (a * a).log() + (2 * b).tanh() + b.relu() + a.relu()
           + (1 - b).sigmoid() + 2 / a - (-a) + 0.5 ** 1 * b)
    out.backward()

    at = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    ref = ((at * bt + 3 - bt / at) ** 2 + (at - 4).exp() + (at * at).log() + (2 * bt).tanh() + bt.relu() + at.relu()
           + (1 - bt).sigmoid() + 2 / at - (-at) + 0.5 * bt)
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-12)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-10)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-10)


def test_a_value_used_twice_accumulates_both_gradients():
    a = Value(3.0)
    (a * a + a).backward()  # d/da (a^2 + a) = 2a + 1
    assert a.grad == 7.0


def test_sigmoid_is_finite_at_extreme_inputs():
    for x in (-1000.0, 1000.0):
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert math.isfinite(s.data) and math.isfinite(v.grad)


def scalar_mlp(x, weights, biases, activation):
    """x: list of D Values; weights[l]: (D_l, M_l) nested lists of Values."""
    h = x
    for layer, (W, b) in enumerate(zip(weights, biases)):
        h = [sum((h[d] * W[d][m] for d in range(len(h))), b[m]) for m in range(len(b))]
        if layer < len(weights) - 1:
            h = [getattr(v, activation)() for v in h]
    return h


@pytest.mark.parametrize("widths", [[3, 1], [2, 4, 1], [3, 5, 4, 2], [4, 3, 3, 3, 2]])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_random_mlps_match_torch_autograd(widths, activation):
    rng = np.random.default_rng(len(widths) * 10 + len(activation))
    Ws = [rng.standard_normal((d, m)) for d, m in zip(widths[:-1], widths[1:])]
    bs = [rng.standard_normal(m) for m in widths[1:]]
    X, T = rng.standard_normal((4, widths[0])), rng.standard_normal((4, widths[-1]))

    W_vals = [[[Value(float(w)) for w in row] for row in W] for W in Ws]
    b_vals = [[Value(float(v)) for v in b] for b in bs]
    loss = Value(0.0)
    for x, t in zip(X, T):  # E = 1/2 sum_n sum_m (y - t)^2
        y = scalar_mlp([Value(float(v)) for v in x], W_vals, b_vals, activation)
        loss = loss + 0.5 * sum((yi - float(ti)) ** 2 for yi, ti in zip(y, t))
    loss.backward()

    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    bt = [torch.tensor(b, requires_grad=True) for b in bs]
    h = torch.tensor(X)
    for i, (W, b) in enumerate(zip(Wt, bt)):
        h = h @ W + b
        if i < len(Wt) - 1:
            h = getattr(torch, activation)(h)
    ref = 0.5 * ((h - torch.tensor(T)) ** 2).sum()
    ref.backward()

    assert loss.data == pytest.approx(ref.item(), rel=1e-10)
    for W_v, W_t in zip(W_vals, Wt):
        np.testing.assert_allclose([[w.grad for w in row] for row in W_v], W_t.grad.numpy(), rtol=1e-8, atol=1e-10)
    for b_v, b_t in zip(b_vals, bt):
        np.testing.assert_allclose([v.grad for v in b_v], b_t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_topological_order_puts_inputs_before_outputs_and_handles_deep_graphs():
    x = Value(1.0)
    y = x
    for _ in range(5000):  # deeper than Python's default recursion limit
        y = y + 1.0
    order = topological_order(y)
    assert order[-1] is y and order.index(x) < order.index(y)
    y.backward()
    assert x.grad == 1.0


def test_zero_grad_resets_before_reuse():
    a = Value(2.0)
    (a * 3).backward()
    (a * 3).backward()
    assert a.grad == 6.0  # accumulated twice
    zero_grad([a])
    (a * 3).backward()
    assert a.grad == 3.0


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="int or float, got str"):
        Value("1.0")
    with pytest.raises(ValueError, match="positive argument, got -1.0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="exponent must be an int or float constant, got Value"):
        Value(2.0) ** Value(2.0)


def _torch_scalar(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_relu_propagates_nan_like_torch():
    a = Value(float("nan"))
    out = a.relu() * 2.0
    out.backward()
    at = _torch_scalar(float("nan"))
    ref = at.relu() * 2.0
    ref.backward()
    assert math.isnan(out.data) and math.isnan(ref.item())
    assert a.grad == at.grad.item() == 2.0  # torch passes the gradient through a NaN


def test_zeroth_power_of_zero_has_derivative_zero_like_torch():
    a = Value(0.0)
    out = a**0 + a * 3.0
    out.backward()
    at = _torch_scalar(0.0)
    (at**0 + at * 3.0).backward()
    assert out.data == 1.0 and a.grad == at.grad.item() == 3.0


def test_fractional_power_of_a_negative_base_is_refused():
    assert math.isnan((_torch_scalar(-8.0) ** (1 / 3)).item())  # torch: NaN; here: a plain error
    with pytest.raises(ValueError, match="negative base to a fractional power"):
        Value(-8.0) ** (1 / 3)
    assert (Value(-2.0) ** 3).data == -8.0  # integer powers of negatives are fine
    with pytest.raises(ValueError, match="negative power"):
        Value(0.0) ** -1


def _graph(a: Value, b: Value) -> Value:
    shared = a * b                       # an interior node used twice
    return (shared + a).tanh() * shared + b.exp()


def _torch_graph(at, bt):
    shared = at * bt
    return (shared + at).tanh() * shared + bt.exp()


def test_backward_twice_accumulates_like_torch_and_interior_nodes_do_not_leak():
    a, b = Value(0.3), Value(-1.2)
    out = _graph(a, b)
    out.backward()
    out.backward()                       # leaves accumulate: twice the gradient, as in torch
    at, bt = _torch_scalar(0.3), _torch_scalar(-1.2)
    ref = _torch_graph(at, bt)
    ref.backward(retain_graph=True)
    ref.backward()
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)


def test_backward_after_zero_grad_gives_the_gradient_once():
    a, b = Value(0.3), Value(-1.2)
    out = _graph(a, b)
    out.backward()
    zero_grad([a, b])
    out.backward()                       # interior nodes still held the first pass's grads
    at, bt = _torch_scalar(0.3), _torch_scalar(-1.2)
    _torch_graph(at, bt).backward()
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)
