"""One small PyTorch training loop, with its history, for every chapter.

    >>> history = fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
    ...               (X_train, y_train), (X_val, y_val), epochs=20, batch_size=32,
    ...               device=device, generator=torch.Generator().manual_seed(0))
    >>> history.val_acc[-1]

Data are tensors X (N, ...) — features (N, D) or images (N, C, H, W) — and labels y (N,); they
are moved to ``device`` once. Accuracy reads the model's output as logits: (N,) for a binary model
(positive logit = class 1), (N, C) for C classes (argmax). Shuffling uses ``generator`` only, so two
runs with the same seed are identical; the batches come from ``data.minibatches``, the iterator of
every loop in the course. ``as_tensors(X, y)`` turns NumPy data (``course_lib.data``) into the
tensors ``fit`` takes.

On a GPU, ``fit`` trains as practitioners do, each choice made by a function of
``course_lib.speedups`` that says why: bfloat16 mixed precision (``amp``), TF32 float32 matmuls
(``tf32``), images channels-last (``channels_last``), and, for data kept on the host
(``stream=True``), batches copied from pinned memory. On a CPU the defaults change nothing: plain
float32, the same operations in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from course_lib.data import minibatches
from course_lib.speedups import autocast_dtype, mixed_precision, pins_memory, tf32_matmuls, to_device, uses_channels_last

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Data = tuple[torch.Tensor, torch.Tensor]


@dataclass
class History:
    """Per-epoch mean loss and accuracy, on the training and the validation set."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct predictions. logits (N,) binary or (N, C); y (N,) class labels."""
    predicted = (logits > 0).long() if logits.ndim == 1 else logits.argmax(dim=1)
    return (predicted == y.long()).float().mean().item()


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: LossFn, data: Data, device: torch.device, batch_size: int = 1024, *,
             amp: bool | None = None, channels_last: bool | None = None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``data`` (X (N, ...), y (N,)), in eval mode.

    X goes through the model ``batch_size`` rows at a time, each copied to ``device`` if it is not
    there; ``amp`` and ``channels_last`` are ``fit``'s options.
    """
    X, y = _check_pair(data, "data")
    pin = pins_memory(X, device)
    layout = torch.channels_last if uses_channels_last(model, X, device, channels_last) else torch.preserve_format
    model.eval()
    with mixed_precision(device, autocast_dtype(device, amp)):
        outputs = torch.cat([model(to_device(X[i:i + batch_size], device, pin=pin, memory_format=layout))
                             for i in range(0, len(X), batch_size)])
        y = y.to(device)
        return loss_fn(outputs, y).item(), accuracy(outputs, y)


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    train: Data,
    val: Data,
    *,
    epochs: int,
    batch_size: int,
    device: torch.device,
    generator: torch.Generator,
    progress: bool = True,
    amp: bool | None = None,
    tf32: bool = True,
    channels_last: bool | None = None,
    stream: bool = False,
) -> History:
    """Train ``model`` with mini-batches of ``train`` for ``epochs``; evaluate on ``val`` after each.

    ``loss_fn(logits, y)`` returns the mean loss of a batch (e.g. ``F.cross_entropy``).
    The model and optimizer are updated in place; returns the per-epoch ``History``.

    - ``amp``: None (default) runs the forward pass and the loss in bfloat16 autocast where the
      GPU computes bfloat16 natively (CUDA, Ampere and newer), in float32 elsewhere; True or False
      forces it. Weights, gradients and the optimizer stay float32. (float16 autocast would need
      loss scaling with a ``torch.amp.GradScaler``; it is not offered.)
    - ``tf32``: on CUDA, float32 matmuls may use TF32 tensor cores while ``fit`` runs; the global
      setting (``torch.backends.cuda.matmul``) is put back when it returns.
    - ``channels_last``: None (default) stores images X (N, C, H, W), and the model's conv weights,
      channels-last on CUDA when the model has convolutions. The model keeps that layout after
      ``fit`` (its values are unchanged; it accepts either layout).
    - ``stream``: False (default) moves the data to ``device`` once, the fastest while they fit in
      its memory. True leaves them where they are and copies each batch, from pinned memory with a
      non-blocking copy when the data are on the host and the device is a GPU.
    """
    if epochs <= 0 or batch_size <= 0:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    X, y = _check_pair(train, "train")
    _check_pair(val, "val")
    dtype = autocast_dtype(device, amp)
    use_channels_last = uses_channels_last(model, X, device, channels_last)
    layout = torch.channels_last if use_channels_last else torch.preserve_format
    if use_channels_last:
        model.to(memory_format=torch.channels_last)
    pin = stream and pins_memory(X, device)
    if not stream:  # once, here, rather than a copy per batch
        X, y = to_device(X, device, memory_format=layout), y.to(device)
        val = to_device(val[0], device, memory_format=layout), val[1].to(device)
    history = History()
    with tf32_matmuls(device) if tf32 else nullcontext():
        for _ in tqdm(range(epochs), desc="epochs", disable=not progress):
            model.train()
            for Xb, yb in minibatches(X, y, batch_size, generator):
                Xb, yb = to_device(Xb, device, pin=pin, memory_format=layout), to_device(yb, device, pin=pin)
                with mixed_precision(device, dtype):  # the forward pass and the loss; backward follows its dtypes
                    loss = loss_fn(model(Xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            # Both sets are measured with the weights at the end of the epoch, in eval mode.
            train_loss, train_acc = evaluate(model, loss_fn, (X, y), device, amp=amp, channels_last=use_channels_last)
            val_loss, val_acc = evaluate(model, loss_fn, val, device, amp=amp, channels_last=use_channels_last)
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
    return history


def as_tensors(X: np.ndarray, y: np.ndarray, dtype: torch.dtype = torch.float32) -> Data:
    """NumPy data as the tensors ``fit`` takes: X (N, ...) as ``dtype`` (float32 by default), y (N,) as is."""
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise ValueError(f"X and y must be NumPy arrays, got {type(X).__name__} and {type(y).__name__}")
    return torch.tensor(X, dtype=dtype), torch.tensor(y)


def _check_pair(data: Data, name: str) -> Data:
    """``data`` itself, once it is checked to be tensors X (N, ...) and y (N,)."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (X, y) of tensors, got {type(data).__name__}")
    X, y = data
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{name} must hold torch tensors, got {type(X).__name__} and {type(y).__name__}")
    if X.ndim == 0 or y.shape != (X.shape[0],):
        raise ValueError(f"{name} must be X (N, ...) and y (N,), got X {tuple(X.shape)} and y {tuple(y.shape)}")
    return X, y
