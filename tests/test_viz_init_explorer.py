"""The initialization explorer driven headless: what it draws is ``explore``'s pass, setting by setting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.scratch.init_explorer import explore  # noqa: E402
from course_lib.viz.init_explorer import RIDGE_HEIGHT, InitExplorer, explore_cached, forget, ridge_heights, settle  # noqa: E402

SMALL = {"width": 100, "batch": 200, "bins": 30}  # a quick pass; the lecture's 500 x 500 is the default


def drawn(explorer: InitExplorer) -> dict[str, np.ndarray]:
    """What the figure shows: ridge polylines (L, B, 2) per panel and the two std lines' y data."""
    return {
        "act_ridges": np.array(explorer.act_ridges.get_segments()),
        "grad_ridges": np.array(explorer.grad_ridges.get_segments()),
        "act_std": np.asarray(explorer.act_std_line.get_ydata()),
        "grad_std": np.asarray(explorer.grad_std_line.get_ydata()),
    }


def expected(depth, width, activation, init, batch_norm, batch, bins) -> dict[str, np.ndarray]:
    """The same, computed from the scratch pass directly (float32, as the widget runs it)."""
    data = explore(depth, width, activation, init, batch_norm, batch=batch, bins=bins, dtype=np.float32)
    layers = np.arange(1, depth + 1)[:, None]
    out = {}
    for name, counts, edges, cut in (("act_ridges", data.act_counts, data.act_edges, activation == "relu"),
                                     ("grad_ridges", data.grad_counts, data.grad_edges, False)):
        centers = np.broadcast_to((edges[:-1] + edges[1:]) / 2, counts.shape)
        out[name] = np.stack([centers, layers + RIDGE_HEIGHT * ridge_heights(counts, cut)], axis=-1)
    out["act_std"], out["grad_std"] = data.act_std, data.grad_std
    return out


@pytest.mark.parametrize("control, value", [
    ("init", "std 1.0"), ("init", "std 0.01"), ("init", "he"), ("activation", "relu"), ("activation", "sigmoid"),
    ("batch_norm", True), ("depth", 4), ("width", 50),
])
def test_each_control_redraws_the_scratch_pass_of_its_setting(control, value):
    explorer = InitExplorer(depth=6, activation="tanh", init="xavier", **SMALL)
    before = drawn(explorer)
    getattr(explorer, control).value = value
    after = drawn(explorer)
    setting = dict(depth=6, width=SMALL["width"], activation="tanh", init="xavier", batch_norm=False)
    setting[control] = value
    assert explorer.setting() == tuple(setting.values())
    want = expected(*setting.values(), SMALL["batch"], SMALL["bins"])
    for name in after:
        np.testing.assert_allclose(after[name], want[name], rtol=1e-12, err_msg=name)
    assert not np.array_equal(after["act_std"], before["act_std"]), f"{control}: the std panel did not move"


def test_the_panels_tell_collapse_saturation_and_health_apart():
    explorer = InitExplorer(depth=8, activation="tanh", init="std 0.01", **SMALL)
    collapsed = drawn(explorer)["act_std"]
    assert collapsed[-1] < 1e-4 * collapsed[0]  # a spike at 0 by the last layer
    explorer.init.value = "std 1.0"
    assert "saturated" in explorer.ax_std.get_title() and int(explorer.ax_std.get_title().split()[-2][:-1]) > 50
    explorer.init.value = "xavier"
    healthy = drawn(explorer)["act_std"]
    assert 0.2 < healthy[-1] / healthy[0] < 5
    explorer.batch_norm.value, explorer.init.value = True, "std 0.01"  # batch norm rescues the tiny init
    rescued = drawn(explorer)["act_std"]
    assert rescued[-1] > 0.3
    explorer.activation.value = "relu"
    assert "dead units" in explorer.ax_std.get_title() and explorer.ax_act.get_title() == "relu outputs $h_l$"


def test_depth_sets_the_number_of_ridges_and_the_axes_follow():
    explorer = InitExplorer(depth=3, **SMALL)
    assert len(explorer.act_ridges.get_segments()) == len(explorer.grad_ridges.get_segments()) == 3
    explorer.depth.value = 12
    assert len(explorer.act_ridges.get_segments()) == 12
    assert explorer.ax_act.get_ylim()[1] == explorer.ax_grad.get_ylim()[1] == 13  # shared, room for the top ridge
    assert explorer.ax_std.get_xlim() == (0.5, 12.5)
    heights = np.array(explorer.act_ridges.get_segments())[:, :, 1] - np.arange(1, 13)[:, None]
    assert heights.min() >= 0 and heights.max() <= RIDGE_HEIGHT + 1e-12  # ridges never reach the next layer's baseline


def test_a_setting_seen_before_is_not_computed_again():
    explorer = InitExplorer(depth=5, **SMALL)
    explorer.init.value = "he"
    misses = explore_cached.cache_info().misses
    explorer.init.value = "xavier"
    explorer.init.value = "he"
    assert explore_cached.cache_info().misses == misses


def test_ridge_heights_scale_each_layer_and_cut_relus_zero_bin():
    counts = np.array([[50, 10, 20, 0], [8, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(ridge_heights(counts), [[1, 0.2, 0.4, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    # ReLU: the zero bin is cut at the ridge's height; a layer with nothing else keeps its spike
    np.testing.assert_allclose(ridge_heights(counts, cut_zero_bin=True), [[1, 0.5, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 0}, r"depth must be an integer in \[1, 20\], got 0"),
    ({"depth": 21}, "depth must be"),
    ({"depth": 2.0}, "depth must be"),
    ({"width": 30}, r"width must be one of \(10, 25, 50, 100, 250, 500\), got 30"),
    ({"activation": "elu"}, "activation must be one of"),
    ({"init": "Xavier"}, r"init must be one of \['std 0.01', 'std 1.0', 'xavier', 'he'\], got 'Xavier'"),
    ({"batch_norm": "yes"}, "batch_norm must be True or False"),
    ({"batch": 1}, "batch must be an integer >= 2"),
    ({"bins": 0}, "bins must be an integer >= 1"),
])
def test_bad_settings_are_refused_with_the_expected_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InitExplorer(**{**SMALL, **kwargs})


def live(explorer: InitExplorer) -> InitExplorer:
    explorer.fig.canvas._handle_custom_msg({"type": "initialized"}, [])  # as JupyterLab does on display
    return explorer


def test_a_live_explorer_computes_the_next_step_while_the_student_looks():
    forget()  # nothing from other tests: every pass is computed here
    explorer = live(InitExplorer(depth=4, init="he", **SMALL))
    explorer.depth.value = 5
    settle()
    misses = explore_cached.cache_info().misses
    explorer.depth.value = 6  # one more step the same way: computed in the background already
    assert explore_cached.cache_info().misses == misses
    np.testing.assert_array_equal(explorer.data.act_counts,
                                  explore(6, SMALL["width"], "tanh", "he", False, batch=SMALL["batch"],
                                          bins=SMALL["bins"], dtype=np.float32).act_counts)
    settle()


def test_the_control_moved_last_is_guessed_first():
    explorer = InitExplorer(depth=4, init="he", **SMALL)
    explorer.init.value = "xavier"
    assert [key[3] for key in explorer.neighbours()[:2]] == ["he", "std 1.0"]  # the init slider's neighbours
    explorer.depth.value = 20
    assert explorer.neighbours()[0] == (19, SMALL["width"], "tanh", "xavier", False)  # depth 21 does not exist
    assert len(set(explorer.neighbours())) == len(explorer.neighbours()) == 8


def test_an_explorer_without_a_browser_guesses_nothing():
    forget()
    explorer = InitExplorer(depth=3, init="std 1.0", **SMALL)
    explorer.depth.value = 2
    settle()
    assert explore_cached.cache_info().misses == 2  # the two settings shown, nothing more
