"""Per-layer health checks for a deep network: is the signal alive going forward and backward?

    >>> records = trace(net, X, loss=SoftmaxCrossEntropy(), t=y)   # one forward and backward
    >>> print(health_table(health(records)))                          # one row per layer
    >>> before = net.state_dict(); opt.step(); update_ratios(net, before)   # {"0.W": 1.2e-03, ...}

Shapes: x (N, D); each layer's output y and gradient dL/dy (N, M) for that layer's width M.

What to look at (rules of thumb, not laws):

- activation std per layer: roughly constant with depth. Shrinking toward 0 is the collapse of a
  too-small initialization; tanh outputs piling up at +-1 is saturation.
- ``saturation``: fraction of tanh/sigmoid outputs within ``margin`` of an asymptote, where the
  derivative (1 - y^2 for tanh) is nearly 0 and the gradient cannot pass. Above ~10 % is a warning.
- ``dead_fraction``: ReLU units that output 0 for *every* example of the batch; they receive no
  gradient, so nothing brings them back.
- gradient std per layer: roughly constant too; growing toward the input is an exploding gradient,
  shrinking a vanishing one.
- ``update_ratio`` = ||w_after - w_before|| / ||w_before|| per step: around 1e-3 is healthy
  (Karpathy's rule of thumb); 1e-1 means the learning rate is too high, 1e-6 too low.

The array functions take NumPy arrays, so a torch tensor works too once passed through
``.detach().cpu().numpy()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.scratch.layers import Layer, Linear, Loss, Sequential

Array = np.ndarray

ASYMPTOTES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def saturation(y: Array, activation: str, margin: float = 0.01) -> float:
    """Fraction of entries of ``y`` (outputs of tanh or sigmoid, any shape) within ``margin`` of an asymptote."""
    if activation not in ASYMPTOTES:
        raise ValueError(f"saturation is defined for {sorted(ASYMPTOTES)} outputs, got {activation!r}")
    if not 0 < margin < 1:
        raise ValueError(f"margin must lie in (0, 1), got {margin}")
    low, high = ASYMPTOTES[activation]
    y = np.asarray(y)
    return float(np.mean((y <= low + margin) | (y >= high - margin)))


def dead_fraction(y: Array) -> float:
    """Fraction of units (columns of the (N, M) ReLU output ``y``) that are 0 for all N examples."""
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"dead_fraction expects ReLU outputs of shape (N, M), got shape {y.shape}")
    return float(np.mean(np.all(y <= 0, axis=0)))


def update_ratio(before: Array, after: Array) -> float:
    """||after - before|| / ||before|| (Frobenius norms): the relative size of one update."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"before and after must have the same shape, got {before.shape} and {after.shape}")
    scale = np.linalg.norm(before)
    return float(np.linalg.norm(after - before) / scale) if scale > 0 else float("inf")


def update_ratios(model: Layer, before: dict[str, Array]) -> dict[str, float]:
    """``update_ratio`` for every parameter of ``model``, against ``before = model.state_dict()``."""
    named = dict(model.named_parameters())
    missing = sorted(set(named) - set(before))
    if missing:
        raise ValueError(f"before has no entry for parameters {missing}; take it with model.state_dict()")
    return {name: update_ratio(before[name], p.data) for name, p in named.items()}


@dataclass
class LayerRecord:
    """One layer of a traced pass: its output y and the gradient dL/dy that reached it, both (N, M)."""

    name: str
    kind: str
    output: Array
    grad: Array


def trace(
    net: Sequential,
    x: Array,
    *,
    loss: Loss | None = None,
    t: Array | None = None,
    dout: Array | None = None,
    param_grads: bool = True,
) -> list[LayerRecord]:
    """Run one forward and backward pass through ``net`` layer by layer, keeping what flows.

    The backward pass starts either from ``loss`` on targets ``t`` or from a given upstream gradient
    ``dout`` (the network output's shape). It is a real backward: every parameter's ``grad`` is
    set (after ``zero_grad()``), ready for an optimizer step or for inspection.

    ``param_grads=False`` is for when only the signal matters (the initialization explorer): a
    Linear layer then passes dL/dx = dout W^T back without computing dL/dW = x^T dout, which saves
    a third of the work, and its parameters' ``grad`` stays None.
    """
    if not isinstance(net, Sequential):
        raise ValueError(f"trace expects a Sequential, got {type(net).__name__}")
    if (loss is None) == (dout is None) or (loss is not None and t is None):
        raise ValueError("trace needs either loss and t, or dout (the gradient of the output), not both")
    outputs = []
    h = x
    for layer in net.layers:
        h = layer.forward(h)
        outputs.append(h)
    if loss is not None:
        loss.forward(h, t)
        dout = loss.backward()
    net.zero_grad()
    grads = [None] * len(net.layers)
    for i in reversed(range(len(net.layers))):
        grads[i] = dout
        layer = net.layers[i]
        dout = layer.backward(dout) if param_grads or not isinstance(layer, Linear) else dout @ layer.params["W"].data.T
    return [LayerRecord(str(i), type(layer).__name__.lower(), y, g)
            for i, (layer, y, g) in enumerate(zip(net.layers, outputs, grads))]


@dataclass
class LayerHealth:
    """Summary of one ``LayerRecord``; ``saturated`` and ``dead`` are nan where they do not apply."""

    name: str
    kind: str
    act_mean: float
    act_std: float
    grad_std: float
    saturated: float
    dead: float


def health(records: list[LayerRecord], margin: float = 0.01) -> list[LayerHealth]:
    """One ``LayerHealth`` per record: saturation for tanh/sigmoid, dead fraction for relu."""
    rows = []
    for r in records:
        saturated = saturation(r.output, r.kind, margin) if r.kind in ASYMPTOTES else float("nan")
        dead = dead_fraction(r.output) if r.kind == "relu" else float("nan")
        rows.append(LayerHealth(r.name, r.kind, float(r.output.mean()), float(r.output.std()), float(r.grad.std()), saturated, dead))
    return rows


def health_table(rows: list[LayerHealth]) -> str:
    """A plain-text table of ``health`` rows, for printing in a notebook."""
    lines = [f"{'layer':>5} {'kind':<12} {'act mean':>9} {'act std':>9} {'grad std':>9} {'saturated':>9} {'dead':>6}"]
    for r in rows:
        sat = "" if np.isnan(r.saturated) else f"{r.saturated:.1%}"
        dead = "" if np.isnan(r.dead) else f"{r.dead:.1%}"
        lines.append(f"{r.name:>5} {r.kind:<12} {r.act_mean:>9.2e} {r.act_std:>9.2e} {r.grad_std:>9.2e} {sat:>9} {dead:>6}")
    return "\n".join(lines)
