"""Values on the channel between the grader's trusted side and a sandboxed worker: plain data only.

A value is written as JSON, with every array carried as its raw bytes (base64) beside its dtype
and shape. Nothing is ever unpickled. What crosses:

    None, bool, int, float, str        as themselves
    complex, bytes, list, tuple, dict  {"complex": [re, im]}, {"bytes": b64}, {"list": [...]}, ...
    numpy arrays and scalars           {"array": b64, "dtype": "<f8", "shape": [N, D]}, {"scalar": ...}
    torch tensors                      {"tensor": b64, "dtype", "shape", "torch": "float32", "grad": bool}
    numpy Generators                   {"rng": bit generator state}: the same stream on the other side

Anything else stays where it lives and crosses as a reference that the side holding it chose:
``{"handle": id}`` for a student's object (the trusted side sees a ``remote.Proxy``) and
``{"callback": id}`` for a trusted callable handed to student code. ``encode`` is given a
function ``refer(obj) -> dict`` that makes those references; ``decode`` a function
``resolve(ref) -> obj``. ``decode`` raises ``WireError`` on anything it does not expect, so
whatever a sandbox sends is either a value of one of these types or refused.
"""

from __future__ import annotations

import base64
import sys
from typing import Any, Callable

import numpy as np

MAX_DEPTH = 32  # nesting of containers in one value
MAX_ITEMS = 1_000_000  # elements of one container
ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex: numbers only, never objects
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
REFERENCES = ("handle", "callback", "module")


class WireError(ValueError):
    """A message that is not a value of the channel's types."""


def is_tensor(value: Any) -> bool:
    """A torch tensor, without importing torch where it is not loaded."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def encode(value: Any, refer: Callable[[Any], dict], depth: int = MAX_DEPTH) -> Any:
    """``value`` as JSON data; objects of other types become ``refer(obj)``."""
    if depth <= 0:
        raise WireError("a value nested more than 32 containers deep")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is complex:
        return {"complex": [value.real, value.imag]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    if kind in (list, tuple):
        return {kind.__name__: [encode(v, refer, depth - 1) for v in value]}
    if kind is dict:
        return {"dict": [[encode(k, refer, depth - 1), encode(v, refer, depth - 1)] for k, v in value.items()]}
    if kind is np.ndarray and value.dtype.kind in ARRAY_KINDS:
        return _array(value)
    if isinstance(value, np.generic) and kind is np.dtype(kind).type and value.dtype.kind in ARRAY_KINDS:
        return {"scalar": base64.b64encode(value.tobytes()).decode(), "dtype": value.dtype.str}
    if is_tensor(value):
        plain = value.detach().cpu()
        return {**_array(plain.numpy()), "tensor": True, "torch": str(plain.dtype).removeprefix("torch."),
                "grad": bool(value.requires_grad)}
    if kind is np.random.Generator and type(value.bit_generator).__name__ in BIT_GENERATORS:
        return {"rng": encode(value.bit_generator.state, refer, depth - 1)}
    return refer(value)


def _array(array: np.ndarray) -> dict:
    plain = np.ascontiguousarray(array)
    return {"array": base64.b64encode(plain.tobytes()).decode(), "dtype": plain.dtype.str, "shape": list(plain.shape)}


def decode(data: Any, resolve: Callable[[dict], Any], depth: int = MAX_DEPTH) -> Any:
    """The value ``data`` stands for; ``WireError`` for anything that is not one (see the module doc)."""
    if depth <= 0:
        raise WireError("a value nested more than 32 containers deep")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is not dict or len(data) == 0:
        raise WireError(f"expected a value, got {type(data).__name__}")
    tag = next(iter(data))
    if tag in ("list", "tuple") and len(data) == 1:
        items = _items(data[tag])
        values = [decode(v, resolve, depth - 1) for v in items]
        return values if tag == "list" else tuple(values)
    if tag == "dict" and len(data) == 1:
        out = {}
        for pair in _items(data["dict"]):
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a dict item must be a [key, value] pair")
            key = decode(pair[0], resolve, depth - 1)
            try:
                out[key] = decode(pair[1], resolve, depth - 1)
            except TypeError:
                raise WireError("a dict key that cannot be hashed") from None
        return out
    if tag == "complex" and len(data) == 1 and _numbers(data["complex"], 2):
        return complex(*data["complex"])
    if tag == "bytes" and len(data) == 1:
        return _b64(data["bytes"])
    if tag == "array" and set(data) in ({"array", "dtype", "shape"}, {"array", "dtype", "shape", "tensor", "torch", "grad"}):
        array = _read_array(data)
        return _tensor(array, data) if "tensor" in data else array
    if tag == "scalar" and set(data) == {"scalar", "dtype"}:
        return _read_array({"array": data["scalar"], "dtype": data["dtype"], "shape": []})[()]
    if tag == "rng" and len(data) == 1:
        return _generator(decode(data["rng"], resolve, depth - 1))
    if tag in REFERENCES:
        return resolve(data)
    raise WireError(f"unknown value tag {tag!r}")


def _items(items: Any) -> list:
    if type(items) is not list or len(items) > MAX_ITEMS:
        raise WireError("expected a list of at most a million items")
    return items


def _numbers(items: Any, n: int) -> bool:
    return type(items) is list and len(items) == n and all(type(x) in (int, float) for x in items)


def _b64(text: Any) -> bytes:
    if type(text) is not str:
        raise WireError("expected base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("invalid base64") from None


def _read_array(data: dict) -> np.ndarray:
    """A fresh, writable ndarray from raw bytes, after checking dtype, shape and length agree."""
    try:
        dtype = np.dtype(data["dtype"]) if type(data["dtype"]) is str and len(data["dtype"]) <= 8 else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.fields is not None:
        raise WireError(f"arrays of numbers only, got dtype {data['dtype']!r}")
    shape = data["shape"]
    if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and 0 <= n for n in shape):
        raise WireError("an array shape must be a list of at most 32 sizes")
    raw = _b64(data["array"])
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError(f"array of shape {shape} and dtype {dtype} cannot hold {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _tensor(array: np.ndarray, data: dict) -> Any:
    import torch

    dtype = getattr(torch, data["torch"], None) if type(data["torch"]) is str else None
    if not isinstance(dtype, torch.dtype) or type(data["grad"]) is not bool:
        raise WireError(f"unknown torch dtype {data['torch']!r}")
    tensor = torch.from_numpy(array).to(dtype)
    return tensor.requires_grad_(data["grad"]) if data["grad"] and tensor.is_floating_point() else tensor


def _generator(state: Any) -> np.random.Generator:
    name = state.get("bit_generator") if type(state) is dict else None
    if name not in BIT_GENERATORS:
        raise WireError(f"a random generator of one of {BIT_GENERATORS}, got {name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError) as error:
        raise WireError(f"invalid random generator state ({error})") from None
    return np.random.Generator(bit_generator)


def leaves(value: Any, depth: int = MAX_DEPTH) -> list[Any]:
    """The arrays, tensors and generators inside ``value`` (lists, tuples, dicts), in a fixed order.

    After a call, the sandbox sends the state of these back and the trusted side copies it into
    its own objects (``restore``): that is how an in-place change crosses the channel.
    """
    if depth <= 0:
        return []
    if type(value) in (list, tuple):
        return [leaf for v in value for leaf in leaves(v, depth - 1)]
    if type(value) is dict:
        return [leaf for v in value.values() for leaf in leaves(v, depth - 1)]
    if (type(value) is np.ndarray and value.dtype.kind in ARRAY_KINDS) or is_tensor(value) \
            or type(value) is np.random.Generator:
        return [value]
    return []


def restore(target: Any, state: Any) -> None:
    """Copy the post-call ``state`` of one leaf into the trusted ``target`` (same shape and dtype)."""
    if type(target) is np.random.Generator:
        if type(state) is not np.random.Generator:
            raise WireError("expected the state of a random generator")
        target.bit_generator.state = state.bit_generator.state
        return
    if is_tensor(target):
        import torch

        if not is_tensor(state) or state.shape != target.shape:
            raise WireError("expected a tensor of the argument's shape")
        with torch.no_grad():
            target.copy_(state.to(target.dtype))
        return
    if type(state) is not np.ndarray or state.shape != target.shape:
        raise WireError("expected an array of the argument's shape")
    if not np.array_equal(state, target, equal_nan=True) and target.flags.writeable:
        np.copyto(target, state, casting="unsafe")
