"""Checks for the `softmax` chapter: softmax, its cross-entropy, the cross-entropy's gradient with
respect to the logits, the gradient of softmax regression, and a digit classifier."""

from collections.abc import Sequence
from typing import Any

import numpy as np

import solutions.softmax
from autograder.checks.base import Case, Check, expect_array, expect_tuple
from autograder.checks.keras_models import KerasModelCheck
from autograder.data import load_digits_split


class Softmax(Check):
    reference = solutions.softmax.softmax
    rtol, atol = 1e-6, 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = rng.integers(3, 7), rng.integers(4, 9)
        return [
            Case("a 1-D vector z = [1, 2, 3]", (np.array([1.0, 2.0, 3.0]),)),
            Case("a 1-D vector of 4 logits", (np.array([0.5, -1.0, 2.0, 0.0]),)),
            Case("a single logit", (np.array([4.2]),)),
            Case("a batch of 2 rows x 3 classes (softmax along each row)",
                 (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, -2.0]]),)),
            Case("a 3x2 batch (rows, not columns, must sum to 1)",
                 (np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]),)),
            Case("a random 1-D vector", (rng.normal(0, 3, size=k),), kind="random"),
            Case(f"a random {m}x{k} batch", (rng.normal(0, 3, size=(m, k)),), kind="random"),
            Case("large logits [1000, 1001, 1002] (naive exp overflows)",
                 (np.array([1000.0, 1001.0, 1002.0]),), kind="edge"),
            Case("very negative logits [-1000, -1001, -1002] (naive exp underflows to 0/0)",
                 (np.array([-1000.0, -1001.0, -1002.0]),), kind="edge"),
            Case("a batch whose rows live at very different scales (subtract each row's max)",
                 (np.array([[1e4, 0.0, -1e4], [0.0, 1.0, 2.0]]),), kind="edge"),
            Case("random logits of magnitude up to 1e4",
                 (rng.uniform(-1e4, 1e4, size=(m, k)),), kind="edge"),
            Case("all logits equal", (np.full((2, 5), 7.0),), kind="edge"),
        ]


class SparseCategoricalCrossentropy(Check):
    reference = solutions.softmax.sparse_categorical_crossentropy
    rtol, atol = 1e-7, 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 12)), int(rng.integers(3, 8))
        logits = rng.normal(0, 2, size=(m, k))
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return [
            Case("2 examples, 3 classes", (np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]),
                                          np.array([0, 2]))),
            Case("one example", (np.array([[0.25, 0.75]]), np.array([1]))),
            Case("3 examples, 2 classes", (np.array([[0.5, 0.5], [0.9, 0.1], [0.3, 0.7]]),
                                          np.array([1, 0, 0]))),
            Case("a non-square batch: 4 examples, 2 classes (the cost is a mean, not a sum)",
                 (np.array([[0.6, 0.4], [0.3, 0.7], [0.99, 0.01], [0.5, 0.5]]),
                  np.array([0, 1, 1, 0]))),
            Case(f"random probabilities, {m} examples x {k} classes",
                 (probs, rng.integers(0, k, size=m)), kind="random"),
            Case("the true class has probability 1 (loss 0)",
                 (np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([0, 1])), kind="edge"),
            Case("a true-class probability of 1e-12 (loss -log(1e-12) = 27.63, no clipping)",
                 (np.array([[1e-12, 1.0 - 1e-12], [0.5, 0.5]]), np.array([0, 1])), kind="edge"),
        ]


class SoftmaxCrossEntropyGradient(Check):
    """dJ/dz compared with the reference's. Its entries are (a - e_y) / m, O(1/m); every bug worth
    catching (a missing 1/m, a - y with y as ids, the sign, a softmax over the examples, a
    transposed one-hot) is off by far more than the tolerance."""

    reference = solutions.softmax.softmax_cross_entropy_gradient
    rtol, atol = 1e-7, 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 12)), int(rng.integers(3, 8))
        return [
            Case("2 examples, 3 classes",
                 (np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([0, 1]))),
            Case("3 examples, 3 classes (a square z: the one-hot rows must not be transposed)",
                 (np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0], [-1.0, 3.0, 0.0]]),
                  np.array([2, 0, 1]))),
            Case("4 examples, 2 classes, all logits 0 (every row of a is [0.5, 0.5])",
                 (np.zeros((4, 2)), np.array([0, 1, 1, 0]))),
            Case(f"random logits, {m} examples x {k} classes",
                 (rng.normal(0, 3, size=(m, k)), rng.integers(0, k, size=m)), kind="random"),
            Case("logits of magnitude ~1000 (an unshifted softmax overflows)",
                 (np.array([[1000.0, 0.0, -1000.0], [1000.0, 1001.0, 1002.0]]),
                  np.array([1, 2])), kind="edge"),
            Case("one example", (np.array([[0.5, -1.0, 2.0, 0.0]]), np.array([3])), kind="edge"),
            Case("every example of class 0 (the other classes never appear)",
                 (rng.normal(0, 2, size=(5, 4)), np.zeros(5, dtype=int)), kind="edge"),
            Case("300 examples (J is a mean: each row carries a factor 1/m)",
                 (rng.normal(0, 2, size=(300, 4)), rng.integers(0, 4, size=300)), kind="edge",
                 show_input=False),
        ]


class SoftmaxGradient(Check):
    """(dj_dW, dj_db) compared with the reference's. Any correct order of summation (a loop over
    examples, one matrix product, einsum) agrees to ~1e-15 on these O(1) values; every bug worth
    catching (a missing 1/m, X W for X^T, a - y for a - e_y, a softmax over the wrong axis) is
    off by O(1)."""

    reference = solutions.softmax.softmax_gradient

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n, k = int(rng.integers(5, 30)), int(rng.integers(2, 6)), int(rng.integers(3, 8))
        X_sq, W_sq = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
        X_big = rng.uniform(-1, 1, size=(6, 4))
        return [
            Case("2 examples, 2 features, 3 classes",
                 (np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([2, 0]),
                  np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]]), np.array([0.1, 0.0, -0.1]))),
            Case("W = 0 and b = 0 (every class gets probability 1/k)",
                 (np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]),
                  np.array([0, 1, 2, 1]), np.zeros((2, 3)), np.zeros(3))),
            Case("one example", (np.array([[0.5, -1.0, 2.0]]), np.array([1]),
                                 np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]]),
                                 np.array([0.0, 0.2]))),
            Case("a square X and W (3 examples, 3 features, 3 classes): X^T, not X",
                 (X_sq, np.array([0, 2, 1]), W_sq, rng.normal(size=3)), kind="random"),
            Case(f"random: {m} examples, {n} features, {k} classes",
                 (rng.normal(size=(m, n)), rng.integers(0, k, size=m), rng.normal(size=(n, k)),
                  rng.normal(size=k)), kind="random"),
            Case("every example of class 0 (the other classes never appear)",
                 (rng.normal(size=(5, 2)), np.zeros(5, dtype=int), rng.normal(size=(2, 4)),
                  np.zeros(4)), kind="edge"),
            Case("logits of magnitude ~1000 (a softmax without the shift overflows)",
                 (X_big, rng.integers(0, 3, size=6), rng.choice([-1.0, 1.0], size=(4, 3)) * 400,
                  np.array([1000.0, 0.0, -1000.0])), kind="edge", show_input=False),
            Case("500 examples (the cost is a mean, not a sum)",
                 (rng.normal(size=(500, 3)), rng.integers(0, 4, size=500),
                  rng.normal(size=(3, 4)), rng.normal(size=4)), kind="edge", show_input=False),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        actual = expect_tuple(actual, ("dj_dW", "dj_db"))
        expect_array(actual[0], expected[0], rtol=self.rtol, atol=self.atol, name="dj_dW")
        expect_array(actual[1], expected[1], rtol=self.rtol, atol=self.atol, name="dj_db")


class DigitClassifier(KerasModelCheck):
    reference = solutions.softmax.build_digit_classifier
    n_inputs, n_outputs = 64, 10
    expected_losses = ("SparseCategoricalCrossentropy",)
    require_logits = True
    epochs, min_accuracy = 30, 0.90

    def data(self) -> Sequence[np.ndarray]:
        return load_digits_split()

    def predict_labels(self, outputs: np.ndarray, from_logits: bool, activation: str,
                       ) -> np.ndarray:
        return np.argmax(outputs, axis=-1)


CHECKS = [Softmax(), SparseCategoricalCrossentropy(), SoftmaxCrossEntropyGradient(),
          SoftmaxGradient(), DigitClassifier()]
