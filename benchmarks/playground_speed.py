"""Training speed of the playground while it redraws live, and the latency of one frame.

The default network (circles, features x1 x2, hidden layers 4-2, tanh, SGD, batch 10) plays as in
a notebook: an asyncio task trains ``steps_per_frame`` updates, redraws (the moving artists are
blitted onto the saved background and the canvas encodes the image it sends to the browser),
and yields to the event loop. The canvas is told a front end is connected (the ``initialized``
message JupyterLab sends), so frames are really rendered. Measured:

- updates/s and frames/s while playing (goal: >= 50 updates/s at >= 10 frames/s on 2 cores);
- one redraw (blit) and one full redraw (after a change of the axes), median and p95;
- key-to-frame: a click on "step" (train one chunk, then draw), median and p95;
- for reference, updates/s of the model alone, without drawing.

    python benchmarks/playground_speed.py            # 10 s of play, 50 redraws of each kind
    python benchmarks/playground_speed.py --quick    # 1 s of play, 5 redraws
"""

from __future__ import annotations

import argparse
import asyncio
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from course_lib.scratch.playground import Playground  # noqa: E402
from course_lib.viz.playground import TrainingPlayground  # noqa: E402


def play_for(pg: TrainingPlayground, seconds: float) -> tuple[float, float]:
    """Play for ``seconds`` on an event loop; return (updates/s, frames/s)."""
    frames = 0
    draw = pg.draw

    def counted_draw() -> None:
        nonlocal frames
        frames += 1
        draw()

    pg.draw = counted_draw

    async def session() -> float:
        start_steps, start = pg.model.steps, time.perf_counter()
        task = pg.play()
        await asyncio.sleep(seconds)
        pg.pause()
        await task
        return (pg.model.steps - start_steps) / (time.perf_counter() - start)

    frames_before = frames
    start = time.perf_counter()
    updates = asyncio.run(session())
    elapsed = time.perf_counter() - start
    pg.draw = draw
    return updates, (frames - frames_before) / elapsed


def timed(action, repeats: int) -> np.ndarray:
    """Milliseconds per call of ``action``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e3


def full_redraw(pg: TrainingPlayground) -> None:
    pg._static_key = None  # as after an architecture change: every tick and label is drawn again
    pg.draw()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s of play, 5 redraws of each kind")
    args = parser.parse_args()
    seconds, repeats = (1.0, 5) if args.quick else (10.0, 50)

    pg = TrainingPlayground()
    pg.fig.canvas._handle_custom_msg({"type": "initialized"}, [])  # as JupyterLab does on display
    pg.redraw()  # the first full frame saves the background
    c = pg.model.config
    print(f"default network: {c.dataset}, features {', '.join(c.features)}, hidden {c.hidden}, {c.activation}, "
          f"{c.optimizer}, batch {c.batch_size}; {pg.steps_per_frame} updates per frame\n")

    updates, fps = play_for(pg, seconds)
    blit = timed(pg.draw, repeats)
    full = timed(lambda: full_redraw(pg), repeats)
    key = timed(pg.step_button.click, repeats)
    model = Playground()
    start = time.perf_counter()
    model.step(2000 if not args.quick else 200)
    alone = model.steps / (time.perf_counter() - start)

    print(f"{'measure':<38} {'value':>10}")
    print(f"{'playing: updates/s (goal >= 50)':<38} {updates:>10.0f}")
    print(f"{'playing: frames/s (goal >= 10)':<38} {fps:>10.1f}")
    print(f"{'redraw, blit: median / p95 ms':<38} {np.median(blit):>5.1f} / {np.percentile(blit, 95):.1f}")
    print(f"{'redraw, full: median / p95 ms':<38} {np.median(full):>5.1f} / {np.percentile(full, 95):.1f}")
    print(f"{'key-to-frame (step click): median / p95 ms':<38} {np.median(key):>5.1f} / {np.percentile(key, 95):.1f}")
    print(f"{'model alone: updates/s':<38} {alone:>10.0f}")


if __name__ == "__main__":
    main()
