"""Tests of solutions.stability against scipy, TensorFlow, Keras losses and extended-precision
arithmetic."""

import numpy as np
import pytest
import scipy.special
from mpmath import mp

from solutions.stability import (
    binary_cross_entropy_with_logits,
    log_sigmoid,
    log_softmax,
    log_sum_exp,
    softmax_cross_entropy_with_logits,
)
from tests.solutions.helpers import frozen, strict

SCALES = [1e-3, 1.0, 30.0, 800.0, 1e4]
SHAPES = [(1,), (2,), (10,), (1, 1), (4, 3), (32, 10), (3, 4, 5)]
EPS = np.finfo(float).eps

# Logit rows where naive formulas fail: overflow (1e4), underflow (-1e4), a result that is
# tiny next to 1 (log(1 + e^-40) = 4e-18, lost by log(1.0 + 4e-18)), ties, and one class.
HARD_ROWS = [
    [1e4, -1e4, 0.0],
    [-1e4, -1e4 + 1, -1e4 + 2],
    [1e4, 1e4, 1e4, 1e4],
    [0.0, -40.0],
    [1e4, 1e4 - 40, -1e4],
    [1e4, 1e4 - 700, 1e4 - 745, 1e4 - 800],
    [-0.5 * np.log(2), -0.5 * np.log(2), -np.log(2)],
    [3.0],
    [-1e4],
]


# Extended-precision references. 400 digits, not 50: a log-softmax as small as e^-740
# (~1e-322, still a double) has to survive log(1 + e^-740) without being rounded away.


def exact_log_sum_exp(row):
    with mp.workdps(400):
        return mp.log(mp.fsum(mp.exp(mp.mpf(float(v))) for v in row))


def exact_log_softmax(row):
    with mp.workdps(400):
        lse = exact_log_sum_exp(row)
        return np.array([float(mp.mpf(float(v)) - lse) for v in row])


def exact_binary_cross_entropy(z, y):
    """Mean of y log(1 + e^-z) + (1 - y) log(1 + e^z), i.e. -y log g(z) - (1 - y) log(1 - g(z)),
    in 50 digits."""
    with mp.workdps(50):
        total = mp.fsum(
            float(y_i) * mp.log1p(mp.exp(-mp.mpf(float(z_i))))
            + (1 - float(y_i)) * mp.log1p(mp.exp(mp.mpf(float(z_i))))
            for z_i, y_i in zip(np.ravel(z), np.ravel(y))
        )
        return float(total / np.size(z))


def assert_log_sum_exp_close(ours, row):
    """Within 1e-12 relative, plus a few ulps of max(z): max(z) + log(sum) may cancel to near 0."""
    exact = exact_log_sum_exp(row)
    tolerance = 1e-12 * abs(float(exact)) + 4 * EPS * abs(max(row))
    assert abs(ours - float(exact)) <= tolerance, (row, ours, float(exact))


# --- log_sum_exp ---------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_log_sum_exp_matches_scipy_and_tensorflow(tf, scale):
    rng = np.random.default_rng(int(scale * 1000))
    for shape in SHAPES:
        z = rng.normal(size=shape) * scale
        out = strict(log_sum_exp, z)
        assert isinstance(out, np.ndarray) and out.shape == shape[:-1]
        atol = 4 * EPS * np.abs(z).max()
        np.testing.assert_allclose(out, scipy.special.logsumexp(z, axis=-1), rtol=1e-13, atol=atol)
        expected = tf.math.reduce_logsumexp(tf.constant(z, tf.float64), axis=-1).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=atol)


@pytest.mark.parametrize("row", HARD_ROWS, ids=range(len(HARD_ROWS)))
def test_log_sum_exp_is_exact_to_double_precision_on_hard_rows(row):
    assert_log_sum_exp_close(float(strict(log_sum_exp, row)), row)


@pytest.mark.parametrize("scale", SCALES)
def test_log_sum_exp_is_exact_to_double_precision_on_random_rows(scale):
    z = np.random.default_rng(21).uniform(-scale, scale, size=(8, 6))
    out = strict(log_sum_exp, z)
    for row, value in zip(z, out):
        assert_log_sum_exp_close(float(value), row)


def test_log_sum_exp_shapes_and_types():
    assert log_sum_exp([1.0, 2.0]).shape == ()
    assert log_sum_exp([[1, 2], [3, 4], [5, 6]]).shape == (3,)
    assert isinstance(log_sum_exp([1, 2]), np.ndarray)
    z = frozen([[1.0, 2.0], [3.0, 4.0]])
    strict(log_sum_exp, z)
    np.testing.assert_array_equal(z, [[1.0, 2.0], [3.0, 4.0]])
    # log(n e^c) = c + log n
    assert float(log_sum_exp([7.0] * 5)) == pytest.approx(7.0 + np.log(5), rel=1e-15, abs=0)
    with pytest.raises(ValueError):
        log_sum_exp(2.0)
    with pytest.raises(ValueError):
        log_sum_exp(np.zeros((3, 0)))


# --- log_softmax ---------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_log_softmax_matches_scipy_and_tensorflow(tf, scale):
    rng = np.random.default_rng(int(scale * 1000) + 1)
    for shape in SHAPES:
        z = rng.normal(size=shape) * scale
        out = strict(log_softmax, z)
        assert out.shape == z.shape
        # scipy and TensorFlow lose values below ~1e-16 next to 0 (see the exact tests below).
        atol = 4 * EPS * max(1.0, np.abs(z).max())
        np.testing.assert_allclose(out, scipy.special.log_softmax(z, axis=-1),
                                   rtol=1e-13, atol=atol)
        expected = tf.nn.log_softmax(tf.constant(z, tf.float64), axis=-1).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=atol)


@pytest.mark.parametrize("row", HARD_ROWS, ids=range(len(HARD_ROWS)))
def test_log_softmax_is_exact_to_double_precision_on_hard_rows(row):
    # Every entry is z_j - max(z) - log(1 + rest): two terms <= 0, no cancellation, so a pure
    # relative bound holds, even for the tiny entries next to 0.
    np.testing.assert_allclose(strict(log_softmax, row), exact_log_softmax(row),
                               rtol=1e-13, atol=1e-320)


@pytest.mark.parametrize("scale", SCALES)
def test_log_softmax_is_exact_to_double_precision_on_random_rows(scale):
    z = np.random.default_rng(22).uniform(-scale, scale, size=(8, 6))
    out = strict(log_softmax, z)
    for row, out_row in zip(z, out):
        np.testing.assert_allclose(out_row, exact_log_softmax(row), rtol=1e-13, atol=1e-320)


def test_log_softmax_exponentiates_to_a_distribution_and_leaves_input_alone():
    z = frozen(np.random.default_rng(23).normal(size=(5, 4)) * 100)
    out = strict(log_softmax, z)
    assert np.all(out <= 0)
    np.testing.assert_allclose(np.exp(out).sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(z, np.random.default_rng(23).normal(size=(5, 4)) * 100)
    np.testing.assert_array_equal(log_softmax([[0, 0]]), [[-np.log(2), -np.log(2)]])
    with pytest.raises(ValueError):
        log_softmax(1.0)


# --- softmax_cross_entropy_with_logits -----------------------------------------------


def random_logits(rng, m, k, scale):
    return rng.normal(size=(m, k)) * scale, rng.integers(0, k, size=m)


@pytest.mark.parametrize("scale", SCALES)
def test_softmax_cross_entropy_matches_tensorflow_and_keras(tf, scale):
    rng = np.random.default_rng(24)
    for m, k in [(1, 1), (1, 2), (7, 3), (64, 10)]:
        z, y = random_logits(rng, m, k, scale)
        J = strict(softmax_cross_entropy_with_logits, z, y)
        assert type(J) is float
        expected = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(y), logits=tf.constant(z, tf.float64))).numpy()
        atol = 4 * EPS * np.abs(z).max()
        assert J == pytest.approx(float(expected), rel=1e-12, abs=atol)
        keras_loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                   dtype="float64")
        assert J == pytest.approx(float(keras_loss(y, z)), rel=1e-12, abs=atol)
        assert J == pytest.approx(-np.mean(scipy.special.log_softmax(z, axis=-1)[np.arange(m), y]),
                                  rel=1e-12, abs=atol)


def test_softmax_cross_entropy_is_exact_at_extreme_logits():
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [0.0, -40.0, -1e4], [-1e4, -1e4, -1e4]])
    y = np.array([0, 1, 0, 2])
    exact = np.mean([-exact_log_softmax(row)[label] for row, label in zip(z, y)])
    J = strict(softmax_cross_entropy_with_logits, z, y)
    assert np.isfinite(J)
    assert J == pytest.approx(exact, rel=1e-13, abs=0)
    # Where the naive -log(softmax(z)) gives inf, this stays finite and exact: 2e4 for row 1.
    assert strict(softmax_cross_entropy_with_logits, z[1:2], y[1:2]) == 2e4


def test_softmax_cross_entropy_input_types_and_no_mutation():
    z, y = random_logits(np.random.default_rng(25), 6, 4, 3.0)
    expected = softmax_cross_entropy_with_logits(z, y)
    z_f, y_f = frozen(z), frozen(y)
    assert strict(softmax_cross_entropy_with_logits, z_f, y_f) == expected
    np.testing.assert_array_equal(z_f, z)
    assert softmax_cross_entropy_with_logits(z.tolist(), y.tolist()) == expected
    assert softmax_cross_entropy_with_logits(z, y.astype(float)) == expected


@pytest.mark.parametrize("z, y, message", [
    (np.zeros((3, 4)), [0, 1], "shape"),
    (np.zeros((3, 4)), [[0], [1], [2]], "shape"),
    (np.zeros((3, 4)), [0, 1, 4], "class ids"),
    (np.zeros((3, 4)), [0, -1, 2], "class ids"),
    (np.zeros((3, 4)), [0, 0.5, 2], "integer"),
    (np.zeros(4), [1], "logits"),
    (np.zeros((0, 4)), [], "logits"),
])
def test_softmax_cross_entropy_rejects_bad_input_clearly(z, y, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy_with_logits(z, y)


# --- binary_cross_entropy_with_logits ------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_binary_cross_entropy_matches_tensorflow(tf, scale):
    rng = np.random.default_rng(26)
    for shape in [(), (1,), (9,), (5, 3), (2, 3, 4)]:
        z = rng.normal(size=shape) * scale
        # Hard and soft labels.
        for y in [(rng.random(shape) < 0.5).astype(float), rng.random(shape)]:
            J = strict(binary_cross_entropy_with_logits, z, y)
            assert type(J) is float
            expected = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.constant(y, tf.float64), logits=tf.constant(z, tf.float64))).numpy()
            assert J == pytest.approx(float(expected), rel=1e-12, abs=1e-300)


def test_binary_cross_entropy_matches_keras(tf):
    rng = np.random.default_rng(27)
    z = rng.normal(size=(16, 3)) * 10
    y = (rng.random((16, 3)) < 0.5).astype(float)
    loss = tf.keras.losses.BinaryCrossentropy(from_logits=True, dtype="float64")
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(float(loss(y, z)),
                                                                   rel=1e-12, abs=0)


@pytest.mark.parametrize("scale", SCALES)
def test_binary_cross_entropy_is_exact_to_double_precision(scale):
    rng = np.random.default_rng(28)
    z = rng.uniform(-scale, scale, size=30)
    for y in [(rng.random(30) < 0.5).astype(float), np.round(rng.random(30), 2)]:
        assert strict(binary_cross_entropy_with_logits, z, y) == pytest.approx(
            exact_binary_cross_entropy(z, y), rel=1e-12, abs=1e-300)


def test_binary_cross_entropy_at_extreme_logits():
    z = np.array([1e4, -1e4, 1e4, -1e4, 40.0, -40.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    J = strict(binary_cross_entropy_with_logits, z, y)
    assert J == pytest.approx(exact_binary_cross_entropy(z, y), rel=1e-13, abs=0)
    assert strict(binary_cross_entropy_with_logits, [1e4], [0.0]) == 1e4  # confident and wrong: |z|
    # Confident and right: e^-40 = 4.2e-18, kept, not rounded to 0 by log(1.0 + 4.2e-18).
    assert strict(binary_cross_entropy_with_logits, 40.0, 1.0) == pytest.approx(
        np.exp(-40.0), rel=1e-13, abs=0)


def test_binary_cross_entropy_input_types_and_no_mutation():
    z, y = frozen([[2.0, -1.0], [0.5, 3.0]]), frozen([[1.0, 0.0], [0.0, 1.0]])
    J = strict(binary_cross_entropy_with_logits, z, y)
    np.testing.assert_array_equal(z, [[2.0, -1.0], [0.5, 3.0]])
    assert binary_cross_entropy_with_logits(z.tolist(), [[1, 0], [0, 1]]) == J
    assert binary_cross_entropy_with_logits(0.0, 1) == pytest.approx(np.log(2), rel=1e-15, abs=0)


@pytest.mark.parametrize("z_shape, y_shape",
                         [((4,), (4, 1)), ((4, 1), (4,)), ((3,), (4,)), ((0,), (0,))])
def test_binary_cross_entropy_rejects_mismatched_or_empty_input(z_shape, y_shape):
    with pytest.raises(ValueError):
        binary_cross_entropy_with_logits(np.zeros(z_shape), np.zeros(y_shape))


# --- log_sigmoid -----------------------------------------------------------------------

# Both tails: far below zero log(sigmoid(z)) = z - e^z (z itself to double precision), far above
# it -e^{-z}, tiny but not 0 until e^{-z} underflows (z > 745).
LOG_SIGMOID_POINTS = [-1e4, -800.0, -745.0, -40.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 40.0,
                      700.0, 745.0, 800.0, 1e4]


def exact_log_sigmoid(z):
    with mp.workdps(50):
        return float(-mp.log1p(mp.exp(-mp.mpf(float(z)))))


def test_log_sigmoid_is_exact_to_double_precision_over_a_wide_range():
    z = np.concatenate([LOG_SIGMOID_POINTS, np.linspace(-1e4, 1e4, 2001),
                        np.random.default_rng(19).uniform(-60, 60, size=500)])
    ours = strict(log_sigmoid, frozen(z))
    exact = np.array([exact_log_sigmoid(v) for v in z])
    assert ours.shape == z.shape and np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, exact, rtol=4 * EPS, atol=0)


def test_log_sigmoid_matches_tensorflow(tf):
    z = np.concatenate([LOG_SIGMOID_POINTS, np.random.default_rng(20).normal(0, 10, size=200)])
    expected = tf.math.log_sigmoid(tf.constant(z, tf.float64)).numpy()
    # TensorFlow's float64 log_sigmoid is -softplus(-z): a few ulps apart, and at z = 745 it
    # rounds the subnormal -e^-745 = -5e-324 to -0.0, hence an atol of a few subnormals.
    np.testing.assert_allclose(log_sigmoid(z), expected, rtol=1e-13, atol=1e-320)


def test_log_sigmoid_tails_shapes_and_types():
    assert log_sigmoid(np.array([-1e4]))[0] == -1e4                   # z itself
    assert log_sigmoid(np.array([40.0]))[0] == pytest.approx(-np.exp(-40.0), rel=1e-15)
    assert log_sigmoid(np.array([0.0]))[0] == pytest.approx(-np.log(2.0), rel=1e-15)
    for shape in SHAPES:
        z = np.random.default_rng(21).normal(0, 5, size=shape)
        assert log_sigmoid(z).shape == shape
    assert np.shape(log_sigmoid(3.0)) == () and log_sigmoid([[1, 2]]).shape == (1, 2)
