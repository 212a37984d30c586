"""Batch normalization (Ioffe & Szegedy, 2015) as a scratch layer, matching ``torch.nn.BatchNorm1d``.

    >>> bn = BatchNorm1d(D)                 # gamma = 1, beta = 0, running_mean = 0, running_var = 1
    >>> y = bn(x)                           # train mode: normalize with the batch's own statistics
    >>> dx = bn.backward(dout)              # adds dL/dgamma, dL/dbeta into the parameters' grad
    >>> bn.eval(); y = bn(x_test)           # eval mode: normalize with the running statistics

Shapes: x, y, dout, dx (N, D); gamma, beta, running_mean, running_var (D,). Each of the D features
is normalized over the N examples of the batch, then scaled and shifted by learned gamma and beta:

    mu = 1/N sum_n x_n            var = 1/N sum_n (x_n - mu)^2        (biased: divide by N)
    x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta

Running statistics, updated at every train-mode forward (torch's convention, momentum = 0.1)::

    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var * N / (N - 1)   (unbiased)

Note the direction: momentum weighs the *new* batch (Keras's momentum=0.99 weighs the old value).
With ``momentum=None`` the running statistics are the plain average over all batches so far.
In eval mode the layer is a fixed affine map: x_hat = (x - running_mean) / sqrt(running_var + eps).

Backward in train mode (the compact formula). With s = 1 / sqrt(var + eps) and dx_hat = dout * gamma,
x_hat_i depends on x_k directly, through mu and through var:

    d mu / d x_k = 1/N,    d var / d x_k = 2 (x_k - mu) / N,    d s / d var = -s^3 / 2
    d x_hat_i / d x_k = s (delta_ik - 1/N) - s^3 (x_i - mu)(x_k - mu) / N
                      = s (delta_ik - 1/N - x_hat_i x_hat_k / N)

and summing over i (for each feature separately):

    dx_k = s * (dx_hat_k - mean_n(dx_hat) - x_hat_k * mean_n(dx_hat * x_hat))

Both means are already known: mean_n(dx_hat) = gamma dbeta / N and mean_n(dx_hat x_hat) =
gamma dgamma / N, with the parameter gradients

    dgamma = sum_n dout * x_hat,    dbeta = sum_n dout

so the whole backward pass is

    dx = gamma * s / N * (N * dout - dbeta - x_hat * dgamma)

The two subtracted terms are why a constant shift or a rescaling of a feature's inputs leaves the
loss unchanged: the gradient has no component along those directions. (In eval mode mu and var
are constants and dx = dout * gamma * s.)
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch.layers import Layer, _check_input
from course_lib.scratch.parameter import Parameter

Array = np.ndarray


class BatchNorm1d(Layer):
    """Batch normalization over (N, D) inputs, with learned ``gamma`` (torch: weight) and ``beta`` (bias).

    ``buffers`` holds the state that is not trained but must be saved with the model (torch's
    ``register_buffer``): ``running_mean``, ``running_var`` and ``num_batches_tracked``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, dtype: type = np.float64) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1] or be None (cumulative average), got {momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.params["gamma"] = Parameter(np.ones(num_features, dtype=dtype))
        self.params["beta"] = Parameter(np.zeros(num_features, dtype=dtype))
        self.buffers = {
            "running_mean": np.zeros(num_features, dtype=dtype),
            "running_var": np.ones(num_features, dtype=dtype),
            "num_batches_tracked": np.zeros((), dtype=np.int64),
        }

    @property
    def running_mean(self) -> Array:
        return self.buffers["running_mean"]

    @property
    def running_var(self) -> Array:
        return self.buffers["running_var"]

    def forward(self, x: Array) -> Array:
        _check_input("BatchNorm1d", x, self.num_features)
        gamma, beta = self.params["gamma"].data, self.params["beta"].data
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(
                    f"BatchNorm1d in train mode needs a batch of at least 2 examples to estimate a variance, "
                    f"got x of shape {x.shape}; use a larger batch or call eval() to use the running statistics"
                )
            mu = x.mean(axis=0)
            centered = x - mu
            var = np.mean(centered * centered, axis=0)  # biased (divide by N): what the normalization uses
            self._update_running(mu, var * n / (n - 1))
        else:
            centered, var = x - self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = centered * inv_std
        self.cache = (x_hat, inv_std, self.training)
        return gamma * x_hat + beta

    def backward(self, dout: Array) -> Array:
        x_hat, inv_std, batch_stats = self._cached()
        self._check_dout(dout, x_hat.shape)
        gamma = self.params["gamma"].data
        dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        self.params["gamma"].accumulate_grad(dgamma)
        self.params["beta"].accumulate_grad(dbeta)
        if not batch_stats:
            return dout * (gamma * inv_std)  # eval mode: mu and var are constants
        n = dout.shape[0]
        return (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)

    def _update_running(self, mu: Array, unbiased_var: Array) -> None:
        """In place, like torch: running <- (1 - m) running + m batch, with m = 1/t for momentum=None."""
        self.buffers["num_batches_tracked"] += 1
        m = 1.0 / int(self.buffers["num_batches_tracked"]) if self.momentum is None else self.momentum
        self.running_mean[...] = (1 - m) * self.running_mean + m * mu
        self.running_var[...] = (1 - m) * self.running_var + m * unbiased_var

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum})"
