"""Computation graphs of the scalar engine: what is drawn, where, and that nothing collides."""

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course_lib.scratch.autograd import Value, topological_order  # noqa: E402
from course_lib.viz.graph import draw_graph, draw_graphs, graph_layout, op_label, value_label  # noqa: E402


def neuron():
    """E = (sigmoid(w1 x1 + w2 x2 + b) - t)^2 after backward, and names for some of its values."""
    x1, x2, w1, w2, b, t = Value(2.0), Value(-1.0), Value(0.5), Value(-0.3), Value(0.1), Value(1.0)
    y = (w1 * x1 + w2 * x2 + b).sigmoid()
    E = (y - t) ** 2
    E.backward()
    return E, {x1: "x1", w1: "w1", y: "y", E: "E"}


def tangled(seed, size=14):
    """A random expression in which values are reused (so arrows skip columns and cross)."""
    rng = np.random.default_rng(seed)
    pool = [Value(float(v)) for v in rng.normal(size=4)]
    for _ in range(size):
        a, b = (pool[i] for i in rng.integers(0, len(pool), 2))
        pool.append([a + b, a * b, a.tanh(), (a - b).relu()][rng.integers(0, 4)])
    root = pool[-1]
    root.backward()
    return root


def rendered(fig):
    """The figure drawn on an Agg canvas (a figure made without pyplot has no renderer of its own)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def boxes(fig, gid):
    renderer = rendered(fig)
    return [p.get_window_extent(renderer) for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def test_one_box_per_value_one_oval_per_operation_one_arrow_per_input():
    E, names = neuron()
    order = topological_order(E)
    fig = draw_graph(E, names)
    patches = [p for ax in fig.axes for p in ax.patches]
    count = {gid: sum(p.get_gid() == gid for p in patches) for gid in ("value", "op", "edge")}
    assert count["value"] == len(order) == 15
    assert count["op"] == sum(1 for v in order if v._prev) == 8
    assert count["edge"] == sum(len(v._prev) + 1 for v in order if v._prev)  # inputs in, result out


def test_every_value_shows_data_and_grad_and_every_operation_its_symbol():
    E, names = neuron()
    fig = draw_graph(E, names)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    for v in topological_order(E):
        assert value_label(v, names.get(v)) in texts
        if v._prev:
            assert op_label(v._op) in texts
    assert "E\n0.0391 | 1" in texts  # the root: dE/dE = 1
    assert "w1\n0.5 | -0.126" in texts  # dE/dw1 = 2 (y - t) y (1 - y) x1
    assert {"×", "+", "sigmoid", "^2"} <= set(texts)


@pytest.mark.parametrize("seed", range(4))
def test_no_two_nodes_overlap_and_every_label_fits_its_node(seed):
    root = tangled(seed)
    for fig in (draw_graph(root), plt.figure(figsize=(4, 2))):
        if not fig.axes:  # the second time: squeezed into a small axes, text scaled down with it
            draw_graph(root, ax=fig.add_subplot())
        nodes = boxes(fig, "value") + boxes(fig, "op")
        for a, b in itertools.combinations(nodes, 2):
            assert not a.overlaps(b), (a, b)
        renderer = rendered(fig)
        for ax in fig.axes:
            shapes = [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() in ("value", "op")]
            labels = [t.get_window_extent(renderer) for t in ax.texts if t.get_gid() in ("value", "op")]
            for shape, label in zip(shapes, labels):  # drawn in the same order
                assert shape.x0 <= label.x0 and label.x1 <= shape.x1 and shape.y0 <= label.y0 and label.y1 <= shape.y1
        plt.close(fig)


@pytest.mark.parametrize("seed", range(4))
def test_arrows_only_join_neighbouring_columns_so_none_crosses_a_box(seed):
    layout = graph_layout(tangled(seed))
    for chain in layout.edges:
        columns = [layout.nodes[i].column for i in chain]
        assert columns == list(range(columns[0], columns[-1] + 1))
        assert [layout.nodes[i].kind for i in chain[1:-1]] == ["bend"] * (len(chain) - 2)
    for column in {n.column for n in layout.nodes}:
        rows = sorted(n.row for n in layout.nodes if n.column == column)
        assert np.all(np.diff(rows) >= 1 - 1e-9)


def test_columns_follow_the_topological_order():
    E, _ = neuron()
    layout = graph_layout(E)
    where = {(n.kind, id(n.value)): n.column for n in layout.nodes if n.kind != "bend"}
    for v in topological_order(E):
        if v._prev:
            assert where[("op", id(v))] == where[("value", id(v))] - 1
            assert all(where[("value", id(c))] < where[("op", id(v))] for c in v._prev)
    assert where[("value", id(E))] == max(where.values())


def test_several_graphs_stack_in_one_figure_with_their_titles():
    roots = [Value(3.0) + Value(-2.0), Value(3.0) * Value(-2.0)]
    fig = draw_graphs(roots, titles=["add", "mul"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["add", "mul"]
    assert fig.axes[0].get_position().y0 > fig.axes[1].get_position().y1


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="from a Value, got float"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="names maps Value"):
        draw_graph(Value(1.0), names={"w": Value(1.0)})
    with pytest.raises(ValueError, match="one title per root"):
        draw_graphs([Value(1.0)], titles=["a", "b"])
    with pytest.raises(ValueError, match="an ax holds one graph"):
        draw_graphs([Value(1.0), Value(2.0)], ax=plt.figure().add_subplot())
    plt.close("all")
