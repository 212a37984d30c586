"""Run a notebook's cells in two processes, surviving whatever the student's cells do.

``run_cells`` executes the cells in order. The student's cells run in a fresh ``worker`` process
inside a ``Sandbox``; test cells run in a trusted ``judge`` process outside it, which calls the
student's functions through a narrow channel of plain data (``remote``, ``wire``): this module
relays each request and reply between the two, in turns, checking every line. There is a time
limit per cell and one for the whole notebook. When a cell kills a process (a timeout,
``os._exit``, a crash, a blown memory limit, garbage or a forged line on a channel), it is marked
failed, both processes are started again, the earlier cells that set things up are replayed, and
the run goes on, so later exercises still count.

The grader trusts nothing the worker writes: an answer must carry the random nonce of the
request it answers, a reply the id of the call in flight, have the expected fields and types,
and stay under ``ANSWER_LIMIT`` bytes; anything else ends the worker and counts as a crash of
that cell. Records come only from the judge, for test cells.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from course_lib.grading.sandbox import Limits, Sandbox, next_uid, set_limits
from course_lib.grading.status import FATAL, Status
from course_lib.grading.warm import Forked, judge_zygote, trusted_zygote, worker_zygote

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
    seconds: float = 0.0  # wall time from sending the cell to its answer (or to the process's death)


class WorkerDied(Exception):
    """The worker process ended, stopped answering or broke the channel; ``status`` says how."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


class Channel:
    """A child process spoken to in JSON lines on its stdin and stdout, with deadlines and size caps."""

    who = "the process"

    def __init__(self, process: "subprocess.Popen | Forked") -> None:
        self.process = process
        self._answers = self.process.stdout.fileno()
        self._buffer = b""

    @staticmethod
    def start(argv: list[str], workdir: Path, env: dict, preexec: Any = None) -> subprocess.Popen:
        """A cold process: a new Python started from scratch."""
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                cwd=workdir, env=env, preexec_fn=preexec, start_new_session=preexec is None)

    def send(self, line: bytes) -> None:
        try:
            self.process.stdin.write(line if line.endswith(b"\n") else line + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(Status.CRASHED, self._death_message()) from None

    def read_line(self, deadline: float, timeout: float) -> bytes:
        """The next line, alone (nothing may follow it: the protocol takes turns); WorkerDied otherwise."""
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
                raise WorkerDied(Status.CRASHED, f"{self.who} flooded the grader's channel")
        line, self._buffer = self._buffer.split(b"\n", 1)
        if self._buffer:
            raise WorkerDied(Status.CRASHED, f"{self.who} wrote something other than the grader's answer on its channel")
        return line


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
                if isinstance(self.process, Forked):
                    self.process.kill()  # its zygote kills its whole namespace
                else:
                    os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        _wait(self.process, 10)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass  # the pipe broke when the process died


class Worker(Channel):
    """One sandboxed Python process running the student's cells and the operations tests ask of them."""

    who = "the cell"

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
        if sandbox.warm_workers:  # forked from the warm zygote, into walls of its own
            super().__init__(worker_zygote(env).spawn({"uid": next_uid(), "limits": asdict(limits), "forbid": forbid}))
            return
        if sandbox.warm and sandbox.kind == "none":  # trusted code: forked warm, without walls
            super().__init__(trusted_zygote({**os.environ, **env}).spawn(
                {"workdir": str(workdir), "limits": asdict(limits), "forbid": forbid}))
            return
        argv = [sys.executable, "-m", "course_lib.grading.worker", json.dumps(forbid)]
        if sandbox.kind == "none":  # the grader's own environment, in a host folder
            env = {**os.environ, **env, "HOME": str(workdir), "MPLCONFIGDIR": str(workdir / ".mpl")}
        super().__init__(self.start(sandbox.command(argv, limits, env, workdir), workdir,
                                    env if sandbox.kind == "none" else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                    lambda: set_limits(limits, sandbox.limits_processes)))

    def run(self, source: str, timeout: float) -> dict[str, Any]:
        """Send one cell and wait for its answer; raise WorkerDied on timeout, death or a bad answer."""
        nonce = secrets.token_hex(16)
        self.send(json.dumps({"source": source, "nonce": nonce}).encode())
        answer = parse_answer(self.read_line(time.monotonic() + timeout, timeout), nonce)
        if answer is None:
            raise WorkerDied(Status.CRASHED, "the cell wrote something other than the grader's answer on its channel")
        return answer


class Judge(Channel):
    """The trusted process running given and test cells (``judge``), outside the sandbox, in its own folder."""

    who = "the test process"

    def __init__(self, workdir: Path, warm: bool = False) -> None:
        env = {**os.environ, "MPLBACKEND": "agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "PYTHONIOENCODING": "utf-8"}
        if warm:
            super().__init__(judge_zygote(env).spawn({"workdir": str(workdir)}))
            return
        env["MPLCONFIGDIR"] = str(workdir / ".mpl")
        super().__init__(self.start([sys.executable, "-m", "course_lib.grading.judge"], workdir, env))

    def run(self, worker: Worker, source: str, install: list[str], timeout: float) -> dict[str, Any]:
        """Run one cell here, relaying its calls to ``worker`` and their replies back, in turns.

        Every line is checked before it is passed on: the worker may only answer the request in
        flight (its id) or call back a trusted callable while it is serving one; anything else
        ends the worker (WorkerDied), like garbage on its channel.
        """
        nonce = secrets.token_hex(16)
        deadline = time.monotonic() + timeout
        self.send(json.dumps({"source": source, "nonce": nonce, "install": install}).encode())
        in_flight: list[tuple[Channel, str]] = []  # (who asked, request id), innermost last
        active, other = self, worker
        while True:
            line = active.read_line(deadline, timeout)
            message = _json_object(line)
            if message is None:
                raise WorkerDied(Status.CRASHED, f"{active.who} wrote something that is not a message on its channel")
            if active is self and not in_flight and message.get("nonce") == nonce:
                answer = parse_answer(line, nonce)
                if answer is None:
                    raise WorkerDied(Status.CRASHED, "the test process gave an answer the grader cannot read")
                if answer.get("broken"):
                    raise WorkerDied(Status.CRASHED, f"the answer broke the test's channel: {answer['broken']}")
                return answer
            if _is_request(message) and (active is self or message["op"] == "callback"):
                in_flight.append((active, message["id"]))
            elif type(message.get("re")) is str and in_flight and in_flight[-1] == (other, message["re"]):
                in_flight.pop()
            else:
                raise WorkerDied(Status.CRASHED, f"{active.who} sent a reply to a call that was not made")
            other.send(line)
            active, other = other, active


def _wait(process: subprocess.Popen, seconds: float) -> None:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _json_object(line: bytes) -> dict | None:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _is_request(message: dict) -> bool:
    return type(message.get("id")) is str and type(message.get("op")) is str


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
    bound = answer.get("bound", [])
    if not isinstance(bound, list) or len(bound) > 100_000 or not all(isinstance(b, str) for b in bound):
        return None
    if answer.get("broken") is not None and not isinstance(answer["broken"], str):
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


def used_names(source: str) -> set[str] | None:
    """Every name a cell's code mentions (None when it is not plain Python, e.g. it has magics)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


class Session:
    """The two processes of one notebook: the sandboxed worker and the trusted judge.

    ``owner[name]`` says which side bound ``name`` last: a name the student's cells bound is
    fetched from the worker before a test (or given) cell that uses it runs in the judge.
    """

    def __init__(self, workdir: Path, limits: Limits, sandbox: Sandbox, forbid: list[str]) -> None:
        self.args = workdir, limits, sandbox, forbid
        self.owner: dict[str, str] = {}
        self._judge_dir = tempfile.TemporaryDirectory(prefix="course-judge-")  # no sandbox can write here
        self.worker = Worker(workdir, limits, sandbox, forbid)
        try:
            self.judge = Judge(Path(self._judge_dir.name), sandbox.warm)
        except BaseException:  # no worker is left running without its session
            self.worker.close()
            self._judge_dir.cleanup()
            raise

    def run(self, source: str, role: str, timeout: float) -> dict[str, Any]:
        """Run a cell where its role says: tests in the judge, given cells in both, the rest in the worker."""
        answer = None
        if role != "test":
            answer = self.worker.run(source, timeout)
            self.owner.update(dict.fromkeys(answer.get("bound", []), "worker"))
        if role in ("test", "given"):
            names = used_names(source)
            install = sorted(n for n, side in self.owner.items() if side == "worker" and (names is None or n in names))
            judged = self.judge.run(self.worker, source, install, timeout)  # a given cell's own time here
            self.owner.update(dict.fromkeys(judged.get("bound", []), "judge"))
            answer = judged if role == "test" else answer
        return answer

    def restart(self) -> None:
        self.close()
        self.owner.clear()
        self.worker = Worker(*self.args)
        self.judge = Judge(Path(self._judge_dir.name), self.args[2].warm)

    def close(self) -> None:
        self.worker.close()
        self.judge.close()

    def cleanup(self) -> None:
        self.close()
        self._judge_dir.cleanup()


def run_cells(
    sources: list[str],
    roles: list[str],
    workdir: Path,
    limits: Limits,
    sandbox: Sandbox,
    forbid: list[str] = (),
) -> list[CellResult]:
    """Run every cell once, in order, restarting both processes after a fatal cell.

    ``roles[i]``: "test" cells run in the trusted judge only (and only their records are kept),
    "given" cells (the instructor's, unedited) in the worker and the judge, every other cell
    (answers, edited or added cells) in the sandboxed worker only. Test cells are not replayed
    after a restart (they only look). Cells after the notebook's time limit are skipped.
    """
    results: list[CellResult] = []
    start = time.monotonic()
    session = Session(workdir, limits, sandbox, list(forbid))
    try:
        for index, source in enumerate(sources):
            left = limits.notebook_seconds - (time.monotonic() - start)
            if left <= 0:
                results.append(CellResult(Status.SKIPPED, evalue="the notebook's time limit was reached"))
                continue
            test = roles[index] == "test"
            began = time.monotonic()
            try:
                results.append(cell_result(session.run(source, roles[index], min(limits.cell_seconds, left)), test))
            except WorkerDied as death:
                results.append(CellResult(death.status, ename=str(death.status), evalue=str(death),
                                          seconds=time.monotonic() - began))
                session.restart()
                _replay(session, sources, roles, results, index, limits, start)
                continue
            results[index].seconds = time.monotonic() - began
    finally:
        session.cleanup()
    return results


def _replay(session: Session, sources, roles, results, failed: int, limits: Limits, start: float) -> None:
    """Re-run the earlier non-test cells that did not kill a process, ignoring their results."""
    for index in range(failed):
        if roles[index] == "test" or results[index].status in FATAL:
            continue
        left = limits.notebook_seconds - (time.monotonic() - start)
        if left <= 0:
            return
        try:
            session.run(sources[index], roles[index], min(limits.cell_seconds, left))
        except WorkerDied:
            return  # a cell that ran fine before and dies now: give up replaying, later cells will fail


def cell_result(answer: dict[str, Any], test: bool) -> CellResult:
    """A cell's answer as a CellResult; records are kept for test cells only."""
    return CellResult(
        status=Status(answer["status"]),
        ename=(answer.get("ename") or None) and answer["ename"][:200],
        evalue=(answer.get("evalue") or None) and answer["evalue"][:TEXT_LIMIT],
        stdout=answer.get("stdout", "")[:TEXT_LIMIT * 10],
        records=answer.get("records", []) if test else [],
        forbidden=answer.get("forbidden", []),
    )
