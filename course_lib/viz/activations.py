"""The activation explorer: f, f' and how the gradient fades (or not) through a deep net.

    >>> explorer = ActivationExplorer()
    >>> explorer.widget                         # pick activations and depth, see three panels
    >>> explorer.names.value = ("sigmoid", "relu")

Left: f(x). Middle: f'(x); sigmoid's never exceeds 1/4, so a product of many of them vanishes.
Right: the norm of dL/dW_l for every layer l of a deep MLP, on a log scale: with sigmoid the
first layers get orders of magnitude less gradient than the last.

The computation is ``scratch.gradient_flow.gradient_norm_profile`` (NumPy forward and backward,
tested against torch.autograd); the widget only updates the artists' data.
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from course_lib.scratch.activations import ACTIVATIONS, get_activation
from course_lib.scratch.gradient_flow import gradient_norm_profile
from course_lib.viz.widget import Explorer

Array = np.ndarray
COLORS = dict(zip(ACTIVATIONS, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")))


class ActivationExplorer(Explorer):
    """Pick activation(s), depth and init gain (W ~ N(0, gain^2 / width)); the panels follow.

    Drive ``names``, ``depth``, ``gain`` from Python; read ``norms`` and the ``*_lines`` artists.
    """

    def __init__(self, names: tuple[str, ...] = ("sigmoid", "tanh", "relu"), depth: int = 20,
                 figsize: tuple[float, float] = (9.5, 3.2)) -> None:
        import ipywidgets as widgets

        super().__init__(figsize=figsize, ncols=3)
        self.ax_f, self.ax_df, self.ax_norm = self.axes
        self.names = widgets.SelectMultiple(options=list(ACTIVATIONS), value=tuple(names), rows=5,
                                            description="activations")
        self.depth = widgets.IntSlider(value=depth, min=2, max=50, description="depth", continuous_update=False)
        self.gain = widgets.FloatSlider(value=1.0, min=0.25, max=3.0, step=0.05, description="init gain",
                                        continuous_update=False)
        self.x = np.linspace(-5, 5, 401)
        self.f_lines, self.df_lines, self.norm_lines = {}, {}, {}
        for name in ACTIVATIONS:
            act = get_activation(name)
            self.f_lines[name] = self.ax_f.plot(self.x, act.f(self.x), color=COLORS[name], label=name)[0]
            self.df_lines[name] = self.ax_df.plot(self.x, act.grad(self.x), color=COLORS[name], label=name)[0]
            self.norm_lines[name] = self.ax_norm.semilogy([], [], "o-", ms=3, color=COLORS[name], label=name)[0]
        self._label()
        self.legend = None
        self.update()
        self.freeze_layout()
        # Blitting: every curve, the legend and the right panel's axes (its limits follow depth and
        # gain) are drawn over a saved background of frames, titles and the left panels' ticks,
        # so no control change has to render the whole figure again.
        self.animate(*self.f_lines.values(), *self.df_lines.values(), *self.norm_lines.values(),
                     self.ax_norm.xaxis, self.ax_norm.yaxis, self.legend)
        self.names.observe(lambda _: self.update(), names="value")
        self.depth.observe(lambda _: self.update(), names="value")
        self.gain.observe(lambda _: self.update(), names="value")
        self.assemble([widgets.HBox([self.names, widgets.VBox([self.depth, self.gain])])])

    def _label(self) -> None:
        self.ax_f.set(title="f(x)", xlabel="pre-activation x", ylabel="f(x)", ylim=(-1.5, 5))
        self.ax_df.set(title="f′(x)", xlabel="pre-activation x", ylabel="f′(x)", ylim=(-0.1, 1.2))
        self.ax_norm.set(title="gradient norm per layer", xlabel="layer (1 = input side)", ylabel="‖∂L/∂W_l‖")
        for ax in (self.ax_f, self.ax_df):
            ax.axhline(0, color="0.7", lw=0.6)
        # Decades only: the axis is redrawn on every change, and each tick costs (72 minor ticks
        # over ten decades took longer to draw than everything else in a frame).
        self.ax_norm.yaxis.set_major_locator(LogLocator(numticks=6))
        self.ax_norm.yaxis.set_minor_locator(NullLocator())
        self.ax_norm.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # layers are whole

    def update(self) -> None:
        """Show the selected activations and recompute their gradient-norm profiles."""
        depth, chosen = self.depth.value, set(self.names.value)
        self.norms = {name: _profile(name, depth, self.gain.value) for name in self.names.value}
        low, high = np.inf, -np.inf
        for name in ACTIVATIONS:
            for line in (self.f_lines[name], self.df_lines[name], self.norm_lines[name]):
                line.set_visible(name in chosen)
            if name in self.norms:
                values = np.maximum(self.norms[name], 1e-30)
                self.norm_lines[name].set_data(np.arange(1, depth + 1), values)
                low, high = min(low, values.min()), max(high, values.max())
        self.ax_norm.set_xlim(0.5, depth + 0.5)
        if np.isfinite(low):
            self.ax_norm.set_ylim(low / 3, high * 3)
        if self.legend is None or self._legend_names != self.names.value:
            self._new_legend()
        self.redraw(full=False)

    def _new_legend(self) -> None:
        """A legend that names only the selected activations (a Legend cannot change its entries)."""
        old, self._legend_names = self.legend, self.names.value
        handles = [self.f_lines[n] for n in ACTIVATIONS if n in self._legend_names]
        self.legend = self.ax_f.legend(handles=handles, fontsize=8, loc="upper left")
        if old is not None:  # animated: the new one replaces the old one among the moving artists
            self.stop_animating(old)
            self.animate(self.legend)


@functools.lru_cache(maxsize=512)
def _profile(name: str, depth: int, gain: float) -> Array:
    """``gradient_norm_profile`` (depth,), kept: a slider moved back and forth asks for the same nets again."""
    norms = gradient_norm_profile(name, depth, gain=gain)
    norms.setflags(write=False)  # shared by every later call with these arguments
    return norms
