"""The process that runs a student's notebook cells for the grader: one fresh IPython shell per submission.

Started by ``runner.Worker`` (inside the sandbox) as ``python -m course_lib.grading.worker FORBID_JSON``
(``{"forbid": [...], "allow": [...]}``, see ``forbid``).
It reads one JSON request per line on stdin and answers one JSON line on stdout:

- a cell ``{"source", "nonce", "given"}`` (``given``: the instructor's own cell, whose calls are
  not the student's): it runs the cell and answers
  ``{"nonce", "status": "ok" | "error", "ename", "evalue", "stdout", "forbidden", "bound"}``,
  ``bound`` naming the variables the cell (re)bound;
- an operation from the test process (``remote``): ``{"id", "op": "apply" | "names", ...}``, answered
  ``{"re": id, ...}``. Test cells never run here: the trusted ``judge`` runs them and calls the
  student's functions through these operations, so nothing of a test (hidden inputs aside, which
  the called function receives as arguments) is in this process.

The process's real stdin and stdout are moved to private descriptors and replaced by /dev/null,
so what a cell prints (kept in memory, capped) cannot land on the channel by accident. This
process is not a security boundary (the sandbox around it is): the grader trusts nothing it says.
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
        text = str(text)
        room = self.limit - self.kept
        self.parts.append(text[:room])
        self.kept += min(len(text), room)
        self.dropped += max(0, len(text) - room)
        return len(text)

    def text(self) -> str:
        tail = f"\n... [{self.dropped} more characters not kept]" if self.dropped else ""
        return "".join(self.parts) + tail


CELL_CODE = "<ipython-input-"  # how IPython names the code of a cell: <ipython-input-NUMBER-HASH>


def watch_forbidden(forbid: dict, used: list[str], given: set[int]) -> None:
    """Wrap every forbidden function so that a call from a student's cell is reported in ``used``.

    ``forbid`` is ``{"forbid": [...], "allow": [...]}`` as in a set's metadata (see ``forbid``):
    a forbidden function is wrapped where it lives, a forbidden class has its ``__init__``
    wrapped, a forbidden module (and, for a package of the course, every module under it) has
    every public function and class in it wrapped, ``torch.Tensor.softmax`` wraps the tensor
    method. A call counts when it comes straight from a student's cell, not from one of ``given``
    (the numbers of the cells the student was given): so a library calling another
    (``torch.tensor`` using ``torch.autograd`` inside), or a helper the set provides, does not.

    Only the course's own modules are imported here: a library nobody has imported yet
    (``sklearn.linear_model`` takes seconds) is watched the moment something imports it.
    """
    from course_lib.grading.forbid import Forbidden

    forbidden = Forbidden.of(forbid if isinstance(forbid, dict) else {"forbid": list(forbid)})

    def watch(name: str) -> bool:
        """Wrap what ``name`` names now; False when its module is not imported yet."""
        found = _targets(name)
        for owner, attr, label in found or []:
            if forbidden.match(label):
                _wrap(owner, attr, label, used, given, forbidden.match)
        return found is not None

    later = [name for name in forbidden.names if not watch(name)]
    if later:
        sys.meta_path.insert(0, _WatchOnImport(later, watch))


class _WatchOnImport:
    """An import hook: after an import completes, watch the forbidden names that were waiting for it."""

    def __init__(self, names: list[str], watch: Any) -> None:
        self.waiting, self.watch = list(names), watch
        self.depth = 0  # imports in progress: a package is watched only once it has finished loading

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not any(name == fullname or name.startswith(fullname + ".") for name in self.waiting):
            return None
        for finder in sys.meta_path:  # the spec the other finders would give, with our step after loading
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Loaded(spec.loader, self)
                return spec
            if spec is not None:
                return spec
        return None

    def loaded(self) -> None:
        self.waiting = [name for name in self.waiting if not self.watch(name)]


class _Loaded:
    """A loader that runs the real one, then lets the hook watch what became importable."""

    def __init__(self, loader: Any, hook: _WatchOnImport) -> None:
        self.loader, self.hook = loader, hook

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.hook.depth += 1
        try:
            self.loader.exec_module(module)
        finally:
            self.hook.depth -= 1
        module.__loader__ = module.__spec__.loader = self.loader  # as if we had never been here
        if self.hook.depth == 0:  # torch, say, still setting itself up must not find its functions wrapped
            self.hook.loaded()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def _targets(dotted: str) -> list[tuple[Any, str, str]] | None:
    """(owner, attribute, label) of everything ``dotted`` names: a function, a class, a module's contents.

    None when the module ``dotted`` lives in is not imported yet (the course's own are imported here).
    """
    import importlib
    import inspect
    import pkgutil
    import types

    parts = dotted.split(".")
    if dotted.startswith("course_lib."):
        try:
            importlib.import_module(dotted)
        except ImportError:
            pass  # a function or class in a module, not a module: found below
    for cut in range(len(parts), 0, -1):  # the longest imported prefix, then attributes
        target = sys.modules.get(".".join(parts[:cut]))
        if target is None:
            continue
        owner = None
        for attr in parts[cut:]:
            owner, target = target, getattr(target, attr, None)
        break
    else:
        return None
    if target is None and cut < len(parts):
        return None  # e.g. sklearn is imported but sklearn.linear_model is not, yet
    if not isinstance(target, types.ModuleType):
        return [(owner, parts[-1], dotted)] if owner is not None and callable(target) else []
    modules = [target]
    if hasattr(target, "__path__") and dotted.startswith("course_lib."):  # our own package: every module under it
        for info in pkgutil.walk_packages(target.__path__, target.__name__ + "."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception:  # noqa: BLE001 - a module that does not import cannot be used either
                continue
    top = dotted.split(".")[0]
    found = []
    for module in modules:
        for attr, value in list(vars(module).items()):
            home = getattr(value, "__module__", None) or top
            if attr.startswith("_") or isinstance(value, types.ModuleType) or not callable(value):
                continue
            if home.split(".")[0] == top and not (inspect.isclass(value) and not home.startswith(module.__name__)):
                found.append((module, attr, f"{module.__name__}.{attr}"))
    return found


def _wrap(owner: Any, attr: str, label: str, used: list[str], given: set[int], match: Any) -> None:
    """Replace ``owner.attr`` by a function that reports ``label`` when a student's cell calls it.

    A class has its ``__init__`` replaced instead; the label is then the class being made
    (``type(self)``), counted only when ``match`` says that class is forbidden: an allowed
    subclass that inherits a forbidden base's ``__init__`` is not.
    """
    import inspect

    original = getattr(owner, attr, None)
    if original is None or getattr(original, "__course_watched__", False):
        return
    made = None
    if inspect.isclass(original):  # a class: watch its construction, when it defines how
        if "__init__" not in vars(original) or getattr(original.__init__, "__course_watched__", False):
            return
        cls = original
        owner, attr, original = cls, "__init__", cls.__init__
        made = lambda self: label if type(self) is cls else f"{type(self).__module__}.{type(self).__qualname__}"  # noqa: E731

    def watched(*args: Any, **kwargs: Any) -> Any:
        if _from_student(sys._getframe(1), given):
            name = made(args[0]) if made and args else label
            if match(name):
                used.append(name)
        return original(*args, **kwargs)

    watched.__wrapped__ = original
    watched.__course_watched__ = True
    try:
        setattr(owner, attr, watched)
    except (TypeError, AttributeError):  # a type defined in C: its construction cannot be watched here
        pass


def _from_student(frame: Any, given: set[int]) -> bool:
    """Whether ``frame`` (the caller of a watched function) is the code of a cell the student wrote."""
    if not frame.f_code.co_filename.startswith(CELL_CODE):
        return False
    number = frame.f_code.co_filename[len(CELL_CODE):].split("-")[0]
    return not (number.isdigit() and int(number) in given)


def _private_streams() -> tuple[Any, Any]:
    """Move stdin/stdout (the channel) to private descriptors; fds 0, 1, 2 become /dev/null."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdin = open(os.devnull, encoding="utf-8")
    return requests, answers


IGNORED_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


def bindings(namespace: dict) -> dict[str, int]:
    """The identity of every user variable, to tell which names a cell (re)bound."""
    return {name: id(value) for name, value in namespace.items()
            if not name.startswith("_") and name not in IGNORED_NAMES}


class Objects:
    """The student's side of ``remote``: applies operations to the objects the judge holds handles to."""

    def __init__(self, endpoint_io: tuple[Any, Any], namespace: dict, used: list[str]) -> None:
        from course_lib.grading.remote import Endpoint

        requests, answers = endpoint_io
        self.endpoint = Endpoint(requests.readline, answers.write, self.serve)
        self.namespace, self.used = namespace, used
        self.handles: dict[str, Any] = {}

    def refer(self, obj: Any) -> dict:
        from course_lib.grading.remote import origin_of

        handle = f"h{len(self.handles) + 1}"
        self.handles[handle] = obj
        origin = origin_of(obj)
        return {"handle": handle, "origin": origin} if origin else {"handle": handle}

    def resolve(self, ref: dict) -> Any:
        if "handle" in ref:
            return self.handles[ref["handle"]]  # a KeyError is the reply: the judge only sends our own
        if "callback" in ref and type(ref["callback"]) is str:
            return Callback(self, ref["callback"])
        raise ValueError(f"unknown reference {ref!r}")

    def serve(self, request: dict) -> dict:
        from course_lib.grading import remote, wire

        if request.get("op") == "names":
            found = {n: self.namespace[n] for n in request.get("names", []) if n in self.namespace}
            return {"values": {n: self._encode(v) for n, v in found.items()}}
        if request.get("op") != "apply" or request.get("fn") not in remote.OPERATIONS:
            return remote.raised(ValueError(f"unknown operation {request.get('op')!r}"))
        start = len(self.used)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = CappedText()  # what a called function prints stays here
        args: list = []
        kwargs: dict = {}
        try:
            args = wire.decode(request["args"], self.resolve)
            kwargs = wire.decode(request["kwargs"], self.resolve)
            import numpy as np

            with np.errstate(**remote.errstate(request.get("errstate"))):
                reply = {"value": self._encode(remote.OPERATIONS[request["fn"]](*args, **kwargs))}
        except BaseException as error:  # noqa: BLE001 - whatever the student's code raises is its answer
            reply = remote.raised(error)
        finally:
            sys.stdout, sys.stderr = saved
        try:
            reply["after"] = self._encode(wire.leaves([args, kwargs]))
        except BaseException as error:  # noqa: BLE001
            reply = {**remote.raised(error), "after": []}
        reply["forbidden"] = sorted(set(self.used[start:]))
        return reply

    def _encode(self, value: Any) -> Any:
        from course_lib.grading import wire

        try:
            return wire.encode(value, self.refer)
        except wire.WireError:
            return self.refer(value)


class Callback:
    """A trusted callable handed to a student function: calling it asks the judge to call it."""

    def __init__(self, objects: Objects, cid: str) -> None:
        self._objects, self._cid = objects, cid

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from course_lib.grading import remote, wire

        objects = self._objects
        reply = objects.endpoint.request({"op": "callback", "target": self._cid, "args": objects._encode(list(args)),
                                          "kwargs": objects._encode(kwargs)})
        after = wire.decode(reply.get("after", []), objects.resolve)
        targets = wire.leaves([list(args), kwargs])
        if type(after) is list and len(after) == len(targets):  # arrays and generators the callable changed
            for target, state in zip(targets, after):
                wire.restore(target, state)
        if "raise" in reply:
            raise remote.rebuild_error(reply["raise"])
        return wire.decode(reply.get("value"), objects.resolve)


def main(forbid: dict | list | None = None) -> None:
    """Serve cells on stdin/stdout; ``forbid`` comes from the command line unless a zygote passes it."""
    requests, answers = _private_streams()
    if forbid is None:
        forbid = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    dumps, loads = json.dumps, json.loads

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="nocolor")
    shell.showtraceback = lambda *a, **k: None  # errors are reported through the answer channel
    shell.enable_matplotlib = lambda gui=None: ("agg", "agg")  # %matplotlib of any kind: draw nowhere
    used: list[str] = []
    given: set[int] = set()  # numbers of the cells the student was given (the instructor's own)
    watch_forbidden(forbid, used, given)
    objects = Objects((requests, answers), shell.user_ns, used)

    while line := requests.readline():
        request = loads(line)
        if "op" in request:
            answers.write(dumps({"re": request.get("id"), **objects.serve(request)}) + "\n")
            continue
        before = bindings(shell.user_ns)
        used.clear()
        if request.get("given"):
            given.add(shell.execution_count)
        out = CappedText()
        sys.stdout = sys.stderr = out
        try:
            result = shell.run_cell(request["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
        except BaseException as escaped:  # noqa: BLE001 - whatever a cell raises is its result
            error = escaped
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        try:
            evalue = str(error)[:2000] if error is not None else None
        except BaseException:  # noqa: BLE001 - an exception whose __str__ raises
            evalue = "(the error's message could not be shown)"
        after = bindings(shell.user_ns)
        answer = {
            "nonce": request["nonce"],
            "status": "error" if error is not None else "ok",
            "ename": type(error).__name__ if error is not None else None,
            "evalue": evalue,
            "stdout": out.text(),
            "forbidden": sorted(set(used)),
            "bound": sorted(n for n, i in after.items() if before.get(n) != i),
        }
        answers.write(dumps(answer) + "\n")


if __name__ == "__main__":
    main()
