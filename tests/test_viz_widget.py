"""The widget base without a browser: frames as ipympl's front end composites them, and slider echoes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from course_lib.viz.loss_surface import LossSurfaceExplorer  # noqa: E402
from course_lib.viz.playground import TrainingPlayground  # noqa: E402
from course_lib.viz.widget import Explorer  # noqa: E402


class Browser:
    """What ipympl's front end shows: each frame (PNG) replaces the picture ("full") or is drawn over it ("diff").

    Frames are kept as they arrive; ``show`` paints them, leaving out the ones a newer frame
    overtook while they decoded (the front end has one image element: a new ``src`` cancels the old).
    """

    def __init__(self, explorer: Explorer) -> None:
        canvas = explorer.fig.canvas
        self.frames: list[tuple[str, np.ndarray]] = []
        canvas.send_binary = lambda png: self.frames.append(
            (canvas._image_mode, np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))))
        explorer._on_canvas_msg(canvas, {"type": "initialized"}, [])  # the browser displays the canvas
        self.kernel = lambda: np.asarray(canvas.get_renderer().buffer_rgba())

    def show(self, dropped: frozenset[int] = frozenset()) -> np.ndarray:
        """The picture (H, W, 4) after painting every frame except those numbered in ``dropped``."""
        picture = None
        for k, (mode, frame) in enumerate(self.frames):
            if k in dropped:
                continue
            if picture is None or mode == "full":
                picture = frame.copy()
            else:
                drawn = frame[..., 3] > 0  # a diff frame is transparent where nothing changed
                picture[drawn] = frame[drawn]
        return picture


@pytest.fixture
def explorer_in_browser():
    explorer = LossSurfaceExplorer(steps=30)
    browser = Browser(explorer)
    explorer.redraw()
    return explorer, browser


def test_a_frame_overtaken_by_the_next_does_not_leave_the_old_surface_on_screen(explorer_in_browser):
    explorer, browser = explorer_in_browser
    explorer.surface.value = "saddle"
    explorer.surface.value = "quadratic"
    new_surface = len(browser.frames) - 1
    explorer.start_x.value += 0.01  # the next frame comes right behind: the browser drops the new surface's
    assert len(browser.frames) == new_surface + 2
    shown = browser.show(dropped=frozenset({new_surface}))
    assert np.array_equal(shown, browser.kernel()), "the browser kept the saddle under the quadratic's paths"
    assert np.array_equal(browser.show(), browser.kernel())  # and nothing is lost when no frame is dropped


def test_frames_lost_in_a_row_while_playing_heal_and_a_full_redraw_leaves_no_old_picture():
    pg = TrainingPlayground(dataset="xor", hidden=(4,), lr=0.1, steps_per_frame=20)
    browser = Browser(pg)
    pg.redraw()
    for _ in range(3):
        pg.step()  # blitted frames: the curves and the surface move
    pg.step(100)  # past 64 updates the loss axis widens: a full redraw, every tick label moves
    full = len(browser.frames) - 1
    assert browser.frames[full][0] == "full", "a full redraw must go out as a whole image"
    for _ in range(8):
        pg.step()
    # The browser was busy: the full redraw and the seven frames behind it never showed.
    shown = browser.show(dropped=frozenset(range(full, full + 8)))
    assert np.array_equal(shown, browser.kernel()), "old tick labels or curves stayed on screen"
    assert np.array_equal(browser.show(), browser.kernel())


def test_a_browser_echo_of_the_new_start_sends_no_frame(explorer_in_browser):
    explorer, browser = explorer_in_browser
    explorer.surface.value = "saddle"
    before = len(browser.frames)
    for slider in (explorer.start_x, explorer.start_y):  # what the browser sends back: the value on its grid
        slider.value = float(np.nextafter(slider.value, np.inf))
    assert len(browser.frames) == before
    explorer.start_y.value += explorer.start_y.step  # a student's key press still moves the start
    assert len(browser.frames) == before + 1


@pytest.mark.parametrize("slider, old, new, echo", [
    (widgets.FloatSlider(min=-3, max=3, step=0.01), 0.123456, 0.12, True),            # snapped: half a step at most
    (widgets.FloatSlider(min=-3, max=3, step=0.01), 0.12, 0.13, False),               # one step: a key press
    (widgets.FloatSlider(min=-3, max=3, step=0.01), 0.12, 0.12 + 1e-15, True),        # float round-off
    (widgets.FloatLogSlider(min=-4, max=0.5, step=0.02), 0.05, 10 ** round(np.log10(0.05), 2), True),
    (widgets.FloatLogSlider(min=-4, max=0.5, step=0.02), 0.05, 0.05 * 10 ** 0.02, False),
    (widgets.IntSlider(min=0, max=10), 3, 4, False),
    (widgets.SelectMultiple(options=["a", "b"]), ("a",), ("a", "b"), False),
])
def test_is_echo_tells_a_snapped_value_from_a_move(slider, old, new, echo):
    assert Explorer.is_echo({"owner": slider, "old": old, "new": new}) is echo


def test_the_display_carries_a_picture_of_the_first_frame_beside_the_widget(monkeypatch):
    import base64

    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    explorer = LossSurfaceExplorer(steps=30)
    explorer._ipython_display_()
    [(bundle, raw)] = shown
    assert raw and bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))).convert("RGB"))
    assert picture.shape[:2] == (round(3.6 * 80), round(9.0 * 80))
    sgd = np.abs(picture.astype(int) - (31, 119, 180)).max(axis=-1) <= 30  # tab:blue: the SGD path, an animated artist
    assert sgd.sum() > 30, "the picture lacks the paths (animated artists are left out of ordinary frames)"
