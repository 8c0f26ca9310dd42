"""Checks for the `adam` chapter: a gradient-descent step, a momentum step, an Adam step and a
minimiser."""

from typing import Any

import numpy as np

import solutions.adam
from autograder.channel import NamedCallable
from autograder.checks import adam_functions
from autograder.checks.base import Case, Check, Mismatch, expect_array, expect_tuple, fmt

# Tolerances. A correct update written in another order (Keras' m + (g - m)(1 - beta_1), the
# bias correction folded into the learning rate, a loop over the entries) differs from the
# reference by a few units in the last place of the numbers involved, so every comparison is
# relative to the size of those numbers (`scale`), never to an absolute 1e-10 that would wave
# through any error in gradients of size 1e-9. The bugs worth catching (no bias correction,
# epsilon inside the square root, t off by one, m and v swapped) change the result by 1e-3
# relative or far more on the cases below.
RTOL = 1e-7
SCALED_ATOL = 1e-10

# The costs' gradients (each cost is named in adam_functions).
BOWL = NamedCallable(adam_functions, "elongated_bowl_gradient")
ROTATED = NamedCallable(adam_functions, "rotated_bowl_gradient")
ROSENBROCK = NamedCallable(adam_functions, "rosenbrock_gradient")
DIAGONAL = NamedCallable(adam_functions, "diagonal_bowl_gradient")


def expect_scaled(actual: object, expected: np.ndarray, scale: float, name: str) -> None:
    """expect_array with an absolute tolerance relative to the size of the numbers involved."""
    expect_array(actual, expected, rtol=RTOL, atol=SCALED_ATOL * scale, name=name)


def size(*arrays: np.ndarray) -> float:
    return max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)


class GradientDescentStep(Check):
    reference = solutions.adam.gradient_descent_step
    result_name = "w_new"

    def cases(self, rng: np.random.Generator) -> list[Case]:
        n, shape = int(rng.integers(3, 9)), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        return [
            Case("w = [1, 2], grad = [0.5, -1], alpha = 0.1",
                 (np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.1)),
            Case("alpha = 1: w - grad", (np.array([3.0, -1.0, 0.5]), np.array([1.0, 1.0, -2.0]),
                                         1.0)),
            Case("a 2x3 array of parameters (a weight matrix)",
                 (np.array([[1.0, 0.0, -1.0], [2.0, 0.5, 0.25]]),
                  np.array([[0.2, -0.4, 0.0], [1.0, 3.0, -0.5]]), 0.05)),
            Case(f"random w and grad of {n} parameters", (rng.normal(size=n), rng.normal(size=n),
                                                         float(rng.uniform(0.001, 0.5))),
                 kind="random"),
            Case(f"random {shape[0]}x{shape[1]} arrays",
                 (rng.normal(size=shape), rng.normal(size=shape), float(rng.uniform(0.001, 0.5))),
                 kind="random"),
            Case("alpha = 0: nothing moves", (np.array([1.5, -2.5]), np.array([4.0, 4.0]), 0.0),
                 kind="edge"),
            Case("a zero gradient: nothing moves", (np.array([1.5, -2.5]), np.zeros(2), 0.3),
                 kind="edge"),
            Case("one parameter", (np.array([2.0]), np.array([-8.0]), 0.25), kind="edge"),
            Case("gradients of very different sizes [1e4, 1, 1e-4]",
                 (np.array([1.0, 1.0, 1.0]), np.array([1e4, 1.0, 1e-4]), 1e-3), kind="edge"),
        ]


def momentum_cases(rng: np.random.Generator) -> list[Case]:
    """Every kind of input momentum_step meets: the first and later steps, beta, edges."""
    n, shape = int(rng.integers(3, 9)), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    g_long = np.array([2.0, -0.5])
    return [
        Case("w = [1, 2], grad = [0.5, -1], velocity = [0.2, -0.1], alpha = 0.1, beta = 0.5",
             (np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([0.2, -0.1]), 0.1, 0.5)),
        Case("the default beta = 0.9, on the lecture's bowl at w = [-8, 2]",
             (np.array([-8.0, 2.0]), np.array([-8.0, 40.0]), np.array([0.3, -0.5]), 0.02)),
        Case("beta by keyword: beta = 0.99",
             (np.array([0.5, -1.5, 3.0]), np.array([1.0, 0.25, -2.0]), np.array([-0.4, 0.1, 0.6]),
              0.05), {"beta": 0.99}),
        Case("a 2x3 array of parameters (a weight matrix)",
             (np.array([[1.0, -0.5, 2.0], [0.0, 0.25, -1.0]]),
              np.array([[0.3, -1.2, 0.05], [2.0, 0.0, -0.7]]),
              np.array([[0.1, 0.0, -0.2], [0.05, 0.3, -0.1]]), 0.1)),
        Case(f"random w, grad and velocity of {n} parameters",
             (rng.normal(size=n), rng.normal(size=n), rng.normal(0, 0.1, size=n),
              float(rng.uniform(0.001, 0.5)), float(rng.uniform(0.5, 0.99))), kind="random"),
        Case(f"random {shape[0]}x{shape[1]} arrays, default beta",
             (rng.normal(size=shape), rng.normal(size=shape), rng.normal(0, 0.1, size=shape),
              float(rng.uniform(0.001, 0.5))), kind="random"),
        Case("the first step: velocity 0, so the step is gradient descent's",
             (np.array([3.0, -1.0]), np.array([1.0, -4.0]), np.zeros(2), 0.1), kind="edge"),
        Case("beta = 0: gradient descent, the old velocity forgotten",
             (np.array([3.0, -1.0]), np.array([1.0, -4.0]), np.array([0.7, 0.2]), 0.1, 0.0),
             kind="edge"),
        Case("a zero gradient: w coasts on its velocity, which decays",
             (np.array([1.5, -2.5]), np.zeros(2), np.array([0.4, -0.2]), 0.3), kind="edge"),
        Case("alpha = 0: only the velocity moves w",
             (np.array([1.5, -2.5]), np.array([4.0, 4.0]), np.array([-0.1, 0.3]), 0.0, 0.8),
             kind="edge"),
        Case("the velocity after 100 steps of the constant gradient [2, -0.5]: near its limit "
             "-alpha g / (1 - beta)",
             (np.array([1.0, 1.0]), g_long, -0.01 * g_long * (1 - 0.9 ** 100) / (1 - 0.9), 0.01),
             kind="edge"),
        Case("gradients of very different sizes [1e4, 1, 1e-4]",
             (np.array([1.0, 1.0, 1.0]), np.array([1e4, 1.0, 1e-4]),
              np.array([-5.0, 1e-3, 1e-7]), 1e-3), kind="edge"),
        Case("one parameter", (np.array([2.0]), np.array([-8.0]), np.array([0.5]), 0.25, 0.5),
             kind="edge"),
    ]


class MomentumStep(Check):
    reference = solutions.adam.momentum_step

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return momentum_cases(rng)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        actual = expect_tuple(actual, ("w_new", "velocity_new"))
        w, grad, velocity, alpha = case.args[:4]
        w_new, velocity_new = expected
        # velocity first: a sign convention or a missing factor shows there before it shows in w.
        # Its scale includes w's, so that velocity_new computed as w_new - w is not refused
        # for the rounding of that difference.
        expect_scaled(actual[1], velocity_new, size(velocity, alpha * grad, velocity_new, w),
                      "velocity_new")
        expect_scaled(actual[0], w_new, size(w, w_new - w), "w_new")


def adam_cases(rng: np.random.Generator) -> list[Case]:
    """Every kind of input adam_step meets: first and later steps, each hyper-parameter, edges."""
    n, shape = int(rng.integers(3, 9)), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))

    def history(shape: int | tuple[int, int], t: int) -> tuple[np.ndarray, np.ndarray]:
        """A state Adam can be in after a few steps: m of either sign, v > 0 of the size of m^2."""
        m = rng.normal(0, 1, size=shape)
        return m, m ** 2 * float(rng.uniform(1.0, 3.0)) * 0.01

    t_random = int(rng.integers(2, 60))
    m_r, v_r = history(n, t_random)
    m_2, v_2 = history(shape, t_random)
    w2 = np.array([[1.0, -0.5, 2.0], [0.0, 0.25, -1.0]])
    g2 = np.array([[0.3, -1.2, 0.05], [2.0, 0.0, -0.7]])
    return [
        Case("the first step (t = 1) from m = v = 0, default hyper-parameters",
             (np.array([1.0, -2.0]), np.array([0.5, -3.0]), np.zeros(2), np.zeros(2), 1)),
        Case("t = 1, alpha = 0.1", (np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.1, -4.0]),
                                    np.zeros(3), np.zeros(3), 1), {"alpha": 0.1}),
        Case("the second step (t = 2), alpha = 0.01",
             (np.array([0.999, -1.999]), np.array([0.4, -2.5]), np.array([0.05, -0.3]),
              np.array([0.00025, 0.009]), 2), {"alpha": 0.01}),
        Case("t = 3 with beta_1 = 0.5, beta_2 = 0.8, epsilon = 1e-3 (every hyper-parameter used)",
             (np.array([0.5, 1.5]), np.array([1.0, -0.2]), np.array([0.4, 0.3]),
              np.array([0.1, 0.05]), 3),
             {"alpha": 0.05, "beta_1": 0.5, "beta_2": 0.8, "epsilon": 1e-3}),
        Case("hyper-parameters passed by position: (w, grad, m, v, 4, 0.02, 0.8, 0.99, 1e-6)",
             (np.array([2.0, -1.0]), np.array([-0.5, 0.25]), np.array([0.1, 0.2]),
              np.array([0.01, 0.03]), 4, 0.02, 0.8, 0.99, 1e-6)),
        Case("a 2x3 array of parameters, t = 1", (w2, g2, np.zeros((2, 3)), np.zeros((2, 3)), 1),
             {"alpha": 0.1}),
        Case(f"random parameters ({n}) and history at t = {t_random}",
             (rng.normal(size=n), rng.normal(size=n), m_r, v_r, t_random),
             {"alpha": float(rng.uniform(0.001, 0.1))}, kind="random"),
        Case(f"random {shape[0]}x{shape[1]} arrays at t = {t_random}",
             (rng.normal(size=shape), rng.normal(size=shape), m_2, v_2, t_random),
             {"alpha": float(rng.uniform(0.001, 0.1))}, kind="random"),
        Case("a random first step (t = 1): every step has size alpha, whatever the gradient",
             (rng.normal(size=n), rng.normal(0, 10, size=n), np.zeros(n), np.zeros(n), 1),
             kind="random"),
        Case("a zero gradient at t = 1: no step (and no 0 / 0)",
             (np.array([1.0, -1.0]), np.zeros(2), np.zeros(2), np.zeros(2), 1), kind="edge"),
        Case("a zero gradient after earlier steps: the momentum m still moves w",
             (np.array([1.0, -1.0]), np.zeros(2), np.array([0.2, -0.1]), np.array([0.004, 0.001]),
              5), {"alpha": 0.1}, kind="edge"),
        Case("large gradients [1e6, -3e5] at t = 1",
             (np.array([1.0, 1.0]), np.array([1e6, -3e5]), np.zeros(2), np.zeros(2), 1),
             kind="edge"),
        Case("small gradients [1e-6, -1e-7, 1e-9] at t = 1, default epsilon (epsilon matters)",
             (np.array([1.0, 1.0, 1.0]), np.array([1e-6, -1e-7, 1e-9]), np.zeros(3),
              np.zeros(3), 1), kind="edge"),
        Case("small gradients after earlier steps, t = 10",
             (np.array([0.5, -0.5]), np.array([2e-6, -5e-7]), np.array([1e-6, -4e-7]),
              np.array([5e-15, 1e-15]), 10), {"alpha": 0.01}, kind="edge"),
        Case("gradients of very different sizes [1e3, 1, 1e-3] at t = 3",
             (np.array([1.0, 1.0, 1.0]), np.array([1e3, 1.0, 1e-3]),
              np.array([190.0, 0.19, 1.9e-4]), np.array([1998.0, 0.002, 2e-9]), 3), kind="edge"),
        Case("a late step, t = 10000 (the bias corrections are almost 1)",
             (np.array([0.3, -0.7]), np.array([0.02, -0.05]), np.array([0.01, -0.03]),
              np.array([0.0004, 0.002]), 10000), {"alpha": 0.01}, kind="edge"),
    ]


class AdamStep(Check):
    reference = solutions.adam.adam_step

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return adam_cases(rng)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        actual = expect_tuple(actual, ("w_new", "m_new", "v_new"))
        w, grad, m, v = case.args[:4]
        w_new, m_new, v_new = expected
        # m_new and v_new first: they show which moment is wrong before its effect on w does.
        expect_scaled(actual[1], m_new, size(m, grad, m_new), "m_new (the first moment)")
        expect_scaled(actual[2], v_new, size(v, grad ** 2, v_new), "v_new (the second moment)")
        expect_scaled(actual[0], w_new, size(w, w_new - w), "w_new")


def minimize_cases(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 7))
    steps = int(rng.integers(20, 80))
    w0_random = rng.normal(0, 2, size=n)
    w0_rotated = rng.uniform(-3, 3, size=2)
    return [
        Case("gradient descent on the elongated bowl from [4, 1], alpha = 0.05, 10 steps",
             (BOWL, np.array([4.0, 1.0]), 10, "gd"), {"alpha": 0.05}),
        Case("Adam on the elongated bowl from [4, 1], alpha = 0.5, 10 steps",
             (BOWL, np.array([4.0, 1.0]), 10, "adam"), {"alpha": 0.5}),
        Case("Adam with its default hyper-parameters on the rotated bowl, 20 steps",
             (ROTATED, np.array([-1.0, 3.0]), 20, "adam")),
        Case("gradient descent on the rotated bowl, alpha = 0.05, 30 steps",
             (ROTATED, np.array([-1.0, 3.0]), 30, "gd"), {"alpha": 0.05}),
        Case("Adam with beta_1 = 0.5, beta_2 = 0.9, epsilon = 1e-3 on the rotated bowl, 30 steps",
             (ROTATED, np.array([-1.0, 3.0]), 30, "adam"),
             {"alpha": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
        Case("Adam on the Rosenbrock function from [-1.5, 2], alpha = 0.05, 200 steps",
             (ROSENBROCK, np.array([-1.5, 2.0]), 200, "adam"), {"alpha": 0.05}),
        Case("gradient descent on the Rosenbrock function, alpha = 0.001, 200 steps",
             (ROSENBROCK, np.array([-1.5, 2.0]), 200, "gd"), {"alpha": 0.001}),
        Case(f"gradient descent on a {n}-parameter diagonal bowl from random w0, {steps} steps",
             (DIAGONAL, w0_random, steps, "gd"), {"alpha": float(rng.uniform(0.1, 1.0)) / n},
             kind="random", show_input=False),
        Case(f"Adam on a {n}-parameter diagonal bowl from random w0, {steps} steps",
             (DIAGONAL, w0_random, steps, "adam"), {"alpha": float(rng.uniform(0.01, 0.2))},
             kind="random", show_input=False),
        Case("Adam on the rotated bowl from a random w0",
             (ROTATED, w0_rotated, steps, "adam"), {"alpha": float(rng.uniform(0.01, 0.2))},
             kind="random"),
        Case("steps = 0: the path is w0 alone", (BOWL, np.array([4.0, 1.0]), 0, "adam"),
             {"alpha": 0.1}, kind="edge"),
        Case("steps = 1", (ROTATED, np.array([0.0, 0.0]), 1, "gd"), {"alpha": 0.01},
             kind="edge"),
        Case("one parameter", (DIAGONAL, np.array([3.0]), 15, "adam"), {"alpha": 0.3},
             kind="edge"),
        Case("gradient descent with alpha = 0.105, too large for the bowl: it diverges",
             (BOWL, np.array([4.0, 1.0]), 60, "gd"), {"alpha": 0.105}, kind="edge"),
        Case("many steps: 2000 Adam steps on the elongated bowl, alpha = 0.1",
             (BOWL, np.array([4.0, 1.0]), 2000, "adam"), {"alpha": 0.1}, kind="edge",
             show_input=False),
        Case("many steps: 1000 gradient-descent steps on the rotated bowl, alpha = 0.09",
             (ROTATED, np.array([-1.0, 3.0]), 1000, "gd"), {"alpha": 0.09}, kind="edge",
             show_input=False),
    ]


class Minimize(Check):
    reference = solutions.adam.minimize

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return minimize_cases(rng)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        w, path = expect_tuple(actual, ("w", "path"))
        w0, steps = case.args[1], case.args[2]
        scale = size(expected[1])
        if isinstance(path, np.ndarray) and path.ndim == 2 and path.shape != expected[1].shape:
            rows = path.shape[0]
            hint = (" (one row is missing: the path starts with w0 and then has the w after "
                    "each step)" if rows == steps else
                    " (the path holds w0 and the w after each step, one row each)")
            raise Mismatch(f"path has shape {path.shape}, expected ({steps + 1}, {w0.size})"
                           f"{hint}\nexpected: {fmt(expected[1])}\nactual:   {fmt(path)}")
        expect_scaled(path, expected[1], scale, "path")
        expect_scaled(w, expected[0], scale, "w (the last point of the path)")


CHECKS = [GradientDescentStep(), MomentumStep(), AdamStep(), Minimize()]
