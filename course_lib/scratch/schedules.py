"""Learning-rate schedules: the learning rate as a function of the epoch.

Far from a minimum a large step makes progress; near it, the same step overshoots. A schedule
starts at ``lr0`` and shrinks the step as training goes on. ``epoch`` counts from 0, so every
schedule returns ``lr0`` at epoch 0:

=================  ======================================  ====================================
name               lr(epoch)                               torch.optim.lr_scheduler twin
=================  ======================================  ====================================
inverse_time       lr0 / (1 + decay * epoch)               LambdaLR(lambda e: 1 / (1 + decay e))
step_decay         lr0 * (1 - drop) ** (epoch // every)    StepLR(step_size=every, gamma=1-drop)
exponential        lr0 * gamma ** epoch                    ExponentialLR(gamma)
inverse_sqrt       lr0 / sqrt(1 + epoch)                   LambdaLR(lambda e: (1 + e) ** -0.5)
=================  ======================================  ====================================

``inverse_sqrt`` is the "t / sqrt(epoch)" rule with epochs counted from 1 (and t = 1).
Each function accepts an int or an integer array of epochs (shape (E,)) and returns a float or (E,).
"""

from __future__ import annotations

import numpy as np

EpochLike = int | np.ndarray


def _epochs(epoch: EpochLike) -> np.ndarray:
    e = np.asarray(epoch)
    if not np.issubdtype(e.dtype, np.integer) or np.any(e < 0):
        raise ValueError(f"epoch must be a non-negative int or int array, got {epoch!r}")
    return e


def _out(value: np.ndarray) -> float | np.ndarray:
    return float(value) if value.ndim == 0 else value


def _check_lr0(lr0: float) -> None:
    if lr0 <= 0:
        raise ValueError(f"lr0 must be > 0, got {lr0}")


def inverse_time(lr0: float, decay: float, epoch: EpochLike) -> float | np.ndarray:
    """lr0 / (1 + decay * epoch): halves by epoch 1/decay, then decays like 1/epoch."""
    _check_lr0(lr0)
    if decay < 0:
        raise ValueError(f"decay must be >= 0, got {decay}")
    return _out(lr0 / (1.0 + decay * _epochs(epoch)))


def step_decay(lr0: float, drop: float, every: int, epoch: EpochLike) -> float | np.ndarray:
    """Cut the rate by the fraction ``drop`` every ``every`` epochs: lr0 (1 - drop)^(epoch // every)."""
    _check_lr0(lr0)
    if not 0 <= drop < 1 or every < 1:
        raise ValueError(f"need 0 <= drop < 1 and every >= 1, got drop={drop}, every={every}")
    return _out(lr0 * (1.0 - drop) ** (_epochs(epoch) // every))


def exponential(lr0: float, gamma: float, epoch: EpochLike) -> float | np.ndarray:
    """lr0 * gamma^epoch, with 0 < gamma <= 1 (gamma = 0.95 loses 5% per epoch)."""
    _check_lr0(lr0)
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must lie in (0, 1], got {gamma}")
    return _out(lr0 * gamma ** _epochs(epoch).astype(np.float64))


def inverse_sqrt(lr0: float, epoch: EpochLike) -> float | np.ndarray:
    """lr0 / sqrt(1 + epoch): decays more slowly than 1/epoch."""
    _check_lr0(lr0)
    return _out(lr0 / np.sqrt(1.0 + _epochs(epoch)))
