"""Chapter 8 reference: the numerical derivative, a scalar autodiff `Value`, a two-layer
network's gradients, a dense layer's backward pass over a batch, and a gradient check."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

RELU_GRADIENT_AT_0 = 0.0   # the course's convention, as TensorFlow's: relu'(0) = 0


def numerical_derivative(f: Callable[[float], float], w: float, epsilon: float = 1e-6) -> float:
    """The central difference (f(w + epsilon) - f(w - epsilon)) / (2 epsilon), an estimate of
    df/dw at the scalar w whose error shrinks like epsilon^2 (until round-off takes over)."""
    return (f(w + epsilon) - f(w - epsilon)) / (2 * epsilon)


class Value:
    """A scalar node of a computation graph: its value `data`, the derivative `grad` of the
    output backward() was called on with respect to it, and how to pass a derivative back to the
    nodes it was computed from (every operation carries its own local chain rule)."""

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0
        self._inputs: tuple[Value, ...] = ()   # the nodes this one was computed from
        # Adds this node's grad, times the local derivatives, to the grads of its inputs.
        self._backward: Callable[[], None] = lambda: None

    @staticmethod
    def _made_from(data: float, *inputs: "Value") -> "Value":
        out = Value(data)
        out._inputs = inputs
        return out

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        out = Value._made_from(self.data + other.data, self, other)

        def _backward() -> None:  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        out = Value._made_from(self.data * other.data, self, other)

        def _backward() -> None:  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> "Value":
        if isinstance(exponent, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number")
        out = Value._made_from(self.data ** exponent, self)

        def _backward() -> None:  # d(a^p)/da = p a^(p-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> "Value":
        out = Value._made_from(self.data if self.data > 0 else 0.0, self)

        def _backward() -> None:  # relu'(z) = 1 for z > 0, 0 for z <= 0
            self.grad += (1.0 if self.data > 0 else RELU_GRADIENT_AT_0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self) -> "Value":
        return self * -1

    def __sub__(self, other: "Value | float") -> "Value":
        return self + (-other)

    def __truediv__(self, other: "Value | float") -> "Value":
        if isinstance(other, Value):
            return self * other ** -1
        return self * (1.0 / other)

    def __radd__(self, other: float) -> "Value":    # other + self, other a number
        return self + other

    def __rsub__(self, other: float) -> "Value":    # other - self
        return (-self) + other

    def __rmul__(self, other: float) -> "Value":    # other * self
        return self * other

    def __rtruediv__(self, other: float) -> "Value":  # other / self
        return self ** -1 * other

    def backward(self) -> None:
        """Fill .grad of every node this one depends on with d(self)/d(node): this node's grad
        is 1, then each node, in reverse topological order, passes its grad to its inputs."""
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root: Value) -> list[Value]:
    """The nodes root depends on, each after all of its inputs (an iterative depth-first search,
    so that a chain of any length fits in Python's recursion limit)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._inputs))]
    while stack:
        node, inputs = stack[-1]
        for child in inputs:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def relu(z: float) -> float:
    return z if z > 0 else 0.0


def two_layer_gradients(x: float, y: float, w1: float, b1: float, w2: float, b2: float,
                        ) -> dict[str, float]:
    """J and its derivatives for a1 = relu(w1 x + b1), a2 = relu(w2 a1 + b2),
    J = (a2 - y)^2 / 2: the forward pass, then the chain rule from J back to each parameter."""
    z1 = w1 * x + b1
    a1 = relu(z1)
    z2 = w2 * a1 + b2
    a2 = relu(z2)
    J = (a2 - y) ** 2 / 2
    dJ_da2 = a2 - y
    dJ_dz2 = dJ_da2 * (1.0 if z2 > 0 else RELU_GRADIENT_AT_0)
    dJ_dw2 = dJ_dz2 * a1
    dJ_db2 = dJ_dz2
    dJ_da1 = dJ_dz2 * w2
    dJ_dz1 = dJ_da1 * (1.0 if z1 > 0 else RELU_GRADIENT_AT_0)
    dJ_dw1 = dJ_dz1 * x
    dJ_db1 = dJ_dz1
    return {"J": float(J), "dJ_dw1": float(dJ_dw1), "dJ_db1": float(dJ_db1),
            "dJ_dw2": float(dJ_dw2), "dJ_db2": float(dJ_db2)}


ACTIVATIONS = ("linear", "relu", "sigmoid")


def dense_backward(a_in: npt.ArrayLike, W: npt.ArrayLike, b: npt.ArrayLike, dA: npt.ArrayLike,
                   g: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                    npt.NDArray[np.float64]]:
    """(dA_in, dW, db) for A = g(a_in @ W + b) over a batch: a_in (m, n), W (n, u), b (u,),
    dA = dJ/dA (m, u). dZ = dA * g'(Z); dW = a_in.T @ dZ and db = dZ summed over the examples
    (the cost's 1/m is already in dA); dA_in = dZ @ W.T. An unknown g raises ValueError."""
    if g not in ACTIVATIONS:
        raise ValueError(f"unknown activation {g!r}: expected one of {', '.join(ACTIVATIONS)}")
    a_in, W, dA = (np.asarray(x, dtype=float) for x in (a_in, W, dA))
    z = a_in @ W + np.asarray(b, dtype=float)
    if g == "linear":
        dZ = dA
    elif g == "relu":
        dZ = dA * np.where(z > 0, 1.0, RELU_GRADIENT_AT_0)
    else:
        # sigmoid(z) = 1 / (1 + exp(-z)), written with exp(-|z|) so that no z overflows.
        e = np.exp(-np.abs(z))
        a = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        dZ = dA * a * (1 - a)      # sigmoid' = a (1 - a), from the activation a, not from z
    return dZ @ W.T, a_in.T @ dZ, dZ.sum(axis=0)


def gradient_check(f: Callable[[npt.NDArray[np.float64]], float],
                   grad: Callable[[npt.NDArray[np.float64]], npt.ArrayLike],
                   w: npt.ArrayLike, epsilon: float = 1e-6) -> float:
    """The largest relative error |a - n| / max(|a|, |n|) over the entries of the 1-D w, between
    the analytic a = grad(w) and the central difference n of f nudging one entry at a time (0
    where both are 0)."""
    w = np.asarray(w, dtype=float)
    analytic = np.asarray(grad(w.copy()), dtype=float).reshape(w.shape)
    numeric = np.empty_like(w)
    for i in range(w.size):
        nudge = np.zeros_like(w)
        nudge[i] = epsilon
        numeric[i] = (f(w + nudge) - f(w - nudge)) / (2 * epsilon)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    error = np.divide(np.abs(analytic - numeric), scale, out=np.zeros_like(w), where=scale > 0)
    return float(error.max(initial=0.0))
