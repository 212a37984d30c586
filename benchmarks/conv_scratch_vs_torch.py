"""How fast is the scratch conv layer: im2col against PyTorch's CPU conv, and loops against im2col?

Forward and backward (dx, dw, db) through the two conv layers of LeNet-5 on MNIST-size images,
float32 (torch's default) on the CPU:

    conv1: 1 -> 6 channels, 5x5, on 28x28 images        conv2: 6 -> 16 channels, 5x5, on 12x12 maps

Table 1 times ``scratch.conv.Conv2d`` (im2col + two matrix products + col2im) against
``torch.nn.functional.conv2d`` with autograd on the same batch, in the same run; both compute the
gradient with respect to the input too. Table 2 times the readable loop version against im2col on
a small batch (the loops take seconds per batch of 64).

    python benchmarks/conv_scratch_vs_torch.py            # full tables
    python benchmarks/conv_scratch_vs_torch.py --quick    # a few seconds

On a machine shared with other jobs, threads fight for the cores and timings swing wildly; set
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 for a steadier one-core comparison.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.scratch.conv import Conv2d, conv2d_backward_loops, conv2d_loops
from course_lib.timing import median_time

# name, C_in, C_out, kernel, image size
LAYERS = [("conv1 1->6 5x5 @28", 1, 6, 5, 28), ("conv2 6->16 5x5 @12", 6, 16, 5, 12)]



def scratch_step(N: int, C_in: int, C_out: int, k: int, size: int, rng: np.random.Generator) -> Callable[[], None]:
    layer = Conv2d(C_in, C_out, k, rng, dtype=np.float32)
    x = rng.standard_normal((N, C_in, size, size)).astype(np.float32)
    dout = rng.standard_normal((N, C_out, size - k + 1, size - k + 1)).astype(np.float32)

    def step() -> None:
        layer.zero_grad()
        layer.forward(x)
        layer.backward(dout)

    return step


def torch_step(N: int, C_in: int, C_out: int, k: int, size: int, rng: np.random.Generator) -> Callable[[], None]:
    layer = torch.nn.Conv2d(C_in, C_out, k)
    x = torch.tensor(rng.standard_normal((N, C_in, size, size)), dtype=torch.float32, requires_grad=True)
    dout = torch.tensor(rng.standard_normal((N, C_out, size - k + 1, size - k + 1)), dtype=torch.float32)

    def step() -> None:
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x).backward(dout)

    return step


def loops_step(N: int, C_in: int, C_out: int, k: int, size: int, rng: np.random.Generator) -> Callable[[], None]:
    x = rng.standard_normal((N, C_in, size, size)).astype(np.float32)
    w = rng.standard_normal((C_out, C_in, k, k)).astype(np.float32)
    b = np.zeros(C_out, dtype=np.float32)
    dout = rng.standard_normal((N, C_out, size - k + 1, size - k + 1)).astype(np.float32)

    def step() -> None:
        conv2d_loops(x, w, b)
        conv2d_backward_loops(dout, x, w)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, a tiny batch for the loops (a few seconds)")
    args = parser.parse_args()
    batch, loop_batch = 64, (1 if args.quick else 4)
    repeats, loop_repeats = (5, 1) if args.quick else (50, 3)
    rng = np.random.default_rng(0)

    print(f"conv forward+backward, float32, CPU ({torch.get_num_threads()} torch threads), batch {batch}, median of {repeats}")
    print(f"{'layer':<22} {'im2col ms':>10} {'torch ms':>9} {'ratio':>6}")
    for name, *shape in LAYERS:
        ours = median_time(scratch_step(batch, *shape, rng), repeats)
        ref = median_time(torch_step(batch, *shape, rng), repeats)
        print(f"{name:<22} {ours * 1e3:>10.3f} {ref * 1e3:>9.3f} {ours / ref:>5.2f}x")
    print("ratio = scratch im2col time / torch time (goal: <= 3x)")
    print()
    print(f"loops vs im2col, float32, batch {loop_batch}, median of {loop_repeats}")
    print(f"{'layer':<22} {'loops ms':>10} {'im2col ms':>10} {'speed-up':>9}")
    for name, *shape in LAYERS:
        slow = median_time(loops_step(loop_batch, *shape, rng), loop_repeats)
        fast = median_time(scratch_step(loop_batch, *shape, rng), max(loop_repeats, 10))
        print(f"{name:<22} {slow * 1e3:>10.1f} {fast * 1e3:>10.3f} {slow / fast:>8.0f}x")


if __name__ == "__main__":
    main()
