"""Train a small classifier on scikit-learn's digits with DistributedDataParallel, on any number of ranks.

    $ torchrun --standalone --nproc_per_node=2 -m course_lib.train_distributed --steps 100 --out ddp.pt

Every rank runs this same file. On a machine without GPUs the ranks are CPU processes talking
through gloo; with one GPU per rank the same command uses NCCL (``--nproc_per_node=8`` on 8 GPUs).
Rank 0 prints a summary and, with ``--out``, saves ``{"state_dict", "losses", "config"}`` with
``torch.save``: the weights of the plain model (``model.module``), on the CPU.

``--batch-size`` is per rank; the global batch is world_size times it. Training on one process
with ``--batch-size`` equal to that global batch gives the same weights (``course_lib.distributed``
explains why; the tests check it to 1e-6).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.data import load_digits, standardize, train_val_test_split
from course_lib.distributed import mean_over_ranks, process_group, shard, train, wrap
from course_lib.models.lenet import LeNet5
from course_lib.models.mlp import MLP
from course_lib.train import evaluate

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def digits(seed: int, dtype: torch.dtype) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Standardized digits, split by ``seed``: train X (N, 64), y (N,) and validation, as tensors."""
    X, y = load_digits()
    split = train_val_test_split(X, y, np.random.default_rng(seed), val=0.2, test=0.0)
    X_train, X_val = standardize(split.X_train, split.X_val)
    as_x = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return (as_x(X_train), torch.as_tensor(split.y_train)), (as_x(X_val), torch.as_tensor(split.y_val))


def build_model(name: str, seed: int, dtype: torch.dtype) -> nn.Module:
    """'mlp': 64 -> 64 -> 10 with ReLU; 'lenet': LeNet5 on 8x8 images. Both take (N, 64) rows."""
    if name == "mlp":
        model = MLP([64, 64, 10], seed=seed)
    elif name == "lenet":
        model = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), LeNet5(image_size=8, seed=seed))
    else:
        raise ValueError(f"model must be 'mlp' or 'lenet', got {name!r}")
    return model.to(dtype)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32, help="examples per rank and step")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0, help="the data split, the weights and the batches")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--out", type=Path, default=None, help="where rank 0 saves the weights (torch.save)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    dtype = DTYPES[args.dtype]
    with process_group() as worker:
        # Every rank builds the same data and the same weights; each will use only its shards.
        (X, y), (X_val, y_val) = digits(args.seed, dtype)
        X, y = X.to(worker.device), y.to(worker.device)
        model = wrap(build_model(args.model, args.seed, dtype).to(worker.device), worker)
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
        losses = train(model, F.cross_entropy, optimizer, X, y, worker=worker, steps=args.steps,
                       batch_size=args.batch_size, generator=torch.Generator().manual_seed(args.seed))

        # Validation: each rank scores its share, weighted by its size in the mean over ranks.
        # The plain model (.module) does it: a forward pass needs no communication.
        mine = shard(torch.arange(len(X_val)), worker.rank, worker.world_size)
        val = evaluate(model.module, F.cross_entropy, (X_val[mine], y_val[mine]), worker.device)
        val_loss, val_acc = mean_over_ranks(torch.tensor(val, device=worker.device), weight=len(mine)).tolist()

        if worker.is_main:
            print(f"ranks {worker.world_size} ({worker.backend} on {worker.device.type}) | "
                  f"global batch {worker.world_size} x {args.batch_size} = {worker.world_size * args.batch_size} | "
                  f"{args.steps} steps | train loss {losses[0]:.4f} -> {losses[-1]:.4f} | "
                  f"val loss {val_loss:.4f}, accuracy {val_acc:.4f}")
            if args.out is not None:
                state = {k: v.cpu() for k, v in model.module.state_dict().items()}
                torch.save({"state_dict": state, "losses": losses, "config": vars(args) | {"out": str(args.out)},
                            "world_size": worker.world_size, "backend": worker.backend}, args.out)


if __name__ == "__main__":
    main()
