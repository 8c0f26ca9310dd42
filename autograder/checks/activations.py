"""Checks for the `activations` chapter: ReLU, a dense layer, a forward pass, collapsed layers,
a ReLU network built by hand, the output layer for a kind of target, and the activations'
derivatives."""

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

import solutions.activations
from autograder.channel import NamedCallable
from autograder.checks import elementary_functions
from autograder.checks.base import (
    Case,
    Check,
    Mismatch,
    expect_array,
    expect_tuple,
    expect_value,
    fmt,
)

# Matrix products summed in another order (loops over units, np.dot, np.einsum) differ from
# the reference by rounding only, ~1e-15 on the O(1) values used here, far inside Check's default
# tolerances; every bug worth catching (a missing bias, a transposed W, a skipped activation)
# changes them by O(1).

RELU, SIGMOID, LINEAR = (NamedCallable(elementary_functions, name)
                         for name in ("relu", "sigmoid", "linear"))
ACTIVATIONS = [RELU, SIGMOID, LINEAR]


def random_layer(rng: np.random.Generator, n_in: int, units: int) -> tuple[np.ndarray, np.ndarray]:
    """(W, b), W (n_in, units) scaled by 1/sqrt(n_in): activations stay O(1) layer after layer."""
    return rng.normal(size=(n_in, units)) / np.sqrt(n_in), rng.normal(size=units)


def describe_stack(sizes: Sequence[int], activations: Sequence[NamedCallable] | None = None,
                   ) -> str:
    """'4 -> 5 -> 2 (relu, sigmoid)': the layer sizes, and the activations if any."""
    text = " -> ".join(str(s) for s in sizes)
    return text + (f" ({', '.join(g.name for g in activations)})" if activations else "")


class Relu(Check):
    reference = solutions.activations.relu
    rtol, atol = 1e-12, 0.0     # ReLU involves no rounding: any correct formula gives these numbers

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(3, 7)), int(rng.integers(2, 6))
        return [
            Case("a 1-D array [-2, -0.5, 0, 0.5, 2]", (np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),)),
            Case("a 2x3 array (element-wise, same shape)",
                 (np.array([[1.0, -1.0, 0.0], [-3.0, 2.5, -0.1]]),)),
            Case("a Python list of ints [[1, -1], [-2, 2]]", ([[1, -1], [-2, 2]],)),
            Case("a negative scalar z = -3.0", (-3.0,)),
            Case("a positive scalar z = 2.5", (2.5,)),
            Case(f"a random {m}x{n} array", (rng.normal(0, 3, size=(m, n)),), kind="random"),
            Case("a random 1-D array", (rng.normal(0, 3, size=n + 4),), kind="random"),
            Case("all entries negative (the result is all zeros, same shape)",
                 (np.array([[-1.0, -2.0], [-0.5, -1e-3]]),), kind="edge"),
            Case("very large and very small values [-1e300, -1e-300, 1e-300, 1e300]",
                 (np.array([-1e300, -1e-300, 1e-300, 1e300]),), kind="edge"),
            Case("a 2x2x3 array", (np.linspace(-3, 3, 12).reshape(2, 2, 3),), kind="edge"),
        ]


class Dense(Check):
    reference = solutions.activations.dense

    def cases(self, rng: np.random.Generator) -> list[Case]:
        n, units, m = int(rng.integers(2, 7)), int(rng.integers(1, 6)), int(rng.integers(3, 9))
        W, b = random_layer(rng, n, units)
        W_sq, b_sq = random_layer(rng, 3, 3)
        W1 = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
        b1 = np.array([0.5, -4.0, 1.0])
        return [
            Case("one example a_in = [1, 2], 3 ReLU units", (np.array([1.0, 2.0]), W1, b1, RELU)),
            Case("one example, 3 sigmoid units", (np.array([1.0, 2.0]), W1, b1, SIGMOID)),
            Case("one example, 3 linear units", (np.array([-1.0, 0.5]), W1, b1, LINEAR)),
            Case("a batch of 2 examples (rows), ReLU",
                 (np.array([[1.0, 2.0], [-1.0, 3.0]]), W1, b1, RELU)),
            Case("2 inputs, 2 linear units", (np.array([2.0, -1.0]),
                                              np.array([[1.0, 2.0], [3.0, 4.0]]),
                                              np.array([0.5, -0.5]), LINEAR)),
            Case("a square W (3 inputs, 3 units): a_in @ W, not W @ a_in",
                 (np.array([1.0, -2.0, 0.5]), W_sq, b_sq, LINEAR)),
            Case("one unit", (np.array([[0.2, 0.4], [1.0, -1.0], [0.0, 0.0]]),
                              np.array([[2.0], [-1.0]]), np.array([0.3]), SIGMOID)),
            Case(f"a random batch of {m} examples, {n} inputs -> {units} ReLU units",
                 (rng.normal(size=(m, n)), W, b, RELU), kind="random"),
            Case(f"a random batch of {m} examples, {n} inputs -> {units} sigmoid units",
                 (rng.normal(size=(m, n)), W, b, SIGMOID), kind="random"),
            Case(f"one random example, {n} inputs -> {units} linear units",
                 (rng.normal(size=n), W, b, LINEAR), kind="random"),
            Case("sigmoid units with z of magnitude up to 1e4",
                 (np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[5e3, 0.0], [-5e3, 1.0]]),
                  np.array([0.0, 0.0]), SIGMOID), kind="edge"),
        ]


class Sequential(Check):
    reference = solutions.activations.sequential

    def stack(self, rng: np.random.Generator, sizes: Sequence[int],
              activations: Sequence[NamedCallable],
              ) -> list[tuple[np.ndarray, np.ndarray, NamedCallable]]:
        return [random_layer(rng, n_in, units) + (g,)
                for n_in, units, g in zip(sizes[:-1], sizes[1:], activations)]

    def cases(self, rng: np.random.Generator) -> list[Case]:
        depth = int(rng.integers(2, 5))
        sizes = [int(s) for s in rng.integers(1, 7, size=depth + 1)]
        acts = [ACTIVATIONS[int(i)] for i in rng.integers(0, 3, size=depth)]
        m = int(rng.integers(2, 8))
        square = [3, 3, 3, 3]
        square_acts = [RELU, LINEAR, SIGMOID]
        two = [(np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -1.0]]), np.array([0.0, 1.0, -0.5]), RELU),
               (np.array([[1.0], [-2.0], [0.5]]), np.array([0.25]), SIGMOID)]
        return [
            Case("one example through 2 -> 3 -> 1 (relu, sigmoid)",
                 (np.array([1.0, 2.0]), two)),
            Case("a batch of 3 examples through 2 -> 3 -> 1 (relu, sigmoid)",
                 (np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]]), two)),
            Case("a single layer 2 -> 3 (relu)", (np.array([[0.5, -1.5]]), two[:1])),
            Case("square layers 3 -> 3 -> 3 -> 3 (relu, linear, sigmoid): order matters",
                 (rng.normal(size=(4, 3)), self.stack(rng, square, square_acts)),
                 show_input=False),
            Case("different activations per layer 3 -> 4 -> 4 -> 2 (sigmoid, relu, linear)",
                 (rng.normal(size=(5, 3)), self.stack(rng, [3, 4, 4, 2],
                                                      [SIGMOID, RELU, LINEAR])),
                 show_input=False),
            Case(f"a random network {describe_stack(sizes, acts)}, a batch of {m} examples",
                 (rng.normal(size=(m, sizes[0])), self.stack(rng, sizes, acts)),
                 kind="random", show_input=False),
            Case(f"a random network {describe_stack(sizes, acts)}, one example",
                 (rng.normal(size=sizes[0]), self.stack(rng, sizes, acts)),
                 kind="random", show_input=False),
            Case("a deep network: 6 layers of 4 units (relu ... relu, sigmoid)",
                 (rng.normal(size=(3, 4)), self.stack(rng, [4] * 7, [RELU] * 5 + [SIGMOID])),
                 kind="edge", show_input=False),
        ]


class CollapseLinear(Check):
    """The pair is compared with the reference's. An affine map x -> x @ W + b determines W and b
    (b is its value at x = 0, the rows of W its changes along each axis), so "x @ W + b equals
    the stack for every x" and "(W, b) equals the reference's" are the same demand; comparing W
    and b lets the feedback say which of the two is wrong."""

    reference = solutions.activations.collapse_linear

    def stack(self, rng: np.random.Generator, sizes: Sequence[int],
              ) -> list[tuple[np.ndarray, np.ndarray]]:
        return [random_layer(rng, n_in, units) for n_in, units in zip(sizes[:-1], sizes[1:])]

    def cases(self, rng: np.random.Generator) -> list[Case]:
        depth = int(rng.integers(2, 6))
        sizes = [int(s) for s in rng.integers(1, 7, size=depth + 1)]
        return [
            Case("two 1x1 layers [(2, 3), (-4, 5)]: W = 2 * -4 = -8, b = 3 * -4 + 5 = -7",
                 ([(np.array([[2.0]]), np.array([3.0])), (np.array([[-4.0]]), np.array([5.0]))],)),
            Case("one layer (its own W and b)",
                 ([(np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.25, -1.0]))],)),
            Case("two layers 3 -> 2 -> 4", (self.stack(rng, [3, 2, 4]),), show_input=False),
            Case("three layers 2 -> 4 -> 3 -> 1", (self.stack(rng, [2, 4, 3, 1]),),
                 show_input=False),
            Case("square layers 3 -> 3 -> 3 -> 3 (the order of the products matters)",
                 (self.stack(rng, [3, 3, 3, 3]),), show_input=False),
            Case("two layers 1 -> 2 -> 1", ([(np.array([[1.0, 2.0]]), np.array([0.5, -0.5])),
                                            (np.array([[1.0], [-1.0]]), np.array([2.0]))],)),
            Case(f"a random stack {describe_stack(sizes)}", (self.stack(rng, sizes),),
                 kind="random", show_input=False),
            Case("a deep stack: 8 layers of 3 units", (self.stack(rng, [3] * 9),),
                 kind="edge", show_input=False),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        W, b = expect_tuple(actual, ("W", "b"))
        expect_array(W, expected[0], rtol=self.rtol, atol=self.atol, name="W")
        try:
            expect_array(b, expected[1], rtol=self.rtol, atol=self.atol, name="b")
        except Mismatch as exc:
            raise Mismatch(f"{exc}\n(W is right; b must make x @ W + b equal the stack's output, "
                           f"e.g. at x = 0)") from None


def probe_points(breakpoints: np.ndarray) -> np.ndarray:
    """Where a network is compared with f: on and between the breakpoints, just beside each of
    them, and far out on both tails (a wrong slope there shows up at once)."""
    span = max(breakpoints[-1] - breakpoints[0], 1.0)
    near = min(np.min(np.diff(breakpoints), initial=span), span) / 4
    far = span * np.array([0.5, 1.0, 3.0, 10.0, 100.0])
    return np.unique(np.concatenate([
        breakpoints, breakpoints - near, breakpoints + near,
        (breakpoints[:-1] + breakpoints[1:]) / 2,
        breakpoints[0] - far, breakpoints[-1] + far,
        np.linspace(breakpoints[0] - 2 * span, breakpoints[-1] + 2 * span, 41)]))


def network_layers(actual: object) -> tuple[np.ndarray, ...]:
    """The (W1, b1, W2, b2) of a returned [(W1, b1), (W2, b2)], or Mismatch saying what is off."""
    if not isinstance(actual, (list, tuple)) or len(actual) != 2 or not all(
            isinstance(layer, (list, tuple)) and len(layer) == 2 for layer in actual):
        raise Mismatch(f"expected a list of two layers [(W1, b1), (W2, b2)], got "
                       f"{type(actual).__name__}: {fmt(actual)}")
    (W1, b1), (W2, b2) = actual
    for name, value in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise Mismatch(f"{name} should be a NumPy array of numbers, got "
                           f"{type(value).__name__}: {fmt(value)}")
    if W1.ndim != 2 or W1.shape[0] != 1 or not 1 <= W1.shape[1] <= 10_000:
        raise Mismatch(f"W1 should have shape (1, units): one input x, at least one hidden unit; "
                       f"got shape {W1.shape}")
    units = W1.shape[1]
    for name, value, shape in [("b1", b1, (units,)), ("W2", W2, (units, 1)), ("b2", b2, (1,))]:
        if value.shape != shape:
            raise Mismatch(f"with {units} hidden units (W1 of shape {W1.shape}), {name} should "
                           f"have shape {shape}, got {value.shape}")
    return tuple(np.asarray(p, dtype=float) for p in (W1, b1, W2, b2))


class PiecewiseLinearLayers(Check):
    """Judged by what the returned network computes, never by its weights: more than one
    construction is right (units facing left or right, scaled units, the left slope made of
    relu(x) - relu(-x), spare units with weight 0). The network x -> relu(x W1 + b1) W2 + b2 is
    evaluated here at the probe points and compared with f itself."""

    reference = solutions.activations.piecewise_linear_layers

    def cases(self, rng: np.random.Generator) -> list[Case]:
        def spec(breakpoints: Sequence[float] | np.ndarray, slopes: Sequence[float] | np.ndarray,
                 first_value: float) -> tuple[np.ndarray, np.ndarray, float]:
            return (np.array(breakpoints, dtype=float), np.array(slopes, dtype=float),
                    float(first_value))

        k = int(rng.integers(2, 7))
        gaps = rng.uniform(0.2, 2.0, size=k)
        random_breakpoints = np.round(rng.uniform(-5, -2) + np.cumsum(gaps) - gaps[0], 3)
        many = np.round(np.sort(rng.uniform(-3, 3, size=20)), 2)
        many = np.unique(many)
        return [
            Case("ReLU itself: a breakpoint at 0, slopes [0, 1], f(0) = 0", spec([0], [0, 1], 0)),
            Case("|x|: a breakpoint at 0, slopes [-1, 1], f(0) = 0 (a slope on the left tail)",
                 spec([0], [-1, 1], 0)),
            Case("a tent: breakpoints [-1, 0, 1], slopes [0, 1, -1, 0], f(-1) = 0",
                 spec([-1, 0, 1], [0, 1, -1, 0], 0)),
            Case("breakpoints [-2, 1], slopes [0.5, -1, 2], f(-2) = 3",
                 spec([-2, 1], [0.5, -1, 2], 3)),
            Case("a ramp clipped to [0, 1]: breakpoints [0, 1], slopes [0, 1, 0], f(0) = 0",
                 spec([0, 1], [0, 1, 0], 0)),
            Case(f"random: {k} breakpoints, random slopes and f(x_1)",
                 spec(random_breakpoints, rng.normal(0, 2, size=k + 1).round(3),
                      round(float(rng.normal(0, 3)), 3)), kind="random"),
            Case("a straight line: a breakpoint at 1 where nothing bends, slopes [-2, -2], "
                 "f(1) = 0.5", spec([1], [-2, -2], 0.5), kind="edge"),
            Case("a constant: a breakpoint at 0, slopes [0, 0], f(0) = 4",
                 spec([0], [0, 0], 4), kind="edge"),
            Case("breakpoints far from 0: [100, 100.5, 103], slopes [1, -3, 0, 2], f(100) = -50",
                 spec([100, 100.5, 103], [1, -3, 0, 2], -50), kind="edge"),
            Case(f"{many.size} breakpoints between -3 and 3, random slopes",
                 spec(many, rng.normal(0, 1, size=many.size + 1).round(2), 1.0), kind="edge",
                 show_input=False),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        W1, b1, W2, b2 = network_layers(actual)
        breakpoints, slopes, first_value = case.args
        x = probe_points(breakpoints)
        f = solutions.activations.piecewise_linear(x, breakpoints, slopes, first_value)
        with np.errstate(all="ignore"):     # huge weights may overflow: then the values differ
            output = (np.maximum(0.0, x[:, None] @ W1 + b1) @ W2 + b2)[:, 0]
        # Different constructions round differently: about 1e-16 of the largest term, where the
        # terms grow like |slope| * |x|. Every wrong network is off by O(|slope|) or more.
        tolerance = 1e-9 * (1.0 + np.max(np.abs(slopes)) * np.max(np.abs(x)) + abs(first_value))
        wrong = ~(np.abs(output - f) <= tolerance)
        if wrong.any():
            shown = np.flatnonzero(wrong)[:4]
            table = "\n".join(f"  x = {fmt(x[i])}: f(x) = {fmt(f[i])}, the network gives "
                              f"{fmt(output[i])}" for i in shown)
            raise Mismatch(f"the network relu(x W1 + b1) W2 + b2 differs from f at "
                           f"{int(wrong.sum())} of {x.size} points, for example\n{table}")


# The names an answer to output_layer_for may use, as Keras spells them.
ACTIVATION_RANGES = {"linear": "any real number", "sigmoid": "numbers between 0 and 1",
                     "relu": "numbers >= 0",
                     "softmax": "numbers between 0 and 1 that add up to 1 across the units"}
CROSS_ENTROPIES = {"BinaryCrossentropy": "sigmoid", "SparseCategoricalCrossentropy": "softmax",
                   "CategoricalCrossentropy": "softmax"}
DISTANCES = ("MeanSquaredError", "MeanAbsoluteError")
LOSS_ALIASES = {"binary_crossentropy": "BinaryCrossentropy",
                "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                "categorical_crossentropy": "CategoricalCrossentropy",
                "mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError",
                "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError"}


def read_loss(loss: object) -> tuple[str, bool] | None:
    """(name, from_logits) of a loss written as Keras names it: 'BinaryCrossentropy',
    'BinaryCrossentropy()', 'keras.losses.BinaryCrossentropy(from_logits=True)', 'mse'...;
    None when it is not one of these."""
    if not isinstance(loss, str):
        return None
    text = re.sub(r"\s+", "", loss)
    text = re.sub(r"^(tf\.)?keras\.losses\.", "", text)
    if text in LOSS_ALIASES:
        return LOSS_ALIASES[text], False
    match = re.fullmatch(r"(\w+)(?:\((from_logits=(True|False))?\))?", text)
    if not match or match.group(1) not in (*CROSS_ENTROPIES, *DISTANCES):
        return None
    if match.group(2) and match.group(1) in DISTANCES:
        return None
    return match.group(1), match.group(3) == "True"


def why_not(target: str, activation: str, loss: str, from_logits: bool) -> str:
    """Why (activation, loss) does not fit the target, in a sentence that teaches the rule
    without naming the answer."""
    applies = CROSS_ENTROPIES.get(loss)
    if target in ("any real number", "a non-negative quantity"):
        if applies:
            return (f"y is a number to predict, not a label: {loss} compares predicted "
                    f"probabilities with labels")
        return (f"a {activation} output produces {ACTIVATION_RANGES[activation]}, but y is "
                f"{target}: the output's range should be exactly the values y can take")
    if loss in DISTANCES:
        return (f"the target is a label, predicted as a probability; {loss} measures the "
                f"distance between numbers, not how much probability the true label got")
    if from_logits and activation != "linear":
        return (f"with from_logits=True the loss applies the {applies} itself; a {activation} "
                f"output layer before it would squash the outputs twice")
    if not from_logits and activation == "linear":
        return ("without from_logits=True the loss reads probabilities, but a linear output can "
                "be any number")
    if activation == "relu":
        return "a ReLU output can exceed 1, so it is not a probability"
    if target == "one of k classes":
        if loss == "CategoricalCrossentropy":
            return ("CategoricalCrossentropy expects each label as a one-hot row; here y is the "
                    "class id")
        return ("the k classes exclude each other, so their k probabilities must add up to 1; "
                f"a {activation} output with {loss} treats each class as a separate yes/no "
                "question")
    if target == "binary label":
        return ("a binary label has one output unit: the softmax of a single unit is always 1, "
                "and the categorical cross-entropies need one unit per class")
    return ("the labels are independent, several can be 1 at once, but softmax (and the "
            "categorical cross-entropies) make the units share one unit of probability")


class OutputLayerFor(Check):
    """Every fitting answer is accepted (solutions.activations.OUTPUT_LAYERS lists them), written
    the ways Keras accepts; a wrong one is told why, not what the answer is. There are no edge
    inputs: the exercise has five targets, each asked, and one asked again in random order."""

    reference = solutions.activations.output_layer_for

    def cases(self, rng: np.random.Generator) -> list[Case]:
        targets = list(solutions.activations.OUTPUT_LAYERS)
        again = targets[int(rng.integers(len(targets)))]
        return [Case(f"target {target!r}", (target,)) for target in targets] + [
            Case(f"target {again!r}, asked again", (again,), kind="random")]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        activation, loss = expect_tuple(actual, ("activation", "loss"), "of strings")
        activation = "linear" if activation is None else activation   # Keras reads None so
        if not isinstance(activation, str) or activation.strip().lower() not in ACTIVATION_RANGES:
            raise Mismatch(f"the activation {fmt(activation)} is not one of "
                           f"{', '.join(map(repr, ACTIVATION_RANGES))}")
        activation = activation.strip().lower()
        read = read_loss(loss)
        if read is None:
            raise Mismatch(f"the loss {fmt(loss)} is not one of the Keras losses the task names")
        target = case.args[0]
        fitting = {(a, read_loss(lo)) for a, lo in solutions.activations.OUTPUT_LAYERS[target]}
        if (activation, read) not in fitting:
            raise Mismatch(f"({activation!r}, {loss!r}) does not fit {target!r}: "
                           f"{why_not(target, activation, *read)}")


class ActivationDerivative(Check):
    """Compared with the reference entry by entry: every correct formula (sigma (1 - sigma),
    e^{-z} / (1 + e^{-z})^2, 1 - tanh^2, 4 sigma'(2z)) agrees to rounding. Far from 0 the slopes
    are below 1e-17, so the absolute tolerance accepts both 0 and the tiny exact value; a formula
    that overflows there (e^{1000}, cosh(1000)) is rejected by its warning, as the task says. A
    name the task does not list must raise ValueError: that call is judged by the name of the
    exception it raised."""

    reference = solutions.activations.activation_derivative

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        ordinary = np.array([-2.0, -0.5, 0.25, 1.0, 3.0])
        return [
            Case("sigmoid' at z = [-2, -0.5, 0.25, 1, 3]", ("sigmoid", ordinary)),
            Case("tanh' at z = [-2, -0.5, 0.25, 1, 3]", ("tanh", ordinary)),
            Case("relu' at z = [-2, -0.5, 0.25, 1, 3]", ("relu", ordinary)),
            Case("linear' of a 2x3 array: an array of ones, same shape",
                 ("linear", np.array([[1.0, -1.0, 0.0], [-3.0, 2.5, -0.1]]))),
            Case("sigmoid' of a Python list of ints [[1, -1], [-2, 2]]",
                 ("sigmoid", [[1, -1], [-2, 2]])),
            Case("tanh' of a number z = 0.5", ("tanh", 0.5)),
            Case("relu' of a negative number z = -3.0", ("relu", -3.0)),
            *(Case(f"{name}' of a random {m}x{n} array", (name, rng.normal(0, 3, size=(m, n))),
                   kind="random") for name in solutions.activations.DERIVATIVE_NAMES),
            Case("relu' at z = 0 exactly: 0, as TensorFlow's gradient gives",
                 ("relu", np.array([-1.0, 0.0, 1e-300, 2.0])), kind="edge"),
            Case("sigmoid' far from 0, z = [-1000, -40, 40, 1000]: about 0, without overflow",
                 ("sigmoid", np.array([-1000.0, -40.0, 40.0, 1000.0])), kind="edge"),
            Case("tanh' far from 0, z = [-1000, -20, 20, 1000]: about 0, without overflow",
                 ("tanh", np.array([-1000.0, -20.0, 20.0, 1000.0])), kind="edge"),
            Case("linear' of a 2x2x3 array", ("linear", np.linspace(-3, 3, 12).reshape(2, 2, 3)),
                 kind="edge"),
            Case("linear' of a number z = 2.5", ("linear", 2.5), kind="edge"),
            Case('a name the task does not list, "swish": raises ValueError',
                 ("swish", np.array([-1.0, 0.0, 1.0])), kind="edge", raises="ValueError"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        expect_value(actual, expected, rtol=self.rtol, atol=self.atol, name=f"{case.args[0]}'")


CHECKS = [Relu(), Dense(), Sequential(), CollapseLinear(), PiecewiseLinearLayers(),
          OutputLayerFor(), ActivationDerivative()]
