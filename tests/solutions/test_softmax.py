"""Tests of solutions.softmax against scipy, TensorFlow, Keras losses and 50-digit arithmetic."""

import numpy as np
import pytest
import scipy.special
from mpmath import mp

from solutions.softmax import (
    build_digit_classifier,
    softmax,
    softmax_cross_entropy_gradient,
    softmax_gradient,
    sparse_categorical_crossentropy,
)
from tests.solutions.helpers import frozen, strict

SCALES = [1e-3, 1.0, 30.0, 800.0, 1e4]
SHAPES = [(1,), (2,), (10,), (1, 1), (4, 3), (32, 10), (3, 4, 5)]


def exact_softmax(row):
    """softmax of one row of doubles in 50-digit arithmetic, rounded to doubles."""
    with mp.workdps(50):
        e = [mp.exp(mp.mpf(float(v))) for v in row]
        total = mp.fsum(e)
        return np.array([float(v / total) for v in e])


# --- softmax -------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_softmax_matches_scipy_and_tensorflow(tf, scale):
    rng = np.random.default_rng(int(scale * 1000))
    for shape in SHAPES:
        z = rng.normal(size=shape) * scale
        a = strict(softmax, z)
        assert a.shape == z.shape
        np.testing.assert_allclose(a, scipy.special.softmax(z, axis=-1), rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(a, tf.nn.softmax(tf.constant(z, tf.float64), axis=-1).numpy(),
                                   rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("scale", SCALES)
def test_softmax_is_exact_to_double_precision(scale):
    rng = np.random.default_rng(11)
    z = rng.uniform(-scale, scale, size=(6, 5))
    z[0] = [scale, -scale, 0.0, scale, -scale]  # ties at the max and the far ends of the range
    a = strict(softmax, z)
    for row, a_row in zip(z, a):
        # exp(z - max(z)) inherits the rounding of z - max(z): a relative error up to
        # |z - max(z)| * 2^-53, at most ~1e-13 for terms that do not underflow (|z - max| < 745).
        np.testing.assert_allclose(a_row, exact_softmax(row), rtol=2e-13, atol=1e-300)


def test_softmax_rows_are_probability_distributions_for_extreme_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e300, -1e300, 0.0],
                  [709.0, 710.0, -745.0]])
    a = strict(softmax, z)
    assert np.all(np.isfinite(a)) and np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=4.5e-16)
    np.testing.assert_allclose(a[1], 1 / 3, rtol=1e-15)
    np.testing.assert_array_equal(a[0], [1.0, 0.0, 0.0])


def test_softmax_works_along_the_last_axis_only():
    z = np.random.default_rng(12).normal(size=(3, 4, 5)) * 5
    a = softmax(z)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    # Each row of a batch gets exactly what it would get alone.
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(a[i, j], softmax(z[i, j]))


def test_softmax_is_unchanged_by_adding_a_constant_to_every_logit():
    z = np.random.default_rng(13).normal(size=(5, 7))
    for c in [-1e3, 1e3, 5e3]:
        # z + c rounds to a multiple of ulp(c), so compare to within that rounding.
        np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=abs(c) * 1e-14)


def test_softmax_accepts_lists_and_leaves_inputs_alone():
    z = frozen([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    a = strict(softmax, z)
    np.testing.assert_array_equal(z, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    out = softmax([[1, 2, 3], [0, 0, 0]])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, a)
    np.testing.assert_array_equal(softmax([42.0]), [1.0])


def test_softmax_rejects_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        softmax(3.0)


# --- sparse_categorical_crossentropy -------------------------------------------------


def random_probs(rng, m, k, spread=2.0):
    """(m, k) rows of probabilities (a softmax of random logits, computed by scipy) and labels."""
    probs = scipy.special.softmax(rng.normal(size=(m, k)) * spread, axis=-1)
    return probs, rng.integers(0, k, size=m)


@pytest.mark.parametrize("m, k", [(1, 2), (5, 3), (64, 10), (200, 4)])
def test_sparse_categorical_crossentropy_matches_keras(tf, m, k):
    probs, y = random_probs(np.random.default_rng(m * k), m, k)
    # Keras clips probabilities to [1e-7, 1 - 1e-7]; these stay well inside.
    assert probs.min() > 1e-5 and probs.max() < 1 - 1e-5
    loss = tf.keras.losses.SparseCategoricalCrossentropy(dtype="float64")
    assert strict(sparse_categorical_crossentropy, probs, y) == pytest.approx(
        float(loss(y, probs)), rel=1e-12, abs=0)


@pytest.mark.parametrize("spread", [0.1, 3.0, 30.0])
def test_sparse_categorical_crossentropy_matches_tensorflow_and_a_loop(tf, spread):
    probs, y = random_probs(np.random.default_rng(14), 50, 6, spread)
    # Where p sums to 1, softmax(log p) = p, so TensorFlow's from-logits loss applies to log p.
    with np.errstate(divide="ignore"):
        expected = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(y), logits=tf.constant(np.log(probs), tf.float64))).numpy()
    loop = sum(-np.log(probs[i][y[i]]) for i in range(len(y))) / len(y)
    J = strict(sparse_categorical_crossentropy, probs, y)
    assert J == pytest.approx(loop, rel=1e-13, abs=0)
    assert J == pytest.approx(float(expected), rel=1e-10, abs=0)


def test_sparse_categorical_crossentropy_known_values():
    probs = [[0.25, 0.75], [0.5, 0.5]]
    assert sparse_categorical_crossentropy(probs, [1, 0]) == pytest.approx(
        (np.log(4 / 3) + np.log(2)) / 2, rel=1e-15, abs=0)
    assert sparse_categorical_crossentropy([[1.0, 0.0]], [0]) == 0.0


def test_sparse_categorical_crossentropy_is_inf_for_a_zero_probability_without_warning():
    # -log 0 = inf is the true value: the model gave the correct class no chance at all.
    probs = [[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]
    assert strict(sparse_categorical_crossentropy, probs, [1, 2]) == np.inf
    # A zero on a class that is not the label costs nothing.
    assert np.isfinite(strict(sparse_categorical_crossentropy, probs, [0, 2]))


def test_sparse_categorical_crossentropy_input_types_and_no_mutation():
    probs, y = random_probs(np.random.default_rng(15), 8, 3)
    expected = sparse_categorical_crossentropy(probs, y)
    assert type(expected) is float
    probs_f, y_f = frozen(probs), frozen(y)
    assert strict(sparse_categorical_crossentropy, probs_f, y_f) == expected
    np.testing.assert_array_equal(probs_f, probs)
    for labels in (y.tolist(), y.astype(np.uint8), y.astype(float)):
        assert sparse_categorical_crossentropy(probs.tolist(), labels) == expected


@pytest.mark.parametrize("probs, y, message", [
    (np.full((3, 4), 0.25), [0, 1], "shape"),           # one label short
    (np.full((3, 4), 0.25), [[0], [1], [2]], "shape"),  # labels as a column
    (np.full((3, 4), 0.25), [0, 1, 4], "class ids"),    # class 4 of 0..3
    (np.full((3, 4), 0.25), [0, -1, 2], "class ids"),
    (np.full((3, 4), 0.25), [0, 1.5, 2], "integer"),
    (np.full(4, 0.25), [1], "probs"),                   # probs must be (m, k)
    (np.full((0, 4), 0.25), [], "probs"),               # no example at all
    ([[-0.5, 1.5]], [0], "non-negative"),
])
def test_sparse_categorical_crossentropy_rejects_bad_input_clearly(probs, y, message):
    with pytest.raises(ValueError, match=message):
        sparse_categorical_crossentropy(probs, y)


# --- softmax_cross_entropy_gradient ----------------------------------------------------


def tape_logits_gradient(tf, z, y):
    """dJ/dz of the mean sparse cross-entropy of the logits z, by TensorFlow's autodiff."""
    z_var = tf.Variable(z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        J = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(y), logits=z_var))
    return tape.gradient(J, z_var).numpy()


@pytest.mark.parametrize("m, k, scale", [(1, 2, 1.0), (1, 1, 1.0), (3, 3, 1.0), (7, 5, 3.0),
                                         (64, 10, 1.0), (500, 4, 2.0), (20, 4, 1e3)])
def test_softmax_cross_entropy_gradient_matches_tensorflow_gradient_tape(tf, m, k, scale):
    rng = np.random.default_rng(m * 100 + k)
    z = rng.normal(size=(m, k)) * scale
    y = rng.integers(0, k, size=m)
    grad = strict(softmax_cross_entropy_gradient, frozen(z), frozen(y))
    assert grad.shape == (m, k)
    np.testing.assert_allclose(grad, tape_logits_gradient(tf, z, y), rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_gradient_matches_finite_differences_and_sums_to_zero():
    rng = np.random.default_rng(18)
    z, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    grad = softmax_cross_entropy_gradient(z, y)
    # Central differences of the cost J(z) itself, entry by entry.
    h, numeric = 1e-6, np.zeros_like(z)
    for index in np.ndindex(*z.shape):
        step = np.zeros_like(z)
        step[index] = h
        numeric[index] = (sparse_categorical_crossentropy(softmax(z + step), y)
                          - sparse_categorical_crossentropy(softmax(z - step), y)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    # Each row is (a - e_y) / m: it sums to 0, and m times it is the one-example gradient.
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(6 * grad[2], softmax_cross_entropy_gradient(z[2:3], y[2:3])[0],
                               rtol=1e-14)


def test_softmax_cross_entropy_gradient_accepts_lists_and_rejects_bad_input():
    np.testing.assert_allclose(softmax_cross_entropy_gradient([[0.0, 0.0]], [1.0]),
                               [[0.5, -0.5]])
    for z, y in [(np.ones(3), [0]), (np.ones((2, 3)), [0]), (np.ones((2, 3)), [0, 3])]:
        with pytest.raises(ValueError):
            softmax_cross_entropy_gradient(z, y)


# --- softmax_gradient ----------------------------------------------------------------


def tape_gradient(tf, X, y, W, b):
    """dJ/dW and dJ/db of the mean sparse cross-entropy of X W + b, by TensorFlow's autodiff."""
    W_var, b_var = tf.Variable(W, dtype=tf.float64), tf.Variable(b, dtype=tf.float64)
    with tf.GradientTape() as tape:
        logits = tf.constant(X, tf.float64) @ W_var + b_var
        J = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(y), logits=logits))
    dW, db = tape.gradient(J, [W_var, b_var])
    return dW.numpy(), db.numpy()


@pytest.mark.parametrize("m, n, k, scale", [(1, 1, 2, 1.0), (2, 3, 3, 1.0), (7, 4, 5, 3.0),
                                            (64, 8, 10, 1.0), (20, 3, 4, 300.0)])
def test_softmax_gradient_matches_tensorflow_gradient_tape(tf, m, n, k, scale):
    rng = np.random.default_rng(m * 100 + k)
    X = rng.normal(size=(m, n))
    y = rng.integers(0, k, size=m)
    W, b = rng.normal(size=(n, k)) * scale, rng.normal(size=k) * scale
    dj_dW, dj_db = strict(softmax_gradient, X, y, W, b)
    assert dj_dW.shape == (n, k) and dj_db.shape == (k,)
    expected_dW, expected_db = tape_gradient(tf, X, y, W, b)
    np.testing.assert_allclose(dj_dW, expected_dW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dj_db, expected_db, rtol=1e-12, atol=1e-14)


def test_softmax_gradient_matches_finite_differences_of_the_cost():
    rng = np.random.default_rng(16)
    X, y = rng.normal(size=(9, 3)), rng.integers(0, 4, size=9)
    W, b, h = rng.normal(size=(3, 4)), rng.normal(size=4), 1e-6

    def J(W, b):
        return sparse_categorical_crossentropy(softmax(X @ W + b), y)

    dj_dW, dj_db = softmax_gradient(X, y, W, b)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        assert dj_dW[idx] == pytest.approx((J(W + E, b) - J(W - E, b)) / (2 * h), abs=1e-8)
    for j in range(4):
        e = np.eye(4)[j] * h
        assert dj_db[j] == pytest.approx((J(W, b + e) - J(W, b - e)) / (2 * h), abs=1e-8)


def test_softmax_gradient_rows_of_the_error_sum_to_zero_and_inputs_stay():
    # a - e_y sums to 1 - 1 = 0 over the classes, so dj_db sums to 0 and so does each row of dj_dW.
    rng = np.random.default_rng(17)
    X, y = frozen(rng.normal(size=(6, 2))), frozen(rng.integers(0, 3, size=6))
    W, b = frozen(rng.normal(size=(2, 3))), frozen(rng.normal(size=3))
    dj_dW, dj_db = strict(softmax_gradient, X, y, W, b)
    np.testing.assert_allclose(dj_db.sum(), 0.0, atol=1e-15)
    np.testing.assert_allclose(dj_dW.sum(axis=1), 0.0, atol=1e-15)
    # W = 0, b = 0: every probability is 1/k, so dj_db_j = 1/k - (fraction of class j).
    _, db0 = softmax_gradient(X, y, np.zeros((2, 3)), np.zeros(3))
    np.testing.assert_allclose(db0, 1 / 3 - np.bincount(y, minlength=3) / 6, rtol=1e-14)


@pytest.mark.parametrize("X, y, W, b", [
    (np.ones((3, 2)), [0, 1], np.ones((2, 3)), np.ones(3)),           # one label short
    (np.ones((3, 2)), [0, 1, 3], np.ones((2, 3)), np.ones(3)),        # class 3 of 0..2
    (np.ones((3, 2)), [0, 1, 2], np.ones((3, 3)), np.ones(3)),        # W does not fit X
    (np.ones((3, 2)), [0, 1, 2], np.ones((2, 3)), np.ones(2)),        # b does not fit W
])
def test_softmax_gradient_rejects_mismatched_shapes(X, y, W, b):
    with pytest.raises(ValueError):
        softmax_gradient(X, y, W, b)


# --- build_digit_classifier ----------------------------------------------------------


def load_digits_split():
    """sklearn's 8x8 digits, pixels scaled to [0, 1], split 75/25 stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def trained_digits(tf):
    tf.keras.utils.set_random_seed(0)
    X_train, X_test, y_train, y_test = load_digits_split()
    model = build_digit_classifier()
    model.fit(X_train, y_train, epochs=40, batch_size=32, verbose=0)
    return model, X_test, y_test


@pytest.mark.slow
def test_digit_classifier_loss_matches_its_output_layer(tf):
    keras = tf.keras
    model = build_digit_classifier()
    assert model.input_shape == (None, 64)
    assert model.output_shape == (None, 10)
    assert model.optimizer is not None  # compiled
    assert model.layers[-1].activation is keras.activations.linear
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    assert model.loss.get_config()["from_logits"] is True


@pytest.mark.slow
def test_digit_classifier_trains_to_95_percent_on_held_out_digits(trained_digits):
    model, X_test, y_test = trained_digits
    z = model(X_test).numpy()
    accuracy = np.mean(np.argmax(z, axis=1) == y_test)
    assert accuracy >= 0.95
    # Logits, not probabilities: rows do not sum to 1 until a softmax is applied.
    assert not np.allclose(z.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0, rtol=1e-12)
