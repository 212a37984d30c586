"""Calling a sandboxed student's functions from the trusted side, with plain data on the wire.

Test cells run in the grader's trusted ``judge`` process; the student's code runs in the sandboxed
``worker``. They talk in JSON lines (relayed and checked by ``runner``):

    request  {"id": ID, "op": "apply", "fn": "call", "args": [...], "kwargs": {...}, "errstate": {...}}
    reply    {"re": ID, "value": ...} or {"re": ID, "raise": {"type", "message"}}, plus "after", "forbidden"
             (a callback's reply has "after" too: its arguments' post-call state, for the worker's objects)

``fn`` names one operation of ``OPERATIONS`` (a call, an attribute, an item, len, an operator...),
applied in the worker to arguments among which are ``{"handle": id}`` references to the student's
objects. Values are encoded by ``wire``. While it waits for a reply, each side serves the other's
requests, so a student function may call a trusted callable it was given (``{"callback": id}``),
which may call student code again, up to ``MAX_NESTING`` deep.

On the trusted side a student object is a ``Proxy``: attribute access, calls, items, iteration,
len, arithmetic and comparisons, ``__array__`` and number conversions all forward to the worker,
and their results come back as values or new proxies. Nothing the worker sends can become a
check's record: checks run here, on values decoded here.
"""

from __future__ import annotations

import builtins
import json
import operator
import secrets
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.grading import wire

MAX_NESTING = 64  # calls in flight between the two sides (student -> trusted -> student ...)
MESSAGE_LIMIT = 2_000  # characters of an exception message kept
ERR_KEYS = ("divide", "over", "under", "invalid")
ERR_MODES = ("ignore", "warn", "raise", "call", "print", "log")
BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift",
          "rshift", "eq", "ne", "lt", "le", "gt", "ge", "getitem", "contains")
UNARY = ("neg", "pos", "abs", "invert")
OPERATIONS: dict[str, Callable[..., Any]] = {
    **{name: getattr(operator, name) for name in BINARY + UNARY + ("setitem",)},
    "call": lambda fn, *args, **kwargs: fn(*args, **kwargs),
    "getattr": getattr, "setattr": setattr, "len": len, "bool": bool, "float": float, "int": int,
    "index": operator.index, "complex": complex, "iter": iter, "next": next, "repr": repr, "str": str,
    "hash": hash, "array": lambda obj: np.asarray(obj),
}


class ChannelBroken(BaseException):
    """The other side broke the protocol; a BaseException so that no test's ``except`` swallows it."""


class StudentError(Exception):
    """An exception raised by student code whose type is not a built-in exception."""


class Endpoint:
    """One side of the channel: ``request`` sends a message and serves the other side until its reply."""

    def __init__(self, read_line: Callable[[], str], write_line: Callable[[str], Any],
                 serve: Callable[[dict], dict]) -> None:
        self.read_line, self.write_line, self.serve = read_line, write_line, serve
        self.depth = 0
        self.failure: str | None = None  # the first way the other side broke the protocol

    def fail(self, message: str) -> ChannelBroken:
        """Remember ``message`` (a test cell cannot hide it by catching) and return the error to raise."""
        self.failure = self.failure or message
        return ChannelBroken(message)

    def send(self, message: dict) -> None:
        self.write_line(json.dumps(message, allow_nan=True) + "\n")

    def receive(self) -> dict:
        line = self.read_line()
        if not line:
            raise self.fail("the channel was closed")
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise self.fail("a message that is not JSON") from None
        if type(message) is not dict:
            raise self.fail("a message that is not a JSON object")
        return message

    def request(self, message: dict) -> dict:
        if self.depth >= MAX_NESTING:
            raise RecursionError(f"more than {MAX_NESTING} calls in flight between the test and the answer")
        rid = secrets.token_hex(16)
        self.send({"id": rid, **message})
        self.depth += 1
        try:
            while True:
                incoming = self.receive()
                if incoming.get("re") == rid:
                    return incoming
                if type(incoming.get("id")) is str and type(incoming.get("op")) is str:
                    self.send({"re": incoming["id"], **self.serve(incoming)})
                else:
                    raise self.fail("a reply to a request that was not made")
        finally:
            self.depth -= 1


def raised(error: BaseException) -> dict:
    """An exception as a reply: its type's name and (capped) message."""
    try:
        message = str(error)[:MESSAGE_LIMIT]
    except Exception:  # noqa: BLE001 - a message whose __str__ raises
        message = "(the error's message could not be shown)"
    return {"raise": {"type": type(error).__name__[:200], "message": message}}


def rebuild_error(data: Any) -> Exception:
    """The exception to raise on the trusted side for a ``raise`` reply: built-in types keep their type."""
    if type(data) is not dict or type(data.get("type")) is not str or type(data.get("message")) is not str:
        raise wire.WireError("an error reply without a type and a message")
    kind = getattr(builtins, data["type"], None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        try:
            return kind(data["message"])
        except Exception:  # noqa: BLE001 - built-ins with other constructors (UnicodeDecodeError)
            pass
    return StudentError(f"{data['type']}: {data['message']}")


def errstate(data: Any) -> dict[str, str]:
    """NumPy's error handling as the trusted side has it (``np.errstate(over="raise")`` crosses)."""
    if type(data) is not dict or not all(data.get(k) in ERR_MODES for k in ERR_KEYS):
        raise wire.WireError("an errstate of divide, over, under and invalid modes")
    return {k: data[k] for k in ERR_KEYS}


# ---------------------------------------------------------------------------
# The trusted side
# ---------------------------------------------------------------------------

class Remote:
    """The judge's view of the worker: applies operations to student objects and serves callbacks."""

    def __init__(self, read_line: Callable[[], str], write_line: Callable[[str], Any]) -> None:
        self.endpoint = Endpoint(read_line, write_line, self._serve)
        self.callbacks: dict[str, Any] = {}
        self.forbidden: set[str] = set()

    def apply(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        """``OPERATIONS[fn](*args, **kwargs)`` in the worker; array arguments get their post-call state."""
        mine: list[str] = []
        try:
            message = {"op": "apply", "fn": fn, "args": self._encode(list(args), mine),
                       "kwargs": self._encode(kwargs, mine), "errstate": dict(np.geterr())}
            reply = self.endpoint.request(message)
            try:
                after = self._decode(reply.get("after"))
                targets = wire.leaves([list(args), kwargs])
                if type(after) is not list or len(after) != len(targets):
                    raise wire.WireError("the post-call state of the arguments does not match them")
                for target, state in zip(targets, after):
                    wire.restore(target, state)
                used = reply.get("forbidden", [])
                if type(used) is not list or not all(type(u) is str for u in used):
                    raise wire.WireError("forbidden must be a list of names")
                self.forbidden.update(used)
                if "raise" in reply:
                    error = rebuild_error(reply["raise"])
                else:
                    return self._decode(reply.get("value"))
            except wire.WireError as problem:
                raise self.endpoint.fail(f"the answer sent back something that is not a value ({problem})") from None
        finally:
            for cid in mine:
                self.callbacks.pop(cid, None)
        raise error

    def names(self, names: list[str]) -> dict[str, Any]:
        """The worker's bindings of ``names``: {name: value or ``Origin``}, absent names left out."""
        reply = self.endpoint.request({"op": "names", "names": names})
        values = reply.get("values")
        if type(values) is not dict or not set(values) <= set(names):
            raise self.endpoint.fail("the names reply holds names that were not asked for")
        try:
            return {name: self._decode(data, named=True) for name, data in values.items()}
        except wire.WireError as problem:
            raise self.endpoint.fail(f"a name's value is not a value ({problem})") from None

    def _encode(self, value: Any, mine: list[str]) -> Any:
        def refer(obj: Any) -> dict:
            if type(obj) is Proxy:
                return {"handle": object.__getattribute__(obj, "_course_handle")}
            if callable(obj):
                cid = secrets.token_hex(16)
                self.callbacks[cid] = obj
                mine.append(cid)
                return {"callback": cid}
            raise TypeError(f"a {type(obj).__name__} cannot be passed to the answer: pass numbers, arrays, "
                            "tensors, containers of them, or functions")
        return wire.encode(value, refer)

    def _decode(self, data: Any, named: bool = False) -> Any:
        def resolve(ref: dict) -> Any:
            if "handle" in ref and type(ref["handle"]) is str and len(ref["handle"]) <= 64:
                origin = ref.get("origin")
                if named and type(origin) is str:
                    return Origin(origin, Proxy(self, ref["handle"]))
                return Proxy(self, ref["handle"])
            if "callback" in ref and ref["callback"] in self.callbacks:
                return self.callbacks[ref["callback"]]
            raise wire.WireError(f"unknown reference {str(ref)[:80]}")
        return wire.decode(data, resolve)

    def _serve(self, request: dict) -> dict:
        """A student function calls a trusted callable it was given."""
        if request.get("op") != "callback" or request.get("target") not in self.callbacks:
            return raised(LookupError("no such callback"))
        fn = self.callbacks[request["target"]]
        mine: list[str] = []
        try:
            args, kwargs = self._decode(request.get("args")), self._decode(request.get("kwargs"))
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise wire.WireError("a callback's arguments must be a list and a dict")
        except wire.WireError as problem:
            raise self.endpoint.fail(f"a callback request that is not made of values ({problem})") from None
        try:
            reply = {"value": self._encode(fn(*args, **kwargs), mine)}
        except Exception as error:  # noqa: BLE001 - the trusted callable's error goes to the caller
            reply = raised(error)
        # What the callable did to its arguments in place (an array filled, a generator drawn from)
        # goes back, as the worker does after an answer's call, so the student's objects follow.
        reply["after"] = self._encode(wire.leaves([args, kwargs]), mine)
        return reply


class Origin:
    """A name the worker bound to an object it could name (``numpy``, ``course_lib.checks:check_close``)."""

    def __init__(self, origin: str, proxy: "Proxy") -> None:
        self.origin, self.proxy = origin, proxy


def origin_of(obj: Any) -> str | None:
    """``module`` for a module, ``module:name`` for a module's own top-level object, else None."""
    import sys
    import types

    if isinstance(obj, types.ModuleType):
        return obj.__name__ if isinstance(obj.__name__, str) else None
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if type(module) is str and type(name) is str and "." not in name and module in sys.modules:
        if getattr(sys.modules[module], name, None) is obj:
            return f"{module}:{name}"
    return None


def _forward(fn: str, swap: bool = False) -> Callable[..., Any]:
    def method(self: Proxy, *args: Any) -> Any:
        remote = object.__getattribute__(self, "_course_remote")
        return remote.apply(fn, *args, self) if swap else remote.apply(fn, self, *args)
    method.__name__ = fn
    return method


class Proxy:
    """A student object living in the sandbox; every use of it is an operation run there."""

    __slots__ = ("_course_remote", "_course_handle", "__weakref__")

    def __init__(self, remote: Remote, handle: str) -> None:
        object.__setattr__(self, "_course_remote", remote)
        object.__setattr__(self, "_course_handle", handle)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):  # NumPy, copy and pickle probe these: not forwarded
            raise AttributeError(name)
        return object.__getattribute__(self, "_course_remote").apply("getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__getattribute__(self, "_course_remote").apply("setattr", self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return object.__getattribute__(self, "_course_remote").apply("call", self, *args, **kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = object.__getattribute__(self, "_course_remote").apply("array", self)
        if type(array) is not np.ndarray:
            raise TypeError("the object did not convert to an array of numbers")
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        try:
            text = object.__getattribute__(self, "_course_remote").apply("repr", self)
        except Exception:  # noqa: BLE001 - a repr must not fail
            text = None
        return text if type(text) is str else "<an object of the answer>"

    __str__ = __repr__

    def __copy__(self) -> "Proxy":
        return self  # the object lives in the sandbox; a copy here would be a second name for it

    def __deepcopy__(self, memo: dict) -> "Proxy":
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("an object of the answer cannot be pickled")


for _name in BINARY:
    _dunder = _name.rstrip("_")
    setattr(Proxy, f"__{_dunder}__", _forward(_name))
    if _name not in ("eq", "ne", "lt", "le", "gt", "ge", "getitem", "contains"):
        setattr(Proxy, f"__r{_dunder}__", _forward(_name, swap=True))
for _name in UNARY + ("setitem", "len", "bool", "float", "int", "index", "complex", "iter", "next", "hash"):
    setattr(Proxy, f"__{_name.rstrip('_')}__", _forward(_name))
