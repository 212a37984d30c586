"""Two-dimensional test surfaces for optimizers, each with its exact gradient.

    >>> s = SURFACES["rosenbrock"]()
    >>> s.value(np.array([1.0, 1.0])), s.grad(np.array([0.0, 0.0]))
    (0.0, array([-2., 0.]))
    >>> Z = s.f(X, Y)          # on a grid: X, Y (G, G) -> Z (G, G)
    >>> s.grad(W)              # many points at once: W (K, 2) -> (K, 2)

=============  ===========================================================  ==================
surface        f(x, y)                                                      what it shows
=============  ===========================================================  ==================
quadratic      (lambda_1 x^2 + lambda_2 y^2) / 2, lambda = (1, 10)          conditioning, 2/lambda_max
rosenbrock     (1 - x)^2 + 100 (y - x^2)^2                                  a curved, flat valley
beale          sum_i (c_i - x + x y^i)^2, c = (1.5, 2.25, 2.625)            plateaus and cliffs
saddle         x^2 - y^2 / 2 + y^4 / 4                                      escaping a saddle point
net            loss of a small tanh net at theta* + x d1 + y d2             a real (slice of a) loss
=============  ===========================================================  ==================

The ``net`` surface follows Li et al. (2018, https://arxiv.org/abs/1712.09913): d1, d2 are random
Gaussian directions in parameter space, *filter-normalized* (each output unit's incoming
weights are rescaled to the norm of the trained unit's weights; biases are not moved), so the
picture does not depend on how the weights happen to be scaled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib.data import make_moons
from course_lib.scratch.activations import sigmoid
from course_lib.scratch.losses import binary_cross_entropy_with_logits_terms
from course_lib.scratch.optim import Adam
from course_lib.scratch.parameter import Parameter

Array = np.ndarray


@dataclass(frozen=True)
class Surface:
    """A loss f(x, y) on the plane, its gradient, and how to show it.

    ``f`` works elementwise on arrays of any (same) shape; ``grad`` maps points w (..., 2) to
    gradients (..., 2), so several optimizers can share one call per step.
    ``extent`` = (x_lo, x_hi, y_lo, y_hi) is the box to draw; ``start`` (2,) a good first point;
    ``minimum`` (2,) the global minimiser where known; ``floor`` a lower bound of f used to draw
    f - floor on a log scale; ``hessian`` (2, 2) where f is quadratic; ``fused`` computes f and
    grad in one pass where that saves work (the net's forward pass serves both).
    """

    name: str
    formula: str
    f: Callable[[Array, Array], Array]
    grad: Callable[[Array], Array]
    extent: tuple[float, float, float, float]
    start: Array
    minimum: Array | None = None
    floor: float = 0.0
    hessian: Array | None = None
    grid: tuple[Array, Array, Array] | None = field(default=None, repr=False)
    fused: Callable[[Array], tuple[Array, Array]] | None = field(default=None, repr=False)

    def value(self, w: Array) -> float:
        """f at one point w (2,)."""
        return float(self.f(w[0], w[1]))

    def value_and_grad(self, w: Array) -> tuple[Array, Array]:
        """f (...,) and its gradient (..., 2) at points w (..., 2)."""
        if self.fused is not None:
            return self.fused(w)
        return self.f(w[..., 0], w[..., 1]), self.grad(w)

    def evaluate_grid(self, resolution: int = 100) -> tuple[Array, Array, Array]:
        """Axes xs (R,), ys (R,) and values Z (R, R) (rows = y) over ``extent``; cached when precomputed."""
        if self.grid is not None and self.grid[0].size == resolution:
            return self.grid
        x_lo, x_hi, y_lo, y_hi = self.extent
        xs, ys = np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, self.f(X, Y)


def _vec(gx: Array, gy: Array) -> Array:
    """Pack the partial derivatives (...,) and (...,) into gradients (..., 2)."""
    return np.stack(np.broadcast_arrays(gx, gy), axis=-1).astype(np.float64)


def quadratic(lambdas: tuple[float, float] = (1.0, 10.0)) -> Surface:
    """An ill-conditioned bowl (l1 x^2 + l2 y^2) / 2: Hessian diag(l1, l2), condition number l2 / l1."""
    l1, l2 = lambdas
    if not 0 < l1 <= l2:
        raise ValueError(f"need 0 < lambda_1 <= lambda_2, got {lambdas}")
    return Surface(
        "quadratic", f"({l1:g} x² + {l2:g} y²) / 2",
        f=lambda x, y: 0.5 * (l1 * x**2 + l2 * y**2),
        grad=lambda w: _vec(l1 * w[..., 0], l2 * w[..., 1]),
        extent=(-3.0, 3.0, -2.0, 2.0), start=np.array([-2.5, 1.5]), minimum=np.zeros(2),
        hessian=np.diag([l1, l2]),
    )


def _rosenbrock_grad(x: Array, y: Array) -> Array:
    return _vec(-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2))


def rosenbrock() -> Surface:
    """Rosenbrock's banana: minimum 0 at (1, 1) at the end of a long, curved, nearly flat valley."""
    return Surface(
        "rosenbrock", "(1 − x)² + 100 (y − x²)²",
        f=lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        grad=lambda w: _rosenbrock_grad(w[..., 0], w[..., 1]),
        extent=(-2.0, 2.0, -1.0, 3.0), start=np.array([-1.5, 2.0]), minimum=np.array([1.0, 1.0]),
    )


_BEALE_C = (1.5, 2.25, 2.625)


def _beale_f(x: Array, y: Array) -> Array:
    return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(_BEALE_C))


def _beale_grad(w: Array) -> Array:
    x, y = w[..., 0], w[..., 1]
    gx = gy = 0.0
    for i, c in enumerate(_BEALE_C):
        r = c - x + x * y ** (i + 1)
        gx += 2 * r * (y ** (i + 1) - 1)
        gy += 2 * r * x * (i + 1) * y**i
    return _vec(gx, gy)


def beale() -> Surface:
    """Beale's function: minimum 0 at (3, 0.5), flat plateaus and steep walls (gradients vary 1e4x)."""
    return Surface(
        "beale", "Σᵢ (cᵢ − x + x yⁱ)², c = (1.5, 2.25, 2.625)", f=_beale_f, grad=_beale_grad,
        extent=(-4.5, 4.5, -4.5, 4.5), start=np.array([1.0, 1.4]), minimum=np.array([3.0, 0.5]),
    )


def saddle() -> Surface:
    """A saddle at the origin between two minima (0, +-1) of value -1/4: gradient ~ 0 near the saddle."""
    return Surface(
        "saddle", "x² − y²/2 + y⁴/4",
        f=lambda x, y: x**2 - 0.5 * y**2 + 0.25 * y**4,
        grad=lambda w: _vec(2 * w[..., 0], -w[..., 1] + w[..., 1] ** 3),
        extent=(-2.0, 2.0, -1.6, 1.6), start=np.array([-1.8, 0.01]), minimum=np.array([0.0, 1.0]), floor=-0.25,
    )


# ---------------------------------------------------------------------------
# A small network's loss on two filter-normalized directions (Li et al. 2018)
# ---------------------------------------------------------------------------

def mlp_loss_and_grads(params: list[Array], X: Array, y: Array) -> tuple[float, list[Array]]:
    """Mean binary cross-entropy (from logits) of a tanh MLP, and its gradient for every parameter.

    params = [W1 (D, H), b1 (H,), W2 (H, H), b2 (H,), W3 (H, 1), b3 (1,)]; X (N, D); y (N,) in {0, 1}.
    """
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = (h2 @ W3 + b3)[:, 0]
    loss, dz = float(_bce(z, y)), _bce_grad(z, y)[:, None]
    da2 = (dz @ W3.T) * (1 - h2**2)
    da1 = (da2 @ W2.T) * (1 - h1**2)
    grads = [X.T @ da1, da1.sum(0), h1.T @ da2, da2.sum(0), h2.T @ dz, dz.sum(0)]
    return loss, grads


def _bce(z: Array, y: Array) -> Array:
    """Mean BCE from logits over the last axis, for many networks at once: z (..., N) -> (...,)."""
    return np.mean(binary_cross_entropy_with_logits_terms(z, y), axis=-1)


def _bce_grad(z: Array, y: Array) -> Array:
    """d _bce / d z = (sigmoid(z) - y) / N, same shape as z (..., N)."""
    return (sigmoid(z) - y) / z.shape[-1]


def filter_normalized_direction(params: list[Array], rng: np.random.Generator) -> list[Array]:
    """A Gaussian direction with each unit's incoming weights (a column of W) scaled to that unit's norm.

    Bias directions are zero, as in Li et al.'s plots.
    """
    direction = []
    for p in params:
        if p.ndim == 1:
            direction.append(np.zeros_like(p))
            continue
        d = rng.standard_normal(p.shape)
        d *= np.linalg.norm(p, axis=0, keepdims=True) / np.linalg.norm(d, axis=0, keepdims=True)
        direction.append(d)
    return direction


def _train_mlp(X: Array, y: Array, hidden: int, rng: np.random.Generator, steps: int) -> list[Array]:
    """Full-batch Adam (the course's own, ``scratch.optim``) on ``mlp_loss_and_grads``; returns theta*."""
    D = X.shape[1]
    params = [Parameter(a) for a in (rng.normal(scale=1 / np.sqrt(D), size=(D, hidden)), np.zeros(hidden),
                                     rng.normal(scale=1 / np.sqrt(hidden), size=(hidden, hidden)), np.zeros(hidden),
                                     rng.normal(scale=1 / np.sqrt(hidden), size=(hidden, 1)), np.zeros(1))]
    opt = Adam(params, lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        for p, g in zip(params, mlp_loss_and_grads([p.data for p in params], X, y)[1]):
            p.accumulate_grad(g)
        opt.step()
    return [p.data for p in params]


class NetPlane:
    """The loss of the tanh MLP of ``mlp_loss_and_grads`` on the plane theta* + a d1 + b d2.

    Batched over points: ``loss(a, b)`` takes a, b (G,) and returns (G,); ``value_and_grad(w)`` takes
    w (..., 2) = (a, b) and returns L (...,) and (dL/da, dL/db) (..., 2). By the chain rule,
    dL/da = <grad_theta L, d1>: the gradient in parameter space, projected on the plane.
    A batch of G points is G networks with G weight sets, run as one batched matmul per layer.

    Each layer's weights and bias are held as one matrix A = [W; b] acting on [h, 1], so a layer
    is one matmul forward, one backward, and one projection on the directions.
    """

    def __init__(self, theta: list[Array], d1: list[Array], d2: list[Array], X: Array, y: Array) -> None:
        self.y = y
        self.A = [np.vstack([W, b]) for W, b in zip(theta[::2], theta[1::2])]  # (in + 1, out) per layer
        # Per layer, the two directions as rows: (2, (in + 1) out), so A(a, b) = A + (a, b) @ D.
        self.D = [np.stack([np.vstack([d[i], d[i + 1]]).ravel() for d in (d1, d2)]) for i in range(0, len(theta), 2)]
        # The input layer is linear in (a, b): [X, 1] A1(a, b) = [X, 1] A1 + (a, b) @ [X, 1] D1, computed once.
        X1 = _with_ones(X)
        self.pre1 = X1 @ self.A[0]                                                     # (N, H)
        self.pre1_D = np.stack([(X1 @ D.reshape(self.A[0].shape)).ravel() for D in self.D[0]])  # (2, N H)

    def _layer(self, ab: Array, i: int) -> Array:
        """Layer i's [W; b] at every point: ab (G, 2) -> (G, in + 1, out)."""
        return self.A[i] + (ab @ self.D[i]).reshape(-1, *self.A[i].shape)

    def _forward(self, ab: Array) -> tuple[Array, ...]:
        """At every point ab (G, 2): inputs [h1, 1], [h2, 1] (G, N, H+1), A2 (G, H+1, H), A3 (G, H+1, 1), logits z (G, N)."""
        h1 = _with_ones(np.tanh(self.pre1 + (ab @ self.pre1_D).reshape(-1, *self.pre1.shape)))
        A2, A3 = self._layer(ab, 1), self._layer(ab, 2)
        h2 = _with_ones(np.tanh(h1 @ A2))
        return h1, h2, A2, A3, (h2 @ A3)[..., 0]

    def loss(self, a: Array, b: Array) -> Array:
        """L at the points (a_g, b_g): a, b (G,) -> (G,)."""
        return _bce(self._forward(np.stack([a, b], axis=-1))[-1], self.y)

    def value_and_grad(self, w: Array) -> tuple[Array, Array]:
        """L (...,) and (dL/da, dL/db) (..., 2) at points w (..., 2): ``mlp_loss_and_grads``, batched."""
        ab = np.asarray(w, dtype=np.float64).reshape(-1, 2)
        h1, h2, A2, A3, z = self._forward(ab)
        dz = _bce_grad(z, self.y)[..., None]  # (G, N, 1)
        da2 = (dz @ A3[:, :-1].transpose(0, 2, 1)) * (1 - h2[..., :-1] ** 2)  # (G, N, H); the bias row has no input
        da1 = (da2 @ A2[:, :-1].transpose(0, 2, 1)) * (1 - h1[..., :-1] ** 2)  # (G, N, H)
        G = len(ab)
        # Chain rule through theta(a, b): dL/da = <dL/dtheta, d1>, layer by layer. For the first
        # layer <[X, 1]^T da1, D1> = <da1, [X, 1] D1>, which was computed once.
        g = (da1.reshape(G, -1) @ self.pre1_D.T
             + (h1.transpose(0, 2, 1) @ da2).reshape(G, -1) @ self.D[1].T
             + (h2.transpose(0, 2, 1) @ dz).reshape(G, -1) @ self.D[2].T)
        return _bce(z, self.y).reshape(np.shape(w)[:-1]), g.reshape(np.shape(w))

    def grad(self, w: Array) -> Array:
        """(dL/da, dL/db) at points w (..., 2) -> (..., 2)."""
        return self.value_and_grad(w)[1]


def _with_ones(h: Array) -> Array:
    """Append a column of ones: h (..., N, H) -> (..., N, H + 1), the input of a layer held as [W; b]."""
    return np.concatenate([h, np.ones((*h.shape[:-1], 1))], axis=-1)


def net(seed: int = 0, n: int = 100, hidden: int = 8, steps: int = 400, resolution: int = 61) -> Surface:
    """Loss of a 2-8-8-1 tanh net trained on moons, on the plane theta* + a d1 + b d2 (a, b in [-1, 1]).

    (0, 0) is the trained net; the contour grid is computed once here (vectorized over the grid).
    """
    rng = np.random.default_rng(seed)
    X, y = make_moons(n, rng, noise=0.15)
    y = y.astype(np.float64)
    theta = _train_mlp(X, y, hidden, rng, steps)
    plane = NetPlane(theta, filter_normalized_direction(theta, rng), filter_normalized_direction(theta, rng), X, y)

    def f(a: Array, b: Array) -> Array:
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        return plane.loss(a.ravel(), b.ravel()).reshape(a.shape)

    surface = Surface(
        "net", "BCE of a 2-8-8-1 tanh net at θ* + a d₁ + b d₂", f=f, grad=plane.grad,
        fused=plane.value_and_grad, extent=(-1.0, 1.0, -1.0, 1.0), start=np.array([-0.8, 0.7]), minimum=np.zeros(2),
    )
    xs = np.linspace(-1.0, 1.0, resolution)
    A, B = np.meshgrid(xs, xs)
    return Surface(**{**surface.__dict__, "grid": (xs, xs, f(A, B))})


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic, "rosenbrock": rosenbrock, "beale": beale, "saddle": saddle, "net": net,
}
