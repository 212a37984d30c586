"""LeNet-5 (LeCun et al., 1998), the first convolutional network trained end to end with backprop.

    >>> model = LeNet5(image_size=28, seed=0)        # MNIST: (N, 1, 28, 28) -> logits (N, 10)
    >>> model = LeNet5(image_size=8, seed=0)         # scikit-learn digits: (N, 1, 8, 8)

Two conv/pool stages then three dense layers:

    conv k x k (C -> 6) -> act -> pool 2 -> conv k x k (6 -> 16) -> act -> pool 2
    -> flatten -> linear (-> 120) -> act -> linear (-> 84) -> act -> linear (-> classes)

For 28x28 inputs k = 5 and the first conv pads by 2, as the original did on 32x32 images:
28 -> 28 -> 14 -> 10 -> 5, so 16 * 5 * 5 = 400 features reach the dense layers. For 8x8 inputs
k = 3 with padding 1 on both convs: 8 -> 8 -> 4 -> 4 -> 2, so 16 * 2 * 2 = 64 features.
The original used tanh-like activations and average pooling; ReLU and max pooling, the modern
choices, are the defaults.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.models.init import place, Seed, seeded
from course_lib.models.mlp import ACTIVATION_MODULES

# image size -> (kernel, padding of conv1, padding of conv2)
GEOMETRY = {28: (5, 2, 0), 8: (3, 1, 1)}
POOLS: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """x (N, C, S, S) with S = ``image_size`` (28 or 8) -> logits (N, ``num_classes``)."""

    def __init__(self, image_size: int = 28, in_channels: int = 1, num_classes: int = 10, *,
                 activation: str = "relu", pool: str = "max", seed: Seed = 0,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if image_size not in GEOMETRY:
            raise ValueError(f"image_size must be one of {sorted(GEOMETRY)}, got {image_size!r}")
        if activation not in ACTIVATION_MODULES or pool not in POOLS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_MODULES)} and pool one of {sorted(POOLS)}, "
                             f"got {activation!r} and {pool!r}")
        with seeded(seed):  # torch.nn draws from the global generator: seed it, restore it after
            k, p1, p2 = GEOMETRY[image_size]
            act, Pool = ACTIVATION_MODULES[activation], POOLS[pool]
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 6, k, padding=p1), act(), Pool(2),
                nn.Conv2d(6, 16, k, padding=p2), act(), Pool(2),
            )
            side = ((image_size + 2 * p1 - k + 1) // 2 + 2 * p2 - k + 1) // 2  # the output-size formula, twice
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(16 * side * side, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes),
            )
            self.input_shape = (in_channels, image_size, image_size)
        place(self, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"LeNet5 expects x of shape (N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")
        return self.classifier(self.features(x))
