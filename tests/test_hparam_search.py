import numpy as np
import pytest

from course_lib.hparam_search import grid_points, random_points

SPACE = {"lr": (1e-3, 1.0, "log"), "momentum": (0.0, 0.9, "linear")}


def test_grid_holds_every_combination_of_evenly_spaced_values():
    grid = grid_points(SPACE, per_axis=4)
    assert grid.shape == (16, 2)
    np.testing.assert_allclose(np.unique(grid[:, 0]), [1e-3, 1e-2, 1e-1, 1.0])  # even in log10
    np.testing.assert_allclose(np.unique(grid[:, 1]), [0.0, 0.3, 0.6, 0.9])  # even in value
    assert len({tuple(p) for p in grid}) == 16
    np.testing.assert_allclose(grid[:4, 0], 1e-3)  # the last hyper-parameter varies fastest
    np.testing.assert_allclose(grid[:4, 1], [0.0, 0.3, 0.6, 0.9])


def test_random_points_are_uniform_on_each_scale_and_seeded():
    pts = random_points(SPACE, 20_000, np.random.default_rng(0))
    assert pts.shape == (20_000, 2)
    assert pts[:, 0].min() >= 1e-3 and pts[:, 0].max() <= 1.0
    assert np.mean(np.log10(pts[:, 0])) == pytest.approx(-1.5, abs=0.02)  # uniform in log10 on [-3, 0]
    assert np.mean(pts[:, 0] < 1e-2) == pytest.approx(1 / 3, abs=0.01)
    assert np.mean(pts[:, 1]) == pytest.approx(0.45, abs=0.01)  # uniform in value on [0, 0.9]
    np.testing.assert_array_equal(random_points(SPACE, 5, np.random.default_rng(1)),
                                  random_points(SPACE, 5, np.random.default_rng(1)))


def test_random_search_tries_more_distinct_values_of_each_hyperparameter():
    # Bergstra & Bengio's point: at a budget of 9, a 3 x 3 grid tries 3 values of lr, random tries 9.
    grid, rand = grid_points(SPACE, 3), random_points(SPACE, 9, np.random.default_rng(2))
    assert len(np.unique(grid[:, 0])) == 3 and len(np.unique(rand[:, 0])) == 9


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: grid_points(SPACE, 0), "per_axis"),
        (lambda: random_points(SPACE, 0, np.random.default_rng(0)), "n must be"),
        (lambda: random_points(SPACE, 3, 0), "Generator"),
        (lambda: grid_points({}, 3), "non-empty"),
        (lambda: grid_points({"lr": (1.0, 0.1, "log")}, 3), "low < high"),
        (lambda: grid_points({"lr": (0.0, 1.0, "log")}, 3), "low > 0"),
        (lambda: grid_points({"lr": (0.1, 1.0, "exp")}, 3), "scale must be"),
        (lambda: grid_points({"lr": (0.1, 1.0)}, 3), r"\(low, high, scale\)"),
    ],
)
def test_bad_input_names_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
