"""Grid search and random search: where to try the hyper-parameters, for a given budget.

    >>> space = {"lr": (1e-3, 1.0, "log"), "weight_decay": (1e-6, 1e-2, "log")}
    >>> grid = grid_points(space, per_axis=3)           # (9, 2): 3 values of each, every pair
    >>> rand = random_points(space, 9, rng)             # (9, 2): 9 independent draws in the box
    >>> scores = [validation_error(**dict(zip(space, p))) for p in rand]

Shapes: P hyper-parameters (the keys of ``space``, in order); K points; each function returns a
(K, P) float64 array, column p holding the values of the p-th hyper-parameter.

``space`` maps each name to (low, high, scale) with scale "linear" (uniform in [low, high]) or
"log" (uniform in log(value): as many tries between 0.001 and 0.01 as between 0.1 and 1).

Why random (Bergstra & Bengio, 2012): with a budget of K = k^P runs a grid tries only k distinct
values of each hyper-parameter, while K random points try K distinct values of every one. When
only a few hyper-parameters matter, which is the usual case, the grid wastes most of its runs
repeating the same values of the one that matters.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
Space = dict[str, tuple[float, float, str]]

SCALES = ("linear", "log")


def grid_points(space: Space, per_axis: int) -> Array:
    """Every combination of ``per_axis`` evenly spaced values per hyper-parameter: (per_axis**P, P).

    The values include both ends of each range; the last hyper-parameter varies fastest.
    """
    if isinstance(per_axis, bool) or not isinstance(per_axis, (int, np.integer)) or per_axis < 1:
        raise ValueError(f"per_axis must be an integer >= 1, got {per_axis!r}")
    axes = [np.linspace(*_to_unit_free(bounds), per_axis) for bounds in _checked(space).values()]
    mesh = np.meshgrid(*axes, indexing="ij")
    return _from_unit_free(space, np.stack([m.ravel() for m in mesh], axis=1))


def random_points(space: Space, n: int, rng: np.random.Generator) -> Array:
    """``n`` independent points, each hyper-parameter uniform on its (linear or log) scale: (n, P)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    bounds = np.array([_to_unit_free(b) for b in _checked(space).values()])  # (P, 2)
    u = rng.uniform(bounds[:, 0], bounds[:, 1], size=(n, len(bounds)))
    return _from_unit_free(space, u)


def _to_unit_free(bounds: tuple[float, float, str]) -> tuple[float, float]:
    """The range on the axis where sampling is uniform: log10 for "log"."""
    low, high, scale = bounds
    return (np.log10(low), np.log10(high)) if scale == "log" else (low, high)


def _from_unit_free(space: Space, u: Array) -> Array:
    log_columns = np.array([scale == "log" for _, _, scale in space.values()])
    return np.where(log_columns, 10.0 ** u, u)


def _checked(space: Space) -> Space:
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict name -> (low, high, scale), got {space!r}")
    for name, bounds in space.items():
        if not isinstance(bounds, tuple) or len(bounds) != 3:
            raise ValueError(f"space[{name!r}] must be (low, high, scale), got {bounds!r}")
        low, high, scale = bounds
        if scale not in SCALES:
            raise ValueError(f"space[{name!r}]: scale must be one of {SCALES}, got {scale!r}")
        if not low < high:
            raise ValueError(f"space[{name!r}]: need low < high, got low={low!r}, high={high!r}")
        if scale == "log" and not low > 0:
            raise ValueError(f"space[{name!r}]: a log scale needs low > 0, got low={low!r}")
    return space
