"""Test surfaces (exact gradients), pure trajectories (real optimizers) and the explorer, headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backend_bases import MouseEvent  # noqa: E402

from course_lib.scratch import surfaces  # noqa: E402
from course_lib.scratch.parameter import Parameter  # noqa: E402
from course_lib.viz.loss_surface import (  # noqa: E402
    METHODS,
    LossSurfaceExplorer,
    lr_readout,
    make_optimizer,
    trajectories,
    trajectory,
)

TORCH_FORMS = {
    "quadratic": lambda x, y: 0.5 * (x**2 + 10 * y**2),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
    "saddle": lambda x, y: x**2 - y**2 / 2 + y**4 / 4,
}


@pytest.fixture(scope="module")
def net_surface():
    return surfaces.net()


@pytest.mark.parametrize("name", sorted(TORCH_FORMS))
def test_analytic_gradients_match_torch_autograd(name):
    s = surfaces.SURFACES[name]()
    for w in np.random.default_rng(0).uniform(-1.5, 1.5, size=(5, 2)):
        wt = torch.tensor(w, requires_grad=True)
        value = TORCH_FORMS[name](wt[0], wt[1])
        (g,) = torch.autograd.grad(value, wt)
        assert s.value(w) == pytest.approx(value.item(), rel=1e-13)
        np.testing.assert_allclose(s.grad(w), g.numpy(), rtol=1e-12, atol=1e-12)
    if s.minimum is not None:
        np.testing.assert_allclose(s.grad(s.minimum), 0.0, atol=1e-12)


def test_mlp_gradients_match_torch():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 2, 20).astype(float)
    params = [rng.normal(size=s) for s in [(2, 5), (5,), (5, 5), (5,), (5, 1), (1,)]]
    loss, grads = surfaces.mlp_loss_and_grads(params, X, y)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    h = torch.tanh(torch.tanh(torch.tensor(X) @ tp[0] + tp[1]) @ tp[2] + tp[3])
    ref = torch.nn.functional.binary_cross_entropy_with_logits((h @ tp[4] + tp[5])[:, 0], torch.tensor(y))
    assert loss == pytest.approx(ref.item(), rel=1e-13)
    for g, r in zip(grads, torch.autograd.grad(ref, tp)):
        np.testing.assert_allclose(g, r.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", sorted(surfaces.SURFACES))
def test_gradients_are_batched_over_points(name, net_surface):
    s = net_surface if name == "net" else surfaces.SURFACES[name]()
    W = np.random.default_rng(2).uniform(-0.9, 0.9, size=(4, 3, 2))
    values, grads = s.value_and_grad(W)
    assert values.shape == (4, 3) and grads.shape == (4, 3, 2)
    np.testing.assert_allclose(grads, s.grad(W), rtol=1e-13, atol=1e-14)
    for index in np.ndindex(4, 3):
        np.testing.assert_allclose(grads[index], s.grad(W[index]), rtol=1e-12, atol=1e-14)
        assert values[index] == pytest.approx(s.value(W[index]), rel=1e-12)


def test_net_plane_is_the_projected_parameter_gradient():
    """On theta* + a d1 + b d2 the plane's (L, dL/da, dL/db) are L and <grad L, d1>, <grad L, d2> of the MLP."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, 30).astype(float)
    shapes = [(2, 5), (5,), (5, 5), (5,), (5, 1), (1,)]
    theta, d1, d2 = ([rng.normal(size=s) for s in shapes] for _ in range(3))  # bias directions too
    plane = surfaces.NetPlane(theta, d1, d2, X, y)
    for a, b in rng.uniform(-1, 1, size=(4, 2)):
        loss, grads = surfaces.mlp_loss_and_grads([t + a * u + b * v for t, u, v in zip(theta, d1, d2)], X, y)
        expected = [sum(np.sum(g * u) for g, u in zip(grads, d)) for d in (d1, d2)]
        value, grad = plane.value_and_grad(np.array([a, b]))
        assert value == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-13)


def test_net_surface_is_filter_normalized_and_consistent(net_surface):
    s = net_surface
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(2, 4)), rng.normal(size=4)]
    d = surfaces.filter_normalized_direction(params, rng)
    np.testing.assert_allclose(np.linalg.norm(d[0], axis=0), np.linalg.norm(params[0], axis=0), rtol=1e-12)
    assert np.all(d[1] == 0)
    # The batched grid evaluation agrees with point evaluations, and the gradient with finite differences.
    xs, ys, Z = s.evaluate_grid(61)
    assert Z[30, 30] == pytest.approx(s.value(np.zeros(2)), rel=1e-10)
    assert Z[30, 30] < np.median(Z)  # the trained net sits in a valley
    w, h = np.array([0.3, -0.2]), 1e-6
    numeric = [(s.value(w + h * e) - s.value(w - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(s.grad(w), numeric, rtol=1e-6)


def test_trajectory_runs_the_real_optimizer():
    s = surfaces.rosenbrock()
    path, losses = trajectory(s, "Adam", 0.05, s.start, 50)
    w = torch.tensor(s.start, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        ((1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2).backward()
        opt.step()
    np.testing.assert_allclose(path[-1], w.detach().numpy(), atol=1e-10)
    assert path.shape == (51, 2) and losses.shape == (51,)
    np.testing.assert_allclose(losses, s.f(path[:, 0], path[:, 1]))


@pytest.mark.parametrize("name", ["quadratic", "beale", "net"])
def test_lockstep_runs_match_runs_alone(name, net_surface):
    """Sharing a gradient call changes nothing: each path is what the optimizer does on its own,
    including one that diverges (SGD at this lr) while the others go on."""
    s = net_surface if name == "net" else surfaces.SURFACES[name]()
    lr = 0.25 if name == "quadratic" else 0.02
    together = trajectories(s, METHODS, lr, s.start, 60)
    for m in METHODS:
        w = Parameter(s.start.copy())
        path = [s.start.copy()]
        opt = make_optimizer(m, w, lr)
        with np.errstate(all="ignore"):
            for _ in range(60):
                w.grad = s.grad(w.data)
                opt.step()
                path.append(w.data.copy())
        path = np.array(path)
        alone = np.where(np.maximum.accumulate(np.abs(path).max(axis=1) > 1e6)[:, None], np.nan, path)
        np.testing.assert_allclose(together[m][0], alone, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(together[m][1], s.f(alone[:, 0], alone[:, 1]), rtol=1e-12, atol=1e-14)
    if name == "quadratic":
        assert np.isnan(together["SGD"][0][-1]).all() and np.isfinite(together["Adam"][0]).all()


def test_gradient_descent_threshold_on_the_quadratic():
    s = surfaces.quadratic()
    lam = np.linalg.eigvalsh(s.hessian).max()
    _, below = trajectory(s, "SGD", 1.9 / lam, s.start, 200)
    _, above = trajectory(s, "SGD", 2.1 / lam, s.start, 200)
    assert below[-1] < 1e-6 * below[0]
    assert above[-1] > 1e3 * above[0] or np.isnan(above[-1])
    assert "converges" in lr_readout(s, 1.9 / lam) and "diverges" in lr_readout(s, 2.1 / lam)


def test_divergence_is_cut_to_nan():
    s = surfaces.quadratic()
    path, losses = trajectory(s, "SGD", 1.0, s.start, 500)
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()


def test_explorer_recomputes_and_redraws_on_control_changes():
    e = LossSurfaceExplorer(methods=("SGD", "Adam"), steps=40)
    before = e.lines["SGD"].get_xydata().copy()
    e.lr.value = 0.15
    after = e.lines["SGD"].get_xydata()
    assert not np.allclose(before, after, equal_nan=True)
    expected, _ = trajectory(e.current, "SGD", 0.15, e.current.start, 40)
    np.testing.assert_allclose(after, expected)
    assert "converges" in e.readout.value  # lr * lambda_max = 1.5 < 2
    e.lr.value = 0.25
    assert "diverges" in e.readout.value
    # More optimizers -> more visible lines; the loss curve has steps + 1 points.
    e.methods.value = ("SGD", "Momentum", "RMSprop")
    assert [m for m in METHODS if e.lines[m].get_visible()] == ["SGD", "Momentum", "RMSprop"]
    assert len(e.curves["RMSprop"].get_xdata()) == 41
    e.steps.value = 80
    assert len(e.curves["SGD"].get_xdata()) == 81


def test_contour_changes_only_with_the_surface_and_clicks_move_the_start():
    e = LossSurfaceExplorer(steps=20)
    contour = e.contour
    e.momentum.value = 0.5
    assert e.contour is contour
    e.surface.value = "saddle"
    assert e.contour is not contour and e.ax_surface.get_xlim() == e.current.extent[:2]
    np.testing.assert_allclose([e.start_x.value, e.start_y.value], e.current.start)
    x, y = e.ax_surface.transData.transform((0.5, 0.5))
    event = MouseEvent("button_press_event", e.fig.canvas, x, y, button=1)
    e.fig.canvas.callbacks.process("button_press_event", event)
    assert e.start_x.value == pytest.approx(0.5, abs=0.02) and e.start_y.value == pytest.approx(0.5, abs=0.02)
    np.testing.assert_allclose(e.paths["SGD"][0], [e.start_x.value, e.start_y.value])


def test_bad_input():
    s = surfaces.quadratic()
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(3,\)"):
        trajectory(s, "SGD", 0.1, np.zeros(3), 10)
    with pytest.raises(ValueError, match="unknown method 'Lion'"):
        trajectory(s, "Lion", 0.1, np.zeros(2), 10)
    with pytest.raises(ValueError, match="lambda"):
        surfaces.quadratic((10.0, 1.0))


def test_nothing_is_rendered_before_the_browser_connects(monkeypatch):
    """ipympl loses a frame rendered before its canvas is displayed (the figure stays blank)."""
    from ipympl.backend_nbagg import Canvas

    from course_lib.viz.loss_surface import LossSurfaceExplorer

    rendered = []
    real_draw = Canvas.draw
    monkeypatch.setattr(Canvas, "draw", lambda self: rendered.append(1) or real_draw(self))
    explorer = LossSurfaceExplorer()
    explorer.lr.value = 0.07
    assert rendered == []
    explorer.fig.canvas._handle_custom_msg({"type": "initialized"}, [])  # what JupyterLab sends on display
    explorer.steps.value = 50  # the first frame after connecting: a full one, which saves the background
    assert rendered == [1]
    explorer.lr.value = 0.071  # same axes: the moving artists are blitted onto the saved background
    assert rendered == [1] and explorer._background is not None


def test_the_readout_says_which_optimizers_diverged_and_when():
    explorer = LossSurfaceExplorer(surface="quadratic", methods=("SGD", "Adam"), lr=0.05)
    assert "diverged" not in explorer.readout.value
    explorer.lr.value = 0.5  # lr * lambda_max = 5 > 2: plain gradient descent blows up
    assert "diverged: SGD at step" in explorer.readout.value and "Adam" not in explorer.readout.value.split("diverged")[1]


def test_every_explorer_hides_the_toolbar_that_would_cover_its_tick_labels():
    assert LossSurfaceExplorer().fig.canvas.toolbar_visible is False
