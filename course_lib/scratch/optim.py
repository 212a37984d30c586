"""Gradient-descent optimizers over lists of NumPy arrays, written to match ``torch.optim``.

    >>> W, b = rng.normal(size=(D, M)), np.zeros(M)
    >>> opt = Adam([W, b], lr=1e-3)
    >>> for step in range(100):
    ...     dW, db = gradients(W, b)       # arrays with the shapes of W and b
    ...     opt.step([dW, db])             # updates W and b IN PLACE, like torch

Conventions (the same as torch.optim, so trajectories can be compared step by step):

- Parameters are float arrays of any shape; ``step(grads)`` takes one gradient per parameter,
  with the same shape, and **updates the parameters in place** (the gradients are not changed).
- Each parameter has a ``state`` dict with torch's keys: ``momentum_buffer`` (SGD), ``step``,
  ``sum`` (Adagrad), ``square_avg`` (RMSprop), ``exp_avg`` and ``exp_avg_sq`` (Adam).
- Hyper-parameters are attributes (``opt.lr``), so a schedule can change them between steps.
- Names and defaults are torch's: ``SGD(lr=1e-3)``, ``Adagrad(lr=1e-2)``, ``RMSprop(lr=1e-2)``,
  ``Adam(lr=1e-3)``, ``AdamW(lr=1e-3, weight_decay=1e-2)``.
- ``weight_decay`` is an L2 term added to the gradient (g <- g + wd * w), except in AdamW,
  which shrinks the weights directly (w <- w (1 - lr wd)) before the moments are updated.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


class Optimizer:
    """Base class: holds the parameters, one state dict per parameter, and checks gradients."""

    def __init__(self, params: list[Array], lr: float) -> None:
        params = list(params)
        if not params:
            raise ValueError("params must be a non-empty list of arrays, got an empty list")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                kind = getattr(p, "dtype", type(p).__name__)
                raise ValueError(f"params[{i}] must be a floating-point NumPy array (updated in place), got {kind}")
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        self.params = params
        self.lr = lr
        self.state: list[dict] = [{} for _ in params]

    def step(self, grads: list[Array]) -> None:
        """Update every parameter in place from its gradient (same shapes, same order)."""
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients (one per parameter), got {len(grads)}")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{i}] must have the shape of params[{i}], {p.shape}, got {np.shape(g)}")
            self._update(p, np.asarray(g, dtype=p.dtype), self.state[i])

    def _update(self, p: Array, g: Array, state: dict) -> None:
        raise NotImplementedError  # each optimizer below defines its own rule


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value < high:
        raise ValueError(f"{name} must lie in [{low}, {high}), got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

    Per parameter w with gradient g (torch's order)::

        g <- g + weight_decay * w
        if momentum:
            buf <- g                                   on the first step
            buf <- momentum * buf + (1 - dampening) * g   afterwards
            g <- g + momentum * buf  if nesterov  else  buf
        w <- w - lr * g

    The velocity is accumulated in gradient units and multiplied by the *current* lr, so a
    learning-rate schedule takes effect at once (the textbook v <- m v - lr g form would lag).
    """

    def __init__(self, params: list[Array], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        _check_range("momentum", momentum, 0.0, 1.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening = 0, got momentum={momentum}, dampening={dampening}")
        self.momentum, self.dampening, self.weight_decay, self.nesterov = momentum, dampening, weight_decay, nesterov

    def _update(self, p: Array, g: Array, state: dict) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            buf = state["momentum_buffer"]
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    Per parameter (torch's order)::

        step <- step + 1
        g <- g + weight_decay * w
        clr = lr / (1 + (step - 1) * lr_decay)
        sum <- sum + g^2                     (sum starts at initial_accumulator_value)
        w <- w - clr * g / (sqrt(sum) + eps)
    """

    def __init__(self, params: list[Array], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        if lr_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError(f"lr_decay, initial_accumulator_value and eps must be >= 0, got "
                             f"{lr_decay}, {initial_accumulator_value}, {eps}")
        self.lr_decay, self.weight_decay, self.eps = lr_decay, weight_decay, eps
        for p, state in zip(self.params, self.state):
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)

    def _update(self, p: Array, g: Array, state: dict) -> None:
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        p -= clr * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: divide the step by a running root-mean-square of the gradients.

    Per parameter (torch's order; no bias correction, eps outside the root)::

        step <- step + 1
        g <- g + weight_decay * w
        square_avg <- alpha * square_avg + (1 - alpha) * g^2
        avg = sqrt(square_avg - grad_avg^2) if centered else sqrt(square_avg), then + eps
                                             (grad_avg <- alpha * grad_avg + (1 - alpha) * g)
        if momentum:  buf <- momentum * buf + g / avg;  w <- w - lr * buf
        else:         w <- w - lr * g / avg
    """

    def __init__(self, params: list[Array], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr)
        _check_range("alpha", alpha, 0.0, 1.0)
        _check_range("momentum", momentum, 0.0, 1.0)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def _update(self, p: Array, g: Array, state: dict) -> None:
        if not state:
            state.update(step=0, square_avg=np.zeros_like(p))
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * g * g
        if self.centered:
            state["grad_avg"] += (1 - self.alpha) * (g - state["grad_avg"])
            avg = np.sqrt(square_avg - state["grad_avg"] ** 2) + self.eps
        else:
            avg = np.sqrt(square_avg) + self.eps
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * g / avg


class Adam(Optimizer):
    """Adam: momentum (first moment) divided by an RMS (second moment), both bias-corrected.

    Per parameter (torch's order)::

        step <- step + 1                                   (t = step)
        g <- g + weight_decay * w                          (Adam: L2 in the gradient)
        exp_avg    <- b1 * exp_avg    + (1 - b1) * g
        exp_avg_sq <- b2 * exp_avg_sq + (1 - b2) * g^2
        w <- w - lr / (1 - b1^t) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - b2^t) + eps)

    Without the corrections 1 - b^t the zero-initialised moments would make the first steps tiny.
    """

    decoupled = False  # AdamW sets this: decay the weights instead of the gradient

    def __init__(self, params: list[Array], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        _check_range("betas[0]", betas[0], 0.0, 1.0)
        _check_range("betas[1]", betas[1], 0.0, 1.0)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def _update(self, p: Array, g: Array, state: dict) -> None:
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]
        if self.weight_decay and self.decoupled:
            p *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            g = g + self.weight_decay * p
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (g - exp_avg)  # = b1 m + (1 - b1) g, written as torch's lerp
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        denom = np.sqrt(exp_avg_sq) / np.sqrt(1 - beta2**t) + self.eps
        p -= self.lr / (1 - beta1**t) * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w <- w (1 - lr wd) before the moments."""

    decoupled = True

    def __init__(self, params: list[Array], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW,
}
