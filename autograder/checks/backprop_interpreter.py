"""Graph programs: a class (the backprop chapter's `Value`) is graded through what it does.

A class cannot cross the process boundary, so the check sends a program of plain data; this
trusted interpreter builds its nodes with the student's class, in the student's process, and only
plain floats go back. The grading process runs the same interpreter on the reference class.

The check runs it as the adapter of its Call (autograder.sandbox.runner.Call): `Call(name="Value",
args=(program,), adapter=NamedCallable(backprop_interpreter, "run_graph_program"))` makes the child
run `run_graph_program(namespace["Value"], program)`, not Value(program).

A helper module: plain NumPy, no autograder imports, so that it travels into the sandbox as a
companion file of the child (autograder/sandboxed/child.py). `__all__` lists what may be named.
"""

from collections.abc import Callable
from typing import Any

__all__ = ["run_graph_program"]

MAX_GRAPH_STEPS = 10_000

_GRAPH_OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                    "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


def _graph_number(x: object) -> Any:
    if type(x) not in (int, float):
        raise ValueError(f"a graph program's number is not a number: {str(x)[:40]!r}")
    return x


def _graph_float(node: object, k: int, attribute: str) -> float:
    """float(node.<attribute>), as an exact built-in float; a student's object may lie."""
    try:
        value = float(getattr(node, attribute))
    except Exception as exc:  # noqa: BLE001 - reported as the call's error
        raise TypeError(f"node {k}: .{attribute} is not a number "
                        f"({type(exc).__name__}: {str(exc)[:200]})") from None
    return float.__float__(value)   # a float subclass becomes a plain float


def run_graph_program(value_class: Callable[[Any], Any],
                      program: list) -> dict[str, list[float | None]]:
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
    nodes: list[Any] = []
    inputs: list[list[int]] = []
    root: int | None = None

    def node(i: object) -> int:
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
