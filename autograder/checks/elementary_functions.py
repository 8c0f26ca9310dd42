"""Elementary functions a check passes to a student's function by name (an activation g, a
function f to differentiate): autograder.channel.NamedCallable(elementary_functions, "relu").

A helper module: plain NumPy, no autograder imports, so that it travels into the sandbox as a
companion file of the child (autograder/sandboxed/child.py) and means the same on both sides.
`__all__` lists what may be named.
"""

import numpy as np
import numpy.typing as npt

__all__ = ["linear", "relu", "sigmoid", "tanh", "square", "cube", "sin", "exp"]

# What each function returns: an array, or a NumPy scalar for a scalar argument.
Floats = npt.NDArray[np.float64] | np.float64


def linear(z: npt.ArrayLike) -> Floats:
    return np.asarray(z, dtype=float)


def relu(z: npt.ArrayLike) -> Floats:
    return np.maximum(0.0, np.asarray(z, dtype=float))


def sigmoid(z: npt.ArrayLike) -> Floats:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def tanh(z: npt.ArrayLike) -> Floats:
    return np.tanh(np.asarray(z, dtype=float))


def square(w: npt.ArrayLike) -> Floats:
    return np.asarray(w, dtype=float) ** 2


def cube(w: npt.ArrayLike) -> Floats:
    return np.asarray(w, dtype=float) ** 3


def sin(w: npt.ArrayLike) -> Floats:
    return np.sin(w)


def exp(w: npt.ArrayLike) -> Floats:
    return np.exp(w)
