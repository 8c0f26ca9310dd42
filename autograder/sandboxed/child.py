"""The process that runs a student's code: it loads the code, calls it, and hands back plain data.

This file runs as a script in a fresh interpreter (`python -I child.py JOB RESULT_FD`) so that
nothing the student's code does (patched modules, input transformers, monkey-patched numpy) can
reach the process that decides the verdict. It imports only the standard library and NumPy, and
speaks JSON only: no pickle, so a result can never be code.

The parent process imports this module too, for `encode` and `decode`: one codec, both sides.
"""

import copy
import json
import math
import os
import re
import sys
import traceback
import warnings

import numpy as np

# ----------------------------------------------------------------------------------------------
# The codec: Python/NumPy values <-> JSON-safe values.

# Callables cannot cross a process boundary as data, so an exercise that takes a function
# (an activation g, a loss f) names one from this table and the child builds it locally.
NAMED_CALLABLES = {
    "linear": lambda z: np.asarray(z, dtype=float),
    "relu": lambda z: np.maximum(0.0, np.asarray(z, dtype=float)),
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float))),
    "tanh": lambda z: np.tanh(np.asarray(z, dtype=float)),
    "square": lambda w: np.asarray(w, dtype=float) ** 2,
    "cube": lambda w: np.asarray(w, dtype=float) ** 3,
    "sin": lambda w: np.sin(w),
    "exp": lambda w: np.exp(w),
    # Gradients of the adam chapter's costs: minimize(grad_fn, ...) calls one at every step.
    "elongated_bowl_gradient": lambda w: np.array([1.0, 20.0]) * np.asarray(w, dtype=float),
    "rotated_bowl_gradient": lambda w: np.array([[10.5, -9.5], [-9.5, 10.5]]) @ (
        np.asarray(w, dtype=float) - np.array([1.0, 2.0])),
    "rosenbrock_gradient": lambda w: np.array([
        -2.0 * (1.0 - w[0]) - 400.0 * w[0] * (w[1] - w[0] ** 2), 200.0 * (w[1] - w[0] ** 2)]),
    "diagonal_bowl_gradient": lambda w: np.arange(1.0, np.size(w) + 1.0) * np.asarray(
        w, dtype=float),
}


class EncodeError(TypeError):
    """A value that plain data cannot carry (an arbitrary object, an object array...)."""


def type_name(value):
    """'numpy.ndarray', 'float', 'builtins.list' style name of a value's exact type."""
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def encode(value, depth=0):
    """Turn a value into JSON-safe data; raise EncodeError for anything else."""
    if depth > 20:
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
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if type(value) is dict:
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)]
                             for k, v in value.items()]}
    if isinstance(value, NamedCallable):
        return {"__callable__": value.name}
    raise EncodeError(f"an object of type {type_name(value)}")


def _encode_float(x):
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


# What the parent accepts back: plain numeric dtypes (no sub-array, structured or object dtypes,
# whose mere construction can allocate gigabytes), bounded sizes, bounded nesting.
_PLAIN_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248])$")
MAX_ELEMENTS = 10_000_000
MAX_DEPTH = 32


def _plain_dtype(name):
    if not isinstance(name, str) or not _PLAIN_DTYPE.match(name):
        raise ValueError(f"not a plain numeric dtype: {str(name)[:40]!r}")
    return np.dtype(name)


def _number(v):
    """A JSON number of an array or scalar (or an encoded nan/inf)."""
    if isinstance(v, dict) and set(v) == {"__float__"} and v["__float__"] in ("nan", "inf", "-inf"):
        return float(v["__float__"])
    if type(v) in (int, float, bool):
        return v
    raise ValueError("an array element that is not a number")


def decode(data, depth=0):
    """Inverse of encode, for data of the protocol's schema only; ValueError for anything else.

    Callables come back as the local NAMED_CALLABLES entry; a Keras model spec is kept as data
    (its own checks judge it)."""
    if depth > MAX_DEPTH:
        raise ValueError("the value is nested too deeply")
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
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
        return tuple(decode(v, depth + 1) for v in data["__tuple__"])
    if "__dict__" in data and isinstance(data["__dict__"], list):
        pairs = [decode(pair, depth + 1) for pair in data["__dict__"]]
        if not all(len(pair) == 2 and isinstance(pair[0], (str, int, float, bool, tuple))
                   for pair in pairs):
            raise ValueError("a dict with malformed items")
        return dict(pairs)
    if "__callable__" in data:
        return NamedCallable(data["__callable__"])
    if data.get("__model__") == "keras":
        return data
    raise ValueError(f"unknown encoded value with keys {sorted(map(str, data))[:5]}")


class NamedCallable:
    """A function from NAMED_CALLABLES, callable here and carried by name across processes."""

    def __init__(self, name):
        if not isinstance(name, str) or name not in NAMED_CALLABLES:
            raise ValueError(f"no callable named {str(name)[:40]!r}")
        self.name = name
        self._fn = NAMED_CALLABLES[name]

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __repr__(self):
        return self.name


# ----------------------------------------------------------------------------------------------
# Keras models cross as their JSON config and compile config: data, never code.

def encode_keras_model(model):
    """The architecture and the compile settings of a Keras model, as JSON-safe data."""
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    return {"__model__": "keras",
            "config": json.loads(model.to_json()),
            "compile_config": json.loads(json.dumps(compile_config, default=_json_fallback))}


def _json_fallback(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type_name(obj)}")


def _is_keras_model(value):
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


# ----------------------------------------------------------------------------------------------
# Graph programs: a class (the backprop chapter's `Value`) is graded through what it does. A
# class cannot cross the process boundary, so the check sends a program of plain data, this
# trusted interpreter builds its nodes with the student's class, here, and only plain floats go
# back. The grading process runs the same interpreter on the reference class.

# The one keyword of a Call that carries a graph program: `Call(name="Value", kwargs={
# GRAPH_PROGRAM: program})` runs `run_graph_program(namespace["Value"], program)`, not Value(...).
GRAPH_PROGRAM = "__graph_program__"
MAX_GRAPH_STEPS = 10_000

_GRAPH_OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                    "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


def _graph_number(x):
    if type(x) not in (int, float):
        raise ValueError(f"a graph program's number is not a number: {str(x)[:40]!r}")
    return x


def _graph_float(node, k, attribute):
    """float(node.<attribute>), as an exact built-in float; a student's object may lie."""
    try:
        value = float(getattr(node, attribute))
    except Exception as exc:  # noqa: BLE001 - reported as the call's error
        raise TypeError(f"node {k}: .{attribute} is not a number "
                        f"({type(exc).__name__}: {str(exc)[:200]})") from None
    return float.__float__(value)   # a float subclass becomes a plain float


def run_graph_program(value_class, program):
    """Build the nodes `program` describes with `value_class`, and read them back as numbers.

    A program is a list of steps; node k is the k-th node a step makes:
        ["value", x]             value_class(x)
        [op, i, j]               node_i OP node_j      op: "add" "sub" "mul" "div" (+ - * /)
        [op + "_number", i, c]   node_i OP c           (a number on the right)
        ["number_" + op, c, i]   c OP node_i           (a number on the left: __radd__ ...)
        ["pow", i, p]            node_i ** p           (p a number)
        ["relu", i]              node_i.relu()
        ["backward", i]          node_i.backward()     (the last step; makes no node)
    Returns {"data": [float of each node's .data], "grad": [float of each node's .grad, or None
    for a node the backward root does not depend on, whose grad the task leaves open]}."""
    if not isinstance(program, list) or not 0 < len(program) <= MAX_GRAPH_STEPS:
        raise ValueError("a graph program is a non-empty list of steps")
    nodes, inputs, root = [], [], None

    def node(i):
        if type(i) is not int or not 0 <= i < len(nodes):
            raise ValueError(f"a graph program refers to node {str(i)[:20]} of {len(nodes)}")
        return i

    for step in program:
        if root is not None or not isinstance(step, list) or not step:
            raise ValueError("a graph program's steps are lists, with backward last")
        kind, args = step[0], step[1:]
        if not isinstance(kind, str):
            raise ValueError(f"not a graph program step: {str(step)[:60]}")
        op = kind.removeprefix("number_").removesuffix("_number")
        if kind == "value" and len(args) == 1:
            made, parents = value_class(_graph_number(args[0])), []
        elif kind in _GRAPH_OPERATORS and len(args) == 2:
            i, j = node(args[0]), node(args[1])
            made, parents = _GRAPH_OPERATORS[kind](nodes[i], nodes[j]), [i, j]
        elif kind == op + "_number" and op in _GRAPH_OPERATORS and len(args) == 2:
            i = node(args[0])
            made, parents = _GRAPH_OPERATORS[op](nodes[i], _graph_number(args[1])), [i]
        elif kind == "number_" + op and op in _GRAPH_OPERATORS and len(args) == 2:
            i = node(args[1])
            made, parents = _GRAPH_OPERATORS[op](_graph_number(args[0]), nodes[i]), [i]
        elif kind == "pow" and len(args) == 2:
            i = node(args[0])
            made, parents = nodes[i] ** _graph_number(args[1]), [i]
        elif kind == "relu" and len(args) == 1:
            i = node(args[0])
            made, parents = nodes[i].relu(), [i]
        elif kind == "backward" and len(args) == 1:
            root = node(args[0])
            nodes[root].backward()
            continue
        else:
            raise ValueError(f"not a graph program step: {str(step)[:60]}")
        nodes.append(made)
        inputs.append(parents)
    reached = set() if root is None else {root}
    for k in range(len(nodes) - 1, -1, -1):   # inputs come before the nodes made from them
        if k in reached:
            reached.update(inputs[k])
    return {"data": [_graph_float(n, k, "data") for k, n in enumerate(nodes)],
            "grad": [_graph_float(n, k, "grad") if k in reached else None
                     for k, n in enumerate(nodes)]}


# ----------------------------------------------------------------------------------------------
# The child's main loop.

def _transform(source):
    """IPython cell syntax (magics, `!cmd`) -> Python, when IPython is there to do it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython itself cannot parse: let compile() report it
        return source


def _short_traceback(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[-2000:]


def _load(cells, namespace):
    """Run each cell in order in one namespace; a failing cell does not stop the rest."""
    errors = []
    for index, source in enumerate(cells):
        try:
            code = compile(_transform(source), f"<cell {index + 1}>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            errors.append({"cell": index + 1, "error": _short_traceback(exc)})
    return errors


def _snapshot(args):
    try:
        return copy.deepcopy(args)
    except Exception:
        return None


def _mutated(before, after):
    """Which positional arguments changed during the call (arrays compared element-wise)."""
    if before is None:
        return []
    changed = []
    for i, (a, b) in enumerate(zip(before, after)):
        if isinstance(a, np.ndarray):
            if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                changed.append(i)
        elif isinstance(a, (list, tuple)):
            try:
                same = repr(a) == repr(b)
            except Exception:
                same = False
            if not same:
                changed.append(i)
    return changed


def _call(namespace, call):
    name = call["name"]
    fn = namespace.get(name)
    if fn is None:
        return {"ok": False, "missing": True, "error": f"NameError: name '{name}' is not defined"}
    args = decode(call.get("args", []))
    kwargs = decode(call.get("kwargs", {}))
    if isinstance(kwargs, dict) and set(kwargs) == {GRAPH_PROGRAM}:
        fn, args, kwargs = _graph_program_runner(fn), (kwargs[GRAPH_PROGRAM],), {}
    before = _snapshot(args)
    with warnings.catch_warnings(record=True) as caught, np.errstate(
            over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            return {"ok": False, "error": _short_traceback(exc)}
    found = [f"{w.category.__name__}: {w.message}" for w in caught]
    result = {"ok": True, "type": type_name(value), "warnings": found[:5],
              "mutated": _mutated(before, args)}
    try:
        if _is_keras_model(value):
            result["value"] = encode_keras_model(value)
        else:
            result["value"] = encode(value)
    except Exception as exc:  # noqa: BLE001 - an unencodable or lying object
        result.update(ok=False, error=f"returned {exc}", unencodable=True)
    return result


def _graph_program_runner(value_class):
    def run(program):
        return run_graph_program(value_class, program)
    return run


def main(job_path, result_fd):
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    channel = os.fdopen(int(result_fd), "w", encoding="utf-8", buffering=1)

    def send(message):
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    namespace = {"__name__": "__main__"}
    errors = _load(job["cells"], namespace)
    send({"event": "loaded", "cell_errors": errors})
    for call in job["calls"]:
        send({"event": "start", "key": call["key"]})
        result = _call(namespace, call)
        result["event"] = "result"
        result["key"] = call["key"]
        try:
            send(result)
        except (TypeError, ValueError) as exc:
            send({"event": "result", "key": call["key"], "ok": False,
                  "error": f"the result could not be sent: {exc}"})
    send({"event": "done"})
    channel.close()


if __name__ == "__main__":
    # The student's code must see an ordinary script: no harness names in its namespace.
    _job, _fd = sys.argv[1], sys.argv[2]
    del sys.argv[1:]
    main(_job, _fd)
    # Student code may have started threads (TensorFlow does): do not wait for them.
    os._exit(0)
