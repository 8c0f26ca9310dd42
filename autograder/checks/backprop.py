"""Checks for the `backprop` chapter: the numerical derivative, the Value class, a two-layer
network's gradients, a dense layer's backward pass and a gradient check."""

from typing import Any

import numpy as np

import solutions.backprop
from autograder.channel import NamedCallable
from autograder.checks import (
    backprop_functions,
    backprop_interpreter,
    elementary_functions,
)
from autograder.checks.backprop_graphs import (
    Program,
    division_graph,
    integer_graph,
    intermediate_root_graph,
    ladder_graph,
    lecture_graph,
    long_chain_graph,
    node_names,
    numbers_both_sides_graph,
    powers_graph,
    program_lines,
    random_graph,
    relu_at_zero_graph,
    relu_edges_graph,
    reuse_graph,
    show_program,
    single_node_graph,
    two_layer_graph,
    uneven_paths_graph,
)
from autograder.checks.backprop_interpreter import run_graph_program
from autograder.checks.base import (
    Case,
    Check,
    Mismatch,
    expect_array,
    expect_scalar,
    expect_tuple,
    fmt,
)
from autograder.sandbox.runner import Call

EPS = np.finfo(float).eps

# ----------------------------------------------------------------------------------------------
# numerical_derivative

SQUARE, CUBE, SIN, EXP = (NamedCallable(elementary_functions, name)
                          for name in ("square", "cube", "sin", "exp"))
TANH, SIGMOID, RELU = (NamedCallable(elementary_functions, name)
                       for name in ("tanh", "sigmoid", "relu"))


class NumericalDerivative(Check):
    """Any correct central difference passes: (f(w+e) - f(w-e)) / (2e), f(w+e)/(2e) - f(w-e)/(2e),
    (f(w+e) - f(w-e)) / e / 2, or a division by the step actually taken, (w+e) - (w-e), differ
    from the reference only by the round-off of the two values of f divided by 2e and by the
    rounding of w +- e. The tolerance is a generous multiple of exactly that, and nothing more:
    the bugs (a forward difference, a wrong denominator, a fixed epsilon) differ by the
    truncation error, which the cases make far larger (epsilon up to 0.5, curved functions)."""

    reference = solutions.backprop.numerical_derivative

    def cases(self, rng: np.random.Generator) -> list[Case]:
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

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        f, w = case.args[0], case.args[1]
        epsilon = case.args[2] if len(case.args) > 2 else case.kwargs.get("epsilon", 1e-6)
        f_size = abs(float(f(w + epsilon))) + abs(float(f(w - epsilon)))
        round_off = f_size / (2 * epsilon) + abs(float(w)) * abs(float(expected)) / epsilon
        expect_scalar(actual, expected, rtol=1e-9, atol=64 * EPS * round_off,
                      name="the estimate of df/dw")


# ----------------------------------------------------------------------------------------------
# Value: graded through graph programs (autograder.checks.backprop_interpreter).

# The adapter of the Value check's calls: the child runs the program with the student's class.
RUN_GRAPH_PROGRAM = NamedCallable(backprop_interpreter, "run_graph_program")


class ValueCheck(Check):
    """The class is exercised through programs: each builds nodes with the student's Value in
    the student's process (backprop_interpreter.run_graph_program, the adapter of its Call) and
    sends back every node's .data and .grad, compared here with the same program run on the
    reference Value."""

    reference = solutions.backprop.Value

    def cases(self, rng: np.random.Generator) -> list[Case]:
        def case(label: str, program: Program, kind: str = "fixed") -> Case:
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

    def make_calls(self, rng: np.random.Generator) -> tuple[list[Case], list[Call]]:
        cases = self.cases(rng)
        calls = [Call(key=f"{self.exercise_id}#{i}", name=self.name,
                      args=(case.args[0],), adapter=RUN_GRAPH_PROGRAM, timeout=case.timeout)
                 for i, case in enumerate(cases)]
        return cases, calls

    def expected(self, case: Case) -> Any:
        return run_graph_program(self.reference, case.args[0])

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
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

    def cases(self, rng: np.random.Generator) -> list[Case]:
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

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
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


# ----------------------------------------------------------------------------------------------
# dense_backward

GRADIENT_NAMES = ("dA_in", "dW", "db")


def dense_case(label: str, a_in: Any, W: Any, b: Any, dA: Any, g: str,
               kind: str = "fixed", raises: str | None = None) -> Case:
    return Case(label, tuple(np.array(x, dtype=float) for x in (a_in, W, b, dA)) + (g,),
                kind=kind, raises=raises)


class DenseBackward(Check):
    """Compared entry by entry with the reference; the tolerance (1e-9 of the largest entry of
    each gradient) leaves room for any order of the sums (loops, einsum, matrix products) and
    for any correct way of writing sigmoid'."""

    reference = solutions.backprop.dense_backward

    def cases(self, rng: np.random.Generator) -> list[Case]:
        def batch(m: int, n: int, u: int) -> tuple[Any, Any, Any, Any]:
            return (rng.normal(0, 1, (m, n)), rng.normal(0, 1, (n, u)), rng.normal(0, 1, u),
                    rng.normal(0, 1, (m, u)))

        m, n, u = (int(v) for v in rng.integers(2, 7, 3))
        a_lecture = [[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]]
        W_lecture = [[0.2, -0.5], [0.4, 0.1], [-0.3, 0.6]]
        b_lecture, dA_lecture = [0.1, -0.2], [[0.5, -1.0], [2.0, 0.25]]
        square: tuple[Any, Any, Any, Any] = (
            np.arange(9.0).reshape(3, 3) / 4 - 1,
            [[0.5, -1.0, 0.25], [1.5, 0.5, -0.5], [-1.0, 2.0, 0.75]], [0.1, -0.2, 0.3],
            [[1.0, -2.0, 0.5], [0.25, 1.0, -1.5], [2.0, 0.5, 1.0]])
        return [
            dense_case("m = 2 examples, n = 3 inputs, u = 2 units, relu", a_lecture, W_lecture,
                       b_lecture, dA_lecture, "relu"),
            dense_case("the same batch, sigmoid", a_lecture, W_lecture, b_lecture, dA_lecture,
                       "sigmoid"),
            dense_case("the same batch, linear", a_lecture, W_lecture, b_lecture, dA_lecture,
                       "linear"),
            *(dense_case(f"a random batch m = {m}, n = {n}, u = {u}, {g}", *batch(m, n, u), g,
                         kind="random") for g in ("linear", "relu", "sigmoid")),
            *(dense_case(f"a square batch m = n = u = 3 (a transpose shows), {g}", *square, g,
                         kind="edge") for g in ("linear", "relu", "sigmoid")),
            dense_case("one example (m = 1), relu", [[1.5, -0.5, 2.0]], W_lecture, b_lecture,
                       [[1.0, -3.0]], "relu", kind="edge"),
            dense_case("z exactly 0 in two entries: relu'(0) = 0", [[1.0, 2.0], [2.0, 1.0]],
                       [[1.0, -1.0], [0.5, 2.0]], [-2.0, -3.0], [[1.0, 2.0], [3.0, -4.0]],
                       "relu", kind="edge"),
            dense_case("large |z| (up to 40) with sigmoid", [[4.0, -2.0], [-4.0, 1.0]],
                       [[10.0, -5.0], [0.0, 3.0]], [0.0, 1.0], [[1.0, -1.0], [0.5, 2.0]],
                       "sigmoid", kind="edge"),
            dense_case("one unit (u = 1), sigmoid", *batch(4, 3, 1), "sigmoid", kind="edge"),
            dense_case("one input (n = 1), relu", *batch(4, 1, 3), "relu", kind="edge"),
            dense_case('an unknown activation g = "tanh" raises ValueError', a_lecture,
                       W_lecture, b_lecture, dA_lecture, "tanh", kind="edge",
                       raises="ValueError"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        for name, got, want in zip(GRADIENT_NAMES, expect_tuple(actual, GRADIENT_NAMES),
                                   expected):
            expect_array(got, want, rtol=1e-9, atol=1e-9 * (1.0 + float(np.max(np.abs(want)))),
                         name=name)


# ----------------------------------------------------------------------------------------------
# gradient_check

def functions(*names: str) -> list[NamedCallable]:
    return [NamedCallable(backprop_functions, name) for name in names]


SQUARE_NORM, SQUARE_NORM_GRADIENT, SQUARE_NORM_HALVED = functions(
    "square_norm", "square_norm_gradient", "square_norm_gradient_halved")
SIN_SUM, SIN_SUM_GRADIENT, SIN_SUM_NEGATED = functions(
    "sin_sum", "sin_sum_gradient", "sin_sum_gradient_negated")
CUBES, CUBES_GRADIENT, CUBES_LAST_FORGOTTEN = functions(
    "weighted_cubes", "weighted_cubes_gradient", "weighted_cubes_gradient_last_forgotten")
ROSENBROCK, ROSENBROCK_GRADIENT, ROSENBROCK_SLIP = functions(
    "rosenbrock", "rosenbrock_gradient", "rosenbrock_gradient_slip")
LOGISTIC, LOGISTIC_GRADIENT = functions("logistic_cost", "logistic_cost_gradient")
CONSTANT, CONSTANT_GRADIENT = functions("constant", "constant_gradient")


def vector(*entries: float) -> np.ndarray:
    return np.array(entries, dtype=float)


class GradientCheck(Check):
    """The largest relative error is compared to 1e-6 of itself plus 1e-8: a right gradient
    gives errors of 1e-11 to 1e-9 whose last digits depend on the order of the operations, a
    wrong one errors of 0.5 to 2; the truncation bugs (a forward difference) show in the cases
    with a large epsilon, where the central difference's own error is known exactly."""

    reference = solutions.backprop.gradient_check
    rtol, atol = 1e-6, 1e-8

    def cases(self, rng: np.random.Generator) -> list[Case]:
        w_r = np.round(rng.uniform(0.3, 1.5, int(rng.integers(3, 8))) *
                       rng.choice([-1.0, 1.0], 1), 4)
        e_r = float(10 ** rng.uniform(-3, -1))
        pairs = [(SIN_SUM, SIN_SUM_GRADIENT), (CUBES, CUBES_GRADIENT),
                 (LOGISTIC, LOGISTIC_GRADIENT)]
        f_r, grad_r = pairs[int(rng.integers(3))]
        w_f = w_r[:3] if f_r is LOGISTIC else w_r    # the logistic cost has 3 weights
        return [
            Case("f = sum of w_j^2 with its right gradient 2w, the default epsilon",
                 (SQUARE_NORM, SQUARE_NORM_GRADIENT, vector(1.0, -2.0, 0.5))),
            Case("f = sum of w_j^2 with a wrong gradient w (the 2 forgotten)",
                 (SQUARE_NORM, SQUARE_NORM_HALVED, vector(1.0, -2.0, 0.5))),
            Case("f = sum of sin(w_j) with its right gradient, epsilon = 0.01",
                 (SIN_SUM, SIN_SUM_GRADIENT, vector(0.3, 1.2, -0.8, 2.0), 0.01)),
            Case("f = sum of sin(w_j) with the gradient's sign flipped",
                 (SIN_SUM, SIN_SUM_NEGATED, vector(0.3, 1.2, -0.8))),
            Case("f = sum of j w_j^3 with its right gradient, epsilon = 0.1 by keyword",
                 (CUBES, CUBES_GRADIENT, vector(1.0, -0.5, 2.0)), {"epsilon": 0.1}),
            Case("Rosenbrock's function with its right gradient",
                 (ROSENBROCK, ROSENBROCK_GRADIENT, vector(-1.2, 1.0, 0.8, 1.1))),
            Case("Rosenbrock's function with one entry of the gradient wrong",
                 (ROSENBROCK, ROSENBROCK_SLIP, vector(-1.2, 0.5, 0.8, 1.1))),
            Case("a logistic cost with its right gradient",
                 (LOGISTIC, LOGISTIC_GRADIENT, vector(0.5, -1.0, 0.25))),
            Case(f"{f_r.name} with its right gradient at random w, epsilon = {e_r:.3g}",
                 (f_r, grad_r, w_f, e_r), kind="random"),
            Case("sum of w_j^2 with the wrong gradient at random w, the default epsilon",
                 (SQUARE_NORM, SQUARE_NORM_HALVED, w_r), kind="random"),
            Case("one gradient entry 0 where the difference is not (relative error 1)",
                 (CUBES, CUBES_LAST_FORGOTTEN, vector(0.5, -1.0, 1.5)), kind="edge"),
            Case("a constant f: a and n are both 0 in every entry (relative error 0)",
                 (CONSTANT, CONSTANT_GRADIENT, vector(0.5, -1.0, 2.0)), kind="edge"),
            Case("w with an entry 0, where both the gradient and the difference are 0",
                 (SQUARE_NORM, SQUARE_NORM_GRADIENT, vector(0.0, 1.5, -0.75), 0.25),
                 kind="edge"),
            Case("a single entry, w = [0.7], epsilon = 0.5",
                 (SIN_SUM, SIN_SUM_GRADIENT, vector(0.7), 0.5), kind="edge"),
            Case("a large epsilon = 0.5 with w^3 (the central difference is off by 0.25 j)",
                 (CUBES, CUBES_GRADIENT, vector(1.0, 2.0, -1.5), 0.5), kind="edge"),
            Case("a long w of 40 entries", (SIN_SUM, SIN_SUM_GRADIENT,
                                           np.linspace(-3.0, 3.0, 40) + 0.01), kind="edge"),
        ]


CHECKS = [NumericalDerivative(), ValueCheck(), TwoLayerGradients(), DenseBackward(),
          GradientCheck()]
