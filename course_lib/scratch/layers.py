"""A layer engine: each layer computes its output (forward) and passes gradients back (backward).

    >>> rng = np.random.default_rng(0)
    >>> net = Sequential(Linear(2, 8, rng), Tanh(), Linear(8, 2, rng))
    >>> loss = SoftmaxCrossEntropy()
    >>> value = loss.forward(net.forward(X), y)     # X (N, 2), y (N,) class indices
    >>> opt = SGD(net.parameters(), lr=0.1)         # scratch.optim, as torch.optim
    >>> opt.zero_grad()                              # every parameter's grad is None
    >>> net.backward(loss.backward())               # adds dL/dp into every p.grad
    >>> opt.step()

``scratch.train.fit`` runs this step over the mini-batches of every epoch.

Where the scalar engine (``autograd.Value``) differentiates one number at a time, a layer
differentiates whole arrays: ``backward(dout)`` receives dL/d(output), with the output's shape,
adds dL/d(parameter) into each ``Parameter``'s ``grad`` (see ``scratch.parameter``) and returns
dL/d(input). The forward pass keeps in ``cache``
what the backward pass will need, so backward before forward is an error, never a silent 0.

Shapes: N batch, D inputs, M outputs, C classes. Weights are stored (D, M) so that y = x W + b.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from course_lib.scratch import activations, losses
from course_lib.scratch.parameter import Parameter

Array = np.ndarray


class Layer:
    """Base class, like ``torch.nn.Module``: parameters, sub-layers, and a train/eval mode.

    ``params`` maps names ("W", "b") to ``Parameter`` objects; ``children()`` lists sub-layers
    (a ``Sequential``'s layers); ``parameters()`` yields every ``Parameter`` of the layer and its
    children, in order, which is what an optimizer takes; ``named_parameters()`` names them as torch
    does ("0.W"). ``buffers`` holds arrays that are not trained but belong to the model, such as
    batch norm's running statistics (torch's ``register_buffer``); ``state_dict()`` /
    ``load_state_dict()`` save and restore parameters and buffers together.
    ``training`` is True until ``eval()``: layers that behave differently at test time (dropout,
    batch norm) read it.
    """

    def __init__(self) -> None:
        self.params: dict[str, Parameter] = {}
        self.buffers: dict[str, Array] = {}
        self.cache: tuple | None = None
        self.training = True

    def children(self) -> list[Layer]:
        return []

    def parameters(self) -> Iterator[Parameter]:
        yield from self.params.values()
        for child in self.children():
            yield from child.parameters()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(name, Parameter) pairs, as torch names them: "W" here, "0.W", "2.b" in a Sequential."""
        for name, p in self.params.items():
            yield prefix + name, p
        for i, child in enumerate(self.children()):
            yield from child.named_parameters(f"{prefix}{i}.")

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Array]]:
        """(name, array) pairs for every buffer, named like the parameters ("1.running_mean")."""
        for name, b in self.buffers.items():
            yield prefix + name, b
        for i, child in enumerate(self.children()):
            yield from child.named_buffers(f"{prefix}{i}.")

    def state_dict(self) -> dict[str, Array]:
        """{name: copy} of every parameter's values and every buffer: later training cannot change it."""
        return {name: a.copy() for name, a in self._state_arrays().items()}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Copy ``state`` (from ``state_dict`` of the same architecture) into the model, **in place**,
        so an optimizer that holds the parameters keeps working on the restored values."""
        own = self._state_arrays()
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"state does not fit this model: missing {missing}, unexpected {unexpected}")
        for name, target in own.items():
            if np.shape(state[name]) != target.shape:
                raise ValueError(f"state[{name!r}] has shape {np.shape(state[name])}, the model's has {target.shape}")
            target[...] = state[name]

    def _state_arrays(self) -> dict[str, Array]:
        return {name: p.data for name, p in self.named_parameters()} | dict(self.named_buffers())

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``), as torch's ``zero_grad()`` does."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Layer:
        """Set training mode here and in every sub-layer; returns the layer, like torch."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def __call__(self, x: Array) -> Array:
        return self.forward(x)

    def _cached(self) -> tuple:
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: run forward first")
        return self.cache

    def _check_dout(self, dout: Array, shape: tuple[int, ...]) -> None:
        if not isinstance(dout, np.ndarray) or dout.shape != shape:
            raise ValueError(
                f"{type(self).__name__}.backward expects dout of the output's shape {shape}, "
                f"got {getattr(dout, 'shape', type(dout).__name__)}"
            )


def _check_input(layer: str, x: Array, features: int | None = None) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise ValueError(f"{layer} expects x of shape (N, D), got {getattr(x, 'shape', type(x).__name__)}")
    if features is not None and x.shape[1] != features:
        raise ValueError(f"{layer} expects x of shape (N, {features}), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{layer} expects finite inputs, got nan or inf")


def _check_batch(layer: str, x: Array) -> None:
    """For elementwise layers: any array (N, ...) with a batch axis, (N, D) or images (N, C, H, W)."""
    if not isinstance(x, np.ndarray) or x.ndim < 2:
        raise ValueError(f"{layer} expects x of shape (N, ...), got {getattr(x, 'shape', type(x).__name__)}")
    if not np.isfinite(x).all():
        raise ValueError(f"{layer} expects finite inputs, got nan or inf")


# ---------------------------------------------------------------------------
# Linear layer and activations
# ---------------------------------------------------------------------------

class Linear(Layer):
    """y = x W + b.   x (N, D), W (D, M), b (M,), y (N, M).

    Initialized like ``torch.nn.Linear``: W and b uniform in +-1/sqrt(D), drawn from ``rng``.
    Backward: dW = x^T dout (D, M), db = sum_n dout (M,), dx = dout W^T (N, D).
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, dtype: type = np.float64) -> None:
        super().__init__()
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        bound = 1.0 / np.sqrt(in_features)
        self.params["W"] = Parameter(rng.uniform(-bound, bound, size=(in_features, out_features)).astype(dtype))
        self.params["b"] = Parameter(rng.uniform(-bound, bound, size=out_features).astype(dtype))

    def forward(self, x: Array) -> Array:
        W, b = self.params["W"].data, self.params["b"].data
        _check_input("Linear", x, W.shape[0])
        self.cache = (x,)
        return x @ W + b

    def backward(self, dout: Array) -> Array:
        (x,) = self._cached()
        W = self.params["W"].data
        self._check_dout(dout, (x.shape[0], W.shape[1]))
        self.params["W"].accumulate_grad(x.T @ dout)  # each weight w_dm touches every example: sum over n
        self.params["b"].accumulate_grad(dout.sum(axis=0))
        return dout @ W.T


class Sigmoid(Layer):
    """y = 1 / (1 + e^-x), elementwise; dx = dout * y (1 - y). x, y (N, ...), any shape with a batch axis."""

    def forward(self, x: Array) -> Array:
        _check_batch("Sigmoid", x)
        y = activations.sigmoid(x)
        self.cache = (y,)  # the derivative only needs the output
        return y

    def backward(self, dout: Array) -> Array:
        (y,) = self._cached()
        self._check_dout(dout, y.shape)
        return dout * y * (1.0 - y)


class Tanh(Layer):
    """y = tanh(x), elementwise; dx = dout * (1 - y^2). x, y (N, ...), any shape with a batch axis."""

    def forward(self, x: Array) -> Array:
        _check_batch("Tanh", x)
        y = np.tanh(x)
        self.cache = (y,)
        return y

    def backward(self, dout: Array) -> Array:
        (y,) = self._cached()
        self._check_dout(dout, y.shape)
        return dout * (1.0 - y * y)


class ReLU(Layer):
    """y = max(x, 0), elementwise; dx = dout where x > 0, else 0. x, y (N, ...): (N, D) or (N, C, H, W)."""

    def forward(self, x: Array) -> Array:
        _check_batch("ReLU", x)
        mask = x > 0
        self.cache = (mask,)
        return x * mask

    def backward(self, dout: Array) -> Array:
        (mask,) = self._cached()
        self._check_dout(dout, mask.shape)
        return dout * mask


class LeakyReLU(Layer):
    """y = x where x > 0, else a x (a = ``negative_slope``, torch's default 0.01); dx = dout * (1 or a).

    x, y (N, ...). Below zero the gradient is a, never 0: a unit cannot die as a ReLU unit can.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Array) -> Array:
        _check_batch("LeakyReLU", x)
        self.cache = (x,)
        return activations.leaky_relu(x, self.negative_slope)

    def backward(self, dout: Array) -> Array:
        (x,) = self._cached()
        self._check_dout(dout, x.shape)
        return dout * activations.leaky_relu_grad(x, self.negative_slope)


class ELU(Layer):
    """y = x where x > 0, else a (e^x - 1) (a = ``alpha``, default 1); dx = dout * (1 or a e^x).

    x, y (N, ...). Smooth at 0 for a = 1, and saturating to -a for large negative x.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Array) -> Array:
        _check_batch("ELU", x)
        self.cache = (x,)
        return activations.elu(x, self.alpha)

    def backward(self, dout: Array) -> Array:
        (x,) = self._cached()
        self._check_dout(dout, x.shape)
        return dout * activations.elu_grad(x, self.alpha)


class Identity(Layer):
    """y = x; dx = dout. The "linear" activation: a network of Linear and Identity layers is affine."""

    def forward(self, x: Array) -> Array:
        _check_batch("Identity", x)
        self.cache = (x.shape,)
        return x

    def backward(self, dout: Array) -> Array:
        (shape,) = self._cached()
        self._check_dout(dout, shape)
        return dout


class Sequential(Layer):
    """f = f_L o ... o f_1: forward runs the layers in order, backward in reverse."""

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        self.layers = list(layers)

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: Array) -> Array:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def children(self) -> list[Layer]:
        return self.layers


# ---------------------------------------------------------------------------
# Losses: forward(prediction, target) -> float, backward() -> d loss / d prediction
# ---------------------------------------------------------------------------

class Loss:
    """A loss layer ends the graph: its backward takes no upstream gradient (dL/dL = 1).

    Each subclass names the pair of functions from ``scratch.losses`` it wraps: ``value(z, t)``
    for forward and ``grad(z, t)`` for backward.
    """

    value: Callable[[Array, Array], float]
    grad: Callable[[Array, Array], Array]

    def __init__(self) -> None:
        self.cache: tuple | None = None

    def __call__(self, z: Array, t: Array) -> float:
        return self.forward(z, t)

    def forward(self, z: Array, t: Array) -> float:
        loss = self.value(z, t)  # validates shapes and labels before anything is cached
        self.cache = (z, t)
        return loss

    def backward(self) -> Array:
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: run forward first")
        return self.grad(*self.cache)


class SquaredError(Loss):
    """E = 1/2 sum (y - t)^2 over every entry; dE/dy = y - t.   y, t (N, M).

    The classic backprop loss: a sum, halved, not torch's ``MSELoss`` (a mean).
    """

    value, grad = staticmethod(losses.squared_error), staticmethod(losses.squared_error_grad)


class SoftmaxCrossEntropy(Loss):
    """Mean cross-entropy of softmax(z) against class indices t.   z (N, C), t (N,) int."""

    value, grad = staticmethod(losses.cross_entropy), staticmethod(losses.cross_entropy_grad)


class BCEWithLogits(Loss):
    """Mean binary cross-entropy of sigmoid(z) against t in [0, 1].   z, t (N, 1) or (N,)."""

    value = staticmethod(losses.binary_cross_entropy_with_logits)
    grad = staticmethod(losses.binary_cross_entropy_with_logits_grad)


class MeanSquaredError(Loss):
    """Mean of (y - t)^2 over every entry, as torch's ``MSELoss``; dL/dy = 2 (y - t) / (N M).   y, t (N, M)."""

    value, grad = staticmethod(losses.mean_squared_error), staticmethod(losses.mean_squared_error_grad)
