"""The process that runs a student's code: it loads the code, calls it, and hands back plain data.

This file runs as a script in a fresh interpreter (`python -I child.py JOB RESULT_FD`) so that
nothing the student's code does (patched modules, input transformers, monkey-patched numpy) can
reach the process that decides the verdict. It imports only the standard library, NumPy and its
companion files (autograder.sandbox.runner copies them beside it): `channel.py`, the codec and
the writer it shares with the grader, and the helper modules the job names (a chapter's
functions and adapters, autograder/checks/*), so a new chapter never edits this file. It speaks
JSON only: no pickle, so a result can never be code. Nothing of the grader imports this file.
"""

import copy
import importlib
import json
import os
import sys
import traceback
import warnings
from types import ModuleType
from typing import Any

import numpy as np

# `python -I` leaves this script's folder off sys.path: put it there for the companions, and take
# it off again before the student's code runs (it must see an ordinary script).
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import channel  # noqa: E402 - a companion file, importable only from here on

# ----------------------------------------------------------------------------------------------
# The child's main loop.

def _transform(source: str) -> str:
    """IPython cell syntax (magics, `!cmd`) -> Python, when IPython is there to do it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython itself cannot parse: let compile() report it
        return source


def _short_traceback(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[-2000:]


def _load(cells: list[str], namespace: dict[str, Any]) -> list[dict[str, Any]]:
    """Run each cell in order in one namespace; a failing cell does not stop the rest."""
    errors = []
    for index, source in enumerate(cells):
        try:
            code = compile(_transform(source), f"<cell {index + 1}>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            errors.append({"cell": index + 1, "error": _short_traceback(exc)})
    return errors


def _snapshot(args: list[Any]) -> list[Any] | None:
    try:
        return copy.deepcopy(args)
    except Exception:
        return None


def _mutated(before: list[Any] | None, after: list[Any]) -> list[int]:
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


def _call(namespace: dict[str, Any], call: dict[str, Any],
          helpers: dict[str, ModuleType] | None = None) -> dict[str, Any]:
    """Call `name(*args, **kwargs)`, or `adapter(name, *args, **kwargs)` when the call names an
    adapter (a helper module's function that drives what the student defined, e.g. runs a graph
    program with a class); the result as a message."""
    name = call["name"]
    fn = namespace.get(name)
    if fn is None:
        return {"ok": False, "missing": True, "error": f"NameError: name '{name}' is not defined"}
    args = channel.decode(call.get("args", []), helpers)
    kwargs = channel.decode(call.get("kwargs", {}), helpers)
    if call.get("adapter") is not None:
        adapter, student = channel.decode(call["adapter"], helpers), fn

        def fn(*args: Any, **kwargs: Any) -> Any:
            return adapter(student, *args, **kwargs)
    before = _snapshot(args)
    with warnings.catch_warnings(record=True) as caught, np.errstate(
            over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            return {"ok": False, "error": _short_traceback(exc)}
    found = [f"{w.category.__name__}: {w.message}" for w in caught]
    result = {"ok": True, "type": channel.type_name(value), "warnings": found[:5],
              "mutated": _mutated(before, args)}
    try:
        if _is_keras_model(value):
            result["value"] = channel.encode_keras_model(value)
        else:
            result["value"] = channel.encode(value)
    except Exception as exc:  # noqa: BLE001 - an unencodable or lying object
        result.update(ok=False, error=f"returned {exc}", unencodable=True)
    return result


def _is_keras_model(value: object) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def load_helpers(names: list[str]) -> dict[str, ModuleType]:
    """The helper modules the job names (companion files beside this script), by name."""
    helpers = {}
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"not a helper module's name: {str(name)[:40]!r}")
        helpers[name] = importlib.import_module(name)
    return helpers


def main(job_path: str, result_fd: str) -> None:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    writer = channel.Writer(int(result_fd))
    helpers = load_helpers(job.get("helpers", []))
    if HERE in sys.path:
        sys.path.remove(HERE)
    namespace = {"__name__": "__main__"}
    errors = _load(job["cells"], namespace)
    writer.send({"event": "loaded", "cell_errors": errors})
    for call in job["calls"]:
        writer.send({"event": "start", "key": call["key"]})
        result = _call(namespace, call, helpers)
        result["event"] = "result"
        result["key"] = call["key"]
        try:
            writer.send(result)
        except (TypeError, ValueError) as exc:
            writer.send({"event": "result", "key": call["key"], "ok": False,
                         "error": f"the result could not be sent: {exc}"})
    writer.send({"event": "done"})
    writer.close()


if __name__ == "__main__":
    # The student's code must see an ordinary script: no harness names in its namespace.
    _job, _fd = sys.argv[1], sys.argv[2]
    del sys.argv[1:]
    main(_job, _fd)
    # Student code may have started threads (TensorFlow does): do not wait for them.
    os._exit(0)
