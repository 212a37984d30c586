"""Each scratch optimizer follows torch.optim's trajectory for 200 steps, in float64, to 1e-10."""

import numpy as np
import pytest
import torch

from course_lib.scratch import optim

# (scratch class, torch class, keyword arguments)
CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.9}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    # Small lr and long memory here: with weight decay some effective gradients g + wd*w shrink to
    # ~0 while square_avg shrinks too, so lr / sqrt(square_avg) grows until the step is unstable
    # (RMSprop's own dynamics); then 1e-16 rounding differences grow ~3x per step in any two
    # implementations. At lr=1e-3, alpha=0.99 the trajectory stays stable for 200 steps.
    ("RMSprop", {"lr": 1e-3, "alpha": 0.99, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3}),
]


def _problem(seed: int):
    """A random, non-quadratic float64 problem: logistic-ish loss of a 2-layer tanh net."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randn(32, 2, generator=g, dtype=torch.float64)
    init = [torch.randn(4, 6, generator=g, dtype=torch.float64) * 0.5,
            torch.zeros(6, dtype=torch.float64),
            torch.randn(6, 2, generator=g, dtype=torch.float64) * 0.5]

    def loss_fn(W1, b1, W2):
        return ((torch.tanh(X @ W1 + b1) @ W2 - y) ** 2).mean()

    return init, loss_fn


def _torch_grads(loss_fn, arrays):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    return [g.numpy() for g in torch.autograd.grad(loss_fn(*tensors), tensors)]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch_over_200_steps(name, kwargs):
    init, loss_fn = _problem(seed=len(str(kwargs)))
    ref = [t.clone().requires_grad_(True) for t in init]
    ref_opt = getattr(torch.optim, name)(ref, **kwargs)
    ours = [t.numpy().copy() for t in init]
    our_opt = getattr(optim, name)(ours, **kwargs)
    for _ in range(200):
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref_opt.step()
        our_opt.step(_torch_grads(loss_fn, ours))
    for a, t in zip(ours, ref):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=0, atol=1e-10)
    # The state holds what torch holds, under torch's names.
    for our_state, p in zip(our_opt.state, ref):
        theirs = ref_opt.state[p]
        assert set(our_state) == set(theirs)
        for key, value in theirs.items():
            np.testing.assert_allclose(our_state[key], np.asarray(value), rtol=0, atol=1e-10)
    assert not np.allclose(ours[0], init[0].numpy())  # the parameters really moved


def test_defaults_are_torchs():
    w = [np.zeros(3)]
    assert optim.SGD(w).lr == 1e-3 and optim.Adam(w).lr == 1e-3 and optim.Adam(w).betas == (0.9, 0.999)
    assert optim.Adagrad(w).lr == 1e-2 and optim.Adagrad(w).eps == 1e-10
    assert optim.RMSprop(w).lr == 1e-2 and optim.RMSprop(w).alpha == 0.99 and optim.RMSprop(w).eps == 1e-8
    assert optim.AdamW(w).weight_decay == 1e-2


def test_schedule_change_takes_effect_like_torch():
    """Changing lr between steps (as a schedule does) keeps SGD+momentum on torch's path."""
    init, loss_fn = _problem(seed=3)
    ref = [t.clone().requires_grad_(True) for t in init]
    ref_opt = torch.optim.SGD(ref, lr=0.05, momentum=0.9)
    ours = [t.numpy().copy() for t in init]
    our_opt = optim.SGD(ours, lr=0.05, momentum=0.9)
    for step in range(60):
        lr = 0.05 / (1 + 0.1 * step)
        ref_opt.param_groups[0]["lr"] = lr
        our_opt.lr = lr
        ref_opt.zero_grad()
        loss_fn(*ref).backward()
        ref_opt.step()
        our_opt.step(_torch_grads(loss_fn, ours))
    np.testing.assert_allclose(ours[2], ref[2].detach().numpy(), rtol=0, atol=1e-10)


def test_updates_in_place_and_leaves_gradients_alone():
    w = np.ones(3)
    g = np.full(3, 2.0)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.step([g])
    np.testing.assert_allclose(w, 0.8)
    np.testing.assert_allclose(g, 2.0)
    opt.step([g])  # the momentum buffer must not alias the caller's gradient
    np.testing.assert_allclose(g, 2.0)


def test_gradient_descent_on_a_quadratic_converges_below_2_over_lambda_max():
    """C(w) = 1/2 w^T H w: GD converges iff lr < 2 / lambda_max, fastest near 1 / lambda_max."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    eigenvalues = np.array([0.5, 1.0, 2.0, 5.0, 10.0])
    H = Q @ np.diag(eigenvalues) @ Q.T
    threshold = 2 / eigenvalues.max()

    def final_norm(lr: float, steps: int = 300) -> float:
        w = rng.normal(size=5)
        opt = optim.SGD([w], lr=lr)
        for _ in range(steps):
            opt.step([H @ w])
        return float(np.linalg.norm(w))

    assert final_norm(0.95 * threshold) < 1e-3
    assert final_norm(1.05 * threshold) > 1e3
    # lr = 1 / lambda_max removes the stiffest direction in a single step.
    w = rng.normal(size=5)
    optim.SGD([w], lr=1 / eigenvalues.max()).step([H @ w])
    assert abs(Q[:, -1] @ w) < 1e-12


def test_bad_input_names_shapes():
    w = np.zeros((2, 3))
    opt = optim.Adam([w])
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(3, 2\)"):
        opt.step([np.zeros((3, 2))])
    with pytest.raises(ValueError, match="expected 1 gradients"):
        opt.step([np.zeros((2, 3)), np.zeros(1)])
    with pytest.raises(ValueError, match="floating-point"):
        optim.SGD([np.zeros(3, dtype=int)])
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(1.0, 0.9))
