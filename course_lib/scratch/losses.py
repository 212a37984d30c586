"""Losses for classification and regression, written to stay finite for any finite input.

Every loss comes as a pair of functions: ``loss(z, t)`` returns a float, ``loss_grad(z, t)``
returns d loss / d z with the shape of ``z``. Symbols: N examples, C classes, M outputs.

    >>> z = np.array([-1000.0, 0.0, 1000.0]); t = np.array([0.0, 1.0, 1.0])
    >>> binary_cross_entropy_with_logits(z, t)       # finite, where log(sigmoid(z)) is not
    0.23104906018664842

The tricks, in one place:

- sigmoid (``scratch.activations.sigmoid``): evaluate exp only at -|z| (never overflows);
- BCE from logits: ln(1 + e^z) - t z = max(z, 0) - t z + ln(1 + e^-|z|);
- softmax / log-softmax: subtract the row maximum first (log-sum-exp), which changes nothing
  mathematically since softmax(z) = softmax(z - c).

Batch losses are means over the N examples, as in ``torch.nn.functional``; ``squared_error`` is
the sum E = 1/2 sum (y - t)^2 used in the classic backprop derivation (the *mean* squared error
of a linear model is ``scratch.linear.mse``). The sigmoid itself lives in ``scratch.activations``.
"""

from __future__ import annotations

import numpy as np

from course_lib.scratch import activations

Array = np.ndarray


# ---------------------------------------------------------------------------
# Input checks: every public function calls these first
# ---------------------------------------------------------------------------

def _as_float_array(name: str, x: Array) -> Array:
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must have a floating dtype (e.g. float64), got {x.dtype}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite, got {np.size(x) - np.isfinite(x).sum()} nan/inf entries")
    return x


def _same_shape(a_name: str, a: Array, b_name: str, b: Array) -> None:
    # (N,) against (N, 1) would broadcast to (N, N): refuse instead of guessing.
    if a.shape != b.shape:
        raise ValueError(f"{b_name} must have the shape of {a_name} {a.shape}, got {b.shape}")


def _check_binary(z: Array, t: Array) -> None:
    _as_float_array("logits", z)
    _as_float_array("targets", t)
    _same_shape("logits", z, "targets", t)
    if ((t < 0) | (t > 1)).any():
        raise ValueError(f"targets must lie in [0, 1] (labels 0/1 or probabilities), got values in [{t.min()}, {t.max()}]")


def _check_plus_minus(f: Array, y: Array) -> None:
    _as_float_array("scores", f)
    _as_float_array("labels", y)
    _same_shape("scores", f, "labels", y)
    if not np.isin(y, (-1.0, 1.0)).all():
        raise ValueError(f"labels must be -1 or +1, got the values {np.unique(y)[:5]}")


def _check_categorical(z: Array, t: Array) -> None:
    _as_float_array("logits", z)
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {z.shape}")
    if not isinstance(t, np.ndarray) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"targets must be an integer array of class indices, got {getattr(t, 'dtype', type(t).__name__)}")
    if t.shape != (z.shape[0],):
        raise ValueError(f"targets must have shape (N,) = ({z.shape[0]},) to match logits {z.shape}, got {t.shape}")
    if ((t < 0) | (t >= z.shape[1])).any():
        raise ValueError(f"targets must be class indices in 0..{z.shape[1] - 1}, got values in [{t.min()}, {t.max()}]")


# ---------------------------------------------------------------------------
# The binary cross-entropy
# ---------------------------------------------------------------------------

def binary_cross_entropy_with_logits_terms(z: Array, t: Array) -> Array:
    """The BCE of each entry, unchecked and unaveraged: max(z, 0) - t z + ln(1 + e^-|z|), z's shape.

    The one formula behind every BCE in the course; callers that batch many losses at once
    (a grid of networks, a (G, N) array of logits) average it over their own axis.
    """
    return np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_with_logits(z: Array, t: Array) -> float:
    """Mean binary cross-entropy of logits ``z`` against targets ``t`` in [0, 1].

    l = -[t ln sigma(z) + (1 - t) ln(1 - sigma(z))] = max(z, 0) - t z + ln(1 + e^-|z|)

    Shapes: z (N,) or (N, M), t the same shape. Returns the mean over all entries.
    """
    _check_binary(z, t)
    return float(binary_cross_entropy_with_logits_terms(z, t).mean())


def binary_cross_entropy_with_logits_grad(z: Array, t: Array) -> Array:
    """d l / d z = (sigma(z) - t) / n, where n = z.size (the mean): the prediction error."""
    _check_binary(z, t)
    return (activations.sigmoid(z) - t) / z.size


def logistic_loss(f: Array, y: Array) -> float:
    """Mean logistic loss with labels y in {-1, +1}: l = ln(1 + e^(-y f)).

    The same loss as ``binary_cross_entropy_with_logits(f, (y + 1) / 2)``: with t = (y + 1)/2,
    both equal -ln sigma(y f). Shapes: f (N,), y (N,). Computed as softplus(-y f), stably.
    """
    _check_plus_minus(f, y)
    m = -y * f
    return float((np.maximum(m, 0.0) + np.log1p(np.exp(-np.abs(m)))).mean())


def logistic_loss_grad(f: Array, y: Array) -> Array:
    """d l / d f = -y sigma(-y f) / N, shape (N,)."""
    _check_plus_minus(f, y)
    return -y * activations.sigmoid(-y * f) / f.size


# ---------------------------------------------------------------------------
# Softmax and the categorical cross-entropy
# ---------------------------------------------------------------------------

def log_softmax(z: Array) -> Array:
    """log softmax(z)_c = z_c - logsumexp(z), row by row. z (N, C) -> (N, C).

    logsumexp(z) = m + ln sum_c e^(z_c - m) with m = max_c z_c, so the largest exponent is e^0.
    """
    _as_float_array("logits", z)
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {z.shape}")
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z: Array) -> Array:
    """softmax(z)_c = e^(z_c) / sum_k e^(z_k), row by row. z (N, C) -> (N, C); rows sum to 1."""
    return np.exp(log_softmax(z))


def softmax_grad(z: Array, upstream: Array) -> Array:
    """Vector-Jacobian product of softmax: given g = dL/ds (N, C), return dL/dz (N, C).

    The Jacobian is ds_i/dz_j = s_i (delta_ij - s_j), so dL/dz = s * (g - sum_j g_j s_j).
    """
    s = softmax(z)
    _as_float_array("upstream", upstream)
    _same_shape("logits", z, "upstream", upstream)
    return s * (upstream - (upstream * s).sum(axis=1, keepdims=True))


def cross_entropy(z: Array, t: Array) -> float:
    """Mean categorical cross-entropy: l = -(1/N) sum_n log softmax(z_n)[t_n].

    Shapes: z (N, C) logits, t (N,) integer class indices in 0..C-1 (as ``F.cross_entropy``).
    """
    _check_categorical(z, t)
    return float(-log_softmax(z)[np.arange(z.shape[0]), t].mean())


def cross_entropy_grad(z: Array, t: Array) -> Array:
    """d l / d z = (softmax(z) - onehot(t)) / N, shape (N, C): prediction minus target."""
    _check_categorical(z, t)
    y = softmax(z)
    y[np.arange(z.shape[0]), t] -= 1.0
    return y / z.shape[0]


# ---------------------------------------------------------------------------
# Squared error
# ---------------------------------------------------------------------------

def squared_error(y: Array, t: Array) -> float:
    """Half the summed squared error, E = 1/2 sum (y - t)^2 (summed over every entry).

    Shapes: y and t the same, e.g. (N, M). The 1/2 makes the gradient simply y - t.
    """
    _as_float_array("predictions", y)
    _as_float_array("targets", t)
    _same_shape("predictions", y, "targets", t)
    return float(0.5 * ((y - t) ** 2).sum())


def squared_error_grad(y: Array, t: Array) -> Array:
    """dE/dy = y - t, same shape as ``y``."""
    _as_float_array("predictions", y)
    _as_float_array("targets", t)
    _same_shape("predictions", y, "targets", t)
    return y - t


def mean_squared_error(y: Array, t: Array) -> float:
    """The mean squared error (1/(N M)) sum (y - t)^2 over every entry, as ``torch.nn.MSELoss``.

    Shapes: y and t the same, e.g. (N, M). A mean, so the gradient's scale does not grow with the
    batch size: the learning rate of a regression means the same for any batch.
    """
    _as_float_array("predictions", y)
    _as_float_array("targets", t)
    _same_shape("predictions", y, "targets", t)
    return float(((y - t) ** 2).mean())


def mean_squared_error_grad(y: Array, t: Array) -> Array:
    """d MSE / dy = 2 (y - t) / (N M), same shape as ``y``."""
    _as_float_array("predictions", y)
    _as_float_array("targets", t)
    _same_shape("predictions", y, "targets", t)
    return 2.0 * (y - t) / y.size
