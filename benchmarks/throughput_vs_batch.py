"""Training throughput against batch size: samples/s and achieved GFLOP/s on the device in use.

One SGD step (forward, backward, update) of an MLP 64-512-512-10 on digits-sized inputs (8x8
pixels), for batch sizes 1 ... 4096 on the CPU, or 1 ... 65536 on CUDA when present. The
reference is batch size 1 (pure SGD), measured in the same run: the "ratio" column is how many
more samples per second a batch gets through. FLOPs per step are counted as 6 x (multiply-adds
of the weights) x batch (2 for the forward pass, 4 for the backward pass).

    python benchmarks/throughput_vs_batch.py           # batch sizes up to 4096 (65536 on CUDA)
    python benchmarks/throughput_vs_batch.py --quick   # up to 256, a few seconds
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from course_lib.device import describe_device, get_device


def mlp(device: torch.device) -> nn.Module:
    return nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).to(device)


def flops_per_sample(model: nn.Module) -> int:
    """6 x multiply-adds of the Linear layers: forward (2) plus backward for inputs and weights (4)."""
    return 6 * sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def seconds_per_step(model: nn.Module, batch: int, device: torch.device, min_time: float) -> float:
    """Mean seconds per training step, repeating steps until ``min_time`` has passed."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    X = torch.randn(batch, 64, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()

    for _ in range(3):  # warm-up: allocator, kernels, caches
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        step()
        steps += 1
    sync()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch sizes up to 256, 0.2 s each")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = get_device()
    model = mlp(device)
    # A GPU keeps gaining long after a CPU has saturated, so it goes further.
    largest = 256 if args.quick else 65536 if device.type == "cuda" else 4096
    sizes = [4**k for k in range(9) if 4**k <= largest]
    min_time = 0.2 if args.quick else 1.0
    print(f"device: {describe_device(device)}; model: MLP 64-512-512-10, {flops_per_sample(model) / 1e6:.2f} MFLOP per sample\n")
    print(f"{'batch':>6} {'ms/step':>9} {'samples/s':>11} {'GFLOP/s':>8} {'ratio vs batch 1':>17}")
    reference = None
    for batch in sizes:
        t = seconds_per_step(model, batch, device, min_time)
        rate = batch / t
        reference = reference or rate
        print(f"{batch:>6} {t * 1e3:>9.3f} {rate:>11.0f} {rate * flops_per_sample(model) / 1e9:>8.2f} {rate / reference:>16.1f}x")


if __name__ == "__main__":
    main()
