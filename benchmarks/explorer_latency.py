"""Latency of one control change in every explorer of the course: recompute + redraw, per control.

Each row operates one control as a student would, one key press (a slider's step) or click at a
time, and times the whole answer in the kernel: the observer recomputes, repaints the canvas
(blitting the moving artists onto the saved background, or rendering the whole figure when
the axes changed) and the canvas encodes the frame it sends to the browser. Every canvas is told
a front end is connected (the ``initialized`` message JupyterLab sends), so frames are really
rendered and sent as image diffs, as in a notebook.

Columns: median and 95th percentile of the wall time, and the median CPU time of the process.
On a machine shared with other work the wall time also counts waiting for a core; the CPU time
is the steadier figure then. Goal: median <= 50 ms per change on 2 cores.

References in the same run: rebuilding chapter 05's figure from scratch for each change (what
``interact`` with a plain ``plt.figure`` per call would do), and chapter 06's computation alone
(one forward and backward pass of the 10 x 500 net on a batch of 500), which sets the floor of
the initialization explorer's latency for a setting it has not shown before.

    python benchmarks/explorer_latency.py            # 30 changes per control
    python benchmarks/explorer_latency.py --quick    # 3 changes per control, a few seconds
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from course_lib.data import load_diabetes, standardize  # noqa: E402
from course_lib.viz.activations import ActivationExplorer  # noqa: E402
from course_lib.viz.init_explorer import InitExplorer, explore_cached, forget, settle  # noqa: E402
from course_lib.viz.linear_regression import LinearRegressionExplorer  # noqa: E402
from course_lib.viz.loss_surface import LossSurfaceExplorer, trajectory  # noqa: E402
from course_lib.viz.widget import Explorer  # noqa: E402

GOAL_MS = 50.0


def shown(explorer: Explorer) -> Explorer:
    """The explorer as a notebook has it once the browser displays it: live, first frame drawn."""
    explorer.fig.canvas._handle_custom_msg({"type": "initialized"}, [])  # as JupyterLab does on display
    explorer.redraw()
    return explorer


def press(slider) -> Callable[[int], None]:
    """An arrow key held on ``slider``: one step up per call, turning back at the end of its range.

    For a log slider the step is in the exponent, as in the browser.
    """
    direction = 1

    def once(_: int) -> None:
        nonlocal direction
        log = hasattr(slider, "base")
        value = np.log(slider.value) / np.log(slider.base) if log else slider.value
        if not slider.min <= value + direction * slider.step <= slider.max:
            direction = -direction
        value += direction * slider.step
        slider.value = float(slider.base ** value) if log else type(slider.value)(value)

    return once


def toggle(select, option: str) -> Callable[[int], None]:
    """Ctrl+click on one option of a multiple selection: it leaves the selection, then comes back."""
    def once(_: int) -> None:
        chosen = select.value
        select.value = tuple(o for o in chosen if o != option) if option in chosen else (*chosen, option)

    return once


def step_through(slider) -> Callable[[int], None]:
    """An arrow key held on a selection slider: the next option per call, turning back at either end."""
    direction = 1

    def once(_: int) -> None:
        nonlocal direction
        if not 0 <= slider.index + direction < len(slider.options):
            direction = -direction
        slider.index += direction

    return once


def fresh(act: Callable[[int], None]) -> Callable[[int], None]:
    """``act`` on a setting never computed: before it, untimed, the explorer's background guesses
    finish and its store of passes is emptied, so the change computes its pass on a quiet machine."""
    def once(k: int) -> None:
        act(k)

    def prepare(_k: int) -> None:
        forget()

    once.prepare = prepare
    return once


def after_a_pause(act: Callable[[int], None]) -> Callable[[int], None]:
    """``act`` by a student who looks at each frame first: before it, untimed, the guesses finish."""
    def once(k: int) -> None:
        act(k)

    once.prepare = lambda _k: settle()
    return once


def cycle(control, values: list) -> Callable[[int], None]:
    return lambda k: setattr(control, "value", values[k % len(values)])


def latencies(act: Callable[[int], None], repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall and CPU seconds (repeats,) of ``act(k)`` for k = 1..repeats, after one untimed warm-up call."""
    act(0)
    wall, cpu = [], []
    for k in range(1, repeats + 1):
        getattr(act, "prepare", lambda _k: None)(k)  # untimed: what comes before the change
        w, c = time.perf_counter(), time.process_time()
        act(k)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return np.array(wall), np.array(cpu)


def controls() -> list[tuple[str, Explorer, dict[str, Callable[[int], None]]]]:
    """(widget, explorer, {control: one student action}) for every explorer the lectures show."""
    X, y = load_diabetes()
    (X,) = standardize(X)
    lin = shown(LinearRegressionExplorer(X[:, 2], y, lr=0.2))  # chapter 01: progression against bmi
    act = shown(ActivationExplorer())
    loss = shown(LossSurfaceExplorer())
    init = shown(InitExplorer(depth=10, width=500, batch=500))  # chapter 06: the lecture's 10 x 500 net
    click = lambda k: loss._on_click(SimpleNamespace(  # noqa: E731  a click on the contour plot
        inaxes=loss.ax_surface, xdata=-1.0 + 0.1 * (k % 10), ydata=0.5 - 0.1 * (k % 10)))
    return [
        ("01 linear regression", lin, {
            "slope a (key)": press(lin.slope), "intercept b (key)": press(lin.intercept),
            "GD step (click)": lambda _: lin.gradient_step(), "clear path (click)": lambda _: lin.clear_path()}),
        ("04 activations", act, {
            "depth (key)": press(act.depth), "init gain (key)": press(act.gain),
            "activations (ctrl+click)": toggle(act.names, "relu")}),
        ("05 loss surface", loss, {
            "lr (key)": press(loss.lr), "momentum / β₁ (key)": press(loss.momentum),
            "β₂ / α (key)": press(loss.beta2), "steps (key)": press(loss.steps),
            "start x (key)": press(loss.start_x), "start y (key)": press(loss.start_y),
            "optimizers (ctrl+click)": toggle(loss.methods, "Nesterov"), "start (canvas click)": click,
            "surface (dropdown)": cycle(loss.surface, ["rosenbrock", "saddle", "quadratic"])}),
        # Each change but the last row's asks for a setting not seen yet: a new pass, 2 x depth products of
        # (500, 500) matrices at depth 10 and width 500 (keys go back and forth there, the width row last, so
        # every row runs at the lecture's size). "After a pause" is a student who looks at each frame before the
        # next key: the background thread has computed the next depth by then. The last row goes between two
        # settings the explorer keeps.
        ("06 initialization", init, {
            "depth (key)": fresh(cycle(init.depth, [9, 10])),
            "depth (key), after a pause": after_a_pause(press(init.depth)),
            "init (key)": fresh(step_through(init.init)),
            "activation (click)": fresh(cycle(init.activation, ["relu", "sigmoid", "tanh"])),
            "batch norm (click)": fresh(lambda k: setattr(init.batch_norm, "value", not init.batch_norm.value)),
            "width (key)": fresh(cycle(init.width, [250, 500])),
            "setting seen before (key)": cycle(init.init, ["xavier", "he"])}),
    ]


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
    parser.add_argument("--quick", action="store_true", help="3 changes per control")
    parser.add_argument("--repeats", type=int, default=30, help="changes per control (default 30)")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    print(f"one change = the observer's recompute + repaint + the frame's encoding; {repeats} changes per control; "
          f"goal: median <= {GOAL_MS:.0f} ms\n")
    print(f"{'widget':<21} {'control':<25} {'median ms':>9} {'p95 ms':>7} {'cpu ms':>7}  goal")
    loss = None
    for widget, explorer, actions in controls():
        for control, act in actions.items():
            wall, cpu = (t * 1e3 for t in latencies(act, repeats))
            verdict = "ok" if np.median(wall) <= GOAL_MS else ("ok (cpu)" if np.median(cpu) <= GOAL_MS else "over")
            print(f"{widget:<21} {control:<25} {np.median(wall):>9.1f} {np.percentile(wall, 95):>7.1f} "
                  f"{np.median(cpu):>7.1f}  {verdict}")
        loss = explorer if isinstance(explorer, LossSurfaceExplorer) else loss
    ref = rebuild_latencies(loss, max(2, repeats // 5)) * 1e3
    print(f"\nreference: 05 rebuilt from scratch per change (interact pattern): median {np.median(ref):.1f} ms")
    wall, cpu = (t * 1e3 for t in pass_latencies(max(2, repeats // 5)))
    print(f"reference: 06's pass alone (explore, depth 10, width 500, batch 500, float32): "
          f"median {np.median(wall):.1f} ms, cpu {np.median(cpu):.1f} ms")


def pass_latencies(repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall and CPU seconds of the initialization explorer's computation alone, for a setting not seen yet."""
    settings = [(10, 500, act, scheme, False) for act in ("tanh", "relu") for scheme in ("xavier", "he", "std 1.0")]
    return latencies(fresh(lambda k: explore_cached(*settings[k % len(settings)], 500, 40)), repeats)


if __name__ == "__main__":
    main()
