import numpy as np
import pytest

from course_lib.scratch.mixup import mixup, one_hot


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 1]), 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_mixes_inputs_and_targets_with_the_same_pairs_and_lam():
    rng = np.random.default_rng(0)
    N, C = 12, 4
    x = np.arange(N, dtype=np.float64)[:, None] * np.ones((N, 3))  # row n is all n: easy to trace
    y = one_hot(rng.integers(0, C, N), C)
    x_mix, y_mix, lam = mixup(x, y, alpha=1.0, rng=np.random.default_rng(1))
    assert 0 < lam < 1 and x_mix.shape == x.shape and y_mix.shape == y.shape
    partner = np.rint((x_mix[:, 0] - lam * x[:, 0]) / (1 - lam)).astype(int)
    assert sorted(partner) == list(range(N))  # each row was mixed with a row of a permutation
    np.testing.assert_allclose(y_mix, lam * y + (1 - lam) * y[partner])
    np.testing.assert_allclose(y_mix.sum(axis=1), 1.0)  # still distributions over C classes


def test_lam_follows_beta_alpha_alpha():
    rng = np.random.default_rng(2)
    x, y = np.zeros((2, 1)), one_hot(np.array([0, 1]), 2)
    alpha = 0.4
    lams = np.array([mixup(x, y, alpha, rng)[2] for _ in range(20_000)])
    assert lams.mean() == pytest.approx(0.5, abs=0.01)
    assert lams.var() == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.05)  # Beta(a, a) variance
    assert np.mean((lams < 0.1) | (lams > 0.9)) > 0.4  # small alpha: mostly one example


def test_seeded_and_leaves_inputs_alone():
    x = np.random.default_rng(3).standard_normal((6, 2))
    y = one_hot(np.arange(6) % 3, 3)
    x0 = x.copy()
    a = mixup(x, y, 0.2, np.random.default_rng(4))
    b = mixup(x, y, 0.2, np.random.default_rng(4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("call, message", [
    (lambda rng: mixup(np.ones((3, 2)), one_hot(np.arange(3), 3), 0.0, rng), "alpha must be a number > 0"),
    (lambda rng: mixup(np.ones((3, 2)), np.arange(3), 0.2, rng), "y must be \\(N, C\\) one-hot or soft"),
    (lambda rng: mixup(np.ones((4, 2)), one_hot(np.arange(3), 3), 0.2, rng), "same number of rows"),
    (lambda rng: mixup(np.ones((3, 2)), one_hot(np.arange(3), 3), 0.2, 0), "rng must be"),
    (lambda rng: one_hot(np.array([0, 3]), 3), "must lie in \\[0, 3\\)"),
    (lambda rng: one_hot(np.array([0.0, 1.0]), 3), "1-D integer array"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.random.default_rng(0))
