"""The process that runs a notebook's cells for the grader: one fresh IPython shell per submission.

Started by ``runner.Worker`` as ``python -m course_lib.grading.worker FD FORBIDDEN_JSON``, where
FORBIDDEN_JSON lists the calls the notebook may not use. It reads one JSON request per line on
stdin (``{"source": cell source}``), runs the cell, and answers one JSON line on file descriptor ``FD``:

    {"status": "ok" | "error", "ename", "evalue", "stdout", "records": [...], "forbidden": [...]}

``records`` holds every value a ``course_lib.checks`` call looked at, converted to plain data
(lists, numbers, strings), never pickles: the grader compares them with the reference solution's
values in its own process. The process runs with the limits the grader set (memory, file size),
an audit hook that refuses to read the course's solutions or to write outside the working
folder, and its real stdout and stderr discarded: what a cell prints is kept in memory, capped.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

STDOUT_LIMIT = 20_000  # characters of printed output kept per cell


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = STDOUT_LIMIT) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.limit - self.kept
        self.parts.append(text[:room])
        self.kept += min(len(text), room)
        self.dropped += max(0, len(text) - room)
        return len(text)

    def text(self) -> str:
        tail = f"\n... [{self.dropped} more characters not kept]" if self.dropped else ""
        return "".join(self.parts) + tail


def to_data(value: Any) -> Any:
    """Convert a recorded value to JSON data; anything else becomes ``{"unsupported": type}``."""
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return {"unsupported": f"ndarray of dtype {value.dtype}"}
        return {"array": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if type(value) in (bool, int, float, str) or value is None:
        return value
    if type(value) in (tuple, list):
        return [to_data(v) for v in value]
    return {"unsupported": type(value).__name__}


def install_guard(workdir: str) -> None:
    """Refuse reads of the course's solutions and of anything the grader keeps, and writes outside ``workdir``."""
    forbidden_reads = json.loads(os.environ.get("COURSE_GRADER_FORBIDDEN", "[]"))
    allowed_writes = (os.path.realpath(workdir), "/dev/null")

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[0]))
            mode = args[1] or "r"
            flags = args[2] or 0
            writing = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if writing and not path.startswith(allowed_writes):
                raise PermissionError(f"grading sandbox: writing outside the working folder is not allowed ({path})")
            if any(path.startswith(f) for f in forbidden_reads):
                raise PermissionError(f"grading sandbox: reading {path} is not allowed")
        elif event in {"os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.chmod"}:
            path = os.path.realpath(os.fsdecode(args[0])) if isinstance(args[0], (str, bytes, os.PathLike)) else ""
            if not path.startswith(allowed_writes):
                raise PermissionError(f"grading sandbox: {event} outside the working folder is not allowed")
        elif event in {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty"}:
            raise PermissionError(f"grading sandbox: starting other programs ({event}) is not allowed")

    sys.addaudithook(hook)  # cannot be removed once added, by design of audit hooks


def watch_forbidden(names: list[str], used: list[str]) -> None:
    """Wrap each forbidden function ('torch.nn.functional.conv2d') so a call from a cell is reported.

    A forbidden module ('torch.autograd') has its ``grad`` and ``backward`` entry points watched.
    """
    import importlib
    import types

    for dotted in names:
        module_name, _, attr = dotted.rpartition(".")
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        target = getattr(owner, attr, None)
        if isinstance(target, types.ModuleType):
            for entry in ("grad", "backward"):
                if hasattr(target, entry):
                    _wrap(target, entry, dotted, used)
        elif callable(target):
            _wrap(owner, attr, dotted, used)


def _wrap(owner: Any, attr: str, label: str, used: list[str]) -> None:
    original = getattr(owner, attr)

    def watched(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code.co_filename
        if caller.startswith("<ipython-input"):  # how IPython names the code of a cell
            used.append(label)
        return original(*args, **kwargs)

    watched.__wrapped__ = original
    setattr(owner, attr, watched)


def main() -> None:
    answer_fd = int(sys.argv[1])
    answers = os.fdopen(answer_fd, "w", encoding="utf-8", buffering=1)
    requests = sys.stdin
    forbid = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []

    from IPython.core.interactiveshell import InteractiveShell

    import course_lib.checks as checks

    shell = InteractiveShell.instance(colors="nocolor")
    shell.showtraceback = lambda *a, **k: None  # errors are reported through the answer channel
    shell.enable_matplotlib = lambda gui=None: ("agg", "agg")  # %matplotlib of any kind: draw nowhere
    install_guard(os.getcwd())
    used: list[str] = []
    watch_forbidden(forbid, used)

    for line in requests:
        request = json.loads(line)
        records: list[dict] = []
        checks.set_recorder(lambda kind, name, value, options: records.append(
            {"kind": kind, "name": name, "value": to_data(value), "options": options}))
        used.clear()
        out = CappedText()
        sys.stdout = sys.stderr = out
        try:
            result = shell.run_cell(request["source"], store_history=True)
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        error = result.error_before_exec or result.error_in_exec
        answer = {
            "status": "error" if error is not None else "ok",
            "ename": type(error).__name__ if error is not None else None,
            "evalue": str(error)[:2000] if error is not None else None,
            "stdout": out.text(),
            "records": records,
            "forbidden": sorted(set(used)),
        }
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
