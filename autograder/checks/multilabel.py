"""Checks for the `multilabel` chapter: thresholded predictions, the multi-label cost (plain and
weighted), Hamming accuracy, and a classifier trained on the course's street scenes."""

from collections.abc import Sequence
from typing import Any

import numpy as np

import solutions.multilabel
from autograder.checks.base import Case, Check, Mismatch, expect_scalar, fmt
from autograder.checks.keras_models import KerasModelCheck
from autograder.data import street_scenes_split


def logit(t: float) -> float:
    return float(np.log(t / (1 - t)))


def away_from(rng: np.random.Generator, threshold: float, size: int | tuple[int, ...],
              margin: float = 1e-3) -> np.ndarray:
    """Logits at least `margin` away from logit(threshold): comparing sigmoid(z) with the
    threshold and comparing z with log(t / (1 - t)) give the same answer on them."""
    z = rng.normal(0, 3, size=size)
    boundary = logit(threshold)
    near = np.abs(z - boundary) < margin
    return np.where(near, boundary + np.sign(z - boundary + 0.5 * margin) * 2 * margin, z)


class PredictLabels(Check):
    """0/1 ints compared exactly. The two correct formulations (sigmoid(z) >= t, and
    z >= log(t / (1 - t))) disagree only within rounding of the boundary, so no logit of a case
    lies within 1e-3 of it except z = 0 at t = 0.5, where both are exact (sigmoid(0) = 0.5 and
    log(1) = 0) and decide >= against >. A naive 1 / (1 + exp(-z)) overflows harmlessly at
    z = -1000 (its result, 0, is right), so warnings do not reject here."""

    reference = solutions.multilabel.predict_labels
    warnings_allowed = True

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(4, 10)), int(rng.integers(2, 6))
        t_random = float(rng.choice([0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]))
        return [
            Case("2 scenes x 3 labels, default threshold 0.5",
                 (np.array([[2.0, -1.0, 0.3], [-0.2, 4.0, -3.0]]),)),
            Case("one example (a 1-D vector of 3 logits)", (np.array([-2.5, 0.7, 1.5]),)),
            Case("threshold 0.8 (logit(0.8) = 1.386): z = 1.2 is below it, 1.6 above",
                 (np.array([[1.2, 1.6, 3.0], [0.0, -1.0, 1.39]]),), {"threshold": 0.8}),
            Case("threshold 0.2 (logit(0.2) = -1.386)",
                 (np.array([[-1.2, -1.6, -3.0], [0.0, 1.0, -1.39]]),), {"threshold": 0.2}),
            Case("threshold passed by position, 0.3", (np.array([[-0.9, -0.8], [0.5, -2.0]]), 0.3)),
            Case(f"random {m}x{k} logits, threshold 0.5", (away_from(rng, 0.5, (m, k)),),
                 kind="random"),
            Case(f"random {m}x{k} logits, threshold {t_random}",
                 (away_from(rng, t_random, (m, k)),), {"threshold": t_random}, kind="random"),
            Case("logits exactly 0 at threshold 0.5: sigmoid(0) = 0.5 >= 0.5 is a 1",
                 (np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]),), kind="edge"),
            Case("large logits [-1000, 1000, -40, 40]",
                 (np.array([[-1000.0, 1000.0, -40.0, 40.0]]),), kind="edge"),
            Case("threshold 0.05 and 0.95 (a rare label made easier or harder to predict)",
                 (np.array([[-2.0, -3.5, 2.0, 3.5]]),), {"threshold": 0.05}, kind="edge"),
            Case("threshold 0.95", (np.array([[-2.0, 2.0, 2.9, 3.0, 3.5]]),),
                 {"threshold": 0.95}, kind="edge"),
            Case("one example, one label", (np.array([[0.25]]),), kind="edge"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        if not isinstance(actual, np.ndarray):
            raise Mismatch(f"expected a numpy.ndarray of 0/1 ints, got "
                           f"{type(actual).__name__}: {fmt(actual)}")
        if actual.shape != expected.shape:
            raise Mismatch(f"the result has shape {actual.shape}, expected the shape of the "
                           f"logits {expected.shape}\nexpected: {fmt(expected)}\n"
                           f"actual:   {fmt(actual)}")
        if actual.dtype.kind not in "iu":
            raise Mismatch(f"the result has dtype {actual.dtype}; the task asks for ints "
                           f"(0 and 1), e.g. with .astype(int)\nexpected: {fmt(expected)}\n"
                           f"actual:   {fmt(actual)}")
        if not np.array_equal(actual, expected):
            idx = tuple(int(i) for i in np.argwhere(actual != expected)[0])
            raise Mismatch(f"the labels differ (first at index {idx}: expected "
                           f"{int(expected[idx])}, got {actual[idx]})\n"
                           f"expected: {fmt(expected)}\nactual:   {fmt(actual)}")


class MultilabelCost(Check):
    """Logits up to 1e4 in the edge cases: there the textbook formula (log of a sigmoid, even
    clipped as Keras clips at 1e-7) is wrong by orders of magnitude or not finite, while any
    stable form (softplus, logaddexp, log1p(exp(-|z|))) agrees with the reference to ~1e-15.
    The fixed and random cases keep |z| <= ~10, where every correct formula agrees to 1e-12."""

    reference = solutions.multilabel.multilabel_cost
    rtol, atol = 1e-7, 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 40)), int(rng.integers(2, 6))
        return [
            Case("2 scenes x 3 labels", (np.array([[2.0, -1.0, 0.5], [-0.5, 3.0, -2.0]]),
                                         np.array([[1, 0, 1], [0, 1, 0]]))),
            Case("logits 0: every entry costs log 2", (np.zeros((2, 2)),
                                                       np.array([[1, 0], [0, 1]]))),
            Case("3 scenes x 2 labels, wrong confident predictions cost more",
                 (np.array([[4.0, -4.0], [-3.0, 1.0], [0.5, 0.5]]),
                  np.array([[0, 1], [1, 1], [1, 0]]))),
            Case("1 scene x 4 labels (a mean over the labels too)",
                 (np.array([[1.0, -2.0, 0.5, 3.0]]), np.array([[1, 1, 0, 0]]))),
            Case(f"random {m}x{k} logits and labels",
                 (rng.normal(0, 3, size=(m, k)), rng.integers(0, 2, size=(m, k))),
                 kind="random", show_input=m * k <= 24),
            Case("random 200x3 (many examples: a mean, not a sum)",
                 (rng.normal(0, 2, size=(200, 3)), rng.integers(0, 2, size=(200, 3))),
                 kind="random", show_input=False),
            Case("large logits of the right sign: cost near 0",
                 (np.array([[1e4, -1e4], [800.0, -800.0]]), np.array([[1, 0], [1, 0]])),
                 kind="edge"),
            Case("large logits of the wrong sign: cost 1e4 per entry (not inf, not nan)",
                 (np.array([[1e4, -1e4, 50.0]]), np.array([[0, 1, 0]])), kind="edge"),
            Case("random logits of magnitude up to 1e4",
                 (rng.uniform(-1e4, 1e4, size=(4, 3)), rng.integers(0, 2, size=(4, 3))),
                 kind="edge"),
            Case("every label present", (np.array([[0.3, -0.7], [2.0, 1.0]]),
                                         np.ones((2, 2), dtype=int)), kind="edge"),
        ]


class WeightedMultilabelCost(Check):
    """As MultilabelCost, with one weight per label on its positives. The weights are never all
    equal except in the case that says so, and two cases have m == k, so that weights applied
    per example (pos_weight[:, None]) give a value instead of a broadcasting error, and a wrong
    one. Logits of +-1000 in the edge cases: log(sigmoid(z)) is -inf or nan there, any stable
    form exact to ~1e-15."""

    reference = solutions.multilabel.weighted_multilabel_cost
    rtol, atol = 1e-7, 1e-12

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 40)), int(rng.integers(2, 6))
        n = int(rng.integers(3, 6))
        return [
            Case("2 scenes x 3 labels, pos_weight [1, 2, 5]",
                 (np.array([[2.0, -1.0, 0.5], [-0.5, 3.0, -2.0]]),
                  np.array([[1, 0, 1], [0, 1, 1]]), np.array([1.0, 2.0, 5.0]))),
            Case("3 scenes x 3 labels, pos_weight [1, 4, 10]: weight j belongs to label "
                 "(column) j, not to scene j",
                 (np.array([[1.0, -0.5, 2.0], [-1.5, 0.5, -1.0], [0.3, 2.5, -2.0]]),
                  np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]]), np.array([1.0, 4.0, 10.0]))),
            Case("1 scene x 4 labels, pos_weight [0.5, 3, 3, 3]: a mean over the labels too",
                 (np.array([[1.0, -2.0, 0.5, 3.0]]), np.array([[1, 1, 0, 0]]),
                  np.array([0.5, 3.0, 3.0, 3.0]))),
            Case(f"random {m}x{k} logits and labels, weights between 0.5 and 10",
                 (rng.normal(0, 3, size=(m, k)), rng.integers(0, 2, size=(m, k)),
                  rng.uniform(0.5, 10, size=k)), kind="random", show_input=m * k <= 24),
            Case(f"random {n}x{n} (as many scenes as labels), weights between 0.5 and 10",
                 (rng.normal(0, 2, size=(n, n)), rng.integers(0, 2, size=(n, n)),
                  rng.uniform(0.5, 10, size=n)), kind="random"),
            Case("random 200x3 (many examples: a mean, not a sum), weights [1, 2, 19]",
                 (rng.normal(0, 2, size=(200, 3)), rng.integers(0, 2, size=(200, 3)),
                  np.array([1.0, 2.0, 19.0])), kind="random", show_input=False),
            Case("logits +-1000 of the right sign: cost near 0",
                 (np.array([[1000.0, -1000.0], [1000.0, -1000.0]]), np.array([[1, 0], [1, 0]]),
                  np.array([3.0, 7.0])), kind="edge"),
            Case("logits +-1000 of the wrong sign: 1000 x pos_weight for a missed positive, "
                 "1000 for a false alarm (not inf, not nan)",
                 (np.array([[-1000.0, 1000.0], [1000.0, -1000.0]]), np.array([[1, 0], [0, 1]]),
                  np.array([3.0, 7.0])), kind="edge"),
            Case("pos_weight all ones: the plain multilabel_cost",
                 (np.array([[2.0, -1.0, 0.5], [-0.5, 3.0, -2.0]]),
                  np.array([[1, 0, 1], [0, 1, 0]]), np.ones(3)), kind="edge"),
            Case("a weight of 0: that label's positives cost nothing",
                 (np.array([[-2.0, 1.0, 0.5], [1.5, -3.0, -0.5]]),
                  np.array([[1, 1, 0], [1, 1, 1]]), np.array([0.0, 2.0, 1.0])), kind="edge"),
            Case("one example, pos_weight [4, 1]", (np.array([[-0.7, 0.2]]), np.array([[1, 0]]),
                                                    np.array([4.0, 1.0])), kind="edge"),
            Case("one label (k = 1), pos_weight [9]",
                 (np.array([[0.4], [-1.2], [2.0], [-0.1]]), np.array([[1], [1], [0], [0]]),
                  np.array([9.0])), kind="edge"),
        ]


class HammingAccuracy(Check):
    reference = solutions.multilabel.hamming_accuracy
    rtol, atol = 1e-12, 1e-15

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 30)), int(rng.integers(2, 6))
        Y = rng.integers(0, 2, size=(m, k))
        flip = rng.random((m, k)) < 0.2
        return [
            Case("2 scenes x 3 labels, 5 of 6 entries right",
                 (np.array([[1, 0, 1], [0, 1, 0]]), np.array([[1, 0, 1], [0, 1, 1]]))),
            Case("3 scenes x 2 labels, no scene exactly right but half the entries",
                 (np.array([[1, 0], [0, 1], [1, 1]]), np.array([[1, 1], [1, 1], [0, 1]]))),
            Case("4 scenes x 3 labels", (np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0]]),
                                         np.array([[0, 0, 1], [1, 1, 1], [1, 0, 0], [1, 1, 0]]))),
            Case(f"random {m}x{k} labels, about 20% of the entries flipped",
                 (Y, np.where(flip, 1 - Y, Y)), kind="random", show_input=m * k <= 24),
            Case("every entry right", (np.array([[1, 0], [0, 0]]), np.array([[1, 0], [0, 0]])),
                 kind="edge"),
            Case("every entry wrong", (np.array([[1, 0], [0, 0]]), np.array([[0, 1], [1, 1]])),
                 kind="edge"),
            Case("one scene, one label", (np.array([[1]]), np.array([[0]])), kind="edge"),
            Case("a rare label never predicted: 11 of 12 entries right",
                 (np.array([[0, 0, 0]] * 3 + [[0, 0, 1]]), np.zeros((4, 3), dtype=int)),
                 kind="edge"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        expect_scalar(actual, expected, rtol=self.rtol, atol=self.atol, name="Hamming accuracy")


class MultilabelClassifier(KerasModelCheck):
    reference = solutions.multilabel.build_multilabel_classifier
    n_inputs, n_outputs = 256, 3
    # The class, and the name `loss="binary_crossentropy"` resolves to.
    expected_losses = ("BinaryCrossentropy", "binary_crossentropy")
    # Held-out Hamming accuracy after 20 epochs on 2,000 scenes (500 held out), measured
    # (tests/autograder/test_checks_multilabel.py and the lecture): the reference, a sigmoid
    # output, a network without hidden layer and SGD with momentum all reach 98.5% or more;
    # a softmax output layer (its 3 outputs sum to 1, so at most one label is >= 0.5) stays
    # near 75%, a network that does not train near 50%. 90% lies between with room on both
    # sides.
    epochs, min_accuracy = 20, 0.90

    def build_args(self) -> tuple:
        return (256, 3)

    def data(self) -> Sequence[np.ndarray]:
        return street_scenes_split()

    def predict_labels(self, outputs: np.ndarray, from_logits: bool, activation: str,
                       ) -> np.ndarray:
        # sigmoid(z) >= 0.5 exactly when z >= 0.
        return (np.asarray(outputs) >= (0.0 if from_logits else 0.5)).astype(int)


CHECKS = [PredictLabels(), MultilabelCost(), WeightedMultilabelCost(), HammingAccuracy(),
          MultilabelClassifier()]
