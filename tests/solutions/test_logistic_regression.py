"""Tests of solutions.logistic_regression against scipy, TensorFlow, mpmath and plain-Python
loops."""

import math

import numpy as np
import pytest
from mpmath import mp
from scipy.special import expit

from solutions.logistic_regression import (
    build_binary_classifier,
    compute_cost,
    compute_gradient,
    gradient_descent,
    minibatch_gradient_descent,
    sigmoid,
)
from tests.solutions.helpers import frozen as _frozen
from tests.solutions.helpers import strict


def frozen_float(a):
    return _frozen(a, dtype=float)

SCALES = [1e-3, 1.0, 30.0, 800.0, 1e4]
SHAPES = [(1,), (7,), (1, 1), (4, 3), (50, 10), (2, 3, 4)]


def problem(rng, m, n, scale):
    """A random (X, y, w, b) whose logits z = X @ w + b reach about +-scale."""
    X = rng.normal(size=(m, n))
    y = (rng.random(m) < 0.5).astype(float)
    w = rng.normal(size=n) * scale / math.sqrt(n)
    b = float(rng.normal() * scale / 4)
    return X, y, w, b


def exact_cost(X, y, w, b):
    """J in 50-digit arithmetic, with -log g(z) = log(1 + e^{-z}) and
    -log(1 - g(z)) = log(1 + e^{z})."""
    with mp.workdps(50):
        total = mp.mpf(0)
        for x_i, y_i in zip(X, y):
            z = mp.fsum(mp.mpf(float(a)) * mp.mpf(float(c)) for a, c in zip(x_i, w)) + mp.mpf(b)
            total += y_i * mp.log1p(mp.exp(-z)) + (1 - y_i) * mp.log1p(mp.exp(z))
        return float(total / len(y))


# --- sigmoid -------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_sigmoid_matches_scipy_expit(scale):
    rng = np.random.default_rng(int(scale * 1000))
    for shape in SHAPES:
        z = rng.normal(size=shape) * scale
        out = strict(sigmoid, z)
        assert out.shape == z.shape
        np.testing.assert_allclose(out, expit(z), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("scale", SCALES)
def test_sigmoid_matches_tensorflow(tf, scale):
    z = np.random.default_rng(1).normal(size=(20, 5)) * scale
    expected = tf.math.sigmoid(tf.constant(z, dtype=tf.float64)).numpy()
    np.testing.assert_allclose(strict(sigmoid, z), expected, rtol=1e-13, atol=1e-300)


def test_sigmoid_is_exact_to_double_precision_at_the_extremes():
    z = np.array([-1e4, -745.5, -740.0, -709.0, -100.0, -37.0, -1e-8, -0.0, 0.0, 5e-324,
                  1e-8, 1.0, 36.9, 37.0, 100.0, 709.0, 1e4,
                  np.finfo(float).max, -np.finfo(float).max])
    out = strict(sigmoid, z)
    with mp.workdps(50):
        exact = np.array([float(1 / (1 + mp.exp(-mp.mpf(v)))) for v in z])
    # Below ~1e-308 results are subnormal and carry fewer digits: compare those absolutely.
    np.testing.assert_allclose(out, exact, rtol=1e-14, atol=1e-322)
    assert np.all(np.isfinite(out))
    assert np.all((out >= 0) & (out <= 1))


def test_sigmoid_symmetry_and_known_values():
    z = np.linspace(-50, 50, 1001)
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), 1.0, rtol=0, atol=4.5e-16)  # two ulps of 1
    assert sigmoid(0.0) == 0.5
    assert sigmoid(np.log(3.0)) == pytest.approx(0.75, rel=1e-15, abs=0)


def test_sigmoid_accepts_scalars_lists_and_ints_and_returns_ndarray():
    for z, shape in [(0.5, ()), (2, ()), ([1, -2, 3], (3,)), ([[0], [1]], (2, 1))]:
        out = strict(sigmoid, z)
        assert isinstance(out, np.ndarray)
        assert out.shape == shape
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, expit(np.asarray(z, dtype=float)), rtol=1e-15)


def test_sigmoid_does_not_modify_its_input():
    z = frozen_float(np.linspace(-3, 3, 7))
    strict(sigmoid, z)
    np.testing.assert_array_equal(z, np.linspace(-3, 3, 7))


# --- compute_cost --------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_compute_cost_matches_tensorflow_sigmoid_cross_entropy(tf, scale):
    rng = np.random.default_rng(2)
    for m, n in [(1, 1), (5, 3), (100, 8)]:
        X, y, w, b = problem(rng, m, n, scale)
        z = X @ w + b
        expected = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.constant(y, tf.float64), logits=tf.constant(z, tf.float64))).numpy()
        cost = strict(compute_cost, X, y, w, b)
        assert cost == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_compute_cost_matches_keras_binary_crossentropy(tf):
    X, y, w, b = problem(np.random.default_rng(3), 40, 6, 5.0)
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True, dtype="float64")
    expected = float(bce(y[:, None], (X @ w + b)[:, None]))
    assert strict(compute_cost, X, y, w, b) == pytest.approx(expected, rel=1e-12, abs=0)


def test_compute_cost_matches_the_textbook_formula_for_moderate_z():
    X, y, w, b = problem(np.random.default_rng(4), 30, 4, 3.0)
    f = expit(X @ w + b)
    textbook = np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))
    assert compute_cost(X, y, w, b) == pytest.approx(textbook, rel=1e-12, abs=0)


@pytest.mark.parametrize("scale", [1.0, 40.0, 800.0, 1e4])
def test_compute_cost_is_exact_when_the_sigmoid_saturates(scale):
    rng = np.random.default_rng(5)
    X, y, w, b = problem(rng, 12, 3, scale)
    cost = strict(compute_cost, X, y, w, b)
    assert cost == pytest.approx(exact_cost(X, y, w, b), rel=1e-12, abs=1e-300)


def test_compute_cost_known_values():
    X = [[1.0, 2.0], [3.0, -1.0]]
    # z = 0 everywhere: g(z) = 1/2 and every loss is log 2.
    assert compute_cost(X, [0, 1], [0, 0], 0) == pytest.approx(math.log(2), rel=1e-15, abs=0)
    # A confident wrong answer costs about |z|, not inf.
    assert strict(compute_cost, [[1.0]], [0.0], [1e4], 0.0) == pytest.approx(1e4, rel=1e-15, abs=0)
    # A confident right answer costs e^{-|z|}, rounded: 0, not nan.
    assert strict(compute_cost, [[1.0]], [1.0], [1e4], 0.0) == 0.0


def test_compute_cost_returns_a_python_float_and_leaves_inputs_alone():
    X, y, w, b = problem(np.random.default_rng(6), 8, 3, 2.0)
    Xf, yf, wf = frozen_float(X), frozen_float(y), frozen_float(w)
    cost = strict(compute_cost, Xf, yf, wf, b)
    assert type(cost) is float
    np.testing.assert_array_equal(Xf, X)
    assert type(compute_cost(X.tolist(), y.tolist(), w.tolist(), b)) is float


@pytest.mark.parametrize("y_shape, w_len", [((8, 1), 3), ((7,), 3), ((8,), 4)])
def test_compute_cost_and_gradient_reject_mismatched_shapes(y_shape, w_len):
    X = np.ones((8, 3))
    y = np.zeros(y_shape)
    w = np.zeros(w_len)
    with pytest.raises(ValueError, match="must"):
        compute_cost(X, y, w, 0.0)
    with pytest.raises(ValueError, match="must"):
        compute_gradient(X, y, w, 0.0)


# --- compute_gradient ----------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-3, 1.0, 20.0, 1e4])
def test_compute_gradient_matches_tensorflow_gradient_tape(tf, scale):
    rng = np.random.default_rng(7)
    for m, n in [(1, 1), (6, 2), (60, 9)]:
        X, y, w, b = problem(rng, m, n, scale)
        w_t = tf.Variable(w, dtype=tf.float64)
        b_t = tf.Variable(b, dtype=tf.float64)
        with tf.GradientTape() as tape:
            z = tf.linalg.matvec(tf.constant(X, tf.float64), w_t) + b_t
            J = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.constant(y, tf.float64), logits=z))
        expected_w, expected_b = (t.numpy() for t in tape.gradient(J, [w_t, b_t]))
        dj_dw, dj_db = strict(compute_gradient, X, y, w, b)
        # Entries of dj_dw are sums of terms of both signs: compare them on the scale of |X|.
        np.testing.assert_allclose(dj_dw, expected_w, rtol=1e-10, atol=1e-14)
        assert dj_db == pytest.approx(float(expected_b), rel=1e-10, abs=1e-14)


def test_compute_gradient_matches_central_differences_of_an_independent_cost():
    X, y, w, b = problem(np.random.default_rng(8), 25, 4, 2.0)

    def cost(params):
        f = expit(X @ params[:-1] + params[-1])
        return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))

    params = np.append(w, b)
    h = 1e-6
    numeric = np.array([(cost(params + h * e) - cost(params - h * e)) / (2 * h)
                        for e in np.eye(len(params))])
    dj_dw, dj_db = compute_gradient(X, y, w, b)
    np.testing.assert_allclose(np.append(dj_dw, dj_db), numeric, rtol=1e-6, atol=1e-9)


def test_compute_gradient_types_shapes_and_inputs():
    X, y, w, b = problem(np.random.default_rng(9), 10, 3, 1.0)
    Xf, yf, wf = frozen_float(X), frozen_float(y), frozen_float(w)
    dj_dw, dj_db = strict(compute_gradient, Xf, yf, wf, b)
    assert isinstance(dj_dw, np.ndarray) and dj_dw.shape == (3,)
    assert type(dj_db) is float
    np.testing.assert_array_equal(wf, w)
    dj_dw_list, dj_db_list = compute_gradient(X.tolist(), y.tolist(), w.tolist(), b)
    np.testing.assert_allclose(dj_dw_list, dj_dw, rtol=1e-15)


def test_compute_gradient_vanishes_on_confident_right_answers_without_warnings():
    X = np.array([[1.0], [-1.0]])
    dj_dw, dj_db = strict(compute_gradient, X, [1, 0], [1e4], 0.0)
    np.testing.assert_array_equal(dj_dw, [0.0])
    assert dj_db == 0.0


# --- gradient_descent ----------------------------------------------------------------


def lecture_loops(X, y, w, b, alpha, num_iters):
    """Gradient descent as the lecture writes it: one example and one feature at a time, Python
    floats."""
    m, n = len(X), len(X[0])
    w, b = [float(v) for v in w], float(b)

    def f(i):
        return 1 / (1 + math.exp(-(sum(X[i][j] * w[j] for j in range(n)) + b)))

    J_history = []
    for _ in range(num_iters):
        dj_dw, dj_db = [0.0] * n, 0.0
        for i in range(m):
            err = f(i) - y[i]
            for j in range(n):
                dj_dw[j] += err * X[i][j] / m
            dj_db += err / m
        w = [w[j] - alpha * dj_dw[j] for j in range(n)]
        b = b - alpha * dj_db
        J_history.append(sum(-y[i] * math.log(f(i)) - (1 - y[i]) * math.log(1 - f(i))
                             for i in range(m)) / m)
    return w, b, J_history


TOY_X = np.array([[0.5, 1.5], [1, 1], [1.5, 0.5], [3, 0.5], [2, 2], [1, 2.5]])
TOY_Y = np.array([0, 0, 0, 1, 1, 1])


def test_gradient_descent_matches_the_lecture_loops():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(15, 3))
    y = (X @ [1.0, -2.0, 0.5] + 0.3 > 0).astype(float)
    w_in = rng.normal(size=3)
    w, b, J_history = strict(gradient_descent, X, y, w_in, 0.2, 0.5, 40)
    w_ref, b_ref, J_ref = lecture_loops(X.tolist(), y.tolist(), w_in, 0.2, 0.5, 40)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)
    assert b == pytest.approx(b_ref, rel=1e-12, abs=0)
    np.testing.assert_allclose(J_history, J_ref, rtol=1e-12)


def test_gradient_descent_reproduces_the_course_lab_result():
    # The values DeepLearning.AI's logistic-regression lab prints for this data set:
    # w = [5.28 5.08], b = -14.222409982019837 after 10000 steps of alpha = 0.1 from zeros.
    w, b, J_history = gradient_descent(TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1, 10000)
    np.testing.assert_allclose(w, [5.28, 5.08], atol=5e-3)
    assert b == pytest.approx(-14.222409982019837, rel=1e-9, abs=0)


def test_gradient_descent_history_decreases_on_a_separable_problem():
    w, b, J_history = strict(gradient_descent, TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1, 500)
    assert len(J_history) == 500
    assert np.all(np.diff(J_history) < 0)
    assert J_history[0] < math.log(2)  # the cost at w = 0, b = 0, before the first step
    assert np.array_equal((TOY_X @ w + b > 0), TOY_Y.astype(bool))


def test_gradient_descent_leaves_w_in_alone_and_returns_new_arrays():
    w_in = frozen_float([0.5, -0.5])
    w, b, J_history = strict(gradient_descent, TOY_X, TOY_Y, w_in, 0.0, 0.1, 3)
    np.testing.assert_array_equal(w_in, [0.5, -0.5])
    assert not np.shares_memory(w, w_in)

    # Even with no step at all, w is a copy the caller may modify freely.
    w_in = np.array([0.5, -0.5])
    w, b, J_history = gradient_descent(TOY_X, TOY_Y, w_in, 2, 0.1, 0)
    np.testing.assert_array_equal(w, w_in)
    assert not np.shares_memory(w, w_in)
    assert type(b) is float and b == 2.0
    assert len(J_history) == 0


def test_gradient_descent_return_types():
    w, b, J_history = gradient_descent(TOY_X.tolist(), TOY_Y.tolist(), [0, 0], 0, 0.1, 5)
    assert isinstance(w, np.ndarray) and w.shape == (2,) and w.dtype == np.float64
    assert type(b) is float
    assert len(J_history) == 5 and all(isinstance(J, float) for J in J_history)


# --- minibatch_gradient_descent ------------------------------------------------------


def tensorflow_minibatch_sgd(tf, X, y, w_in, b_in, alpha, epochs, batch_size):
    """Keras' SGD on tf.Variables, one step per batch (in order, no shuffle) on the batch's mean
    binary cross-entropy, the gradient by GradientTape; the cost on all of X after each epoch."""
    w = tf.Variable(np.array(w_in, dtype=float), dtype=tf.float64)
    b = tf.Variable(float(b_in), dtype=tf.float64)
    optimizer = tf.keras.optimizers.SGD(learning_rate=alpha)

    def cost(X_part, y_part):
        z = tf.linalg.matvec(tf.constant(X_part, tf.float64), w) + b
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.constant(y_part, tf.float64), logits=z))

    J_history = []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            with tf.GradientTape() as tape:
                J = cost(X[start:start + batch_size], y[start:start + batch_size])
            optimizer.apply_gradients(zip(tape.gradient(J, [w, b]), [w, b]))
        J_history.append(float(cost(X, y)))
    return w.numpy(), float(b.numpy()), J_history


@pytest.mark.parametrize("m, n, batch_size, epochs", [
    (12, 3, 4, 3),    # batch_size divides m
    (13, 3, 4, 3),    # a last batch of 1
    (10, 2, 3, 4),    # a last batch of 1 again, more epochs
    (7, 4, 1, 2),     # one example per step
    (9, 2, 9, 5),     # batch_size = m
    (5, 2, 8, 3),     # batch_size > m
])
def test_minibatch_gradient_descent_matches_tensorflow_sgd(tf, m, n, batch_size, epochs):
    rng = np.random.default_rng(m * 100 + batch_size)
    X, y, w_in, b_in = problem(rng, m, n, 2.0)
    # Keras keeps the learning rate in float32: 0.25 is exact there, 0.3 would not be.
    w, b, J_history = strict(minibatch_gradient_descent, X, y, frozen_float(w_in), b_in, 0.25,
                             epochs, batch_size)
    w_tf, b_tf, J_tf = tensorflow_minibatch_sgd(tf, X, y, w_in, b_in, 0.25, epochs, batch_size)
    np.testing.assert_allclose(w, w_tf, rtol=1e-10, atol=1e-13)
    assert b == pytest.approx(b_tf, rel=1e-10, abs=1e-13)
    np.testing.assert_allclose(J_history, J_tf, rtol=1e-10)


@pytest.mark.parametrize("batch_size", [6, 7, 100])
def test_minibatch_with_one_batch_per_epoch_is_gradient_descent(batch_size):
    w, b, J_history = strict(minibatch_gradient_descent, TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1,
                             25, batch_size)
    w_gd, b_gd, J_gd = gradient_descent(TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1, 25)
    np.testing.assert_array_equal(w, w_gd)
    assert b == b_gd
    np.testing.assert_array_equal(J_history, J_gd)


def test_minibatch_takes_one_step_per_batch_in_order():
    # Batch size 2 on 5 examples is gradient_descent for one step on rows 0-1, then 2-3, then 4.
    rng = np.random.default_rng(3)
    X, y, w_in, b_in = problem(rng, 5, 3, 1.0)
    w, b = w_in, b_in
    for rows in (slice(0, 2), slice(2, 4), slice(4, 5)):
        w, b, _ = gradient_descent(X[rows], y[rows], w, b, 0.4, 1)
    w_mb, b_mb, J_history = minibatch_gradient_descent(X, y, w_in, b_in, 0.4, 1, 2)
    np.testing.assert_allclose(w_mb, w, rtol=1e-14)
    assert b_mb == pytest.approx(b, rel=1e-14)
    assert J_history == pytest.approx([compute_cost(X, y, w, b)], rel=1e-14)


def test_minibatch_zero_epochs_and_inputs_left_alone():
    w_in = frozen_float([0.5, -0.5])
    w, b, J_history = strict(minibatch_gradient_descent, TOY_X, TOY_Y, w_in, 2, 0.1, 0, 4)
    np.testing.assert_array_equal(w, w_in)
    assert not np.shares_memory(w, w_in)
    assert type(b) is float and b == 2.0
    assert isinstance(J_history, np.ndarray) and J_history.shape == (0,)

    w, b, J_history = strict(minibatch_gradient_descent, TOY_X, TOY_Y, w_in, 2, 0.1, 3, 4)
    np.testing.assert_array_equal(w_in, [0.5, -0.5])
    assert w.dtype == np.float64 and type(b) is float and J_history.shape == (3,)


def test_minibatch_rejects_a_batch_size_below_one():
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_gradient_descent(TOY_X, TOY_Y, np.zeros(2), 0.0, 0.1, 1, 0)


# --- build_binary_classifier ---------------------------------------------------------


def zeros_and_ones():
    """The 0 and 1 images of sklearn's 8x8 digits, pixels scaled to [0, 1], split 75/25
    stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    keep = y < 2
    return train_test_split(X[keep] / 16, y[keep], test_size=0.25, stratify=y[keep], random_state=0)


@pytest.fixture(scope="module")
def trained_binary(tf):
    tf.keras.utils.set_random_seed(0)
    X_train, X_test, y_train, y_test = zeros_and_ones()
    model = build_binary_classifier(64)
    model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)
    return model, X_test, y_test


@pytest.mark.slow
def test_binary_classifier_loss_matches_its_output_layer(tf):
    keras = tf.keras
    model = build_binary_classifier(5)
    assert model.input_shape == (None, 5)
    assert model.output_shape == (None, 1)
    assert model.optimizer is not None  # compiled
    # The reference design: a linear output unit (a logit) and a loss that knows it.
    assert model.layers[-1].activation is keras.activations.linear
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy)
    assert model.loss.get_config()["from_logits"] is True


@pytest.mark.slow
def test_binary_classifier_trains_to_98_percent_on_zeros_and_ones(trained_binary):
    model, X_test, y_test = trained_binary
    z = model(X_test).numpy()[:, 0]
    # The outputs are logits: predict 1 where z > 0, i.e. where g(z) > 0.5.
    accuracy = np.mean((z > 0) == y_test)
    assert accuracy >= 0.98
    assert z.min() < 0 < 1 < z.max()  # not squeezed into (0, 1): the output layer is linear
