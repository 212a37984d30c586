"""The loss-surface explorer: optimizers racing on 2-D surfaces, trajectories and loss curves.

    >>> explorer = LossSurfaceExplorer()
    >>> explorer.widget                        # in a notebook: controls above a live figure
    >>> explorer.lr.value = 0.15               # from Python (or a test): trajectories follow

Left: contours of the surface with one trajectory per optimizer. Right: loss against step.
Click the contour plot to start from there. On the quadratic, the readout compares lr with
1/lambda_max (the best step for the stiffest direction) and 2/lambda_max (divergence above).

``trajectories`` holds the computation: it runs the course's own optimizers
(``course_lib.scratch.optim``) on the surface's exact gradient (``course_lib.scratch.surfaces``), so the paths are those
``torch.optim`` would take. The optimizers step in lockstep, sharing one batched gradient
call per step. The widget only wires controls to it and updates artists in place; the contour
is redrawn only when the surface changes.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from course_lib.scratch.optim import SGD, Adagrad, Adam, Optimizer, RMSprop
from course_lib.scratch.parameter import Parameter
from course_lib.scratch.surfaces import SURFACES, Surface
from course_lib.viz.widget import Explorer

Array = np.ndarray

METHODS = ("SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")
COLORS = dict(zip(METHODS, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")))
DIVERGED = 1e6  # |w| beyond this counts as divergence: the rest of the path is NaN


def make_optimizer(method: str, w: Parameter, lr: float, momentum: float = 0.9,
                   betas: tuple[float, float] = (0.9, 0.999)) -> Optimizer:
    """One of ``METHODS`` on the parameter w (2,); ``momentum`` also serves as Adam's beta1 via ``betas``."""
    if method == "SGD":
        return SGD([w], lr=lr)
    if method == "Momentum":
        return SGD([w], lr=lr, momentum=momentum)
    if method == "Nesterov":
        return SGD([w], lr=lr, momentum=momentum, nesterov=True)
    if method == "Adagrad":
        return Adagrad([w], lr=lr)
    if method == "RMSprop":
        return RMSprop([w], lr=lr, alpha=betas[1])
    if method == "Adam":
        return Adam([w], lr=lr, betas=betas)
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def trajectories(surface: Surface, methods: tuple[str, ...], lr: float, start: Array, steps: int,
                 momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999)) -> dict[str, tuple[Array, Array]]:
    """Run every method for ``steps`` updates from ``start`` (2,): {method: (path (steps+1, 2), f along it (steps+1,))}.

    The optimizers advance in lockstep: their points are the rows of one array W (K, 2), each row
    wrapped in a ``Parameter`` (a view: no copy), so each step asks the surface for all K gradients
    in one call, hands row k's gradient to parameter k and lets each optimizer update its own row
    in place. After divergence (|w| > 1e6 or a non-finite value) a path's remaining entries are NaN.
    """
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (2,):
        raise ValueError(f"start must have shape (2,), got {start.shape}")
    if int(steps) < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    methods, steps = tuple(dict.fromkeys(methods)), int(steps)  # each method once
    W = np.tile(start, (len(methods), 1))
    params = [Parameter(W[k]) for k in range(len(methods))]  # W[k] is a view: updates land in W
    optimizers = [make_optimizer(m, p, lr, momentum, betas) for m, p in zip(methods, params)]
    paths, losses = np.empty((len(methods), steps + 1, 2)), np.empty((len(methods), steps + 1))
    with np.errstate(all="ignore"):  # a diverging run overflows to inf and NaN; it is cut below
        for t in range(steps + 1):
            paths[:, t] = W
            losses[:, t], grads = surface.value_and_grad(W)  # one call for every optimizer
            if t < steps:
                for optimizer, p, g in zip(optimizers, params, grads):
                    p.grad = g
                    optimizer.step()
        diverged = ~np.isfinite(paths).all(axis=-1) | (np.abs(paths).max(axis=-1) > DIVERGED)  # (K, steps+1)
    cut = np.maximum.accumulate(diverged, axis=1)  # from the first divergence on
    paths[cut], losses[cut] = np.nan, np.nan
    return {m: (paths[k], losses[k]) for k, m in enumerate(methods)}


def trajectory(surface: Surface, method: str, lr: float, start: Array, steps: int, momentum: float = 0.9,
               betas: tuple[float, float] = (0.9, 0.999)) -> tuple[Array, Array]:
    """One method's path (steps+1, 2) and f along it (steps+1,): ``trajectories`` for a single method."""
    return trajectories(surface, (method,), lr, start, steps, momentum, betas)[method]


def lr_readout(surface: Surface, lr: float) -> str:
    """A sentence placing lr against 1/mu_max and 2/mu_max (mu: the Hessian's eigenvalues) on a quadratic surface."""
    if surface.hessian is None:
        return f"<b>{surface.name}</b>: f = {surface.formula}. lr = {lr:.3g}."
    mu_max = float(np.linalg.eigvalsh(surface.hessian).max())
    verdict = "converges" if lr < 2 / mu_max else "diverges"
    return (f"<b>{surface.name}</b>: f = {surface.formula}. lr = {lr:.3g}; μ_max = {mu_max:g}, "
            f"1/μ_max = {1 / mu_max:.3g} (best step for the stiff direction), "
            f"2/μ_max = {2 / mu_max:.3g} (plain GD {verdict}: lr·μ_max = {lr * mu_max:.2f})")


def divergence_hint(losses: dict[str, Array]) -> str:
    """A warning naming each method whose loss (steps+1,) went NaN (diverged) and at which step; "" when none did.

    A surface keeps the lr chosen for the last one, which can be far too large for it: without a
    word the diverged paths would just vanish from the plot.
    """
    diverged = {m: int(np.argmax(np.isnan(loss))) for m, loss in losses.items() if np.isnan(loss).any()}
    if not diverged:
        return ""
    which = ", ".join(f"{m} at step {step}" for m, step in diverged.items())
    return f"<br><b style='color:#b00000'>diverged: {which}</b>: lower lr (slider to the left)."


class LossSurfaceExplorer(Explorer):
    """Controls (surface, optimizers, lr, momentum/beta1, beta2, steps, start) and a live figure.

    Drive it from Python by setting ``.value`` on ``surface``, ``methods``, ``lr``, ``momentum``,
    ``beta2``, ``steps``, ``start_x``, ``start_y``; read ``lines``/``curves`` (artists per method),
    ``paths``/``losses`` (the last computed data) and ``contour`` (the current ContourSet).
    """

    def __init__(self, surface: str = "quadratic", methods: tuple[str, ...] = ("SGD", "Momentum", "Adam"),
                 lr: float = 0.05, steps: int = 100, figsize: tuple[float, float] = (9.0, 3.6)) -> None:
        import ipywidgets as widgets

        super().__init__(figsize=figsize, ncols=2)
        self.ax_surface, self.ax_loss = self.axes
        self._surfaces: dict[str, Surface] = {}
        layout = widgets.Layout(width="330px")
        style = {"description_width": "115px"}  # wide enough for "momentum / β₁" in a notebook's font
        self.surface = widgets.Dropdown(options=list(SURFACES), value=surface, description="surface",
                                        layout=layout, style=style)
        self.methods = widgets.SelectMultiple(options=METHODS, value=tuple(methods), description="optimizers",
                                              rows=6, layout=layout, style=style)
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.02, description="lr",
                                         readout_format=".3g", layout=layout, style=style)
        self.momentum = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum / β₁",
                                            layout=layout, style=style)
        self.beta2 = widgets.FloatSlider(value=0.999, min=0.8, max=0.9999, step=0.0001, readout_format=".4f",
                                         description="β₂ / α", layout=layout, style=style)
        self.steps = widgets.IntSlider(value=steps, min=1, max=500, description="steps", layout=layout, style=style)
        self.start_x = widgets.FloatSlider(description="start x", layout=layout, style=style, step=0.01)
        self.start_y = widgets.FloatSlider(description="start y", layout=layout, style=style, step=0.01)
        self.readout = widgets.HTML()

        self.contour = self.image = None
        self.lines = {m: self.ax_surface.plot([], [], ".-", ms=3, lw=1.2, color=COLORS[m], label=m)[0] for m in METHODS}
        self.curves = {m: self.ax_loss.plot([], [], lw=1.5, color=COLORS[m], label=m)[0] for m in METHODS}
        (self.start_marker,) = self.ax_surface.plot([], [], "o", color="k", ms=6, zorder=5)
        (self.minimum_marker,) = self.ax_surface.plot([], [], "*", color="gold", mec="k", ms=12, zorder=5)
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_title("loss along the path", fontsize=10)
        self.ax_loss.set_yscale("log")
        self.ax_loss.yaxis.set_major_locator(LogLocator(numticks=5))  # few labels: text is the slow part
        self.ax_loss.yaxis.set_minor_formatter(NullFormatter())
        self.ax_loss.xaxis.set_major_locator(MaxNLocator(5))
        self.paths: dict[str, Array] = {}
        self.losses: dict[str, Array] = {}
        self._holding = False
        # Blitting: the moving artists are drawn on top of a saved background (axes, ticks, image,
        # contours), so a control change repaints a few lines instead of the whole figure. The
        # step axis (it follows the steps slider) and the legend (the optimizers) move too.
        self.animate(*self.lines.values(), *self.curves.values(), self.start_marker, self.ax_loss.xaxis)
        self.legend = None
        self._static_key = None
        self._set_surface()
        self.freeze_layout()  # constrained layout would cost half of every frame

        for control in (self.methods, self.lr, self.momentum, self.beta2, self.steps, self.start_x, self.start_y):
            control.observe(self._on_change, names="value")
        self.surface.observe(self._on_surface, names="value")
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)
        # Controls in two columns above the figure: side by side they would squeeze a notebook-wide canvas.
        controls = widgets.HBox([widgets.VBox([self.surface, self.methods]),
                                 widgets.VBox([self.lr, self.momentum, self.beta2, self.steps, self.start_x, self.start_y])])
        self.assemble([controls, self.readout])

    # --- state -----------------------------------------------------------------------------

    @property
    def current(self) -> Surface:
        """The selected Surface (built once, then cached: the net surface trains a network)."""
        name = self.surface.value
        if name not in self._surfaces:
            self._surfaces[name] = SURFACES[name]()
        return self._surfaces[name]

    def _set_surface(self) -> None:
        s = self.current
        x_lo, x_hi, y_lo, y_hi = s.extent
        self._holding = True  # moving both start sliders must trigger a single update
        for slider, lo, hi, value in ((self.start_x, x_lo, x_hi, s.start[0]), (self.start_y, y_lo, y_hi, s.start[1])):
            slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)
            slider.value = value
            slider.min, slider.max = lo, hi
        self._holding = False
        self._static_key = None  # a new surface chooses its own loss-axis limits
        self._draw_contour(s)
        self.update()

    def _on_surface(self, _change: dict) -> None:
        self._set_surface()

    def _on_change(self, change: dict) -> None:
        # A start set from Python (new surface, click) comes back snapped to the slider's grid:
        # not a move, and a frame sent for it would overtake the one that shows the new surface.
        if not self._holding and not self.is_echo(change):
            self.update()

    def _on_click(self, event) -> None:
        if event.inaxes is not self.ax_surface or event.xdata is None:
            return
        self._holding = True
        self.start_x.value, self.start_y.value = float(event.xdata), float(event.ydata)
        self._holding = False
        self.update()

    # --- drawing ---------------------------------------------------------------------------

    def _draw_contour(self, s: Surface) -> None:
        """Draw the surface: an image of log(f - floor) and contour lines. Only on a surface change."""
        if self.contour is not None:
            self.contour.remove()
            self.image.remove()
        xs, ys, Z = s.evaluate_grid(100)
        shade = np.log10(Z - s.floor + 1e-3)
        # An opaque, pre-lightened RGB image: cheaper to composite on every frame than alpha blending.
        colors = colormaps["viridis"]((shade - shade.min()) / np.ptp(shade))[..., :3]
        self.image = self.ax_surface.imshow(0.45 + 0.55 * colors, origin="lower", extent=s.extent,
                                            aspect="auto", interpolation="nearest")
        self.contour = self.ax_surface.contour(xs, ys, shade, levels=12, colors="k", linewidths=0.4, alpha=0.6)
        self.ax_surface.set_xlim(s.extent[:2])
        self.ax_surface.set_ylim(s.extent[2:])
        self.ax_surface.set_xlabel("x" if s.name != "net" else "a (along d₁)")
        self.ax_surface.set_ylabel("y" if s.name != "net" else "b (along d₂)")
        self.ax_surface.set_title(f"{s.name}: contours of log₁₀(f − f_min)", fontsize=10)
        if s.minimum is not None:
            self.minimum_marker.set_data([s.minimum[0]], [s.minimum[1]])
        self.ax_loss.set_ylabel("f − f_min (log scale)")

    def update(self) -> None:
        """Recompute every selected trajectory and move the artists (the contour stays)."""
        s = self.current
        start = np.array([self.start_x.value, self.start_y.value])
        betas = (self.momentum.value, self.beta2.value)
        selected = [m for m in METHODS if m in self.methods.value]
        runs = trajectories(s, selected, self.lr.value, start, self.steps.value, self.momentum.value, betas)
        self.paths = {m: path for m, (path, _) in runs.items()}
        self.losses = {m: loss for m, (_, loss) in runs.items()}
        for m in METHODS:
            if m in runs:
                gap = np.maximum(self.losses[m] - s.floor, 1e-16)  # log scale: keep exact zeros visible
                self.lines[m].set_data(self.paths[m][:, 0], self.paths[m][:, 1])
                self.curves[m].set_data(np.arange(len(gap)), gap)
            self.lines[m].set_visible(m in self.methods.value)
            self.curves[m].set_visible(m in self.methods.value)
        self.start_marker.set_data([start[0]], [start[1]])
        self.readout.value = lr_readout(s, self.lr.value) + divergence_hint(self.losses)
        self._redraw()

    def _loss_limits(self) -> tuple[float, float]:
        """Loss-axis limits in whole decades, kept while the curves still fit and fill them reasonably.

        Keeping the axis unchanged is what lets a control change blit instead of redrawing every tick.
        """
        gaps = [np.maximum(v - self.current.floor, 1e-16) for v in self.losses.values()]
        finite = np.concatenate([g[np.isfinite(g)] for g in gaps]) if gaps else np.array([])
        low, high = (finite.min(), finite.max()) if finite.size else (1e-3, 1.0)
        low, high = max(low, 1e-16), min(max(high, low), 1e12)
        wanted = (10.0 ** np.floor(np.log10(low)), 10.0 ** (np.floor(np.log10(high)) + 1))
        if self._static_key is not None:
            kept = self._static_key[1]
            spare = np.log10(kept[1] / kept[0]) - np.log10(wanted[1] / wanted[0])  # unused decades
            if kept[0] <= wanted[0] and wanted[1] <= kept[1] and spare <= 4:
                return kept
        return wanted

    def _redraw(self) -> None:
        """Repaint: blit the moving artists when the surface and the loss axis are unchanged, else draw everything."""
        self.ax_loss.set_xlim(0, max(self.steps.value, 1))
        if self.legend is None or self._legend_methods != self.methods.value:
            self._new_legend()
        key = (self.surface.value, self._loss_limits())
        if key == self._static_key:
            self.redraw(full=False)
            return
        self._static_key = key
        self.ax_loss.set_ylim(*key[1])
        self.redraw()

    def _new_legend(self) -> None:
        """A legend naming the selected optimizers, animated in the place of the last one."""
        old, self._legend_methods = self.legend, self.methods.value
        handles = [self.curves[m] for m in METHODS if m in self._legend_methods]
        self.legend = self.ax_loss.legend(handles=handles, loc="upper right", fontsize=8)
        if old is not None:
            self.stop_animating(old)
        self.animate(self.legend)
