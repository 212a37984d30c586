"""How fast is the scratch batch norm next to torch.nn.BatchNorm1d on the CPU?

One train-mode forward and backward (outputs, dL/dx, dL/dgamma, dL/dbeta, running statistics)
through course_lib.scratch.batchnorm.BatchNorm1d and through torch.nn.BatchNorm1d with autograd,
on the same (N, D) batch and upstream gradient, in float32 and float64.
Unlike a matrix product, batch norm is a handful of passes over memory: NumPy makes a temporary
array for each elementwise operation, while torch runs fused native kernels.

    python benchmarks/batchnorm_scratch_vs_torch.py            # full table
    python benchmarks/batchnorm_scratch_vs_torch.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch

from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.timing import median_time

DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}



def scratch_step(x: np.ndarray, g: np.ndarray) -> Callable[[], None]:
    bn = BatchNorm1d(x.shape[1], dtype=x.dtype)

    def step() -> None:
        bn.zero_grad()
        bn.forward(x)
        bn.backward(g)

    return step


def torch_step(x: np.ndarray, g: np.ndarray, dtype: torch.dtype) -> Callable[[], None]:
    bn = torch.nn.BatchNorm1d(x.shape[1], dtype=dtype)
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g)

    def step() -> None:
        bn.zero_grad(set_to_none=True)
        xt.grad = None
        bn(xt).backward(gt)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two sizes, few repeats (a few seconds)")
    args = parser.parse_args()
    sizes = [(64, 100), (500, 500)] if args.quick else [(64, 100), (500, 500), (2000, 500), (500, 2000)]
    repeats = 10 if args.quick else 50
    rng = np.random.default_rng(0)

    print(f"BatchNorm1d train-mode forward+backward, CPU ({torch.get_num_threads()} torch threads), median of {repeats}")
    print(f"{'N':>6} {'D':>6} {'dtype':>8} {'scratch ms':>11} {'torch ms':>9} {'ratio':>6}")
    for n, d in sizes:
        for name, (np_dtype, torch_dtype) in DTYPES.items():
            x = rng.normal(1.0, 2.0, (n, d)).astype(np_dtype)
            g = rng.standard_normal((n, d)).astype(np_dtype)
            ours = median_time(scratch_step(x, g), repeats)
            ref = median_time(torch_step(x, g, torch_dtype), repeats)
            print(f"{n:>6} {d:>6} {name:>8} {ours * 1e3:>11.3f} {ref * 1e3:>9.3f} {ours / ref:>5.2f}x")
    print("ratio = scratch time / torch time")


if __name__ == "__main__":
    main()
