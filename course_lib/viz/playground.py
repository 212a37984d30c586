"""The training playground: click a network together, train it live, watch every unit learn.

    >>> pg = TrainingPlayground(dataset="spirals", hidden=(8, 8))
    >>> pg                                      # in a notebook: controls above a live figure
    >>> pg.step_button.click()                  # from Python (or a test): one frame's worth of updates
    >>> pg.lr.value = 0.1                       # every control can be set like this
    >>> pg.play(); pg.pause()                   # training in the background, on the kernel's event loop

Left: the network's output over the input plane (p(class 1), or the value in regression) with
the training points (white rims) and, optionally, the test points (black rims). Middle: a map of
the network: one small tile per unit, columns from the input features through each hidden layer
to the output, each tile the unit's output over the same plane (scaled to its own range).
Right: train and test loss against the update, with the epoch counter; below, the norm of every
layer's weights and of its last gradient.

All the computation is ``course_lib.scratch.playground.Playground`` (the course's own layer engine,
trained by the scratch optimizers): this widget only turns controls into ``configure`` calls and
moves artists. Play runs an asyncio task on the kernel's event loop: it trains
``steps_per_frame`` updates, redraws, and yields, so button clicks (pause!) and other cells are
served between frames and the kernel never locks up.
"""

from __future__ import annotations

import asyncio

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from course_lib.scratch.playground import (
    ACTIVATIONS, DATASETS, FEATURES, MAX_LAYERS, MAX_UNITS, OPTIMIZERS, PROBLEMS, REGULARIZATIONS, Config, Playground,
)
from course_lib.viz.widget import Explorer

Array = np.ndarray

LEARNING_RATES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
REG_RATES = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam"}
ACTIVATION_LABELS = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear",
                     "leaky_relu": "Leaky ReLU", "elu": "ELU"}
SURFACE_GRID, TILE_GRID, TILE_GAP = 80, 16, 4  # pixels per side: the output surface, a unit's tile, between tiles
LABEL_ROOM = 1.5 * TILE_GRID  # above the tiles, inside the map's axes: the slanted level names (the layout is frozen)
CMAP = colormaps["RdBu_r"]  # blue = class 0 / negative, red = class 1 / positive
PALE = ListedColormap(0.3 + 0.7 * CMAP(np.linspace(0.12, 0.88, 256))[:, :3])  # the surface: the points stand out on it
NORM_RANGE = (1e-4, 1e2)


def network_mosaic(maps: list[Array], tile: int = TILE_GRID, gap: int = TILE_GAP) -> Array:
    """One image of every unit's map: column k holds the units of ``maps[k]`` (units, G, G), top down.

    Each tile is scaled by its own largest |value| into [-1, 1]; the gaps are NaN (drawn blank).
    Returns (rows * (G + gap), columns * (G + gap)) with rows = the widest column.
    """
    rows = max(m.shape[0] for m in maps)
    image = np.full((rows * (tile + gap), len(maps) * (tile + gap)), np.nan)
    for k, m in enumerate(maps):
        for u in range(m.shape[0]):
            scale = np.abs(m[u]).max()
            r, c = u * (tile + gap), k * (tile + gap)
            image[r:r + tile, c:c + tile] = m[u][::-1] / scale if scale > 0 else 0.0  # row 0 = top: flip y
    return image


class TrainingPlayground(Explorer):
    """Controls (data, features, layers, training, output) over the live figure; ``model`` is the Playground.

    Drive it from Python by setting ``.value`` on ``problem``, ``dataset``, ``noise``, ``train_percent``,
    ``batch_size``, ``feature_buttons[name]``, ``units[i]``, ``activation``, ``regularization``,
    ``reg_rate``, ``lr``, ``optimizer``, ``show_test``, ``discretize``, or by clicking ``add_layer``,
    ``remove_layer``, ``step_button``, ``reset_button``, ``play_button``, ``export_button``.
    """

    def __init__(self, config: Config | None = None, steps_per_frame: int = 10,
                 figsize: tuple[float, float] = (9.5, 4.2), **settings) -> None:
        import ipywidgets as widgets

        super().__init__(figsize=figsize)
        self.model = Playground(config, **settings)
        self.steps_per_frame = int(steps_per_frame)
        self.playing = False
        self._task: asyncio.Task | None = None
        self._holding = False
        self._static_key = None
        self._build_axes()
        self._build_controls(widgets)
        self._architecture = None
        self.draw()
        self.freeze_layout()  # constrained layout would cost most of every full frame

    # --- figure ------------------------------------------------------------------------------

    def _build_axes(self) -> None:
        self.axes.remove()
        grid = self.fig.add_gridspec(2, 3, width_ratios=(1.25, 1.0, 1.05), height_ratios=(1.25, 1.0))
        self.ax_surface = self.fig.add_subplot(grid[:, 0])
        self.ax_net = self.fig.add_subplot(grid[:, 1])
        self.ax_loss = self.fig.add_subplot(grid[0, 2])
        self.ax_norms = self.fig.add_subplot(grid[1, 2])

        self.image = self.ax_surface.imshow(np.zeros((2, 2)), origin="lower", cmap=PALE, vmin=0, vmax=1,
                                            aspect="auto", interpolation="nearest")
        style = dict(s=14, cmap=CMAP, linewidths=0.6)
        self.train_points = self.ax_surface.scatter([], [], c=[], edgecolors="white", **style)
        self.test_points = self.ax_surface.scatter([], [], c=[], edgecolors="black", **style)
        self.ax_surface.set_xlabel("x₁")
        self.ax_surface.set_ylabel("x₂")

        self.mosaic = self.ax_net.imshow(np.zeros((2, 2)), cmap=CMAP, vmin=-1, vmax=1, interpolation="nearest")
        self.ax_net.set_axis_off()
        self._net_texts: list = []

        (self.train_curve,) = self.ax_loss.plot([], [], color="tab:blue", lw=1.4, label="train")
        (self.test_curve,) = self.ax_loss.plot([], [], color="tab:orange", lw=1.4, label="test")
        self.ax_loss.set_xlabel("update", fontsize=9)
        self.ax_loss.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.ax_loss.yaxis.set_major_locator(MaxNLocator(4))

        self.ax_norms.set_yscale("log")
        self.ax_norms.set_ylim(*NORM_RANGE)
        self.ax_norms.yaxis.set_major_locator(LogLocator(numticks=4))
        self.ax_norms.yaxis.set_minor_formatter(NullFormatter())
        self.ax_norms.set_title("per layer: ‖W‖ and ‖∂L/∂W‖", fontsize=9)
        self._bars: tuple = ()
        self._surface_legend = None
        self.animate(self.image, self.train_points, self.test_points, self.mosaic, self.train_curve,
                     self.test_curve)

    def _new_network_artists(self) -> None:
        """Labels of the network map and one pair of bars per layer: rebuilt when the architecture changes."""
        for text in self._net_texts:
            text.remove()
        c, step = self.model.config, TILE_GRID + TILE_GAP
        self._architecture = (c.features, c.hidden)
        columns = ["inputs", *[f"layer {i + 1}" for i in range(len(c.hidden))], "output"]
        # Slanted: with three or more hidden layers, level names would run into each other.
        self._net_texts = [self.ax_net.text(k * step + TILE_GRID / 4, -2, name, ha="left", va="bottom", fontsize=8,
                                            rotation=40, rotation_mode="anchor") for k, name in enumerate(columns)]
        self._net_texts += [self.ax_net.text(-2, u * step + TILE_GRID / 2, FEATURES[f].label, ha="right",
                                             va="center", fontsize=8) for u, f in enumerate(c.features)]
        self.ax_net.set_title("each unit's output over the plane", fontsize=9)

        for bars in self._bars:
            bars.remove()
        layers = np.arange(len(c.hidden) + 1)
        self._bars = (self.ax_norms.bar(layers - 0.2, np.ones(len(layers)), width=0.4, color="0.45", label="‖W‖"),
                      self.ax_norms.bar(layers + 0.2, np.ones(len(layers)), width=0.4, color="tab:green",
                                        label="‖∂L/∂W‖"))
        for bars in self._bars:
            for bar in bars:
                bar.set_animated(True)
                self._moving.append(bar)
        self._moving = [a for a in self._moving if a.axes is not None]  # forget the removed bars
        self.ax_norms.set_xticks(layers, [f"{i + 1}" if i < len(c.hidden) else "out" for i in layers], fontsize=8)
        self.ax_norms.set_xlim(-0.6, len(layers) - 0.4)
        self.ax_norms.set_xlabel("weight layer", fontsize=9)
        self._static_key = None

    def draw(self) -> None:
        """Move every artist to the model's current state and repaint (blitting when nothing static changed)."""
        m, c = self.model, self.model.config
        if self._architecture != (c.features, c.hidden):
            self._new_network_artists()
        classify = c.problem == "classification"
        low = 0.0 if classify else -1.0
        x0, x1, y0, y1 = m.extent
        _, _, values = m.surface(SURFACE_GRID, discretize=self.discretize.value)
        self.image.set_data(values)
        self.image.set_extent(m.extent)
        self.image.set_clim(low, 1.0)
        # points are coloured by their target on the surface's scale; pale so the surface shows through
        for points, X, y in ((self.train_points, m.X_train, m.y_train), (self.test_points, m.X_test, m.y_test)):
            points.set_offsets(X)
            points.set_array(np.asarray(y, dtype=np.float64))
            points.set_clim(low, 1.0)
        self.test_points.set_visible(self.show_test.value)
        self.mosaic.set_data(network_mosaic(m.neuron_maps(TILE_GRID)))

        steps = np.arange(len(m.train_loss))
        self.train_curve.set_data(steps, m.train_loss)
        self.test_curve.set_data(steps, m.test_loss)
        # The counter is a widget, not figure text: text is the slowest artist to render per frame.
        self.status.value = (f"<b>epoch {m.epoch}</b> &nbsp; update {m.steps} &nbsp; "
                             f"train loss {m.train_loss[-1]:.3f} &nbsp; test loss {m.test_loss[-1]:.3f}")
        for bars, values in zip(self._bars, zip(*m.layer_norms())):
            for bar, v in zip(bars, values):
                bar.set_height(float(np.clip(v, *NORM_RANGE)))

        key = (m.extent, c.problem, c.features, c.hidden, self.show_test.value, *self._loss_limits())
        if key != self._static_key:
            self._static_key = key
            self._set_static(x0, x1, y0, y1, classify)
            self.redraw()
        else:
            self.redraw(full=False)

    def _loss_limits(self) -> tuple[int, float]:
        """The loss axis: updates up to the next power of 2 (>= 64), loss up to the first value seen, padded.

        Kept until the curves leave them, so most frames blit instead of redrawing every tick.
        """
        m = self.model
        last = self._static_key[-2:] if self._static_key else (64, 0.0)
        x_max = last[0] if m.steps <= last[0] else int(2 ** np.ceil(np.log2(m.steps)))
        losses = np.concatenate([m.train_loss, m.test_loss])
        highest = float(losses[np.isfinite(losses)].max(initial=1.0))
        y_max = last[1] if 0 < highest <= last[1] else 1.15 * highest
        return x_max, y_max

    def _set_static(self, x0: float, x1: float, y0: float, y1: float, classify: bool) -> None:
        c = self.model.config
        self.ax_surface.set_xlim(x0, x1)
        self.ax_surface.set_ylim(y0, y1)
        what = "p(class 1)" if classify else "predicted value"
        self.ax_surface.set_title(f"{c.dataset}: {what}", fontsize=10)
        handles = [Line2D([], [], ls="", marker="o", mfc="0.55", mec=edge, label=f"{label}")
                   for edge, label in (("white", "train"), ("black", "test"))[:1 + self.show_test.value]]
        self._moving = [a for a in self._moving if a is not self._surface_legend]
        # Moving, though it never moves: the surface is, and a static legend would lie under it.
        self._surface_legend = self.ax_surface.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.8)
        self.animate(self._surface_legend)
        rows = max(len(c.features), *c.hidden, 1)
        step = TILE_GRID + TILE_GAP
        self.mosaic.set_extent((-0.5, (len(c.hidden) + 2) * step - 0.5, rows * step - 0.5, -0.5))
        self.ax_net.set_xlim(-0.5 - 2.5 * TILE_GRID, (len(c.hidden) + 2) * step)
        self.ax_net.set_ylim(max(rows, 4) * step, -0.5 - LABEL_ROOM)
        x_max, y_max = self._static_key[-2:]
        self.ax_loss.set_xlim(0, x_max)
        self.ax_loss.set_ylim(0, y_max)
        self.ax_loss.set_ylabel("cross-entropy" if classify else "mean squared error", fontsize=9)
        self.ax_loss.legend(loc="center right", fontsize=7)
        self.ax_norms.legend(handles=list(self._bars), loc="upper left", fontsize=7, ncols=2)

    # --- controls ----------------------------------------------------------------------------

    def _build_controls(self, widgets) -> None:
        c = self.model.config
        narrow, style = widgets.Layout(width="230px"), {"description_width": "75px"}

        def dropdown(options, value, description):
            return widgets.Dropdown(options=options, value=value, description=description, layout=narrow, style=style)

        self.problem = dropdown(list(PROBLEMS), c.problem, "problem")
        self.dataset = dropdown(list(DATASETS[c.problem]), c.dataset, "data")
        self.noise = widgets.FloatSlider(value=c.noise, min=0.0, max=0.5, step=0.05, description="noise",
                                         continuous_update=False, layout=narrow, style=style)
        self.train_percent = widgets.IntSlider(value=round(100 * c.train_fraction), min=10, max=90, step=10,
                                               description="train %", continuous_update=False, layout=narrow,
                                               style=style)
        self.batch_size = widgets.IntSlider(value=c.batch_size, min=1, max=50, description="batch size",
                                            continuous_update=False, layout=narrow, style=style)
        self.feature_buttons = {name: widgets.ToggleButton(value=name in c.features, description=f.label,
                                                           layout=widgets.Layout(width="64px"))
                                for name, f in FEATURES.items()}
        self.add_layer = widgets.Button(description="+ layer", layout=widgets.Layout(width="80px"))
        self.remove_layer = widgets.Button(description="− layer", layout=widgets.Layout(width="80px"))
        self.units_box = widgets.HBox()
        self.units: list = []
        self.activation = dropdown([(ACTIVATION_LABELS[a], a) for a in ACTIVATIONS], c.activation, "activation")
        self.lr = dropdown(_with(LEARNING_RATES, c.lr), c.lr, "learning rate")
        self.optimizer = dropdown([(OPTIMIZER_LABELS[o], o) for o in OPTIMIZERS], c.optimizer, "optimizer")
        self.regularization = dropdown([(r if r == "none" else r.upper(), r) for r in REGULARIZATIONS],
                                       c.regularization, "penalty")
        self.reg_rate = dropdown(_with(REG_RATES, c.reg_rate), c.reg_rate, "penalty rate")
        self.show_test = widgets.Checkbox(value=False, description="show test data", indent=False)
        self.discretize = widgets.Checkbox(value=False, description="discretize output", indent=False)
        self.play_button = widgets.Button(description="▶ play", button_style="success", layout=widgets.Layout(width="90px"))
        self.step_button = widgets.Button(description="step", layout=widgets.Layout(width="70px"))
        self.reset_button = widgets.Button(description="reset", layout=widgets.Layout(width="70px"))
        self.export_button = widgets.Button(description="export as code", layout=widgets.Layout(width="130px"))
        self.status = widgets.HTML()
        self.code = widgets.Textarea(layout=widgets.Layout(width="100%", height="0px", display="none"))
        self._set_unit_controls()

        self.play_button.on_click(lambda _: self.pause() if self.playing else self.play())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.export_button.on_click(lambda _: self.export())
        self.add_layer.on_click(lambda _: self._change_layers(+1))
        self.remove_layer.on_click(lambda _: self._change_layers(-1))
        self.problem.observe(self._on_problem, names="value")
        for control, name in ((self.dataset, "dataset"), (self.activation, "activation"), (self.lr, "lr"),
                              (self.optimizer, "optimizer"), (self.regularization, "regularization"),
                              (self.reg_rate, "reg_rate"), (self.noise, "noise"), (self.batch_size, "batch_size")):
            control.observe(lambda change, name=name: self._set(**{name: change["new"]}), names="value")
        self.train_percent.observe(lambda change: self._set(train_fraction=change["new"] / 100), names="value")
        for button in self.feature_buttons.values():
            button.observe(self._on_features, names="value")
        for box in (self.show_test, self.discretize):
            box.observe(lambda _: self.draw(), names="value")

        def column(title, *children):
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *children])

        features = widgets.VBox([widgets.HBox(list(self.feature_buttons.values())[i:i + 2]) for i in range(0, 7, 2)])
        controls = widgets.HBox([
            column("data", self.problem, self.dataset, self.noise, self.train_percent, self.batch_size),
            column("features", features),
            column("hidden layers", widgets.HBox([self.add_layer, self.remove_layer]), self.units_box, self.activation),
            column("training", self.lr, self.optimizer, self.regularization, self.reg_rate),
        ])
        buttons = widgets.HBox([self.play_button, self.step_button, self.reset_button, self.show_test,
                                self.discretize, self.export_button, self.status])
        self.assemble([controls, buttons])
        self.widget.children = (*self.widget.children, self.code)

    def _set_unit_controls(self) -> None:
        import ipywidgets as widgets

        self.units = [widgets.BoundedIntText(value=h, min=1, max=MAX_UNITS, layout=widgets.Layout(width="52px"))
                      for h in self.model.config.hidden]
        for box in self.units:
            box.observe(lambda _: self._set(hidden=tuple(b.value for b in self.units)), names="value")
        self.units_box.children = [widgets.HTML("units:" if self.units else "no hidden layer"), *self.units]
        self.add_layer.disabled = len(self.units) >= MAX_LAYERS
        self.remove_layer.disabled = not self.units

    def _set(self, **changes) -> None:
        """Hand changed settings to the model and show the result (the model resets when it must)."""
        if self._holding:
            return
        self.model.configure(**changes)
        self.draw()

    def _on_problem(self, change: dict) -> None:
        self._holding = True  # the data set list changes with the problem: one reset, not two
        self.dataset.options = list(DATASETS[change["new"]])
        self.dataset.value = DATASETS[change["new"]][0]
        self._holding = False
        self._set(problem=change["new"], dataset=self.dataset.value)

    def _on_features(self, change: dict) -> None:
        chosen = tuple(name for name, button in self.feature_buttons.items() if button.value)
        if not chosen:  # a network needs an input: refuse to turn the last one off
            change["owner"].value = True
            return
        self._set(features=chosen)

    def _change_layers(self, delta: int) -> None:
        hidden = self.model.config.hidden
        hidden = (*hidden, hidden[-1] if hidden else 4) if delta > 0 else hidden[:-1]
        self.model.configure(hidden=hidden)
        self._set_unit_controls()
        self.draw()

    # --- actions -----------------------------------------------------------------------------

    def step(self, n: int | None = None) -> None:
        """Train ``n`` updates (default ``steps_per_frame``) and show the result."""
        self.model.step(self.steps_per_frame if n is None else n)
        self.draw()

    def reset(self) -> None:
        """Start the same run again: the seeded initial weights, update 0, and the first frame's loss axis."""
        self.model.reset()
        self._static_key = None  # the loss axis grew with the run: start it again at 64 updates
        self.draw()

    def export(self) -> str:
        """Show (and return) the current configuration as a ``course_lib`` script that replays this run."""
        self.code.value = self.model.to_code()
        self.code.layout.display, self.code.layout.height = None, "320px"
        return self.code.value

    def play(self) -> asyncio.Task:
        """Train in the background: a task on the running event loop (a Jupyter kernel's), chunk by chunk."""
        if self.playing and self._task is not None and not self._task.done():
            return self._task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("play() needs a running asyncio event loop (a Jupyter kernel has one); "
                               "outside one, call step(n)") from None
        self.playing = True
        self.play_button.description, self.play_button.button_style = "⏸ pause", "warning"
        self._task = loop.create_task(self._run())
        return self._task

    def pause(self) -> None:
        """Stop after the current chunk: the task sees the flag and ends."""
        self.playing = False
        self.play_button.description, self.play_button.button_style = "▶ play", "success"

    async def _run(self) -> None:
        try:
            while self.playing:
                self.step()
                await asyncio.sleep(0.001)  # hand the loop back: widget messages (pause) are served here
        finally:
            self.pause()

def _with(options: tuple[float, ...], value: float) -> list[float]:
    """The dropdown's options, with ``value`` added in order when the config asks for another one."""
    return sorted(set(options) | {value})
