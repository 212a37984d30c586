"""A plain deep CNN and its residual twin (He et al., 2015, https://arxiv.org/abs/1512.03385).

    >>> plain = DeepCNN(blocks_per_stage=3, residual=False, seed=0)   # 2 + 2*9 = 20 weight layers
    >>> resnet = DeepCNN(blocks_per_stage=3, residual=True, seed=0)   # the same, plus shortcuts
    >>> logits = resnet(x)                                            # x (N, 3, H, W) -> (N, 10)
    >>> logits = resnet(x, skip={4})                                  # lesion study: block 4 removed

The layout of the CIFAR ResNets of the paper (section 4.2): a 3x3 stem conv, then one stage per
entry of ``widths``, each of ``blocks_per_stage`` blocks of two 3x3 convs; every stage after the
first halves the resolution in its first block (stride 2) and changes the width; then global
average pooling and one linear layer. Depth, counting weight layers: 2 + 2 * blocks.

A block computes  out = relu(F(x) + shortcut(x))  in the residual net and  out = relu(F(x))  in the
plain one, with the same F = conv-BN-ReLU-conv-BN. The shortcut is the identity, except where
the shape changes, where a 1x1 conv with stride 2 (plus BN) projects x to the new shape. So the
two nets differ by the shortcuts only: with the same seed, every weight they share is equal
(shortcuts are drawn last), and their parameter counts differ by the projections' alone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.models.init import check_images, place, reset_parameters, Seed, seeded


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int, norm: bool) -> list[nn.Module]:
    """A conv (no bias when batch norm follows: BN's shift replaces it) and its batch norm."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=not norm)
    return [conv, nn.BatchNorm2d(out_channels)] if norm else [conv]


class ConvBlock(nn.Module):
    """x (N, C_in, H, W) -> (N, C_out, H / s, W / s): relu(F(x) [+ shortcut(x)]), F two 3x3 convs."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, residual: bool, norm: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn(in_channels, out_channels, 3, stride, norm), nn.ReLU(),
            *conv_bn(out_channels, out_channels, 3, 1, norm),
        )
        self.residual = residual
        self.changes_shape = stride != 1 or in_channels != out_channels
        # the identity where shapes match; a 1x1 projection where they do not
        self.shortcut = nn.Sequential(*conv_bn(in_channels, out_channels, 1, stride, norm)) \
            if residual and self.changes_shape else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(out)


class DeepCNN(nn.Module):
    """Stem, ``len(widths)`` stages of ``blocks_per_stage`` ConvBlocks, global average pool, linear.

    x (N, ``in_channels``, H, W) -> logits (N, ``num_classes``); H and W divisible by
    2^(len(widths) - 1). ``residual`` switches the shortcuts on; nothing else changes.
    """

    def __init__(self, blocks_per_stage: int = 3, widths: Sequence[int] = (16, 32, 64), *, residual: bool,
                 in_channels: int = 3, num_classes: int = 10, norm: bool = True, seed: Seed = 0,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if not isinstance(blocks_per_stage, int) or blocks_per_stage < 1:
            raise ValueError(f"blocks_per_stage must be a positive int, got {blocks_per_stage!r}")
        if len(widths) < 1 or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"widths must list positive ints, one per stage, got {list(widths)}")
        with torch.random.fork_rng(devices=[]):  # the layers' own first draws are thrown away
            self.stem = nn.Sequential(*conv_bn(in_channels, widths[0], 3, 1, norm), nn.ReLU())
            blocks, width = [], widths[0]
            for stage, out in enumerate(widths):
                for i in range(blocks_per_stage):
                    stride = 2 if stage > 0 and i == 0 else 1
                    blocks.append(ConvBlock(width, out, stride, residual=residual, norm=norm))
                    width = out
            self.blocks = nn.ModuleList(blocks)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
            self.in_channels, self.residual = in_channels, residual
        with seeded(seed):  # re-drawn in a fixed order, shortcuts last: see the module docstring
            reset_parameters([self.stem, *(b.body for b in self.blocks), self.head])
            reset_parameters([b.shortcut for b in self.blocks if b.shortcut is not None])
        place(self, device, dtype)

    @property
    def depth(self) -> int:
        """Weight layers on the longest path: the stem, two per block, the linear layer."""
        return 2 + 2 * len(self.blocks)

    def forward(self, x: torch.Tensor, skip: Collection[int] = ()) -> torch.Tensor:
        """Logits; blocks whose index is in ``skip`` are removed (x passes through unchanged)."""
        check_images("DeepCNN", x, self.in_channels)
        for i in skip:
            if not 0 <= i < len(self.blocks) or self.blocks[i].changes_shape:
                droppable = [j for j, b in enumerate(self.blocks) if not b.changes_shape]
                raise ValueError(f"can only skip blocks that keep the shape, {droppable}; got {i}")
        x = self.stem(x)
        for i, block in enumerate(self.blocks):
            if i not in skip:
                x = block(x)
        return self.head(x)
