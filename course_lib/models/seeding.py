"""Build a model with its own random initial weights, without touching torch's global generator.

    >>> model = MLP([2, 8, 2], seed=0)           # the same weights on every run and every device
    >>> with seeded(0):                          # what a model's constructor does with ``seed``
    ...     layer = nn.Linear(2, 8)

``nn.Linear`` and friends draw their initial weights from torch's global CPU generator. Inside
``seeded(seed)`` that generator is seeded, and restored afterwards, so creating a model does
not change the random numbers the rest of the notebook sees. Models are built on the CPU and
then moved, so a seed gives the same weights on a GPU as on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

Seed = int | torch.Generator | None


@contextmanager
def seeded(seed: Seed) -> Iterator[None]:
    """Draw from torch's CPU generator seeded with ``seed`` inside the block; ``None``: leave it as is.

    A ``torch.Generator`` stands for the seed it draws next (so one generator can seed several models).
    """
    if seed is None:
        yield
        return
    if isinstance(seed, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=seed))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, a torch.Generator or None, got {type(seed).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
