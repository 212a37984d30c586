"""How fast is the NumPy layer engine next to PyTorch on the CPU, for the same MLP?

One training step's worth of work, forward and backward through
Linear(W) -> ReLU -> Linear(W) -> ReLU -> Linear(10) -> softmax cross-entropy,
timed for the scratch engine (course_lib.scratch.layers) and for torch (course_lib.models.mlp.MLP
with autograd) on the same batch, in the same run. Both use float32, torch's default.
Both spend nearly all their time in matrix products, so the ratio is mostly NumPy's BLAS
against PyTorch's; the scratch engine also computes dL/dX for the input, which torch skips.

    python benchmarks/mlp_scratch_vs_torch.py            # full table
    python benchmarks/mlp_scratch_vs_torch.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.models.mlp import MLP
from course_lib.timing import median_time
from course_lib.scratch.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy

CLASSES = 10



def scratch_step(batch: int, width: int, rng: np.random.Generator) -> Callable[[], None]:
    net = Sequential(Linear(width, width, rng, np.float32), ReLU(), Linear(width, width, rng, np.float32), ReLU(),
                     Linear(width, CLASSES, rng, np.float32))
    loss = SoftmaxCrossEntropy()
    X = rng.standard_normal((batch, width)).astype(np.float32)
    t = rng.integers(0, CLASSES, batch)

    def step() -> None:
        loss.forward(net.forward(X), t)
        net.backward(loss.backward())

    return step


def torch_step(batch: int, width: int, rng: np.random.Generator) -> Callable[[], None]:
    model = MLP([width, width, width, CLASSES], activation="relu", device=torch.device("cpu"))
    X = torch.tensor(rng.standard_normal((batch, width)), dtype=torch.float32)
    t = torch.tensor(rng.integers(0, CLASSES, batch))

    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(X), t).backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two sizes, few repeats (a few seconds)")
    args = parser.parse_args()
    sizes = [(32, 64), (256, 256)] if args.quick else [(32, 64), (256, 256), (256, 1024), (1024, 256), (1024, 1024)]
    repeats = 10 if args.quick else 50
    rng = np.random.default_rng(0)

    print(f"MLP forward+backward, float32, CPU ({torch.get_num_threads()} torch threads), median of {repeats}")
    print(f"{'batch':>6} {'width':>6} {'scratch ms':>11} {'torch ms':>9} {'ratio':>6}")
    for batch, width in sizes:
        ours = median_time(scratch_step(batch, width, rng), repeats)
        ref = median_time(torch_step(batch, width, rng), repeats)
        print(f"{batch:>6} {width:>6} {ours * 1e3:>11.3f} {ref * 1e3:>9.3f} {ours / ref:>5.2f}x")
    print("ratio = scratch time / torch time (goal: <= 1.5x at batch 256, width 256)")


if __name__ == "__main__":
    main()
