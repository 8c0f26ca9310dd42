"""The gradients of the adam chapter's costs: minimize(grad_fn, ...) calls one at every step.

A helper module (see autograder/checks/elementary_functions.py): plain NumPy, no autograder
imports; it travels into the sandbox as a companion file of the child, and checks/adam.py names
its functions with autograder.channel.NamedCallable.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["elongated_bowl_gradient", "rotated_bowl_gradient", "rosenbrock_gradient",
           "diagonal_bowl_gradient"]


def elongated_bowl_gradient(w: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """J = (w1^2 + 20 w2^2) / 2."""
    return np.array([1.0, 20.0]) * np.asarray(w, dtype=float)


def rotated_bowl_gradient(w: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """That bowl turned 45 degrees, its minimum at (1, 2)."""
    return np.array([[10.5, -9.5], [-9.5, 10.5]]) @ (np.asarray(w, dtype=float)
                                                      - np.array([1.0, 2.0]))


def rosenbrock_gradient(w: npt.NDArray[np.float64] | Sequence[float],
                        ) -> npt.NDArray[np.float64]:
    """(1 - x)^2 + 100 (y - x^2)^2, its minimum at (1, 1)."""
    return np.array([-2.0 * (1.0 - w[0]) - 400.0 * w[0] * (w[1] - w[0] ** 2),
                     200.0 * (w[1] - w[0] ** 2)])


def diagonal_bowl_gradient(w: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """J = sum_j j w_j^2 / 2, for any n."""
    return np.arange(1.0, np.size(w) + 1.0) * np.asarray(w, dtype=float)
