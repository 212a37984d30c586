"""Scratch optimizers against torch.optim in float64: trajectories, state, options, param groups,
state dicts, and one epoch of a real MLP trained by the layer engine."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.data import make_spirals, minibatches
from course_lib.scratch import optim
from course_lib.scratch.layers import Linear, Sequential, SoftmaxCrossEntropy, Tanh
from course_lib.scratch.parameter import Parameter
from course_lib.scratch.train import fit

# (class name, keyword arguments): the same for ours and torch's
CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.9}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.05, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    # Small lr and long memory here: with weight decay some effective gradients g + wd*w shrink to
    # ~0 while square_avg shrinks too, so lr / sqrt(square_avg) grows until the step is unstable
    # (RMSprop's own dynamics); then 1e-16 rounding differences grow ~3x per step in any two
    # implementations. At lr=1e-3, alpha=0.99 the trajectory stays stable for 200 steps.
    ("RMSprop", {"lr": 1e-3, "alpha": 0.99, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True}),
    ("RMSprop", {"lr": 1e-3, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.005, "maximize": True, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.005, "maximize": True}),
]


def _problem(seed: int):
    """A random, non-quadratic float64 problem: squared error of a 2-layer tanh net."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randn(32, 2, generator=g, dtype=torch.float64)
    init = [torch.randn(4, 6, generator=g, dtype=torch.float64) * 0.5,
            torch.zeros(6, dtype=torch.float64),
            torch.randn(6, 2, generator=g, dtype=torch.float64) * 0.5]

    def loss_fn(W1, b1, W2):
        return ((torch.tanh(X @ W1 + b1) @ W2 - y) ** 2).mean()

    return init, loss_fn


def _set_torch_grads(loss_fn, params: list[Parameter]) -> None:
    """p.grad = d loss / d p.data, computed by torch.autograd at the current values."""
    tensors = [torch.tensor(p.data, requires_grad=True) for p in params]
    for p, g in zip(params, torch.autograd.grad(loss_fn(*tensors), tensors)):
        p.grad = g.numpy()


def _twins(seed: int, maximize: bool = False):
    """Torch tensors and Parameters with the same start; with ``maximize`` the objective is -loss,
    so climbing it stays bounded."""
    init, loss = _problem(seed)
    loss_fn = (lambda *w: -loss(*w)) if maximize else loss
    return [t.clone().requires_grad_(True) for t in init], [Parameter(t.numpy().copy()) for t in init], loss_fn


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch_over_200_steps(name, kwargs):
    ref, ours, loss_fn = _twins(seed=len(str(kwargs)), maximize=kwargs.get("maximize", False))
    ref_opt = getattr(torch.optim, name)(ref, **kwargs)
    our_opt = getattr(optim, name)(ours, **kwargs)
    start = [p.data.copy() for p in ours]
    for _ in range(200):
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref_opt.step()
        our_opt.zero_grad()
        _set_torch_grads(loss_fn, ours)
        our_opt.step()
    for p, t in zip(ours, ref):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-10)
    # The state holds what torch holds, under torch's names.
    for p, t in zip(ours, ref):
        theirs = ref_opt.state[t]
        assert set(our_opt.state[p]) == set(theirs)
        for key, value in theirs.items():
            np.testing.assert_allclose(our_opt.state[p][key], np.asarray(value), rtol=0, atol=1e-10)
    assert not np.allclose(ours[0].data, start[0])  # the parameters really moved


def test_defaults_are_torchs():
    w = [Parameter(np.zeros(3))]
    for name in ("SGD", ("Adagrad"), "RMSprop", "Adam", "AdamW"):
        ours = getattr(optim, name)(w).param_groups[0]
        theirs = getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)]).param_groups[0]
        for key, value in ours.items():
            if key != "params":
                assert theirs[key] == value, (name, key)


def test_param_groups_with_their_own_lr_match_torch():
    ref, ours, loss_fn = _twins(seed=7)
    ref_opt = torch.optim.SGD([{"params": ref[:2]}, {"params": ref[2:], "lr": 0.2}], lr=0.05, momentum=0.9)
    our_opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.2}], lr=0.05, momentum=0.9)
    assert [g["lr"] for g in our_opt.param_groups] == [0.05, 0.2]
    for step in range(60):
        for ours_group, ref_group in zip(our_opt.param_groups, ref_opt.param_groups):  # a schedule
            ref_group["lr"] = ours_group["lr"] = ref_group["lr"] / (1 + 0.01 * step)
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref_opt.step()
        our_opt.zero_grad()
        _set_torch_grads(loss_fn, ours)
        our_opt.step()
    for p, t in zip(ours, ref):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-10)


def test_a_parameter_without_gradient_is_left_alone_like_torch():
    ref, ours, loss_fn = _twins(seed=2)
    ref_opt, our_opt = torch.optim.Adam(ref, lr=0.1), optim.Adam(ours, lr=0.1)
    for _ in range(5):
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref[1].grad = None  # b1 "not used" in these steps
        ref_opt.step()
        our_opt.zero_grad()
        _set_torch_grads(loss_fn, ours)
        ours[1].grad = None
        our_opt.step()
    assert ours[1] not in our_opt.state and not ours[1].data.any()
    for p, t in zip(ours, ref):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-12)


def test_zero_grad_forgets_every_gradient():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
    p.grad, q.grad = np.ones(2), np.ones(3)
    opt.zero_grad()
    assert p.grad is None and q.grad is None


@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.02, "momentum": 0.9}), ("Adagrad", {"lr": 0.1}),
                                         ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                         ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {"lr": 0.01})])
def test_state_dict_resumes_training_exactly_and_loads_torchs(name, kwargs):
    """Stop after 20 steps, save, load into a fresh optimizer over copies: the next 20 steps are
    those of an uninterrupted run. torch's own state_dict (tensors) loads too."""
    ref, ours, loss_fn = _twins(seed=11)
    ref_opt, our_opt = getattr(torch.optim, name)(ref, **kwargs), getattr(optim, name)(ours, **kwargs)

    def run(opt, params, steps):
        for _ in range(steps):
            opt.zero_grad()
            _set_torch_grads(loss_fn, params)
            opt.step()

    for _ in range(20):
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref_opt.step()
    run(our_opt, ours, 20)
    saved = our_opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1, 2] and set(saved["state"]) == {0, 1, 2}
    copies = [Parameter(p.data.copy()) for p in ours]
    resumed = getattr(optim, name)(copies, lr=123.0)  # the state dict brings the hyper-parameters back
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]
    from_torch = [Parameter(t.detach().numpy().copy()) for t in ref]
    loaded = getattr(optim, name)(from_torch, **kwargs)
    as_ours = lambda k, v: (int(v) if k == "step" else v.numpy().copy()) if torch.is_tensor(v) else v  # noqa: E731
    loaded.load_state_dict({"state": {i: {k: as_ours(k, v) for k, v in s.items()}
                                      for i, s in ref_opt.state_dict()["state"].items()},
                            "param_groups": [{k: v for k, v in g.items() if k in our_opt.param_groups[0]}
                                             for g in ref_opt.state_dict()["param_groups"]]})
    run(our_opt, ours, 20)
    run(resumed, copies, 20)
    run(loaded, from_torch, 20)
    for p, q, r in zip(ours, copies, from_torch):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_allclose(r.data, p.data, rtol=0, atol=1e-10)
    bad = our_opt.state_dict()
    key = next(k for k, v in bad["state"][0].items() if isinstance(v, np.ndarray))
    bad["state"][0][key] = np.zeros((9, 9))
    with pytest.raises(ValueError, match="shape"):
        getattr(optim, name)([Parameter(p.data.copy()) for p in ours], **kwargs).load_state_dict(bad)


def _mlp_twins(seed: int):
    """A 2-16-16-3 tanh MLP built by the layer engine, and its torch copy with the same weights."""
    rng = np.random.default_rng(seed)
    net = Sequential(Linear(2, 16, rng), Tanh(), Linear(16, 16, rng), Tanh(), Linear(16, 3, rng))
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 3)).double()
    with torch.no_grad():
        for ours, theirs in zip(net.layers[::2], model[::2]):
            theirs.weight.copy_(torch.from_numpy(ours.params["W"].data.T))  # torch stores (M, D)
            theirs.bias.copy_(torch.from_numpy(ours.params["b"].data))
    return net, model


@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})])
def test_one_epoch_of_the_layer_engine_equals_torch(name, kwargs):
    """Same MLP, same initial weights, same batches, float64: after one epoch of 300 / 20 = 15
    steps the scratch engine + scratch optimizer and torch + torch.optim hold the same weights."""
    X, y = make_spirals(300, np.random.default_rng(0), classes=3)
    net, model = _mlp_twins(seed=1)
    history = fit(net, SoftmaxCrossEntropy(), getattr(optim, name)(net.parameters(), **kwargs), X, y,
                  epochs=1, batch_size=20, rng=np.random.default_rng(5))
    torch_opt = getattr(torch.optim, name)(model.parameters(), **kwargs)
    losses = []
    for Xb, yb in minibatches(torch.from_numpy(X), torch.from_numpy(y), 20, np.random.default_rng(5)):
        torch_opt.zero_grad()
        loss = F.cross_entropy(model(Xb), yb)
        loss.backward()
        torch_opt.step()
        losses.append(loss.item())
    assert history[0] == pytest.approx(np.mean(losses), rel=1e-12)
    for ours, theirs in zip(net.layers[::2], model[::2]):
        np.testing.assert_allclose(ours.params["W"].data, theirs.weight.detach().numpy().T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(ours.params["b"].data, theirs.bias.detach().numpy(), rtol=0, atol=1e-10)
    moved = np.abs(net.layers[0].params["W"].data - _mlp_twins(seed=1)[0].layers[0].params["W"].data).max()
    assert moved > 1e-2  # the weights really trained


def test_gradient_descent_on_a_quadratic_converges_below_2_over_lambda_max():
    """C(w) = 1/2 w^T H w: GD converges iff lr < 2 / lambda_max, fastest near 1 / lambda_max."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    eigenvalues = np.array([0.5, 1.0, 2.0, 5.0, 10.0])
    H = Q @ np.diag(eigenvalues) @ Q.T
    threshold = 2 / eigenvalues.max()

    def final_norm(lr: float, steps: int = 300) -> float:
        w = Parameter(rng.normal(size=5))
        opt = optim.SGD([w], lr=lr)
        for _ in range(steps):
            w.grad = H @ w.data
            opt.step()
        return float(np.linalg.norm(w.data))

    assert final_norm(0.95 * threshold) < 1e-3
    assert final_norm(1.05 * threshold) > 1e3
    # lr = 1 / lambda_max removes the stiffest direction in a single step.
    w = Parameter(rng.normal(size=5))
    w.grad = H @ w.data
    optim.SGD([w], lr=1 / eigenvalues.max()).step()
    assert abs(Q[:, -1] @ w.data) < 1e-12


def test_updates_in_place_and_leaves_gradients_alone():
    w = Parameter(np.ones(3))
    data = w.data
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.full(3, 2.0)
    opt.step()
    assert w.data is data
    np.testing.assert_allclose(w.data, 0.8)
    np.testing.assert_allclose(w.grad, 2.0)
    opt.step()  # the momentum buffer must not alias the gradient
    np.testing.assert_allclose(w.grad, 2.0)


def test_bad_input_names_what_was_expected():
    w = Parameter(np.zeros((2, 3)))
    opt = optim.Adam([w])
    w.grad = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(3, 2\)"):
        opt.step()
    with pytest.raises(ValueError, match="must be a Parameter"):
        optim.SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([w, w])
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([{"params": [w], "lr": -1.0}])
    with pytest.raises(ValueError, match="sizes"):
        optim.SGD([w]).load_state_dict(optim.SGD([w, Parameter(np.zeros(1))]).state_dict())
