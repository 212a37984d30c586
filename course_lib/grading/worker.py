"""The process that runs a notebook's cells for the grader: one fresh IPython shell per submission.

Started by ``runner.Worker`` (inside the sandbox) as ``python -m course_lib.grading.worker FORBID_JSON``.
It reads one JSON request per line on stdin (``{"source", "nonce", "test"}``), runs the cell, and
answers one JSON line on stdout:

    {"nonce", "status": "ok" | "error", "ename", "evalue", "stdout", "records": [...], "forbidden": [...]}

``records`` holds every value a ``course_lib.checks`` call looked at, converted to plain data
(lists, numbers, strings), never pickles: the grader compares them with the reference solution's
values in its own process. The process's real stdin and stdout are moved to private descriptors
and replaced by /dev/null, so what a cell prints (kept in memory, capped) cannot land on the
channel by accident.

This process is not a security boundary (the sandbox around it is). Before each test cell it
still puts back what a cell may have swapped to fool the checks: ``course_lib.checks`` and its
names in the notebook, builtins, IPython's input and AST transformers and cell events, and trace
functions, so that honest mistakes and casual tampering cannot change what a test records.
"""

from __future__ import annotations

import builtins
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
        text = str(text)
        room = self.limit - self.kept
        self.parts.append(text[:room])
        self.kept += min(len(text), room)
        self.dropped += max(0, len(text) - room)
        return len(text)

    def text(self) -> str:
        tail = f"\n... [{self.dropped} more characters not kept]" if self.dropped else ""
        return "".join(self.parts) + tail


def to_data(value: Any, depth: int = 16) -> Any:
    """Convert a recorded value to JSON data; anything else becomes ``{"unsupported": type}``.

    Arrays are copied to plain ``ndarray`` first, so a subclass cannot choose what it reports.
    """
    import numpy as np

    if depth <= 0:
        return {"unsupported": "nested too deeply"}
    if isinstance(value, np.ndarray):
        plain = np.array(value, copy=True, subok=False)
        if plain.dtype.kind not in "biuf":
            return {"unsupported": f"ndarray of dtype {plain.dtype}"}
        return {"array": plain.tolist(), "dtype": str(plain.dtype), "shape": list(plain.shape)}
    if type(value) in (bool, int, float, str) or value is None:
        return value
    if type(value) in (tuple, list):
        return [to_data(v, depth - 1) for v in value]
    return {"unsupported": type(value).__name__}


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


class Pristine:
    """What a test cell relies on, as it was before any student code ran, and how to put it back."""

    def __init__(self, shell: Any, checks: Any) -> None:
        self.shell, self.checks = shell, checks
        self.checks_dict = dict(vars(checks))
        self.check_names = {n: f for n, f in self.checks_dict.items() if n.startswith("check_") and callable(f)}
        self.codes = {n: f.__code__ for n, f in self.check_names.items()}
        self.builtins = dict(vars(builtins))
        self.transformers = (list(shell.input_transformers_cleanup), list(shell.input_transformers_post),
                             list(shell.ast_transformers))
        self.callbacks = {event: list(fns) for event, fns in shell.events.callbacks.items()}

    def restore(self) -> None:
        sys.settrace(None)
        sys.setprofile(None)
        vars(builtins).update(self.builtins)
        vars(self.checks).update(self.checks_dict)
        sys.modules["course_lib.checks"] = self.checks
        for name, fn in self.check_names.items():
            fn.__code__ = self.codes[name]
            if name in self.shell.user_ns:
                self.shell.user_ns[name] = fn
        cleanup, post, ast = self.transformers
        self.shell.input_transformers_cleanup[:] = cleanup
        self.shell.input_transformers_post[:] = post
        self.shell.ast_transformers[:] = ast
        for event, fns in self.callbacks.items():
            self.shell.events.callbacks[event][:] = fns


def _private_streams() -> tuple[Any, Any]:
    """Move stdin/stdout (the channel) to private descriptors; fds 0, 1, 2 become /dev/null."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdin = open(os.devnull, encoding="utf-8")
    return requests, answers


def main() -> None:
    requests, answers = _private_streams()
    forbid = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    dumps, loads = json.dumps, json.loads

    from IPython.core.interactiveshell import InteractiveShell

    import course_lib.checks as checks

    shell = InteractiveShell.instance(colors="nocolor")
    shell.showtraceback = lambda *a, **k: None  # errors are reported through the answer channel
    shell.enable_matplotlib = lambda gui=None: ("agg", "agg")  # %matplotlib of any kind: draw nowhere
    used: list[str] = []
    watch_forbidden(forbid, used)
    set_recorder = checks.set_recorder
    pristine = Pristine(shell, checks)

    for line in requests:
        request = loads(line)
        records: list[dict] = []
        if request.get("test"):
            pristine.restore()

        def record(kind: str, name: str, value: Any, options: dict, records=records) -> None:
            records.append({"kind": kind, "name": name, "value": to_data(value), "options": options})

        set_recorder(record)
        used.clear()
        out = CappedText()
        sys.stdout = sys.stderr = out
        try:
            result = shell.run_cell(request["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
        except BaseException as escaped:  # noqa: BLE001 - whatever a cell raises is its result
            error = escaped
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        set_recorder(None)
        try:
            evalue = str(error)[:2000] if error is not None else None
        except BaseException:  # noqa: BLE001 - an exception whose __str__ raises
            evalue = "(the error's message could not be shown)"
        answer = {
            "nonce": request["nonce"],
            "status": "error" if error is not None else "ok",
            "ename": type(error).__name__ if error is not None else None,
            "evalue": evalue,
            "stdout": out.text(),
            "records": records if request.get("test") else [],
            "forbidden": sorted(set(used)),
        }
        answers.write(dumps(answer) + "\n")


if __name__ == "__main__":
    main()
