"""course_lib.scratch.linear against numpy.linalg.lstsq and torch (float64, tight tolerance)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.scratch.linear import (
    SingularMatrixError,
    add_bias,
    condition_number,
    l1,
    l1_grad,
    least_squares,
    mse,
    mse_grad,
    predict,
    ridge,
    sgd,
    sgd_step,
)


def make_problem(seed: int, n: int = 50, d: int = 4, noise: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    return X, y, w_true


# --- model and losses ------------------------------------------------------------------------

def test_add_bias_appends_a_column_of_ones() -> None:
    X = np.arange(6.0).reshape(3, 2)
    Xb = add_bias(X)
    assert Xb.shape == (3, 3)
    np.testing.assert_array_equal(Xb[:, :2], X)
    np.testing.assert_array_equal(Xb[:, 2], np.ones(3))


def test_bias_column_makes_last_weight_the_intercept() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(30, 1))
    y = 3.0 * x[:, 0] - 2.0  # exact line: slope 3, intercept -2
    w = least_squares(add_bias(x), y)
    np.testing.assert_allclose(w, [3.0, -2.0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_mse_and_l1_match_torch(seed: int) -> None:
    X, y, _ = make_problem(seed)
    w = np.random.default_rng(seed + 10).standard_normal(X.shape[1])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    wt = torch.from_numpy(w)
    assert mse(X, w, y) == pytest.approx(torch.nn.functional.mse_loss(Xt @ wt, yt).item(), rel=1e-13)
    assert l1(X, w, y) == pytest.approx(torch.nn.functional.l1_loss(Xt @ wt, yt).item(), rel=1e-13)
    np.testing.assert_allclose(predict(X, w), (Xt @ wt).numpy(), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", ["mse", "l1"])
def test_gradients_match_autograd(seed: int, name: str) -> None:
    X, y, _ = make_problem(seed, n=40, d=5)
    w = np.random.default_rng(seed + 20).standard_normal(X.shape[1])
    wt = torch.tensor(w, requires_grad=True)
    loss_fn = torch.nn.functional.mse_loss if name == "mse" else torch.nn.functional.l1_loss
    loss_fn(torch.from_numpy(X) @ wt, torch.from_numpy(y)).backward()
    grad = mse_grad(X, w, y) if name == "mse" else l1_grad(X, w, y)
    assert grad.shape == w.shape
    np.testing.assert_allclose(grad, wt.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_mse_grad_matches_central_differences() -> None:
    X, y, _ = make_problem(5, n=20, d=3)
    w = np.array([0.3, -1.2, 0.7])
    h = 1e-6
    numeric = np.array([(mse(X, w + h * e, y) - mse(X, w - h * e, y)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(mse_grad(X, w, y), numeric, rtol=1e-7, atol=1e-9)


def test_losses_do_not_change_their_inputs() -> None:
    X, y, _ = make_problem(0)
    w = np.ones(X.shape[1])
    copies = X.copy(), y.copy(), w.copy()
    mse_grad(X, w, y), l1_grad(X, w, y), sgd_step(X, y, w, 0.1)
    for before, after in zip(copies, (X, y, w)):
        np.testing.assert_array_equal(before, after)


# --- closed forms ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_least_squares_matches_lstsq_and_torch(seed: int) -> None:
    X, y, _ = make_problem(seed, n=60, d=6)
    w = least_squares(X, y)
    w_np = np.linalg.lstsq(X, y, rcond=None)[0]
    w_torch = torch.linalg.lstsq(torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)).solution.squeeze(1)
    np.testing.assert_allclose(w, w_np, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, w_torch.numpy(), rtol=1e-10, atol=1e-12)


def test_least_squares_gradient_vanishes_at_the_solution() -> None:
    X, y, _ = make_problem(3, n=80, d=5)
    w = least_squares(add_bias(X), y)
    np.testing.assert_allclose(mse_grad(add_bias(X), w, y), np.zeros(6), atol=1e-12)


@pytest.mark.parametrize("lam", [1e-3, 0.5, 10.0])
def test_ridge_matches_torch_solve_and_augmented_lstsq(lam: float) -> None:
    X, y, _ = make_problem(7, n=30, d=5)
    w = ridge(X, y, lam)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w_torch = torch.linalg.solve(Xt.T @ Xt + lam * torch.eye(5, dtype=torch.float64), Xt.T @ yt)
    np.testing.assert_allclose(w, w_torch.numpy(), rtol=1e-10, atol=1e-12)
    # Ridge is least squares on X stacked over sqrt(lam) I, with zeros appended to y.
    X_aug = np.vstack([X, np.sqrt(lam) * np.eye(5)])
    y_aug = np.concatenate([y, np.zeros(5)])
    np.testing.assert_allclose(w, np.linalg.lstsq(X_aug, y_aug, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_ridge_with_zero_lambda_is_least_squares() -> None:
    X, y, _ = make_problem(2)
    np.testing.assert_allclose(ridge(X, y, 0.0), least_squares(X, y), rtol=1e-14)


def test_ridge_shrinks_weights_as_lambda_grows() -> None:
    X, y, _ = make_problem(4)
    norms = [np.linalg.norm(ridge(X, y, lam)) for lam in (0.0, 1.0, 10.0, 100.0, 1e4)]
    assert all(a > b for a, b in zip(norms, norms[1:]))


def test_duplicated_feature_is_singular_and_ridge_fixes_it() -> None:
    X, y, _ = make_problem(0, n=40, d=3)
    X_dup = np.hstack([X, X[:, :1]])  # column 3 repeats column 0
    with pytest.raises(SingularMatrixError, match="ridge"):
        least_squares(X_dup, y)
    assert condition_number(X_dup) > 1e14
    w = ridge(X_dup, y, 1e-3)
    assert np.all(np.isfinite(w))
    # The shared weight is split evenly between the two copies of the feature.
    assert w[0] == pytest.approx(w[3], rel=1e-9)


def test_more_features_than_examples_is_singular() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 8)), rng.standard_normal(5)
    with pytest.raises(SingularMatrixError, match="N = 5 < D = 8"):
        least_squares(X, y)
    assert condition_number(X) == float("inf")
    # With lam > 0 ridge interpolates the 5 points, better as lam -> 0.
    assert mse(X, ridge(X, y, 1e-8), y) < 1e-12


def test_singular_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        least_squares(np.ones((4, 2)), np.ones(4))


def test_condition_number_matches_numpy_and_decreases_with_lambda() -> None:
    X, _, _ = make_problem(1, n=50, d=4)
    X = X * np.array([1.0, 10.0, 0.1, 3.0])  # badly scaled features
    assert condition_number(X) == pytest.approx(np.linalg.cond(X.T @ X), rel=1e-8)
    lams = [0.0, 0.01, 0.1, 1.0, 10.0, 100.0]
    conds = [condition_number(X, lam) for lam in lams]
    assert all(a > b for a, b in zip(conds, conds[1:]))
    assert conds[-1] == pytest.approx(np.linalg.cond(X.T @ X + 100.0 * np.eye(4)), rel=1e-8)


# --- gradient descent ------------------------------------------------------------------------

def test_full_batch_gradient_descent_converges_to_closed_form() -> None:
    X, y, _ = make_problem(8, n=100, d=4)
    Xb = add_bias(X)
    w, history = sgd(Xb, y, np.zeros(5), lr=0.2, epochs=300, batch_size=100, rng=np.random.default_rng(0))
    np.testing.assert_allclose(w, least_squares(Xb, y), rtol=1e-8, atol=1e-10)
    assert len(history) == 301
    assert history[-1] == pytest.approx(mse(Xb, least_squares(Xb, y), y), rel=1e-10)
    # lr below 1/L: the loss never goes up (beyond rounding once it has converged)
    assert all(b <= a + 1e-14 for a, b in zip(history, history[1:]))


def test_minibatch_sgd_with_decay_reaches_the_closed_form_mse() -> None:
    X, y, _ = make_problem(9, n=200, d=3)
    w_star = least_squares(X, y)
    w, history = sgd(
        X, y, np.zeros(3), lr=0.05, epochs=100, batch_size=8, rng=np.random.default_rng(1), lr_decay=0.5
    )
    assert history[-1] < history[0] / 10
    assert history[-1] == pytest.approx(mse(X, w_star, y), rel=1e-3)
    np.testing.assert_allclose(w, w_star, atol=1e-2)


def test_sgd_matches_torch_optim_sgd_step_for_step() -> None:
    X, y, _ = make_problem(10, n=12, d=3)
    rng_np = np.random.default_rng(3)
    w = np.zeros(3)
    wt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([wt], lr=0.05)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(20):
        batch = rng_np.choice(12, size=4, replace=False)
        w = sgd_step(X[batch], y[batch], w, 0.05)
        opt.zero_grad()
        torch.nn.functional.mse_loss(Xt[batch] @ wt, yt[batch]).backward()
        opt.step()
    np.testing.assert_allclose(w, wt.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_sgd_is_deterministic_given_rng_and_does_not_change_w0() -> None:
    X, y, _ = make_problem(11)
    w0 = np.zeros(X.shape[1])
    runs = [sgd(X, y, w0, lr=0.05, epochs=3, batch_size=5, rng=np.random.default_rng(42)) for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    np.testing.assert_array_equal(w0, np.zeros(X.shape[1]))


def test_l1_sgd_ignores_an_outlier_that_mse_follows() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(60, 1))
    y = 2.0 * x[:, 0] + 0.5 + 0.05 * rng.standard_normal(60)
    y[np.argmax(x[:, 0])] += 30.0  # one wild label at the right end
    Xb = add_bias(x)
    w_mse = least_squares(Xb, y)
    w_l1, _ = sgd(Xb, y, np.zeros(2), lr=0.5, epochs=400, batch_size=60, rng=rng, loss="l1", lr_decay=0.05)
    assert abs(w_l1[0] - 2.0) < 0.1 < abs(w_mse[0] - 2.0)


# --- bad input -------------------------------------------------------------------------------

def test_column_targets_are_refused_instead_of_broadcast() -> None:
    X, y, _ = make_problem(0, n=10, d=2)
    w = np.zeros(2)
    for fn in (mse, mse_grad, l1, l1_grad):
        with pytest.raises(ValueError, match=r"y must have shape \(N,\) = \(10,\).*got \(10, 1\).*ravel"):
            fn(X, w, y[:, None])


@pytest.mark.parametrize(
    "X, y, w, pattern",
    [
        (np.zeros(5), np.zeros(5), np.zeros(1), r"X must have shape \(N, D\), got \(5,\)"),
        (np.zeros((5, 2)), np.zeros(4), np.zeros(2), r"y must have shape \(N,\) = \(5,\).*got \(4,\)"),
        (np.zeros((5, 2)), np.zeros(5), np.zeros(3), r"w must have shape \(D,\) = \(2,\).*got \(3,\)"),
        (np.zeros((5, 2)), np.zeros(5), np.zeros((2, 1)), r"w must have shape \(D,\) = \(2,\).*got \(2, 1\)"),
        (np.zeros((5, 2), dtype=bool), np.zeros(5), np.zeros(2), r"dtype bool"),
        (np.zeros((5, 2)), np.array(["a"] * 5), np.zeros(2), r"y must hold real numbers"),
        ([[1.0, 2.0]], np.zeros(1), np.zeros(2), r"X must be a NumPy array, got list"),
    ],
)
def test_bad_shapes_and_dtypes_name_expected_and_actual(X, y, w, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        mse_grad(X, w, y)


def test_bad_arguments_of_ridge_and_sgd() -> None:
    X, y, _ = make_problem(0, n=10, d=2)
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        ridge(X, y, -1.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        sgd(X, y, np.zeros(2), lr=0.1, epochs=1, batch_size=2, rng=np.random.default_rng(0), loss="huber")
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        sgd(X, y, np.zeros(2), lr=0.1, epochs=1, batch_size=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="lr must be > 0"):
        sgd(X, y, np.zeros(2), lr=-0.1, epochs=1, batch_size=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        sgd(X, y, np.zeros(2), lr=0.1, epochs=1, batch_size=2, rng=0)
