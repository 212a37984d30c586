"""Gradient-descent optimizers over ``Parameter`` objects, written to match ``torch.optim``.

    >>> net = Sequential(Linear(2, 8, rng), Tanh(), Linear(8, 2, rng))
    >>> opt = Adam(net.parameters(), lr=1e-3)
    >>> for X, t in minibatches(X_train, t_train, 32, rng):
    ...     opt.zero_grad()                         # every p.grad = None
    ...     loss.forward(net(X), t)
    ...     net.backward(loss.backward())           # fills every p.grad
    ...     opt.step()                              # updates every p.data IN PLACE, like torch

Conventions (the same as torch.optim, so trajectories can be compared step by step):

- ``params`` is an iterable of ``Parameter`` (``scratch.parameter``), or of dicts
  ``{"params": [...], "lr": ...}`` (parameter groups, each with its own hyper-parameters).
  ``step()`` reads each ``p.grad`` (same shape as ``p.data``), skips parameters whose grad is
  ``None``, and **updates ``p.data`` in place**; the gradients are not changed.
- ``param_groups`` is a list of dicts holding ``"params"`` and every hyper-parameter, so a
  schedule changes the rate between steps with ``opt.param_groups[0]["lr"] = ...``.
- ``state[p]`` is a dict with torch's keys: ``momentum_buffer`` (SGD), ``step``, ``sum``
  (Adagrad), ``square_avg`` (RMSprop), ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq`` (Adam).
  ``state_dict()`` / ``load_state_dict()`` save and restore both, parameters named by position.
- Names and defaults are torch's: ``SGD(lr=1e-3)``, ``Adagrad(lr=1e-2)``, ``RMSprop(lr=1e-2)``,
  ``Adam(lr=1e-3)``, ``AdamW(lr=1e-3, weight_decay=1e-2)``.
- ``maximize=True`` climbs instead of descending (the gradient's sign is flipped first).
- ``weight_decay`` is an L2 term added to the gradient (g <- g + wd * w), except in AdamW,
  which shrinks the weights directly (w <- w (1 - lr wd)) before the moments are updated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np

from course_lib.scratch.parameter import Parameter, parameter_list

Array = np.ndarray
ParamGroup = dict


class Optimizer:
    """Base class: parameter groups, one state dict per parameter, ``step`` and ``zero_grad``.

    A subclass passes its hyper-parameters as ``defaults``, checks them in ``_check_group`` and
    implements the rule for one parameter in ``_update(w, g, state, group)``.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], defaults: dict) -> None:
        self.defaults = dict(defaults, maximize=defaults.get("maximize", False))
        self.param_groups: list[ParamGroup] = []
        self.state: dict[Parameter, dict] = {}
        groups = list(params)
        if not groups:
            raise ValueError("params must be a non-empty iterable of Parameters, got an empty one")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: ParamGroup) -> None:
        """Add a dict ``{"params": Parameters, hyper-parameter: value, ...}``; missing values take the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise ValueError(f"a parameter group is a dict with a 'params' entry, got {type(group).__name__}")
        params = parameter_list(group["params"], type(self).__name__)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(f"params[{i}] appears twice: a parameter may belong to one group only, once")
            seen.add(id(p))
        group = {**self.defaults, **group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: ParamGroup) -> None:
        if group["lr"] < 0:
            raise ValueError(f"lr must be >= 0, got {group['lr']}")

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``), as torch does by default."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, by the rule of this optimizer."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue  # not used in this forward pass: torch leaves it alone too
                if np.shape(p.grad) != p.data.shape:
                    raise ValueError(f"a gradient must have its parameter's shape {p.data.shape}, got {np.shape(p.grad)}")
                g = np.asarray(p.grad, dtype=p.data.dtype)
                if group["maximize"]:
                    g = -g
                self._update(p.data, g, self.state.setdefault(p, {}), group)

    def _update(self, w: Array, g: Array, state: dict, group: ParamGroup) -> None:
        raise NotImplementedError  # each optimizer below defines its own rule

    # --- saving and restoring ------------------------------------------------------------------

    def state_dict(self) -> dict:
        """``{"state": {index: {key: value}}, "param_groups": [{..., "params": [index, ...]}]}``, as torch.

        Parameters are named by their position across the groups, so the dict can be loaded into
        a new optimizer over another model of the same shape. Arrays are copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**group, "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(p)]: copy.deepcopy(s) for g in self.param_groups for p in g["params"]
                 if (s := self.state.get(p))}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take hyper-parameters and state from ``state_dict()`` of an optimizer with the same groups."""
        groups = state_dict["param_groups"]
        sizes, expected = [len(g["params"]) for g in groups], [len(g["params"]) for g in self.param_groups]
        if sizes != expected:
            raise ValueError(f"the state dict has groups of sizes {sizes}, this optimizer {expected}")
        params = [p for g in self.param_groups for p in g["params"]]
        saved_index = [i for g in groups for i in g["params"]]
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, p in zip(saved_index, params):
            if i in state_dict["state"]:
                s = copy.deepcopy(state_dict["state"][i])
                for key, value in s.items():
                    if isinstance(value, np.ndarray):
                        if value.shape != p.data.shape:
                            raise ValueError(f"state {key!r} has shape {value.shape}, its parameter {p.data.shape}")
                        s[key] = value.astype(p.data.dtype)
                self.state[p] = s

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v}" for k, v in self.param_groups[0].items() if k != "params")
        return f"{type(self).__name__}({len(self.param_groups)} group(s), {hyper})"


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value < high:
        raise ValueError(f"{name} must lie in [{low}, {high}), got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

    Per parameter w with gradient g (torch's order)::

        g <- -g  if maximize
        g <- g + weight_decay * w
        if momentum:
            buf <- g                                   on the first step
            buf <- momentum * buf + (1 - dampening) * g   afterwards
            g <- g + momentum * buf  if nesterov  else  buf
        w <- w - lr * g

    The velocity is accumulated in gradient units and multiplied by the *current* lr, so a
    learning-rate schedule takes effect at once (the textbook v <- m v - lr g form would lag).
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        _check_range("momentum", group["momentum"], 0.0, 1.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, w: Array, g: Array, state: dict, group: ParamGroup) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + momentum * buf if group["nesterov"] else buf
        w -= group["lr"] * g


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    Per parameter (torch's order)::

        step <- step + 1
        g <- -g  if maximize;  g <- g + weight_decay * w
        clr = lr / (1 + (step - 1) * lr_decay)
        sum <- sum + g^2                     (sum starts at initial_accumulator_value)
        w <- w - clr * g / (sqrt(sum) + eps)
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:  # torch fills the state at construction
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        if group["lr_decay"] < 0 or group["initial_accumulator_value"] < 0 or group["eps"] < 0:
            raise ValueError(f"lr_decay, initial_accumulator_value and eps must be >= 0, got {group['lr_decay']}, "
                             f"{group['initial_accumulator_value']}, {group['eps']}")

    def _update(self, w: Array, g: Array, state: dict, group: ParamGroup) -> None:
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        w -= clr * g / (np.sqrt(state["sum"]) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop: divide the step by a running root-mean-square of the gradients.

    Per parameter (torch's order; no bias correction, eps outside the root)::

        step <- step + 1
        g <- -g  if maximize;  g <- g + weight_decay * w
        square_avg <- alpha * square_avg + (1 - alpha) * g^2
        avg = sqrt(square_avg - grad_avg^2) if centered else sqrt(square_avg), then + eps
                                             (grad_avg <- alpha * grad_avg + (1 - alpha) * g)
        if momentum:  buf <- momentum * buf + g / avg;  w <- w - lr * buf
        else:         w <- w - lr * g / avg
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        _check_range("alpha", group["alpha"], 0.0, 1.0)
        _check_range("momentum", group["momentum"], 0.0, 1.0)

    def _update(self, w: Array, g: Array, state: dict, group: ParamGroup) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=np.zeros_like(w))
            if momentum:
                state["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            state["grad_avg"] += (1 - alpha) * (g - state["grad_avg"])
            avg = np.sqrt(square_avg - state["grad_avg"] ** 2) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if momentum:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            w -= group["lr"] * buf
        else:
            w -= group["lr"] * g / avg


class Adam(Optimizer):
    """Adam: momentum (first moment) divided by an RMS (second moment), both bias-corrected.

    Per parameter (torch's order)::

        step <- step + 1                                   (t = step)
        g <- -g  if maximize
        g <- g + weight_decay * w                          (Adam: L2 in the gradient)
        exp_avg    <- b1 * exp_avg    + (1 - b1) * g
        exp_avg_sq <- b2 * exp_avg_sq + (1 - b2) * g^2
        v = max_exp_avg_sq <- max(max_exp_avg_sq, exp_avg_sq)  if amsgrad  else  exp_avg_sq
        w <- w - lr / (1 - b1^t) * exp_avg / (sqrt(v) / sqrt(1 - b2^t) + eps)

    Without the corrections 1 - b^t the zero-initialised moments would make the first steps tiny.
    AMSGrad (Reddi et al. 2018) divides by the largest second moment seen so far, so the
    effective step of a coordinate never grows again.
    """

    decoupled = False  # AdamW sets this: decay the weights instead of the gradient

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        _check_range("betas[0]", group["betas"][0], 0.0, 1.0)
        _check_range("betas[1]", group["betas"][1], 0.0, 1.0)

    def _update(self, w: Array, g: Array, state: dict, group: ParamGroup) -> None:
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(w)
        (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        state["step"] += 1
        t = state["step"]
        if wd and self.decoupled:
            w *= 1 - lr * wd
        elif wd:
            g = g + wd * w
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (g - exp_avg)  # = b1 m + (1 - b1) g, written as torch's lerp
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = np.sqrt(exp_avg_sq) / np.sqrt(1 - beta2**t) + group["eps"]
        w -= lr / (1 - beta1**t) * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w <- w (1 - lr wd) before the moments."""

    decoupled = True

    def __init__(self, params: Iterable[Parameter] | Iterable[ParamGroup], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
