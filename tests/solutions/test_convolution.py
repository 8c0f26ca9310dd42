"""Tests of solutions.convolution against TensorFlow (tf.nn.conv1d, tf.nn.conv2d, Keras' Conv1D
with the same weights, tf.GradientTape for receptive fields), SciPy (scipy.signal.correlate,
convolve2d) and brute force (the index sets each unit sees)."""

import itertools
import math

import numpy as np
import pytest
from scipy import signal

from autograder.data import load_ekg_split, make_ekg
from solutions.convolution import (
    build_ekg_classifier,
    conv1d,
    conv1d_layer,
    conv2d,
    conv2d_layer,
    receptive_field,
)
from tests.solutions.helpers import frozen, strict

EPS = np.finfo(float).eps
# (len(x), len(kernel), stride): evenly dividing, not dividing, kernel as long as x, 1-sample
# kernel, stride larger than the kernel, the lecture's windows.
SHAPES_1D = [(10, 3, 1), (9, 3, 3), (10, 3, 4), (7, 7, 1), (7, 7, 3), (8, 1, 1), (8, 1, 3),
             (12, 2, 5), (5, 3, 4), (100, 20, 10), (9, 5, 2), (31, 4, 2)]


def relu(z):
    return np.maximum(0.0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- conv1d --------------------------------------------------------------------------


@pytest.mark.parametrize("n, k, stride", SHAPES_1D)
def test_conv1d_matches_tf_nn_conv1d_and_scipy_correlate(tf, n, k, stride):
    rng = np.random.default_rng(n * 100 + k * 10 + stride)
    x, kernel = frozen(rng.normal(size=n)), frozen(rng.normal(size=k))
    ours = strict(conv1d, x, kernel, stride)
    assert ours.shape == ((n - k) // stride + 1,)
    theirs = tf.nn.conv1d(x.reshape(1, n, 1), kernel.reshape(k, 1, 1), stride=stride,
                          padding="VALID").numpy().ravel()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    scipy_valid = signal.correlate(x, kernel, mode="valid", method="direct")[::stride]
    np.testing.assert_allclose(ours, scipy_valid, rtol=1e-13, atol=1e-13)


def test_conv1d_is_a_convolution_with_the_flipped_kernel():
    """Cross-correlation with a kernel is the signal-processing convolution with the kernel
    reversed: np.convolve flips, conv1d does not."""
    x, kernel = np.array([0.0, 1.0, 0.0, 0.0, 2.0, -1.0]), np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(conv1d(x, kernel), [2.0, 1.0, 6.0, 1.0])
    np.testing.assert_allclose(conv1d(x, kernel[::-1]), np.convolve(x, kernel, mode="valid"))
    assert not np.allclose(conv1d(x, kernel), np.convolve(x, kernel, mode="valid"))


def test_conv1d_defaults_and_errors():
    np.testing.assert_array_equal(conv1d(np.arange(5.0), np.array([1.0, 0.0, -1.0])),
                                  [-2.0, -2.0, -2.0])
    np.testing.assert_array_equal(conv1d(np.arange(5.0), np.array([2.0]), stride=2), [0, 4, 8])
    for bad in [dict(kernel=np.ones(6)), dict(stride=0), dict(stride=1.5),
                dict(kernel=np.ones((2, 1)))]:
        args = {"x": np.ones(5), "kernel": np.ones(2), "stride": 1, **bad}
        with pytest.raises(ValueError):
            conv1d(**args)


# --- conv2d --------------------------------------------------------------------------


@pytest.mark.parametrize("shape, kshape, stride", [
    ((4, 4), (2, 2), 1), ((3, 5), (2, 3), 1), ((6, 7), (3, 3), 2), ((8, 7), (2, 2), 3),
    ((2, 2), (2, 2), 1), ((4, 5), (1, 1), 2), ((1, 5), (1, 2), 1), ((4, 6), (3, 3), 3),
    ((11, 9), (4, 2), 2)])
def test_conv2d_matches_tf_nn_conv2d_and_scipy(tf, shape, kshape, stride):
    rng = np.random.default_rng(sum(shape) * 10 + stride)
    image, kernel = frozen(rng.normal(size=shape)), frozen(rng.normal(size=kshape))
    ours = strict(conv2d, image, kernel, stride)
    theirs = tf.nn.conv2d(image.reshape(1, *shape, 1), kernel.reshape(*kshape, 1, 1),
                          strides=stride, padding="VALID").numpy()[0, :, :, 0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    scipy_valid = signal.correlate2d(image, kernel, mode="valid")[::stride, ::stride]
    np.testing.assert_allclose(ours, scipy_valid, rtol=1e-13, atol=1e-13)
    # The true convolution flips the kernel along both axes.
    np.testing.assert_allclose(conv2d(image, kernel[::-1, ::-1], stride),
                               signal.convolve2d(image, kernel, mode="valid")[::stride, ::stride],
                               rtol=1e-13, atol=1e-13)


def test_conv2d_finds_the_edges_of_a_real_image(tf):
    from sklearn.datasets import load_sample_image

    grey = load_sample_image("china.jpg").mean(axis=2)[::4, ::4]
    sobel_x = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    ours = conv2d(grey, sobel_x)
    theirs = tf.nn.conv2d(grey.reshape(1, *grey.shape, 1), sobel_x.reshape(3, 3, 1, 1),
                          strides=1, padding="VALID").numpy()[0, :, :, 0]
    assert ours.shape == (grey.shape[0] - 2, grey.shape[1] - 2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-9)


def test_conv2d_errors():
    for image, kernel, stride in [(np.ones((3, 3)), np.ones((4, 1)), 1),
                                  (np.ones(3), np.ones(2), 1),
                                  (np.ones((3, 3)), np.ones((2, 2)), 0)]:
        with pytest.raises(ValueError):
            conv2d(image, kernel, stride)


# --- conv1d_layer --------------------------------------------------------------------


@pytest.mark.parametrize("n, k, stride", SHAPES_1D)
@pytest.mark.parametrize("activation, g", [("relu", relu), ("sigmoid", sigmoid),
                                           ("linear", lambda z: z)])
def test_conv1d_layer_matches_keras_conv1d(tf, n, k, stride, activation, g):
    keras = tf.keras
    rng = np.random.default_rng(n + k + stride)
    filters, m = 3, 4
    X, W, b = frozen(rng.normal(size=(m, n))), frozen(rng.normal(size=(k, filters))), \
        frozen(rng.normal(size=filters))
    layer = keras.layers.Conv1D(filters, k, strides=stride, activation=activation,
                                dtype="float64")
    layer.build((None, n, 1))
    layer.set_weights([W.reshape(k, 1, filters), b])
    theirs = layer(X[..., None]).numpy()
    ours = strict(conv1d_layer, X, W, b, stride, g)
    assert ours.shape == (m, (n - k) // stride + 1, filters)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(strict(conv1d_layer, X[1], W, b, stride, g), theirs[1],
                               rtol=1e-12, atol=1e-12)


def test_conv1d_layer_is_conv1d_per_filter_plus_bias():
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=30), rng.normal(size=(5, 2)), np.array([0.5, -1.0])
    a = conv1d_layer(x, W, b, 2, lambda z: z)
    for f in range(2):
        np.testing.assert_array_equal(a[:, f], conv1d(x, W[:, f], 2) + b[f])
    assert conv1d_layer(x[None], W, b, 2, relu).shape == (1, 13, 2)


# --- conv2d_layer --------------------------------------------------------------------

# (m, H, W, C), (kh, kw, F): odd and even kernels (an even one makes 'same' pad unevenly),
# 1x1 kernels, a kernel as large as the image, non-square everything.
SHAPES_2D = [((1, 4, 4, 1), (2, 2, 1)), ((2, 5, 6, 2), (3, 2, 3)), ((1, 7, 4, 1), (3, 3, 1)),
             ((3, 6, 6, 3), (4, 4, 2)), ((1, 2, 3, 3), (1, 1, 2)), ((1, 2, 3, 2), (2, 3, 2)),
             ((2, 9, 8, 1), (5, 2, 4)), ((1, 1, 5, 2), (1, 3, 1)), ((2, 8, 11, 2), (2, 5, 3))]


@pytest.mark.parametrize("images_shape, kernel_shape", SHAPES_2D)
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_layer_matches_tf_nn_conv2d(tf, images_shape, kernel_shape, stride, padding):
    rng = np.random.default_rng(sum(images_shape) * 100 + sum(kernel_shape) * 10 + stride)
    kh, kw, filters = kernel_shape
    images = frozen(rng.normal(size=images_shape))
    W = frozen(rng.normal(size=(kh, kw, images_shape[3], filters)))
    b = frozen(rng.normal(size=filters))
    ours = strict(lambda *a: conv2d_layer(*a, stride=stride, padding=padding), images, W, b)
    theirs = tf.nn.conv2d(images, W, strides=stride, padding=padding.upper()).numpy() + b
    assert ours.shape == theirs.shape
    if padding == "same":
        assert ours.shape[1:3] == (math.ceil(images_shape[1] / stride),
                                   math.ceil(images_shape[2] / stride))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_conv2d_layer_pads_the_extra_row_at_the_bottom():
    """An even kernel with 'same': one zero row above and two below, as TensorFlow pads: the
    first output row sees image rows -1..2, not -2..1."""
    image = np.arange(1.0, 6.0)[None, :, None, None] * np.ones((1, 5, 1, 1))   # rows 1..5
    picks_top = np.zeros((4, 1, 1, 1))
    picks_top[0] = 1.0                                      # the kernel's top row
    z = conv2d_layer(image, picks_top, np.zeros(1), padding="same")
    np.testing.assert_array_equal(z[0, :, 0, 0], [0.0, 1.0, 2.0, 3.0, 4.0])


def test_conv2d_layer_agrees_with_conv2d_per_channel_and_filter():
    rng = np.random.default_rng(3)
    images, W, b = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=2)
    z = conv2d_layer(images, W, b, stride=2)
    for n, f in itertools.product(range(2), range(2)):
        expected = sum(conv2d(images[n, :, :, c], W[:, :, c, f], 2) for c in range(3)) + b[f]
        np.testing.assert_allclose(z[n, :, :, f], expected, rtol=1e-13, atol=1e-13)


def test_conv2d_layer_errors():
    images, W, b = np.ones((1, 4, 4, 2)), np.ones((2, 2, 2, 3)), np.zeros(3)
    for bad in [dict(padding="SAME"), dict(padding="full"), dict(stride=0), dict(stride=1.5),
                dict(W=np.ones((2, 2, 3, 3))), dict(b=np.zeros(2)), dict(W=np.ones((5, 1, 2, 3))),
                dict(images=np.ones((4, 4, 2)))]:
        args = {"images": images, "W": W, "b": b, "stride": 1, "padding": "valid", **bad}
        with pytest.raises(ValueError):
            conv2d_layer(**args)
    # 'same' always fits: a kernel larger than the image is padded around.
    assert conv2d_layer(images, np.ones((5, 1, 2, 3)), b, padding="same").shape == (1, 4, 4, 3)


# --- receptive_field -----------------------------------------------------------------

STACKS = [[], [(20, 10)], [(20, 10), (5, 2)], [(3, 1)] * 3, [(3, 2), (3, 1)], [(3, 1), (3, 2)],
          [(4, 2), (3, 3), (2, 2)], [(1, 2), (1, 2)], [(2, 2)] * 4, [(3, 2)] * 6,
          [(2, 5), (2, 1)], [(7, 3), (1, 1), (4, 4), (2, 1)], [(5, 1), (2, 2), (3, 3)]]


def seen_by(layers, unit):
    """The input samples that feed `unit` of the last layer, by walking the windows down: unit
    p of a layer of kernel k and stride s reads units p s .. p s + k - 1 of the layer below."""
    units = {unit}
    for kernel_size, stride in reversed(layers):
        units = {p * stride + j for p in units for j in range(kernel_size)}
    return units


@pytest.mark.parametrize("layers", STACKS)
def test_receptive_field_matches_the_index_sets(layers):
    size, step = receptive_field(layers)
    assert type(size) is int and type(step) is int
    first, second = seen_by(layers, 0), seen_by(layers, 1)
    assert size == max(first) - min(first) + 1          # the span, gaps included
    assert step == min(second) - min(first)
    if all(k >= s for k, s in layers):                   # no gaps: the span is the count
        assert size == len(first)


@pytest.mark.parametrize("layers", [stack for stack in STACKS if stack])
def test_receptive_field_matches_the_gradient_of_a_conv1d_stack(tf, layers):
    """Which inputs change the first and second output of a stack of tf.nn.conv1d with
    positive kernels: the nonzero entries of the gradient."""
    size, step = receptive_field(layers)
    n = size + 3 * step                                 # room for several output units
    x = tf.Variable(np.ones((1, n, 1)))
    with tf.GradientTape(persistent=True) as tape:
        a = x
        for kernel_size, stride in layers:
            a = tf.nn.conv1d(a, np.ones((kernel_size, 1, 1)), stride=stride, padding="VALID")
        first, second = a[0, 0, 0], a[0, 1, 0]
    seen = [np.flatnonzero(tape.gradient(unit, x).numpy().ravel()) for unit in (first, second)]
    assert seen[0][-1] - seen[0][0] + 1 == size
    assert seen[1][0] - seen[0][0] == step


def test_receptive_field_of_the_ekg_network_and_errors():
    assert receptive_field([(20, 10), (5, 2)]) == (60, 20)
    assert receptive_field([]) == (1, 1)
    assert receptive_field(((20, 10), (5, 2))) == (60, 20)          # any sequence of pairs
    for bad in [[(0, 1)], [(3, 0)], [(2.5, 1)]]:
        with pytest.raises(ValueError):
            receptive_field(bad)


# --- the data and build_ekg_classifier -----------------------------------------------


def test_the_ekg_data_is_deterministic_and_balanced():
    X, y = make_ekg(200, seed=3)
    X2, y2 = make_ekg(200, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (200, 100) and X.dtype == np.float32 and y.sum() == 100
    X_train, X_test, y_train, y_test = load_ekg_split()
    assert X_train.shape == (800, 100, 1) and X_test.shape == (400, 100, 1)
    assert not np.allclose(X_train[:400], X_test)


@pytest.mark.slow
def test_the_ekg_classifier_has_the_lectures_layers_and_learns(tf):
    keras = tf.keras
    keras.utils.set_random_seed(0)      # before the weights are drawn: the same model every run
    model = build_ekg_classifier()
    assert model.input_shape == (None, 100, 1)
    assert [type(layer).__name__ for layer in model.layers[:2]] == ["Conv1D", "Conv1D"]
    assert [(layer.kernel_size, layer.strides) for layer in model.layers[:2]] == \
        [((20,), (10,)), ((5,), (2,))]
    assert [layer.output.shape[1] for layer in model.layers[:2]] == [9, 3]
    assert model.output_shape == (None, 1)
    assert model.count_params() == 345
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy)
    assert model.layers[-1].get_config()["activation"] == "sigmoid"
    assert build_ekg_classifier(200).layers[0].output.shape[1] == 19
    keras.utils.set_random_seed(0)
    X_train, X_test, y_train, y_test = load_ekg_split()
    model.fit(X_train, y_train, epochs=30, batch_size=32, verbose=0)
    accuracy = np.mean((model.predict(X_test, verbose=0)[:, 0] >= 0.5) == y_test)
    assert accuracy >= 0.95
