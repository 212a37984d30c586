"""The training loop of the layer engine, written as the PyTorch loop of ``course_lib.train`` reads.

    >>> net = Sequential(Linear(2, 8, rng), Tanh(), Linear(8, 2, rng))
    >>> history = fit(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.5), X, t,
    ...               epochs=100, batch_size=40, rng=rng)
    >>> history[-1]                     # mean batch loss of the last epoch

One step per mini-batch (``data.minibatches``), in torch's order: ``optimizer.zero_grad()``,
forward, loss, backward (which fills every ``p.grad``), ``optimizer.step()``.
"""

from __future__ import annotations

import numpy as np

from course_lib.data import minibatches
from course_lib.scratch.layers import Layer, Loss
from course_lib.scratch.optim import Optimizer

Array = np.ndarray


def fit(
    net: Layer,
    loss: Loss,
    optimizer: Optimizer,
    X: Array,
    t: Array,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
) -> list[float]:
    """Train ``net`` in place; return, for each epoch, the mean of its batch losses.

    X (N, D); t (N,) class indices or (N, M) targets, whatever ``loss`` expects. The rows are
    reshuffled every epoch with ``rng``; ``optimizer`` holds ``net.parameters()``.
    """
    if X.shape[0] != t.shape[0]:
        raise ValueError(f"X and t must have the same number of rows, got {X.shape} and {t.shape}")
    if epochs <= 0 or batch_size <= 0:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be a scratch.optim.Optimizer, got {type(optimizer).__name__}")
    history = []
    for _ in range(epochs):
        net.train()
        batch_losses = []
        for Xb, tb in minibatches(X, t, batch_size, rng):
            optimizer.zero_grad()
            batch_losses.append(loss.forward(net.forward(Xb), tb))
            net.backward(loss.backward())
            optimizer.step()
        history.append(float(np.mean(batch_losses)))
    return history
