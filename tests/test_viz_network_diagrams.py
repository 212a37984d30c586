"""The neuron and layer diagrams: every part drawn, shapes readable off the picture."""

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.viz.network_diagrams import draw_layer, draw_neuron  # noqa: E402


def test_neuron_shows_each_input_with_its_weight_the_sum_the_bias_and_the_activation():
    fig, ax = plt.subplots()
    draw_neuron(ax, n_inputs=4, activation=r"\sigma")
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t.startswith("$x_")] == ["$x_{1}$", "$x_{2}$", "$x_{3}$", "$x_{4}$"]
    assert [t for t in texts if t.startswith("$w_")] == ["$w_{1}$", "$w_{2}$", "$w_{3}$", "$w_{4}$"]
    assert {"$b$", r"$\Sigma$", r"$\sigma$", "$h$", "$u$"} <= set(texts)
    assert sum(p.get_gid() == "input" for p in ax.patches) == 4
    fig.canvas.draw()
    inputs = [p.get_window_extent() for p in ax.patches if p.get_gid() == "input"]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(inputs, 2))
    plt.close(fig)


def test_layer_draws_each_matrix_with_its_shape_and_as_many_cells():
    fig, ax = plt.subplots()
    draw_layer(ax, n_examples=5, n_in=3, n_out=2)
    texts = [t.get_text() for t in ax.texts]
    assert {"(5, 3)", "(3, 2)", "(2,)", "(5, 2)"} <= set(texts)
    cells = {}
    for p in ax.patches:
        cells[p.get_gid()] = cells.get(p.get_gid(), 0) + 1
    assert cells == {"cell $X$": 15, "cell $W$": 6, "cell $b$": 2, "cell $H = f(XW + b)$": 10}
    plt.close(fig)


@pytest.mark.parametrize("call", [lambda ax: draw_neuron(ax, n_inputs=0), lambda ax: draw_layer(ax, n_out=2.5),
                                  lambda ax: draw_layer(ax, n_examples=True)])
def test_bad_counts_are_named(call):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="must be an integer from 1 to 12"):
        call(ax)
    plt.close(fig)
