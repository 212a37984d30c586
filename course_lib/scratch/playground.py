"""The training playground's state: data, input features, a network, its optimizer, and what to draw.

    >>> pg = Playground(Config(dataset="xor", hidden=(4,), activation="tanh", lr=0.1))
    >>> pg.step(200)                              # 200 mini-batch updates
    >>> pg.train_loss[-1], pg.test_loss[-1]       # the loss after every update (and before the first)
    >>> xs, ys, values = pg.surface(50)           # the network's output over the input plane
    >>> maps = pg.neuron_maps(20)                 # every unit's output over the plane, layer by layer
    >>> pg.configure(hidden=(8, 8))               # the architecture changed: a fresh network, step 0
    >>> print(pg.to_code(epochs=50))              # the same run as a script, to take further

The network is the course's own layer engine (``scratch.layers``, chapter 03), trained by the
scratch optimizers (``scratch.optim``) with the penalties of ``scratch.penalties``. That is a
choice: the student watches *their* engine learn, every number on screen comes from code they
can read, and the whole step costs a few hundred microseconds in NumPy for these small
networks, well under what a live redraw needs. Nothing here draws: ``viz.playground`` shows it.

Shapes: N points, F input features (the selected columns of ``FEATURES``), H units in a hidden
layer, G grid points per side of the input plane. Every network ends in one output unit: the
logit of class 1 (classification, binary cross-entropy, p = sigmoid(logit)) or the predicted
value (regression, mean squared error).

Reproducibility: three generators, all derived from ``Config.seed``, each for one purpose, so
that changing one thing changes nothing else. ``[seed, 0]`` draws the data and the train/test
split, ``[seed, 1]`` the initial weights, ``[seed, 2]`` the order of the mini-batches.
``reset()`` starts the same run again, update for update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from course_lib import data
from course_lib.scratch.layers import (
    ELU, BCEWithLogits, Identity, LeakyReLU, Linear, Loss, MeanSquaredError, ReLU, Sequential, Sigmoid, Tanh,
)
from course_lib.scratch.optim import SGD, Adam, Optimizer
from course_lib.scratch.parameter import Parameter
from course_lib.scratch.penalties import add_penalty

Array = np.ndarray

PROBLEMS = ("classification", "regression")
DATASETS = {
    "classification": ("circles", "xor", "gaussians", "spirals", "moons"),
    "regression": ("plane", "bumps"),
}
ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "linear": Identity, "leaky_relu": LeakyReLU, "elu": ELU}
LAYER_CODE = {"relu": "ReLU()", "tanh": "Tanh()", "sigmoid": "Sigmoid()", "linear": "Identity()",
              "leaky_relu": "LeakyReLU()", "elu": "ELU()"}
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
MAX_LAYERS, MAX_UNITS = 6, 8


@dataclass(frozen=True)
class Feature:
    """One input column computed from the point (x1, x2): ``f`` on arrays, ``code`` as written in the export."""

    label: str
    f: Callable[[Array, Array], Array]
    code: str


FEATURES: dict[str, Feature] = {
    "x1": Feature("x₁", lambda x1, x2: x1, "x1"),
    "x2": Feature("x₂", lambda x1, x2: x2, "x2"),
    "x1^2": Feature("x₁²", lambda x1, x2: x1 * x1, "x1**2"),
    "x2^2": Feature("x₂²", lambda x1, x2: x2 * x2, "x2**2"),
    "x1*x2": Feature("x₁x₂", lambda x1, x2: x1 * x2, "x1 * x2"),
    "sin(x1)": Feature("sin x₁", lambda x1, x2: np.sin(x1), "np.sin(x1)"),
    "sin(x2)": Feature("sin x₂", lambda x1, x2: np.sin(x2), "np.sin(x2)"),
}


@dataclass(frozen=True)
class Config:
    """Every setting of the playground. ``hidden`` lists the units of each hidden layer, input side first."""

    problem: str = "classification"
    dataset: str = "circles"
    noise: float = 0.1
    train_fraction: float = 0.5
    n: int = 400
    batch_size: int = 10
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    regularization: str = "none"
    reg_rate: float = 0.0
    lr: float = 0.03
    optimizer: str = "sgd"
    seed: int = 0

    def __post_init__(self) -> None:
        _one_of("problem", self.problem, PROBLEMS)
        _one_of(f"dataset for {self.problem}", self.dataset, DATASETS[self.problem])
        _one_of("activation", self.activation, tuple(ACTIVATIONS))
        _one_of("optimizer", self.optimizer, OPTIMIZERS)
        _one_of("regularization", self.regularization, REGULARIZATIONS)
        if not self.features or any(f not in FEATURES for f in self.features):
            raise ValueError(f"features must be a non-empty tuple drawn from {tuple(FEATURES)}, got {self.features!r}")
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features must not repeat, got {self.features!r}")
        if len(self.hidden) > MAX_LAYERS or any(not 1 <= int(h) <= MAX_UNITS for h in self.hidden):
            raise ValueError(f"hidden must list at most {MAX_LAYERS} layers of 1..{MAX_UNITS} units, got {self.hidden!r}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise must lie in [0, 1], got {self.noise}")
        if not 0.05 <= self.train_fraction <= 0.95:
            raise ValueError(f"train_fraction must lie in [0.05, 0.95], got {self.train_fraction}")
        if int(self.n) < 20 or int(self.batch_size) < 1:
            raise ValueError(f"n must be >= 20 and batch_size >= 1, got n={self.n}, batch_size={self.batch_size}")
        if not self.lr > 0 or not self.reg_rate >= 0:
            raise ValueError(f"lr must be > 0 and reg_rate >= 0, got lr={self.lr}, reg_rate={self.reg_rate}")


def _one_of(name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


# What a change of each setting costs: new data (and so a new network), a new network, a new
# optimizer, or nothing (the next update reads the setting).
DATA_FIELDS = frozenset({"problem", "dataset", "noise", "train_fraction", "n", "seed"})
NETWORK_FIELDS = frozenset({"features", "hidden", "activation"})


# ---------------------------------------------------------------------------
# Pieces, each a pure function of the config
# ---------------------------------------------------------------------------

def make_points(config: Config, rng: np.random.Generator) -> tuple[Array, Array]:
    """The data set's points X (n, 2) and targets y (n,): class labels 0/1 or real values.

    ``noise`` is each generator's own noise (for gaussians: 0.3 + noise is the blobs' std; for
    spirals the arm's angular jitter), so 0 gives the clean shape.
    """
    name, n, noise = config.dataset, int(config.n), float(config.noise)
    if name == "circles":
        return data.make_circles(n, rng, noise=noise)
    if name == "xor":
        return data.make_xor(n, rng, noise=noise)
    if name == "gaussians":
        return data.make_gaussians(n, rng, std=0.3 + noise)
    if name == "spirals":
        return data.make_spirals(n, rng, classes=2, noise=noise)
    if name == "moons":
        return data.make_moons(n, rng, noise=noise)
    if name == "plane":
        return data.make_linear(n, rng, w=np.array([0.5, 0.5]), noise=noise)
    return data.make_bumps(n, rng, noise=noise)


def points_code(config: Config) -> str:
    """The call of ``make_points`` for this config, as written in the export (drawing from ``rng_data``)."""
    n, noise = int(config.n), float(config.noise)
    return {
        "circles": f"data.make_circles({n}, rng_data, noise={noise!r})",
        "xor": f"data.make_xor({n}, rng_data, noise={noise!r})",
        "gaussians": f"data.make_gaussians({n}, rng_data, std={0.3 + noise!r})",
        "spirals": f"data.make_spirals({n}, rng_data, classes=2, noise={noise!r})",
        "moons": f"data.make_moons({n}, rng_data, noise={noise!r})",
        "plane": f"data.make_linear({n}, rng_data, w=np.array([0.5, 0.5]), noise={noise!r})",
        "bumps": f"data.make_bumps({n}, rng_data, noise={noise!r})",
    }[config.dataset]


def feature_matrix(X: Array, names: tuple[str, ...]) -> Array:
    """The network's input: one column per selected feature of the points X (N, 2) -> (N, F)."""
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {X.shape}")
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([FEATURES[name].f(x1, x2) for name in names])


def build_network(n_features: int, hidden: tuple[int, ...], activation: str, rng: np.random.Generator) -> Sequential:
    """Linear(F, H1), act, Linear(H1, H2), act, ..., Linear(H_last, 1): one output unit."""
    widths = (n_features, *hidden, 1)
    layers = []
    for i, (d, m) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(Linear(d, m, rng))
        if i < len(hidden):
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


def build_optimizer(name: str, params: list[Parameter], lr: float) -> Optimizer:
    """SGD, SGD with momentum 0.9, or Adam, over ``params``."""
    if name == "sgd":
        return SGD(params, lr=lr)
    if name == "momentum":
        return SGD(params, lr=lr, momentum=0.9)
    return Adam(params, lr=lr)


def weights_of(net: Sequential) -> list[Parameter]:
    """The weight matrices W of every Linear layer, input side first: what a penalty acts on (not the biases)."""
    return [layer.params["W"] for layer in net.layers if isinstance(layer, Linear)]


# ---------------------------------------------------------------------------
# The state
# ---------------------------------------------------------------------------

class Playground:
    """The data, the network and its training, driven by ``step``, ``configure`` and ``reset``.

    Read: ``X_train``/``y_train``/``X_test``/``y_test`` (the points (N, 2) and targets (N,)),
    ``net``, ``optimizer``, ``steps`` (updates so far), ``epoch`` (full passes over the training
    set), ``train_loss``/``test_loss`` (the data loss before the first update and after every one,
    ``steps + 1`` values; the penalty is not included, so runs with and without one compare).
    """

    def __init__(self, config: Config | None = None, **settings) -> None:
        self.config = replace(config or Config(), **settings)
        self._new_data()
        self.reset()

    # --- set-up ---------------------------------------------------------------------------

    def _new_data(self) -> None:
        c = self.config
        rng = np.random.default_rng([c.seed, 0])
        X, y = make_points(c, rng)
        split = data.train_val_test_split(X, y, rng, val=0.0, test=round(1.0 - c.train_fraction, 6))
        self.X_train, self.y_train, self.X_test, self.y_test = split.X_train, split.y_train, split.X_test, split.y_test
        self.extent = _extent(X)

    def reset(self) -> None:
        """A fresh network and optimizer from the seed, step 0: the same run as the last reset."""
        c = self.config
        self.F_train = feature_matrix(self.X_train, c.features)
        self.F_test = feature_matrix(self.X_test, c.features)
        self.t_train, self.t_test = self._targets(self.y_train), self._targets(self.y_test)
        self.net = build_network(len(c.features), c.hidden, c.activation, np.random.default_rng([c.seed, 1]))
        self.loss: Loss = BCEWithLogits() if c.problem == "classification" else MeanSquaredError()
        self.optimizer = build_optimizer(c.optimizer, list(self.net.parameters()), c.lr)
        self._batch_rng = np.random.default_rng([c.seed, 2])
        self._epoch_batches: list[tuple[Array, Array]] = []
        self._batch_index = 0
        self.steps, self.epoch = 0, 0
        self.train_loss, self.test_loss = [], []
        self._record()

    def _targets(self, y: Array) -> Array:
        return y.astype(np.float64)[:, None]  # (N, 1): the one output unit's target

    def configure(self, **changes) -> None:
        """Change settings by name (as in ``Config``). New data or a new architecture resets the run;
        a new optimizer starts with fresh state on the current weights; lr, batch size (from the
        next epoch on) and regularization apply from the next update on."""
        unknown = set(changes) - {f.name for f in fields(Config)}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; expected names from {[f.name for f in fields(Config)]}")
        if "problem" in changes and "dataset" not in changes and self.config.dataset not in DATASETS[changes["problem"]]:
            changes["dataset"] = DATASETS[changes["problem"]][0]  # a set of the other problem type makes no sense
        old, self.config = self.config, replace(self.config, **changes)
        changed = {name for name in changes if getattr(old, name) != getattr(self.config, name)}
        if changed & DATA_FIELDS:
            self._new_data()
        if changed & (DATA_FIELDS | NETWORK_FIELDS):
            self.reset()
        elif "optimizer" in changed:
            self.optimizer = build_optimizer(self.config.optimizer, list(self.net.parameters()), self.config.lr)
        elif "lr" in changed:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr

    # --- training -------------------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """``n`` updates, each on the next mini-batch: zero_grad, forward, backward, penalty, step."""
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        c, net, loss, opt = self.config, self.net, self.loss, self.optimizer
        for _ in range(int(n)):
            Fb, tb = self._next_batch()
            opt.zero_grad()
            loss.forward(net.forward(Fb), tb)
            net.backward(loss.backward())
            if c.regularization != "none" and c.reg_rate > 0:
                add_penalty(weights_of(net), c.reg_rate, kind=c.regularization)
            opt.step()
            self.steps += 1
            self._record()

    def _next_batch(self) -> tuple[Array, Array]:
        """The next mini-batch of this epoch; a new epoch (reshuffled, at the batch size set now) when none is left."""
        if self._batch_index == len(self._epoch_batches):
            self._epoch_batches = list(data.minibatches(self.F_train, self.t_train, int(self.config.batch_size),
                                                        self._batch_rng))
            self._batch_index = 0
        batch = self._epoch_batches[self._batch_index]
        self._batch_index += 1
        if self._batch_index == len(self._epoch_batches):
            self.epoch += 1  # this update finishes a pass over the training set
        return batch

    def _record(self) -> None:
        self.train_loss.append(self.loss.forward(self.net.forward(self.F_train), self.t_train))
        self.test_loss.append(self.loss.forward(self.net.forward(self.F_test), self.t_test))

    # --- what to draw ---------------------------------------------------------------------

    def predict(self, X: Array) -> Array:
        """The network's answer on points X (M, 2): p(class 1) (classification) or the value (regression), (M,)."""
        out = self.net.forward(feature_matrix(X, self.config.features))[:, 0]
        if self.config.problem == "classification":
            out = 1.0 / (1.0 + np.exp(-np.clip(out, -500, 500)))
        return out

    def grid(self, size: int) -> tuple[Array, Array, Array]:
        """xs (G,), ys (G,) spanning ``extent``, and the grid points P (G*G, 2), rows running along x."""
        if int(size) < 2:
            raise ValueError(f"the grid needs at least 2 points per side, got {size}")
        x0, x1, y0, y1 = self.extent
        xs, ys = np.linspace(x0, x1, int(size)), np.linspace(y0, y1, int(size))
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])

    def surface(self, size: int = 50, discretize: bool = False) -> tuple[Array, Array, Array]:
        """xs (G,), ys (G,), and ``predict`` on the grid, (G, G) indexed [y, x] (as ``imshow`` wants).

        ``discretize`` shows the decision instead of the score: class 1 where p > 1/2, else 0
        (classification); +1 or -1 by the sign of the value (regression).
        """
        xs, ys, P = self.grid(size)
        values = self.predict(P).reshape(len(ys), len(xs))
        if discretize:
            values = (values > 0.5).astype(np.float64) if self.config.problem == "classification" else np.sign(values)
        return xs, ys, values

    def neuron_maps(self, size: int = 20) -> list[Array]:
        """Every unit's output over the plane, one array (units, G, G) per column of the network:
        the F input features, each hidden layer (after its activation), then the output unit
        (the logit, or the value). The map of the network a student watches specialise."""
        _, _, P = self.grid(size)
        h = feature_matrix(P, self.config.features)
        maps = [h]
        for layer in self.net.layers:
            h = layer.forward(h)
            if not isinstance(layer, Linear):
                maps.append(h)
        maps.append(h)  # the last Linear's output: the output unit
        return [m.T.reshape(m.shape[1], size, size) for m in maps]

    def layer_norms(self) -> list[tuple[float, float]]:
        """(||W||, ||dL/dW||) of every Linear layer, input side first (Frobenius norms).

        The gradient is that of the last update (penalty included); 0 before the first one.
        """
        return [(float(np.linalg.norm(W.data)), float(np.linalg.norm(W.grad)) if W.grad is not None else 0.0)
                for W in weights_of(self.net)]

    # --- export ---------------------------------------------------------------------------

    def to_code(self, epochs: int | None = None) -> str:
        """A script that builds and trains the same network on the same data with ``course_lib``.

        It trains ``epochs`` full passes (default: the epochs completed here, at least 1); after
        the same number of updates its weights equal the playground's, update for update.
        """
        c = self.config
        epochs = max(1, self.epoch) if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        widths = (len(c.features), *c.hidden, 1)
        layers = [f"Linear({d}, {m}, rng_init)" for d, m in zip(widths[:-1], widths[1:])]
        body = []
        for i, layer in enumerate(layers):
            body.append(layer)
            if i < len(c.hidden):
                body.append(LAYER_CODE[c.activation])
        activation_names = {ACTIVATIONS[c.activation].__name__} if c.hidden else set()
        loss_name = "BCEWithLogits" if c.problem == "classification" else "MeanSquaredError"
        layer_imports = ", ".join(sorted({"Linear", "Sequential", loss_name} | activation_names))
        optimizer = {"sgd": f"SGD(net.parameters(), lr={c.lr!r})",
                     "momentum": f"SGD(net.parameters(), lr={c.lr!r}, momentum=0.9)",
                     "adam": f"Adam(net.parameters(), lr={c.lr!r})"}[c.optimizer]
        penalty = c.regularization != "none" and c.reg_rate > 0
        lines = [
            "import numpy as np",
            "",
            "from course_lib import data",
            f"from course_lib.scratch.layers import {layer_imports}",
            f"from course_lib.scratch.optim import {'Adam' if c.optimizer == 'adam' else 'SGD'}",
            *(["from course_lib.scratch.penalties import add_penalty"] if penalty else []),
            "",
            f"seed = {c.seed}",
            "rng_data, rng_init, rng_batches = (np.random.default_rng([seed, k]) for k in range(3))",
            f"X, y = {points_code(c)}",
            f"split = data.train_val_test_split(X, y, rng_data, val=0.0, test={round(1.0 - c.train_fraction, 6)!r})",
            "",
            "",
            "def features(X):",
            "    x1, x2 = X[:, 0], X[:, 1]",
            f"    return np.column_stack([{', '.join(FEATURES[f].code for f in c.features)}])",
            "",
            "",
            "F_train, F_test = features(split.X_train), features(split.X_test)",
            "t_train, t_test = split.y_train.astype(float)[:, None], split.y_test.astype(float)[:, None]",
            "net = Sequential(",
            *[f"    {item}," for item in body],
            ")",
            f"loss = {loss_name}()",
            f"opt = {optimizer}",
            *(["weights = [layer.params['W'] for layer in net.layers if isinstance(layer, Linear)]"] if penalty else []),
            "",
            f"for epoch in range({epochs}):",
            f"    for Fb, tb in data.minibatches(F_train, t_train, {c.batch_size}, rng_batches):",
            "        opt.zero_grad()",
            "        loss.forward(net(Fb), tb)",
            "        net.backward(loss.backward())",
            *([f"        add_penalty(weights, {c.reg_rate!r}, kind={c.regularization!r})"] if penalty else []),
            "        opt.step()",
            'print(f"train loss {loss(net(F_train), t_train):.4f}, test loss {loss(net(F_test), t_test):.4f}")',
        ]
        return "\n".join(lines) + "\n"


def _extent(X: Array, pad: float = 0.3) -> tuple[float, float, float, float]:
    """The box drawn: around every point, padded and rounded out to 0.5, so a little noise keeps the same box."""
    lo, hi = np.floor((X.min(axis=0) - pad) * 2) / 2, np.ceil((X.max(axis=0) + pad) * 2) / 2
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
