"""Tests of solutions.adam against Keras' SGD and Adam, extended precision and closed forms."""

import numpy as np
import pytest
from mpmath import mp

from solutions.adam import adam_step, gradient_descent_step, minimize, momentum_step
from tests.solutions.helpers import frozen, strict

# Keras (TensorFlow backend) keeps the learning rate in a float32 variable and computes
# beta_1^t and beta_2^t from tf.cast(beta, float64), which passes a Python float through
# float32 first. With values that float32 holds exactly, a float64 Keras variable follows the
# same arithmetic as the reference, and the comparisons below can be tight.
ALPHA, BETA_1, BETA_2 = 2.0 ** -7, 0.875, 1 - 2.0 ** -10
EPS = np.finfo(float).eps


def bowl_gradient(w):
    """Gradient of J(w) = (w_1^2 + 20 w_2^2) / 2, the lecture's elongated bowl."""
    return np.array([1.0, 20.0]) * w


def rosenbrock_gradient(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def gradient_sequence(seed, steps, shape):
    """Gradients of very different sizes per entry, as the parameters of a network have."""
    rng = np.random.default_rng(seed)
    sizes = np.logspace(-6, 2, int(np.prod(shape))).reshape(shape)
    return [rng.normal(size=shape) * sizes for _ in range(steps)]


def keras_trajectory(keras, tf, optimizer, w0, gradients):
    """The iterates of a Keras optimizer on a float64 variable fed the given gradients."""
    var = keras.Variable(np.array(w0, dtype=float), dtype="float64")
    path = [var.numpy()]
    for g in gradients:
        grad = g(var.numpy()) if callable(g) else g
        optimizer.apply_gradients([(tf.constant(grad, dtype=tf.float64), var)])
        path.append(var.numpy())
    return np.array(path)


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


# --- gradient_descent_step -----------------------------------------------------------


def test_gradient_descent_step_matches_keras_sgd(tf, keras):
    gradients = gradient_sequence(0, 20, (3, 4))
    expected = keras_trajectory(keras, tf, keras.optimizers.SGD(learning_rate=ALPHA),
                                np.ones((3, 4)), gradients)
    w = np.ones((3, 4))
    for k, g in enumerate(gradients, start=1):
        w = strict(gradient_descent_step, w, g, ALPHA)
        np.testing.assert_allclose(w, expected[k], rtol=4 * EPS, atol=0)


def test_gradient_descent_step_returns_a_new_array_and_leaves_its_inputs():
    w, g = frozen([1.0, 2.0]), frozen([0.5, -1.0])
    w_new = strict(gradient_descent_step, w, g, 0.1)
    assert isinstance(w_new, np.ndarray) and w_new is not w
    np.testing.assert_array_equal(w_new, [0.95, 2.1])
    np.testing.assert_array_equal(gradient_descent_step(w, g, 0.0), w)
    with pytest.raises(ValueError):
        gradient_descent_step(np.ones(2), np.ones(3), 0.1)


# --- momentum_step -------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.875, 0.5, 0.0])
def test_momentum_step_matches_keras_sgd_with_momentum(tf, keras, beta):
    """Keras' SGD(momentum=beta) on a float64 variable, over 30 steps of gradients of very
    different sizes; beta and alpha are float32 numbers, so both sides round alike."""
    gradients = gradient_sequence(1, 30, (3, 4))
    expected = keras_trajectory(keras, tf, keras.optimizers.SGD(learning_rate=ALPHA,
                                                                 momentum=beta),
                                np.ones((3, 4)), gradients)
    w, velocity = np.ones((3, 4)), np.zeros((3, 4))
    for k, g in enumerate(gradients, start=1):
        w, velocity = strict(momentum_step, w, g, velocity, ALPHA, beta)
        np.testing.assert_allclose(w, expected[k], rtol=4 * EPS, atol=0)
        # Keras keeps the velocity to itself: it is the step the variable just took.
        np.testing.assert_allclose(velocity, expected[k] - expected[k - 1], rtol=0,
                                   atol=8 * EPS * np.abs(expected[k]).max())


def test_momentum_step_follows_keras_on_the_bowl(tf, keras):
    """The lecture's bowl, Keras' default momentum 0.9 and alpha 0.02 (not float32 numbers: Keras
    rounds them, a relative 1e-8 per step): 200 steps, compared relative to the path's size 8."""
    expected = keras_trajectory(keras, tf, keras.optimizers.SGD(learning_rate=0.02, momentum=0.9),
                                [-8.0, 2.0], [bowl_gradient] * 200)
    w, velocity = np.array([-8.0, 2.0]), np.zeros(2)
    for k in range(1, 201):
        w, velocity = momentum_step(w, bowl_gradient(w), velocity, 0.02)
        np.testing.assert_allclose(w, expected[k], rtol=0, atol=8e-6)


def test_momentum_step_is_a_decaying_sum_of_gradient_steps():
    """velocity_k = -alpha sum_{i <= k} beta^(k - i) g_i, in extended precision."""
    mp.dps = 40
    rng = np.random.default_rng(3)
    gradients = rng.normal(size=(25, 3))
    alpha, beta = 0.03, 0.8
    w, velocity = np.array([0.5, -1.0, 2.0]), np.zeros(3)
    w_exact = [mp.mpf(x) for x in w]
    for k, g in enumerate(gradients):
        w, velocity = momentum_step(w, g, velocity, alpha, beta)
        v_exact = [-mp.mpf(alpha) * sum(mp.mpf(beta) ** (k - i) * mp.mpf(gradients[i, j])
                                        for i in range(k + 1)) for j in range(3)]
        w_exact = [a + b for a, b in zip(w_exact, v_exact)]
        np.testing.assert_allclose(velocity, [float(x) for x in v_exact], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(w, [float(x) for x in w_exact], rtol=1e-13, atol=1e-15)


def test_momentum_step_edge_cases_and_inputs():
    w, g, velocity = frozen([1.0, 2.0]), frozen([0.5, -1.0]), frozen([0.2, -0.1])
    w_new, v_new = strict(momentum_step, w, g, velocity, 0.1, 0.5)
    np.testing.assert_allclose(v_new, [0.05, 0.05], rtol=1e-15)
    np.testing.assert_allclose(w_new, [1.05, 2.05], rtol=1e-15)
    # beta = 0 is gradient descent; the first step from velocity 0 is gradient descent too.
    np.testing.assert_allclose(momentum_step(w, g, velocity, 0.1, 0.0)[0],
                               gradient_descent_step(w, g, 0.1), rtol=1e-15)
    np.testing.assert_allclose(momentum_step(w, g, np.zeros(2), 0.1)[0],
                               gradient_descent_step(w, g, 0.1), rtol=1e-15)
    w2, v2 = momentum_step(np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 0.5), 0.1)
    np.testing.assert_allclose(v2, np.full((2, 3), 0.45))   # a zero gradient: it coasts
    np.testing.assert_allclose(w2, np.full((2, 3), 1.45))
    with pytest.raises(ValueError):
        momentum_step(np.ones(2), np.ones(2), np.ones(3), 0.1)


# --- adam_step -----------------------------------------------------------------------


@pytest.mark.parametrize("keras_epsilon", [1e-7, 1e-3, 0.0])
def test_adam_step_matches_keras_adam_with_epsilon_placed_as_keras_places_it(
        tf, keras, keras_epsilon):
    """Keras computes w -= alpha sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + eps_k): its
    epsilon is added to sqrt(v), not to sqrt(v_hat). That is Algorithm 1 with
    epsilon = eps_k / sqrt(1 - beta_2^t) at step t, which this test passes to adam_step."""
    gradients = gradient_sequence(1, 60, (2, 5))
    optimizer = keras.optimizers.Adam(learning_rate=ALPHA, beta_1=BETA_1, beta_2=BETA_2,
                                      epsilon=keras_epsilon)
    expected = keras_trajectory(keras, tf, optimizer, np.zeros((2, 5)), gradients)
    w, m, v = np.zeros((2, 5)), np.zeros((2, 5)), np.zeros((2, 5))
    for t, g in enumerate(gradients, start=1):
        epsilon = keras_epsilon / np.sqrt(1 - BETA_2 ** t)
        w, m, v = strict(adam_step, w, g, m, v, t, ALPHA, BETA_1, BETA_2, epsilon)
        # Every step moves w by about alpha: a few ulps of the running sum of the steps.
        np.testing.assert_allclose(w, expected[t], rtol=0, atol=8 * EPS * ALPHA * t)


def test_keras_defaults_agree_up_to_their_float32_hyper_parameters(tf, keras):
    """With Keras' defaults (learning rate 0.001, betas 0.9 and 0.999, which Keras rounds to
    float32 in the bias correction), the trajectories agree to about 1e-5 of each step; the
    epsilon placement alone moves a step by at most epsilon / (sqrt(v_hat) + epsilon)."""
    gradients = gradient_sequence(2, 100, (6,))
    expected = keras_trajectory(keras, tf, keras.optimizers.Adam(), np.zeros(6), gradients)
    w, m, v = np.zeros(6), np.zeros(6), np.zeros(6)
    for t, g in enumerate(gradients, start=1):
        w, m, v = adam_step(w, g, m, v, t, epsilon=1e-7 / np.sqrt(1 - 0.999 ** t))
        np.testing.assert_allclose(w, expected[t], rtol=0, atol=2e-5 * 0.001 * t)


def exact_adam(w, gradients, alpha, beta_1, beta_2, epsilon):
    """Algorithm 1 in 60 significant digits, from m = v = 0; every float input taken exactly."""
    with mp.workdps(60):
        b1, b2, a, e = (mp.mpf(x) for x in (beta_1, beta_2, alpha, epsilon))
        w = [mp.mpf(float(x)) for x in w]
        m = [mp.mpf(0)] * len(w)
        v = [mp.mpf(0)] * len(w)
        for t, g in enumerate(gradients, start=1):
            g = [mp.mpf(float(x)) for x in g]
            m = [b1 * mj + (1 - b1) * gj for mj, gj in zip(m, g)]
            v = [b2 * vj + (1 - b2) * gj ** 2 for vj, gj in zip(v, g)]
            w = [wj - a * (mj / (1 - b1 ** t)) / (mp.sqrt(vj / (1 - b2 ** t)) + e)
                 for wj, mj, vj in zip(w, m, v)]
        return [float(x) for x in w], [float(x) for x in m], [float(x) for x in v]


@pytest.mark.parametrize("steps", [1, 2, 3, 10])
@pytest.mark.parametrize("hyper", [(0.001, 0.9, 0.999, 1e-7), (0.1, 0.5, 0.8, 1e-3),
                                   (0.01, 0.9, 0.999, 1e-7)])
def test_adam_step_matches_algorithm_1_in_extended_precision(steps, hyper):
    gradients = gradient_sequence(3, steps, (5,))
    w0 = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    w, m, v = w0, np.zeros(5), np.zeros(5)
    for t, g in enumerate(gradients, start=1):
        w, m, v = strict(adam_step, w, g, m, v, t, *hyper)
    exact_w, exact_m, exact_v = exact_adam(w0, gradients, *hyper)
    np.testing.assert_allclose(m, exact_m, rtol=16 * EPS, atol=0)
    np.testing.assert_allclose(v, exact_v, rtol=16 * EPS, atol=0)
    # w_new = w - step cancels when w is about the size of the step: ulps of max(|w|, step).
    np.testing.assert_allclose(w, exact_w, rtol=0, atol=16 * EPS * (np.abs(w0).max() + 1))


def test_the_first_step_has_size_alpha_whatever_the_gradient():
    """At t = 1 from m = v = 0, bias correction gives m_hat = g and v_hat = g^2, so the step is
    alpha g / (|g| + epsilon): alpha for any gradient much larger than epsilon."""
    g = np.array([1e-9, -1e-6, 1e-3, -1.0, 1e3, 1e6])
    w_new, m_new, v_new = strict(adam_step, np.zeros(6), g, np.zeros(6), np.zeros(6), 1, 0.01)
    np.testing.assert_allclose(w_new, -0.01 * g / (np.abs(g) + 1e-7), rtol=4 * EPS)
    np.testing.assert_allclose(m_new, (1 - 0.9) * g, rtol=2 * EPS)
    np.testing.assert_allclose(v_new, (1 - 0.999) * g ** 2, rtol=2 * EPS)


def test_bias_correction_undoes_the_zero_start_for_a_constant_gradient():
    """With a constant gradient g, m_hat = g and v_hat = g^2 at every t: every step is the same."""
    g = np.array([0.5, -2.0])
    w, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    steps = []
    for t in range(1, 50):
        w_new, m, v = adam_step(w, g, m, v, t, alpha=0.1, epsilon=0.0)
        steps.append(w_new - w)
        w = w_new
    np.testing.assert_allclose(steps, np.tile([-0.1, 0.1], (49, 1)), rtol=1e-13)


def test_without_epsilon_adam_is_invariant_to_the_scale_of_the_gradient():
    gradients = gradient_sequence(4, 30, (4,))
    paths = []
    for scale in (1.0, 1e4, 1e-4):
        w, m, v = np.ones(4), np.zeros(4), np.zeros(4)
        for t, g in enumerate(gradients, start=1):
            w, m, v = adam_step(w, scale * g, m, v, t, alpha=0.01, epsilon=0.0)
        paths.append(w)
    np.testing.assert_allclose(paths[1], paths[0], rtol=1e-13)
    np.testing.assert_allclose(paths[2], paths[0], rtol=1e-13)


def test_adam_step_edge_cases_and_inputs():
    w, g, m, v = frozen([1.0, -1.0]), frozen([0.0, 0.0]), frozen([0.0, 0.0]), frozen([0.0, 0.0])
    w_new, m_new, v_new = strict(adam_step, w, g, m, v, 1)       # 0 / (0 + epsilon): no step
    np.testing.assert_array_equal(w_new, w)
    assert all(out is not inp for out, inp in ((w_new, w), (m_new, m), (v_new, v)))
    w_new, _, _ = strict(adam_step, w, g, frozen([0.2, -0.1]), frozen([0.004, 0.001]), 5, 0.1)
    assert (w_new != w).all()                                     # momentum keeps moving
    for bad_t in (0, -1, 1.5):
        with pytest.raises(ValueError):
            adam_step(w, g, m, v, bad_t)
    with pytest.raises(ValueError):
        adam_step(np.ones(2), np.ones(3), np.zeros(2), np.zeros(2), 1)


# --- minimize ------------------------------------------------------------------------


@pytest.mark.parametrize("grad_fn, w0", [(bowl_gradient, [4.0, 1.0]),
                                         (rosenbrock_gradient, [-1.5, 2.0])])
def test_minimize_follows_keras(tf, keras, grad_fn, w0):
    """Keras' optimizers on a float64 variable, fed grad_fn at the current point; Adam with
    epsilon = 0, where Keras' epsilon placement and Algorithm 1's coincide."""
    steps = 150
    sgd = keras_trajectory(keras, tf, keras.optimizers.SGD(learning_rate=2.0 ** -9), w0,
                           [grad_fn] * steps)
    w, path = minimize(grad_fn, np.array(w0), steps, "gd", alpha=2.0 ** -9)
    np.testing.assert_allclose(path, sgd, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w, path[-1])
    optimizer = keras.optimizers.Adam(learning_rate=2.0 ** -5, beta_1=BETA_1, beta_2=BETA_2,
                                      epsilon=0.0)
    adam = keras_trajectory(keras, tf, optimizer, w0, [grad_fn] * steps)
    w, path = minimize(grad_fn, np.array(w0), steps, "adam", alpha=2.0 ** -5, beta_1=BETA_1,
                       beta_2=BETA_2, epsilon=0.0)
    np.testing.assert_allclose(path, adam, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(w, path[-1])


def test_minimize_is_adam_step_and_gradient_descent_step_repeated():
    w0 = frozen([-1.5, 2.0])
    w, path = strict(minimize, rosenbrock_gradient, w0, 40, "adam")
    expected, m, v = np.array(w0), np.zeros(2), np.zeros(2)
    assert path.shape == (41, 2)
    np.testing.assert_array_equal(path[0], w0)
    for t in range(1, 41):
        expected, m, v = adam_step(expected, rosenbrock_gradient(expected), m, v, t)
        np.testing.assert_array_equal(path[t], expected)
    w, path = strict(lambda *args: minimize(*args, alpha=0.05), bowl_gradient, w0, 5, "gd")
    expected = np.array(w0)
    for t in range(1, 6):
        expected = gradient_descent_step(expected, bowl_gradient(expected), 0.05)
        np.testing.assert_array_equal(path[t], expected)


def test_minimize_on_a_constant_gradient_moves_alpha_per_step():
    w, path = minimize(lambda w: np.array([3.0, -0.25]), np.zeros(2), 10, "adam", alpha=0.5,
                       epsilon=0.0)
    np.testing.assert_allclose(path, np.outer(np.arange(11), [-0.5, 0.5]), rtol=1e-13)


def test_minimize_edge_cases():
    w, path = minimize(bowl_gradient, np.array([4.0, 1.0]), 0, "adam", alpha=0.1)
    np.testing.assert_array_equal(path, [[4.0, 1.0]])
    np.testing.assert_array_equal(w, [4.0, 1.0])
    # alpha = 0.105 > 2/20: gradient descent diverges along the steep axis, by |1 - 20 alpha|.
    _, path = minimize(bowl_gradient, np.array([4.0, 1.0]), 60, "gd", alpha=0.105)
    np.testing.assert_allclose(path[:, 1], (1 - 20 * 0.105) ** np.arange(61), rtol=1e-12)
    for bad in [dict(optimizer="sgd"), dict(optimizer="gd", beta_1=0.9),
                dict(optimizer="adam", learning_rate=0.1)]:
        optimizer = bad.pop("optimizer")
        with pytest.raises((ValueError, TypeError)):
            minimize(bowl_gradient, np.ones(2), 3, optimizer, **bad)
    with pytest.raises(ValueError):
        minimize(bowl_gradient, np.ones((2, 1)), 3, "gd")
