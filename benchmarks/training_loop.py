"""What the course's training loop costs, and what a GPU makes of it.

1. Overhead: ``course_lib.train.fit`` against the plain loop a practitioner writes by hand, on
   LeNet-5 and scikit-learn's digits as images (N, 1, 8, 8). Both draw the same batches from the
   same generator, take the same Adam steps with the same precision and layout, and evaluate both
   sets after every epoch, so they compute the same numbers (checked) and only the bookkeeping
   differs. Runs alternate (fit, plain, fit, plain, ...) so that a machine whose load changes
   slows both alike; the table gives the median. Goal: overhead <= 5 %.
2. Epoch time of ``fit`` (one training pass plus its evaluation of both sets) for LeNet-5 and
   the small ResNet (``models.resnet.DeepCNN``, 3 blocks per stage: 20 weight layers) on digits,
   on the CPU and, when CUDA is present, on the GPU in float32 (TF32 matmuls) and in bfloat16
   autocast; on CUDA also at the sizes a GPU is for: MNIST-size (60,000 x 1 x 28 x 28) and
   CIFAR-size (50,000 x 3 x 32 x 32) random images, batch 256.
3. When CUDA is present: the TFLOP/s one training step of a wide MLP achieves (4 linear layers
   8192 x 8192, batch 8192, bfloat16 autocast, float32 weights and SGD) against the GPU's dense
   bfloat16 peak, from a table of known GPUs. Goal: >= 50 % of the peak.

    python benchmarks/training_loop.py           # full runs: about a minute on 2 CPU cores
    python benchmarks/training_loop.py --quick   # a few seconds: a smoke run, not a measurement

On the CPU everything runs on one thread: layers this small lose more to thread hand-offs than
they gain, and one thread gives steadier numbers on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import data
from course_lib.device import describe_device, get_device
from course_lib.models.lenet import LeNet5
from course_lib.models.resnet import DeepCNN
from course_lib.speedups import autocast_dtype, mixed_precision, tf32_matmuls, uses_channels_last
from course_lib.timing import median_time
from course_lib.train import fit

Data = tuple[torch.Tensor, torch.Tensor]

# Dense (no sparsity) bfloat16 tensor-core peaks in TFLOP/s, from the vendors' data sheets; the first
# name contained in torch.cuda.get_device_name() wins, so the more specific names come first.
BF16_PEAK_TFLOPS = [("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.4), ("H200", 989.4), ("A100", 312.0),
                    ("L40S", 362.0), ("L4", 121.0), ("A10", 125.0)]


def digit_images(n: int | None = None) -> tuple[Data, Data]:
    """Standardized digits as images: train and validation X (N, 1, 8, 8) float32, y (N,); ``n`` caps N."""
    X, y = data.load_digits()
    split = data.train_val_test_split(X[:n], y[:n], np.random.default_rng(0), val=0.2, test=0.0)
    X_train, X_val = data.standardize(split.X_train, split.X_val)
    images = lambda X, y: (torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8), torch.tensor(y))  # noqa: E731
    return images(X_train, split.y_train), images(X_val, split.y_val)


def random_images(n: int, channels: int, side: int) -> tuple[Data, Data]:
    """n random images (n, channels, side, side) and labels in 0..9, with a tenth more as validation."""
    g = torch.Generator().manual_seed(0)
    make = lambda m: (torch.randn(m, channels, side, side, generator=g), torch.randint(0, 10, (m,), generator=g))  # noqa: E731
    return make(n), make(n // 10)


def plain_loop(model: nn.Module, opt: torch.optim.Optimizer, train: Data, val: Data, *, epochs: int, batch_size: int,
               device: torch.device, generator: torch.Generator) -> list[float]:
    """The loop written by hand, doing what ``fit`` does with its defaults; returns the per-epoch losses."""
    dtype = autocast_dtype(device)
    layout = torch.channels_last if uses_channels_last(model, train[0], device) else torch.preserve_format
    if layout == torch.channels_last:
        model.to(memory_format=layout)
    X, y = train[0].to(device, memory_format=layout), train[1].to(device)
    X_val, y_val = val[0].to(device, memory_format=layout), val[1].to(device)
    losses = []
    with tf32_matmuls(device):
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(X), generator=generator).to(device)
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                with mixed_precision(device, dtype):
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad(), mixed_precision(device, dtype):
                for X_e, y_e in ((X, y), (X_val, y_val)):
                    out = torch.cat([model(X_e[i:i + 1024]) for i in range(0, len(X_e), 1024)])
                    losses.append(F.cross_entropy(out, y_e).item())
                    (out.argmax(dim=1) == y_e).float().mean().item()  # the accuracy fit records
    return losses


def overhead_table(fit_times: list[float], plain_times: list[float]) -> str:
    """Table 1: median and range of the runs of each loop, then the overhead; run_all.py reads its rows."""
    fit_s, plain_s = statistics.median(fit_times), statistics.median(plain_times)
    pair = statistics.median(f / p for f, p in zip(fit_times, plain_times))
    return "\n".join([
        f"{'loop':<18}{'median s':>10}{'fastest-slowest s':>20}",
        f"{'course fit':<18}{fit_s:>10.3f}{min(fit_times):>11.3f}-{max(fit_times):.3f}",
        f"{'plain torch loop':<18}{plain_s:>10.3f}{min(plain_times):>11.3f}-{max(plain_times):.3f}",
        f"overhead {100 * (fit_s / plain_s - 1):+.1f} % (median of the per-pair ratios {100 * (pair - 1):+.1f} %); "
        "goal <= +5 %",
    ])


def overhead(device: torch.device, repeats: int, epochs: int, n: int | None) -> None:
    """Table 1: fit against the plain loop, alternating runs, median seconds per run."""
    train, val = digit_images(n)
    times: dict[str, list[float]] = {"fit": [], "plain": []}
    losses: dict[str, list[float]] = {}

    def run(name: str) -> None:
        model = LeNet5(image_size=8, seed=0, device=device)
        opt = torch.optim.Adam(model.parameters(), lr=4e-3)
        generator = torch.Generator().manual_seed(0)
        sync()
        start = time.perf_counter()
        if name == "fit":
            h = fit(model, F.cross_entropy, opt, train, val, epochs=epochs, batch_size=64, device=device,
                    generator=generator, progress=False)
            result = [v for pair in zip(h.train_loss, h.val_loss) for v in pair]
        else:
            result = plain_loop(model, opt, train, val, epochs=epochs, batch_size=64, device=device, generator=generator)
        sync()
        times[name].append(time.perf_counter() - start)
        losses[name] = result

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    run("fit")  # warm-up: allocator, kernels, caches
    run("plain")
    times["fit"].clear()
    times["plain"].clear()
    for _ in range(repeats):
        run("fit")
        run("plain")
    # On the CPU the two loops compute bit for bit the same; GPU kernels may sum in varying orders.
    same = losses["fit"] == losses["plain"] if device.type == "cpu" else np.allclose(losses["fit"], losses["plain"], rtol=1e-2)
    print(f"1. Loop overhead: LeNet-5 on {len(train[0])} digit images, {epochs} epoch(s) of batch 64 with evaluation, "
          f"{repeats} alternating runs each")
    print(f"   same losses in both loops: {'yes' if same else 'NO'}\n")
    print(overhead_table(times["fit"], times["plain"]) + "\n")


def epoch_seconds(make: Callable[[torch.device], nn.Module], data_: tuple[Data, Data], device: torch.device,
                  amp: bool, batch_size: int, repeat: int) -> float:
    """Median seconds of one epoch of fit (training pass and evaluation of both sets)."""
    model = make(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    train, val = data_
    if device.type == "cuda":  # moved once, as fit would, so the timing is of the epoch only
        train, val = (train[0].to(device), train[1].to(device)), (val[0].to(device), val[1].to(device))
    epoch = lambda: fit(model, F.cross_entropy, opt, train, val, epochs=1, batch_size=batch_size,  # noqa: E731
                        device=device, generator=torch.Generator().manual_seed(0), progress=False, amp=amp)
    return median_time(epoch, repeat=repeat, warmup=1, device=device)


def epoch_times(device: torch.device, quick: bool) -> None:
    """Table 2: seconds per epoch of fit, per model, data set, device and precision."""
    blocks = 1 if quick else 3
    models = {
        "LeNet-5": lambda side, channels: (lambda d: LeNet5(image_size=side, in_channels=channels, seed=0, device=d)),
        f"ResNet-{2 + 6 * blocks}": lambda side, channels: (
            lambda d: DeepCNN(blocks, residual=True, in_channels=channels, seed=0, device=d)),
    }
    digits = digit_images(256 if quick else None)
    settings = [("digits 8x8", digits, 1, 8, 64)]
    if device.type == "cuda" and not quick:
        settings += [("MNIST-size 28x28", random_images(60_000, 1, 28), 1, 28, 256),
                     ("CIFAR-size 32x32", random_images(50_000, 3, 32), 3, 32, 256)]
    runs = [("CPU float32", torch.device("cpu"), False)]
    if device.type == "cuda":
        runs += [("GPU float32 (TF32)", device, False), ("GPU bfloat16", device, True)]
    repeat = 1 if quick else 3
    print("2. Epoch time of fit (training pass + evaluation of both sets), median of "
          f"{repeat} after a warm-up; s per epoch\n")
    print("| model | data | N | " + " | ".join(name for name, _, _ in runs) + " |")
    print("|---|---|---:|" + "---:|" * len(runs))
    for model_name, make in models.items():
        for data_name, data_, channels, side, batch in settings:
            if model_name == "LeNet-5" and data_name.startswith("CIFAR") or \
                    model_name != "LeNet-5" and data_name.startswith("MNIST"):
                continue  # LeNet is the MNIST model, the ResNet the CIFAR one
            cells = []
            for _, dev, amp in runs:
                if dev.type == "cpu" and not data_name.startswith("digits"):
                    cells.append("")  # minutes per epoch on two cores
                    continue
                cells.append(f"{epoch_seconds(make(side, channels), data_, dev, amp, batch, repeat):.3f}")
            print(f"| {model_name} | {data_name}, batch {batch} | {len(data_[0][0])} | " + " | ".join(cells) + " |")
    print()


def bf16_peak(name: str) -> float | None:
    """The dense bfloat16 peak (TFLOP/s) of the GPU called ``name``, or None if it is not in the table."""
    return next((peak for key, peak in BF16_PEAK_TFLOPS if key in name), None)


def achieved_tflops(device: torch.device, quick: bool) -> None:
    """Table 3: TFLOP/s of a wide MLP's training step in bfloat16 autocast, against the peak."""
    width = batch = 2048 if quick else 8192
    layers = 4
    torch.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.ReLU())][:-1]).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    X = torch.randn(batch, width, device=device)
    y = torch.randint(0, width, (batch,), device=device)

    def step() -> None:  # the step of fit: autocast forward and loss, backward, update
        with mixed_precision(device, torch.bfloat16):
            loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    seconds = median_time(step, repeat=5 if quick else 20, warmup=3, device=device)
    # 2 FLOPs per multiply-add, and the backward pass does twice the forward's (inputs and weights)
    flops = 6 * batch * layers * width * width
    tflops = flops / seconds / 1e12
    name = torch.cuda.get_device_name(device)
    peak = bf16_peak(name)
    print(f"3. Achieved throughput: MLP of {layers} layers {width} x {width}, batch {batch}, bfloat16 autocast, "
          f"on {name}\n")
    print("| step ms | TFLOP/s | bf16 dense peak TFLOP/s | of peak |")
    print("|---:|---:|---:|---:|")
    share = f"{100 * tflops / peak:.0f} %" if peak else "unknown GPU"
    print(f"| {seconds * 1e3:.2f} | {tflops:.0f} | {peak or '-'} | {share} |")
    print("\n   goal >= 50 % of the peak\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data and few runs: a smoke run in seconds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = get_device()
    if device.type == "mps":
        device = torch.device("cpu")  # the GPU paths measured here are CUDA's
    print(f"device: {describe_device(device)}\n")
    overhead(device, repeats=2 if args.quick else 15, epochs=1 if args.quick else 2, n=300 if args.quick else None)
    epoch_times(device, args.quick)
    if device.type == "cuda":
        achieved_tflops(device, args.quick)
    else:
        print("3. Achieved throughput against the GPU's peak: no CUDA device here, skipped")


if __name__ == "__main__":
    main()
