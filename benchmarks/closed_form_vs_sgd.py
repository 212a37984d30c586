"""Closed form vs SGD for linear regression: who wins as the data grows?

Two tables, both measured in this run:

1. **Time to solve.** For each (N, D): the closed form (our normal equations, and
   ``numpy.linalg.lstsq`` as the reference) against mini-batch SGD run until its training MSE
   is within 1% of the closed form's. The closed form costs O(N D^2 + D^3) and must read every
   row; SGD's cost depends on how many updates it needs, not on N, so once N is large enough
   SGD gets there first: the ``SGD / normal eq.`` ratio falls below 1 (the crossover). At fixed
   N, a growing D makes the D^3 term bite and the ratio shrinks too.
2. **Cost of one update.** One SGD step on a single row is O(D) (on B rows, O(B D)); one closed
   form solve is O(N D^2 + D^3). The ratio grows with D and with N.

SGD's clock only runs while it updates; checking the full training MSE every few updates (to know
when to stop) is not counted, since a real run would not need it.

    python benchmarks/closed_form_vs_sgd.py           # about a minute on 2 cores
    python benchmarks/closed_form_vs_sgd.py --quick   # a few seconds
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from course_lib.scratch.linear import least_squares, mse, sgd_step

BATCH = 128         # mini-batch size B
CHECK_EVERY = 10    # updates between (untimed) checks of the full training MSE
TOLERANCE = 0.01    # "solved" = training MSE <= (1 + TOLERANCE) * closed-form MSE


def make_data(n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features X (n, d), y = X w + noise with unit noise variance."""
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    return X, X @ w + rng.standard_normal(n)


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sgd_time_to_target(
    X: np.ndarray, y: np.ndarray, target: float, rng: np.random.Generator, max_updates: int
) -> tuple[float, int]:
    """Run mini-batch SGD from w = 0 until mse <= target; return (seconds spent updating, updates).

    The learning rate lr_t = lr0 / (1 + t / t0) shrinks so SGD's noise can settle below 1%.
    A batch of B Gaussian rows in D dimensions has MSE curvature up to about 2 (1 + sqrt(D/B))^2,
    so lr0 = 0.5 / (1 + sqrt(D/B))^2 keeps every step stable; the decay starts after the first
    ~5 / lr0 updates, once the large initial error is gone.
    """
    n, d = X.shape
    w = np.zeros(d)
    lr0 = 0.5 / (1 + np.sqrt(d / BATCH)) ** 2
    t0 = 5 / lr0
    spent, updates = 0.0, 0
    while updates < max_updates:
        rows = rng.integers(0, n, size=(CHECK_EVERY, BATCH))  # sampling is outside the timed region
        start = time.perf_counter()
        for batch in rows:
            w = sgd_step(X[batch], y[batch], w, lr0 / (1 + updates / t0))
            updates += 1
        spent += time.perf_counter() - start
        if mse(X, w, y) <= target:
            return spent, updates
    return float("nan"), updates


def time_to_solve(sizes: list[tuple[int, int]], repeat: int, rng: np.random.Generator) -> None:
    print(f"\nTime to reach the least-squares training MSE within {TOLERANCE:.0%} (SGD: batch {BATCH})")
    header = f"{'N':>8} {'D':>5} | {'lstsq (ref)':>11} {'normal eq.':>10} | {'SGD':>9} {'updates':>8} | {'SGD / normal eq.':>16}"
    print(header)
    print("-" * len(header))
    for n, d in sizes:
        X, y = make_data(n, d, rng)
        t_ref = best_time(lambda: np.linalg.lstsq(X, y, rcond=None), repeat)
        t_ne = best_time(lambda: least_squares(X, y), repeat)
        target = (1 + TOLERANCE) * mse(X, least_squares(X, y), y)
        t_sgd, updates = sgd_time_to_target(X, y, target, rng, max_updates=200_000)
        winner = "  <- SGD faster" if t_sgd < t_ne else ""
        print(
            f"{n:>8} {d:>5} | {1e3 * t_ref:>9.2f}ms {1e3 * t_ne:>8.2f}ms | {1e3 * t_sgd:>7.2f}ms {updates:>8} |"
            f" {t_sgd / t_ne:>16.2f}{winner}"
        )


def cost_per_update(n: int, dims: list[int], repeat: int, rng: np.random.Generator) -> None:
    print(f"\nCost of one update as D grows (closed form on N = {n} rows)")
    header = f"{'D':>6} | {'SGD step, B=1':>13} {'SGD step, B=128':>15} | {'normal eq.':>10} | {'normal eq. / step':>17}"
    print(header)
    print("-" * len(header))
    for d in dims:
        X, y = make_data(n, d, rng)
        w = np.zeros(d)
        steps = 200
        t_one = best_time(lambda: [sgd_step(X[i:i + 1], y[i:i + 1], w, 0.01) for i in range(steps)], repeat) / steps
        t_batch = best_time(lambda: [sgd_step(X[i:i + BATCH], y[i:i + BATCH], w, 0.01) for i in range(steps)], repeat) / steps
        t_ne = best_time(lambda: least_squares(X, y), repeat)
        print(
            f"{d:>6} | {1e6 * t_one:>11.1f}us {1e6 * t_batch:>13.1f}us | {1e3 * t_ne:>8.2f}ms | {t_ne / t_one:>17.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a run of a few seconds")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.quick:
        sizes = [(1_000, 20), (10_000, 20), (100_000, 20), (20_000, 100)]
        dims, repeat, n_cost = [10, 100, 400], 2, 2_000
    else:
        sizes = [(1_000, 50), (10_000, 50), (100_000, 50), (400_000, 50),
                 (20_000, 10), (20_000, 100), (20_000, 400), (20_000, 1_000)]
        dims, repeat, n_cost = [10, 100, 1_000, 2_000], 3, 4_000
    time_to_solve(sizes, repeat, rng)
    cost_per_update(n_cost, dims, repeat, rng)


if __name__ == "__main__":
    main()
