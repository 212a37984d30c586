"""Seeded initialization: the same seed gives the same weights, on any device, without global state.

    >>> model = LeNet5(seed=0)                       # every model here takes seed=
    >>> reset_parameters(model, make_generator(1))   # or re-draw the weights of any module
    >>> he_init_(model, make_generator(1))           # He et al.'s N(0, 2 / fan_in), for ReLU nets

``torch.nn`` layers draw their initial weights from torch's *global* generator, so two models
built in a different order get different weights. Here every conv and linear layer is re-drawn
from an explicit ``torch.Generator``, with torch's default rule, uniform in +-1/sqrt(fan_in)
(fan_in = C_in kH kW for a conv, D for a linear layer) for weights and biases alike.
Models are built on the CPU, drawn there, and then moved: the same seed gives bit-identical
weights on the CPU and on a GPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


def make_generator(seed: int | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (a generator passes through unchanged)."""
    if isinstance(seed, torch.Generator):
        if seed.device.type != "cpu":
            raise ValueError(f"models draw their weights on the CPU: pass a CPU generator, got one on {seed.device}")
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def reset_parameters(modules: nn.Module | Iterable[nn.Module], generator: torch.Generator) -> None:
    """Re-draw every conv and linear layer in ``modules`` from ``generator``; batch norm to (1, 0).

    Layers are drawn in the order ``nn.Module.modules()`` visits them, so the result depends
    only on the generator's state and the architecture.
    """
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    with torch.no_grad():
        for root in roots:
            for m in root.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    bound = 1.0 / math.sqrt(m.weight[0].numel())  # fan_in: one output's inputs
                    m.weight.uniform_(-bound, bound, generator=generator)
                    if m.bias is not None:
                        m.bias.uniform_(-bound, bound, generator=generator)
                elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.reset_parameters()  # weight 1, bias 0, running statistics cleared


def he_init_(modules: nn.Module | Iterable[nn.Module], generator: torch.Generator, nonlinearity: str = "relu") -> None:
    """Re-draw every conv and linear weight from He et al.'s N(0, gain^2 / fan_in); biases to 0.

    gain = ``torch.nn.init.calculate_gain(nonlinearity)``: sqrt(2) for "relu" (std sqrt(2 / fan_in),
    which keeps E[h^2] constant through ReLU layers), 5/3 for "tanh", 1 for "linear". This is
    ``torch.nn.init.kaiming_normal_`` with the explicit ``generator``; the scratch twin is
    ``scratch.initializers.kaiming_normal``. Batch-norm layers are left as they are.
    """
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    with torch.no_grad():
        for root in roots:
            for m in root.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity, generator=generator)
                    if m.bias is not None:
                        m.bias.zero_()


def check_images(name: str, x: torch.Tensor, channels: int) -> None:
    """ValueError unless x is an image batch (N, ``channels``, H, W)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects images of shape (N, {channels}, H, W), got {tuple(getattr(x, 'shape', ()))}")


def place(model: nn.Module, device: torch.device | str | None, dtype: torch.dtype | None) -> nn.Module:
    """Move a freshly drawn model to ``device`` and ``dtype`` (None keeps the CPU / float32)."""
    return model.to(device=device, dtype=dtype)
