"""What a scratch model holds, by name: its parameters and buffers, saved and restored like torch's state_dict.

    >>> named_parameters(net)             # {"0.W": Parameter, "0.b": ..., "1.gamma": ..., "3.W": ...}
    >>> best = state_dict(net)            # copies of every array: later training does not change them
    >>> load_state_dict(net, best)        # copy them back, in place

Names follow torch's: a layer's own entries by key ("W", "gamma"), then each child's prefixed by
its index in ``children()`` ("0.W" is the first layer's weight). *Buffers* are arrays a layer keeps
that are not trained but belong to the model, such as batch norm's running statistics; a layer
lists them in a ``buffers`` dict (torch's ``register_buffer``).

``load_state_dict`` writes **into** the existing arrays, so an optimizer that holds the
parameters keeps working on the restored values.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.layers import Layer
from course_lib.scratch.parameter import Parameter

Array = np.ndarray


def named_parameters(layer: Layer) -> dict[str, Parameter]:
    """Every Parameter of ``layer`` and its children, named "key" or "i.key" (recursively)."""
    return _walk(layer, lambda lay: lay.params)


def named_buffers(layer: Layer) -> dict[str, Array]:
    """Every buffer (non-trained array, e.g. "1.running_mean") of ``layer`` and its children."""
    return _walk(layer, lambda lay: getattr(lay, "buffers", {}))


def state_dict(layer: Layer) -> dict[str, Array]:
    """Copies of every parameter's data and every buffer, by name."""
    arrays = {name: p.data for name, p in named_parameters(layer).items()} | named_buffers(layer)
    return {name: a.copy() for name, a in arrays.items()}


def load_state_dict(layer: Layer, state: dict[str, Array]) -> None:
    """Copy ``state`` (from ``state_dict`` of a model of the same architecture) into ``layer``, in place."""
    targets = {name: p.data for name, p in named_parameters(layer).items()} | named_buffers(layer)
    missing, unexpected = sorted(set(targets) - set(state)), sorted(set(state) - set(targets))
    if missing or unexpected:
        raise ValueError(f"state does not fit this model: missing {missing}, unexpected {unexpected}")
    for name, target in targets.items():
        if np.shape(state[name]) != target.shape:
            raise ValueError(f"state[{name!r}] has shape {np.shape(state[name])}, the model's has {target.shape}")
        target[...] = state[name]


def _walk(layer: Layer, entries) -> dict:
    named = dict(entries(layer))
    for i, child in enumerate(layer.children()):
        named |= {f"{i}.{key}": value for key, value in _walk(child, entries).items()}
    return named
