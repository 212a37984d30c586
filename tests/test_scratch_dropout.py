import numpy as np
import pytest
import torch

from course_lib.scratch.dropout import Dropout
from course_lib.scratch.gradcheck import check_layer


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_expectation_is_kept_and_p_is_the_drop_probability(p):
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 1.0, (400, 500))  # 200 000 entries
    y = Dropout(p, np.random.default_rng(1)).forward(x)
    n = x.size
    dropped = np.mean(y == 0)
    # a Bernoulli(p) frequency over n draws has standard error sqrt(p (1-p) / n); allow 5 of them
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    # E[y - x] = 0; y - x = x (m/(1-p) - 1) has variance E[x^2] p / (1 - p)
    se = np.sqrt(np.mean(x**2) * p / (1 - p) / n)
    assert abs(np.mean(y - x)) < 5 * se
    survivors = y != 0
    np.testing.assert_allclose(y[survivors], x[survivors] / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_follows_torchs_convention(p):
    """torch's Dropout(p) zeroes a fraction p and scales survivors by 1 / (1 - p): so do we."""
    torch.manual_seed(0)
    ref = torch.nn.Dropout(p)(torch.ones(200_000, dtype=torch.float64)).numpy()
    ours = Dropout(p, np.random.default_rng(0)).forward(np.ones((1, 200_000)))
    assert set(np.unique(ours)) == set(np.unique(ref)) == {0.0, 1 / (1 - p)}
    assert abs(np.mean(ours == 0) - np.mean(ref == 0)) < 0.01


def test_backward_uses_the_forward_mask():
    rng = np.random.default_rng(2)
    drop = Dropout(0.5, rng)
    y = drop.forward(np.ones((50, 40)))
    dx = drop.backward(np.full((50, 40), 3.0))
    np.testing.assert_array_equal(dx, 3.0 * y)  # dropped units pass no gradient, survivors are scaled


def test_gradcheck_with_a_fixed_mask():
    class FixedMask(Dropout):
        """The same mask at every forward, so finite differences see one function."""
        def forward(self, x):
            self.rng = np.random.default_rng(7)
            return super().forward(x)

    rng = np.random.default_rng(3)
    report = check_layer(FixedMask(0.3, rng), rng.standard_normal((6, 5)), rng)
    assert report.passed, str(report)


def test_eval_mode_and_p_zero_are_the_identity():
    x = np.random.default_rng(4).standard_normal((10, 3))
    drop = Dropout(0.5, np.random.default_rng(5)).eval()
    np.testing.assert_array_equal(drop.forward(x), x)
    np.testing.assert_array_equal(drop.backward(np.ones((10, 3))), np.ones((10, 3)))
    np.testing.assert_array_equal(Dropout(0.0, np.random.default_rng(5)).forward(x), x)


def test_masks_are_fresh_each_call_and_seeded():
    x = np.ones((20, 20))
    drop = Dropout(0.5, np.random.default_rng(6))
    a, b = drop.forward(x), drop.forward(x)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, Dropout(0.5, np.random.default_rng(6)).forward(x))


def test_float32_stays_float32():
    y = Dropout(0.5, np.random.default_rng(0)).forward(np.ones((4, 4), dtype=np.float32))
    assert y.dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5", True])
def test_p_outside_zero_one_is_a_clear_error(p):
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\), got"):
        Dropout(p, np.random.default_rng(0))


def test_bad_rng_and_backward_first():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        Dropout(0.5, 0)
    with pytest.raises(RuntimeError, match="before forward"):
        Dropout(0.5, np.random.default_rng(0)).backward(np.ones((2, 2)))
