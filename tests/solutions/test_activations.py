"""Tests of solutions.activations against TensorFlow, Keras layers and the lecture's unit-by-unit
loops."""

import mpmath
import numpy as np
import pytest
from scipy.special import expit

from solutions.activations import (
    DERIVATIVE_NAMES,
    OUTPUT_LAYERS,
    activation_derivative,
    collapse_linear,
    dense,
    linear,
    output_layer_for,
    piecewise_linear,
    piecewise_linear_layers,
    relu,
    sequential,
)
from tests.solutions.helpers import frozen as _frozen
from tests.solutions.helpers import strict


def frozen_float(a):
    return _frozen(a, dtype=float)


def identity(z):
    """g(z) = z, written here so the tests do not lean on solutions.activations.linear."""
    return z


def random_layers(rng, sizes, activations=None):
    """[(W, b)] or [(W, b, g)] for layer sizes n_0 -> n_1 -> ... with W^[l] of shape
    (n_{l-1}, n_l)."""
    layers = []
    for i, (n_in, units) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(size=(n_in, units)) / np.sqrt(n_in)
        b = rng.normal(size=units)
        layers.append((W, b) if activations is None else (W, b, activations[i]))
    return layers


def lecture_dense(a_in, W, b, g):
    """The lecture's dense layer for one example: unit j computes g(w_j . a_in + b_j)."""
    units = W.shape[1]
    a_out = np.zeros(units)
    for j in range(units):
        w = W[:, j]
        a_out[j] = g(np.dot(w, a_in) + b[j])
    return a_out


def np_relu(z):
    return np.maximum(z, 0.0)


# --- relu and linear -----------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-3, 1.0, 1e4, 1e300])
def test_relu_matches_tensorflow(tf, scale):
    rng = np.random.default_rng(0)
    for shape in [(1,), (9,), (4, 3), (2, 3, 4)]:
        z = rng.normal(size=shape) * scale
        out = strict(relu, z)
        assert out.shape == z.shape
        np.testing.assert_array_equal(out, tf.nn.relu(tf.constant(z, tf.float64)).numpy())


def test_relu_matches_the_definition_element_by_element():
    z = [-3.0, -1e-300, 0.0, 1e-300, 2.5, 1e4, -1e4]
    assert strict(relu, z).tolist() == [v if v > 0 else 0.0 for v in z]


def test_relu_accepts_scalars_lists_and_ints_and_returns_ndarray():
    for z, expected in [(-2, 0.0), (3, 3.0), (0.5, 0.5)]:
        out = strict(relu, z)
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
        assert out == expected
    out = relu([[1, -1], [-2, 2]])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1, 0], [0, 2]])


def test_relu_and_linear_do_not_modify_their_input():
    z = frozen_float([-1.0, 0.0, 2.0])
    strict(relu, z)
    out = strict(linear, z)
    np.testing.assert_array_equal(z, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(out, z)
    assert not np.shares_memory(out, z)


def test_linear_is_the_identity():
    z = np.random.default_rng(1).normal(size=(3, 4)) * 1e3
    np.testing.assert_array_equal(strict(linear, z), z)
    assert linear(2).dtype == np.float64 and linear(2) == 2.0


# --- activation_derivative -----------------------------------------------------------


def tensorflow_slope(tf, name, z):
    """g'(z) element-wise as TensorFlow differentiates g (float64), with tf.GradientTape."""
    g = {"linear": tf.identity, "sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}[name]
    z = tf.constant(z, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        a = g(z)
    return tape.gradient(a, z, output_gradients=tf.ones_like(a)).numpy()


# z = 0 (where relu' is a convention), tiny and large |z| (where the slopes underflow to 0 and an
# exp(-z) would overflow), and ordinary values.
Z_SLOPES = np.concatenate([[0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 20.0, -20.0, 40.0, -40.0,
                            710.0, -710.0, 1e4, -1e4, 1e300, -1e300],
                           np.linspace(-8, 8, 161)])


@pytest.mark.parametrize("name", DERIVATIVE_NAMES)
def test_activation_derivative_matches_tensorflow_gradient(tf, name):
    expected = tensorflow_slope(tf, name, Z_SLOPES)
    out = strict(activation_derivative, name, Z_SLOPES)
    assert out.shape == Z_SLOPES.shape and out.dtype == np.float64
    # TensorFlow's sigmoid' is a (1 - a): 1 - a rounds near a = 1, an absolute error ~1e-16.
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    for shape in [(4, 3), (2, 3, 4)]:
        z = np.random.default_rng(11).normal(0, 4, size=shape)
        np.testing.assert_allclose(strict(activation_derivative, name, z),
                                   tensorflow_slope(tf, name, z), rtol=1e-12, atol=1e-15)


def test_relu_derivative_at_zero_is_zero_as_tensorflow_gives(tf):
    z = np.array([-1.0, 0.0, 1.0])
    assert tensorflow_slope(tf, "relu", z).tolist() == [0.0, 0.0, 1.0]
    assert strict(activation_derivative, "relu", z).tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("name, g", [("sigmoid", lambda z: 1 / (1 + mpmath.exp(-z))),
                                     ("tanh", mpmath.tanh)])
def test_sigmoid_and_tanh_slopes_are_accurate_far_out(name, g):
    # 50 digits: relative accuracy where the slope is as small as 1e-300, and 0 beyond that.
    with mpmath.workdps(50):
        for z in [-700.0, -300.0, -40.0, -3.5, 0.25, 2.0, 40.0, 300.0, 700.0]:
            exact = float(mpmath.diff(g, mpmath.mpf(z)))
            assert strict(activation_derivative, name, z) == pytest.approx(exact, rel=1e-13)
        assert strict(activation_derivative, name, 1e4) == 0.0
        assert strict(activation_derivative, name, -1e4) == 0.0


def test_activation_derivative_takes_numbers_and_lists_and_leaves_z_alone():
    for name, z, expected in [("linear", 3, 1.0), ("relu", -2, 0.0), ("relu", 0.5, 1.0),
                              ("sigmoid", 0, 0.25), ("tanh", 0, 1.0)]:
        out = strict(activation_derivative, name, z)
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
        assert out == expected
    out = strict(activation_derivative, "linear", [[1, -1], [-2, 2]])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.ones((2, 2)))
    z = frozen_float([-1.0, 0.0, 2.0])
    for name in DERIVATIVE_NAMES:
        assert not np.shares_memory(strict(activation_derivative, name, z), z)
    np.testing.assert_array_equal(z, [-1.0, 0.0, 2.0])


@pytest.mark.parametrize("name", ["swish", "ReLU", "softmax", ""])
def test_activation_derivative_rejects_an_unknown_name(name):
    with pytest.raises(ValueError):
        activation_derivative(name, np.zeros(3))


# --- dense ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation, g",
                         [("relu", np_relu), ("sigmoid", expit), ("linear", identity)])
def test_dense_matches_a_keras_dense_layer(tf, activation, g):
    rng = np.random.default_rng(2)
    n, units, m = 5, 4, 7
    W = rng.normal(size=(n, units))
    b = rng.normal(size=units)
    x = rng.normal(size=(m, n))
    layer = tf.keras.layers.Dense(units, activation=activation, dtype="float64")
    layer.build((None, n))
    layer.set_weights([W, b])
    expected = layer(x).numpy()
    np.testing.assert_allclose(strict(dense, x, W, b, g), expected, rtol=1e-13, atol=1e-15)
    # One example as a 1-D vector gives one row of the batch.
    np.testing.assert_allclose(strict(dense, x[3], W, b, g), expected[3], rtol=1e-13, atol=1e-15)


def test_dense_matches_the_lecture_loop_over_units():
    rng = np.random.default_rng(3)
    for n, units in [(1, 1), (2, 3), (8, 25)]:
        W, b = rng.normal(size=(n, units)), rng.normal(size=units)
        for g in (np_relu, expit, identity, np.tanh):
            a_in = rng.normal(size=n)
            out = strict(dense, a_in, W, b, g)
            assert out.shape == (units,)
            np.testing.assert_allclose(out, lecture_dense(a_in, W, b, g), rtol=1e-13, atol=1e-15)
            batch = rng.normal(size=(6, n))
            out = strict(dense, batch, W, b, g)
            assert out.shape == (6, units)
            np.testing.assert_allclose(out, [lecture_dense(a, W, b, g) for a in batch],
                                       rtol=1e-13, atol=1e-15)


def test_dense_applies_g_to_z():
    seen = []

    def g(z):
        seen.append(z.copy())
        return 2 * z

    out = dense([1.0, 2.0], [[1.0, 0.0], [0.0, 1.0]], [10.0, 20.0], g)
    np.testing.assert_array_equal(seen[0], [11.0, 22.0])
    np.testing.assert_array_equal(out, [22.0, 44.0])


def test_dense_accepts_lists_and_leaves_inputs_alone():
    W, b, a_in = (frozen_float([[1.0, -1.0], [-2.0, 0.5]]), frozen_float([0.1, 0.2]),
                  frozen_float([3.0, -4.0]))
    out = strict(dense, a_in, W, b, np_relu)
    np.testing.assert_allclose(out, [11.1, 0.0], rtol=1e-15)  # z = [11.1, -4.8]
    np.testing.assert_array_equal(W, [[1.0, -1.0], [-2.0, 0.5]])
    np.testing.assert_array_equal(a_in, [3.0, -4.0])
    np.testing.assert_allclose(dense(a_in.tolist(), W.tolist(), b.tolist(), np_relu), out,
                               rtol=1e-15)


@pytest.mark.parametrize("a_in, W, b", [
    (np.ones(3), np.ones((4, 2)), np.ones(2)),      # a_in has 3 features, W expects 4
    (np.ones((5, 3)), np.ones((3, 2)), np.ones(3)),  # b does not match the units
    (np.ones(3), np.ones(3), np.ones(1)),            # W is not a matrix
])
def test_dense_rejects_mismatched_shapes(a_in, W, b):
    with pytest.raises(ValueError):
        dense(a_in, W, b, identity)


# --- sequential ----------------------------------------------------------------------


def test_sequential_matches_a_keras_sequential_model(tf):
    keras = tf.keras
    rng = np.random.default_rng(4)
    sizes = [6, 25, 15, 1]
    layers = random_layers(rng, sizes, [np_relu, np_relu, expit])
    model = keras.Sequential([keras.Input(shape=(6,), dtype="float64")] + [
        keras.layers.Dense(units, activation=act, dtype="float64")
        for units, act in zip(sizes[1:], ["relu", "relu", "sigmoid"])
    ])
    model.set_weights([p for W, b, _ in layers for p in (W, b)])
    x = rng.normal(size=(20, 6))
    expected = model(x).numpy()
    np.testing.assert_allclose(strict(sequential, x, layers), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(strict(sequential, x[0], layers), expected[0],
                               rtol=1e-12, atol=1e-15)


def test_sequential_matches_the_lecture_loops_layer_by_layer():
    rng = np.random.default_rng(5)
    layers = random_layers(rng, [3, 4, 4, 2], [np.tanh, np_relu, expit])
    x = rng.normal(size=3)
    a = x
    for W, b, g in layers:
        a = lecture_dense(a, W, b, g)
    np.testing.assert_allclose(strict(sequential, x, layers), a, rtol=1e-13)


def test_sequential_with_no_layers_returns_x_and_leaves_inputs_alone():
    x = frozen_float([[1.0, 2.0]])
    np.testing.assert_array_equal(sequential(x, []), x)
    rng = np.random.default_rng(6)
    layers = [(frozen_float(W), frozen_float(b), np_relu) for W, b in random_layers(rng, [2, 3, 1])]
    strict(sequential, x, layers)
    np.testing.assert_array_equal(x, [[1.0, 2.0]])


# --- collapse_linear -----------------------------------------------------------------


def test_collapse_linear_equals_the_stack_on_random_networks():
    rng = np.random.default_rng(7)
    for depth in range(1, 6):
        for _ in range(5):
            sizes = list(rng.integers(1, 9, size=depth + 1))
            layers = random_layers(rng, sizes)
            W, b = strict(collapse_linear, layers)
            assert W.shape == (sizes[0], sizes[-1]) and b.shape == (sizes[-1],)
            x = rng.normal(size=(10, sizes[0]))
            # Against the same stack run layer by layer with g(z) = z ...
            stack = sequential(x, [(W_l, b_l, identity) for W_l, b_l in layers])
            np.testing.assert_allclose(x @ W + b, stack, rtol=1e-11, atol=1e-12)
            # ... and against a plain chain of matrix products written out here.
            a = x
            for W_l, b_l in layers:
                a = a @ W_l + b_l
            np.testing.assert_allclose(x @ W + b, a, rtol=1e-11, atol=1e-12)


def test_collapse_linear_matches_a_keras_model_of_linear_layers(tf):
    keras = tf.keras
    rng = np.random.default_rng(8)
    sizes = [4, 8, 6, 3]
    layers = random_layers(rng, sizes)
    model = keras.Sequential([keras.Input(shape=(4,), dtype="float64")] + [
        keras.layers.Dense(units, activation="linear", dtype="float64") for units in sizes[1:]
    ])
    model.set_weights([p for W_l, b_l in layers for p in (W_l, b_l)])
    W, b = collapse_linear(layers)
    x = rng.normal(size=(12, 4))
    np.testing.assert_allclose(x @ W + b, model(x).numpy(), rtol=1e-12, atol=1e-13)


def test_collapse_linear_known_example_from_the_lecture():
    # a1 = w1 x + b1, a2 = w2 a1 + b2 = (w1 w2) x + (w2 b1 + b2)
    w1, b1, w2, b2 = 2.0, 3.0, -4.0, 5.0
    W, b = collapse_linear([([[w1]], [b1]), ([[w2]], [b2])])
    np.testing.assert_array_equal(W, [[w1 * w2]])
    np.testing.assert_array_equal(b, [w2 * b1 + b2])


def test_collapse_linear_copies_and_leaves_inputs_alone():
    W1, b1 = frozen_float([[1.0, 2.0]]), frozen_float([0.5, -0.5])
    W, b = strict(collapse_linear, [(W1, b1)])
    np.testing.assert_array_equal(W, W1)
    np.testing.assert_array_equal(b, b1)
    assert not np.shares_memory(W, W1) and not np.shares_memory(b, b1)
    W.fill(0.0)  # the result belongs to the caller
    np.testing.assert_array_equal(W1, [[1.0, 2.0]])


def test_collapse_linear_rejects_an_empty_or_mismatched_stack():
    with pytest.raises(ValueError):
        collapse_linear([])
    with pytest.raises(ValueError):
        collapse_linear([(np.ones((2, 3)), np.ones(3)), (np.ones((4, 1)), np.ones(1))])


# --- piecewise_linear_layers ---------------------------------------------------------


def f_by_integration(x, breakpoints, slopes, first_value):
    """f(x) = f(x_1) + the integral of the slope from x_1 to x, one interval at a time, in plain
    Python: independent of the reference's vectorised formula."""
    total, lo, hi, sign = first_value, breakpoints[0], x, 1.0
    if x < lo:
        lo, hi, sign = x, breakpoints[0], -1.0
    edges = [-np.inf] + list(breakpoints) + [np.inf]
    for k, slope in enumerate(slopes):
        a, b = max(edges[k], lo), min(edges[k + 1], hi)
        if b > a:
            total += sign * slope * (b - a)
    return total


SPECS = [([0.0], [0.0, 1.0], 0.0), ([0.0], [-1.0, 1.0], 0.0),
         ([-1.0, 0.0, 1.0], [0.0, 1.0, -1.0, 0.0], 0.0), ([-2.0, 1.0], [0.5, -1.0, 2.0], 3.0),
         ([100.0, 100.5, 103.0], [1.0, -3.0, 0.0, 2.0], -50.0), ([1.0], [-2.0, -2.0], 0.5)]


@pytest.mark.parametrize("breakpoints, slopes, first_value", SPECS)
def test_piecewise_linear_is_the_integral_of_its_slopes(breakpoints, slopes, first_value):
    x = np.concatenate([np.linspace(breakpoints[0] - 50, breakpoints[-1] + 50, 301), breakpoints])
    expected = [f_by_integration(v, breakpoints, slopes, first_value) for v in x]
    np.testing.assert_allclose(strict(piecewise_linear, x, breakpoints, slopes, first_value),
                               expected, rtol=1e-12, atol=1e-9)


def random_spec(rng):
    k = int(rng.integers(1, 12))
    breakpoints = np.sort(rng.uniform(-10, 10, size=k))
    return breakpoints, rng.normal(0, 3, size=k + 1), float(rng.normal(0, 5))


def test_piecewise_linear_layers_is_a_keras_relu_network_equal_to_f(tf):
    keras = tf.keras
    rng = np.random.default_rng(9)
    for spec in [tuple(np.array(v, dtype=float) for v in s[:2]) + (s[2],) for s in SPECS] + [
            random_spec(rng) for _ in range(10)]:
        (W1, b1), (W2, b2) = strict(piecewise_linear_layers, *spec)
        units = len(spec[0]) + 1
        assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((1, units), (units,), (units, 1), (1,))
        model = keras.Sequential([keras.Input(shape=(1,), dtype="float64"),
                                  keras.layers.Dense(units, activation="relu", dtype="float64"),
                                  keras.layers.Dense(1, activation="linear", dtype="float64")])
        model.set_weights([W1, b1, W2, b2])    # Keras takes the shapes as they are
        x = np.concatenate([np.linspace(spec[0][0] - 100, spec[0][-1] + 100, 401), spec[0]])
        expected = [f_by_integration(v, *spec) for v in x]
        np.testing.assert_allclose(model(x[:, None]).numpy()[:, 0], expected, rtol=1e-10,
                                   atol=1e-8)
        np.testing.assert_allclose(sequential(x[:, None], [(W1, b1, relu), (W2, b2, linear)]),
                                   np.array(expected)[:, None], rtol=1e-10, atol=1e-8)


def test_piecewise_linear_layers_leaves_its_inputs_alone():
    breakpoints, slopes = frozen_float([-1.0, 2.0]), frozen_float([1.0, 0.0, -1.0])
    strict(piecewise_linear_layers, breakpoints, slopes, 2.0)
    np.testing.assert_array_equal(breakpoints, [-1.0, 2.0])


@pytest.mark.parametrize("breakpoints, slopes", [
    ([], [1.0]),                        # no breakpoint
    ([0.0, 1.0], [1.0, 2.0]),           # two breakpoints need three slopes
    ([1.0, 0.0], [0.0, 1.0, 2.0]),      # not increasing
    ([0.0, 0.0], [0.0, 1.0, 2.0]),      # a repeated breakpoint
    ([0.0], [np.nan, 1.0]),
])
def test_piecewise_linear_layers_rejects_a_bad_spec(breakpoints, slopes):
    with pytest.raises(ValueError):
        piecewise_linear_layers(breakpoints, slopes, 0.0)


# --- output_layer_for ----------------------------------------------------------------


def keras_loss(keras, text):
    name, _, args = text.partition("(")
    if name in ("MeanSquaredError", "MeanAbsoluteError"):
        return getattr(keras.losses, name)()
    return getattr(keras.losses, name)(from_logits="from_logits=True" in args)


def test_output_layer_for_answers_every_target_with_a_listed_pair():
    for target, pairs in OUTPUT_LAYERS.items():
        assert output_layer_for(target) == pairs[0]
    with pytest.raises(ValueError):
        output_layer_for("a colour")


@pytest.mark.parametrize("target", ["binary label", "several yes/no labels", "one of k classes"])
def test_the_label_targets_pairs_compute_the_same_loss_in_keras(tf, target):
    # Each accepted (activation, loss) pair is one model read two ways: probabilities into a
    # plain cross-entropy, or logits into the same cross-entropy with from_logits=True.
    keras = tf.keras
    rng = np.random.default_rng(10)
    k = 1 if target == "binary label" else 4
    z = rng.normal(0, 3, size=(32, k))
    if target == "one of k classes":
        y = rng.integers(0, k, size=32)
    else:
        y = rng.integers(0, 2, size=(32, k)).astype(float)
    losses = []
    for activation, loss in OUTPUT_LAYERS[target]:
        a = keras.activations.get(activation)(tf.constant(z)).numpy()
        losses.append(float(keras_loss(keras, loss)(y, a)))
        if activation != "linear":    # probabilities: in (0, 1), rows summing to 1 for softmax
            assert np.all((a > 0) & (a < 1))
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)


def test_the_number_targets_outputs_have_the_range_of_y(tf):
    keras = tf.keras
    z = np.linspace(-5, 5, 11)
    for target, can_be_negative in [("any real number", True), ("a non-negative quantity", False)]:
        for activation, loss in OUTPUT_LAYERS[target]:
            a = keras.activations.get(activation)(tf.constant(z)).numpy()
            assert (a.min() < 0) == can_be_negative and a.max() == 5.0
            assert float(keras_loss(keras, loss)(z, a)) >= 0.0
