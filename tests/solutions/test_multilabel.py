"""Tests of solutions.multilabel against Keras, SciPy, scikit-learn and extended precision."""

import numpy as np
import pytest
from mpmath import mp
from scipy.special import expit, log_expit
from sklearn.metrics import hamming_loss

from solutions.multilabel import (
    hamming_accuracy,
    multilabel_cost,
    predict_labels,
    weighted_multilabel_cost,
)
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


# --- weighted_multilabel_cost --------------------------------------------------------


def exact_weighted_cost(logits, Y, pos_weight):
    """The weighted mean binary cross-entropy in 50-digit arithmetic, label j's positives
    weighing pos_weight[j]."""
    mp.dps = 50
    total = mp.mpf(0)
    for z_row, y_row in zip(logits, Y):
        for z, y, q in zip(z_row, y_row, pos_weight):
            z = mp.mpf(float(z))
            total += (mp.mpf(float(q)) * y * mp.log(1 + mp.exp(-z))
                      + (1 - y) * mp.log(1 + mp.exp(z)))
    return float(total / np.size(logits))


@pytest.mark.parametrize("m", [40, 3])   # m == k: a weight per example would not show as an error
def test_weighted_multilabel_cost_matches_tensorflow_in_float64(tf, m):
    rng = np.random.default_rng(6)
    z, Y = rng.normal(0, 3, size=(m, 3)), rng.integers(0, 2, size=(m, 3))
    q = np.array([0.5, 3.0, 19.0])
    got = strict(weighted_multilabel_cost, frozen(z), frozen(Y), frozen(q))
    per_entry = tf.nn.weighted_cross_entropy_with_logits(
        labels=tf.constant(Y, tf.float64), logits=tf.constant(z, tf.float64),
        pos_weight=tf.constant(q, tf.float64))
    assert isinstance(got, float)
    assert got == pytest.approx(float(tf.reduce_mean(per_entry)), rel=1e-13)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0, 1e4])
def test_weighted_multilabel_cost_matches_mpmath_at_large_logits(scale):
    rng = np.random.default_rng(7)
    z, Y = rng.uniform(-scale, scale, size=(6, 3)), rng.integers(0, 2, size=(6, 3))
    q = np.array([0.0, 2.5, 40.0])
    assert strict(weighted_multilabel_cost, z, Y, q) == pytest.approx(
        exact_weighted_cost(z, Y, q), rel=1e-13, abs=1e-300)


def test_weighted_multilabel_cost_with_unit_weights_is_multilabel_cost():
    rng = np.random.default_rng(8)
    z, Y = rng.normal(0, 4, size=(25, 4)), rng.integers(0, 2, size=(25, 4))
    assert weighted_multilabel_cost(z, Y, np.ones(4)) == pytest.approx(multilabel_cost(z, Y),
                                                                       rel=1e-14)


def test_weighted_multilabel_cost_weighs_only_the_positives_of_each_label():
    z = np.array([[-1000.0, 1000.0], [1000.0, -1000.0]])
    # A missed car costs 1000 x 3, a false bus 1000, a false car 1000, a missed bus 1000 x 7.
    Y = np.array([[1, 0], [0, 1]])
    assert weighted_multilabel_cost(z, Y, np.array([3.0, 7.0])) == pytest.approx(
        (3000 + 1000 + 1000 + 7000) / 4, rel=1e-15)


def test_weighted_multilabel_cost_refuses_a_weight_per_example():
    with pytest.raises(ValueError):
        weighted_multilabel_cost(np.zeros((4, 3)), np.zeros((4, 3)), np.ones(4))


# --- hamming_accuracy ----------------------------------------------------------------


def test_hamming_accuracy_is_one_minus_sklearn_hamming_loss():
    rng = np.random.default_rng(4)
    for _ in range(10):
        Y, P = rng.integers(0, 2, size=(25, 3)), rng.integers(0, 2, size=(25, 3))
        assert hamming_accuracy(frozen(Y), frozen(P)) == pytest.approx(1 - hamming_loss(Y, P),
                                                                       abs=1e-15)


def test_hamming_accuracy_counts_entries_not_scenes():
    assert hamming_accuracy(np.array([[1, 0], [0, 1]]), np.array([[1, 1], [1, 1]])) == 0.5
