"""Latency of one control change in the loss-surface explorer: recompute + redraw.

For each surface, set the learning-rate slider to a new value: the observer recomputes every
selected trajectory and repaints the canvas, blitting the moving artists onto the saved
background when the axes did not change and rendering the whole figure when they did, and the
canvas encodes the image it sends to the browser. The canvas is told
a front end is connected (the ``initialized`` message JupyterLab sends), so it sends image
diffs instead of also encoding a full PNG snapshot for the notebook file.

Reference in the same run: rebuilding the figure from scratch for each change (what
``interact`` with a plain ``plt.figure`` per call would do). Target: median <= 50 ms on 2 cores.

    python benchmarks/explorer_latency.py            # 30 changes per surface
    python benchmarks/explorer_latency.py --quick    # 3 changes per surface, a few seconds
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from course_lib.scratch.surfaces import SURFACES  # noqa: E402
from course_lib.viz.loss_surface import LossSurfaceExplorer, trajectory  # noqa: E402


def change_latencies(explorer: LossSurfaceExplorer, repeats: int) -> np.ndarray:
    """Seconds per control change (lr slider moves through a geometric sweep), draw included."""
    times = []
    for lr in np.geomspace(0.3, 3.0, repeats) * explorer.lr.value:
        start = time.perf_counter()
        explorer.lr.value = float(lr)  # recompute, repaint and encode the frame for the browser
        times.append(time.perf_counter() - start)
    explorer.lr.value = explorer.lr.value  # leave it as it was found
    return np.array(times)


def rebuild_latencies(explorer: LossSurfaceExplorer, repeats: int) -> np.ndarray:
    """Reference: a fresh matplotlib figure per change, contour included (the interact pattern)."""
    import matplotlib.pyplot as plt

    s = explorer.current
    xs, ys, Z = s.evaluate_grid(100)
    times = []
    for lr in np.geomspace(0.3, 3.0, repeats) * explorer.lr.value:
        start = time.perf_counter()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained")
        ax1.contour(xs, ys, np.log10(Z - s.floor + 1e-3), levels=12)
        for m in explorer.methods.value:
            path, loss = trajectory(s, m, float(lr), s.start, explorer.steps.value)
            ax1.plot(path[:, 0], path[:, 1], ".-", label=m)
            ax2.semilogy(np.maximum(loss - s.floor, 1e-16), label=m)
        ax2.legend()
        fig.canvas.draw()
        plt.close(fig)
        times.append(time.perf_counter() - start)
    return np.array(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 changes per surface")
    args = parser.parse_args()
    repeats = 3 if args.quick else 30
    explorer = LossSurfaceExplorer()
    explorer.fig.canvas._handle_custom_msg({"type": "initialized"}, [])  # as JupyterLab does on display
    print(f"one control change = recompute {len(explorer.methods.value)} trajectories of "
          f"{explorer.steps.value} steps ({', '.join(explorer.methods.value)}) + redraw; {repeats} changes\n")
    print(f"{'surface':<11} {'median ms':>10} {'p95 ms':>8} {'rebuild median ms':>18} {'speed-up':>9}")
    for name in SURFACES:
        explorer.surface.value = name
        ours = change_latencies(explorer, repeats) * 1e3
        ref = rebuild_latencies(explorer, max(2, repeats // 5)) * 1e3
        print(f"{name:<11} {np.median(ours):>10.1f} {np.percentile(ours, 95):>8.1f} "
              f"{np.median(ref):>18.1f} {np.median(ref) / np.median(ours):>8.1f}x")


if __name__ == "__main__":
    main()
