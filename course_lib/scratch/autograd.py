"""A scalar autograd engine: every number remembers how it was made, so it can pass gradients back.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = (a * b + a.exp()).tanh()
    >>> c.backward()                    # fills a.grad and b.grad with dc/da and dc/db
    >>> round(a.grad, 6), round(b.grad, 6)
    (0.967244, 0.440753)

Each operation builds a new ``Value`` whose ``_backward`` closure knows the local derivative
of that one operation; ``backward()`` visits the graph from the output back to the inputs
(reverse topological order) and applies the chain rule: child.grad += local * out.grad.
Gradients are *accumulated* (``+=``) because a value used twice receives gradient from both uses.
Across calls to ``backward`` only the leaves (the inputs you made) keep accumulating, as in torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from course_lib.scratch import activations


class Value:
    """One scalar in a computation graph: ``data`` (the number) and ``grad`` (d output / d data)."""

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise ValueError(f"Value holds a Python int or float, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = _children
        self._op = _op

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # -- arithmetic ---------------------------------------------------------

    def __add__(self, other: Value | float) -> Value:
        other = _wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a+b)/da = d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = _wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        """a ** k for a constant k. A negative base to a non-integer power is not a real number:
        that is a ValueError here (torch returns NaN). a ** 0 = 1 with derivative 0, also at a = 0."""
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise ValueError(f"the exponent must be an int or float constant, got {type(exponent).__name__}")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(f"a negative base to a fractional power is not a real number: ({self.data}) ** {exponent}")
        if self.data == 0 and exponent < 0:
            raise ValueError(f"0 to a negative power is infinite: (0.0) ** {exponent}")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:  # d(a^k)/da = k a^(k-1); for k = 0 the constant 1 has derivative 0
            if exponent != 0:
                self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-_wrap(other))

    def __truediv__(self, other: Value | float) -> Value:
        return self * _wrap(other) ** -1

    # Python calls these when the left operand is a plain number, as in 2 * a or 1 - a.
    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return _wrap(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return _wrap(other) / self

    # -- elementary functions -------------------------------------------------

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:  # d e^a / da = e^a
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log needs a positive argument, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:  # d ln a / da = 1 / a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:  # d tanh a / da = 1 - tanh(a)^2
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(0.0 if self.data <= 0 else self.data, (self,), "relu")  # NaN stays NaN, as in torch

        def _backward() -> None:  # 0 where a <= 0 (torch's choice at a = 0 too), else 1: NaN passes, as in torch
            self.grad += 0.0 if self.data <= 0 else out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        out = Value(float(activations.sigmoid(np.float64(self.data))), (self,), "sigmoid")  # the one sigmoid

        def _backward() -> None:  # d sigma / da = sigma (1 - sigma)
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    # -- the chain rule over the whole graph ------------------------------------

    def backward(self) -> None:
        """Set ``self.grad = 1`` and add d self / d v into ``v.grad`` for every leaf v of the graph.

        Semantics, as torch's: *leaves* (values made by the user, not by an operation) accumulate,
        so a second ``backward()`` adds the gradient again; call ``zero_grad`` on them first to start
        over. *Interior* nodes (results of operations) are reset to 0 before each pass, so
        leftovers from an earlier pass never leak into this one; after it they hold d self / d node.
        """
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0  # d self / d self; an interior root was just reset, a leaf root accumulates
        for node in reversed(order):  # outputs first: a node's grad is complete before it is used
            node._backward()


def _wrap(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, each listed after all of its inputs (root last).

    An iterative depth-first search, so deep graphs do not hit Python's recursion limit.
    """
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))  # revisit after the children below are finished
            stack.extend((child, False) for child in node._prev)
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Reset ``grad`` to 0 on each value (the parameters), before the next ``backward``."""
    for v in values:
        v.grad = 0.0
