"""Data-parallel training: W ranks with DDP take the same steps as one process on the union of their batches.

Two launchers are exercised, each with 2 CPU processes talking through gloo on 127.0.0.1:
torchrun (as the lecture does) running ``course_lib.train_distributed``, and
``torch.multiprocessing`` for a look at the gradients right after one backward.
"""

from __future__ import annotations

import copy
import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from course_lib.distributed import (
    Worker,
    choose_backend,
    global_batches,
    launch_from_env,
    launch_local,
    mean_over_ranks,
    process_group,
    shard,
    wrap,
)
from course_lib.train_distributed import build_model, digits

TIMEOUT_S = 300  # generous for a loaded machine; a hung rendezvous or collective fails instead of blocking
LR, MOMENTUM, SEED = 0.05, 0.9, 0


def _torchrun(nproc: int, out: Path, *script_args: str) -> str:
    """The training script under torchrun, with ``nproc`` ranks on 127.0.0.1; what it printed."""
    args = ["--out", str(out), *script_args]
    try:
        return launch_local("course_lib.train_distributed", args, nproc=nproc, timeout_s=TIMEOUT_S)
    except (RuntimeError, TimeoutError) as error:
        pytest.fail(str(error))


def _single_process(steps: int, batch: int, dtype: torch.dtype, device: str = "cpu") -> tuple[dict, list[float]]:
    """The reference: one process, a plain loop, batches of ``batch`` from the documented order.

    Each epoch is torch.randperm(N) from a generator seeded with SEED, cut into consecutive
    batches, the remainder dropped.
    """
    (X, y), _ = digits(SEED, dtype)
    X, y = X.to(device), y.to(device)
    model = build_model("mlp", SEED, dtype).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    generator, losses = torch.Generator().manual_seed(SEED), []
    while len(losses) < steps:
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X) - batch + 1, batch):
            if len(losses) == steps:
                break
            idx = order[start:start + batch].to(device)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {k: v.cpu() for k, v in model.state_dict().items()}, losses


def _assert_same_training(saved: dict, reference: tuple[dict, list[float]], atol: float) -> None:
    weights, losses = reference
    assert saved["state_dict"].keys() == weights.keys()
    for key, value in weights.items():
        torch.testing.assert_close(saved["state_dict"][key], value, rtol=0, atol=atol, msg=lambda m: f"{key}: {m}")
    torch.testing.assert_close(torch.tensor(saved["losses"]), torch.tensor(losses), rtol=0, atol=atol)


# ---------------------------------------------------------------------------
# The launch, the backend, the batches and the shards, without processes
# ---------------------------------------------------------------------------

def test_launch_is_read_from_torchruns_variables():
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}
    launch = launch_from_env(env)
    assert (launch.rank, launch.local_rank, launch.world_size, launch.local_world_size) == (3, 1, 4, 2)


@pytest.mark.parametrize("env, message", [
    ({}, "torchrun"),
    ({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "two", "LOCAL_WORLD_SIZE": "2"}, "integers"),
    ({"RANK": "2", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"}, "RANK < WORLD_SIZE"),
])
def test_bad_launch_variables_say_what_was_expected(env, message):
    with pytest.raises(ValueError, match=message):
        launch_from_env(env)


def test_nccl_only_when_every_local_rank_has_a_gpu():
    assert choose_backend(local_world_size=2, cuda_devices=0) == "gloo"
    assert choose_backend(local_world_size=2, cuda_devices=1) == "gloo"  # two ranks cannot share a GPU
    assert choose_backend(local_world_size=2, cuda_devices=2) == "nccl"
    assert choose_backend(local_world_size=1, cuda_devices=8) == "nccl"
    with pytest.raises(ValueError, match="local_world_size"):
        choose_backend(local_world_size=0, cuda_devices=1)


def test_global_batches_reshuffle_every_epoch_and_drop_the_remainder():
    batches = list(global_batches(10, 4, steps=5, generator=torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4] * 5
    # 2 batches per epoch (10 // 4): each epoch's pair is disjoint, and epochs differ.
    epochs = [torch.cat(batches[i:i + 2]) for i in (0, 2)]
    assert all(len(set(e.tolist())) == 8 for e in epochs)
    assert not torch.equal(epochs[0], epochs[1])
    again = list(global_batches(10, 4, steps=5, generator=torch.Generator().manual_seed(0)))
    assert all(torch.equal(a, b) for a, b in zip(batches, again)), "same seed, same batches on every rank"
    with pytest.raises(ValueError, match="global_batch"):
        next(global_batches(3, 4, steps=1, generator=torch.Generator()))


@pytest.mark.parametrize("size, world_size", [(8, 2), (9, 2), (7, 3), (2, 4)])
def test_shards_are_disjoint_and_cover_the_batch(size, world_size):
    indices = torch.randperm(20, generator=torch.Generator().manual_seed(1))[:size]
    shards = [shard(indices, r, world_size) for r in range(world_size)]
    assert sorted(torch.cat(shards).tolist()) == sorted(indices.tolist())
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_shards_are_the_ones_distributed_sampler_gives_each_rank():
    from torch.utils.data import DistributedSampler

    n, world_size, per_rank = 24, 3, 4  # 2 global batches of 12 per epoch
    sampler_batches = []
    for rank in range(world_size):
        sampler = DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=False)
        mine = torch.tensor(list(sampler))
        sampler_batches.append([mine[k * per_rank:(k + 1) * per_rank] for k in range(2)])
    order = torch.arange(n)  # the sampler's order with shuffle=False
    for k in range(2):
        idx = order[k * world_size * per_rank:(k + 1) * world_size * per_rank]  # the k-th global batch
        for rank in range(world_size):
            assert torch.equal(shard(idx, rank, world_size), sampler_batches[rank][k])


def test_bad_shard_and_wrap_input():
    with pytest.raises(ValueError, match=r"rank=2, world_size=2"):
        shard(torch.arange(4), 2, 2)
    with pytest.raises(ValueError, match=r"\(B,\)"):
        shard(torch.zeros(2, 2), 0, 2)
    worker = Worker(rank=0, local_rank=0, world_size=1, backend="gloo", device=torch.device("cpu"))
    with pytest.raises(ValueError, match="move the model to cpu"):
        wrap(build_model("mlp", 0, torch.float32).to("meta"), worker)
    with pytest.raises(ValueError, match="nproc=0"):
        launch_local("course_lib.train_distributed", nproc=0)


# ---------------------------------------------------------------------------
# 2 ranks through torchrun: the weights after k steps
# ---------------------------------------------------------------------------

@pytest.mark.slow  # starts 2 Python processes that import torch
def test_two_ranks_under_torchrun_equal_one_process_on_the_combined_batch(tmp_path):
    steps, per_rank = 30, 32  # 30 global batches of 64 cross an epoch (22 of them in the 1438 training digits)
    out = tmp_path / "ddp.pt"
    output = _torchrun(2, out, "--steps", str(steps), "--batch-size", str(per_rank), "--dtype", "float64",
                       "--lr", str(LR), "--momentum", str(MOMENTUM), "--seed", str(SEED))
    assert output.count("ranks 2 (gloo on cpu)") == 1, f"rank 0 alone prints the summary:\n{output}"
    saved = torch.load(out)
    assert saved["world_size"] == 2 and saved["backend"] == "gloo"
    _assert_same_training(saved, _single_process(steps, 2 * per_rank, torch.float64), atol=1e-6)
    # It is not a matter of the tolerance: each rank's own batch of 32 alone would have led elsewhere.
    alone = _single_process(steps, per_rank, torch.float64)[0]
    assert max((saved["state_dict"][k] - v).abs().max().item() for k, v in alone.items()) > 1e-3


def test_a_failing_rank_raises_with_its_message_instead_of_hanging():
    with pytest.raises(RuntimeError, match="No module named course_lib.no_such_module"):
        launch_local("course_lib.no_such_module", nproc=2, timeout_s=TIMEOUT_S)


# ---------------------------------------------------------------------------
# 2 ranks through torch.multiprocessing: the gradients after one backward
# ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gradient_data() -> tuple[torch.Tensor, torch.Tensor]:
    """100 random digit-shaped rows X (100, 64), y (100,): the workers need no scikit-learn import."""
    generator = torch.Generator().manual_seed(SEED)
    return torch.randn(100, 64, generator=generator, dtype=torch.float64), torch.randint(10, (100,), generator=generator)


def _gradient_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    """One rank: the gradient of its own shard alone, and the one DDP leaves after backward."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size))
    if Path("/sys/class/net/lo").exists():
        os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(1)
    with process_group() as worker:
        X, y = _gradient_data()
        idx = next(global_batches(len(X), 2 * 16, 1, torch.Generator().manual_seed(SEED)))
        mine = shard(idx, worker.rank, worker.world_size)
        model = build_model("mlp", SEED, torch.float64)
        alone = copy.deepcopy(model)
        F.cross_entropy(alone(X[mine]), y[mine]).backward()
        ddp = wrap(model, worker)
        F.cross_entropy(ddp(X[mine]), y[mine]).backward()
        # Rank r reports r + 1 with weight r + 1: the weighted mean over 2 ranks is (1 + 4) / 3.
        mean = mean_over_ranks(torch.tensor([rank + 1.0], dtype=torch.float64), weight=rank + 1)
        torch.save({"alone": [p.grad for p in alone.parameters()], "ddp": [p.grad for p in model.parameters()],
                    "batch": idx, "mean": mean}, Path(out_dir) / f"rank{rank}.pt")


@pytest.mark.slow  # starts 2 Python processes that import torch
def test_ddp_gradient_is_the_average_of_the_ranks_gradients(tmp_path):
    ranks = 2
    context = mp.spawn(_gradient_worker, args=(ranks, _free_port(), str(tmp_path)), nprocs=ranks, join=False)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not context.join(timeout=1):  # raises if a rank failed
            if time.monotonic() > deadline:
                pytest.fail(f"the ranks did not finish within {TIMEOUT_S} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
                process.join()
    saved = [torch.load(tmp_path / f"rank{r}.pt") for r in range(ranks)]

    X, y = _gradient_data()
    whole = build_model("mlp", SEED, torch.float64)
    F.cross_entropy(whole(X[saved[0]["batch"]]), y[saved[0]["batch"]]).backward()
    for i, p in enumerate(whole.parameters()):
        g0, g1 = saved[0]["alone"][i], saved[1]["alone"][i]
        assert (g0 - g1).abs().max() > 1e-6, "the two shards must give different gradients"
        for r in range(ranks):
            torch.testing.assert_close(saved[r]["ddp"][i], (g0 + g1) / 2, rtol=0, atol=1e-12)
            torch.testing.assert_close(saved[r]["ddp"][i], p.grad, rtol=0, atol=1e-12)
    for r in range(ranks):
        torch.testing.assert_close(saved[r]["mean"], torch.tensor([5 / 3], dtype=torch.float64))


# ---------------------------------------------------------------------------
# The same script with NCCL, one rank per GPU
# ---------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: the NCCL run uses one rank per GPU")
def test_same_script_runs_with_nccl_on_every_gpu(tmp_path):
    ranks, steps, per_rank = torch.cuda.device_count(), 30, 16
    out = tmp_path / "ddp.pt"
    output = _torchrun(ranks, out, "--steps", str(steps), "--batch-size", str(per_rank), "--dtype", "float64",
                       "--lr", str(LR), "--momentum", str(MOMENTUM), "--seed", str(SEED))
    assert f"ranks {ranks} (nccl on cuda)" in output, output
    saved = torch.load(out)
    assert saved["backend"] == "nccl"
    # float64 on the GPU: only the order of the sums differs from the CPU.
    _assert_same_training(saved, _single_process(steps, ranks * per_rank, torch.float64), atol=1e-6)
