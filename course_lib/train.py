"""One small PyTorch training loop, with its history, for every chapter.

    >>> history = fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
    ...               (X_train, y_train), (X_val, y_val), epochs=20, batch_size=32,
    ...               device=device, generator=torch.Generator().manual_seed(0))
    >>> history.val_acc[-1]

Data are tensors X (N, D) and y (N,); they are moved to ``device`` once. Accuracy reads the
model's output as logits: (N,) for a binary model (positive logit = class 1), (N, C) for C classes
(argmax). Shuffling uses ``generator`` only, so two runs with the same seed are identical; the
batches come from ``data.minibatches``, the iterator of every loop in the course.
``as_tensors(X, y)`` turns NumPy data (``course_lib.data``) into the tensors ``fit`` takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from course_lib.data import minibatches

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
def evaluate(model: nn.Module, loss_fn: LossFn, data: Data, device: torch.device, batch_size: int = 1024) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``data`` (X (N, D), y (N,)), in eval mode."""
    X, y = _to_device(data, device, "data")
    model.eval()
    outputs = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
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
) -> History:
    """Train ``model`` with mini-batches of ``train`` for ``epochs``; evaluate on ``val`` after each.

    ``loss_fn(logits, y)`` returns the mean loss of a batch (e.g. ``F.cross_entropy``).
    The model and optimizer are updated in place; returns the per-epoch ``History``.
    """
    if epochs <= 0 or batch_size <= 0:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    X, y = _to_device(train, device, "train")
    val = _to_device(val, device, "val")
    history = History()
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress):
        model.train()
        for Xb, yb in minibatches(X, y, batch_size, generator):
            loss = loss_fn(model(Xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        # Both sets are measured with the weights at the end of the epoch, in eval mode.
        train_loss, train_acc = evaluate(model, loss_fn, (X, y), device)
        val_loss, val_acc = evaluate(model, loss_fn, val, device)
        history.train_loss.append(train_loss)
        history.train_acc.append(train_acc)
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
    return history


def as_tensors(X: np.ndarray, y: np.ndarray, dtype: torch.dtype = torch.float32) -> Data:
    """NumPy data as the tensors ``fit`` takes: X (N, D) as ``dtype`` (float32 by default), y (N,) as is."""
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise ValueError(f"X and y must be NumPy arrays, got {type(X).__name__} and {type(y).__name__}")
    return torch.tensor(X, dtype=dtype), torch.tensor(y)


def _to_device(data: Data, device: torch.device, name: str) -> Data:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (X, y) of tensors, got {type(data).__name__}")
    X, y = data
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{name} must hold torch tensors, got {type(X).__name__} and {type(y).__name__}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"{name} must be X (N, D) and y (N,), got X {tuple(X.shape)} and y {tuple(y.shape)}")
    return X.to(device), y.to(device)
