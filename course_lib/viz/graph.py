"""Computation graphs of the scalar autograd engine, drawn with matplotlib (no graphviz needed).

    >>> x, w, b = Value(2.0), Value(-0.5), Value(0.3)
    >>> y = (w * x + b).tanh()
    >>> y.backward()
    >>> fig = draw_graph(y, names={x: "x", w: "w", b: "b", y: "y"})

Every ``Value`` is a box reading ``data | grad`` (under its name, if it has one); every operation
is an oval between its inputs and its result. Columns run left to right in topological order.
Draw after ``backward()`` to see the gradients, before it to see zeros.

``graph_layout`` computes where everything goes on a grid (pure, testable); ``draw_graph`` and
``draw_graphs`` turn the grid into inches and draw it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from course_lib.scratch.autograd import Value, topological_order

FONT_PT = 9.0
CHAR_IN = 0.602 * FONT_PT / 72  # DejaVu Sans Mono: every glyph is 0.602 em wide
LINE_SPACING = 1.1
LINE_IN = 1.25 * FONT_PT / 72  # one line of text, with room for subscripts
PAD_IN, COLUMN_GAP_IN, ROW_GAP_IN, EDGE_IN = 0.1, 0.3, 0.2, 0.03
VALUE_COLOR, OP_COLOR = "#dbe9f6", "#fde3c8"
KINDS = ("value", "op", "bend")


@dataclass(frozen=True)
class Node:
    """One place on the grid: a value's box, the oval of the operation that made ``value``, or a
    bend, the point where an arrow that skips columns crosses one (``value`` is the arrow's source)."""

    kind: str
    value: Value
    column: int  # 0 = leftmost
    row: float  # 0 = top; places in one column stand at least 1 apart


@dataclass(frozen=True)
class GraphLayout:
    """Places on the grid, and arrows: each a chain of node indices (source, bends..., target)."""

    nodes: list[Node]
    edges: list[list[int]]


def graph_layout(root: Value) -> GraphLayout:
    """Place every value that ``root`` depends on, and every operation, on a grid of columns and rows.

    Columns: a value k steps before the root (on its longest path to it) sits in column 2(K - k)
    and its operation in the column just left of it, so every node stands as far right as its uses
    allow: an input used late (a bias, a target) sits beside its use. An arrow that skips columns
    gets a bend in each one it crosses, which takes a row there like a node, so no arrow runs
    through a box. Rows: from the root (row 0) leftwards, an operation's inputs are spread around
    its row in argument order (first input on top), each node goes to the mean of the rows its
    uses ask for, and the places of one column are pushed apart to stand at least one row apart.
    """
    if not isinstance(root, Value):
        raise ValueError(f"draw a graph from a Value, got {type(root).__name__}")
    order = topological_order(root)  # inputs before results, root last
    steps_to_root = {id(root): 0}
    for v in reversed(order):  # results first: every use of a value is seen before the value
        for child in v._prev:
            steps_to_root[id(child)] = max(steps_to_root.get(id(child), 0), steps_to_root[id(v)] + 1)
    last = 2 * max(steps_to_root.values())
    nodes = [Node("value", v, last - 2 * steps_to_root[id(v)], 0.0) for v in order]
    nodes += [Node("op", v, last - 2 * steps_to_root[id(v)] - 1, 0.0) for v in order if v._prev]
    index = {(n.kind, id(n.value)): i for i, n in enumerate(nodes)}
    edges = []
    for v in order:
        if v._prev:
            op = index[("op", id(v))]
            for child in v._prev:
                source = index[("value", id(child))]
                bends = range(nodes[source].column + 1, nodes[op].column)
                nodes += [Node("bend", child, c, 0.0) for c in bends]
                edges.append([source, *range(len(nodes) - len(bends), len(nodes)), op])
            edges.append([op, index[("value", id(v))]])
    return GraphLayout(_assign_rows(nodes, edges), edges)


def _assign_rows(nodes: list[Node], edges: list[list[int]]) -> list[Node]:
    """Rows from the right: each place goes where its uses want it, then a column is spread out."""
    inputs: dict[int, list[int]] = {}  # node -> the nodes with an arrow segment into it, in argument order
    for chain in edges:
        for i, j in zip(chain, chain[1:]):
            inputs.setdefault(j, []).append(i)
    uses: dict[int, list[tuple[int, float]]] = {}  # node -> (user, offset from the user's row)
    for j, sources in inputs.items():
        for position, i in enumerate(sources):
            uses.setdefault(i, []).append((j, position - (len(sources) - 1) / 2))
    rows: dict[int, float] = {}
    for col in sorted({n.column for n in nodes}, reverse=True):
        members = [i for i, n in enumerate(nodes) if n.column == col]
        wanted = {i: _mean([rows[j] + offset for j, offset in uses.get(i, [])]) for i in members}
        # Ties (the last input of one operation, the first of the next) go to the upper operation's input.
        members.sort(key=lambda i: (wanted[i], min((rows[j] for j, _ in uses.get(i, [])), default=0.0)))
        placed: list[float] = []
        for i in members:  # push down whatever would stand closer than one row to the place above
            placed.append(wanted[i] if not placed else max(wanted[i], placed[-1] + 1))
        shift = _mean([wanted[i] for i in members]) - _mean(placed)  # keep the column centred where asked
        rows.update({i: r + shift for i, r in zip(members, placed)})
    top = min(rows.values())
    return [Node(n.kind, n.value, n.column, rows[i] - top) for i, n in enumerate(nodes)]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def value_label(v: Value, name: str | None = None) -> str:
    """``"data | grad"`` to 3 significant digits, under the value's name when it has one."""
    numbers = f"{v.data:.3g} | {v.grad:.3g}"
    return f"{name}\n{numbers}" if name else numbers


def op_label(op: str) -> str:
    """The operation as a reader writes it: ``*`` is ×, ``**2`` is ^2; names (tanh, relu) stay."""
    if op == "*":
        return "×"
    if op.startswith("**"):
        return "^" + op[2:].removesuffix(".0")
    return op


@dataclass(frozen=True)
class _Geometry:
    """A layout in inches at FONT_PT: label, size (w, h) and centre (x, y) of every node; the extent."""

    layout: GraphLayout
    labels: list[str]
    sizes: list[tuple[float, float]]
    centres: list[tuple[float, float]]
    width: float
    height: float
    top: float  # y of the top edge of the highest node


def _geometry(root: Value, names: Mapping[Value, str] | None) -> _Geometry:
    names = dict(names or {})
    if any(not isinstance(v, Value) or not isinstance(n, str) for v, n in names.items()):
        raise ValueError("names maps Value objects to strings, e.g. {w: 'w'}")
    layout = graph_layout(root)
    labels = [value_label(n.value, names.get(n.value)) if n.kind == "value"
              else op_label(n.value._op) if n.kind == "op" else "" for n in layout.nodes]
    sizes = [_box_size(label, n.kind) for label, n in zip(labels, layout.nodes)]
    n_cols = 1 + max(n.column for n in layout.nodes)
    col_width = [max((w for (w, _), n in zip(sizes, layout.nodes) if n.column == c), default=0.0) for c in range(n_cols)]
    tallest = max(h for _, h in sizes)
    row_pitch = tallest + ROW_GAP_IN
    # A margin all round, so the outline of an outer box is not cut off at the edge of the axes.
    x_left = [EDGE_IN + sum(col_width[:c]) + c * COLUMN_GAP_IN for c in range(n_cols)]
    centres = [(x_left[n.column] + col_width[n.column] / 2, -n.row * row_pitch) for n in layout.nodes]
    height = max(n.row for n in layout.nodes) * row_pitch + tallest + 2 * EDGE_IN
    return _Geometry(layout, labels, sizes, centres, x_left[-1] + col_width[-1] + EDGE_IN, height,
                     tallest / 2 + EDGE_IN)


def _box_size(label: str, kind: str) -> tuple[float, float]:
    """Width and height (inches at FONT_PT) of a node that holds ``label`` with a margin all round.

    A value's box is its text plus padding; an operation's oval is sqrt(2) times its padded text
    box, the smallest ellipse of that shape around the rectangle (corners included); a bend is a point.
    """
    if kind == "bend":
        return 0.0, 0.0
    lines = label.split("\n")
    width, height = max(len(line) for line in lines) * CHAR_IN, len(lines) * LINE_IN
    if kind == "op":
        return 2**0.5 * (width + PAD_IN), 2**0.5 * (height + PAD_IN / 2)
    return width + 2 * PAD_IN, height + 2 * PAD_IN


def draw_graph(root: Value, names: Mapping[Value, str] | None = None, ax: Axes | None = None,
               title: str | None = None) -> Figure:
    """Draw the graph that computed ``root``: value boxes ``data | grad``, operation ovals, arrows.

    ``names`` labels some values (``{w: "w"}``; the others show numbers only). Without ``ax`` a
    figure just large enough is made; with one, the drawing is scaled (text included) to fit it.
    Returns the figure. Patches carry a gid, "value", "op" or "edge"; node texts "value" or "op".
    """
    return draw_graphs([root], names, [title], ax=ax)


def draw_graphs(roots: Sequence[Value], names: Mapping[Value, str] | None = None,
                titles: Sequence[str | None] | None = None, ax: Axes | None = None) -> Figure:
    """Several graphs in one new figure, one under the other, all at the same scale, left-aligned.

    ``titles`` has one entry per root (None: no title). ``ax`` is accepted with a single root only.
    """
    roots = list(roots)
    titles = list(titles) if titles is not None else [None] * len(roots)
    if not roots or len(titles) != len(roots):
        raise ValueError(f"expected at least one root and one title per root, got {len(roots)} roots "
                         f"and {len(titles)} titles")
    if ax is not None and len(roots) != 1:
        raise ValueError(f"an ax holds one graph, got {len(roots)} roots")
    shapes = [_geometry(root, names) for root in roots]
    if ax is not None:
        _draw(ax, shapes[0], titles[0])
        return ax.get_figure()
    margin, title_room = 0.1, 0.3
    heights = [g.height + (title_room if t else 0) for g, t in zip(shapes, titles)]
    fig_w = max(g.width for g in shapes) + 2 * margin
    fig_h = sum(heights) + (len(shapes) + 1) * margin
    fig = Figure(figsize=(fig_w, fig_h))
    y_top = fig_h - margin
    for g, title, h in zip(shapes, titles, heights):
        y_top -= h - g.height  # the title's room above the drawing
        _draw(fig.add_axes((margin / fig_w, (y_top - g.height) / fig_h, g.width / fig_w, g.height / fig_h)), g, title)
        y_top -= g.height + margin
    return fig


def _draw(ax: Axes, g: _Geometry, title: str | None) -> None:
    """Draw geometry ``g`` on ``ax``, scaled down (text too) if the axes is smaller than the drawing."""
    fig = ax.get_figure()
    box = ax.get_position()  # the axes in figure fractions
    scale = min(1.0, box.width * fig.get_figwidth() / g.width, box.height * fig.get_figheight() / g.height)
    ax.set(xlim=(0, g.width), ylim=(g.top - g.height, g.top), aspect="equal", anchor="W")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=FONT_PT * 1.15 * max(scale, 0.8), loc="left")
    for node, label, (w, h), (x, y) in zip(g.layout.nodes, g.labels, g.sizes, g.centres):
        if node.kind == "bend":
            continue
        if node.kind == "value":
            patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                   fc=VALUE_COLOR, ec="0.25", lw=0.9, gid="value")
        else:
            patch = Ellipse((x, y), w, h, fc=OP_COLOR, ec="0.25", lw=0.9, gid="op")
        ax.add_patch(patch)
        ax.text(x, y, label, ha="center", va="center", family="DejaVu Sans Mono", fontsize=FONT_PT * scale,
                linespacing=LINE_SPACING, gid=node.kind)
    for chain in g.layout.edges:
        (x0, y0), (x1, y1) = g.centres[chain[0]], g.centres[chain[-1]]
        points = [(x0 + g.sizes[chain[0]][0] / 2, y0), *(g.centres[b] for b in chain[1:-1]),
                  (x1 - g.sizes[chain[-1]][0] / 2, y1)]  # right edge of the source, bends, left edge of the target
        ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=9 * scale, lw=0.8,
                                     color="0.35", shrinkA=0, shrinkB=1, gid="edge"))
