# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Exercises: softmax and multiclass classification
#
# Write each function in the cell marked `# YOUR CODE HERE` (delete the `raise NotImplementedError()`
# line), then run the test cell below it. The visible tests check a few inputs and tell you what
# they expected; passing them is a good sign, not a guarantee.
#
# **How this notebook is graded.** When you submit, your code is run again in a fresh Python
# process and compared with the course's reference on fixed inputs, on random inputs drawn at
# grading time, and on edge cases (very large logits, single rows and batches, Python lists). Your
# functions must not modify their inputs, print, plot, or raise floating-point warnings. Whatever
# your notebook does to its own kernel does not change the grade.
#
# Conventions: NumPy in, NumPy out. "Along the last axis" means a 1-D input is one example and a
# 2-D input is a batch of rows.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"     # keep TensorFlow's C++ log lines out of the output
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import numpy as np


class TestFailure(AssertionError):
    """A failed visible test: shown as one readable message, not a traceback."""

    def _render_traceback_(self):
        return ["\x1b[31mTest failed:\x1b[0m " + str(self)]


def _show(value):
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, threshold=20, separator=", ")
    return repr(value)


def expect_close(fn, *args, expected, rtol=1e-6, atol=1e-12):
    """Call fn(*args) and compare with `expected`; raise TestFailure with a readable message."""
    call = f"{fn.__name__}({', '.join(_show(np.asarray(a)) if isinstance(a, np.ndarray) else repr(a) for a in args)})"
    try:
        actual = fn(*args)
    except NotImplementedError:
        raise TestFailure(f"{fn.__name__} is not written yet: replace `raise NotImplementedError()` "
                          f"with your code.") from None
    except Exception as exc:
        raise TestFailure(f"{call} raised {type(exc).__name__}: {exc}") from None
    expected = np.asarray(expected, dtype=float)
    if expected.ndim and not isinstance(actual, np.ndarray):
        raise TestFailure(f"{call} returned a {type(actual).__name__}; expected a numpy array")
    if np.shape(actual) != expected.shape:
        raise TestFailure(f"{call} returned shape {np.shape(actual)}; expected shape {expected.shape}")
    if not np.allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol):
        raise TestFailure(f"{call}\n  returned {_show(np.asarray(actual))}\n  expected {_show(expected)}")
    print(f"passed: {call}")


# %% [markdown] nbgrader={"grade": false, "grade_id": "softmax_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `softmax(z)`
#
# $$a_j = \frac{e^{z_j}}{\sum_{k} e^{z_k}}$$
#
# Along the last axis, so that each row of a batch sums to 1. It must stay finite for any finite
# `z`, including logits like 1000 or -1000 (hint: $\mathrm{softmax}(z) = \mathrm{softmax}(z - c)$
# for any constant $c$).

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax(z):
    """Softmax of z along the last axis."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
expect_close(softmax, np.array([1.0, 2.0, 3.0]), expected=[0.09003057, 0.24472847, 0.66524096])
expect_close(softmax, np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
             expected=[[0.09003057, 0.24472847, 0.66524096], [1 / 3, 1 / 3, 1 / 3]])
expect_close(softmax, np.array([1000.0, 1000.0]), expected=[0.5, 0.5])
### BEGIN HIDDEN TESTS
expect_close(softmax, np.array([-1000.0, -1001.0]), expected=[0.73105858, 0.26894142])
expect_close(softmax, np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]),
             expected=[[0.26894142, 0.73105858], [0.95257413, 0.04742587], [0.5, 0.5]])
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "scce_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `sparse_categorical_crossentropy(probs, y)`
#
# Given predicted probabilities `probs` of shape `(m, k)` and integer labels `y` of shape `(m,)`,
# return the mean loss over the examples, as a float:
#
# $$J = \frac{1}{m} \sum_{i=1}^{m} -\log a^{(i)}_{y^{(i)}}$$
#
# Do not clip the probabilities: a true-class probability of $10^{-12}$ costs $-\log 10^{-12} \approx 27.6$.

# %% nbgrader={"grade": false, "grade_id": "sparse_categorical_crossentropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sparse_categorical_crossentropy(probs, y):
    """Mean of -log probs[i, y[i]] over the examples."""
    ### BEGIN SOLUTION
    probs = np.asarray(probs, dtype=float)
    y = np.asarray(y, dtype=int)
    return float(np.mean(-np.log(probs[np.arange(len(y)), y])))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sparse_categorical_crossentropy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
expect_close(sparse_categorical_crossentropy, np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]),
             np.array([0, 2]), expected=0.28990924)
expect_close(sparse_categorical_crossentropy, np.array([[0.25, 0.75]]), np.array([1]),
             expected=0.28768207)
### BEGIN HIDDEN TESTS
expect_close(sparse_categorical_crossentropy, np.array([[0.5, 0.5], [0.9, 0.1], [0.3, 0.7]]),
             [1, 0, 0], expected=0.66765696)
expect_close(sparse_categorical_crossentropy, np.array([[1e-12, 1.0 - 1e-12]]), np.array([0]),
             expected=27.63102112)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "digits_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `build_digit_classifier()`
#
# Return a **compiled** `tf.keras` model for the 8x8 digits: 64 inputs (pixels scaled to [0, 1]),
# ReLU hidden layers of your choice, and a **linear** output layer of 10 units, compiled with
# `keras.losses.SparseCategoricalCrossentropy(from_logits=True)` and an optimizer of your choice.
#
# It is graded by how it trains: the grader rebuilds your model from its configuration (built-in
# Keras layers only), trains it for 30 epochs (batch size 32) on 75% of `load_digits` and needs
# at least 90% accuracy on the other 25%.

# %% nbgrader={"grade": false, "grade_id": "build_digit_classifier", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_digit_classifier():
    """A compiled Keras model: 64 inputs -> ReLU hidden layers -> 10 linear outputs."""
    import keras
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="linear"),
    ])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(learning_rate=1e-3), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_build_digit_classifier", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def check_digit_classifier_shape():
    try:
        model = build_digit_classifier()
    except NotImplementedError:
        raise TestFailure("build_digit_classifier is not written yet: replace "
                          "`raise NotImplementedError()` with your code.") from None
    if not getattr(model, "compiled", False):
        raise TestFailure("the model is not compiled: call model.compile(loss=..., optimizer=...)")
    if model.outputs[0].shape[-1] != 10:
        raise TestFailure(f"the model has {model.outputs[0].shape[-1]} outputs; expected 10")
    if model.layers[-1].get_config().get("activation") != "linear":
        raise TestFailure("the output layer must be linear (activation='linear')")
    if not getattr(model.loss, "get_config", lambda: {})().get("from_logits"):
        raise TestFailure("the loss must be SparseCategoricalCrossentropy(from_logits=True)")
    print("passed: 10 linear outputs, loss from logits")
    return model


model = check_digit_classifier_shape()
### BEGIN HIDDEN TESTS
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25, stratify=y,
                                                    random_state=0)
model.fit(X_train, y_train, epochs=30, batch_size=32, verbose=0)
accuracy = np.mean(np.argmax(model.predict(X_test, verbose=0), axis=1) == y_test)
assert accuracy >= 0.9, f"held-out accuracy {accuracy:.1%} is below 90%"
### END HIDDEN TESTS
