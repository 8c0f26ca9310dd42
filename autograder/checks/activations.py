"""Checks for the `activations` chapter: ReLU, a dense layer, a forward pass, collapsed layers."""

import numpy as np

import solutions.activations
from autograder.child import NamedCallable
from autograder.framework import Case, Check, Mismatch, expect_array, fmt

# Matrix products summed in another order (loops over units, np.dot, np.einsum) differ from
# the reference by rounding only, ~1e-15 on the O(1) values used here, far inside Check's default
# tolerances; every bug worth catching (a missing bias, a transposed W, a skipped activation)
# changes them by O(1).

RELU, SIGMOID, LINEAR = NamedCallable("relu"), NamedCallable("sigmoid"), NamedCallable("linear")
ACTIVATIONS = [RELU, SIGMOID, LINEAR]


def random_layer(rng, n_in, units):
    """(W, b), W (n_in, units) scaled by 1/sqrt(n_in): activations stay O(1) layer after layer."""
    return rng.normal(size=(n_in, units)) / np.sqrt(n_in), rng.normal(size=units)


def describe_stack(sizes, activations=None):
    """'4 -> 5 -> 2 (relu, sigmoid)': the layer sizes, and the activations if any."""
    text = " -> ".join(str(s) for s in sizes)
    return text + (f" ({', '.join(g.name for g in activations)})" if activations else "")


class Relu(Check):
    reference = solutions.activations.relu
    rtol, atol = 1e-12, 0.0     # ReLU involves no rounding: any correct formula gives these numbers

    def cases(self, rng):
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

    def cases(self, rng):
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
            Case("a_in, W and b as Python lists, linear",
                 ([2.0, -1.0], [[1.0, 2.0], [3.0, 4.0]], [0.5, -0.5], LINEAR)),
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

    def stack(self, rng, sizes, activations):
        return [random_layer(rng, n_in, units) + (g,)
                for n_in, units, g in zip(sizes[:-1], sizes[1:], activations)]

    def cases(self, rng):
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
            Case("x as a Python list", ([0.5, -0.5], two)),
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

    def stack(self, rng, sizes):
        return [random_layer(rng, n_in, units) for n_in, units in zip(sizes[:-1], sizes[1:])]

    def cases(self, rng):
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
            Case("layers given as Python lists",
                 ([([[1.0, 2.0]], [0.5, -0.5]), ([[1.0], [-1.0]], [2.0])],)),
            Case(f"a random stack {describe_stack(sizes)}", (self.stack(rng, sizes),),
                 kind="random", show_input=False),
            Case("a deep stack: 8 layers of 3 units", (self.stack(rng, [3] * 9),),
                 kind="edge", show_input=False),
        ]

    def compare(self, case, expected, actual):
        if not isinstance(actual, (tuple, list)) or len(actual) != 2:
            raise Mismatch(f"expected a pair (W, b), got {type(actual).__name__}: {fmt(actual)}")
        W, b = actual
        expect_array(W, expected[0], rtol=self.rtol, atol=self.atol, name="W")
        try:
            expect_array(b, expected[1], rtol=self.rtol, atol=self.atol, name="b")
        except Mismatch as exc:
            raise Mismatch(f"{exc}\n(W is right; b must make x @ W + b equal the stack's output, "
                           f"e.g. at x = 0)") from None


CHECKS = [Relu(), Dense(), Sequential(), CollapseLinear()]
