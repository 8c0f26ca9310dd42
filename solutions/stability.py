"""Chapter 4 reference: log-sum-exp, log-softmax, log-sigmoid and the cross-entropies computed
from logits."""

import numpy as np
from numpy.typing import ArrayLike

from solutions.softmax import _class_ids

# Every function here works from the max-shifted logits z - max(z) <= 0, so exp never
# overflows; terms far below the max underflow to 0, their correctly rounded value, hence
# np.errstate(under="ignore") around each exp.


def _logits(z: ArrayLike) -> np.ndarray:
    """z as a float array with at least one axis (the last axis holds the classes)."""
    z = np.asarray(z, dtype=float)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"need logits along a last axis of length >= 1, got shape {z.shape}")
    return z


def log_sum_exp(z: ArrayLike) -> np.ndarray:
    """log sum_j e^{z_j} along the last axis, as max(z) + log(sum_j e^{z_j - max(z)});
    shape z.shape[:-1]."""
    z = _logits(z)
    i = np.argmax(z, axis=-1, keepdims=True)
    z_max = np.take_along_axis(z, i, axis=-1)
    with np.errstate(under="ignore"):
        e = np.exp(z - z_max)
        # The max's own term is exactly e^0 = 1. Leave it out and add it back with log1p:
        # log(1 + rest) keeps its digits when rest is tiny (a confident prediction), where
        # log(1.0 + rest) would round to log(1.0) = 0.
        np.put_along_axis(e, i, 0.0, axis=-1)
        return np.squeeze(z_max + np.log1p(np.sum(e, axis=-1, keepdims=True)), axis=-1)


def log_softmax(z: ArrayLike) -> np.ndarray:
    """log a_j = z_j - log sum_k e^{z_k} along the last axis; same shape as z."""
    z = _logits(z)
    i = np.argmax(z, axis=-1, keepdims=True)
    z = z - np.take_along_axis(z, i, axis=-1)  # now max(z) = 0: same softmax, no overflow
    with np.errstate(under="ignore"):
        e = np.exp(z)
        np.put_along_axis(e, i, 0.0, axis=-1)  # as in log_sum_exp: log1p over the other terms
        return z - np.log1p(np.sum(e, axis=-1, keepdims=True))


def log_sigmoid(z: ArrayLike) -> np.ndarray:
    """log(sigmoid(z)) = -softplus(-z) element-wise, as min(z, 0) - log(1 + e^{-|z|}); same shape
    as z.

    The exponent -|z| is never positive, so e^{-|z|} cannot overflow; log1p keeps the digits of
    log(1 + u) for tiny u, so far above zero the result is -e^{-z} (not 0), and far below it is
    z - e^{z}, which rounds to z.
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(under="ignore"):
        return np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))


def softmax_cross_entropy_with_logits(logits: ArrayLike, y: ArrayLike) -> float:
    """J = (1/m) sum_i -log softmax(z_i)_{y_i} = (1/m) sum_i [log sum_k e^{z_ik} - z_{i, y_i}];
    a float.

    logits (m, k), y (m,) class ids. Finite for any finite logits, unlike
    -log(softmax(z)), which gives inf once a probability underflows to 0.
    """
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"logits must be (m, k) with m, k >= 1, got {z.shape}")
    m, k = z.shape
    y = _class_ids(y, m, k)
    return float(np.mean(-log_softmax(z)[np.arange(m), y]))


def binary_cross_entropy_with_logits(logits: ArrayLike, y: ArrayLike) -> float:
    """Mean over all entries of -y log g(z) - (1 - y) log(1 - g(z)), from logits z; a float.

    Computed as max(z, 0) - z y + log(1 + e^{-|z|}), the same quantity with no log(0)
    and no overflow for any finite z. logits and y may have any shape, the same for both.
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.shape != z.shape:
        raise ValueError(f"y must have the shape of logits {z.shape}, got {y.shape}")
    if z.size == 0:
        raise ValueError("need at least one logit")
    with np.errstate(under="ignore"):
        loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        return float(np.mean(loss))
