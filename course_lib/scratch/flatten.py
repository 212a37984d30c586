"""Flatten: the bridge from feature maps to a dense layer.

x (N, C, H, W) -> (N, C H W), each example's values in C, then H, then W order (torch's order, so
weights copied between a scratch net and ``torch.nn.Flatten`` + ``nn.Linear`` line up).
Backward only reshapes: flattening moves numbers, it does not change them.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.layers import Layer

Array = np.ndarray


class Flatten(Layer):
    """x (N, d1, d2, ...) -> (N, d1 d2 ...); dx = dout reshaped back to x's shape."""

    def forward(self, x: Array) -> Array:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"Flatten expects x of shape (N, ...) with a batch axis, got {getattr(x, 'shape', type(x).__name__)}")
        self.cache = (x.shape,)
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: Array) -> Array:
        (shape,) = self._cached()
        self._check_dout(dout, (shape[0], int(np.prod(shape[1:]))))
        return dout.reshape(shape)
