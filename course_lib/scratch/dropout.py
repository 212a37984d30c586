"""Inverted dropout (Srivastava et al., 2014) as a scratch layer, with torch's convention for p.

    >>> drop = Dropout(p=0.5, rng=np.random.default_rng(0))
    >>> y = drop(x)              # train mode: each entry zeroed with probability p, survivors / (1 - p)
    >>> drop.eval(); drop(x)     # eval mode: the identity

Shapes: x, y, dout, dx (N, D) (any shape works: the mask has x's shape).

``p`` is the probability of **dropping** a unit, as in ``torch.nn.Dropout`` (the original paper's
p is the probability of *keeping* one). In train mode, with a fresh mask m of Bernoulli(1 - p) draws:

    y = x * m / (1 - p)            E[y] = x * (1 - p) / (1 - p) = x
    dx = dout * m / (1 - p)        (the same mask: a dropped unit passes no gradient)

Scaling the survivors at train time ("inverted" dropout) keeps each unit's expected value, so at
test time the network runs unchanged. The original recipe instead multiplied the weights by
(1 - p) at test time, which is the same in expectation but must be remembered at every use.
At test time the full network approximates the average of the exponentially many thinned networks
seen in training: dropout as a cheap ensemble.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.layers import Layer, _check_input

Array = np.ndarray


class Dropout(Layer):
    """Zero each entry with probability ``p`` in train mode and scale the rest by 1 / (1 - p)."""

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"p is the probability of zeroing a unit and must lie in [0, 1), got {p!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.p, self.rng = float(p), rng

    def forward(self, x: Array) -> Array:
        _check_input("Dropout", x)
        if not self.training or self.p == 0:
            self.cache = (None, x.shape)
            return x
        # keep with probability 1 - p; the scale is folded into the mask so backward reuses it
        mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / x.dtype.type(1 - self.p)
        self.cache = (mask, x.shape)
        return x * mask

    def backward(self, dout: Array) -> Array:
        mask, shape = self._cached()
        self._check_dout(dout, shape)
        return dout if mask is None else dout * mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
