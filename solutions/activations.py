"""Chapter 2 reference: activation functions, a dense layer, a forward pass, and why linear
layers collapse."""

import numpy as np

from solutions.logistic_regression import sigmoid  # noqa: F401  (the third activation of the chapter)


def linear(z):
    """g(z) = z: the "no activation" activation; returns a float copy of z."""
    return np.array(z, dtype=float)


def relu(z):
    """g(z) = max(0, z), element-wise; same shape as z, an np.ndarray."""
    z = np.asarray(z, dtype=float)
    # np.where rather than np.maximum: it returns an ndarray even for a scalar z.
    return np.where(z > 0, z, 0.0)


def dense(a_in, W, b, g):
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


def sequential(x, layers):
    """Forward pass a^[l] = g^[l](a^[l-1] @ W^[l] + b^[l]) with a^[0] = x; layers is a list of
    (W, b, g)."""
    a = np.asarray(x, dtype=float)
    for W, b, g in layers:
        a = dense(a, W, b, g)
    return a


def collapse_linear(layers):
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
