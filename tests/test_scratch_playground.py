"""The playground's state without a display: training, every setting, reset, the drawn data, the export."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from course_lib.scratch.layers import ELU, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from course_lib.scratch.optim import SGD, Adam
from course_lib.scratch.playground import DATASETS, FEATURES, Config, Playground, weights_of


def weights(pg: Playground) -> list[np.ndarray]:
    return [p.data.copy() for p in pg.net.parameters()]


def test_loss_falls_on_an_easy_set_and_the_classes_come_apart():
    pg = Playground(dataset="gaussians", hidden=(2,), lr=0.1)
    pg.step(300)
    assert len(pg.train_loss) == len(pg.test_loss) == 301 and pg.steps == 300
    assert pg.train_loss[-1] < 0.5 * pg.train_loss[0] and pg.test_loss[-1] < 0.5 * pg.test_loss[0]
    accuracy = np.mean((pg.predict(pg.X_test) > 0.5) == pg.y_test)
    assert accuracy > 0.95


def test_xor_is_learned_by_a_hidden_layer_and_not_without_one():
    hidden = Playground(dataset="xor", hidden=(4,), lr=0.1)
    linear = Playground(dataset="xor", hidden=(), lr=0.1)
    hidden.step(800)
    linear.step(800)
    assert hidden.train_loss[-1] < 0.1 < 0.6 < linear.train_loss[-1]


def test_epochs_count_full_passes_over_the_training_set():
    pg = Playground(n=100, train_fraction=0.5, batch_size=10)  # 50 training points: 5 batches an epoch
    pg.step(4)
    assert pg.epoch == 0
    pg.step(1)
    assert pg.epoch == 1
    pg.configure(batch_size=25)  # takes effect from the next epoch
    pg.step(2)
    assert pg.epoch == 2


def test_reset_replays_the_same_run_and_the_seed_changes_it():
    pg = Playground(dataset="spirals", hidden=(6, 6), optimizer="adam", lr=0.01, regularization="l2", reg_rate=0.001)
    start = weights(pg)
    pg.step(120)
    first_run, first_losses = weights(pg), list(pg.train_loss)
    pg.reset()
    assert pg.steps == 0 and pg.epoch == 0 and len(pg.train_loss) == 1
    for a, b in zip(start, weights(pg)):
        np.testing.assert_array_equal(a, b)
    pg.step(120)
    for a, b in zip(first_run, weights(pg)):
        np.testing.assert_array_equal(a, b)
    assert pg.train_loss == first_losses
    pg.configure(seed=1)
    assert not np.array_equal(start[0], weights(pg)[0])


@pytest.mark.parametrize("problem", sorted(DATASETS))
def test_every_data_set_draws_a_seeded_split_and_new_data_resets(problem):
    for name in DATASETS[problem]:
        pg = Playground(problem=problem, dataset=name, train_fraction=0.7, n=200)
        assert pg.X_train.shape == (140, 2) and pg.X_test.shape == (60, 2)
        x0, x1, y0, y1 = pg.extent
        assert x0 < pg.X_train[:, 0].min() and pg.X_train[:, 0].max() < x1
        assert y0 < pg.X_train[:, 1].min() and pg.X_train[:, 1].max() < y1
        if problem == "classification":
            assert set(np.unique(pg.y_train)) == {0, 1}
        np.testing.assert_array_equal(pg.X_train, Playground(problem=problem, dataset=name, train_fraction=0.7, n=200).X_train)
    pg.step(5)
    before = np.column_stack([pg.X_train, pg.y_train])  # noise moves the points, or the regression targets
    pg.configure(noise=0.3)
    assert pg.steps == 0 and not np.array_equal(before, np.column_stack([pg.X_train, pg.y_train]))


def test_switching_the_problem_type_picks_a_set_of_that_type_and_a_matching_loss():
    pg = Playground(dataset="xor")
    pg.configure(problem="regression")
    assert pg.config.dataset == "plane" and type(pg.loss).__name__ == "MeanSquaredError"
    assert pg.y_train.dtype == np.float64 and len(np.unique(pg.y_train)) > 10
    pg.configure(lr=0.1)
    pg.step(300)
    assert pg.train_loss[-1] < 0.3 * pg.train_loss[0]
    assert pg.predict(pg.X_test).min() < 0 < pg.predict(pg.X_test).max()  # a value, not a probability


def test_feature_toggles_change_the_input_width():
    pg = Playground()
    assert pg.net.layers[0].params["W"].shape == (2, 4) and pg.F_train.shape[1] == 2
    pg.step(3)
    pg.configure(features=("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"))
    assert pg.steps == 0 and pg.net.layers[0].params["W"].shape == (7, 4) and pg.F_train.shape[1] == 7
    x1, x2 = pg.X_train[:, 0], pg.X_train[:, 1]
    np.testing.assert_allclose(pg.F_train, np.column_stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]))


def test_squared_features_solve_circles_without_a_hidden_layer():
    pg = Playground(dataset="circles", features=("x1^2", "x2^2"), hidden=(), lr=0.3)
    pg.step(600)
    assert np.mean((pg.predict(pg.X_test) > 0.5) == pg.y_test) > 0.95


@pytest.mark.parametrize("activation, layer", [("relu", ReLU), ("tanh", Tanh), ("sigmoid", Sigmoid),
                                                ("linear", Identity), ("leaky_relu", LeakyReLU), ("elu", ELU)])
def test_the_architecture_follows_hidden_and_activation(activation, layer):
    pg = Playground(hidden=(3, 5, 2), activation=activation)
    kinds = [type(x) for x in pg.net.layers]
    assert kinds == [Linear, layer, Linear, layer, Linear, layer, Linear]
    assert [W.shape for W in weights_of(pg.net)] == [(2, 3), (3, 5), (5, 2), (2, 1)]


def test_optimizer_and_learning_rate_apply_to_the_current_weights():
    pg = Playground(lr=0.03)
    pg.step(10)
    assert isinstance(pg.optimizer, SGD) and pg.optimizer.param_groups[0]["momentum"] == 0
    pg.configure(optimizer="momentum")
    assert pg.steps == 10 and pg.optimizer.param_groups[0]["momentum"] == 0.9
    pg.configure(optimizer="adam", lr=0.003)
    assert isinstance(pg.optimizer, Adam) and pg.optimizer.param_groups[0]["lr"] == 0.003 and pg.steps == 10
    pg.configure(lr=0.05)
    assert pg.optimizer.param_groups[0]["lr"] == 0.05


def test_a_larger_learning_rate_moves_the_weights_further():
    moved = []
    for lr in (0.01, 0.1):
        pg = Playground(lr=lr)
        start = weights(pg)
        pg.step(20)
        moved.append(sum(np.linalg.norm(a - b) for a, b in zip(start, weights(pg))))
    assert moved[1] > 5 * moved[0]


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_shrinks_the_weights_and_spares_the_biases(kind):
    norms = {}
    for rate in (0.0, 0.03):
        pg = Playground(dataset="xor", hidden=(8,), lr=0.1, regularization=kind, reg_rate=rate)
        pg.step(1500)
        norms[rate] = sum(w for w, _ in pg.layer_norms())
    assert norms[0.03] < 0.7 * norms[0.0]


def test_the_penalty_is_exactly_the_l2_weight_decay_of_sgd():
    """With SGD, an L2 penalty of rate lam is the update w <- w - lr (g + lam w) on the weights only."""
    a = Playground(regularization="l2", reg_rate=0.1)
    b = Playground()
    Wb = [W.data.copy() for W in weights_of(b.net)]
    a.step(1)
    b.step(1)
    for Wa, W0, Wnew in zip(weights_of(a.net), Wb, weights_of(b.net)):
        np.testing.assert_allclose(Wa.data, Wnew.data - 0.03 * 0.1 * W0, rtol=1e-12, atol=1e-15)
    for la, lb in zip(a.net.layers, b.net.layers):
        if isinstance(la, Linear):
            np.testing.assert_array_equal(la.params["b"].data, lb.params["b"].data)


def test_the_drawn_surface_and_neuron_maps_change_with_training():
    pg = Playground(dataset="xor", hidden=(4, 3), lr=0.1)
    xs, ys, before = pg.surface(30)
    maps_before = pg.neuron_maps(12)
    assert xs.shape == ys.shape == (30,) and before.shape == (30, 30)
    assert [m.shape for m in maps_before] == [(2, 12, 12), (4, 12, 12), (3, 12, 12), (1, 12, 12)]
    assert 0 <= before.min() and before.max() <= 1
    pg.step(300)
    after = pg.surface(30)[2]
    assert np.abs(after - before).max() > 0.3
    assert all(not np.allclose(a, b) for a, b in zip(maps_before[1:], pg.neuron_maps(12)[1:]))
    np.testing.assert_array_equal(maps_before[0], pg.neuron_maps(12)[0])  # the inputs do not train
    # the surface is indexed [y, x]: the point at row i, column j is (xs[j], ys[i])
    i, j = 7, 21
    assert after[i, j] == pytest.approx(pg.predict(np.array([[xs[j], ys[i]]]))[0])
    hard = pg.surface(30, discretize=True)[2]
    assert set(np.unique(hard)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard, after > 0.5)
    # the first column of maps is the feature itself
    np.testing.assert_allclose(pg.neuron_maps(12)[0][0], np.tile(np.linspace(*pg.extent[:2], 12), (12, 1)))


def test_layer_norms_report_weights_and_the_last_gradient():
    pg = Playground(hidden=(4, 2))
    norms = pg.layer_norms()
    assert len(norms) == 3 and all(g == 0.0 for _, g in norms)
    pg.step(1)
    for (w, g), W in zip(pg.layer_norms(), weights_of(pg.net)):
        assert w == pytest.approx(np.linalg.norm(W.data)) and g == pytest.approx(np.linalg.norm(W.grad)) and g > 0


@pytest.mark.parametrize("settings", [
    dict(dataset="xor", hidden=(4,), lr=0.1),
    dict(dataset="spirals", features=("x1", "x2", "sin(x1)", "sin(x2)"), hidden=(6, 4), activation="relu",
         optimizer="adam", lr=0.01, regularization="l2", reg_rate=0.001, batch_size=16, train_fraction=0.7),
    dict(problem="regression", dataset="bumps", hidden=(5,), activation="elu", optimizer="momentum",
         regularization="l1", reg_rate=0.0003),
])
def test_the_exported_code_replays_the_playground_exactly(settings):
    pg = Playground(**settings)
    per_epoch = int(np.ceil(len(pg.X_train) / pg.config.batch_size))
    pg.step(3 * per_epoch)
    assert pg.epoch == 3
    code = pg.to_code()
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "<playground export>", "exec"), namespace)  # noqa: S102 - our own generated code
    for mine, theirs in zip(pg.net.parameters(), namespace["net"].parameters()):
        np.testing.assert_array_equal(mine.data, theirs.data)
    assert f"train loss {pg.train_loss[-1]:.4f}" in out.getvalue()


def test_bad_settings_are_value_errors_naming_what_was_expected():
    with pytest.raises(ValueError, match="dataset for classification must be one of"):
        Config(dataset="plane")
    with pytest.raises(ValueError, match="activation must be one of"):
        Config(activation="swish")
    with pytest.raises(ValueError, match="features must be a non-empty tuple"):
        Config(features=())
    with pytest.raises(ValueError, match="hidden must list at most 6 layers of 1..8 units"):
        Config(hidden=(4, 9))
    with pytest.raises(ValueError, match="unknown settings"):
        Playground().configure(learning_rate=0.1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        Playground().step(-1)
    assert set(FEATURES) == {"x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"}
