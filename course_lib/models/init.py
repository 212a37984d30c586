"""Seeded initialization: the same seed gives the same weights, on any device, without global state.

    >>> model = MLP([2, 8, 2], seed=0)           # every model here takes seed=
    >>> with seeded(0):                          # what a model's constructor does with ``seed``
    ...     layer = nn.Linear(2, 8)

``torch.nn`` layers draw their initial weights from torch's *global* CPU generator. Inside
``seeded(seed)`` that generator is seeded, and restored afterwards, so building a model neither
depends on nor changes the random numbers the rest of the notebook sees. Models are built on the
CPU, drawn there, and then moved: the same seed gives bit-identical weights on a CPU and a GPU.
Where the *order* of the draws matters (a plain net and its residual twin must share every
weight they both have), ``reset_parameters`` re-draws chosen modules in a fixed order;
``he_init_`` re-draws them with He et al.'s rule instead of torch's default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


Seed = int | torch.Generator | None


@contextmanager
def seeded(seed: Seed) -> Iterator[None]:
    """Draw from torch's CPU generator seeded with ``seed`` inside the block; ``None``: leave it as is.

    A ``torch.Generator`` stands for the seed it draws next (so one generator can seed several models).
    """
    if seed is None:
        yield
        return
    if isinstance(seed, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=seed))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, a torch.Generator or None, got {seed!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def reset_parameters(modules: nn.Module | Iterable[nn.Module]) -> None:
    """Re-draw every conv and linear layer in ``modules`` (in ``modules()`` order); batch norm to (1, 0).

    Draws from torch's global generator with torch's default rule, uniform in +-1/sqrt(fan_in)
    (fan_in = C_in kH kW for a conv, D for a linear layer): call it inside ``seeded``.
    """
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    with torch.no_grad():
        for root in roots:
            for m in root.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    bound = 1.0 / math.sqrt(m.weight[0].numel())  # fan_in: one output's inputs
                    m.weight.uniform_(-bound, bound)
                    if m.bias is not None:
                        m.bias.uniform_(-bound, bound)
                elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.reset_parameters()  # weight 1, bias 0, running statistics cleared


def he_init_(modules: nn.Module | Iterable[nn.Module], nonlinearity: str = "relu") -> None:
    """Re-draw every conv and linear weight from He et al.'s N(0, gain^2 / fan_in); biases to 0.

    gain = ``torch.nn.init.calculate_gain(nonlinearity)``: sqrt(2) for "relu" (std sqrt(2 / fan_in),
    which keeps E[h^2] constant through ReLU layers), 5/3 for "tanh", 1 for "linear". This is
    ``torch.nn.init.kaiming_normal_`` applied layer by layer (call it inside ``seeded``); the
    scratch twin is ``scratch.initializers.kaiming_normal``. Batch-norm layers are left as they are.
    """
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    with torch.no_grad():
        for root in roots:
            for m in root.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity)
                    if m.bias is not None:
                        m.bias.zero_()


def check_images(name: str, x: torch.Tensor, channels: int) -> None:
    """ValueError unless x is an image batch (N, ``channels``, H, W)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects images of shape (N, {channels}, H, W), got {tuple(getattr(x, 'shape', ()))}")


def place(model: nn.Module, device: torch.device | str | None, dtype: torch.dtype | None) -> nn.Module:
    """Move a freshly drawn model to ``device`` and ``dtype`` (None keeps the CPU / float32)."""
    return model.to(device=device, dtype=dtype)
