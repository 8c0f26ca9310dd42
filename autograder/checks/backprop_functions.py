"""The functions the backprop chapter's checks pass to a student's code: costs f of a 1-D w with
their gradients (right and deliberately wrong) for gradient_check.

A helper module (see autograder/checks/elementary_functions.py): plain NumPy, no autograder
imports; it travels into the sandbox as a companion file of the child, and checks/backprop.py
names its functions with autograder.channel.NamedCallable.
"""


import numpy as np
import numpy.typing as npt

__all__ = ["square_norm", "square_norm_gradient", "square_norm_gradient_halved",
           "sin_sum", "sin_sum_gradient", "sin_sum_gradient_negated",
           "weighted_cubes", "weighted_cubes_gradient", "weighted_cubes_gradient_last_forgotten",
           "rosenbrock", "rosenbrock_gradient", "rosenbrock_gradient_slip",
           "logistic_cost", "logistic_cost_gradient",
           "constant", "constant_gradient"]

Vector = npt.NDArray[np.float64]

# logistic_cost's fixed data: 5 examples of 3 features.
_X = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2], [-1.5, 0.4, 2.0], [2.2, 1.1, 0.1],
               [-0.7, -0.9, 1.6]])
_Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])


def _vector(w: npt.ArrayLike) -> Vector:
    return np.asarray(w, dtype=float)


def square_norm(w: npt.ArrayLike) -> float:
    """f(w) = sum of w_j^2."""
    return float(np.sum(_vector(w) ** 2))


def square_norm_gradient(w: npt.ArrayLike) -> Vector:
    return 2 * _vector(w)


def square_norm_gradient_halved(w: npt.ArrayLike) -> Vector:
    """Wrong: the factor 2 forgotten (relative error 0.5 in every entry)."""
    return _vector(w).copy()


def sin_sum(w: npt.ArrayLike) -> float:
    """f(w) = sum of sin(w_j)."""
    return float(np.sum(np.sin(_vector(w))))


def sin_sum_gradient(w: npt.ArrayLike) -> Vector:
    return np.cos(_vector(w))


def sin_sum_gradient_negated(w: npt.ArrayLike) -> Vector:
    """Wrong: the sign flipped (relative error 2 in every entry)."""
    return -np.cos(_vector(w))


def weighted_cubes(w: npt.ArrayLike) -> float:
    """f(w) = sum of j w_j^3 for j = 1..n."""
    w = _vector(w)
    return float(np.sum(np.arange(1.0, w.size + 1) * w ** 3))


def weighted_cubes_gradient(w: npt.ArrayLike) -> Vector:
    w = _vector(w)
    return 3 * np.arange(1.0, w.size + 1) * w ** 2


def weighted_cubes_gradient_last_forgotten(w: npt.ArrayLike) -> Vector:
    """Wrong: 0 in the last entry (relative error 1 there, where a = 0 and n is not)."""
    gradient = weighted_cubes_gradient(w)
    gradient[-1] = 0.0
    return gradient


def rosenbrock(w: npt.ArrayLike) -> float:
    """f(w) = sum of 100 (w_{j+1} - w_j^2)^2 + (1 - w_j)^2."""
    w = _vector(w)
    return float(np.sum(100 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2))


def rosenbrock_gradient(w: npt.ArrayLike) -> Vector:
    w = _vector(w)
    gradient = np.zeros_like(w)
    inner = w[1:] - w[:-1] ** 2
    gradient[:-1] += -400 * w[:-1] * inner - 2 * (1 - w[:-1])
    gradient[1:] += 200 * inner
    return gradient


def rosenbrock_gradient_slip(w: npt.ArrayLike) -> Vector:
    """Wrong in one entry only: the second entry's 2 (1 - w) term forgotten."""
    gradient = rosenbrock_gradient(w)
    gradient[1] += 2 * (1 - _vector(w)[1])
    return gradient


def logistic_cost(w: npt.ArrayLike) -> float:
    """The mean logistic cost of fixed data (5 examples, 3 features, no bias) at weights w."""
    z = _X @ _vector(w)
    return float(np.mean(np.logaddexp(0.0, z) - _Y * z))


def logistic_cost_gradient(w: npt.ArrayLike) -> Vector:
    z = _X @ _vector(w)
    return _X.T @ (1 / (1 + np.exp(-z)) - _Y) / len(_Y)


def constant(w: npt.ArrayLike) -> float:
    """f(w) = 3 for every w: its gradient is 0, so a and n are both 0 in every entry."""
    return 3.0


def constant_gradient(w: npt.ArrayLike) -> Vector:
    return np.zeros_like(_vector(w))
