"""End to end on the course's own chapters: the grader grades every exercise set as it should.

- every solution passes all of its tests (the grader's reference run fails otherwise);
- every untouched exercise grades at zero with status ok;
- deliberately wrong solutions lose the points of exactly the tests aimed at them, so the tests
  themselves are tested;
- the solution itself, graded as a submission, earns full marks under its set's ``course.forbid``;
  the same answers reached through the library (the course's own answers or torch) lose them.
"""

from pathlib import Path

import pytest

from course_lib.grading.grade import grade_class
from course_lib.grading.runner import Limits
from course_lib.grading.status import Status

from demo_chapter import sandbox

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb") if (ROOT / "exercises" / p.name).exists())

# chapter -> [(mutant name, answer grade_id, text in the solution, its wrong replacement, tests that must fail)]
MUTANTS = {
    "00_setup": [
        ("mean_abs_error", "mse", "return float(np.mean((y_pred - y_true) ** 2))",
         "return float(np.mean(np.abs(y_pred - y_true)))", {"test_mse_values", "test_mse_shapes"}),
    ],
    "02_logistic_regression": [
        ("naive_softmax", "softmax_cross_entropy", "shifted = Z - Z.max(axis=1, keepdims=True)", "shifted = Z",
         {"test_softmax_cross_entropy"}),
        ("drops_last_batch", "train_softmax", "range(0, N, batch_size)", "range(0, N - batch_size + 1, batch_size)",
         {"test_train_softmax", "test_softmax_digits"}),
        ("precision_recall_swapped", "precision_recall", "return precision, recall", "return recall, precision",
         {"test_precision_recall"}),
    ],
    "03_backprop": [
        ("wrong_sign", "linear_backward", "return dout @ W.T, x.T @ dout, dout.sum(axis=0)",
         "return dout @ W.T, -(x.T @ dout), dout.sum(axis=0)",
         {"test_linear_backward", "test_numerical_gradient", "test_mlp_loss_and_grads", "test_train_mlp"}),
        ("relu_passes_all", "activation_backward", "return dout * (x > 0)", "return dout",
         {"test_activation_backward"}),
    ],
    "04_activations": [
        ("tanh_grad_sign", "others", "return 1.0 - np.tanh(x) ** 2", "return np.tanh(x) ** 2 - 1.0", {"test_others"}),
    ],
    "05_optimization": [
        ("adam_without_bias_correction", "adam", "return w - lr / (1 - b1**t) * m / denom, (t, m, v)",
         "return w - lr * m / (np.sqrt(v) + eps), (t, m, v)", {"test_adam", "test_race"}),
    ],
    "06_training_deep_nets": [
        ("biased_running_var", "batchnorm_forward", "momentum * var * N / (N - 1)", "momentum * var",
         {"test_batchnorm_forward"}),
        ("backward_without_mean_terms", "batchnorm_backward",
         "dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)", "dx = gamma * inv_std * dout",
         {"test_batchnorm_backward"}),
        ("relu_gain_one", "initializers", '"relu": np.sqrt(2.0)', '"relu": 1.0',
         {"test_initializers", "test_layer_stds"}),
    ],
    "08_cnns": [
        ("dx_without_overlap_sum", "conv2d_backward",
         "dxp[:, :, a:a + stride * Ho:stride, c:c + stride * Wo:stride] += dwindows",
         "dxp[:, :, a:a + stride * Ho:stride, c:c + stride * Wo:stride] = dwindows", {"test_conv2d_backward"}),
        ("convolution_not_correlation", "conv2d_loops", "out[n, o, i, j] = np.sum(window * w[o])",
         "out[n, o, i, j] = np.sum(window * w[o, :, ::-1, ::-1])", {"test_conv2d_loops", "test_conv2d_im2col"}),
    ],
    "07_regularization": [
        ("dropout_not_rescaled", "dropout", "return x * keep / (1 - p), keep", "return x * keep, keep",
         {"test_dropout", "test_train_mlp"}),
        ("best_weights_not_copied", "early_stopping",
         "best_params = {name: array.copy() for name, array in params.items()}", "best_params = dict(params)",
         {"test_early_stopping", "test_train_mlp"}),
    ],
    "09_deep_architectures": [
        ("shortcut_after_relu", "residual_block",
         "if self.residual:\n            out = out + (x if self.shortcut is None else self.shortcut(x))\n        return torch.relu(out)",
         "out = torch.relu(out)\n        if self.residual:\n            out = out + (x if self.shortcut is None else self.shortcut(x))\n        return out",
         {"test_residual_block"}),
        ("stale_gradients", "grad_norm", "    model.zero_grad()\n", "", {"test_grad_norm"}),
    ],
    "01_linear_regression": [
        ("wrong_sign", "mse_grad", "return 2.0 / X.shape[0] * (X.T @ residual)",
         "return -2.0 / X.shape[0] * (X.T @ residual)", {"test_mse_grad", "test_sgd", "test_sgd_ridge", "test_diabetes"}),
        ("drops_last_batch", "sgd", "range(0, N, batch_size)", "range(0, N - batch_size + 1, batch_size)",
         {"test_sgd", "test_sgd_ridge"}),
        ("float32_weights", "sgd", "w = np.zeros(D)", "w = np.zeros(D, dtype=np.float32)", {"test_sgd"}),
    ],
}

# chapter -> [(submission, answer grade_id, its source, tests that must be lost)]: right answers taken
# from the library, which the set forbids (the course's own answers are forbidden in every set)
LIBRARY = {
    "00_setup": [("library_star", "mse", "from course_lib.scratch.losses import *\n" + "{solution}", {"test_mse_values"})],
    "02_logistic_regression": [
        ("library_scratch", "stable_sigmoid",
         "from course_lib.scratch import activations\ndef stable_sigmoid(z):\n    return activations.sigmoid(z)",
         {"test_stable_sigmoid"}),
    ],
    "04_activations": [
        ("library_scratch", "sigmoid", "from course_lib.scratch.activations import sigmoid, sigmoid_grad", {"test_sigmoid"}),
        ("library_torch", "sigmoid",
         "def sigmoid(x):\n    return torch.as_tensor(x).sigmoid().numpy()\n"
         "def sigmoid_grad(x):\n    s = sigmoid(x)\n    return s * (1.0 - s)", {"test_sigmoid"}),
    ],
    "05_optimization": [("library_star", "momentum", "from torch.optim import *\n" + "{solution}", {"test_momentum"})],
    "06_training_deep_nets": [
        ("library_torch", "fans",
         "def fans(shape):\n    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))", {"test_fans"}),
        ("library_scratch", "clip_grad_norm",
         "from course_lib.scratch import clipping\n{solution}", {"test_clip_grad_norm"}),
    ],
    "08_cnns": [
        ("library_scratch_conv", "conv2d_backward",
         "from course_lib.scratch.conv import conv2d_backward_im2col as conv2d_backward", {"test_conv2d_backward"}),
        ("library_scratch_pooling", "max_pool2d", "from course_lib.scratch.pooling import max_pool2d, max_pool2d_backward",
         {"test_max_pool2d"}),
    ],
    "07_regularization": [
        ("library_autograd", "penalties",
         "{solution}\ndef l2_penalty(w, lam):\n    l1_penalty(w, lam)  # the same checks of lam\n"
         "    wt = torch.tensor(w, requires_grad=True)\n    value = lam / 2 * (wt ** 2).sum()\n"
         "    value.backward()\n    return value.item(), wt.grad.numpy()", {"test_penalties"}),
        ("library_early_stopping", "early_stopping",
         "from course_lib.early_stopping import EarlyStopping\n{solution}", {"test_early_stopping"}),
    ],
    "09_deep_architectures": [
        ("library_models", "dense_block", "from course_lib.models.blocks import DenseBlock", {"test_dense_block"}),
    ],
}


def _automatic(result):
    """The tests graded automatically: written answers wait for a person (0 points, 'needs review')."""
    return [t for t in result.tests if t.status != Status.NEEDS_REVIEW]


def _answer(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat

    from course_lib.grading.build import notebook_text, read_notebook

    classroom = tmp_path_factory.mktemp("class")
    for chapter in CHAPTERS:
        (classroom / "untouched").mkdir(exist_ok=True)
        (classroom / "untouched" / f"{chapter}.ipynb").write_bytes((ROOT / "exercises" / f"{chapter}.ipynb").read_bytes())
        for name, grade_id, old, new, _ in MUTANTS.get(chapter, []):
            nb = read_notebook(ROOT / "solutions" / f"{chapter}.ipynb")
            cell = _answer(nb, grade_id)
            assert old in cell.source, f"{chapter}: the mutant {name} no longer applies to {grade_id}"
            cell.source = cell.source.replace(old, new)
            (classroom / name).mkdir(exist_ok=True)
            (classroom / name / f"{chapter}.ipynb").write_text(notebook_text(nbformat.from_dict(nb)))
        (classroom / "solution").mkdir(exist_ok=True)
        (classroom / "solution" / f"{chapter}.ipynb").write_bytes((ROOT / "solutions" / f"{chapter}.ipynb").read_bytes())
        for name, grade_id, source, _ in LIBRARY.get(chapter, []):
            nb = read_notebook(ROOT / "solutions" / f"{chapter}.ipynb")
            cell = _answer(nb, grade_id)
            cell.source = source.replace("{solution}", cell.source)
            (classroom / name).mkdir(exist_ok=True)
            (classroom / name / f"{chapter}.ipynb").write_text(notebook_text(nbformat.from_dict(nb)))
    results = grade_class(sorted(classroom.iterdir()), ROOT / "solutions", tmp_path_factory.mktemp("out"),
                          jobs=2, limits=Limits(cell_seconds=120, notebook_seconds=600), sandbox=sandbox())
    return {(r.student, r.chapter): r for r in results}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_untouched_exercise_grades_zero(graded, chapter):
    result = graded[("untouched", chapter)]
    assert result.status == "ok", result.message
    assert result.max_points > 0
    assert result.total == 0, [(t.grade_id, t.status) for t in result.tests if t.points]
    assert all(t.message for t in result.tests)
    assert not any("was edited" in note for note in result.diagnostics), result.diagnostics


@pytest.mark.parametrize("chapter, name, failing",
                         [(c, m[0], m[4]) for c, ms in MUTANTS.items() for m in ms if c in CHAPTERS])
def test_wrong_solution_loses_exactly_its_tests(graded, chapter, name, failing):
    result = graded[(name, chapter)]
    lost = {t.grade_id for t in _automatic(result) if t.points < t.max_points}
    assert lost == failing, [(t.grade_id, t.status, t.message) for t in result.tests]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_earns_full_marks_under_its_forbidden_routes(graded, chapter):
    result = graded[("solution", chapter)]
    assert result.status == "ok", (result.message, result.diagnostics)
    missed = [(t.grade_id, t.message) for t in _automatic(result) if t.points < t.max_points]
    assert not missed, missed
    written = [t for t in result.tests if t not in _automatic(result)]
    assert all(t.grade_id.startswith("written_") and t.points == 0 for t in written), written


@pytest.mark.parametrize("chapter, name, failing",
                         [(c, m[0], m[3]) for c, ms in LIBRARY.items() for m in ms if c in CHAPTERS])
def test_answers_taken_from_the_library_lose_their_points(graded, chapter, name, failing):
    result = graded[(name, chapter)]
    lost = {t.grade_id: t.message for t in result.tests if t.points < t.max_points}
    assert failing <= set(lost), [(t.grade_id, t.status, t.message) for t in result.tests]
    assert all("forbid" in lost[grade_id] for grade_id in failing), lost
