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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable


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
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise ValueError(f"the exponent must be an int or float constant, got {type(exponent).__name__}")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:  # d(a^k)/da = k a^(k-1)
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
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:  # 1 where a > 0, else 0 (torch's choice at a = 0 too)
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        # Exponentiate only -|a| so large |a| cannot overflow.
        e = math.exp(-abs(self.data))
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:  # d sigma / da = sigma (1 - sigma)
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    # -- the chain rule over the whole graph ------------------------------------

    def backward(self) -> None:
        """Set ``self.grad = 1`` and propagate d self / d v into every ``v.grad`` of the graph.

        Gradients add up: call ``zero_grad`` on the inputs first when reusing them.
        """
        order = topological_order(self)
        self.grad = 1.0
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
