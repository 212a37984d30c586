"""L2 and L1 weight penalties and their gradients: the regularizers added to a training loss.

    >>> loss = data_loss + add_penalty(weights, lam=1e-3, kind="l2")   # value of the penalty, and
    ...                                                                # lam * w added into each w.grad
    >>> weights = [layer.params["W"] for layer in net.layers if isinstance(layer, Linear)]

Shapes: w is a weight array of any shape; each gradient has w's shape.

    L2:  R(w) = lam/2 * sum w^2        dR/dw = lam * w            (weight decay)
    L1:  R(w) = lam * sum |w|          dR/dw = lam * sign(w)      (0 at w = 0, as torch.sign)

With the 1/2, the L2 gradient lam * w is exactly the ``weight_decay`` term of SGD (torch's and
scratch.optim's), so "L2 penalty" and "weight decay" are the same update for SGD; they differ for
Adam, where AdamW decays the weights outside the adaptive scaling.

L2 shrinks every weight in proportion to its size; L1 pulls every weight toward 0 by the same
amount, which drives small weights to exactly 0 (sparsity). Plain gradient steps on |w| overshoot
and oscillate around 0, so sparse solutions are found with the proximal step ``l1_prox``
(soft-thresholding), which lands small weights on 0 exactly.

Biases are usually not penalized: pass the weights you mean, as above.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from course_lib.scratch.parameter import Parameter, parameter_list

Array = np.ndarray

KINDS = ("l2", "l1")


def l2(w: Array, lam: float) -> float:
    """lam/2 * sum w^2."""
    _check_lam(lam)
    return 0.5 * lam * float(np.sum(w * w))


def l2_grad(w: Array, lam: float) -> Array:
    """lam * w, w's shape."""
    _check_lam(lam)
    return lam * w


def l1(w: Array, lam: float) -> float:
    """lam * sum |w|."""
    _check_lam(lam)
    return lam * float(np.sum(np.abs(w)))


def l1_grad(w: Array, lam: float) -> Array:
    """lam * sign(w) (a subgradient: 0 where w = 0), w's shape."""
    _check_lam(lam)
    return lam * np.sign(w)


def l1_prox(w: Array, threshold: float) -> Array:
    """Soft-thresholding sign(w) max(|w| - threshold, 0): a new array, small entries exactly 0.

    After a gradient step on the data loss with learning rate lr, ``w = l1_prox(w, lr * lam)`` is
    the proximal-gradient step for the L1 penalty lam * sum |w| (ISTA).
    """
    _check_lam(threshold)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def add_penalty(params: Iterable[Parameter] | Parameter, lam: float, kind: str = "l2") -> float:
    """Add the penalty's gradient into every parameter's ``grad``; return the penalty's value.

    ``params``: a model (all its parameters), one Parameter, or an iterable of Parameters.
    Call it after ``zero_grad()`` and before the optimizer step, like the backward of the data loss
    (gradients add up, so the order relative to backward does not matter).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    value, grad = (l2, l2_grad) if kind == "l2" else (l1, l1_grad)
    total = 0.0
    for p in parameter_list(params, f"add_penalty(kind={kind!r})"):
        total += value(p.data, lam)
        p.accumulate_grad(grad(p.data, lam))
    return total


def _check_lam(lam: float) -> None:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)) or not lam >= 0:
        raise ValueError(f"the penalty strength must be a number >= 0, got {lam!r}")
