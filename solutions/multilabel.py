"""Chapter 5 reference: multi-label predictions, their cost from logits (plain and with a weight
on each label's positives), Hamming accuracy, and a classifier with one sigmoid output per
label."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from tensorflow import keras


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^{-z}) without overflow: e^{-|z|} is at most 1."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def predict_labels(logits: ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """0/1 ints of logits' shape: 1 where sigmoid(logit) >= threshold, each label on its own."""
    z = np.asarray(logits, dtype=float)
    with np.errstate(under="ignore"):
        return (_sigmoid(z) >= threshold).astype(int)


def multilabel_cost(logits: ArrayLike, Y: ArrayLike) -> float:
    """Mean binary cross-entropy over every example and every label, from logits; a float.

    For one entry, -y log g(z) - (1 - y) log(1 - g(z)) = max(z, 0) - z y + log(1 + e^{-|z|}),
    finite and accurate for any finite z. logits and Y are (m, k): m examples, k labels.
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(Y, dtype=float)
    if y.shape != z.shape:
        raise ValueError(f"Y must have the shape of logits {z.shape}, got {y.shape}")
    if z.size == 0:
        raise ValueError("need at least one logit")
    with np.errstate(under="ignore"):
        loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(loss))


def weighted_multilabel_cost(logits: ArrayLike, Y: ArrayLike, pos_weight: ArrayLike) -> float:
    """Mean over every (example, label) entry of -[q_j y log g(z) + (1 - y) log(1 - g(z))],
    from logits; a float. q = pos_weight, shape (k,): label j's positives weigh q_j, its
    negatives 1 (tf.nn.weighted_cross_entropy_with_logits' convention).

    -log g(z) = softplus(-z) and -log(1 - g(z)) = softplus(z), with softplus(z) = max(z, 0) +
    log(1 + e^{-|z|}) finite for any finite z, and softplus(-z) = softplus(z) - z.
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(Y, dtype=float)
    q = np.asarray(pos_weight, dtype=float)
    if z.ndim != 2 or y.shape != z.shape:
        raise ValueError(f"logits and Y must both be (m, k), got {z.shape} and {y.shape}")
    if q.shape != (z.shape[1],):
        raise ValueError(f"pos_weight must have one weight per label, shape ({z.shape[1]},), "
                         f"got {q.shape}")
    if z.size == 0:
        raise ValueError("need at least one logit")
    with np.errstate(under="ignore"):
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    # q broadcasts along the last axis: one weight per label (column), the same for every example.
    loss = q * y * (softplus - z) + (1 - y) * softplus
    return float(np.mean(loss))


def hamming_accuracy(Y_true: ArrayLike, Y_pred: ArrayLike) -> float:
    """The fraction of (example, label) entries where Y_pred equals Y_true; a float."""
    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    if Y_true.shape != Y_pred.shape:
        raise ValueError(f"Y_pred must have the shape of Y_true {Y_true.shape}, "
                         f"got {Y_pred.shape}")
    if Y_true.size == 0:
        raise ValueError("need at least one label")
    return float(np.mean(Y_true == Y_pred))


def build_multilabel_classifier(n_features: int, n_labels: int) -> "keras.Model":
    """A compiled Keras model: n_features inputs -> a ReLU hidden layer -> n_labels logits,
    trained with binary cross-entropy from logits (one independent yes/no per label)."""
    import keras

    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(n_labels, activation="linear"),
    ])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    return model
