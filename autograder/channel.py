"""The result channel: what crosses between the grader and a process in the sandbox, and how.

Both sides use this one module. The grader imports it as `autograder.channel`; a script that runs
in the sandbox (autograder/sandboxed/) gets it as a companion file beside itself and imports it as
`channel`. So it imports only the standard library and NumPy, and speaks JSON only: no pickle, so
a message can never be code.

- The codec: Python/NumPy values <-> JSON-safe values (encode, decode), for the arguments the
  grader sends and the values a student's function returns.
- The writer: JSON lines on the result pipe (Writer), one message a line.
- The reader: the grader's side of the pipe (Reader). Everything that arrives on it is hostile
  input (student code can find the pipe and write to it itself), so every message and the whole
  run are bounded in bytes, and a read never waits past the caller's deadline.
"""

from __future__ import annotations

import enum
import json
import math
import os
import re
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------------------------
# Limits: one set, for every process that answers on a result pipe.

# One message (one line): the largest a legitimate message needs is a Keras judge's verdict
# (a trained model's outputs on the held-out set) or a call's result (a few arrays of the
# exercises' sizes); both are far below this.
MAX_MESSAGE_BYTES = 32 * 1024 ** 2
# Everything one process may send.
MAX_TOTAL_BYTES = 64 * 1024 ** 2
# What a decoded value may hold: array elements, and nesting depth.
MAX_ELEMENTS = 10_000_000
MAX_DEPTH = 32
# What an encoded value may hold: nesting depth (a value deeper than this is not data of ours).
MAX_ENCODE_DEPTH = 20

# ----------------------------------------------------------------------------------------------
# Named callables: a function cannot cross a process boundary as data, so an exercise that takes
# one (an activation g, a loss f, a gradient) passes a function of a helper module by name, and
# the other side looks it up in its own copy of that module. A helper module is plain NumPy
# (autograder/checks/*_functions.py and the like), lists what may be named in `__all__`, and
# travels into the sandbox as a companion file of the script that needs it.


# Helper modules by the name they have on both sides (helper_name).
Helpers = dict[str, ModuleType]


def helper_name(module: ModuleType) -> str:
    """The name a helper module has on both sides: the grader's `autograder.checks.x` is `x` in
    the sandbox."""
    return module.__name__.rsplit(".", 1)[-1]


class NamedCallable:
    """A function of a helper module, callable here and carried by name across processes."""

    def __init__(self, module: ModuleType, name: str) -> None:
        if not isinstance(name, str) or name not in getattr(module, "__all__", ()):
            raise ValueError(f"no callable named {str(name)[:40]!r} in {helper_name(module)}")
        self.module = module
        self.name = name
        self._fn: Callable[..., Any] = getattr(module, name)

    @property
    def qualified_name(self) -> str:
        """`module.function`: what crosses the channel."""
        return f"{helper_name(self.module)}.{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __deepcopy__(self, memo: dict) -> NamedCallable:
        # Immutable, and its module cannot be copied: the child's snapshot of a call's arguments
        # (to see whether the call modified them) copies everything else around it.
        return self

    def __repr__(self) -> str:
        return self.name


def named(helpers: Mapping[str, ModuleType], qualified: object) -> NamedCallable:
    """The NamedCallable `module.function` of one of `helpers`; ValueError for any other name."""
    module, _, name = qualified.partition(".") if isinstance(qualified, str) else ("", "", "")
    if module not in helpers:
        raise ValueError(f"no callable named {str(qualified)[:40]!r}")
    return NamedCallable(helpers[module], name)


# ----------------------------------------------------------------------------------------------
# The codec: Python/NumPy values <-> JSON-safe values.

class EncodeError(TypeError):
    """A value that plain data cannot carry (an arbitrary object, an object array...)."""


def type_name(value: object) -> str:
    """'numpy.ndarray', 'float', 'builtins.list' style name of a value's exact type."""
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def encode(value: object, helpers: Helpers | None = None, depth: int = 0) -> Any:
    """Turn a value into JSON-safe data; raise EncodeError for anything else. The helper module
    of every NamedCallable met is added to `helpers` (name -> module), when given: the other
    side needs those modules to decode it."""
    if depth > MAX_ENCODE_DEPTH:
        raise EncodeError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) in (int, bool):
        return value
    if type(value) is float:
        return _encode_float(value)
    if isinstance(value, np.ndarray):
        # A subclass is carried as its base array; its type is reported apart.
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise EncodeError(f"an array of dtype {arr.dtype} (expected numbers)")
        flat = [_encode_float(float(x)) if arr.dtype.kind == "f" else x.item() for x in arr.ravel()]
        return {"__ndarray__": flat, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biuf":
            raise EncodeError(f"a NumPy scalar of dtype {value.dtype}")
        item = value.item()
        return {"__npscalar__": _encode_float(item) if isinstance(item, float) else item,
                "dtype": value.dtype.str}
    if isinstance(value, float):  # a float subclass: carry its value
        return _encode_float(float(value))
    if isinstance(value, int):
        return int(value)
    if type(value) is tuple:
        return {"__tuple__": [encode(v, helpers, depth + 1) for v in value]}
    if type(value) is list:
        return [encode(v, helpers, depth + 1) for v in value]
    if type(value) is dict:
        return {"__dict__": [[encode(k, helpers, depth + 1), encode(v, helpers, depth + 1)]
                             for k, v in value.items()]}
    if isinstance(value, NamedCallable):
        if helpers is not None:
            helpers[helper_name(value.module)] = value.module
        return {"__callable__": value.qualified_name}
    raise EncodeError(f"an object of type {type_name(value)}")


def _encode_float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


# What a reader accepts back: plain numeric dtypes (no sub-array, structured or object dtypes,
# whose mere construction can allocate gigabytes), bounded sizes, bounded nesting.
_PLAIN_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248])$")


def _plain_dtype(name: object) -> np.dtype:
    if not isinstance(name, str) or not _PLAIN_DTYPE.match(name):
        raise ValueError(f"not a plain numeric dtype: {str(name)[:40]!r}")
    return np.dtype(name)


def _number(v: object) -> Any:
    """A JSON number of an array or scalar (or an encoded nan/inf)."""
    if isinstance(v, dict) and set(v) == {"__float__"} and v["__float__"] in ("nan", "inf", "-inf"):
        return float(v["__float__"])
    if type(v) in (int, float, bool):
        return v
    raise ValueError("an array element that is not a number")


def decode(data: Any, helpers: Mapping[str, ModuleType] | None = None, depth: int = 0) -> Any:
    """Inverse of encode, for data of the protocol's schema only; ValueError for anything else.

    A callable comes back as the NamedCallable of the local copy of its helper module, which
    must be one of `helpers`; a Keras model spec is kept as data (its own checks judge it)."""
    if depth > MAX_DEPTH:
        raise ValueError("the value is nested too deeply")
    if isinstance(data, list):
        return [decode(v, helpers, depth + 1) for v in data]
    if not isinstance(data, dict):
        if type(data) is int and abs(data) >= 2 ** 64:
            raise ValueError("an integer too large to be a result")
        return data
    if "__float__" in data:
        return _number(data)
    if "__ndarray__" in data:
        dtype = _plain_dtype(data.get("dtype"))
        shape, flat = data.get("shape"), data["__ndarray__"]
        if not isinstance(shape, list) or len(shape) > MAX_DEPTH or \
                not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
            raise ValueError("an array with a malformed shape")
        if math.prod(shape) > MAX_ELEMENTS or not isinstance(flat, list) \
                or len(flat) != math.prod(shape):
            raise ValueError("an array whose size does not match its shape")
        return np.array([_number(v) for v in flat], dtype=dtype).reshape(shape)
    if "__npscalar__" in data:
        return _plain_dtype(data.get("dtype")).type(_number(data["__npscalar__"]))
    if "__tuple__" in data and isinstance(data["__tuple__"], list):
        return tuple(decode(v, helpers, depth + 1) for v in data["__tuple__"])
    if "__dict__" in data and isinstance(data["__dict__"], list):
        pairs = [decode(pair, helpers, depth + 1) for pair in data["__dict__"]]
        if not all(len(pair) == 2 and isinstance(pair[0], (str, int, float, bool, tuple))
                   for pair in pairs):
            raise ValueError("a dict with malformed items")
        return dict(pairs)
    if "__callable__" in data:
        return named(helpers or {}, data["__callable__"])
    if data.get("__model__") == "keras":
        return data
    raise ValueError(f"unknown encoded value with keys {sorted(map(str, data))[:5]}")


# Keras models cross as their JSON config and compile config: data, never code. Only the
# student's process encodes one (it has Keras); the grader keeps the spec as data.

def encode_keras_model(model: Any) -> dict[str, Any]:
    """The architecture and the compile settings of a Keras model, as JSON-safe data."""
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    return {"__model__": "keras",
            "config": json.loads(model.to_json()),
            "compile_config": json.loads(json.dumps(compile_config, default=_json_fallback))}


def _json_fallback(obj: object) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type_name(obj)}")


# ----------------------------------------------------------------------------------------------
# The writer: the sandboxed side.

class Writer:
    """JSON lines on the result pipe, one message a line; threads may share it (the Keras
    judge's training watchdog and its main thread do). After a message sent with `last=True`,
    nothing more is sent: the first final message stands."""

    def __init__(self, fd: int) -> None:
        self.stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self.lock = threading.Lock()
        self.finished = False

    def send(self, message: Mapping[str, Any], last: bool = False) -> None:
        """Write one message. TypeError or ValueError, with nothing written, for a message
        JSON cannot carry."""
        line = json.dumps(message) + "\n"
        with self.lock:
            if self.finished:
                return
            self.stream.write(line)
            self.stream.flush()
            self.finished = last

    def close(self) -> None:
        with self.lock:
            self.finished = True
            self.stream.close()


# ----------------------------------------------------------------------------------------------
# The reader: the grader's side.

class End(enum.Enum):
    """Why a Reader has no message to give."""

    TIMEOUT = "timeout"      # the deadline passed
    ENDED = "ended"          # the process ended and the pipe holds nothing more
    CLOSED = "closed"        # the pipe was closed (the process exited, or its code closed it)
    OVERSIZED = "oversized"  # a message or the whole run passed the byte limits


@dataclass
class Reader:
    """Reads the messages (JSON objects, one a line) a process sends on its result pipe.

    `next(deadline)` returns the next message, or the End that stops the reading. A line that is
    not a JSON object is skipped: it is not a message of ours (student code wrote into the
    channel). Lines already received are given before the pipe is read again."""

    proc: subprocess.Popen
    fd: int
    max_message: int = MAX_MESSAGE_BYTES
    max_total: int = MAX_TOTAL_BYTES

    def __post_init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.fd, selectors.EVENT_READ)
        self._partial = bytearray()     # the line being received
        self._lines: list[bytes] = []   # complete lines not yet given
        self.received = 0

    def next(self, deadline: float) -> dict[str, Any] | End:
        """The next message, or why there is none; never waits past `deadline`
        (time.monotonic())."""
        while True:
            while self._lines:
                message = _message(self._lines.pop(0))
                if message is not None:
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return End.TIMEOUT
            if not self._selector.select(timeout=min(remaining, 0.5)):
                if self.proc.poll() is not None and not self._selector.select(timeout=0):
                    return End.ENDED
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return End.CLOSED
            self.received += len(chunk)
            self._partial += chunk
            if self.received > self.max_total or \
                    len(self._partial) - self._partial.rfind(b"\n") > self.max_message:
                return End.OVERSIZED
            if b"\n" in chunk:
                *lines, rest = bytes(self._partial).split(b"\n")
                self._lines.extend(lines)
                self._partial = bytearray(rest)

    def close(self) -> None:
        self._selector.close()


def _message(line: bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def limits_words() -> str:
    """The byte limits, as a person reads them."""
    return f"more than {MAX_MESSAGE_BYTES >> 20} MB in one message, or " \
           f"{MAX_TOTAL_BYTES >> 20} MB in all"

