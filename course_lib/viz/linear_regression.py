"""Fit a line by hand: slope and intercept sliders beside the MSE surface they move on.

The model is ``y_hat = a x + b`` for 1-D data x (N,), y (N,), that is chapter 01's ``X w`` with
X = [x, 1] (``add_bias``) and w = (a, b). Its mean squared error is a quadratic bowl over the
(a, b) plane, computed on a grid by ``scratch.linear.mse_surface``.

    >>> explorer = LinearRegressionExplorer(x, y)
    >>> explorer            # in a notebook: sliders, a "GD step" button and a live figure
    >>> explorer.slope.value = 2.0   # the line, the point and the title follow

The computation is chapter 01's (``scratch.linear``: ``mse``, ``mse_grad``, ``least_squares``,
``mse_surface``), tested without a display; ``default_grid`` picks the box to draw, and the
widget only wires controls to artists.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.linear import add_bias, least_squares, mse, mse_grad, mse_surface
from course_lib.viz.widget import Explorer

Array = np.ndarray


# ---------------------------------------------------------------------------
# The box to draw
# ---------------------------------------------------------------------------

def _check_xy(x: Array, y: Array) -> tuple[Array, Array]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(f"x and y must both have shape (N,) with N >= 1, got x {x.shape} and y {y.shape}")
    return x, y


def default_grid(x: Array, y: Array, size: int = 81, span: float = 3.0) -> tuple[Array, Array]:
    """Slopes (size,) and intercepts (size,) centred on the best line, wide enough to see the bowl.

    The half-widths are ``span`` times the scale of the problem: std(y)/std(x) for the slope
    and std(y) + |mean(x)| * slope-range for the intercept.
    """
    x, y = _check_xy(x, y)
    a_star, b_star = least_squares(add_bias(x[:, None]), y)
    scale = max(float(np.std(y)), 1e-12)
    da = span * scale / float(np.std(x))
    db = span * scale + abs(float(np.mean(x))) * da
    return np.linspace(a_star - da, a_star + da, size), np.linspace(b_star - db, b_star + db, size)


# ---------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------

class LinearRegressionExplorer(Explorer):
    """Two sliders (slope, intercept), a gradient-descent step button and a live figure.

    Left: the data and the current line. Right: contours of the MSE surface (drawn once) with
    the current (slope, intercept) as a point and the path taken by gradient steps.
    Attributes a test can drive: ``slope``, ``intercept`` (FloatSliders), ``step_button``,
    ``reset_button``, and read: ``line``, ``point``, ``path``, ``title``.
    """

    def __init__(
        self,
        x: Array,
        y: Array,
        *,
        slope: float | None = None,
        intercept: float | None = None,
        lr: float = 0.1,
        grid_size: int = 81,
        figsize: tuple[float, float] = (9.0, 3.8),
        xlabel: str = "x",
        ylabel: str = "y",
    ) -> None:
        import ipywidgets as widgets

        super().__init__(figsize=figsize, ncols=2)
        self.ax_data, self.ax_surface = self.axes
        self.x, self.y = _check_xy(x, y)
        self._X = add_bias(self.x[:, None])  # (N, 2): the line is X @ (a, b)
        self.lr = lr
        self.slopes, self.intercepts = default_grid(self.x, self.y, size=grid_size)
        self.optimum = tuple(least_squares(self._X, self.y))
        a0 = self.slopes[len(self.slopes) // 6] if slope is None else slope
        b0 = self.intercepts[len(self.intercepts) // 6] if intercept is None else intercept

        def slider(description: str, grid: Array, value: float) -> widgets.FloatSlider:
            return widgets.FloatSlider(
                value=value, min=grid[0], max=grid[-1], step=(grid[-1] - grid[0]) / 400,
                description=description, readout_format=".3g", continuous_update=True,
            )

        self.slope = slider("slope a", self.slopes, a0)
        self.intercept = slider("intercept b", self.intercepts, b0)
        self.step_button = widgets.Button(description="GD step", tooltip="one step of gradient descent")
        self.reset_button = widgets.Button(description="clear path")

        self._draw_static(xlabel, ylabel)
        self._path: list[tuple[float, float]] = [(self.slope.value, self.intercept.value)]
        self._holding = False
        # Blitting: the line, the point, the path and the title move over a saved background
        # (data, contours, colorbar, legends), so a slider step repaints four artists, not the figure.
        self.animate(self.line, self.point, self.path, self.title)
        self._redraw(full=True)
        self.freeze_layout()

        self.slope.observe(self._on_slider, names="value")
        self.intercept.observe(self._on_slider, names="value")
        self.step_button.on_click(lambda _: self.gradient_step())
        self.reset_button.on_click(lambda _: self.clear_path())
        controls = widgets.VBox([self.slope, self.intercept, widgets.HBox([self.step_button, self.reset_button])])
        self.assemble([controls])

    # --- drawing --------------------------------------------------------------------------

    def _draw_static(self, xlabel: str, ylabel: str) -> None:
        """Data, axes labels and the contour surface: drawn once, never redrawn."""
        ax = self.ax_data
        ax.scatter(self.x, self.y, s=12, alpha=0.6, label="data")
        (self.line,) = ax.plot([], [], color="C3", lw=2, label="current line")
        ax.set(xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left", fontsize=8)
        # The line's x-range is fixed, so the y-limits stay put as the line moves.
        self._xs = np.array([self.x.min(), self.x.max()])
        pad = 0.25 * np.ptp(self.y) + 1e-12
        ax.set_ylim(self.y.min() - pad, self.y.max() + pad)

        ax = self.ax_surface
        Z = mse_surface(self.x, self.y, self.slopes, self.intercepts)
        levels = np.quantile(Z, np.linspace(0, 1, 16) ** 2)  # denser levels near the minimum
        contours = ax.contour(self.slopes, self.intercepts, Z, levels=np.unique(levels), cmap="viridis")
        self.fig.colorbar(contours, ax=ax, label="MSE")
        ax.plot(*self.optimum, marker="*", color="k", ms=10, ls="", label="least squares")
        (self.path,) = ax.plot([], [], color="C3", lw=1, marker=".", ms=4, label="GD path")
        (self.point,) = ax.plot([], [], marker="o", color="C3", ms=8, ls="", label="current (a, b)")
        ax.set(xlabel="slope a", ylabel="intercept b", title="MSE surface")
        ax.legend(loc="upper right", fontsize=8)
        self.title = self.ax_data.set_title("")

    def _move_artists(self) -> None:
        """Put the line, the point, the path and the title at the sliders' (a, b) and the path taken."""
        a, b = self.slope.value, self.intercept.value
        self.line.set_data(self._xs, a * self._xs + b)
        self.point.set_data([a], [b])
        slopes, intercepts = zip(*self._path)
        self.path.set_data(slopes, intercepts)
        self.title.set_text(f"a = {a:.3g}, b = {b:.3g}, MSE = {self.current_mse():.4g}")

    def _redraw(self, full: bool = False) -> None:
        """Move the artists and send a frame; ``full`` repaints the static part too."""
        self._move_artists()
        self.redraw(full=full)

    # --- events ---------------------------------------------------------------------------

    def _on_slider(self, change: dict) -> None:
        if self._holding:  # a gradient step sets both sliders: redraw once, after both
            return
        if self.is_echo(change):
            # The browser put a value we set onto the slider's step grid and sent it back: the
            # point has not moved by hand, so the path goes on (from the snapped point). It moved
            # less than half a step, under a pixel: no frame, which would only chase the last one.
            self._path[-1] = (self.slope.value, self.intercept.value)
            self._move_artists()
            return
        self._path = [(self.slope.value, self.intercept.value)]  # moving by hand starts a new path
        self._redraw()

    def current_mse(self) -> float:
        """MSE of the line the sliders show."""
        return mse(self._X, np.array([self.slope.value, self.intercept.value]), self.y)

    def gradient_step(self) -> None:
        """Move (a, b) by ``-lr * grad MSE`` and extend the drawn path."""
        a, b = self.slope.value, self.intercept.value
        ga, gb = mse_grad(self._X, np.array([a, b]), self.y)
        self._holding = True
        try:
            self.slope.value = a - self.lr * ga
            self.intercept.value = b - self.lr * gb
        finally:
            self._holding = False
        self._path.append((self.slope.value, self.intercept.value))
        self._redraw()

    def clear_path(self) -> None:
        self._path = [(self.slope.value, self.intercept.value)]
        self._redraw()
