"""Tests of solutions.multilabel against Keras, SciPy, scikit-learn and extended precision."""

import numpy as np
import pytest
from mpmath import mp
from scipy.special import expit, log_expit
from sklearn.metrics import hamming_loss

from solutions.multilabel import hamming_accuracy, multilabel_cost, predict_labels
from tests.solutions.helpers import frozen, strict


def exact_cost(logits, Y):
    """The mean binary cross-entropy in 50-digit arithmetic."""
    mp.dps = 50
    total = mp.mpf(0)
    for z, y in zip(np.ravel(logits), np.ravel(Y)):
        z = mp.mpf(float(z))
        # -log sigmoid(z) = log(1 + e^-z) and -log(1 - sigmoid(z)) = log(1 + e^z), exactly.
        total += y * mp.log(1 + mp.exp(-z)) + (1 - y) * mp.log(1 + mp.exp(z))
    return float(total / np.size(logits))


# --- predict_labels ------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 0.1, 0.3, 0.75, 0.95])
def test_predict_labels_matches_scipy_expit(threshold):
    z = np.random.default_rng(0).normal(0, 4, size=(50, 3))
    got = strict(predict_labels, frozen(z), threshold)
    assert got.dtype.kind == "i" and got.shape == z.shape
    np.testing.assert_array_equal(got, (expit(z) >= threshold).astype(int))


def test_predict_labels_is_one_at_the_threshold_and_keeps_the_shape():
    np.testing.assert_array_equal(predict_labels(np.array([0.0, -1e-9, 1e-9])), [1, 0, 1])
    assert predict_labels(np.array([[0.3]])).shape == (1, 1)


def test_predict_labels_at_extreme_logits_raises_no_warning():
    z = np.array([[-1e4, 1e4, -745.0, 745.0]])
    np.testing.assert_array_equal(strict(predict_labels, z, 0.5), [[0, 1, 0, 1]])


# --- multilabel_cost -----------------------------------------------------------------


def test_multilabel_cost_matches_keras_binary_crossentropy_from_logits(tf):
    import keras

    rng = np.random.default_rng(1)
    z, Y = rng.normal(0, 3, size=(40, 3)), rng.integers(0, 2, size=(40, 3))
    got = strict(multilabel_cost, frozen(z), frozen(Y))
    # Keras computes its losses in float32: agreement to float32's precision.
    keras_loss = keras.losses.BinaryCrossentropy(from_logits=True)
    assert got == pytest.approx(float(keras_loss(Y.astype("float32"), z.astype("float32"))),
                                rel=1e-6)
    # TensorFlow's own op in float64: agreement to rounding.
    per_entry = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(Y, tf.float64),
                                                        logits=tf.constant(z, tf.float64))
    assert got == pytest.approx(float(tf.reduce_mean(per_entry)), rel=1e-13)


def test_multilabel_cost_matches_scipy_log_expit():
    rng = np.random.default_rng(2)
    z, Y = rng.normal(0, 5, size=(30, 4)), rng.integers(0, 2, size=(30, 4))
    expected = -np.mean(Y * log_expit(z) + (1 - Y) * log_expit(-z))
    assert multilabel_cost(z, Y) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("scale", [1.0, 30.0, 700.0, 1e4])
def test_multilabel_cost_matches_mpmath_up_to_logits_of_1e4(scale):
    rng = np.random.default_rng(3)
    z, Y = rng.uniform(-scale, scale, size=(6, 3)), rng.integers(0, 2, size=(6, 3))
    assert strict(multilabel_cost, z, Y) == pytest.approx(exact_cost(z, Y), rel=1e-13)


def test_multilabel_cost_is_a_mean_over_examples_and_labels():
    z = np.zeros((5, 4))
    assert multilabel_cost(z, np.ones((5, 4), dtype=int)) == pytest.approx(np.log(2), rel=1e-15)
    assert isinstance(multilabel_cost(z, np.zeros((5, 4))), float)


def test_multilabel_cost_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        multilabel_cost(np.zeros((2, 3)), np.zeros((3, 2)))


# --- hamming_accuracy ----------------------------------------------------------------


def test_hamming_accuracy_is_one_minus_sklearn_hamming_loss():
    rng = np.random.default_rng(4)
    for _ in range(10):
        Y, P = rng.integers(0, 2, size=(25, 3)), rng.integers(0, 2, size=(25, 3))
        assert hamming_accuracy(frozen(Y), frozen(P)) == pytest.approx(1 - hamming_loss(Y, P),
                                                                       abs=1e-15)


def test_hamming_accuracy_counts_entries_not_scenes():
    assert hamming_accuracy(np.array([[1, 0], [0, 1]]), np.array([[1, 1], [1, 1]])) == 0.5
