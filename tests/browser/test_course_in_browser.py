"""The course as a student meets it: JupyterLab in headless Chromium, every lecture and widget.

All browser tests live in this one module, so ``pytest -n auto --dist loadscope`` sends them to
one worker and the session starts one JupyterLab server. The lectures run side by side (one
kernel each) while the tests below wait for them.
"""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb

from labdriver import ROOT, Notebook, Rate, Timing, changed_fraction, color_pixels

pytestmark = pytest.mark.browser

LECTURES = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
RUN_TIMEOUT = 420  # s for a lecture to finish, all running together on 2 busy cores


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in to_rgb(color))


WIDGET_CALLS = ("Explorer(", "TrainingPlayground(")  # the course's widgets, as a lecture's source creates them


def has_widgets(name: str) -> bool:
    """Whether a lecture shows a widget (an explorer or the training playground), read from its source."""
    source = (ROOT / "notebooks" / name).read_text()
    return any(call in source for call in WIDGET_CALLS)


def first_states(notebooks) -> None:
    """Keep each notebook's state just after its kernel started (``first_state``): the tabs change later."""
    for notebook in notebooks:
        notebook.wait_kernel_idle()
    time.sleep(1)  # JupyterLab writes kernel metadata just after the kernel answers
    for notebook in notebooks:
        notebook.first_state = notebook.state()


def run_all(name: str, notebook: Notebook) -> None:
    """Clear the outputs (so a number on every prompt means "ran now") and run every cell; do not wait."""
    if not has_widgets(name):
        # Long lectures train beside the widget tests: at a lower priority, so that the widgets'
        # key-to-frame times measure the widgets, not the training next to them.
        notebook.kernel_eval("__import__('os').nice(19)")
    notebook.command("notebook:clear-all-cell-outputs")
    notebook.command("notebook:run-all-cells")


@pytest.fixture(scope="module")
def opened(page) -> dict[str, Notebook]:
    """Every lecture and exercise set, opened at once; the lectures run as soon as their kernels answer.

    The exercise sets are only opened (to see that they open unmodified), then closed with their kernels.
    """
    lectures = {name: Notebook(page, f"notebooks/{name}") for name in LECTURES}
    exercises = {name: Notebook(page, f"exercises/{name}") for name in EXERCISES}
    first_states(lectures.values())
    for name, notebook in lectures.items():
        run_all(name, notebook)
    first_states(exercises.values())
    for notebook in exercises.values():
        notebook.close()
    return {**{f"notebooks/{n}": nb for n, nb in lectures.items()}, **{f"exercises/{n}": nb for n, nb in exercises.items()}}


@pytest.fixture(scope="module")
def lectures(opened) -> dict[str, Notebook]:
    """Every lecture, running or done: each test waits for its own (``wait_finished``).

    So the widgets are tried while the long lectures without widgets still train.
    """
    return {name: opened[f"notebooks/{name}"] for name in LECTURES}


# --- the course opens as the README says ------------------------------------------------------

def test_readme_start_serves_the_whole_course(lab, page):
    assert lab.root_dir == lab.course.resolve(), "JupyterLab must serve the course root, not notebooks/"
    page.locator(".jp-BreadCrumbs-home").first.click()
    listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    listing.filter(has_text="exercises").first.wait_for()
    assert {"notebooks", "exercises"} <= set(listing.all_inner_texts())


@pytest.mark.parametrize("path", [f"notebooks/{n}" for n in LECTURES] + [f"exercises/{n}" for n in EXERCISES])
def test_notebook_is_unmodified_after_opening(opened, path):
    state = opened[path].first_state
    assert state["kernel"] == "python3"
    assert not state["dirty"], f"{path} shows as modified right after opening"


def test_no_nbgrader_in_the_students_jupyterlab(page):
    if importlib.util.find_spec("nbgrader") is not None:
        pytest.skip("nbgrader is installed here (an instructor's environment: pip install -e '.[instructor]'); "
                    "students' installs have none: run the browser suite without it to check what they see")
    plugins = page.evaluate("() => window.jupyterapp.listPlugins().filter(id => id.includes('nbgrader'))")
    menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").all_inner_texts()
    assert plugins == [], "nbgrader's JupyterLab extension is installed: students would see its menu and sidebar"
    assert not [m for m in menus if "nbgrader" in m.lower()]
    assert page.get_by_text("Create Assignment").count() == 0


# --- every lecture runs and every widget renders -------------------------------------------------

WIDGET_LECTURES = [n for n in LECTURES if has_widgets(n)]
OTHER_LECTURES = [n for n in LECTURES if not has_widgets(n)]


@pytest.mark.parametrize("name", WIDGET_LECTURES)
def test_widget_lecture_runs_without_error_and_widgets_render(lectures, name, artifacts):
    check_lecture(lectures[name], name, artifacts)


def check_lecture(notebook: Notebook, name: str, artifacts: Path) -> None:
    """The lecture ran with no error output, every prompt holds a number, every widget and figure rendered."""
    notebook.wait_finished(RUN_TIMEOUT)
    state = notebook.state()
    assert state["errors"] == []
    assert all(isinstance(c, int) for c in state["counts"]), f"prompts without a number: {state['counts']}"
    notebook.activate()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # widget views render asynchronously after the kernel is idle
        widgets = notebook.widget_outputs()
        if all(w["rendered"] and "Loading widget" not in w["text"] for w in widgets):
            break
        time.sleep(0.5)
    assert all(w["rendered"] for w in widgets), f"widgets shown as text, not rendered: {widgets}"
    assert not [w for w in widgets if "Loading widget" in w["text"] or w["text"].startswith(("VBox(", "HBox("))]
    for index in range(notebook.canvases().count()):
        notebook.canvases().nth(index).scroll_into_view_if_needed()
        image = drawn_figure(notebook, artifacts, f"{Path(name).stem}_figure{index}_initial", index)
        assert image.std() > 10, f"figure {index} of {name} is blank"


def drawn_figure(notebook: Notebook, artifacts: Path, label: str, index: int, timeout: float = 30):
    """A screenshot of figure ``index`` once it shows a drawing (std of the pixels > 10), or the last tried.

    A live figure draws after it scrolls into view: the kernel renders and sends the frame, the
    browser paints it. On a busy machine that takes a few seconds, so one screenshot can be blank.
    """
    deadline = time.monotonic() + timeout
    while True:
        image = notebook.screenshot(artifacts, label, index)
        if image.std() > 10 or time.monotonic() > deadline:
            return image
        time.sleep(0.5)


# --- every widget answers its controls ---------------------------------------------------------

def figure_of(lectures, name: str) -> Notebook:
    notebook = lectures[name]
    notebook.wait_finished(RUN_TIMEOUT)
    notebook.activate()
    notebook.canvases().first.scroll_into_view_if_needed()
    notebook.watch(0)
    notebook.settle()
    return notebook


def time_keys(notebook: Notebook, widget: str, control: str, key: str, presses: int, timings: list) -> Timing:
    row = Timing(widget, control)
    handle = notebook.slider_handle(control)
    for _ in range(presses):
        row.ms.append(notebook.act(lambda: notebook.press(handle, key)))
        notebook.settle()
    timings.append(row)
    return row


def test_linear_regression_explorer(lectures, artifacts, timings):
    nb = figure_of(lectures, "01_linear_regression.ipynb")
    widget, red = "01 linear regression", rgb("C3")
    data_panel, surface_panel = (slice(None), slice(0, 400)), (slice(None), slice(450, 800))
    start = nb.screenshot(artifacts, "01_start")
    nb.canvases().first.hover()  # ipympl's toolbar would float over the left axis's tick labels now
    assert not nb.canvases().first.locator(".jupyter-matplotlib-toolbar").is_visible(), "the toolbar covers the figure"

    time_keys(nb, widget, "slope a", "ArrowRight", 4, timings)
    time_keys(nb, widget, "intercept b", "ArrowLeft", 4, timings)
    moved = nb.screenshot(artifacts, "01_sliders_moved")
    assert changed_fraction(start, moved, data_panel) > 0.002, "the line did not move with the sliders"
    assert nb.kernel_eval("len(explorer.path.get_xdata())") == 1  # a move by hand starts a new path

    # Gradient steps: the path must keep every step, however the browser rounds the sliders.
    button, row = nb.panel.get_by_role("button", name="GD step"), Timing(widget, "GD step (click)")
    red_counts = [color_pixels(moved, red, region=surface_panel)]
    for steps in range(1, 6):
        row.ms.append(nb.act(button.click))
        nb.settle()
        assert nb.kernel_eval("len(explorer.path.get_xdata())") == steps + 1, f"path lost its points after {steps} steps"
        red_counts.append(color_pixels(nb.screenshot(artifacts, f"01_gd_step{steps}"), red, region=surface_panel))
    timings.append(row)
    assert all(b > a for a, b in zip(red_counts, red_counts[1:])), f"the drawn path did not grow: {red_counts}"

    before_clear = nb.screenshot(artifacts, "01_before_clear")
    timings.append(Timing(widget, "clear path (click)", [nb.act(nb.panel.get_by_role("button", name="clear path").click)]))
    nb.settle()
    cleared = nb.screenshot(artifacts, "01_cleared")
    assert nb.kernel_eval("len(explorer.path.get_xdata())") == 1
    assert color_pixels(cleared, red, region=surface_panel) < red_counts[-1]
    assert changed_fraction(before_clear, cleared, surface_panel) > 0


def test_activation_explorer(lectures, artifacts, timings):
    nb = figure_of(lectures, "04_activations.ipynb")
    widget = "04 activations"
    start = nb.screenshot(artifacts, "04_start")
    norm_panel = (slice(None), slice(2 * start.shape[1] // 3, None))

    time_keys(nb, widget, "depth", "ArrowRight", 3, timings)
    time_keys(nb, widget, "init gain", "ArrowRight", 3, timings)
    moved = nb.screenshot(artifacts, "04_depth_gain_moved")
    assert changed_fraction(start, moved, norm_panel) > 0.002, "the gradient-norm panel did not follow depth/gain"

    # Ctrl+click toggles an option of the multiple selection: drop relu, then add elu.
    options, row = nb.panel.locator(".widget-select-multiple select"), Timing(widget, "activations (ctrl+click)")
    relu, elu = rgb("tab:green"), rgb("tab:purple")
    # Counted in the whole figure: curves in three panels and the legend show only selected activations.
    assert color_pixels(moved, relu) > 50 and color_pixels(moved, elu) < 20
    row.ms.append(nb.act(lambda: options.locator("option", has_text="relu").first.click(modifiers=["Control"])))
    nb.settle()
    no_relu = nb.screenshot(artifacts, "04_relu_dropped")
    row.ms.append(nb.act(lambda: options.locator("option", has_text="elu").last.click(modifiers=["Control"])))
    nb.settle()
    with_elu = nb.screenshot(artifacts, "04_elu_added")
    timings.append(row)
    assert color_pixels(no_relu, relu) < 20, "relu is still drawn (or in the legend) after it was deselected"
    assert color_pixels(with_elu, elu) > 50, "elu's curve was not drawn when it was selected"


def test_init_explorer(lectures, artifacts, timings):
    nb = figure_of(lectures, "06_training_deep_nets.ipynb")
    widget = "06 initialization"
    start = nb.screenshot(artifacts, "06_start")
    ridges, std_panel = (slice(None), slice(0, 2 * start.shape[1] // 3)), (slice(None), slice(2 * start.shape[1] // 3, None))
    blue, red = rgb("tab:blue"), rgb("tab:red")
    assert color_pixels(start, blue, region=std_panel) > 30 and color_pixels(start, red, region=std_panel) > 30

    # Xavier -> std 1.0 -> std 0.01: every key press is a new forward and backward pass of the 10 x 500 net.
    time_keys(nb, widget, "init", "ArrowLeft", 2, timings)
    collapsed = nb.screenshot(artifacts, "06_init_std_0.01")
    assert changed_fraction(start, collapsed, ridges) > 0.01, "the histograms did not follow the init scheme"
    assert changed_fraction(start, collapsed, std_panel) > 0.01, "the std panel did not follow the init scheme"

    time_keys(nb, widget, "depth", "ArrowRight", 3, timings)
    deeper = nb.screenshot(artifacts, "06_depth_13")
    assert changed_fraction(collapsed, deeper, ridges) > 0.01, "the histograms did not follow the depth"
    assert changed_fraction(collapsed, deeper, std_panel) > 0.002, "the std panel did not follow the depth"
    assert color_pixels(deeper, red, region=std_panel) > 30, "the gradient std line was lost in a blitted frame"


def test_loss_surface_explorer(lectures, artifacts, timings):
    nb = figure_of(lectures, "05_optimization.ipynb")
    widget = "05 loss surface"
    start = nb.screenshot(artifacts, "05_start")
    nb.panel.locator(".widget-vbox", has=nb.page.locator(".jupyter-matplotlib")).first.screenshot(path=str(artifacts / "05_widget.png"))
    for label in nb.panel.locator(".widget-slider .widget-label").all():  # controls above the figure: none cut off
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), f"slider label cut off: {label.inner_text()}"
    surface_panel = (slice(None), slice(0, start.shape[1] // 2))

    for control, key in (("lr", "ArrowRight"), ("momentum / β₁", "ArrowLeft"), ("β₂ / α", "ArrowLeft"),
                         ("steps", "ArrowRight"), ("start x", "ArrowRight"), ("start y", "ArrowLeft")):
        before = nb.screenshot(artifacts, "05_before_key")
        time_keys(nb, widget, control, key, 3, timings)
        after = nb.screenshot(artifacts, f"05_after_{control.split()[0]}")
        assert changed_fraction(before, after) > 0.0005, f"{control}: the figure did not change"

    methods = nb.panel.locator(".widget-select-multiple select")
    nesterov = rgb("tab:green")
    before = nb.screenshot(artifacts, "05_before_methods")
    timings.append(Timing(widget, "optimizers (ctrl+click)",
                          [nb.act(lambda: methods.locator("option", has_text="Nesterov").click(modifiers=["Control"]))]))
    nb.settle()
    after = nb.screenshot(artifacts, "05_nesterov_added")
    assert color_pixels(after, nesterov) > color_pixels(before, nesterov) + 30, "Nesterov's path was not drawn"

    # A click on the contour plot starts every optimizer from there.
    # ipympl listens on its top canvas, which lies over the one that shows the frames.
    canvas, row = nb.canvases().first.locator("canvas").nth(1), Timing(widget, "start (canvas click)")
    box = canvas.bounding_box()
    for fx, fy in ((0.2, 0.3), (0.3, 0.7)):
        before = nb.screenshot(artifacts, "05_before_click")
        row.ms.append(nb.act(lambda: canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})))
        nb.settle()
        after = nb.screenshot(artifacts, f"05_clicked_{fx}_{fy}")
        assert changed_fraction(before, after, surface_panel) > 0.001, "a click on the surface did not move the start"
    timings.append(row)


def test_loss_surface_explorer_redraws_each_surface(lectures, artifacts, timings):
    nb = figure_of(lectures, "05_optimization.ipynb")
    surface_panel = (slice(None), slice(0, nb.screenshot(artifacts, "05_before_surfaces").shape[1] // 2))
    dropdown, row = nb.panel.locator(".widget-dropdown select"), Timing("05 loss surface", "surface (dropdown)")
    timings.append(row)
    for surface in ("rosenbrock", "saddle", "quadratic"):
        before = nb.screenshot(artifacts, "05_before_surface")
        row.ms.append(nb.act(lambda: dropdown.select_option(surface)))
        nb.settle(quiet=0.5)  # a new surface: the frame, then the sliders' echoes (no frame)
        after = nb.screenshot(artifacts, f"05_surface_{surface}")
        assert changed_fraction(before, after, surface_panel) > 0.05, f"choosing {surface} did not redraw the surface"


# --- the training playground: play, pause, step, reset, a control ---------------------------------

PLAY_SECONDS = 4.0  # long enough for tens of frames at the goal of >= 10 frames/s


def playground_figure(notebook: Notebook) -> int:
    """The index among the notebook's live figures of the playground's (the one beside a "reset" button)."""
    index = notebook.canvases().evaluate_all(
        "figures => figures.findIndex(f => [...(f.closest('.widget-vbox')?.querySelectorAll('button') ?? [])]"
        ".some(b => b.innerText.trim() === 'reset'))")
    assert index >= 0, f"{notebook.path}: no live figure beside a reset button"
    return index


def shown_updates(notebook: Notebook) -> int:
    """The update counter the playground shows under its buttons ("epoch E  update U  ...")."""
    text = notebook.panel.locator(".widget-html", has_text=re.compile(r"update \d+")).first.inner_text()
    return int(re.search(r"update (\d+)", text).group(1))


def test_training_playground(lectures, artifacts, timings):
    nb, widget = lectures["03_backprop.ipynb"], "03 playground"
    nb.wait_finished(RUN_TIMEOUT)
    nb.activate()
    index = playground_figure(nb)
    nb.canvases().nth(index).scroll_into_view_if_needed()
    start = drawn_figure(nb, artifacts, "03_playground_start", index)
    nb.watch(index)
    nb.settle(index)
    width = start.shape[1]
    # (rows, columns) of the screenshot: the decision surface on the left, the map of units in the middle
    surface, network = (slice(None), slice(0, 3 * width // 8)), (slice(None), slice(3 * width // 8, 2 * width // 3))
    per_frame = nb.kernel_eval("playground.steps_per_frame")

    def button(name: str):
        return nb.panel.get_by_role("button", name=name, exact=True)

    assert shown_updates(nb) == 0

    # Play: the counter runs and the surface changes; updates/s and frames/s as the browser sees them.
    timings.append(Timing(widget, "play (click)", [nb.act(button("▶ play").click, index)]))
    t0, updates0 = nb.now(), shown_updates(nb)
    time.sleep(PLAY_SECONDS)
    t1, updates1 = nb.now(), shown_updates(nb)
    frames = nb.frames_since(t0, index)
    played = nb.screenshot(artifacts, "03_playground_playing", index)
    assert updates1 > updates0, "the update counter did not advance while playing"
    assert changed_fraction(start, played, surface) > 0.01, "the decision surface did not change while playing"
    seconds = (t1 - t0) / 1000
    timings.append(Timing(widget, "frame interval while playing", [b - a for a, b in zip(frames, frames[1:])]))
    timings += [Rate(widget, "playing: updates/s", (updates1 - updates0) / seconds),
                Rate(widget, "playing: frames/s", len(frames) / seconds)]

    # Pause: the chunk under way ends, then nothing moves.
    button("⏸ pause").click()
    nb.settle(index)
    paused, t_paused = shown_updates(nb), nb.now()
    time.sleep(1.0)
    assert shown_updates(nb) == paused and not nb.frames_since(t_paused, index), "still training after pause"
    assert paused == nb.kernel_eval("playground.model.steps") and paused % per_frame == 0

    # Step: one chunk of updates per click, and a new frame each time.
    row = Timing(widget, "step (click)")
    for k in range(1, 4):
        row.ms.append(nb.act(button("step").click, index))
        nb.settle(index)
        assert shown_updates(nb) == paused + k * per_frame, f"step {k} did not train one chunk of {per_frame} updates"
    timings.append(row)

    # Reset: update 0 and the very first picture again.
    timings.append(Timing(widget, "reset (click)", [nb.act(button("reset").click, index)]))
    nb.settle(index)
    reset = nb.screenshot(artifacts, "03_playground_reset", index)
    assert shown_updates(nb) == 0
    assert changed_fraction(start, reset) < 0.001, "after reset the figure differs from the first frame"

    # A control: another data set redraws the surface and the points; another activation, every unit.
    controls = {"data": ("spirals", "spirals", surface), "activation": ("ReLU", "relu", network)}
    for label, (option, value, panel) in controls.items():
        before = nb.screenshot(artifacts, f"03_playground_before_{label}", index)
        name = nb.page.locator(".widget-label", has_text=re.compile(f"^{label}$"))
        select = nb.panel.locator(".widget-dropdown", has=name)
        chosen = nb.act(lambda: select.locator("select").select_option(label=option), index)
        timings.append(Timing(widget, f"{label} (dropdown)", [chosen]))
        nb.settle(index)
        after = nb.screenshot(artifacts, f"03_playground_{label}_{value}", index)
        assert changed_fraction(before, after, panel) > 0.02, f"{label} = {option}: the figure did not change"
    config = nb.kernel_eval("[playground.model.config.dataset, playground.model.config.activation]")
    assert config == [value for _, value, _ in controls.values()]


# --- the lectures without widgets: checked last, while the widgets above were tried they trained --

@pytest.mark.parametrize("name", OTHER_LECTURES)
def test_lecture_runs_without_error(lectures, name, artifacts):
    check_lecture(lectures[name], name, artifacts)
