"""PyTorch twins of the models built by hand in ``course_lib.scratch``, on any device.

    >>> model = MLP([2, 8, 2], activation="tanh", device=torch.device("cpu"), seed=0)
    >>> logits = model(torch.randn(5, 2))              # (5, 2)
    >>> deep = MLP([64] + [100] * 8 + [10], batch_norm=True)   # Linear -> BatchNorm1d -> ReLU blocks

``seed`` (an int or a ``torch.Generator``) fixes the initial weights without touching torch's
global generator (``models.init``); with ``seed=None`` they come from the global generator.

Shapes: N batch, D inputs, C classes (or M outputs). ``nn.Linear`` stores its weight as (M, D),
the transpose of the scratch ``Linear``'s (D, M) matrix: copy weights with ``.T``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from course_lib.models.init import Seed, seeded

# The names of course_lib.scratch.activations; torch's defaults match the scratch ones
# (LeakyReLU slope 0.01, ELU alpha 1).
ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
}


class MLP(nn.Module):
    """Linear -> activation -> ... -> Linear: a multi-layer perceptron, x (N, D) -> (N, M).

    ``widths`` lists every layer's size, input first and output last: [D, H1, ..., M].
    No activation after the last layer: it returns logits (or raw regression outputs).

    ``batch_norm=True`` puts an ``nn.BatchNorm1d`` between each hidden Linear and its activation
    (Ioffe & Szegedy's placement). Those Linear layers then have no bias: batch norm subtracts
    the batch mean, which would cancel it, and its own shift beta takes the bias's role.
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "relu",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        seed: Seed = None,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if len(widths) < 2 or any(not isinstance(w, int) or w <= 0 for w in widths):
            raise ValueError(f"widths must list at least 2 positive ints [D, ..., M], got {list(widths)}")
        if activation not in ACTIVATION_MODULES:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_MODULES)}, got {activation!r}")
        layers: list[nn.Module] = []
        with seeded(seed):
            for i, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
                hidden = i < len(widths) - 2
                on = device if seed is None else "cpu"  # a seeded model is drawn on the CPU, then moved
                layers.append(nn.Linear(d_in, d_out, bias=not (hidden and batch_norm), device=on, dtype=dtype))
                if hidden and batch_norm:
                    layers.append(nn.BatchNorm1d(d_out, device=on, dtype=dtype))
                if hidden:
                    layers.append(ACTIVATION_MODULES[activation]())
        self.net = nn.Sequential(*layers).to(device)
        self.in_features = widths[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"MLP expects x of shape (N, {self.in_features}), got {tuple(x.shape)}")
        return self.net(x)


class LogisticRegression(nn.Module):
    """A linear model read through a sigmoid (binary) or a softmax (C classes).

    ``num_classes=1``: x (N, D) -> logits (N,), for ``binary_cross_entropy_with_logits``;
    ``num_classes=C >= 2``: x (N, D) -> logits (N, C), for ``cross_entropy`` (softmax regression).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int = 1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        seed: Seed = None,
    ) -> None:
        super().__init__()
        if in_features <= 0 or num_classes <= 0:
            raise ValueError(f"in_features and num_classes must be positive, got {in_features} and {num_classes}")
        with seeded(seed):
            self.linear = nn.Linear(in_features, num_classes, device=device if seed is None else "cpu", dtype=dtype)
        self.linear.to(device)
        self.binary = num_classes == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.linear.in_features:
            raise ValueError(f"LogisticRegression expects x of shape (N, {self.linear.in_features}), got {tuple(x.shape)}")
        z = self.linear(x)
        return z.squeeze(1) if self.binary else z
