import numpy as np
import pytest

from course_lib.scratch.gradcheck import check_layer, check_loss, numerical_gradient, relative_error
from course_lib.scratch.layers import Layer, Linear, SquaredError


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x) * x**2)), x)
    np.testing.assert_allclose(grad, np.cos(x) * x**2 + 2 * x * np.sin(x), rtol=1e-8)


def test_numerical_gradient_restores_its_input():
    x = np.random.default_rng(0).standard_normal(5)
    x0 = x.copy()
    numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_array_equal(x, x0)


def test_relative_error_is_scale_free():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(1e6 * a, 1e6 * (a + 1e-9)) == pytest.approx(relative_error(a, a + 1e-9))
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        relative_error(a, np.zeros(3))


class TransposedLinear(Linear):
    """A classic bug: the input gradient uses W instead of W^T (only visible when D == M)."""

    def backward(self, dout):
        super().backward(dout)
        return dout @ self.params["W"].data


class ForgetsTheBias(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.params["b"].grad = dout.mean(axis=0)  # should be the sum (overwrites the right one)
        return dx


@pytest.mark.parametrize("buggy, wrong", [(TransposedLinear, "x"), (ForgetsTheBias, "b")])
def test_gradient_check_catches_wrong_backward_passes(buggy, wrong):
    rng = np.random.default_rng(0)
    report = check_layer(buggy(4, 4, rng), rng.standard_normal((5, 4)), rng)
    assert not report.passed
    assert report.errors[wrong] > 1e-3
    assert "FAILED" in str(report)


def test_gradient_check_passes_and_reports_each_array():
    rng = np.random.default_rng(1)
    report = check_layer(Linear(3, 2, rng), rng.standard_normal((4, 3)), rng)
    assert report.passed and set(report.errors) == {"x", "W", "b"}
    assert max(report.errors.values()) < 1e-8
    assert "passed" in str(report)


def test_gradient_check_does_not_modify_the_callers_input():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 3))
    x0 = x.copy()
    check_layer(Linear(3, 3, rng), x, rng)
    np.testing.assert_array_equal(x, x0)


def test_check_loss_catches_a_wrong_loss_gradient():
    class WrongMSE(SquaredError):
        grad = staticmethod(lambda z, t: 2 * (z - t))

    rng = np.random.default_rng(3)
    z, t = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    assert check_loss(SquaredError(), z, t).passed
    assert not check_loss(WrongMSE(), z, t).passed


def test_float32_is_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="float64.*float32"):
        check_layer(Linear(2, 2, rng), np.zeros((2, 2), dtype=np.float32), rng)
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))


def test_base_layer_has_no_forward():
    with pytest.raises(NotImplementedError):
        Layer().forward(np.zeros((1, 1)))
