"""Data-parallel training past one device: ``torch.distributed`` and DistributedDataParallel (DDP).

    $ torchrun --standalone --nproc_per_node=2 -m course_lib.train_distributed --steps 100
    >>> print(launch_local("course_lib.train_distributed", ["--steps", "100"], nproc=2))  # the same, from Python

    >>> with process_group() as worker:                  # one process per rank, started by torchrun
    ...     model = wrap(MLP([64, 64, 10]).to(worker.device), worker)
    ...     for idx in global_batches(len(X), batch_size * worker.world_size, steps, generator):
    ...         mine = shard(idx, worker.rank, worker.world_size)
    ...         train_step(model, F.cross_entropy, optimizer, X[mine], y[mine])

The idea. ``torchrun`` starts W processes, the *ranks* 0 .. W-1 (W = world size), on one machine
or many. Every rank holds a full copy of the model and the optimizer. At every step each rank
takes its own shard of b examples out of a global batch of B = W b, runs forward and backward on
it, and DDP *all-reduces* the gradients during the backward pass: every rank receives the sum of
the W gradients, divided by W. Every rank then takes the same optimizer step from the same
weights, so the W copies stay identical without ever sending a weight.

Why that is exactly single-process training on the global batch. Rank r's loss is the mean over
its shard S_r of b examples, L_r = (1/b) sum_{i in S_r} l_i, so the averaged gradient is

    (1/W) sum_r grad L_r = (1/(W b)) sum_{i in S_0 u ... u S_{W-1}} grad l_i = grad L_B,

the gradient of the mean loss over the B = W b examples of the global batch. The effective batch
is therefore world_size x per-rank batch: going from 1 to 8 GPUs at a fixed per-rank batch
multiplies the batch by 8, and the learning rate usually has to follow (the linear scaling rule
with a warm-up, Goyal et al. 2017, arXiv:1706.02677). The identity needs equal shards (every rank
sees b examples) and a loss that is a mean over examples: batch norm breaks it, because each
rank normalizes with the statistics of its own b examples (``nn.SyncBatchNorm`` restores them).

When a student's training outgrows one GPU, and what changes.
- First make one GPU busy: data on the device, mixed precision, a batch large enough to fill it
  (chapter 08). A second GPU will not help a loop that waits on Python or on the host.
- Time: when one epoch on a saturated GPU is still too slow, DDP on W GPUs processes W times as
  many examples per second, minus communication: a ring all-reduce sends about 2 (W-1)/W times
  the gradients' size per rank per step, overlapped with the backward pass (DDP reduces gradients
  in buckets as soon as they are ready). It pays when compute per step dwarfs that traffic.
- Memory: DDP does not help a model that does not fit, since every rank holds all of it (with Adam
  in float32: weights, gradients and two moments, 16 bytes per parameter, plus activations).
  Then the model itself is split: sharded data parallelism (FSDP / ZeRO), or tensor and pipeline
  parallelism.
- The code changes little: launch with ``torchrun``, set up the process group, give every rank its
  shard, wrap the model in DDP, average the metrics, and write files from rank 0 only.

Backends: NCCL moves CUDA tensors between GPUs (NVLink, InfiniBand); gloo moves CPU tensors over
TCP. ``setup`` picks NCCL when every rank on this machine has its own GPU, gloo otherwise, so the
same script runs as 2 CPU processes on a laptop and as 8 GPU processes on a server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# What torchrun sets in every process it starts (besides MASTER_ADDR and MASTER_PORT, which
# init_process_group reads itself to find rank 0's rendezvous store).
LAUNCH_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")


@dataclass(frozen=True)
class Launch:
    """Where this process sits: ``rank`` among ``world_size`` processes in all, ``local_rank``
    among the ``local_world_size`` processes on this machine (it picks the GPU)."""

    rank: int
    local_rank: int
    world_size: int
    local_world_size: int


@dataclass(frozen=True)
class Worker:
    """This process once the group is up: its place, the backend and the device it computes on."""

    rank: int
    local_rank: int
    world_size: int
    backend: str
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that prints and writes files, so that they are written once."""
        return self.rank == 0


def launch_from_env(environ: Mapping[str, str]) -> Launch:
    """Read the variables torchrun sets (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``)."""
    missing = [name for name in LAUNCH_VARIABLES if name not in environ]
    if missing:
        raise ValueError(f"environment variables {missing} are not set: start this script with torchrun, "
                         f"e.g. `torchrun --standalone --nproc_per_node=2 -m course_lib.train_distributed`")
    try:
        launch = Launch(*(int(environ[name]) for name in LAUNCH_VARIABLES))
    except ValueError:
        raise ValueError(f"{list(LAUNCH_VARIABLES)} must be integers, got "
                         f"{[environ[name] for name in LAUNCH_VARIABLES]}") from None
    if not (0 <= launch.rank < launch.world_size and 0 <= launch.local_rank < launch.local_world_size <= launch.world_size):
        raise ValueError(f"expected 0 <= RANK < WORLD_SIZE and 0 <= LOCAL_RANK < LOCAL_WORLD_SIZE <= WORLD_SIZE, got {launch}")
    return launch


def choose_backend(local_world_size: int, cuda_devices: int) -> str:
    """'nccl' when each of the ``local_world_size`` ranks on this machine can have a GPU of its own, else 'gloo'.

    Two ranks sharing one GPU is not supported by NCCL; then (or without CUDA) the ranks run on
    the CPU and talk through gloo.
    """
    if local_world_size < 1 or cuda_devices < 0:
        raise ValueError(f"expected local_world_size >= 1 and cuda_devices >= 0, got {local_world_size} and {cuda_devices}")
    return "nccl" if 0 < local_world_size <= cuda_devices else "gloo"


def setup() -> Worker:
    """Join the process group that torchrun describes in this process's environment.

    Blocks until all ``WORLD_SIZE`` ranks have joined. With NCCL, rank r on a machine uses
    GPU ``cuda:LOCAL_RANK``; with gloo, the CPU. Call ``teardown`` at the end (or use
    ``process_group``).
    """
    launch = launch_from_env(os.environ)
    cuda_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
    backend = choose_backend(launch.local_world_size, cuda_devices)
    if backend == "nccl":
        device = torch.device("cuda", launch.local_rank)
        torch.cuda.set_device(device)  # so that NCCL and every bare .cuda() use this rank's GPU
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size)
    return Worker(launch.rank, launch.local_rank, launch.world_size, backend, device)


def teardown() -> None:
    """Leave the process group (waits for the other ranks first, so none is left talking alone)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


@contextmanager
def process_group() -> Iterator[Worker]:
    """``setup`` on entry, and on exit the group is destroyed, even if training raised.

    After an error the other ranks cannot be waited for: the group is destroyed at once and
    torchrun stops the remaining ranks.
    """
    worker = setup()
    try:
        yield worker
    except BaseException:
        dist.destroy_process_group()
        raise
    teardown()


def global_batches(n: int, global_batch: int, steps: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Yield ``steps`` index tensors (B,) with B = ``global_batch``, reshuffling at each epoch.

    Epoch after epoch, ``order = torch.randperm(n, generator=generator)`` is cut into
    ``order[0:B], order[B:2B], ...``; the last n mod B examples of an epoch are dropped, so that
    every batch, and later every shard, has the same size. Every rank calls this with a generator
    seeded the same way and gets the same batches without any communication; single-process
    training with batch B and the same seed sees the very same ones.
    """
    if not 0 < global_batch <= n or steps < 0:
        raise ValueError(f"expected 0 < global_batch <= n and steps >= 0, got global_batch={global_batch}, n={n}, steps={steps}")
    done = 0
    while done < steps:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - global_batch + 1, global_batch):
            if done == steps:
                return
            yield order[start:start + global_batch]
            done += 1


def shard(indices: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s share of ``indices`` (B,): every ``world_size``-th one, from position ``rank``.

    The W shards are disjoint, their union is ``indices``, and their sizes differ by at most one
    (they are equal when W divides B). It is the rule of ``torch.utils.data.DistributedSampler``,
    which gives rank r the positions r, r + W, r + 2W, ... of an epoch's order: the k-th batches
    of its W ranks together are the k-th global batch, split exactly as here. The sampler is the
    tool for data read from disk through a DataLoader (call its ``set_epoch`` every epoch, or
    every epoch repeats the first one's order). Data that sit in one tensor on the device need
    no loader: an explicit, seeded cut of the index is one line, and is easy to check.
    """
    if indices.ndim != 1:
        raise ValueError(f"indices must have shape (B,), got {tuple(indices.shape)}")
    if not 0 <= rank < world_size:
        raise ValueError(f"expected 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    return indices[rank::world_size]


def wrap(model: nn.Module, worker: Worker) -> DistributedDataParallel:
    """Wrap a model, already on ``worker.device``, in DDP: the gradients of every backward are averaged.

    On construction DDP copies rank 0's weights to every rank, so all start equal. The wrapped
    model is used like the original; the original stays reachable as ``.module`` (save that one).
    """
    if any(p.device != worker.device for p in model.parameters()):
        raise ValueError(f"move the model to {worker.device} before wrapping it, "
                         f"got parameters on {sorted({str(p.device) for p in model.parameters()})}")
    device_ids = [worker.device.index] if worker.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def train_step(model: nn.Module, loss_fn: LossFn, optimizer: torch.optim.Optimizer,
               X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One step on this rank's shard X (b, ...), y (b,); returns its loss, detached, without syncing.

    It is the single-device step word for word: with a DDP model, ``backward`` also all-reduces
    the gradients, so ``optimizer.step`` applies the gradient of the global batch on every rank.
    """
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach()


def mean_over_ranks(values: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
    """Weighted mean over the ranks of ``values`` (any shape), the same on every rank.

    Each rank gives its values with a weight (its number of examples); the result is
    sum_r w_r v_r / sum_r w_r, one all-reduce. Equal weights give the plain mean, which is the
    global mean of per-example metrics when the shards have equal sizes. ``values`` must be on
    the backend's device (the GPU for NCCL).
    """
    if weight <= 0:
        raise ValueError(f"weight must be positive, got {weight}")
    packed = torch.cat([values.detach().reshape(-1).double() * weight,
                        torch.tensor([weight], dtype=torch.float64, device=values.device)])
    dist.all_reduce(packed, op=dist.ReduceOp.SUM)
    return (packed[:-1] / packed[-1]).reshape(values.shape).to(values.dtype)


def train(model: DistributedDataParallel, loss_fn: LossFn, optimizer: torch.optim.Optimizer,
          X: torch.Tensor, y: torch.Tensor, *, worker: Worker, steps: int, batch_size: int,
          generator: torch.Generator) -> list[float]:
    """Train for ``steps`` steps on batches of ``batch_size`` examples per rank; the loss per step.

    X (N, ...) and y (N,) are the whole training set, on ``worker.device``, on every rank; each
    rank uses only its shards. The global batch is world_size x ``batch_size``. Returns the mean
    loss over the global batch at each step, the same list on every rank. Each rank's losses
    stay on the device until the end and are averaged over the ranks in one all-reduce: every
    collective call waits for the slowest rank, so the loop makes none of its own.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of examples, got X {tuple(X.shape)} and y {tuple(y.shape)}")
    if batch_size <= 0 or batch_size * worker.world_size > len(X):
        raise ValueError(f"batch_size per rank must be positive with batch_size x world_size <= N, "
                         f"got {batch_size} x {worker.world_size} and N = {len(X)}")
    model.train()
    losses = []
    for idx in global_batches(len(X), batch_size * worker.world_size, steps, generator):
        mine = shard(idx, worker.rank, worker.world_size).to(X.device)
        losses.append(train_step(model, loss_fn, optimizer, X[mine], y[mine]))
    if not losses:
        return []
    return mean_over_ranks(torch.stack(losses)).tolist()


def launch_local(module: str, args: Sequence[str] = (), *, nproc: int = 2, timeout_s: float = 300) -> str:
    """Run ``torchrun -m module args`` with ``nproc`` ranks on this machine; returns what they printed.

    The same as the shell command, for a notebook or a test: the ranks use this Python and this
    ``course_lib``, meet on 127.0.0.1 (a free port picked by torchrun), and run one thread each
    (as torchrun's default), with gloo on the loopback interface. Returns the ranks' standard
    output; raises RuntimeError with both streams when a rank fails, and TimeoutError after
    ``timeout_s`` seconds (every rank is stopped first).
    """
    if nproc < 1 or timeout_s <= 0:
        raise ValueError(f"expected nproc >= 1 and timeout_s > 0, got nproc={nproc}, timeout_s={timeout_s}")
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc-per-node={nproc}",
               "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0", "--local-addr=127.0.0.1",
               "-m", module, *args]
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    if os.path.exists("/sys/class/net/lo"):  # Linux: keep gloo off the network
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    # A session of its own, so that on a timeout torchrun and its ranks are stopped together.
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        output, errors = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, errors = proc.communicate()
        raise TimeoutError(f"torchrun did not finish within {timeout_s} s:\n{output[-2000:]}{errors[-4000:]}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun exited with code {proc.returncode}:\n{output[-2000:]}{errors[-4000:]}")
    return output
