"""The activation explorer: f, f' and how the gradient fades (or not) through a deep net.

    >>> explorer = ActivationExplorer()
    >>> explorer.widget                         # pick activations and depth, see three panels
    >>> explorer.names.value = ("sigmoid", "relu")

Left: f(x). Middle: f'(x); sigmoid's never exceeds 1/4, so a product of many of them vanishes.
Right: the norm of dL/dW_l for every layer l of a deep MLP (``layer_gradient_norms``), on a log
scale: with sigmoid the first layers get orders of magnitude less gradient than the last.

``layer_gradient_norms`` is the computation (NumPy forward and backward, tested against
torch.autograd); the widget only updates the artists' data.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.activations import ACTIVATIONS, get_activation

Array = np.ndarray
COLORS = dict(zip(ACTIVATIONS, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")))


def deep_net(depth: int, width: int, rng: np.random.Generator, std: float | None = None) -> list[Array]:
    """``depth`` square weight matrices (width, width), W ~ N(0, std^2), std = 1/sqrt(width) by default."""
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got depth={depth}, width={width}")
    std = 1.0 / np.sqrt(width) if std is None else std
    return [rng.normal(scale=std, size=(width, width)) for _ in range(depth)]


def layer_gradient_norms(name: str, weights: list[Array], X: Array, upstream: Array) -> Array:
    """||dL/dW_l||_F for every layer of h_l = f(h_{l-1} W_l), with L = sum(h_depth * upstream).

    weights: ``depth`` arrays (width, width); X (N, width) the input h_0; upstream (N, width) the
    gradient arriving at the last layer. Returns (depth,), first layer first.
    """
    act = get_activation(name)
    if X.ndim != 2 or upstream.shape != X.shape or any(W.shape != (X.shape[1],) * 2 for W in weights):
        raise ValueError(f"need X (N, width), upstream of X's shape and weights (width, width); got X {X.shape}, "
                         f"upstream {upstream.shape}, weights {[W.shape for W in weights]}")
    hs, zs = [X], []
    for W in weights:                    # forward, keeping what backward needs
        zs.append(hs[-1] @ W)
        hs.append(act.f(zs[-1]))
    norms, dh = [], upstream
    for W, z, h_in in zip(weights[::-1], zs[::-1], hs[-2::-1]):   # backward, last layer first
        dz = dh * act.grad(z)
        norms.append(np.linalg.norm(h_in.T @ dz))
        dh = dz @ W.T
    return np.array(norms[::-1])


def gradient_norm_profile(name: str, depth: int = 20, width: int = 64, gain: float = 1.0, n: int = 64,
                          seed: int = 0) -> Array:
    """``layer_gradient_norms`` on a seeded net with W ~ N(0, gain^2 / width), the same net for every name."""
    rng = np.random.default_rng(seed)
    weights = deep_net(depth, width, rng, std=gain / np.sqrt(width))
    X, upstream = rng.standard_normal((n, width)), rng.standard_normal((n, width)) / n
    return layer_gradient_norms(name, weights, X, upstream)


class ActivationExplorer:
    """Pick activation(s), depth and init gain (W ~ N(0, gain^2 / width)); the panels follow.

    Drive ``names``, ``depth``, ``gain`` from Python; read ``norms`` and the ``*_lines`` artists.
    """

    def __init__(self, names: tuple[str, ...] = ("sigmoid", "tanh", "relu"), depth: int = 20,
                 figsize: tuple[float, float] = (9.5, 3.2)) -> None:
        import ipywidgets as widgets

        from course_lib.viz.figures import live_figure

        self.names = widgets.SelectMultiple(options=list(ACTIVATIONS), value=tuple(names), rows=5,
                                            description="activations")
        self.depth = widgets.IntSlider(value=depth, min=2, max=50, description="depth", continuous_update=False)
        self.gain = widgets.FloatSlider(value=1.0, min=0.25, max=3.0, step=0.05, description="init gain",
                                        continuous_update=False)
        self.fig, (self.ax_f, self.ax_df, self.ax_norm) = live_figure(figsize=figsize, ncols=3)
        self.x = np.linspace(-5, 5, 401)
        self.f_lines, self.df_lines, self.norm_lines = {}, {}, {}
        for name in ACTIVATIONS:
            act = get_activation(name)
            self.f_lines[name] = self.ax_f.plot(self.x, act.f(self.x), color=COLORS[name], label=name)[0]
            self.df_lines[name] = self.ax_df.plot(self.x, act.grad(self.x), color=COLORS[name], label=name)[0]
            self.norm_lines[name] = self.ax_norm.semilogy([], [], "o-", ms=3, color=COLORS[name], label=name)[0]
        self._label()
        self.update()
        self.names.observe(lambda _: self.update(), names="value")
        self.depth.observe(lambda _: self.update(), names="value")
        self.gain.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.names, widgets.VBox([self.depth, self.gain])]), self.fig.canvas])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _label(self) -> None:
        self.ax_f.set(title="f(x)", xlabel="pre-activation x", ylabel="f(x)", ylim=(-1.5, 5))
        self.ax_df.set(title="f′(x)", xlabel="pre-activation x", ylabel="f′(x)", ylim=(-0.1, 1.2))
        self.ax_norm.set(title="gradient norm per layer", xlabel="layer (1 = input side)", ylabel="‖∂L/∂W_l‖")
        for ax in (self.ax_f, self.ax_df):
            ax.axhline(0, color="0.7", lw=0.6)
        self.ax_f.legend(fontsize=8, loc="upper left")

    def update(self) -> None:
        """Show the selected activations and recompute their gradient-norm profiles."""
        depth, chosen = self.depth.value, set(self.names.value)
        self.norms = {name: gradient_norm_profile(name, depth, gain=self.gain.value) for name in self.names.value}
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
        self.fig.canvas.draw_idle()
