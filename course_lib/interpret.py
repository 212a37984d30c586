"""Looking inside a trained image classifier: what it looks at, what fools it, what excites a unit.

    >>> sal = saliency_map(model, x)                         # (N, H, W): |d score / d pixel|
    >>> x_adv = fgsm(model, x, y, epsilon=0.1)               # a perturbation of +-0.1 per pixel
    >>> accuracy_under_attack(model, x, y, [0, 0.05, 0.1])   # accuracy as epsilon grows
    >>> idx, act = top_activating(model, model.features[0], unit=3, inputs=x, k=9)

Shapes: x (N, C, H, W) images, y (N,) class indices, the model maps x to logits (N, classes).
Every function runs the model in eval mode (batch norm uses its running statistics, dropout is
off) and puts it back in the mode it found; none of them touches the parameters' ``.grad``.

- Saliency (Simonyan et al., 2013, https://arxiv.org/abs/1312.6034): the gradient of the class
  score s_c (the logit, before softmax) with respect to the input pixels; a large |ds_c/dx| marks
  a pixel whose small change moves the score most. Channels are merged by the largest |.|.
- Fast gradient sign method (Goodfellow et al., 2014, https://arxiv.org/abs/1412.6572):
  x_adv = x + epsilon sign(grad_x L(f(x), y)), one step that raises the loss as much as any
  perturbation with every pixel moved by at most epsilon can, to first order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``model.eval()``, then restore the model's own train/eval mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def saliency_map(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """max over channels of |d s_target / d x|, shape (N, H, W).

    ``target`` (N,) picks the class score per example; None takes the predicted class.
    """
    _check_images("saliency_map", x)
    x = x.detach().clone().requires_grad_(True)
    with evaluating(model):
        scores = model(x)
        if target is None:
            target = scores.argmax(dim=1)
        _check_labels("saliency_map", target, x, scores.shape[1])
        chosen = scores.gather(1, target.view(-1, 1)).sum()  # examples are independent: one backward serves all
        (grad,) = torch.autograd.grad(chosen, x)
    return grad.abs().amax(dim=1)


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float,
         clamp: tuple[float, float] | None = (0.0, 1.0)) -> torch.Tensor:
    """x + epsilon sign(d cross_entropy / d x), clamped to the pixel range ``clamp`` (None: no clamp)."""
    _check_images("fgsm", x)
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    x = x.detach().clone().requires_grad_(True)
    with evaluating(model):
        logits = model(x)
        _check_labels("fgsm", y, x, logits.shape[1])
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x)
    x_adv = x.detach() + epsilon * grad.sign()
    return x_adv.clamp(*clamp) if clamp is not None else x_adv


def accuracy_under_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilons: Sequence[float],
                          clamp: tuple[float, float] | None = (0.0, 1.0), batch_size: int = 512) -> list[float]:
    """Accuracy on ``fgsm(x, epsilon)`` for each epsilon (epsilon = 0: the clean accuracy)."""
    correct = [0] * len(epsilons)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        for i, eps in enumerate(epsilons):
            x_adv = fgsm(model, xb, yb, eps, clamp)
            with evaluating(model), torch.no_grad():
                correct[i] += int((model(x_adv).argmax(dim=1) == yb).sum())
    return [c / len(x) for c in correct]


def top_activating(model: nn.Module, layer: nn.Module, unit: int, inputs: torch.Tensor, k: int = 9,
                   reduce: str = "mean", batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """The k inputs that excite channel ``unit`` of ``layer``'s output most: (indices (k,), activations (k,)).

    A conv unit's activation is a map (H', W'); ``reduce`` ("mean" or "max") makes it one number.
    ``layer`` is a sub-module of ``model``; its output is read with a forward hook.
    """
    _check_images("top_activating", inputs)
    if reduce not in ("mean", "max"):
        raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, args, output: captured.append(output.detach()))
    values = []
    try:
        with evaluating(model), torch.no_grad():
            for start in range(0, len(inputs), batch_size):
                captured.clear()
                model(inputs[start:start + batch_size])
                if not captured:
                    raise ValueError(f"{type(layer).__name__} did not run: pass a sub-module of the model")
                out = captured[-1]
                if not 0 <= unit < out.shape[1]:
                    raise ValueError(f"unit must lie in [0, {out.shape[1]}), got {unit}")
                a = out[:, unit].flatten(1)  # (N, H' W') or (N, 1)
                values.append(a.mean(dim=1) if reduce == "mean" else a.amax(dim=1))
    finally:
        handle.remove()
    scores = torch.cat(values)
    top = scores.topk(min(k, len(scores)))
    return top.indices, top.values


def _check_images(name: str, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise ValueError(f"{name} expects floating-point images of shape (N, C, H, W), got {tuple(getattr(x, 'shape', ()))}")


def _check_labels(name: str, y: torch.Tensor, x: torch.Tensor, classes: int) -> None:
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],) or y.dtype != torch.int64:
        raise ValueError(f"{name} expects int64 class indices of shape ({x.shape[0]},), got "
                         f"{getattr(y, 'dtype', type(y).__name__)} {tuple(getattr(y, 'shape', ()))}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= classes):
        raise ValueError(f"{name}: class indices must lie in [0, {classes}), got [{int(y.min())}, {int(y.max())}]")
