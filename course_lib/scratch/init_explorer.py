"""The computation behind the initialization explorer: a deep MLP, one pass, per-layer histograms.

    >>> data = explore(depth=10, width=500, activation="tanh", init="std 0.01", batch_norm=False)
    >>> data.act_std          # (L,) std of each hidden layer's activations: collapsing toward 0
    >>> data.act_counts       # (L, B) histogram counts per layer over the shared edges data.act_edges

The network is the lecture's experiment: L = ``depth`` blocks Linear(width, width) -> [BatchNorm1d]
-> activation, biases 0, weights drawn by the chosen scheme, fed a batch x ~ N(0, 1) of shape
(N, width). The backward pass starts from a standard normal upstream gradient at the last block,
so the gradient histograms show only what depth does to it (growth or decay from layer to layer).

Histograms of all layers share their bin edges (symmetric around 0, wide enough for 99.9 % of all
values; tanh and sigmoid use their output ranges), so a layer whose values collapse to 0 shows as
a spike in the middle rather than as a histogram rescaled to look healthy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course_lib.scratch import initializers
from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.diagnostics import LayerRecord, dead_fraction, saturation, trace
from course_lib.scratch.layers import Layer, Linear, ReLU, Sequential, Sigmoid, Tanh

Array = np.ndarray
Init = Callable[[tuple[int, int], np.random.Generator, str], Array]

ACTIVATIONS: dict[str, type[Layer]] = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid}

INIT_SCHEMES: dict[str, Init] = {
    "zeros": lambda shape, rng, act: np.zeros(shape),                 # symmetric: every unit the same
    "std 0.01": lambda shape, rng, act: initializers.normal(shape, rng, std=0.01),
    "std 1.0": lambda shape, rng, act: initializers.normal(shape, rng, std=1.0),
    "xavier": lambda shape, rng, act: initializers.xavier_normal(shape, rng),   # Glorot, gain 1
    "he": lambda shape, rng, act: initializers.kaiming_normal(shape, rng, nonlinearity="relu"),
    "orthogonal": lambda shape, rng, act: initializers.orthogonal(shape, rng, gain=initializers.calculate_gain(act)),
}


@lru_cache(maxsize=24)
def layer_weights(scheme: str, width: int, activation: str, seed: int, layer: int) -> Array:
    """The (width, width) weights of block ``layer``, drawn from their own seeded stream.

    One stream per layer means that going from depth 5 to 10 keeps the first 5 layers, and the
    cache (about 2 MB per 500 x 500 matrix) makes revisiting a setting in the explorer instant:
    an orthogonal draw (a QR factorization) is the slowest step of the whole pass. Read-only.
    """
    w = INIT_SCHEMES[scheme]((width, width), np.random.default_rng([seed, 1, layer]), activation)
    w.setflags(write=False)
    return w


def build_net(
    depth: int, width: int, activation: str, scheme: str, batch_norm: bool, seed: int = 0, dtype: type = np.float64
) -> Sequential:
    """``depth`` blocks Linear(width, width) -> [BatchNorm1d(width)] -> activation; biases 0."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init must be one of {list(INIT_SCHEMES)}, got {scheme!r}")
    layers: list[Layer] = []
    for i in range(depth):
        linear = Linear(width, width, np.random.default_rng(seed), dtype)  # torch's default init, replaced:
        linear.params["W"].data[...] = layer_weights(scheme, width, activation, seed, i)
        linear.params["b"].data[...] = 0.0
        layers.append(linear)
        if batch_norm:
            layers.append(BatchNorm1d(width, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


@dataclass
class ExplorerData:
    """Per hidden layer l = 1..L: activations h_l and gradients dL/dh_l, summarized.

    act_counts, grad_counts (L, B) histogram counts; act_edges, grad_edges (B + 1,) shared edges;
    act_mean, act_std, grad_std (L,); saturated (L,) fraction for tanh/sigmoid, dead (L,) fraction
    of dead units for relu (nan where it does not apply).
    """

    act_counts: Array
    act_edges: Array
    grad_counts: Array
    grad_edges: Array
    act_mean: Array
    act_std: Array
    grad_std: Array
    saturated: Array
    dead: Array


def explore(
    depth: int = 10,
    width: int = 500,
    activation: str = "tanh",
    init: str = "xavier",
    batch_norm: bool = False,
    batch: int = 500,
    bins: int = 50,
    seed: int = 0,
    dtype: type = np.float64,
) -> ExplorerData:
    """Build the network, run one forward and backward pass on random data, summarize each layer.

    The cost is 2 * depth matrix products of (batch, width) by (width, width), forward and dL/dh
    (the weight gradients are skipped); float32 halves it and is precise enough for histograms.
    Activations that overflow (std 1.0 with ReLU multiplies their scale by ~13 per layer: beyond
    ~30 layers in float32) stop the pass with the layer engine's ValueError about non-finite inputs.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 2:
        raise ValueError(f"batch must be an integer >= 2 (batch norm needs 2 examples), got {batch!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    net = build_net(depth, width, activation, init, batch_norm, seed, dtype)
    rng = np.random.default_rng([seed, 0])  # the data's own stream, apart from the layers'
    x = rng.standard_normal((batch, width)).astype(dtype)
    records = trace(net, x, dout=rng.standard_normal((batch, width)).astype(dtype), param_grads=False)
    hidden = [r for r in records if r.kind == activation]  # the output of each block
    acts, grads = [r.output for r in hidden], [r.grad for r in hidden]

    act_edges = _edges(acts, bins, activation)
    grad_edges = _edges(grads, bins, None)
    return ExplorerData(
        act_counts=np.stack([_histogram(a, act_edges) for a in acts]),
        act_edges=act_edges,
        grad_counts=np.stack([_histogram(g, grad_edges) for g in grads]),
        grad_edges=grad_edges,
        act_mean=np.array([a.mean(dtype=np.float64) for a in acts]),
        act_std=np.array([a.std(dtype=np.float64) for a in acts]),
        grad_std=np.array([g.std(dtype=np.float64) for g in grads]),
        saturated=np.array([_saturated(r, activation) for r in hidden]),
        dead=np.array([dead_fraction(r.output) if activation == "relu" else np.nan for r in hidden]),
    )


def _saturated(record: LayerRecord, activation: str) -> float:
    return saturation(record.output, activation) if activation in ("tanh", "sigmoid") else float("nan")


def _histogram(values: Array, edges: Array) -> Array:
    # bins + range (not the edges array) takes NumPy's fast path for equal-width bins: no sort
    return np.histogram(values, bins=edges.size - 1, range=(edges[0], edges[-1]))[0]


def _edges(arrays: list[Array], bins: int, activation: str | None) -> Array:
    """Shared bin edges: the activation's range, else +-(99.9th percentile of |values|), never empty."""
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    # the percentile of an evenly strided sample of at most ~200 000 values: as good, 10x cheaper
    step = max(1, sum(a.size for a in arrays) // 200_000)
    values = np.concatenate([a.ravel()[::step] for a in arrays])
    finite = np.abs(values[np.isfinite(values)])
    reach = float(np.quantile(finite, 0.999)) if finite.size else 0.0
    reach = reach if reach > 0 else 1.0  # all zeros (zero init): any range shows the spike
    low = 0.0 if activation == "relu" else -reach
    return np.linspace(low, reach, bins + 1)
