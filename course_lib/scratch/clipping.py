"""Gradient clipping, in place, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

    >>> net.zero_grad(); net.backward(loss.backward())
    >>> total = clip_grad_norm_(net.parameters(), max_norm=1.0)   # the norm *before* clipping
    >>> opt.step()

Each parameter's ``grad`` (any shape) is changed in place; parameters whose ``grad`` is None are
skipped, as in torch.

By norm: all gradients are seen as one long vector g of norm ||g||_p (p = ``norm_type``):

    total = || (||g_1||_p, ..., ||g_K||_p) ||_p          (= max |g| for p = inf)
    g <- g * min(1, max_norm / (total + 1e-6))

The direction of the step is kept and only its length capped, so an exploding gradient (a cliff
in the loss surface) produces a step of length at most lr * max_norm. The 1e-6 is torch's: it
avoids a division by zero and leaves gradients just below max_norm unchanged.

By value: every entry is clamped to [-clip_value, clip_value], which changes the direction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from course_lib.scratch.parameter import Parameter, parameter_list


def grad_norm(params: Iterable[Parameter] | Parameter, norm_type: float = 2.0) -> float:
    """The p-norm of all gradients together (0.0 when no parameter has a gradient)."""
    grads = _grads(params, "grad_norm")
    _check_norm_type(norm_type)
    if not grads:
        return 0.0
    if norm_type == math.inf:
        return float(max(np.max(np.abs(g)) for g in grads))
    norms = np.array([np.sum(np.abs(g) ** norm_type) ** (1.0 / norm_type) for g in grads])
    return float(np.sum(norms**norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(
    params: Iterable[Parameter] | Parameter, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Scale all gradients **in place** so that their joint norm is at most ``max_norm``.

    Returns the total norm before clipping, as torch does (watch it to spot exploding gradients).
    """
    params = parameter_list(params, "clip_grad_norm_")
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    total = grad_norm(params, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(f"the total norm of the gradients is {total}; they cannot be clipped (error_if_nonfinite=True)")
    coef = min(1.0, max_norm / (total + 1e-6))
    for p in params:
        if p.grad is not None:
            p.grad *= coef  # torch multiplies even when coef == 1: the same floats come out
    return total


def clip_grad_value_(params: Iterable[Parameter] | Parameter, clip_value: float) -> None:
    """Clamp every gradient entry **in place** to [-clip_value, clip_value]."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    for g in _grads(params, "clip_grad_value_"):
        np.clip(g, -clip_value, clip_value, out=g)


def _grads(params: Iterable[Parameter] | Parameter, caller: str) -> list[np.ndarray]:
    return [p.grad for p in parameter_list(params, caller) if p.grad is not None]


def _check_norm_type(norm_type: float) -> None:
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (or math.inf), got {norm_type}")
