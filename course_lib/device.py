"""Where the tensors live, and how to make a run repeatable.

    >>> device = get_device()          # cuda, else mps, else cpu
    >>> seed_everything(0)             # python, numpy and torch generators
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` ("cuda", "mps" or "cpu") forces a choice; asking for a device that is
    not available raises a ValueError instead of silently falling back.
    """
    if prefer is not None:
        if prefer not in {"cuda", "mps", "cpu"}:
            raise ValueError(f"prefer must be 'cuda', 'mps', 'cpu' or None, got {prefer!r}")
        if not _available(prefer):
            raise ValueError(f"device {prefer!r} was asked for but is not available here")
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if _available(name):
            return torch.device(name)
    return torch.device("cpu")


def _available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return True


def describe_device(device: torch.device) -> str:
    """A one-line, human-readable description, e.g. 'cuda:0 (NVIDIA H100, 79.1 GiB)'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({props.name}, {props.total_memory / 2**30:.1f} GiB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'' if threads == 1 else 's'})"


def seed_everything(seed: int, *, deterministic: bool = False) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators and return a fresh NumPy Generator.

    Scratch code takes the returned ``Generator`` as an argument rather than using
    NumPy's global state. ``deterministic=True`` also asks PyTorch for deterministic
    kernels (slower on the GPU, but bit-for-bit repeatable).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        # cuBLAS needs this workspace setting before deterministic matmuls are allowed.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)
