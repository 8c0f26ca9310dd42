"""The graph programs the backprop chapter's Value check runs: how they are written (a builder
that computes each node's value as it goes, so that cases stay clear of 0 / 0), the named graphs
of its cases, random ones, and how a program is shown to a student, as the Python they would
write. Grading-side only: the programs are plain data, run by
backprop_interpreter.run_graph_program.
"""

import math
import string
from typing import Any

import numpy as np

# A graph program: its steps as plain data, [[kind, *arguments], ...]
# (autograder/checks/backprop_interpreter.py runs them).
Program = list[list[Any]]

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def node_names(program: Program) -> list[str]:
    count = sum(1 for step in program if step[0] != "backward")
    letters = string.ascii_lowercase
    return [letters[k] if count <= 26 else f"n{k}" for k in range(count)]


def program_lines(program: Program) -> list[str]:
    """The program as the Python a student would write with their Value class."""
    names, lines, k = node_names(program), [], 0
    for kind, *args in program:
        if kind == "backward":
            lines.append(f"{names[args[0]]}.backward()")
            continue
        if kind == "value":
            text = f"Value({args[0]!r})"
        elif kind in SYMBOLS:
            text = f"{names[args[0]]} {SYMBOLS[kind]} {names[args[1]]}"
        elif kind.endswith("_number"):
            text = f"{names[args[0]]} {SYMBOLS[kind[:-7]]} {args[1]!r}"
        elif kind.startswith("number_"):
            text = f"{args[0]!r} {SYMBOLS[kind[7:]]} {names[args[1]]}"
        elif kind == "pow":
            text = f"{names[args[0]]} ** {args[1]!r}"
        else:
            text = f"{names[args[0]]}.relu()"
        lines.append(f"{names[k]} = {text}")
        k += 1
    return lines


def show_program(program: Program, max_lines: int = 14) -> str:
    lines = program_lines(program)
    if len(lines) > max_lines:
        lines = lines[:max_lines // 2] + [f"... ({len(lines) - max_lines + 1} more lines)"] + \
            lines[-(max_lines // 2 - 1):]
    return "\n".join("    " + line for line in lines)


class ProgramBuilder:
    """Writes a graph program while computing its values, so that cases stay clear of 0 / 0."""

    def __init__(self) -> None:
        self.steps: Program = []
        self.values: list[float] = []

    def _add(self, step: list, value: float) -> int:
        self.steps.append(step)
        self.values.append(value)
        return len(self.values) - 1

    def value(self, x: float) -> int:
        return self._add(["value", x], float(x))

    def op(self, kind: str, i: int, j: int) -> int:
        a, b = self.values[i], self.values[j]
        return self._add([kind, i, j], _apply(kind, a, b))

    def op_number(self, kind: str, i: int, c: float) -> int:
        return self._add([kind + "_number", i, c], _apply(kind, self.values[i], c))

    def number_op(self, kind: str, c: float, i: int) -> int:
        return self._add(["number_" + kind, c, i], _apply(kind, c, self.values[i]))

    def pow(self, i: int, p: float) -> int:
        return self._add(["pow", i, p], self.values[i] ** p)

    def relu(self, i: int) -> int:
        return self._add(["relu", i], max(self.values[i], 0.0))

    def backward(self, i: int) -> Program:
        self.steps.append(["backward", i])
        return self.steps


def _apply(kind: str, a: float, b: float) -> float:
    return {"add": a + b, "sub": a - b, "mul": a * b,
            "div": a / b if b else math.nan}[kind]


def lecture_graph() -> Program:
    """J = 1/2 (w x + b - y)^2 at w = 2, b = 8, x = -2, y = 2, as the lecture builds it."""
    p = ProgramBuilder()
    w, b = p.value(2.0), p.value(8.0)
    c = p.op_number("mul", w, -2.0)
    a = p.op("add", c, b)
    d = p.op_number("sub", a, 2.0)
    return p.backward(p.number_op("mul", 0.5, p.pow(d, 2)))


def two_layer_graph(x: float = 1.0, y: float = 5.0, w1: float = 2.0, b1: float = 0.0,
                    w2: float = 3.0, b2: float = 1.0) -> Program:
    p = ProgramBuilder()
    W1, B1, W2, B2 = (p.value(v) for v in (w1, b1, w2, b2))
    a1 = p.relu(p.op("add", p.op_number("mul", W1, x), B1))
    a2 = p.relu(p.op("add", p.op("mul", W2, a1), B2))
    return p.backward(p.op_number("div", p.pow(p.op_number("sub", a2, y), 2), 2))


def reuse_graph() -> Program:
    """a used twice by one operation (a * a, a + a) and again later."""
    p = ProgramBuilder()
    a = p.value(3.0)
    b = p.op("mul", a, a)
    c = p.op("add", a, a)
    return p.backward(p.op("add", p.op("mul", b, c), a))


def uneven_paths_graph() -> Program:
    """Two paths of different lengths from a to the output: a node must pass its grad on only
    once it has every contribution (topological order)."""
    p = ProgramBuilder()
    a, b = p.value(1.5), p.value(-0.5)
    c = p.op("mul", a, b)
    d = p.op_number("add", c, 2.0)
    e = p.op("mul", d, d)
    f = p.op("sub", e, a)
    g = p.op("mul", f, c)
    return p.backward(p.op("add", g, b))


def numbers_both_sides_graph() -> Program:
    p = ProgramBuilder()
    a = p.value(2.0)
    parts = [p.number_op("add", 3, a), p.op_number("add", a, 0.5),
             p.number_op("sub", 5, a), p.op_number("sub", a, 4),
             p.number_op("mul", -3, a), p.op_number("mul", a, 1.5),
             p.number_op("div", 6, a), p.op_number("div", a, 4)]
    total = parts[0]
    for k, part in enumerate(parts[1:]):
        total = p.op("mul" if k % 3 == 1 else "add", total, part)
    return p.backward(total)


def division_graph() -> Program:
    p = ProgramBuilder()
    a, b = p.value(3.0), p.value(-4.0)
    q = p.op("div", a, b)
    r = p.op("div", q, p.op("add", a, b))
    s = p.op("div", a, a)
    return p.backward(p.op("add", p.op("mul", r, b), s))


def powers_graph() -> Program:
    p = ProgramBuilder()
    a, b = p.value(1.7), p.value(-0.6)
    parts = [p.pow(a, 3), p.pow(b, 2), p.pow(a, 0.5), p.pow(b, -1), p.pow(a, -2.5), p.pow(b, 0)]
    total = parts[0]
    for part in parts[1:]:
        total = p.op("add", total, part)
    return p.backward(p.op("mul", total, a))


def relu_edges_graph() -> Program:
    """relu of a positive, a negative and an exact 0 (gradient 0 at 0, as the task says)."""
    p = ProgramBuilder()
    a, b = p.value(1.5), p.value(3.0)
    zero = p.op("sub", p.op_number("mul", a, 2), b)    # exactly 0
    negative = p.op_number("sub", a, 4)
    positive = p.op_number("add", b, 0.25)
    total = p.op("add", p.op("add", p.relu(zero), p.relu(negative)), p.relu(positive))
    return p.backward(p.op("mul", total, p.op("add", a, b)))


def relu_at_zero_graph() -> Program:
    p = ProgramBuilder()
    z = p.value(0.0)
    return p.backward(p.op_number("mul", p.relu(z), 3.0))


def long_chain_graph(length: int = 300) -> Program:
    """A chain of `length` operations: x <- x * 1.01 + 0.01."""
    p = ProgramBuilder()
    x = start = p.value(0.5)
    for _ in range(length // 2):
        x = p.op_number("add", p.op_number("mul", x, 1.01), 0.01)
    return p.backward(p.op("mul", x, start))


def ladder_graph(rungs: int = 60) -> Program:
    """y <- y * b + a, rung after rung: a and b receive a contribution from every rung."""
    p = ProgramBuilder()
    a, b = p.value(0.3), p.value(0.9)
    y = a
    for _ in range(rungs):
        y = p.op("add", p.op("mul", y, b), a)
    return p.backward(y)


def single_node_graph() -> Program:
    p = ProgramBuilder()
    return p.backward(p.value(5.0))


def integer_graph() -> Program:
    p = ProgramBuilder()
    a, b = p.value(2), p.value(-3)
    c = p.op("mul", a, b)
    return p.backward(p.pow(p.number_op("sub", 1, p.op_number("mul", c, 2)), 2))


def intermediate_root_graph() -> Program:
    """backward() on an intermediate node: only what that node depends on is graded."""
    p = ProgramBuilder()
    a, b = p.value(-1.25), p.value(2.0)
    c = p.op("mul", a, b)
    d = p.relu(p.op("add", c, b))
    p.op("mul", d, a)       # made after d, not part of d's graph
    return p.backward(d)


def random_graph(rng: np.random.Generator, size: int) -> Program:
    """A random expression: each new node combines earlier ones (so many are reused) by a
    random operation, kept away from 0 / 0, overflow and complex powers."""
    p = ProgramBuilder()
    nodes = [p.value(float(np.round(rng.uniform(-2, 2), 3))) for _ in range(4)]
    while len(p.values) < size:
        i, j = (int(k) for k in rng.integers(len(p.values), size=2))
        a, b = p.values[i], p.values[j]
        kind = ["add", "sub", "mul", "div", "add_number", "number_sub", "number_mul",
                "number_div", "pow", "relu"][int(rng.integers(10))]
        c = float(np.round(rng.uniform(-3, 3), 2)) or 1.0
        if kind in ("add", "sub") or (kind == "mul" and abs(a * b) < 50):
            nodes.append(p.op(kind, i, j))
        elif kind == "div" and abs(b) > 0.5 and abs(a / b) < 50:
            nodes.append(p.op("div", i, j))
        elif kind == "add_number":
            nodes.append(p.op_number("add", i, c))
        elif kind == "number_sub":
            nodes.append(p.number_op("sub", c, i))
        elif kind == "number_mul" and abs(a) < 20:
            nodes.append(p.number_op("mul", c, i))
        elif kind == "number_div" and abs(a) > 0.5:
            nodes.append(p.number_op("div", c, i))
        elif kind == "pow" and 0.1 < abs(a) < 4:
            nodes.append(p.pow(i, [2, 3, -1][int(rng.integers(3))]))
        elif kind == "relu" and a != 0:
            nodes.append(p.relu(i))
    # The output sums the last few nodes, so that most of the graph is reached.
    total = len(p.values) - 1
    for k in range(len(p.values) - 2, len(p.values) - 6, -1):
        total = p.op("add", total, k)
    return p.backward(total)
