"""Two ways to combine feature maps other than adding them: concatenate (DenseNet) and branch (Inception).

    >>> dense = DenseBlock(16, growth_rate=12, num_layers=4, seed=0)   # (N, 16, H, W) -> (N, 64, H, W)
    >>> branch = TwoBranchBlock(16, out_1x1=8, reduce_3x3=8, out_3x3=16, seed=0)  # -> (N, 24, H, W)

DenseBlock (Huang et al., 2017, https://arxiv.org/abs/1608.06993): layer l sees the
concatenation of the block's input and of every earlier layer's output, and adds k (the growth
rate) new channels: C_out = C_in + L k. Every layer is BN-ReLU-conv 3x3 (pre-activation).

TwoBranchBlock, the idea of Inception (Szegedy et al., 2014, https://arxiv.org/abs/1409.4842)
cut to two branches: a 1x1 conv, and a 1x1 conv that reduces the channels before a 3x3 conv,
side by side on the same input; their outputs are concatenated: C_out = out_1x1 + out_3x3.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.models.init import check_images, place, Seed, seeded


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class DenseBlock(nn.Module):
    """x (N, C_in, H, W) -> (N, C_in + num_layers * growth_rate, H, W)."""

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int, *, seed: Seed = 0,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if min(in_channels, growth_rate, num_layers) < 1:
            raise ValueError(f"in_channels, growth_rate and num_layers must be positive, got {in_channels}, {growth_rate}, {num_layers}")
        with seeded(seed):  # torch.nn draws from the global generator: seed it, restore it after
            self.layers = nn.ModuleList(
                nn.Sequential(nn.BatchNorm2d(in_channels + l * growth_rate), nn.ReLU(),
                              nn.Conv2d(in_channels + l * growth_rate, growth_rate, 3, padding=1, bias=False))
                for l in range(num_layers)
            )
            self.in_channels = in_channels
            self.out_channels = in_channels + num_layers * growth_rate
        place(self, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images("DenseBlock", x, self.in_channels)
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))  # each layer sees all before it
        return torch.cat(features, dim=1)


class TwoBranchBlock(nn.Module):
    """x (N, C_in, H, W) -> (N, out_1x1 + out_3x3, H, W): [1x1 | 1x1 -> 3x3], concatenated."""

    def __init__(self, in_channels: int, out_1x1: int, reduce_3x3: int, out_3x3: int, *,
                 seed: Seed = 0, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if min(in_channels, out_1x1, reduce_3x3, out_3x3) < 1:
            raise ValueError(f"channel counts must be positive, got {in_channels}, {out_1x1}, {reduce_3x3}, {out_3x3}")
        with seeded(seed):  # torch.nn draws from the global generator: seed it, restore it after
            self.branch_1x1 = conv_bn_relu(in_channels, out_1x1, 1)
            self.branch_3x3 = nn.Sequential(conv_bn_relu(in_channels, reduce_3x3, 1), conv_bn_relu(reduce_3x3, out_3x3, 3))
            self.in_channels, self.out_channels = in_channels, out_1x1 + out_3x3
        place(self, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images("TwoBranchBlock", x, self.in_channels)
        return torch.cat([self.branch_1x1(x), self.branch_3x3(x)], dim=1)
