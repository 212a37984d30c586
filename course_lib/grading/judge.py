"""The trusted process that runs a notebook's test cells: outside the sandbox, never running student code.

Started by ``runner.Judge`` as ``python -m course_lib.grading.judge``, in a private folder. It
runs the instructor's cells only: the given cells (which the worker runs too) and the test
cells, hidden ones included, which exist nowhere else. Before a cell, the names it uses that the
student's cells bound are fetched from the worker (``install``): plain values are copied here,
anything else becomes a ``remote.Proxy`` whose every use runs in the sandbox. So a check's
record is computed here, from values decoded here, and no student code can see the test's
source, its expected values or the recorder.

Requests on stdin: ``{"source", "nonce", "install": [names]}``; the answer on stdout:
``{"nonce", "status", "ename", "evalue", "stdout", "records", "forbidden", "bound", "broken"}``,
``broken`` saying how the worker broke the channel (the cell then counts as crashed). In
between, the lines on stdout and stdin are ``remote`` requests and replies, relayed by the
runner to and from the worker.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from course_lib.grading.remote import ChannelBroken, Origin, Remote, origin_of
from course_lib.grading.worker import CappedText, _private_streams, bindings


def to_data(value: Any, depth: int = 16) -> Any:
    """A recorded value as JSON data; anything else becomes ``{"unsupported": type}``."""
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


def install(remote: Remote, namespace: dict, names: list[str]) -> None:
    """Bind ``names`` as the worker has them; a library object the given cells bound stays ours."""
    for name, value in remote.names(names).items():
        if isinstance(value, Origin):
            if origin_of(namespace.get(name)) == value.origin:
                continue  # e.g. `import numpy as np` again in an answer: keep our numpy
            value = value.proxy
        namespace[name] = value


def main() -> None:
    requests, answers = _private_streams()
    from IPython.core.interactiveshell import InteractiveShell

    import course_lib.checks as checks

    shell = InteractiveShell.instance(colors="nocolor")
    shell.showtraceback = lambda *a, **k: None
    shell.enable_matplotlib = lambda gui=None: ("agg", "agg")
    remote = Remote(requests.readline, answers.write)

    while line := requests.readline():
        request = json.loads(line)
        records: list[dict] = []
        remote.forbidden.clear()
        broken = None
        before = bindings(shell.user_ns)
        out = CappedText()
        error: BaseException | None = None

        def record(kind: str, name: str, value: Any, options: dict, records=records) -> None:
            records.append({"kind": kind, "name": name, "value": to_data(value), "options": options})

        checks.set_recorder(record)
        sys.stdout = sys.stderr = out
        try:
            if request.get("install"):
                install(remote, shell.user_ns, request["install"])
            result = shell.run_cell(request["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
        except BaseException as escaped:  # noqa: BLE001 - the cell's error, or a broken channel
            error = escaped
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            checks.set_recorder(None)
        broken = remote.endpoint.failure
        remote.endpoint.failure = None
        if broken is None and isinstance(error, ChannelBroken):
            broken = str(error)
        after = bindings(shell.user_ns)
        answer = {
            "nonce": request["nonce"],
            "status": "error" if error is not None else "ok",
            "ename": type(error).__name__ if error is not None else None,
            "evalue": str(error)[:2000] if error is not None else None,
            "stdout": out.text(),
            "records": records,
            "forbidden": sorted(remote.forbidden),
            "bound": sorted(n for n, i in after.items() if before.get(n) != i),
            "broken": broken,
        }
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
