"""The linear-regression explorer: pure surface functions, and the widget driven from Python."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_lib.scratch.linear import add_bias, least_squares, mse_grad, mse_surface
from course_lib.viz.linear_regression import LinearRegressionExplorer, default_grid


def data(seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 5, size=n)
    return x, 1.5 * x - 2.0 + 0.5 * rng.standard_normal(n)


# --- pure functions --------------------------------------------------------------------------

def test_surface_matches_a_direct_computation() -> None:
    x, y = data()
    slopes, intercepts = np.linspace(-1, 3, 7), np.linspace(-4, 1, 5)
    Z = mse_surface(x, y, slopes, intercepts)
    assert Z.shape == (5, 7)
    direct = np.array([[np.mean((a * x + b - y) ** 2) for a in slopes] for b in intercepts])
    np.testing.assert_allclose(Z, direct, rtol=1e-12, atol=1e-12)


def test_grid_contains_the_minimum_and_surface_is_lowest_there() -> None:
    x, y = data(2)
    slopes, intercepts = default_grid(x, y, size=41)
    a_star, b_star = least_squares(add_bias(x[:, None]), y)
    assert slopes[20] == pytest.approx(a_star) and intercepts[20] == pytest.approx(b_star)
    Z = mse_surface(x, y, slopes, intercepts)
    assert np.unravel_index(np.argmin(Z), Z.shape) == (20, 20)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"x \(5,\) and y \(4,\)"):
        mse_surface(np.zeros(5), np.zeros(4), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="singular"):
        default_grid(np.ones(5), np.arange(5.0))


# --- the widget ------------------------------------------------------------------------------

@pytest.fixture
def explorer() -> LinearRegressionExplorer:
    x, y = data()
    return LinearRegressionExplorer(x, y, slope=0.0, intercept=0.0, lr=0.05)


def test_slider_changes_the_line_point_and_title(explorer: LinearRegressionExplorer) -> None:
    explorer.slope.value = 1.0
    explorer.intercept.value = -1.0
    xs, ys = explorer.line.get_data()
    np.testing.assert_allclose(ys, 1.0 * np.asarray(xs) - 1.0)
    np.testing.assert_allclose(np.ravel(explorer.point.get_data()), [1.0, -1.0])
    expected = float(np.mean((1.0 * explorer.x - 1.0 - explorer.y) ** 2))
    assert f"MSE = {expected:.4g}" in explorer.title.get_text()
    assert explorer.current_mse() == pytest.approx(expected)


def test_surface_is_not_redrawn_when_sliders_move(explorer: LinearRegressionExplorer) -> None:
    before = [id(c) for c in explorer.ax_surface.collections]
    explorer.slope.value = 2.0
    explorer.step_button.click()
    assert [id(c) for c in explorer.ax_surface.collections] == before


def test_gradient_steps_lower_the_mse_and_draw_the_path(explorer: LinearRegressionExplorer) -> None:
    before = explorer.current_mse()
    a, b = explorer.slope.value, explorer.intercept.value
    ga, gb = mse_grad(add_bias(explorer.x[:, None]), np.array([a, b]), explorer.y)
    explorer.step_button.click()
    assert explorer.slope.value == pytest.approx(a - 0.05 * ga, abs=explorer.slope.step)
    for _ in range(4):
        explorer.step_button.click()
    assert explorer.current_mse() < before
    path_a, path_b = explorer.path.get_data()
    assert len(path_a) == 6
    np.testing.assert_allclose([path_a[-1], path_b[-1]], np.ravel(explorer.point.get_data()))
    explorer.reset_button.click()
    assert len(explorer.path.get_data()[0]) == 1


def snap(slider, value: float) -> float:
    """What a browser's slider sends back for ``value``: the nearest point of min + k * step."""
    return slider.min + round((value - slider.min) / slider.step) * slider.step


def test_browser_snapping_a_stepped_value_keeps_the_path(explorer: LinearRegressionExplorer) -> None:
    for steps in range(1, 5):
        explorer.step_button.click()
        for slider in (explorer.slope, explorer.intercept):  # the echo, one slider at a time
            slider.value = snap(slider, slider.value)
        assert len(explorer.path.get_data()[0]) == steps + 1
    path_a, path_b = explorer.path.get_data()
    assert (path_a[-1], path_b[-1]) == (explorer.slope.value, explorer.intercept.value)  # ends at the snapped point
    explorer.slope.value = snap(explorer.slope, explorer.slope.value) + explorer.slope.step  # a key press
    assert len(explorer.path.get_data()[0]) == 1
