"""The grader's side of the zygotes (``zygote``): started once per grader process, one fork per notebook.

``worker_zygote`` runs in a bubblewrap sandbox and forks sandboxed workers; ``judge_zygote`` forks
trusted judges; ``trusted_zygote`` forks workers that need no sandbox (``Sandbox("none")``). A forked process is handed to ``runner.Channel`` as a ``Forked``, which answers
the few questions the runner asks of a ``subprocess.Popen`` (is it alive, wait, kill). A zygote
that died is started again on the next request.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from typing import Any

from course_lib.grading.sandbox import Limits, bwrap_command

SPAWN_SECONDS = 120.0  # a fresh zygote imports NumPy and PyTorch first


class Forked:
    """A notebook's process forked by a zygote: pipes for its channel, and Popen's poll/wait/kill."""

    def __init__(self, zygote: "Zygote", cid: str, stdin_fd: int, stdout_fd: int) -> None:
        self._zygote, self._cid = zygote, cid
        self.stdin = os.fdopen(stdin_fd, "wb")
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)

    def poll(self) -> int | None:
        """The exit code (negative: the signal) once the zygote reported it, else None."""
        return self._zygote.exits.get(self._cid)

    def wait(self, timeout: float | None = None) -> int:
        with self._zygote.changed:
            if not self._zygote.changed.wait_for(lambda: self._cid in self._zygote.exits, timeout):
                raise subprocess.TimeoutExpired(f"zygote child {self._cid}", timeout)
        return self._zygote.exits[self._cid]

    def kill(self) -> None:
        """Kill the process and everything it started (its whole pid namespace, for a worker)."""
        self._zygote.send({"kill": self._cid})


class Zygote:
    """One zygote process and the thread that reads its replies."""

    def __init__(self, role: str, prefix: list[str], env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [*prefix, sys.executable, "-m", "course_lib.grading.zygote", role, str(theirs.fileno())]
        self.process = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                        start_new_session=True)
        theirs.close()
        self.socket = ours
        self.changed = threading.Condition()
        self.replies: dict[str, dict] = {}
        self.exits: dict[str, int] = {}
        self.alive = True
        self._send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name=f"{role}-zygote").start()

    def _read(self) -> None:
        while True:
            try:
                data = self.socket.recv(1 << 16)
            except OSError:
                data = b""
            with self.changed:
                if not data:  # the zygote died: so did every process it forked
                    self.alive = False
                    self.changed.notify_all()
                    return
                message = json.loads(data)
                if "exited" in message:
                    self.exits[message["exited"]] = int(message["status"])
                else:
                    self.replies[message.get("spawned") or message.get("failed")] = message
                self.changed.notify_all()

    def send(self, message: dict, fds: list[int] = ()) -> None:
        with self._send_lock:
            try:
                socket.send_fds(self.socket, [json.dumps(message).encode()], list(fds))
            except OSError:
                pass  # a dead zygote: the reader thread has seen it, or will

    def spawn(self, request: dict[str, Any]) -> Forked:
        """A fresh process for one notebook; RuntimeError when the zygote cannot make one."""
        cid = secrets.token_hex(8)
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        self.send({"spawn": cid, **request}, [request_r, answer_w])
        os.close(request_r)
        os.close(answer_w)
        with self.changed:
            self.changed.wait_for(lambda: cid in self.replies or not self.alive, SPAWN_SECONDS)
            reply = self.replies.pop(cid, None)
        if reply is None or "failed" in reply:
            os.close(request_w)
            os.close(answer_r)
            why = reply["error"] if reply else "the zygote is not answering"
            raise RuntimeError(f"could not start a process for the notebook: {why}")
        return Forked(self, cid, request_w, answer_r)

    def close(self) -> None:
        """End the zygote: it kills what it forked and exits."""
        try:  # shutdown, not only close: the reader thread blocked in recv holds the socket open
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_zygotes: dict[str, Zygote] = {}
_lock = threading.Lock()


def _get(role: str, start) -> Zygote:
    with _lock:
        zygote = _zygotes.get(role)
        if zygote is None or not zygote.alive or zygote.process.poll() is not None:
            zygote = _zygotes[role] = start()
        return zygote


def worker_zygote(env: dict[str, str]) -> Zygote:
    """The zygote of sandboxed workers: one bubblewrap sandbox, root inside it, that forks them."""
    prefix = bwrap_command([], Limits(), env, uid=0, drop=False)
    return _get("worker", lambda: Zygote("worker", prefix, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}))


def trusted_zygote(env: dict[str, str]) -> Zygote:
    """The zygote of workers without a sandbox (``Sandbox("none")``): a plain process of the grader's user."""
    return _get("trusted", lambda: Zygote("trusted", [], env))


def judge_zygote(env: dict[str, str]) -> Zygote:
    """The zygote of trusted judges: a plain process of the grader's user."""
    return _get("judge", lambda: Zygote("judge", [], env))


@atexit.register
def close_all() -> None:
    with _lock:
        for zygote in _zygotes.values():
            zygote.close()
        _zygotes.clear()
