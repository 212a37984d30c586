"""The speed-ups ``train.fit`` uses on a GPU, each a small decision you can read and test on its own.

    >>> autocast_dtype(torch.device("cuda"))           # torch.bfloat16 on an Ampere or newer GPU
    >>> autocast_dtype(torch.device("cpu"))            # None: the CPU trains in float32
    >>> uses_channels_last(model, X, device)           # True on CUDA for images and a conv net
    >>> with tf32_matmuls(device): ...                 # float32 matmuls on tensor cores, inside the block

What each one buys, and why it is safe:

- **Mixed precision** (``torch.autocast``): matmuls and convolutions run in bfloat16, whose 8-bit
  exponent covers float32's range, so no loss scaling is needed; the weights, their gradients and
  the optimizer stay float32, and losses and softmaxes are computed in float32. A GPU's bfloat16
  tensor cores do about 2x the TF32 and 15x the float32 work per second. (float16 has a 5-bit
  exponent: small gradients underflow to 0 unless the loss is scaled with ``torch.amp.GradScaler``;
  the course does not use it.)
- **TF32**: float32 matmuls on tensor cores, the inputs rounded to a 10-bit mantissa (float32 has
  23), the sums kept in float32: for what autocast leaves in float32, and for every matmul when
  it is off. cuDNN convolutions use TF32 by default already.
- **channels_last**: images stored (N, H, W, C) in memory, the layout tensor-core convolutions
  read; in the default (N, C, H, W) layout cuDNN transposes around each conv or picks slower kernels.
- **Pinned memory**: a copy from page-locked host memory runs by DMA while the GPU computes
  (``non_blocking=True``); from ordinary memory it is staged through a pinned buffer and waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import torch
from torch import nn


def autocast_dtype(device: torch.device, amp: bool | None = None) -> torch.dtype | None:
    """The dtype ``torch.autocast`` should use on ``device``, or None for plain float32.

    ``amp=None`` decides: bfloat16 on a CUDA GPU that computes it natively (Ampere and newer),
    None elsewhere (a CPU gains little, an older GPU would emulate it). ``amp=True``
    asks for bfloat16 on any device (a ValueError on a CUDA GPU without it); ``amp=False``: None.
    """
    if amp is not None and not isinstance(amp, bool):
        raise ValueError(f"amp must be True, False or None, got {amp!r}")
    # Tensor cores compute bfloat16 from compute capability 8.0 (Ampere) on. Older GPUs, the free
    # T4s of notebook services among them, only emulate it (torch.cuda.is_bf16_supported() says
    # yes there), slower than float32 and with no cuDNN convolutions.
    native_bf16 = device.type == "cuda" and torch.cuda.get_device_capability(device) >= (8, 0)
    if amp is None:
        return torch.bfloat16 if native_bf16 else None
    if amp and device.type == "cuda" and not native_bf16:
        raise ValueError(f"amp=True needs bfloat16, which {torch.cuda.get_device_name(device)} does not compute; "
                         "float16 would need a GradScaler, which fit does not use: pass amp=False")
    return torch.bfloat16 if amp else None


def uses_channels_last(model: nn.Module, X: torch.Tensor, device: torch.device,
                       channels_last: bool | None = None) -> bool:
    """Whether to store images X (N, C, H, W) and ``model``'s conv weights channels-last.

    ``None`` decides: yes on CUDA when X has 4 dimensions and ``model`` has a 2-D convolution,
    no otherwise (on a CPU the gain is small and varies). ``True`` needs 4-D X.
    """
    if channels_last is None:
        return device.type == "cuda" and X.ndim == 4 and any(isinstance(m, nn.Conv2d) for m in model.modules())
    if not isinstance(channels_last, bool):
        raise ValueError(f"channels_last must be True, False or None, got {channels_last!r}")
    if channels_last and X.ndim != 4:
        raise ValueError(f"channels_last=True needs images X (N, C, H, W), got X {tuple(X.shape)}")
    return channels_last


def pins_memory(X: torch.Tensor, device: torch.device) -> bool:
    """Whether batches of X should be copied to ``device`` from pinned memory: host data, a CUDA device."""
    return X.device.type == "cpu" and device.type == "cuda"


def to_device(t: torch.Tensor, device: torch.device, *, pin: bool = False,
              memory_format: torch.memory_format = torch.preserve_format) -> torch.Tensor:
    """``t`` on ``device`` (``t`` itself when it is there already, in that layout).

    ``pin=True`` copies it into page-locked memory first, so the copy to the GPU can run while the
    GPU is busy (``non_blocking``): the GPU's stream orders it before the kernels that read it.
    """
    if pin:
        t = t.pin_memory()
    return t.to(device, non_blocking=pin, memory_format=memory_format)


@contextmanager
def tf32_matmuls(device: torch.device) -> Iterator[None]:
    """Inside the block, float32 matmuls on ``device`` (if CUDA) may use TF32 tensor cores.

    The previous setting is restored on leaving, so nothing outside the block changes: a
    float32 matmul after ``fit`` is as exact as before it. Elsewhere than CUDA it does nothing.
    """
    if device.type != "cuda":
        yield
        return
    matmul = torch.backends.cuda.matmul
    # PyTorch >= 2.9 names the setting fp32_precision ("ieee" or "tf32"; reading the older flag
    # raises once the newer one has been set); earlier versions have allow_tf32 (a bool) only.
    name, value = ("fp32_precision", "tf32") if hasattr(matmul, "fp32_precision") else ("allow_tf32", True)
    before = getattr(matmul, name)
    setattr(matmul, name, value)
    try:
        yield
    finally:
        setattr(matmul, name, before)


def mixed_precision(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    """``torch.autocast`` to ``dtype`` on ``device``'s type; a block that changes nothing for None."""
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)
