"""The softmax checks accept correct code written many ways and reject plausible bugs."""

import pytest

from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"

SOFTMAX_CORRECT = {
    "reference-style": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""",
    "scipy": """
from scipy.special import softmax as _s
def softmax(z):
    return _s(np.asarray(z, dtype=float), axis=-1)
""",
    "via log-sum-exp": """
from scipy.special import logsumexp
def softmax(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z - logsumexp(z, axis=-1, keepdims=True))
""",
    "array methods, no np.asarray (NumPy in)": """
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""",
    "row by row with loops": """
import math
def softmax(z):
    z = np.asarray(z, dtype=float)
    rows = z.reshape(-1, z.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        s = sum(exps)
        out[i] = [e / s for e in exps]
    return out.reshape(z.shape)
""",
}

SOFTMAX_WRONG = {
    "naive exp overflows": """
def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)
""",
    "wrong axis": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
""",
    "whole-matrix normalisation": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()
""",
    "global max shift (rows at different scales underflow)": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)
""",
    "sigmoid instead of softmax": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    return 1 / (1 + np.exp(-z))
""",
    "returns a list": """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).tolist()
""",
    "modifies its input": """
def softmax(z):
    if isinstance(z, np.ndarray):
        z -= z.max(axis=-1, keepdims=True)
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""",
}

SCCE_CORRECT = {
    "fancy indexing": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    y = np.asarray(y)
    return float(-np.log(probs[np.arange(len(y)), y]).mean())
""",
    "one-hot": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    onehot = np.eye(probs.shape[1])[np.asarray(y)]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(onehot == 1, np.log(np.where(onehot == 1, probs, 1.0)), 0.0)
    return -logs.sum() / len(probs)
""",
    "loop with math.log": """
import math
def sparse_categorical_crossentropy(probs, y):
    total = 0.0
    for row, label in zip(probs, y):
        total += -math.log(row[int(label)])
    return total / len(y)
""",
    "probs.shape[0] and y as they come, no conversion": """
def sparse_categorical_crossentropy(probs, y):
    m = probs.shape[0]
    return float(np.sum(-np.log(probs[np.arange(m), y])) / m)
""",
    "take_along_axis, numpy float": """
def sparse_categorical_crossentropy(probs, y):
    p = np.take_along_axis(np.asarray(probs, float), np.asarray(y).reshape(-1, 1), axis=1)
    return np.mean(-np.log(p))
""",
}

SCCE_WRONG = {
    "sum instead of mean": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    return float(-np.log(probs[np.arange(len(y)), y]).sum())
""",
    "wrong sign": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    return float(np.log(probs[np.arange(len(y)), y]).mean())
""",
    "indexes rows by label (probs[y])": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    return float(-np.log(probs[np.asarray(y)][:, 0]).mean())
""",
    "clips like Keras (1e-7)": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    return float(-np.log(probs[np.arange(len(y)), y]).mean())
""",
    "mean over every entry of -y log p": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    onehot = np.eye(probs.shape[1])[np.asarray(y)]
    return float(-(onehot * np.log(probs)).mean())
""",
    "log10": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    return float(-np.log10(probs[np.arange(len(y)), y]).mean())
""",
    "returns an array": """
def sparse_categorical_crossentropy(probs, y):
    probs = np.asarray(probs, dtype=float)
    return -np.log(probs[np.arange(len(y)), y])
""",
}

# softmax_gradient runs in the student's notebook next to their softmax: the variants that call
# `softmax` get a correct one, as in a notebook whose first exercise is right.
SOFTMAX_REF = """
def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
"""

LOGITS_GRADIENT_CORRECT = {
    "reference style: softmax, then 1 subtracted at the true class, over m": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    m = z.shape[0]
    error = softmax(z)
    error[np.arange(m), y] -= 1.0
    return error / m
""",
    "scipy's softmax and one-hot rows from np.eye": """
from scipy.special import softmax as scipy_softmax
def softmax_cross_entropy_gradient(z, y):
    A = scipy_softmax(z, axis=1)
    Y = np.eye(z.shape[1])[y]
    return (A - Y) / len(y)
""",
    "a loop over examples with math.exp": """
import math
def softmax_cross_entropy_gradient(z, y):
    m, k = z.shape
    grad = np.zeros((m, k))
    for i in range(m):
        c = max(z[i])
        e = [math.exp(v - c) for v in z[i]]
        s = sum(e)
        for j in range(k):
            grad[i, j] = (e[j] / s - (1.0 if j == y[i] else 0.0)) / m
    return grad
""",
    "exp of log-softmax via logsumexp, one-hot by comparison": """
from scipy.special import logsumexp
def softmax_cross_entropy_gradient(z, y):
    z = np.asarray(z, dtype=float)
    A = np.exp(z - logsumexp(z, axis=-1, keepdims=True))
    Y = (np.arange(z.shape[1]) == np.asarray(y)[:, None]).astype(float)
    return (A - Y) / z.shape[0]
""",
}

LOGITS_GRADIENT_WRONG = {
    "missing 1/m (the gradient of the sum)": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    error = softmax(z)
    error[np.arange(len(y)), y] -= 1.0
    return error
""",
    "a - y: the class id subtracted from every probability": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    return (softmax(z) - y[:, None]) / len(y)
""",
    "e_y - a: the wrong sign": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    return (np.eye(z.shape[1])[y] - softmax(z)) / len(y)
""",
    "softmax over the examples (axis 0)": """
def softmax_cross_entropy_gradient(z, y):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    A = e / e.sum(axis=0, keepdims=True)
    return (A - np.eye(z.shape[1])[y]) / len(y)
""",
    "one-hot transposed: Y[y, i] = 1 in place of Y[i, y]": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    Y = np.zeros_like(z)
    Y[y, np.arange(len(y))] = 1.0
    return (softmax(z) - Y) / len(y)
""",
    "softmax without the shift (overflows at large logits)": """
def softmax_cross_entropy_gradient(z, y):
    e = np.exp(z)
    A = e / e.sum(axis=1, keepdims=True)
    return (A - np.eye(z.shape[1])[y]) / len(y)
""",
    "divides by the number of classes k, not of examples m": SOFTMAX_REF + """
def softmax_cross_entropy_gradient(z, y):
    return (softmax(z) - np.eye(z.shape[1])[y]) / z.shape[1]
""",
}


GRADIENT_CORRECT = {
    "reference style: a - e_y by subtracting 1 at the true class": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    m = X.shape[0]
    error = softmax(X @ W + b)
    error[np.arange(m), y] -= 1.0
    return X.T @ error / m, error.sum(axis=0) / m
""",
    "one-hot labels from np.eye, scipy's softmax, np.mean": """
from scipy.special import softmax as scipy_softmax
def softmax_gradient(X, y, W, b):
    A = scipy_softmax(X @ W + b, axis=1)
    Y = np.eye(W.shape[1])[y]
    return X.T @ (A - Y) / len(X), np.mean(A - Y, axis=0)
""",
    "a loop over examples with np.outer (the course lab's style)": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    m, n = X.shape
    dj_dW, dj_db = np.zeros(W.shape), np.zeros(b.shape)
    for i in range(m):
        err = softmax(X[i] @ W + b)
        err[y[i]] -= 1
        dj_dW += np.outer(X[i], err)
        dj_db += err
    return dj_dW / m, dj_db / m
""",
    "log-sum-exp probabilities, einsum, a list back": """
from scipy.special import logsumexp
def softmax_gradient(X, y, W, b):
    Z = np.einsum("mn,nk->mk", X, W) + b
    A = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    A[np.arange(len(y)), y] -= 1
    return [np.einsum("mn,mk->nk", X, A) / len(y), A.mean(axis=0)]
""",
}

GRADIENT_WRONG = {
    "a - y: the class id subtracted from every probability": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W + b) - y[:, None]
    return X.T @ error / len(X), error.mean(axis=0)
""",
    "missing 1/m": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W + b)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error, error.sum(axis=0)
""",
    "e_y - a: the wrong sign": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W + b)
    error[np.arange(len(y)), y] -= 1.0
    return -X.T @ error / len(X), -error.mean(axis=0)
""",
    "(a - e_y)^T X: dj_dW transposed": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W + b)
    error[np.arange(len(y)), y] -= 1.0
    return error.T @ X / len(X), error.mean(axis=0)
""",
    "dj_db averaged over the classes": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W + b)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error / len(X), error.mean(axis=1)
""",
    "softmax without the shift (overflows at large logits)": """
def softmax_gradient(X, y, W, b):
    e = np.exp(X @ W + b)
    error = e / e.sum(axis=1, keepdims=True)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error / len(X), error.mean(axis=0)
""",
    "softmax over the examples (axis 0)": """
def softmax_gradient(X, y, W, b):
    Z = X @ W + b
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    error = e / e.sum(axis=0, keepdims=True)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error / len(X), error.mean(axis=0)
""",
    "sigmoid in place of softmax": """
from scipy.special import expit
def softmax_gradient(X, y, W, b):
    error = expit(X @ W + b)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error / len(X), error.mean(axis=0)
""",
    "forgets b in the logits": SOFTMAX_REF + """
def softmax_gradient(X, y, W, b):
    error = softmax(X @ W)
    error[np.arange(len(y)), y] -= 1.0
    return X.T @ error / len(X), error.mean(axis=0)
""",
}


CASES = [
    ("softmax.softmax", SOFTMAX_CORRECT, SOFTMAX_WRONG),
    ("softmax.sparse_categorical_crossentropy", SCCE_CORRECT, SCCE_WRONG),
    ("softmax.softmax_cross_entropy_gradient", LOGITS_GRADIENT_CORRECT, LOGITS_GRADIENT_WRONG),
    ("softmax.softmax_gradient", GRADIENT_CORRECT, GRADIENT_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


def test_feedback_names_input_expected_and_actual(check_code):
    verdict = check_code("softmax.softmax", HEADER + SOFTMAX_WRONG["naive exp overflows"])
    text = verdict.feedback()
    assert "large logits [1000, 1001, 1002]" in text
    assert "expected:" in text and "actual:" in text and "input:" in text
    assert "np.exp(z - " not in text   # no reference code in feedback


DIGITS_HEADER = "import numpy as np\nimport keras\n"

DIGITS_WRONG = {
    "softmax output with from_logits=True": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "linear output without from_logits": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10)])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(), optimizer="adam")
    return m
""",
    "not compiled": """
def build_digit_classifier():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
""",
    "binary cross-entropy on 10 outputs": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "9 outputs": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(9)])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "does not train (learning rate 1e-6)": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10)])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.SGD(learning_rate=1e-6))
    return m
""",
    "a Lambda layer (code, refused by safe mode)": """
def build_digit_classifier():
    m = keras.Sequential([keras.Input((64,)), keras.layers.Lambda(lambda x: x * 2.0),
                          keras.layers.Dense(10)])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
}

DIGITS_CORRECT = {
    "functional API, SGD with momentum": """
def build_digit_classifier():
    inputs = keras.Input(shape=(64,))
    h = keras.layers.Dense(48, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="linear")(h)
    m = keras.Model(inputs, outputs)
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    return m
""",
}


# Each case trains a model (a few seconds each).
DIGITS_CASES = [("softmax.build_digit_classifier", DIGITS_CORRECT, DIGITS_WRONG)]
test_digit_classifier_accepts_correct, test_digit_classifier_rejects_wrong = \
    accept_and_reject(DIGITS_CASES, DIGITS_HEADER, marks=[pytest.mark.slow])
