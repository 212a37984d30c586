"""Run a list of cells in a sandboxed worker process, surviving whatever the cells do.

``run_cells`` executes cells in order in a fresh ``worker`` process with a memory limit, a time
limit per cell and one for the whole notebook. When a cell kills its process (a timeout,
``os._exit``, a crash, a blown memory limit), it is marked failed, a new process is started, the
earlier cells that set things up are replayed, and the run goes on, so later exercises still count.
"""

from __future__ import annotations

import json
import os
import resource
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWER_LIMIT = 8_000_000  # bytes of one answer line; more means the channel was abused


@dataclass
class CellResult:
    """What happened to one cell. ``status``: ok, error, timeout, crashed, skipped."""

    status: str
    ename: str | None = None
    evalue: str | None = None
    stdout: str = ""
    records: list[dict] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 60.0
    notebook_seconds: float = 600.0
    memory_mb: int = 4096


class WorkerDied(Exception):
    """The worker process ended or stopped answering; ``status`` says how."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class Worker:
    """One sandboxed Python process running cells sent to it, in ``workdir``."""

    def __init__(self, workdir: Path, limits: Limits, forbidden_reads: list[str], forbid: list[str]) -> None:
        read_end, self._write_end = os.pipe()
        self._answers = read_end
        env = {
            **os.environ,
            "COURSE_GRADER_FORBIDDEN": json.dumps([os.path.realpath(p) for p in forbidden_reads]),
            "MPLBACKEND": "agg",
            "MPLCONFIGDIR": str(workdir / ".matplotlib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "HOME": str(workdir),
        }
        memory = limits.memory_mb * 2**20

        def limit() -> None:  # runs in the child just before the worker starts
            os.setsid()
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 2**20, 256 * 2**20))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.process = subprocess.Popen(
            [sys.executable, "-m", "course_lib.grading.worker", str(self._write_end), json.dumps(forbid)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=workdir, env=env, pass_fds=(self._write_end,), preexec_fn=limit, text=True,
        )
        os.close(self._write_end)
        self._buffer = b""

    def run(self, source: str, timeout: float) -> dict[str, Any]:
        """Send one cell and wait for its answer; raise WorkerDied on timeout or death."""
        try:
            self.process.stdin.write(json.dumps({"source": source}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied("crashed", self._death_message()) from None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerDied("timeout", f"the cell ran longer than its {timeout:.0f} s limit")
            ready, _, _ = select.select([self._answers], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                self.process.wait(timeout=5)
                raise WorkerDied("crashed", self._death_message())
            self._buffer += chunk
            if len(self._buffer) > ANSWER_LIMIT:
                raise WorkerDied("crashed", "the cell flooded the grader's channel")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise WorkerDied("crashed", "the cell corrupted the grader's channel") from None

    def _death_message(self) -> str:
        code = self.process.poll()
        if code is None:
            return "the process stopped answering"
        if code < 0:
            signal = -code
            reason = {9: "killed (memory limit or SIGKILL)", 11: "segmentation fault", 6: "aborted"}.get(signal, "")
            return f"the process died from signal {signal} {reason}".strip()
        return f"the process exited with code {code} (os._exit or a crash)"

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        try:
            self.process.stdin.close()
        except OSError:
            pass  # the pipe broke when the process died
        os.close(self._answers)


def run_cells(
    sources: list[str],
    replayable: list[bool],
    workdir: Path,
    limits: Limits,
    forbidden_reads: list[str] = (),
    forbid: list[str] = (),
) -> list[CellResult]:
    """Run every cell once, in order, restarting the worker after a fatal cell.

    ``replayable[i]`` says whether cell i is replayed after a restart (setup and answer cells are,
    test cells are not: they only look). Cells after the notebook's time limit are skipped.
    """
    results: list[CellResult] = []
    start = time.monotonic()
    worker = Worker(workdir, limits, list(forbidden_reads), list(forbid))
    try:
        for index, source in enumerate(sources):
            left = limits.notebook_seconds - (time.monotonic() - start)
            if left <= 0:
                results.append(CellResult("skipped", evalue="the notebook's time limit was reached"))
                continue
            try:
                results.append(_result(worker.run(source, min(limits.cell_seconds, left))))
            except WorkerDied as death:
                results.append(CellResult(death.status, ename=death.status, evalue=str(death)))
                worker.close()
                worker = Worker(workdir, limits, list(forbidden_reads), list(forbid))
                _replay(worker, sources, replayable, results, index, limits, start)
    finally:
        worker.close()
    return results


def _replay(worker: Worker, sources, replayable, results, failed: int, limits: Limits, start: float) -> None:
    """Re-run the earlier setup and answer cells that did not kill a worker, ignoring their results."""
    for index in range(failed):
        if not replayable[index] or results[index].status in {"timeout", "crashed", "skipped"}:
            continue
        left = limits.notebook_seconds - (time.monotonic() - start)
        if left <= 0:
            return
        try:
            worker.run(sources[index], min(limits.cell_seconds, left))
        except WorkerDied:
            return  # a cell that ran fine before and dies now: give up replaying, later cells will fail


def _result(answer: dict[str, Any]) -> CellResult:
    return CellResult(
        status=answer.get("status", "error"),
        ename=answer.get("ename"),
        evalue=answer.get("evalue"),
        stdout=answer.get("stdout", ""),
        records=answer.get("records", []),
        forbidden=answer.get("forbidden", []),
    )
