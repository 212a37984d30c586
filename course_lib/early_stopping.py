"""Early stopping on a validation metric, restoring the weights of the best epoch.

    >>> stopper = EarlyStopping(patience=5)              # mode="min": a loss or an error rate
    >>> for epoch in range(max_epochs):
    ...     train_one_epoch(model)
    ...     if stopper.step(validation_loss(model), model):
    ...         break                                     # no improvement for 5 epochs in a row
    >>> stopper.restore(model)                            # back to the best epoch's weights

Works with a torch model (anything with ``state_dict()`` / ``load_state_dict()``, an ``nn.Module``)
and with a scratch model (a ``course_lib.scratch`` Layer, whose ``state_dict()`` holds its
parameters and buffers). The snapshot is a copy, so later training cannot change it, and restoring
writes into the model's existing arrays/tensors, so an optimizer built on them keeps working.
This module imports no torch: a torch model brings its own ``state_dict``.

The rule: an epoch *improves* when its metric beats the best so far by more than ``min_delta``
(lower for mode="min", higher for mode="max"); after ``patience`` epochs in a row without
improvement, ``step`` returns True. The number of epochs thus becomes a hyper-parameter chosen on
the validation set, and stopping early limits how far the weights travel from their small
initial values, an effect close to an L2 penalty (Goodfellow et al., sec. 7.8).
"""

from __future__ import annotations

import math
from typing import Any


MODES = ("min", "max")


class EarlyStopping:
    """Track a validation metric; keep a copy of the best model; say when to stop.

    Attributes: ``best`` (best metric so far, None before the first step), ``best_epoch``
    (0-based index of the step that achieved it), ``bad_epochs`` (steps since then), ``epoch``
    (steps taken), ``should_stop``.
    """

    def __init__(self, patience: int = 5, mode: str = "min", min_delta: float = 0.0) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1 (epochs without improvement), got {patience!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} (min for a loss, max for an accuracy), got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        self.patience, self.mode, self.min_delta = patience, mode, float(min_delta)
        self.best: float | None = None
        self.best_epoch = -1
        self.bad_epochs = 0
        self.epoch = 0
        self.should_stop = False
        self._best_state: dict[str, Any] | None = None

    def improves(self, metric: float) -> bool:
        """Would ``metric`` count as an improvement over the best so far? (nan never does)"""
        if math.isnan(metric):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float, model: Any) -> bool:
        """Record this epoch's validation ``metric`` for ``model``; True when training should stop."""
        try:
            metric = float(metric)
        except (TypeError, ValueError):
            raise ValueError(f"metric must be a number (a validation loss or accuracy), got {metric!r}") from None
        if self.improves(metric):
            self.best, self.best_epoch, self.bad_epochs = metric, self.epoch, 0
            self._best_state = snapshot(model)
        else:
            self.bad_epochs += 1
        self.epoch += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop

    def restore(self, model: Any) -> None:
        """Load the best epoch's weights (and buffers) into ``model``, in place."""
        if self._best_state is None:
            raise RuntimeError("nothing to restore: step() has not yet seen a finite metric")
        load(model, self._best_state)


def snapshot(model: Any) -> dict[str, Any]:
    """A copy of the model's state: a scratch Layer's ``state_dict()`` is one; torch's holds
    references to the live tensors, so those are cloned."""
    if not (hasattr(model, "state_dict") and hasattr(model, "load_state_dict")):
        raise ValueError(f"model must be a torch nn.Module or a scratch Layer, got {type(model).__name__}")
    return {name: value.detach().clone() if hasattr(value, "detach") else value
            for name, value in model.state_dict().items()}


def load(model: Any, saved: dict[str, Any]) -> None:
    """Write a ``snapshot`` back into ``model``, in place."""
    model.load_state_dict(saved)
