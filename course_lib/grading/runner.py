"""Run a list of cells in a sandboxed worker process, surviving whatever the cells do.

``run_cells`` executes cells in order in a fresh ``worker`` process inside a ``Sandbox``, with a
time limit per cell and one for the whole notebook. When a cell kills its process (a timeout,
``os._exit``, a crash, a blown memory limit, garbage on the channel), it is marked failed, a new
process is started, the earlier cells that set things up are replayed, and the run goes on, so
later exercises still count.

The channel is the worker's stdout, one JSON line per request. The grader trusts nothing on it:
an answer must carry the random nonce of the request it answers, have the expected fields and
types, and stay under ``ANSWER_LIMIT`` bytes; anything else ends the worker and counts as a crash
of that cell. Records are kept only for test cells.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.grading.sandbox import Limits, Sandbox, set_limits
from course_lib.grading.status import FATAL, Status

ANSWER_LIMIT = 8_000_000  # bytes of one answer line; more means the channel was abused
TEXT_LIMIT = 2_000  # characters of an error message kept
RECORD_KINDS = {"shape", "close", "equal", "true", "pure", "raises"}
MAX_DEPTH = 32  # nesting of a recorded value


@dataclass
class CellResult:
    """What happened to one cell. ``status``: ok, error, timeout, crashed, skipped."""

    status: Status
    ename: str | None = None
    evalue: str | None = None
    stdout: str = ""
    records: list[dict] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


class WorkerDied(Exception):
    """The worker process ended, stopped answering or broke the channel; ``status`` says how."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


class Worker:
    """One sandboxed Python process running the cells sent to it."""

    def __init__(self, workdir: Path, limits: Limits, sandbox: Sandbox, forbid: list[str]) -> None:
        env = {
            "MPLBACKEND": "agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
        }
        argv = [sys.executable, "-m", "course_lib.grading.worker", json.dumps(forbid)]
        if sandbox.kind == "none":  # the grader's own environment, in a host folder
            env = {**os.environ, **env, "HOME": str(workdir), "MPLCONFIGDIR": str(workdir / ".mpl")}
        self.process = subprocess.Popen(
            sandbox.command(argv, limits, env, workdir),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=workdir, env=env if sandbox.kind == "none" else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            preexec_fn=lambda: set_limits(limits, sandbox.limits_processes),
        )
        self._answers = self.process.stdout.fileno()
        self._buffer = b""

    def run(self, source: str, timeout: float, test: bool) -> dict[str, Any]:
        """Send one cell and wait for its answer; raise WorkerDied on timeout, death or a bad answer."""
        nonce = secrets.token_hex(16)
        try:
            self.process.stdin.write((json.dumps({"source": source, "nonce": nonce, "test": test}) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(Status.CRASHED, self._death_message()) from None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerDied(Status.TIMEOUT, f"the cell ran longer than its {timeout:.0f} s limit")
            ready, _, _ = select.select([self._answers], [], [], min(left, 1.0))
            if not ready:
                if self.process.poll() is not None:  # died without closing a pipe a child still holds
                    raise WorkerDied(Status.CRASHED, self._death_message())
                continue
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                _wait(self.process, 5)
                raise WorkerDied(Status.CRASHED, self._death_message())
            self._buffer += chunk
            if len(self._buffer) > ANSWER_LIMIT:
                raise WorkerDied(Status.CRASHED, "the cell flooded the grader's channel")
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer = parse_answer(line, nonce)
        if answer is None or self._buffer:
            raise WorkerDied(Status.CRASHED, "the cell wrote something other than the grader's answer on its channel")
        return answer

    def _death_message(self) -> str:
        code = self.process.poll()
        if code is None:
            return "the process stopped answering"
        if code < 0:
            reason = {9: "killed (memory limit or SIGKILL)", 11: "segmentation fault", 6: "aborted",
                      24: "CPU time limit"}.get(-code, "")
            return f"the process died from signal {-code} {reason}".strip()
        return f"the process exited with code {code} (os._exit or a crash)"

    def close(self) -> None:
        """Kill the sandbox and everything in it (its own process group; bwrap takes its namespace along)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        _wait(self.process, 10)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass  # the pipe broke when the process died


def _wait(process: subprocess.Popen, seconds: float) -> None:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parse_answer(line: bytes, nonce: str) -> dict[str, Any] | None:
    """The worker's answer if ``line`` is one, for the request ``nonce``, with sane fields; else None."""
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict) or answer.get("nonce") != nonce or answer.get("status") not in ("ok", "error"):
        return None
    for name in ("ename", "evalue"):
        if answer.get(name) is not None and not isinstance(answer[name], str):
            return None
    if not isinstance(answer.get("stdout", ""), str) or not isinstance(answer.get("forbidden", []), list):
        return None
    if not all(isinstance(f, str) for f in answer.get("forbidden", [])):
        return None
    records = answer.get("records", [])
    if not isinstance(records, list) or not all(valid_record(r) for r in records):
        return None
    return answer


def valid_record(record: Any) -> bool:
    """A record as ``course_lib.checks`` makes it: kind, name, plain-data value, numeric options."""
    return (isinstance(record, dict) and set(record) == {"kind", "name", "value", "options"}
            and record["kind"] in RECORD_KINDS and isinstance(record["name"], str)
            and isinstance(record["options"], dict)
            and all(isinstance(k, str) and type(v) in (int, float) for k, v in record["options"].items())
            and _plain(record["value"], MAX_DEPTH))


def _plain(value: Any, depth: int) -> bool:
    if depth <= 0:
        return False
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_plain(v, depth - 1) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and _plain(v, depth - 1) for k, v in value.items())
    return False


def run_cells(
    sources: list[str],
    roles: list[str],
    workdir: Path,
    limits: Limits,
    sandbox: Sandbox,
    forbid: list[str] = (),
) -> list[CellResult]:
    """Run every cell once, in order, restarting the worker after a fatal cell.

    ``roles[i]`` is "test" for test cells: they are not replayed after a restart (they only look)
    and only their records are kept. Cells after the notebook's time limit are skipped.
    """
    results: list[CellResult] = []
    start = time.monotonic()
    worker = Worker(workdir, limits, sandbox, list(forbid))
    try:
        for index, source in enumerate(sources):
            left = limits.notebook_seconds - (time.monotonic() - start)
            if left <= 0:
                results.append(CellResult(Status.SKIPPED, evalue="the notebook's time limit was reached"))
                continue
            test = roles[index] == "test"
            try:
                results.append(_result(worker.run(source, min(limits.cell_seconds, left), test), test))
            except WorkerDied as death:
                results.append(CellResult(death.status, ename=str(death.status), evalue=str(death)))
                worker.close()
                worker = Worker(workdir, limits, sandbox, list(forbid))
                _replay(worker, sources, roles, results, index, limits, start)
    finally:
        worker.close()
    return results


def _replay(worker: Worker, sources, roles, results, failed: int, limits: Limits, start: float) -> None:
    """Re-run the earlier setup and answer cells that did not kill a worker, ignoring their results."""
    for index in range(failed):
        if roles[index] == "test" or results[index].status in FATAL:
            continue
        left = limits.notebook_seconds - (time.monotonic() - start)
        if left <= 0:
            return
        try:
            worker.run(sources[index], min(limits.cell_seconds, left), False)
        except WorkerDied:
            return  # a cell that ran fine before and dies now: give up replaying, later cells will fail


def _result(answer: dict[str, Any], test: bool) -> CellResult:
    return CellResult(
        status=Status(answer["status"]),
        ename=(answer.get("ename") or None) and answer["ename"][:200],
        evalue=(answer.get("evalue") or None) and answer["evalue"][:TEXT_LIMIT],
        stdout=answer.get("stdout", "")[:TEXT_LIMIT * 10],
        records=answer.get("records", []) if test else [],
        forbidden=answer.get("forbidden", []),
    )
