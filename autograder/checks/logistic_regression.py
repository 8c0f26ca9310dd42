"""Checks for the `logistic_regression` chapter: sigmoid, cost, gradient, full-batch and
mini-batch descent, a Keras model."""

from collections.abc import Sequence
from typing import Any

import numpy as np

import solutions.logistic_regression
from autograder.checks.base import (
    Case,
    Check,
    Mismatch,
    expect_array,
    expect_scalar,
    expect_tuple,
    fmt,
)
from autograder.checks.keras_models import KerasModelCheck
from autograder.data import load_digits_split

# The cost, its gradient and the descent are judged with logits |z| <= ~10, where the lecture's
# textbook formula (log of a sigmoid clipped at 1e-12, or Keras' 1e-7) and a softplus formula
# agree to ~1e-12: Check's default tolerances (rtol 1e-7, atol 1e-10) leave room for any order of
# summation, and every bug worth catching (sum for mean, a missing 1/m, a wrong sign) is off by a
# factor, not a rounding.

# The toy data set of DeepLearning.AI's logistic-regression lab (X_toy in the notebook): two
# features, six examples; with w = [1, 1], b = -3 its cost is 0.36686678640551745.
TOY_X = np.array([[0.5, 1.5], [1.0, 1.0], [1.5, 0.5], [3.0, 0.5], [2.0, 2.0], [1.0, 2.5]])
TOY_Y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def random_problem(rng: np.random.Generator, m: int, n: int,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(X, y, w, b) with X in [-1, 1], |w_j| <= 1.5, |b| <= 1: |z| = |X @ w + b| <= 1.5 n + 1."""
    X = rng.uniform(-1, 1, size=(m, n))
    y = rng.integers(0, 2, size=m).astype(float)
    w = rng.uniform(-1.5, 1.5, size=n)
    b = float(rng.uniform(-1, 1))
    return X, y, w, b


def problem_cases(rng: np.random.Generator) -> list[Case]:
    """The (X, y, w, b) inputs compute_cost and compute_gradient share."""
    m, n = int(rng.integers(8, 30)), int(rng.integers(2, 6))
    X_sq, y_sq, w_sq, b_sq = random_problem(rng, 4, 4)
    return [
        Case("the toy data set X_toy (6 examples, 2 features), w = [1, 1], b = -3",
             (TOY_X, TOY_Y, np.array([1.0, 1.0]), -3.0)),
        Case("w = 0 and b = 0 (every prediction is 0.5)",
             (TOY_X, TOY_Y, np.zeros(2), 0.0)),
        Case("one example with one feature", (np.array([[2.0]]), np.array([1.0]),
                                             np.array([-0.5]), 0.25)),
        Case("3 features, 2 examples, b an int",
             (np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 2.0]]), np.array([1.0, 0.0]),
              np.array([0.5, -0.25, 1.0]), 1)),
        Case("integer labels y", (TOY_X, np.array([0, 0, 0, 1, 1, 1]),
                                  np.array([0.5, -1.0]), 0.5)),
        Case("a confident wrong prediction: z = 10 with label 0, z = -10 with label 1",
             (np.array([[1.0], [-1.0]]), np.array([0.0, 1.0]), np.array([10.0]), 0.0),
             kind="edge"),
        Case("a square X (4 examples, 4 features)", (X_sq, y_sq, w_sq, b_sq), kind="random"),
        Case(f"a random problem, {m} examples x {n} features", random_problem(rng, m, n),
             kind="random"),
        Case("a random problem with 200 examples", random_problem(rng, 200, 3), kind="random"),
    ]


def expect_descent(expected: Any, actual: Any, steps: int, step: str, rtol: float,
                   atol: float) -> None:
    """Compare a descent's (w, b, J_history), J_history holding one cost after each `step`."""
    w, b, J_history = expect_tuple(actual, ("w", "b", "J_history"))
    if not isinstance(J_history, (list, tuple, np.ndarray)):
        raise Mismatch(f"J_history should be a list (or array) of costs, got "
                       f"{type(J_history).__name__}: {fmt(J_history)}")
    try:
        history = np.asarray(J_history, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"J_history should hold one number per {step}, got "
                       f"{fmt(J_history)}") from None
    # An empty list becomes shape (0,), like the reference's empty history.
    if history.ndim != 1 or len(history) != steps:
        raise Mismatch(f"J_history should hold {steps} costs (one after each {step}), got "
                       f"{history.size} in shape {history.shape}\n"
                       f"expected: {fmt(np.asarray(expected[2]))}\nactual:   {fmt(history)}")
    expect_array(w, expected[0], rtol=rtol, atol=atol, name="w")
    expect_scalar(b, expected[1], rtol=rtol, atol=atol, name="b")
    expect_array(history, expected[2], rtol=rtol, atol=atol,
                 name=f"J_history (the cost on all of X after each {step})")


class Sigmoid(Check):
    reference = solutions.logistic_regression.sigmoid
    atol = 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(3, 7)), int(rng.integers(2, 6))
        return [
            Case("z = 0 (a scalar)", (0.0,)),
            Case("a 1-D array [-2, -1, 0, 1, 2]", (np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),)),
            Case("a Python list [0.5, -3, 4]", ([0.5, -3, 4],)),
            Case("a scalar z = -1.5", (-1.5,)),
            Case("a 2x3 array (element-wise, same shape)",
                 (np.array([[0.0, 1.0, -1.0], [3.0, -3.0, 0.5]]),)),
            Case("a 2x2x2 array", (np.linspace(-4, 4, 8).reshape(2, 2, 2),)),
            Case(f"a random {m}x{n} array", (rng.normal(0, 5, size=(m, n)),), kind="random"),
            Case("z = -1e4 (e^{-z} overflows in the literal formula)", (-1e4,), kind="edge"),
            Case("z = [-1e4, 1e4]", (np.array([-1e4, 1e4]),), kind="edge"),
            Case("z near the overflow limit of exp: [-750, -710, -40, 40, 710, 750]",
                 (np.array([-750.0, -710.0, -40.0, 40.0, 710.0, 750.0]),), kind="edge"),
            Case("random z of magnitude up to 1e4",
                 (rng.uniform(-1e4, 1e4, size=(m, n)),), kind="edge"),
        ]


class ComputeCost(Check):
    reference = solutions.logistic_regression.compute_cost
    result_name = "the cost"

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return problem_cases(rng)


class ComputeGradient(Check):
    reference = solutions.logistic_regression.compute_gradient

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return problem_cases(rng)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        actual = expect_tuple(actual, ("dj_dw", "dj_db"))
        expect_array(actual[0], expected[0], rtol=self.rtol, atol=self.atol, name="dj_dw")
        expect_scalar(actual[1], expected[1], rtol=self.rtol, atol=self.atol, name="dj_db")


class GradientDescent(Check):
    reference = solutions.logistic_regression.gradient_descent

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(8, 25)), int(rng.integers(2, 5))
        X, y, w, b = random_problem(rng, m, n)
        alpha = float(rng.uniform(0.1, 1.0))
        iters = int(rng.integers(5, 30))
        return [
            Case("the toy data set X_toy from w = 0, b = 0, alpha = 0.1, 10 iterations",
                 (TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1, 10)),
            Case("one iteration from w = [1, -1], b = 0.5, alpha = 0.5",
                 (TOY_X, TOY_Y, np.array([1.0, -1.0]), 0.5, 0.5, 1)),
            Case("the toy data set X_toy from w = [0.5, 0.5], b = -1, alpha = 1, 20 iterations",
                 (TOY_X, TOY_Y, np.array([0.5, 0.5]), -1.0, 1.0, 20)),
            Case(f"a random problem ({m} examples x {n} features), alpha = {alpha:.3f}, "
                 f"{iters} iterations", (X, y, w, b, alpha, iters), kind="random"),
            Case("one example, one feature, 5 iterations",
                 (np.array([[2.0]]), np.array([1.0]), np.array([-0.5]), 0.25, 0.3, 5),
                 kind="edge"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        expect_descent(expected, actual, case.args[5], "iteration", self.rtol, self.atol)


class MinibatchGradientDescent(Check):
    reference = solutions.logistic_regression.minibatch_gradient_descent

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(9, 25)), int(rng.integers(2, 5))
        X, y, w, b = random_problem(rng, m, n)
        alpha = float(rng.uniform(0.1, 0.5))
        epochs = int(rng.integers(2, 6))
        # A batch size that leaves a smaller last batch, whatever m was drawn.
        batch_size = 4 if m % 4 else 5
        return [
            Case("the toy data set X_toy (6 examples), batches of 2, alpha = 0.5, 3 epochs",
                 (TOY_X, TOY_Y, np.zeros(2), 0.0, 0.5, 3, 2)),
            Case("X_toy in batches of 4: a full batch of 4, then a last batch of 2; 2 epochs",
                 (TOY_X, TOY_Y, np.array([0.5, -0.5]), 0.25, 0.5, 2, 4)),
            Case("batch_size = 1 (one step per example, in order), X_toy, 2 epochs",
                 (TOY_X, TOY_Y, np.array([1.0, -1.0]), 0.5, 0.3, 2, 1)),
            Case("batch_size = m = 6 (one full-batch step per epoch, as gradient_descent), "
                 "4 epochs", (TOY_X, TOY_Y, np.array([0.5, 0.5]), -1.0, 1.0, 4, 6)),
            Case("3 features, 5 examples in batches of 2 (2 + 2 + 1), b an int",
                 (np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 2.0], [0.5, 0.5, 0.5],
                            [2.0, -1.0, 0.0], [0.0, 1.0, -1.0]]),
                  np.array([1.0, 0.0, 1.0, 0.0, 1.0]), np.array([0.5, -0.25, 1.0]), 1,
                  0.2, 3, 2)),
            Case(f"a random problem ({m} examples x {n} features), batches of {batch_size}, "
                 f"alpha = {alpha:.3f}, {epochs} epochs",
                 (X, y, w, b, alpha, epochs, batch_size), kind="random"),
            Case("batch_size = 10 > m = 6 (one batch of all 6 examples per epoch)",
                 (TOY_X, TOY_Y, np.zeros(2), 0.0, 0.5, 3, 10), kind="edge"),
            Case("epochs = 0 (no step: w_in and b_in come back, J_history is empty)",
                 (TOY_X, TOY_Y, np.array([1.0, -1.0]), 0.5, 0.5, 0, 2), kind="edge"),
            Case("one example, one feature, batch_size 1, 5 epochs",
                 (np.array([[2.0]]), np.array([1.0]), np.array([-0.5]), 0.25, 0.3, 5, 1),
                 kind="edge"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        expect_descent(expected, actual, case.args[5], "epoch", self.rtol, self.atol)


class BinaryClassifier(KerasModelCheck):
    reference = solutions.logistic_regression.build_binary_classifier
    n_inputs, n_outputs = 64, 1
    # The class, and the name `loss="binary_crossentropy"` resolves to.
    expected_losses = ("BinaryCrossentropy", "binary_crossentropy")
    # Plain logistic regression with Keras' default Adam or SGD reaches 97% within 30 epochs for
    # every seed tried (0-5); within 10 epochs it depends on the initial weights (54% to 100%).
    epochs, min_accuracy = 30, 0.97

    def build_args(self) -> tuple:
        return (64,)

    def data(self) -> Sequence[np.ndarray]:
        return load_digits_split(classes=(0, 1))

    def predict_labels(self, outputs: np.ndarray, from_logits: bool, activation: str,
                       ) -> np.ndarray:
        outputs = np.reshape(outputs, (len(outputs), -1))[:, 0]
        # sigmoid(z) >= 0.5 exactly when z >= 0.
        return (outputs >= (0.0 if from_logits else 0.5)).astype(int)


CHECKS = [Sigmoid(), ComputeCost(), ComputeGradient(), GradientDescent(),
          MinibatchGradientDescent(), BinaryClassifier()]
