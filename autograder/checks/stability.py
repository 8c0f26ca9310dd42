"""Checks for the `stability` chapter: log-sum-exp, log-softmax, log-sigmoid and the
cross-entropies computed from logits."""


import numpy as np

import solutions.stability
from autograder.checks.base import Case, Check


def logit_cases(rng: np.random.Generator, one_row_label: str = "a 1-D vector z = [1, 2, 3]",
                ) -> list[Case]:
    """The inputs log_sum_exp and log_softmax share: ordinary, batched, random and extreme."""
    m, k = int(rng.integers(3, 7)), int(rng.integers(4, 9))
    return [
        Case(one_row_label, (np.array([1.0, 2.0, 3.0]),)),
        Case("a batch of 2 rows (the result is per row)",
             (np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),)),
        Case("a 3x2 batch", (np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]),)),
        Case("a random 1-D vector", (rng.normal(0, 3, size=k),), kind="random"),
        Case(f"a random {m}x{k} batch", (rng.normal(0, 3, size=(m, k)),), kind="random"),
        Case("large logits [1000, 1001, 1002] (exp overflows)",
             (np.array([1000.0, 1001.0, 1002.0]),), kind="edge"),
        Case("very negative logits [-1e4, -1e4 + 1] (exp underflows to 0)",
             (np.array([-1e4, -1e4 + 1.0]),), kind="edge"),
        Case("rows at very different scales [[1e4, 0, -1e4], [0, 1, 2]]",
             (np.array([[1e4, 0.0, -1e4], [0.0, 1.0, 2.0]]),), kind="edge"),
        Case("random logits of magnitude up to 1e4",
             (rng.uniform(-1e4, 1e4, size=(m, k)),), kind="edge"),
    ]


class StabilityCheck(Check):
    """The accuracy demanded at logits up to 1e4: a stable formula is exact to ~1e-15 relative,
    a naive one is off by orders of magnitude or returns inf/nan."""

    rtol, atol = 1e-9, 1e-9


class LogSumExp(StabilityCheck):
    reference = solutions.stability.log_sum_exp

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return logit_cases(rng)


class LogSoftmax(StabilityCheck):
    reference = solutions.stability.log_softmax

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return logit_cases(rng) + [
            Case("[0, 1e4]: the small probability is e^-1e4, its log is -1e4 (not -inf)",
                 (np.array([0.0, 1e4]),), kind="edge")]


class LogSigmoid(Check):
    """Relative accuracy 1e-12 at every z: far above zero log(sigmoid(z)) = -e^{-z} is tiny but
    not 0 (at z = 40 it is -4.2e-18), which the relative demand sees; the tiny atol only lets
    values that underflow (z = 800: -e^{-800} is below the smallest double) be 0."""

    reference = solutions.stability.log_sigmoid
    rtol, atol = 1e-12, 1e-300

    def cases(self, rng: np.random.Generator) -> list[Case]:
        shape = (int(rng.integers(3, 7)), int(rng.integers(2, 5)))
        return [
            Case("a 1-D array [-2, -1, 0, 1, 2]", (np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),)),
            Case("a 2x2 array (element-wise, same shape)",
                 (np.array([[0.5, -3.0], [4.0, -0.25]]),)),
            Case("a 3-D array (any shape)", (np.linspace(-6.0, 6.0, 12).reshape(2, 3, 2),)),
            Case(f"random z of shape {shape}", (rng.normal(0, 5, size=shape),), kind="random"),
            Case("z = -800 and -1e4 (sigmoid underflows to 0: the answer is z, not -inf)",
                 (np.array([-1e4, -800.0, -40.0]),), kind="edge"),
            Case("z = 30 and 40 (1 + e^-z rounds to 1: the answer is -e^-z, not 0)",
                 (np.array([30.0, 40.0]),), kind="edge"),
            Case("z = 800 and 1e4 (e^-z underflows: the answer is -0.0 or 0)",
                 (np.array([800.0, 1e4]),), kind="edge"),
            Case("random z from -1e4 to 1e4",
                 (rng.uniform(-1e4, 1e4, size=shape),), kind="edge"),
            Case("random z from -60 to 60, where both tails matter",
                 (rng.uniform(-60, 60, size=20),), kind="edge"),
        ]


class SoftmaxCrossEntropyWithLogits(StabilityCheck):
    reference = solutions.stability.softmax_cross_entropy_with_logits

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, k = int(rng.integers(5, 12)), int(rng.integers(3, 8))
        return [
            Case("2 examples, 3 classes", (np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]),
                                          np.array([0, 1]))),
            Case("one example", (np.array([[1.0, 3.0]]), np.array([0]))),
            Case("3 examples, 2 classes", (np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]),
                                          np.array([1, 1, 0]))),
            Case("4 examples, 2 classes (a mean over examples)",
                 (np.array([[1.0, -1.0], [0.0, 3.0], [2.0, 2.0], [-4.0, 4.0]]),
                  np.array([0, 1, 1, 0]))),
            Case(f"random logits, {m} examples x {k} classes",
                 (rng.normal(0, 3, size=(m, k)), rng.integers(0, k, size=m)), kind="random"),
            Case("extreme logits [[0, 100, -100]] with true class 2 (loss 200)",
                 (np.array([[0.0, 100.0, -100.0]]), np.array([2])), kind="edge"),
            Case("logits of magnitude 1e4",
                 (np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0]]),
                  np.array([1, 1])), kind="edge"),
            Case("random logits of magnitude up to 1e4",
                 (rng.uniform(-1e4, 1e4, size=(m, k)), rng.integers(0, k, size=m)), kind="edge"),
        ]


class BinaryCrossEntropyWithLogits(StabilityCheck):
    reference = solutions.stability.binary_cross_entropy_with_logits

    def cases(self, rng: np.random.Generator) -> list[Case]:
        shape = (int(rng.integers(3, 7)), int(rng.integers(2, 5)))
        return [
            Case("a 1-D batch of 3 logits",
                 (np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 1.0]))),
            Case("a 2x2 batch of logits (a mean over every entry)",
                 (np.array([[0.0, 3.0], [-2.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))),
            Case("a 3-D array (any shape)", (np.arange(-6.0, 6.0).reshape(2, 3, 2),
                                             (np.arange(12).reshape(2, 3, 2) % 2).astype(float))),
            Case(f"random logits of shape {shape}",
                 (rng.normal(0, 3, size=shape), rng.integers(0, 2, size=shape).astype(float)),
                 kind="random"),
            Case("logits +-40 with wrong labels (1 - sigmoid(40) rounds to 0)",
                 (np.array([40.0, -40.0]), np.array([0.0, 1.0])), kind="edge"),
            Case("logits +-1e4, right and wrong labels",
                 (np.array([1e4, -1e4, 1e4, -1e4]), np.array([1.0, 0.0, 0.0, 1.0])), kind="edge"),
            Case("random logits of magnitude up to 1e4",
                 (rng.uniform(-1e4, 1e4, size=shape), rng.integers(0, 2, size=shape).astype(float)),
                 kind="edge"),
        ]


CHECKS = [LogSumExp(), LogSoftmax(), LogSigmoid(), SoftmaxCrossEntropyWithLogits(),
          BinaryCrossEntropyWithLogits()]
