"""Checks for the `backprop` chapter: the numerical derivative, the Value class, and a two-layer
network's gradients."""

import math
import string

import numpy as np

import solutions.backprop
from autograder.checks.base import Case, Check, Mismatch, expect_scalar, fmt
from autograder.sandbox.runner import Call
from autograder.sandboxed.child import GRAPH_PROGRAM, NamedCallable, run_graph_program

EPS = np.finfo(float).eps

# ----------------------------------------------------------------------------------------------
# numerical_derivative

SQUARE, CUBE, SIN, EXP = (NamedCallable(name) for name in ("square", "cube", "sin", "exp"))
TANH, SIGMOID, RELU = (NamedCallable(name) for name in ("tanh", "sigmoid", "relu"))


class NumericalDerivative(Check):
    """Any correct central difference passes: (f(w+e) - f(w-e)) / (2e), f(w+e)/(2e) - f(w-e)/(2e),
    (f(w+e) - f(w-e)) / e / 2, or a division by the step actually taken, (w+e) - (w-e), differ
    from the reference only by the round-off of the two values of f divided by 2e and by the
    rounding of w +- e. The tolerance is a generous multiple of exactly that, and nothing more:
    the bugs (a forward difference, a wrong denominator, a fixed epsilon) differ by the
    truncation error, which the cases make far larger (epsilon up to 0.5, curved functions)."""

    reference = solutions.backprop.numerical_derivative

    def cases(self, rng):
        w_r = float(rng.uniform(-2, 2))
        e_r = float(10 ** rng.uniform(-4, -1))
        f_r = [SIN, EXP, CUBE, TANH][int(rng.integers(4))]
        return [
            Case("J(w) = w^2 at w = 3, epsilon = 0.001 (the lecture's nudge)",
                 (SQUARE, 3.0, 0.001)),
            Case("J(w) = w^2 at w = 3, epsilon = 0.002", (SQUARE, 3.0, 0.002)),
            Case("f(w) = w^3 at w = 2, epsilon = 0.1 (central: 12.01)", (CUBE, 2.0, 0.1)),
            Case("f(w) = w^3 at w = -1.5, epsilon = 0.5 by keyword", (CUBE, -1.5),
                 {"epsilon": 0.5}),
            Case("f(w) = sin(w) at w = 1, the default epsilon", (SIN, 1.0)),
            Case("f(w) = exp(w) at w = 0, the default epsilon", (EXP, 0.0)),
            Case("f(w) = w^3 at w = 2, the default epsilon", (CUBE, 2.0)),
            Case("f(w) = sigmoid(w) at w = 0.5, epsilon = 0.25", (SIGMOID, 0.5, 0.25)),
            Case(f"f = {f_r.name} at a random w = {w_r:.4g}, epsilon = {e_r:.3g}",
                 (f_r, w_r, e_r), kind="random"),
            Case(f"f(w) = exp(w) at a random w = {w_r:.4g}, the default epsilon", (EXP, w_r),
                 kind="random"),
            Case("relu at its kink w = 0, epsilon = 0.01 (the central difference gives 0.5)",
                 (RELU, 0.0, 0.01), kind="edge"),
            Case("an integer w = 3 with J(w) = w^2, epsilon = 0.5", (SQUARE, 3, 0.5),
                 kind="edge"),
            Case("a large w = 1000 with w^3, the default epsilon (round-off dominates)",
                 (CUBE, 1000.0), kind="edge"),
            Case("a tiny epsilon = 1e-9 with sin at w = 0.3 (round-off dominates)",
                 (SIN, 0.3, 1e-9), kind="edge"),
            Case("a large epsilon = 2 with w^3 at w = 1: epsilon is used as given",
                 (CUBE, 1.0, 2.0), kind="edge"),
        ]

    def compare(self, case, expected, actual):
        f, w = case.args[0], case.args[1]
        epsilon = case.args[2] if len(case.args) > 2 else case.kwargs.get("epsilon", 1e-6)
        f_size = abs(float(f(w + epsilon))) + abs(float(f(w - epsilon)))
        round_off = f_size / (2 * epsilon) + abs(float(w)) * abs(float(expected)) / epsilon
        expect_scalar(actual, expected, rtol=1e-9, atol=64 * EPS * round_off,
                      name="the estimate of df/dw")


# ----------------------------------------------------------------------------------------------
# Value: graded through graph programs (autograder.sandboxed.child.run_graph_program).

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def node_names(program):
    count = sum(1 for step in program if step[0] != "backward")
    letters = string.ascii_lowercase
    return [letters[k] if count <= 26 else f"n{k}" for k in range(count)]


def program_lines(program):
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


def show_program(program, max_lines=14):
    lines = program_lines(program)
    if len(lines) > max_lines:
        lines = lines[:max_lines // 2] + [f"... ({len(lines) - max_lines + 1} more lines)"] + \
            lines[-(max_lines // 2 - 1):]
    return "\n".join("    " + line for line in lines)


class ProgramBuilder:
    """Writes a graph program while computing its values, so that cases stay clear of 0 / 0."""

    def __init__(self):
        self.steps, self.values = [], []

    def _add(self, step, value):
        self.steps.append(step)
        self.values.append(value)
        return len(self.values) - 1

    def value(self, x):
        return self._add(["value", x], float(x))

    def op(self, kind, i, j):
        a, b = self.values[i], self.values[j]
        return self._add([kind, i, j], _apply(kind, a, b))

    def op_number(self, kind, i, c):
        return self._add([kind + "_number", i, c], _apply(kind, self.values[i], c))

    def number_op(self, kind, c, i):
        return self._add(["number_" + kind, c, i], _apply(kind, c, self.values[i]))

    def pow(self, i, p):
        return self._add(["pow", i, p], self.values[i] ** p)

    def relu(self, i):
        return self._add(["relu", i], max(self.values[i], 0.0))

    def backward(self, i):
        self.steps.append(["backward", i])
        return self.steps


def _apply(kind, a, b):
    return {"add": a + b, "sub": a - b, "mul": a * b,
            "div": a / b if b else math.nan}[kind]


def lecture_graph():
    """J = 1/2 (w x + b - y)^2 at w = 2, b = 8, x = -2, y = 2, as the lecture builds it."""
    p = ProgramBuilder()
    w, b = p.value(2.0), p.value(8.0)
    c = p.op_number("mul", w, -2.0)
    a = p.op("add", c, b)
    d = p.op_number("sub", a, 2.0)
    return p.backward(p.number_op("mul", 0.5, p.pow(d, 2)))


def two_layer_graph(x=1.0, y=5.0, w1=2.0, b1=0.0, w2=3.0, b2=1.0):
    p = ProgramBuilder()
    W1, B1, W2, B2 = (p.value(v) for v in (w1, b1, w2, b2))
    a1 = p.relu(p.op("add", p.op_number("mul", W1, x), B1))
    a2 = p.relu(p.op("add", p.op("mul", W2, a1), B2))
    return p.backward(p.op_number("div", p.pow(p.op_number("sub", a2, y), 2), 2))


def reuse_graph():
    """a used twice by one operation (a * a, a + a) and again later."""
    p = ProgramBuilder()
    a = p.value(3.0)
    b = p.op("mul", a, a)
    c = p.op("add", a, a)
    return p.backward(p.op("add", p.op("mul", b, c), a))


def uneven_paths_graph():
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


def numbers_both_sides_graph():
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


def division_graph():
    p = ProgramBuilder()
    a, b = p.value(3.0), p.value(-4.0)
    q = p.op("div", a, b)
    r = p.op("div", q, p.op("add", a, b))
    s = p.op("div", a, a)
    return p.backward(p.op("add", p.op("mul", r, b), s))


def powers_graph():
    p = ProgramBuilder()
    a, b = p.value(1.7), p.value(-0.6)
    parts = [p.pow(a, 3), p.pow(b, 2), p.pow(a, 0.5), p.pow(b, -1), p.pow(a, -2.5), p.pow(b, 0)]
    total = parts[0]
    for part in parts[1:]:
        total = p.op("add", total, part)
    return p.backward(p.op("mul", total, a))


def relu_edges_graph():
    """relu of a positive, a negative and an exact 0 (gradient 0 at 0, as the task says)."""
    p = ProgramBuilder()
    a, b = p.value(1.5), p.value(3.0)
    zero = p.op("sub", p.op_number("mul", a, 2), b)    # exactly 0
    negative = p.op_number("sub", a, 4)
    positive = p.op_number("add", b, 0.25)
    total = p.op("add", p.op("add", p.relu(zero), p.relu(negative)), p.relu(positive))
    return p.backward(p.op("mul", total, p.op("add", a, b)))


def relu_at_zero_graph():
    p = ProgramBuilder()
    z = p.value(0.0)
    return p.backward(p.op_number("mul", p.relu(z), 3.0))


def long_chain_graph(length=300):
    """A chain of `length` operations: x <- x * 1.01 + 0.01."""
    p = ProgramBuilder()
    x = start = p.value(0.5)
    for _ in range(length // 2):
        x = p.op_number("add", p.op_number("mul", x, 1.01), 0.01)
    return p.backward(p.op("mul", x, start))


def ladder_graph(rungs=60):
    """y <- y * b + a, rung after rung: a and b receive a contribution from every rung."""
    p = ProgramBuilder()
    a, b = p.value(0.3), p.value(0.9)
    y = a
    for _ in range(rungs):
        y = p.op("add", p.op("mul", y, b), a)
    return p.backward(y)


def single_node_graph():
    p = ProgramBuilder()
    return p.backward(p.value(5.0))


def integer_graph():
    p = ProgramBuilder()
    a, b = p.value(2), p.value(-3)
    c = p.op("mul", a, b)
    return p.backward(p.pow(p.number_op("sub", 1, p.op_number("mul", c, 2)), 2))


def intermediate_root_graph():
    """backward() on an intermediate node: only what that node depends on is graded."""
    p = ProgramBuilder()
    a, b = p.value(-1.25), p.value(2.0)
    c = p.op("mul", a, b)
    d = p.relu(p.op("add", c, b))
    p.op("mul", d, a)       # made after d, not part of d's graph
    return p.backward(d)


def random_graph(rng, size):
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


class ValueCheck(Check):
    """The class is exercised through programs: each builds nodes with the student's Value in
    the student's process (autograder.sandboxed.child.run_graph_program) and sends back every node's
    .data and .grad, compared here with the same program run on the reference Value."""

    reference = solutions.backprop.Value

    def cases(self, rng):
        def case(label, program, kind="fixed"):
            return Case(label, (program,), kind=kind, show_input=False)

        return [
            case("the lecture's graph J = 1/2 (w x + b - y)^2, w = 2, b = 8, x = -2, y = 2",
                 lecture_graph()),
            case("the lecture's two-layer ReLU network, x = 1, y = 5, w1 = 2, b1 = 0, w2 = 3, "
                 "b2 = 1", two_layer_graph()),
            case("a node used twice by one operation (a * a, a + a)", reuse_graph()),
            case("two paths of different lengths to the output (topological order)",
                 uneven_paths_graph()),
            case("numbers on either side of + - * /", numbers_both_sides_graph()),
            case("division of nodes, and a / a", division_graph()),
            case("powers with number exponents 3, 2, 0.5, -1, -2.5, 0", powers_graph()),
            case("relu of a positive, a negative and an exact 0", relu_edges_graph()),
            case("a random expression of 20 nodes", random_graph(rng, 20), kind="random"),
            case("a random expression of 60 nodes", random_graph(rng, 60), kind="random"),
            case("the two-layer network at random weights",
                 two_layer_graph(*(float(v) for v in np.round(rng.uniform(-2, 2, 6), 3))),
                 kind="random"),
            case("relu at exactly 0: its gradient is 0", relu_at_zero_graph(), kind="edge"),
            case("a long chain of 300 operations", long_chain_graph(), kind="edge"),
            case("a ladder y = y * b + a of 60 rungs (a and b reused 60 times)",
                 ladder_graph(), kind="edge"),
            case("a single node: a.backward() gives a.grad = 1", single_node_graph(),
                 kind="edge"),
            case("integer data and integer numbers", integer_graph(), kind="edge"),
            case("backward() on an intermediate node", intermediate_root_graph(), kind="edge"),
        ]

    def make_calls(self, rng):
        cases = self.cases(rng)
        calls = [Call(key=f"{self.exercise_id}#{i}", name=self.name,
                      kwargs={GRAPH_PROGRAM: case.args[0]}, timeout=case.timeout)
                 for i, case in enumerate(cases)]
        return cases, calls

    def expected(self, case):
        return run_graph_program(self.reference, case.args[0])

    def compare(self, case, expected, actual):
        program = case.args[0]
        names = node_names(program)
        lines = [line for line in program_lines(program) if not line.endswith(".backward()")]
        shown = "the program:\n" + show_program(program)
        if not isinstance(actual, dict) or not isinstance(actual.get("data"), list) or \
                not isinstance(actual.get("grad"), list):
            raise Mismatch(f"the program could not be read back: {fmt(actual)}\n{shown}")
        reached = [k for k, g in enumerate(expected["grad"]) if g is not None]
        scale = max([abs(v) for v in expected["data"]] +
                    [abs(expected["grad"][k]) for k in reached] + [1.0])
        for field, what, ks in (("data", "its .data", range(len(names))),
                                ("grad", "its .grad after backward()", reached)):
            for k in ks:
                try:
                    expect_scalar(actual[field][k], expected[field][k], rtol=1e-9,
                                  atol=1e-12 * scale, name=f"{what}")
                except Mismatch as exc:
                    raise Mismatch(f"node {names[k]} ({lines[k]}): {exc}\n{shown}") from None


# ----------------------------------------------------------------------------------------------
# two_layer_gradients

KEYS = ("J", "dJ_dw1", "dJ_db1", "dJ_dw2", "dJ_db2")


class TwoLayerGradients(Check):
    reference = solutions.backprop.two_layer_gradients

    def cases(self, rng):
        x, y, w1, b1, w2, b2 = (float(v) for v in np.round(rng.uniform(-2, 2, 6), 3))
        pos = [float(v) for v in np.round(rng.uniform(0.2, 2, 6), 3)]
        return [
            Case("the lecture's example", (1.0, 5.0, 2.0, 0.0, 3.0, 1.0)),
            Case("a2 above y", (2.0, 1.0, 1.5, 0.5, 2.0, -1.0)),
            Case("a negative input x", (-1.5, 0.5, -2.0, 0.25, 0.5, 0.1)),
            Case("z1 < 0: the hidden unit is off", (1.0, 2.0, -1.0, 0.5, 3.0, 1.0)),
            Case("z2 < 0: the output unit is off", (1.0, 2.0, 1.0, 0.5, -3.0, 1.0)),
            Case("random weights", (x, y, w1, b1, w2, b2), kind="random"),
            Case("random positive weights (both units on)", tuple(pos), kind="random"),
            Case("z1 = w1 x + b1 exactly 0: relu'(0) = 0", (1.0, 5.0, 2.0, -2.0, 3.0, 1.0),
                 kind="edge"),
            Case("z2 = w2 a1 + b2 exactly 0: relu'(0) = 0", (1.0, 5.0, 2.0, 0.0, 3.0, -6.0),
                 kind="edge"),
            Case("x = 0", (0.0, 1.0, 2.0, 0.5, 1.5, 0.25), kind="edge"),
            Case("a2 = y exactly: J = 0 and every derivative 0", (1.0, 7.0, 2.0, 0.0, 3.0, 1.0),
                 kind="edge"),
            Case("integer arguments", (1, 5, 2, 0, 3, 1), kind="edge"),
            Case("large values", (30.0, -100.0, 20.0, 5.0, 10.0, -3.0), kind="edge"),
        ]

    def compare(self, case, expected, actual):
        if not isinstance(actual, dict):
            raise Mismatch(f"expected a dict with the keys {', '.join(KEYS)}, got "
                           f"{type(actual).__name__}: {fmt(actual)}")
        missing = [key for key in KEYS if key not in actual]
        if missing:
            raise Mismatch(f"the dict has no key {', '.join(repr(k) for k in missing)} (its keys: "
                           f"{', '.join(repr(k) for k in actual)})")
        scale = max(abs(v) for v in expected.values()) + 1.0
        for key in KEYS:
            expect_scalar(actual[key], expected[key], rtol=1e-9, atol=1e-12 * scale,
                          name=key)


CHECKS = [NumericalDerivative(), ValueCheck(), TwoLayerGradients()]
