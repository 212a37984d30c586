"""How long a piece of code takes: the best of a few runs, on the CPU or a GPU.

    >>> seconds = best_time(lambda: a @ b, repeat=5, warmup=1, device=device)
    >>> seconds = median_time(lambda: a @ b, repeat=20, warmup=2)   # a typical run, for benchmarks

The *fastest* run is the one least disturbed by other programs, so it is the most repeatable
number on a shared machine. GPU kernels run asynchronously: on a CUDA device the clock is read
only after ``torch.cuda.synchronize()``, or it would time the launch, not the work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeat: int = 3, warmup: int = 0, device: object | None = None) -> float:
    """Fastest of ``repeat`` calls of ``fn()``, in seconds, after ``warmup`` untimed calls.

    ``device``: a ``torch.device``; when its type is "cuda" every timed call is bracketed by
    ``torch.cuda.synchronize()``.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
    sync = _synchronizer(device)
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def median_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 2, device: object | None = None) -> float:
    """Median of ``repeat`` timed calls of ``fn()``, in seconds, after ``warmup`` untimed calls.

    What a user typically waits, where ``best_time`` is what the code can do; benchmarks report it.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
    sync = _synchronizer(device)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _synchronizer(device: object | None) -> Callable[[], None]:
    if getattr(device, "type", None) == "cuda":
        import torch  # only when timing a GPU

        return torch.cuda.synchronize
    return lambda: None
