"""A trainable array and its gradient: the one protocol between scratch models and optimizers.

    >>> W = Parameter(rng.normal(size=(D, M)))
    >>> W.grad is None                       # no gradient before the first backward
    True
    >>> W.accumulate_grad(dW)                # a layer's backward adds dL/dW (shape (D, M))
    >>> opt = SGD([W], lr=0.1); opt.step()   # reads W.grad, updates W.data in place
    >>> opt.zero_grad()                      # W.grad is None again

This mirrors ``torch.nn.Parameter``: ``data`` holds the values, ``grad`` the gradient of the loss
with respect to them, with the same shape. Gradients *add up* across backward calls, as in torch,
so a parameter used twice in a forward pass gets the sum of both contributions; that is why a
training step starts with ``zero_grad()``.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


class Parameter:
    """``data``: a floating-point array of any shape; ``grad``: ``None`` or an array of ``data``'s shape."""

    __slots__ = ("data", "grad")

    def __init__(self, data: Array) -> None:
        if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.floating):
            kind = getattr(data, "dtype", type(data).__name__)
            raise ValueError(f"a Parameter holds a floating-point NumPy array, got {kind}")
        self.data = data
        self.grad: Array | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def accumulate_grad(self, g: Array) -> None:
        """grad <- grad + g (grad <- a copy of g when there is none yet). g has ``data``'s shape."""
        if np.shape(g) != self.data.shape:
            raise ValueError(f"gradient must have the parameter's shape {self.data.shape}, got {np.shape(g)}")
        if self.grad is None:
            self.grad = np.array(g, dtype=self.data.dtype)  # a copy: later additions never touch g
        else:
            self.grad += g

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, grad={'set' if self.grad is not None else None})"


def parameter_list(params: object, caller: str) -> list[Parameter]:
    """The Parameters a function acts on, from a model (anything with ``parameters()``, like a
    scratch ``Layer``), one Parameter, or an iterable of Parameters; anything else, None included,
    is an error naming ``caller`` and the position of the offending item.
    """
    if isinstance(params, Parameter):
        return [params]
    if hasattr(params, "parameters"):
        params = params.parameters()
    elif not hasattr(params, "__iter__"):
        raise ValueError(f"{caller} expects a model or an iterable of Parameters, got {type(params).__name__}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            got = "None (a missing parameter?)" if p is None else type(p).__name__
            if isinstance(p, np.ndarray):
                got += " (wrap an array w as Parameter(w))"
            raise ValueError(f"{caller}: params[{i}] must be a Parameter, got {got}")
    return params
