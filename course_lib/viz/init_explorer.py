"""The initialization explorer: a deep MLP's activations and gradients, layer by layer, live.

    >>> explorer = InitExplorer()               # 10 layers of 500 tanh units, Xavier init
    >>> explorer                                # in a notebook: five controls above three panels
    >>> explorer.init.value = "std 1.0"         # every panel follows

Left: one histogram per hidden layer l = 1..L of its outputs h_l (a ridge plot, layer 1 at the
bottom). Middle: the same for the gradients dL/dh_l that the backward pass brings to each layer.
Right: the std of both per layer, on a log axis: a healthy network keeps both lines flat.
All layers of a panel share their bins, so a collapsing layer shows as a spike at 0, not as a
rescaled copy of a healthy one. Each ridge is scaled to its own tallest bin; for ReLU the bin
at 0 (half of all outputs are exactly 0) is cut off at the ridge's height so the rest shows.

The computation is ``scratch.init_explorer.explore`` (one forward and backward pass of the
scratch layers, tested on its own); the widget keeps its results per setting and only moves
lines, so a setting seen before comes back at the cost of a frame. A new setting costs a pass
(at depth 10 and width 500, 20 products of 500 x 500 matrices: more than a frame's budget on a
laptop), so while the student looks at a frame, a background thread computes the settings one
step away from it, the control moved last first: the next key press usually finds its pass done.
"""

from __future__ import annotations

import functools
import queue
import threading
from concurrent.futures import Future

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from course_lib.scratch.init_explorer import ACTIVATIONS, ExplorerData, explore
from course_lib.viz.widget import Explorer

Array = np.ndarray

MAX_DEPTH = 20
WIDTHS = (10, 25, 50, 100, 250, 500)
SCHEMES = {"std 0.01": "std 0.01", "std 1.0": "std 1.0", "Xavier": "xavier", "He": "he"}  # label: explore's name
ACTIVATION_LABELS = {"tanh": "tanh", "ReLU": "relu", "sigmoid": "sigmoid"}
RIDGE_HEIGHT = 0.9  # of the distance between two layers' baselines: ridges never touch


class InitExplorer(Explorer):
    """Depth, width, activation, init scheme and batch norm; histograms and stds per layer follow.

    Drive ``depth``, ``width``, ``activation``, ``init``, ``batch_norm`` from Python (values as
    ``explore`` takes them: ``init.value = "he"``, ``activation.value = "relu"``); read ``data``
    (the ``ExplorerData`` drawn) and the artists ``act_ridges``, ``grad_ridges``, ``act_std_line``,
    ``grad_std_line``.
    """

    def __init__(self, depth: int = 10, width: int = 500, activation: str = "tanh", init: str = "xavier",
                 batch_norm: bool = False, batch: int = 500, bins: int = 40,
                 figsize: tuple[float, float] = (9.5, 3.4)) -> None:
        import ipywidgets as widgets

        _check_setting(depth, width, activation, init, batch_norm)
        self.batch, self.bins = batch, bins
        explore_cached(depth, width, activation, init, batch_norm, batch, bins)  # a bad batch or bins fails here
        super().__init__(figsize=figsize, ncols=3)
        self.ax_act, self.ax_grad, self.ax_std = self.axes
        self.ax_grad.sharey(self.ax_act)  # the same layers: one set of labels, on the left
        self.ax_grad.tick_params(labelleft=False)
        self.depth = widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth",
                                       continuous_update=False)
        self.width = widgets.SelectionSlider(options=WIDTHS, value=width, description="width",
                                             continuous_update=False)
        self.init = widgets.SelectionSlider(options=list(SCHEMES.items()), value=init, description="init",
                                            continuous_update=False)
        self.activation = widgets.ToggleButtons(options=list(ACTIVATION_LABELS.items()), value=activation,
                                                description="activation", style={"button_width": "70px"})
        self.batch_norm = widgets.Checkbox(value=batch_norm, description="batch norm", indent=False)

        # One LineCollection per panel (a line per layer, painted in one call: 20 Line2D cost 4x more).
        # Colour runs with depth, input side dark: the same layer has the same colour in both panels.
        self.colors = colormaps["viridis"](np.linspace(0.0, 0.85, MAX_DEPTH))
        self.act_ridges = self.ax_act.add_collection(LineCollection([], linewidths=1.2))
        self.grad_ridges = self.ax_grad.add_collection(LineCollection([], linewidths=1.2))
        (self.act_std_line,) = self.ax_std.semilogy([], [], "o-", ms=3, color="tab:blue", label="activations $h_l$")
        (self.grad_std_line,) = self.ax_std.semilogy([], [], "s-", ms=3, color="tab:red",
                                                     label=r"gradients $\partial L/\partial h_l$")
        self._label()
        self.update()
        self.freeze_layout()
        self._pin_axis_labels()
        # Every change moves the ridges, the std lines, the axes' ranges (bins and stds follow the
        # setting), the titles that name the activation and quote saturation, and the legend (placed
        # where the lines are not): all of it is painted over a background of frames and axis labels,
        # so no control renders the whole figure again.
        self.animate(self.act_ridges, self.grad_ridges, self.act_std_line, self.grad_std_line,
                     self.ax_act.title, self.ax_std.title, self.legend)
        for ax in self.axes:
            self.animate(ax.xaxis, ax.yaxis)
        for control in (self.depth, self.width, self.init, self.activation, self.batch_norm):
            control.observe(functools.partial(self._on_change, control), names="value")
        self.assemble([widgets.HBox([widgets.VBox([self.depth, self.width, self.init]),
                                     widgets.VBox([self.activation, self.batch_norm])])])

    def _label(self) -> None:
        self.ax_act.set(xlabel="value of $h_l$", ylabel="layer (1 = input side)")
        self.ax_grad.set_title(r"gradients $\partial L/\partial h_l$", fontsize=10)
        self.ax_grad.set(xlabel=r"value of $\partial L/\partial h_l$")
        self.ax_std.set(xlabel="layer (1 = input side)", ylabel="std")
        self.legend = self.ax_std.legend(fontsize=8, loc="best")  # animated: it moves out of the lines' way
        for ax in self.axes:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3))  # few labels: each is painted on every change
        for ax in (self.ax_act, self.ax_grad):  # gradients can be 1e-9 or 1e5: powers of ten, not long decimals
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
        self.ax_std.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # layers are whole
        # Decades only: the axis is painted on every change, and each minor tick costs time.
        self.ax_std.yaxis.set_major_locator(LogLocator(numticks=6))
        self.ax_std.yaxis.set_minor_locator(NullLocator())

    def _pin_axis_labels(self) -> None:
        """Keep each axis label where the layout put it.

        A label left to matplotlib is placed anew on each paint of its axis, after measuring every
        tick label (a fifth of a frame here); pinned, the axis only paints.
        """
        for ax in self.axes:
            for axis in (ax.xaxis, ax.yaxis):
                label = axis.label
                where = label.get_transform().transform(label.get_position())  # display pixels
                axis.set_label_coords(*ax.transAxes.inverted().transform(where))

    def _on_change(self, control, _change: dict) -> None:
        self._moved = control
        self.update()

    def setting(self) -> tuple[int, int, str, str, bool]:
        """(depth, width, activation, init, batch_norm) as the controls stand, in ``explore``'s terms."""
        return (self.depth.value, self.width.value, self.activation.value, self.init.value,
                self.batch_norm.value)

    def update(self) -> None:
        """Recompute (or fetch) the current setting's pass and move every artist to it."""
        depth, _, activation, _, _ = setting = self.setting()
        self.data = data = fetch(setting + (self.batch, self.bins))
        layers = np.arange(1, depth + 1)
        cut_zero_bin = activation == "relu"
        for ridges, counts, edges in ((self.act_ridges, data.act_counts, data.act_edges),
                                      (self.grad_ridges, data.grad_counts, data.grad_edges)):
            heights = ridge_heights(counts, cut_zero_bin=cut_zero_bin and ridges is self.act_ridges)
            centers = np.broadcast_to((edges[:-1] + edges[1:]) / 2, heights.shape)
            # (L, B, 2): ridge l is the polyline (bin centre, l + its scaled height)
            ridges.set_segments(np.stack([centers, layers[:, None] + RIDGE_HEIGHT * heights], axis=-1))
            ridges.set_color(self.colors[:depth])
            ridges.axes.set_xlim(edges[0], edges[-1])
        self.ax_act.set_ylim(0.7, depth + 1)  # shared with the gradients' panel
        act_std, grad_std = np.maximum(data.act_std, 1e-30), np.maximum(data.grad_std, 1e-30)  # log axis: no 0
        self.act_std_line.set_data(layers, act_std)
        self.grad_std_line.set_data(layers, grad_std)
        both = np.concatenate([act_std, grad_std])
        self.ax_std.set(xlim=(0.5, depth + 0.5), ylim=(both.min() / 3, both.max() * 3))
        self.ax_act.set_title(f"{activation} outputs $h_l$", fontsize=10)
        self.ax_std.set_title(f"std per layer · layer {depth}: {_health(data, activation)}", fontsize=10)
        self.redraw(full=False)
        if self._live:  # a student is looking (not a notebook run without a browser): guess the next step
            prefetch([key + (self.batch, self.bins) for key in self.neighbours()])  # after the frame went out

    def neighbours(self) -> list[tuple[int, int, str, str, bool]]:
        """The settings one step of one control away, those of the control moved last first."""
        depth, width, activation, init, batch_norm = self.setting()
        steps = {
            self.depth: [(d, width, activation, init, batch_norm) for d in (depth + 1, depth - 1) if 1 <= d <= MAX_DEPTH],
            self.init: [(depth, width, activation, i, batch_norm) for i in _adjacent(list(SCHEMES.values()), init)],
            self.width: [(depth, w, activation, init, batch_norm) for w in _adjacent(WIDTHS, width)],
            self.batch_norm: [(depth, width, activation, init, not batch_norm)],
            self.activation: [(depth, width, a, init, batch_norm) for a in ACTIVATION_LABELS.values() if a != activation],
        }
        moved = getattr(self, "_moved", self.depth)
        return steps[moved] + [key for control, keys in steps.items() if control is not moved for key in keys]


def ridge_heights(counts: Array, cut_zero_bin: bool = False) -> Array:
    """Counts (L, B) scaled per layer to [0, 1]: each layer's tallest bin reaches 1.

    With ``cut_zero_bin`` the first bin (ReLU's exact zeros: about half of all outputs) does not
    set the scale, and is clipped at 1; a layer with nothing outside it keeps its spike.
    """
    counts = np.asarray(counts, dtype=np.float64)
    scale = counts.max(axis=1, keepdims=True)
    if cut_zero_bin and counts.shape[1] > 1:
        rest = counts[:, 1:].max(axis=1, keepdims=True)
        scale = np.where(rest > 0, rest, scale)
    return np.minimum(counts / np.maximum(scale, 1), 1.0)


def _health(data: ExplorerData, activation: str) -> str:
    """The last layer's warning sign: saturated units (tanh, sigmoid) or dead units (ReLU)."""
    if activation == "relu":
        return f"{data.dead[-1]:.0%} dead units"
    return f"{data.saturated[-1]:.0%} saturated"


def _check_setting(depth: int, width: int, activation: str, init: str, batch_norm: bool) -> None:
    """The explorer's controls offer these values only: anything else is a ValueError naming the range."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be an integer in [1, {MAX_DEPTH}], got {depth!r}")
    if width not in WIDTHS or isinstance(width, bool):
        raise ValueError(f"width must be one of {WIDTHS}, got {width!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if init not in SCHEMES.values():
        raise ValueError(f"init must be one of {list(SCHEMES.values())}, got {init!r}")
    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}")


def _adjacent(options, value) -> list:
    """The options just after and just before ``value`` (as a slider's arrow keys reach them)."""
    i = list(options).index(value)
    return [options[j] for j in (i + 1, i - 1) if 0 <= j < len(options)]


# One background thread: NumPy's matrix products release the GIL, so it runs beside the kernel
# without holding up the widgets; a single worker keeps the frame that the student asked for from
# competing with more than one guess. A daemon: a kernel that shuts down does not wait for guesses.
_todo: queue.SimpleQueue[tuple[tuple, Future]] = queue.SimpleQueue()
_queued: dict[tuple, Future] = {}
_worker: threading.Thread | None = None


def _work() -> None:
    while True:
        key, future = _todo.get()
        if future.set_running_or_notify_cancel():  # False: cancelled while it waited
            try:
                future.set_result(explore_cached(*key))
            except Exception as error:  # kept for whoever asks for this setting
                future.set_exception(error)


def _submit(key: tuple) -> Future:
    global _worker
    if _worker is None:
        _worker = threading.Thread(target=_work, name="init-explorer-prefetch", daemon=True)
        _worker.start()
    future: Future = Future()
    _todo.put((key, future))
    return future


def fetch(key: tuple) -> ExplorerData:
    """``explore_cached(*key)``: kept, waited for if a prefetch is computing it, else computed now."""
    future = _queued.pop(key, None)
    if future is not None and not future.cancel():  # started (or done): its result is the quickest
        return future.result()
    return explore_cached(*key)


def prefetch(keys: list[tuple]) -> None:
    """Queue ``explore_cached(*key)`` for each key in order; guesses no longer wanted are dropped."""
    for key, future in list(_queued.items()):
        if future.done() or (key not in keys and future.cancel()):
            del _queued[key]
    for key in keys:
        if key not in _queued:
            _queued[key] = _submit(key)


def settle() -> None:
    """Wait until every queued prefetch has finished (tests and benchmarks start from a quiet explorer)."""
    for future in list(_queued.values()):
        if not future.cancelled():
            future.exception()  # waits; a failing setting fails again when it is asked for


def forget() -> None:
    """Drop every pass computed so far, kept or prefetched: the next setting shown is computed anew."""
    settle()
    _queued.clear()
    explore_cached.cache_clear()


@functools.lru_cache(maxsize=256)
def explore_cached(depth: int, width: int, activation: str, init: str, batch_norm: bool, batch: int,
             bins: int) -> ExplorerData:
    """``explore`` for one setting, kept: a student goes back and forth between a few settings.

    float32: the pass is matrix products, twice as fast in single precision, and a histogram
    does not need more digits. Each result is a few kilobytes of histograms.
    """
    return explore(depth, width, activation, init, batch_norm, batch=batch, bins=bins, dtype=np.float32)
