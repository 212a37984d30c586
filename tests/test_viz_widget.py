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


# --- the explorers' frequent controls blit ------------------------------------------------------

def _linear_regression():
    from course_lib.viz.linear_regression import LinearRegressionExplorer

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 5, size=40)
    return LinearRegressionExplorer(x, 1.5 * x - 2.0 + 0.5 * rng.standard_normal(40), lr=0.05)


def _activations():
    from course_lib.viz.activations import ActivationExplorer

    return ActivationExplorer()


def _init_explorer():
    from course_lib.viz.init_explorer import InitExplorer

    return InitExplorer(depth=6, width=100, batch=200)


def _next(value, values: list):
    return values[(values.index(value) + 1) % len(values)]


def _toggle(select, option: str) -> None:
    select.value = tuple(o for o in select.value if o != option) if option in select.value else (*select.value, option)


@pytest.mark.parametrize("make, act", [
    (_linear_regression, lambda e: setattr(e.slope, "value", e.slope.value + e.slope.step)),
    (_linear_regression, lambda e: setattr(e.intercept, "value", e.intercept.value - e.intercept.step)),
    (_linear_regression, lambda e: e.step_button.click()),
    (_linear_regression, lambda e: e.reset_button.click()),
    (_activations, lambda e: setattr(e.depth, "value", e.depth.value + 1)),
    (_activations, lambda e: setattr(e.gain, "value", e.gain.value + 0.35)),
    (_activations, lambda e: _toggle(e.names, "elu")),
    (LossSurfaceExplorer, lambda e: setattr(e.lr, "value", e.lr.value * 10 ** e.lr.step)),
    (LossSurfaceExplorer, lambda e: setattr(e.steps, "value", e.steps.value + 1)),
    (LossSurfaceExplorer, lambda e: _toggle(e.methods, "Momentum")),  # the loss axis stays: no new decade
    (_init_explorer, lambda e: setattr(e.depth, "value", e.depth.value + 1)),
    (_init_explorer, lambda e: setattr(e.width, "value", {100: 50, 50: 100}[e.width.value])),
    (_init_explorer, lambda e: setattr(e.init, "value", _next(e.init.value, ["xavier", "std 1.0", "he"]))),
    (_init_explorer, lambda e: setattr(e.activation, "value", _next(e.activation.value, ["tanh", "relu", "sigmoid"]))),
    (_init_explorer, lambda e: setattr(e.batch_norm, "value", not e.batch_norm.value)),
], ids=["01 slope", "01 intercept", "01 GD step", "01 clear path", "04 depth", "04 gain", "04 activations",
        "05 lr", "05 steps", "05 optimizers", "06 depth", "06 width", "06 init", "06 activation", "06 batch norm"])
def test_a_control_change_blits_and_paints_what_a_whole_frame_would(make, act):
    """No change of these controls renders the whole figure (the slow part), yet the picture is the full frame's."""
    explorer = make()
    browser = Browser(explorer)
    explorer.redraw()
    full_frames = []
    explorer.fig.canvas.mpl_connect("draw_event", full_frames.append)
    sent = len(browser.frames)
    for _ in range(3):
        act(explorer)
    assert not full_frames, "a control change rendered the whole figure instead of blitting"
    assert len(browser.frames) == sent + 3
    blitted = browser.show().copy()
    assert np.array_equal(blitted, browser.kernel())
    explorer.redraw()  # the whole figure, from scratch
    assert np.array_equal(blitted, browser.kernel()), "the blitted frame differs from the full one"


def test_a_burst_of_frames_heals_however_many_of_the_last_three_the_browser_dropped():
    explorer = _linear_regression()
    browser = Browser(explorer)
    explorer.redraw()
    first = len(browser.frames)
    for _ in range(5):  # key presses quicker than the browser decodes their frames
        explorer.slope.value += 5 * explorer.slope.step
    for dropped in ({first}, {first, first + 1}, {first + 1, first + 2, first + 3}):
        shown = browser.show(dropped=frozenset(dropped))
        assert np.array_equal(shown, browser.kernel()), f"frames {sorted(dropped)} dropped: the old line stays on screen"


def test_a_browser_echo_in_the_linear_regression_explorer_sends_no_frame():
    explorer = _linear_regression()
    browser = Browser(explorer)
    explorer.redraw()
    explorer.step_button.click()
    sent = len(browser.frames)
    for slider in (explorer.slope, explorer.intercept):  # the browser's snapped values come back
        slider.value = slider.min + round((slider.value - slider.min) / slider.step) * slider.step
    assert len(browser.frames) == sent
    np.testing.assert_allclose(np.ravel(explorer.point.get_data()), [explorer.slope.value, explorer.intercept.value])


def test_stop_animating_puts_an_artist_back_into_full_frames_and_refuses_a_stranger():
    explorer = _activations()
    legend = explorer.legend
    explorer.stop_animating(legend)
    assert not legend.get_animated() and legend not in explorer._moving
    with pytest.raises(ValueError, match="passed to animate"):
        explorer.stop_animating(legend)
