"""Chapter 2 reference: activation functions and their derivatives, a dense layer, a forward
pass, and why linear layers collapse."""

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from solutions.logistic_regression import sigmoid  # noqa: F401  (the third activation of the chapter)

# An activation g: applied element-wise to an array of pre-activations z.
Activation = Callable[[np.ndarray], np.ndarray]


def linear(z: ArrayLike) -> np.ndarray:
    """g(z) = z: the "no activation" activation; returns a float copy of z."""
    return np.array(z, dtype=float)


def relu(z: ArrayLike) -> np.ndarray:
    """g(z) = max(0, z), element-wise; same shape as z, an np.ndarray."""
    z = np.asarray(z, dtype=float)
    # np.where rather than np.maximum: it returns an ndarray even for a scalar z.
    return np.where(z > 0, z, 0.0)


# The activations activation_derivative knows, by the names Keras gives them.
DERIVATIVE_NAMES = ("linear", "sigmoid", "tanh", "relu")


def _sigmoid_slope(z: np.ndarray) -> np.ndarray:
    """sigmoid'(z) = e / (1 + e)^2 with e = e^{-|z|}: the same value as sigmoid(z)(1 -
    sigmoid(z)) (the slope is symmetric about 0), but nothing overflows, and far from 0 it keeps
    its relative accuracy where 1 - sigmoid(z) would round to 0."""
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
        return e / (1.0 + e) ** 2


def activation_derivative(name: str, z: ArrayLike) -> np.ndarray:
    """g'(z) element-wise for the activation g called `name` ("linear", "sigmoid", "tanh" or
    "relu"); same shape as z, an np.ndarray. relu'(0) = 0, as TensorFlow's gradient gives; an
    unknown name raises ValueError."""
    z = np.asarray(z, dtype=float)
    if name == "linear":
        slope = np.ones_like(z)
    elif name == "sigmoid":
        slope = _sigmoid_slope(z)
    elif name == "tanh":
        # tanh(z) = 2 sigmoid(2z) - 1, so tanh'(z) = 4 sigmoid'(2z) = 1 - tanh(z)^2.
        slope = 4.0 * _sigmoid_slope(2.0 * z)
    elif name == "relu":
        slope = np.where(z > 0, 1.0, 0.0)
    else:
        raise ValueError(f"unknown activation {name!r}; one of {', '.join(DERIVATIVE_NAMES)}")
    return np.asarray(slope)    # for a number z, a 0-d array rather than a NumPy scalar


def dense(a_in: ArrayLike, W: ArrayLike, b: ArrayLike, g: Activation) -> np.ndarray:
    """One layer: a_out = g(a_in @ W + b), with a_in (n,) or (m, n), W (n, units), b (units,)."""
    a_in = np.asarray(a_in, dtype=float)
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    if W.ndim != 2 or b.shape != (W.shape[1],):
        raise ValueError(f"W must be (n, units) and b (units,), got W {W.shape} and b {b.shape}")
    if a_in.ndim not in (1, 2) or a_in.shape[-1] != W.shape[0]:
        raise ValueError(f"a_in must be ({W.shape[0]},) or (m, {W.shape[0]}), got {a_in.shape}")
    z = a_in @ W + b
    return g(z)


def sequential(x: ArrayLike, layers: Sequence[tuple[ArrayLike, ArrayLike, Activation]],
               ) -> np.ndarray:
    """Forward pass a^[l] = g^[l](a^[l-1] @ W^[l] + b^[l]) with a^[0] = x; layers is a list of
    (W, b, g)."""
    a = np.asarray(x, dtype=float)
    for W, b, g in layers:
        a = dense(a, W, b, g)
    return a


def collapse_linear(layers: Sequence[tuple[ArrayLike, ArrayLike]],
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The single (W, b) equal to a stack of linear layers [(W^[1], b^[1]), ..., (W^[L], b^[L])].

    a^[2] = (x @ W^[1] + b^[1]) @ W^[2] + b^[2] = x @ (W^[1] W^[2]) + (b^[1] W^[2] + b^[2]),
    and so on layer by layer: without a nonlinear g, depth adds nothing.
    """
    if len(layers) == 0:
        raise ValueError("need at least one layer (W, b) to know the input size")
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W_l = np.asarray(W_l, dtype=float)
        b_l = np.asarray(b_l, dtype=float)
        if W_l.ndim != 2 or W_l.shape[0] != W.shape[1] or b_l.shape != (W_l.shape[1],):
            raise ValueError(f"a layer with W {W_l.shape}, b {b_l.shape} cannot follow one with "
                             f"{W.shape[1]} units")
        W, b = W @ W_l, b @ W_l + b_l
    return W, b


def piecewise_linear(x: ArrayLike, breakpoints: ArrayLike, slopes: ArrayLike,
                     first_value: float) -> np.ndarray:
    """The continuous piecewise-linear function f itself, evaluated at x (any shape).

    f has kinks at breakpoints x_1 < ... < x_K, slope slopes[0] left of x_1, slopes[k] between
    x_k and x_{k+1}, slopes[K] right of x_K, and f(x_1) = first_value. (A helper, not an
    exercise: what `piecewise_linear_layers` must reproduce.)
    """
    breakpoints, slopes = _piecewise_spec(breakpoints, slopes)
    x = np.asarray(x, dtype=float)
    # f at every breakpoint: y_1 = first_value, y_{k+1} = y_k + s_k (x_{k+1} - x_k).
    values = float(first_value) + np.concatenate(
        [[0.0], np.cumsum(slopes[1:-1] * np.diff(breakpoints))])
    inside = np.interp(x, breakpoints, values)
    left = values[0] + slopes[0] * (x - breakpoints[0])
    right = values[-1] + slopes[-1] * (x - breakpoints[-1])
    return np.where(x < breakpoints[0], left, np.where(x > breakpoints[-1], right, inside))


def _piecewise_spec(breakpoints: ArrayLike, slopes: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """breakpoints (K,) strictly increasing and slopes (K + 1,) as float arrays, or ValueError."""
    breakpoints = np.asarray(breakpoints, dtype=float)
    slopes = np.asarray(slopes, dtype=float)
    if breakpoints.ndim != 1 or breakpoints.size == 0:
        raise ValueError(f"breakpoints must be a non-empty 1-D array, got shape "
                         f"{breakpoints.shape}")
    if slopes.shape != (breakpoints.size + 1,):
        raise ValueError(f"{breakpoints.size} breakpoints need {breakpoints.size + 1} slopes, "
                         f"got shape {slopes.shape}")
    if not (np.all(np.isfinite(breakpoints)) and np.all(np.isfinite(slopes))):
        raise ValueError("breakpoints and slopes must be finite")
    if np.any(np.diff(breakpoints) <= 0):
        raise ValueError("breakpoints must be strictly increasing")
    return breakpoints, slopes


def piecewise_linear_layers(breakpoints: ArrayLike, slopes: ArrayLike, first_value: float,
                            ) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W1, b1), (W2, b2)] of a network with one hidden layer of ReLU units and a linear
    output, x -> relu(x W1 + b1) W2 + b2, equal to the continuous piecewise-linear function with
    kinks at breakpoints x_1 < ... < x_K, slopes s_0, ..., s_K and f(x_1) = first_value.

    Shapes: W1 (1, units), b1 (units,), W2 (units, 1), b2 (1,). One construction of many:

        f(x) = f(x_1) - s_0 relu(x_1 - x) + s_1 relu(x - x_1)
                      + sum_{k >= 2} (s_k - s_{k-1}) relu(x - x_k)

    A unit relu(x - x_k) is 0 left of x_k and has slope 1 right of it, so its output weight is
    the change of slope at x_k; the unit relu(x_1 - x) faces left and carries the slope s_0 of
    the left tail. Every unit is 0 at x = x_1, so the output bias is f(x_1).
    """
    breakpoints, slopes = _piecewise_spec(breakpoints, slopes)
    units = breakpoints.size + 1
    W1 = np.ones((1, units))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    slope_changes = np.diff(slopes)            # s_k - s_{k-1} at x_k, k = 1..K
    W2 = np.concatenate([[-slopes[0]], [slopes[1]], slope_changes[1:]]).reshape(units, 1)
    b2 = np.array([float(first_value)])
    return [(W1, b1), (W2, b2)]


# The output layer for each kind of target: every (activation, loss) pair that fits it, the
# first one the reference's answer. An output layer has one unit for one label or number and
# k units for k classes or k labels. A loss "(from_logits=True)" applies the sigmoid or softmax
# itself, so its output layer is linear; a loss without it reads probabilities.
OUTPUT_LAYERS: dict[str, tuple[tuple[str, str], ...]] = {
    "binary label": (("sigmoid", "BinaryCrossentropy"),
                     ("linear", "BinaryCrossentropy(from_logits=True)")),
    "one of k classes": (("softmax", "SparseCategoricalCrossentropy"),
                         ("linear", "SparseCategoricalCrossentropy(from_logits=True)")),
    "several yes/no labels": (("sigmoid", "BinaryCrossentropy"),
                              ("linear", "BinaryCrossentropy(from_logits=True)")),
    "any real number": (("linear", "MeanSquaredError"), ("linear", "MeanAbsoluteError")),
    "a non-negative quantity": (("relu", "MeanSquaredError"), ("relu", "MeanAbsoluteError")),
}


def output_layer_for(target: str) -> tuple[str, str]:
    """(activation, loss) of the output layer for a kind of target, as the names Keras uses:
    the activation's range is what y can be; the loss matches it."""
    if target not in OUTPUT_LAYERS:
        raise ValueError(f"unknown target {target!r}; one of {sorted(OUTPUT_LAYERS)}")
    return OUTPUT_LAYERS[target][0]
