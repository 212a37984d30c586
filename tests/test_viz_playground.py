"""The playground widget, headless: every control reaches the model, the artists move, play/pause on an event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.scratch.layers import Linear, ReLU  # noqa: E402
from course_lib.viz.playground import TrainingPlayground, network_mosaic  # noqa: E402


@pytest.fixture
def pg():
    return TrainingPlayground(dataset="xor", hidden=(4,), lr=0.1, steps_per_frame=20)


def drawn(pg) -> dict:
    """What the figure shows now: copies of the moving artists' data."""
    return {"surface": np.array(pg.image.get_array()), "mosaic": np.array(pg.mosaic.get_array()),
            "train": pg.train_curve.get_ydata().copy(), "points": pg.train_points.get_offsets().copy(),
            "status": pg.status.value, "bars": [b.get_height() for bars in pg._bars for b in bars]}


def test_step_trains_and_the_drawing_follows(pg):
    before = drawn(pg)
    for _ in range(10):
        pg.step_button.click()
    after = drawn(pg)
    assert pg.model.steps == 200 and len(after["train"]) == 201
    assert after["train"][-1] < 0.5 * after["train"][0]
    assert np.abs(after["surface"] - before["surface"]).max() > 0.3
    assert not np.allclose(np.nan_to_num(after["mosaic"]), np.nan_to_num(before["mosaic"]))
    assert after["bars"] != before["bars"] and "update 200" in after["status"]
    np.testing.assert_array_equal(after["points"], before["points"])  # training moves no data


def test_reset_draws_the_same_run_again(pg):
    pg.step(60)
    first = drawn(pg)
    pg.reset_button.click()
    assert pg.model.steps == 0 and len(pg.train_curve.get_ydata()) == 1
    pg.step(60)
    again = drawn(pg)
    np.testing.assert_array_equal(first["surface"], again["surface"])
    np.testing.assert_array_equal(first["train"], again["train"])


def test_reset_shows_the_first_frame_again(pg):
    first = pg.snapshot_png()
    pg.step(300)  # past 64 updates: the loss axis widened
    assert pg.ax_loss.get_xlim()[1] > 64 and pg.snapshot_png() != first
    pg.reset_button.click()
    assert pg.ax_loss.get_xlim() == (0, 64) and pg.snapshot_png() == first


def test_the_legend_shows_over_the_live_surface(pg):
    pg._on_canvas_msg(pg.fig.canvas, {"type": "initialized"}, [])  # the browser shows it: frames are blitted
    pg.redraw()

    def legend_pixels() -> np.ndarray:
        pg.step(0)  # a blitted frame of the same state
        box, buffer = pg.ax_surface.get_legend().get_window_extent(), np.asarray(pg.fig.canvas.buffer_rgba())
        rows = slice(int(buffer.shape[0] - box.y1), int(buffer.shape[0] - box.y0))
        return buffer[rows, int(box.x0):int(box.x1), :3].astype(int)

    shown = legend_pixels()
    pg.ax_surface.get_legend().set_visible(False)
    assert np.abs(shown - legend_pixels()).max() > 100, "the surface covers its legend"


def test_data_controls_redraw_the_points_and_reset(pg):
    pg.step(20)
    points = pg.train_points.get_offsets().copy()
    pg.dataset.value = "circles"
    assert pg.model.config.dataset == "circles" and pg.model.steps == 0
    assert not np.array_equal(points, pg.train_points.get_offsets())
    pg.noise.value = 0.3
    assert pg.model.config.noise == 0.3
    pg.train_percent.value = 70
    assert len(pg.train_points.get_offsets()) == 280 and len(pg.test_points.get_offsets()) == 120
    pg.batch_size.value = 25
    assert pg.model.config.batch_size == 25


def test_problem_type_switches_the_data_sets_loss_and_colour_scale(pg):
    pg.problem.value = "regression"
    assert pg.dataset.options == ("plane", "bumps") and pg.model.config.dataset == "plane"
    assert pg.image.get_clim() == (-1.0, 1.0) and pg.ax_loss.get_ylabel() == "mean squared error"
    pg.dataset.value = "bumps"
    assert pg.model.config.dataset == "bumps"


def test_feature_toggles_change_the_input_width_and_the_map(pg):
    pg.feature_buttons["x1*x2"].value = True
    assert pg.model.net.layers[0].params["W"].shape == (3, 4)
    assert "x₁x₂" in [t.get_text() for t in pg._net_texts]
    pg.feature_buttons["x1"].value = False
    pg.feature_buttons["x2"].value = False
    assert pg.model.config.features == ("x1*x2",)
    pg.feature_buttons["x1*x2"].value = False  # the last input cannot be turned off
    assert pg.feature_buttons["x1*x2"].value and pg.model.config.features == ("x1*x2",)


def test_layer_buttons_and_unit_boxes_change_the_architecture(pg):
    pg.add_layer.click()
    assert pg.model.config.hidden == (4, 4) and len(pg.units) == 2
    pg.units[1].value = 6
    assert pg.model.config.hidden == (4, 6)
    assert [t.get_text() for t in pg._net_texts][:4] == ["inputs", "layer 1", "layer 2", "output"]
    assert len(pg._bars[0]) == 3 and pg.mosaic.get_array().shape[0] == 6 * 20
    pg.remove_layer.click()
    pg.remove_layer.click()
    assert pg.model.config.hidden == () and pg.remove_layer.disabled and len(pg._bars[0]) == 1
    for _ in range(7):
        pg.add_layer.click()
    assert len(pg.model.config.hidden) == 6 and pg.add_layer.disabled


def test_training_controls_reach_the_model(pg):
    pg.activation.value = "relu"
    assert isinstance(pg.model.net.layers[1], ReLU)
    pg.optimizer.value = "adam"
    pg.lr.value = 0.01
    assert type(pg.model.optimizer).__name__ == "Adam" and pg.model.optimizer.param_groups[0]["lr"] == 0.01
    pg.regularization.value = "l2"
    pg.reg_rate.value = 0.1
    assert (pg.model.config.regularization, pg.model.config.reg_rate) == ("l2", 0.1)
    W = [layer.params["W"].data.copy() for layer in pg.model.net.layers if isinstance(layer, Linear)]
    pg.step(50)
    shrunk = sum(np.linalg.norm(layer.params["W"].data) for layer in pg.model.net.layers if isinstance(layer, Linear))
    assert shrunk < sum(np.linalg.norm(w) for w in W)


def test_show_test_and_discretize_change_the_picture(pg):
    pg.step(100)
    assert not pg.test_points.get_visible()
    pg.show_test.value = True
    assert pg.test_points.get_visible() and len(pg.ax_surface.get_legend().get_texts()) == 2
    pg.discretize.value = True
    assert set(np.unique(pg.image.get_array())) == {0.0, 1.0}


def test_export_shows_a_script_that_replays_the_run(pg):
    pg.step(40)
    pg.export_button.click()
    assert pg.code.layout.display != "none"
    assert "Sequential(" in pg.code.value and "lr=0.1" in pg.code.value
    namespace: dict = {}
    exec(compile(pg.code.value.replace("print(", "str("), "<export>", "exec"), namespace)  # noqa: S102
    assert namespace["net"].layers[0].params["W"].shape == (2, 4)


def in_fresh_thread(fn):
    """Run ``fn`` in a thread of its own: no event loop runs there, whatever another test of this
    process left running in the main thread (a browser driver's, say)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def test_play_trains_in_the_background_and_pause_stops_it(pg):
    async def session():
        task = pg.play()
        assert pg.playing and pg.play_button.description == "⏸ pause"
        await asyncio.sleep(0.5)  # the event loop is free: this coroutine runs beside the training
        during = pg.model.steps
        pg.play_button.click()  # pause, as a click in the browser would
        await asyncio.wait_for(task, timeout=5)
        stopped = pg.model.steps
        await asyncio.sleep(0.2)
        return during, stopped

    during, stopped = in_fresh_thread(lambda: asyncio.run(session()))
    assert during >= 2 * pg.steps_per_frame and stopped == pg.model.steps
    assert not pg.playing and pg.play_button.description == "▶ play"
    assert len(pg.train_curve.get_ydata()) == pg.model.steps + 1


def test_play_without_an_event_loop_says_what_to_do(pg):
    with pytest.raises(RuntimeError, match="call step"):
        in_fresh_thread(pg.play)
    assert not pg.playing


def test_network_mosaic_places_each_unit_in_its_column():
    maps = [np.ones((2, 4, 4)), -np.ones((3, 4, 4)) * np.arange(4), np.zeros((1, 4, 4))]
    image = network_mosaic(maps, tile=4, gap=1)
    assert image.shape == (15, 15)
    np.testing.assert_array_equal(image[0:4, 0:4], 1.0)  # scaled to its own largest |value|
    assert np.isnan(image[10:14, 0:4]).all()  # the inputs have 2 units: row 3 is blank
    np.testing.assert_allclose(image[5:9, 5:9], np.tile(-np.arange(4) / 3, (4, 1)), atol=1e-15)
    np.testing.assert_array_equal(image[0:4, 10:14], 0.0)  # a dead unit: all zero, not NaN
