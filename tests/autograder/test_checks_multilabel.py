"""The multilabel checks accept correct code written many ways and reject plausible bugs."""

import pytest

from autograder.checks import multilabel
from autograder.checks.base import run_checks
from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


@pytest.fixture
def check_code():
    """The verdict of one multilabel check on a piece of student code (this module's own, so
    that it does not depend on the registry)."""
    checks = {check.exercise_id: check for check in multilabel.CHECKS}

    def run(exercise_id, code, seed=None):
        verdicts, _ = run_checks([checks[exercise_id]], [code], seed=seed)
        return verdicts[exercise_id]

    return run


def test_checks_are_listed_in_exercise_order():
    assert [check.exercise_id for check in multilabel.CHECKS] == [
        "multilabel.predict_labels", "multilabel.multilabel_cost",
        "multilabel.weighted_multilabel_cost", "multilabel.hamming_accuracy",
        "multilabel.build_multilabel_classifier"]


def test_the_signatures_are_written_as_the_course_lists_them():
    assert [check.signature for check in multilabel.CHECKS] == [
        "predict_labels(logits, threshold=0.5)", "multilabel_cost(logits, Y)",
        "weighted_multilabel_cost(logits, Y, pos_weight)", "hamming_accuracy(Y_true, Y_pred)",
        "build_multilabel_classifier(n_features, n_labels)"]


def test_no_case_lies_within_rounding_of_the_threshold():
    """Both correct formulations agree on every case: sigmoid(z) >= t and z >= logit(t)."""
    import numpy as np

    for seed in range(20):
        for case in multilabel.PredictLabels().cases(np.random.default_rng(seed)):
            z = case.args[0]
            t = case.args[1] if len(case.args) > 1 else case.kwargs.get("threshold", 0.5)
            with np.errstate(over="ignore"):
                by_probability = 1 / (1 + np.exp(-z)) >= t
            assert np.array_equal(by_probability, z >= np.log(t / (1 - t))), case.label


# ----------------------------------------------------------------------------------------------
# predict_labels

PREDICT_CORRECT = {
    "reference-style: stable sigmoid, >= threshold, astype(int)": """
def predict_labels(logits, threshold=0.5):
    e = np.exp(-np.abs(logits))
    p = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    return (p >= threshold).astype(int)
""",
    "naive sigmoid (overflows harmlessly at -1000)": """
def predict_labels(logits, threshold=0.5):
    return (1 / (1 + np.exp(-logits)) >= threshold).astype(int)
""",
    "compares logits with log(t / (1 - t))": """
def predict_labels(logits, threshold=0.5):
    return (logits >= np.log(threshold / (1 - threshold))).astype(int)
""",
    "np.where(..., 1, 0) with scipy-free tanh sigmoid": """
def predict_labels(logits, threshold=0.5):
    p = 0.5 * (1 + np.tanh(0.5 * np.asarray(logits)))
    return np.where(p >= threshold, 1, 0)
""",
    "a loop over the entries": """
import math
def predict_labels(logits, threshold=0.5):
    out = np.zeros(np.shape(logits), dtype=int)
    for idx, z in np.ndenumerate(logits):
        p = 1 / (1 + math.exp(-z)) if z > -500 else 0.0
        out[idx] = 1 if p >= threshold else 0
    return out
""",
}

PREDICT_WRONG = {
    "thresholds the logits, not the probabilities": """
def predict_labels(logits, threshold=0.5):
    return (logits >= threshold).astype(int)
""",
    "> instead of >=": """
def predict_labels(logits, threshold=0.5):
    return (1 / (1 + np.exp(-logits)) > threshold).astype(int)
""",
    "ignores the threshold (always 0.5)": """
def predict_labels(logits, threshold=0.5):
    return (logits >= 0).astype(int)
""",
    "softmax instead of sigmoid": """
def predict_labels(logits, threshold=0.5):
    z = np.atleast_2d(logits)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return (p >= threshold).astype(int).reshape(np.shape(logits))
""",
    "one label per example (argmax, as in multi-class)": """
def predict_labels(logits, threshold=0.5):
    z = np.atleast_2d(logits)
    out = np.zeros(z.shape, dtype=int)
    out[np.arange(len(z)), z.argmax(axis=-1)] = 1
    return out.reshape(np.shape(logits))
""",
    "a bool array, not ints": """
def predict_labels(logits, threshold=0.5):
    return 1 / (1 + np.exp(-logits)) >= threshold
""",
    "inverted labels": """
def predict_labels(logits, threshold=0.5):
    return (1 / (1 + np.exp(-logits)) < threshold).astype(int)
""",
}

# ----------------------------------------------------------------------------------------------
# multilabel_cost

COST_CORRECT = {
    "reference-style: max(z, 0) - z y + log1p(exp(-|z|))": """
def multilabel_cost(logits, Y):
    z = logits
    return float(np.mean(np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z)))))
""",
    "np.logaddexp(0, z) - z y": """
def multilabel_cost(logits, Y):
    return np.mean(np.logaddexp(0, logits) - logits * Y)
""",
    "log-sigmoid of both signs with logaddexp": """
def multilabel_cost(logits, Y):
    log_p = -np.logaddexp(0, -logits)        # log sigmoid(z)
    log_1mp = -np.logaddexp(0, logits)       # log (1 - sigmoid(z))
    return -np.mean(Y * log_p + (1 - Y) * log_1mp)
""",
    "sum over labels, mean over examples, divided by k": """
def multilabel_cost(logits, Y):
    m, k = logits.shape
    per_example = np.sum(np.logaddexp(0, logits) - logits * Y, axis=1)
    return per_example.sum() / (m * k)
""",
    "a loop with math.log1p": """
import math
def multilabel_cost(logits, Y):
    total = 0.0
    for z, y in zip(logits.ravel(), Y.ravel()):
        total += max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
    return total / logits.size
""",
}

COST_WRONG = {
    "naive: log of a sigmoid (inf / nan at large logits)": """
def multilabel_cost(logits, Y):
    with np.errstate(all="ignore"):
        p = 1 / (1 + np.exp(-logits))
        return -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
""",
    "clipped like Keras at 1e-7 (wrong by orders of magnitude at 1e4)": """
def multilabel_cost(logits, Y):
    with np.errstate(all="ignore"):
        p = np.clip(1 / (1 + np.exp(-logits)), 1e-7, 1 - 1e-7)
    return -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
""",
    "sum instead of mean": """
def multilabel_cost(logits, Y):
    return np.sum(np.logaddexp(0, logits) - logits * Y)
""",
    "mean over examples only (sum over labels)": """
def multilabel_cost(logits, Y):
    return np.mean(np.sum(np.logaddexp(0, logits) - logits * Y, axis=1))
""",
    "softmax cross-entropy instead of binary": """
def multilabel_cost(logits, Y):
    log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(Y * log_p, axis=1))
""",
    "missing abs: log1p(exp(-z)) overflows for z = -1e4": """
def multilabel_cost(logits, Y):
    with np.errstate(all="ignore"):
        return np.mean(np.maximum(logits, 0) - logits * Y + np.log1p(np.exp(-logits)))
""",
    "Y and 1 - Y swapped": """
def multilabel_cost(logits, Y):
    return np.mean(np.logaddexp(0, logits) - logits * (1 - Y))
""",
    "returns the per-entry losses": """
def multilabel_cost(logits, Y):
    return np.logaddexp(0, logits) - logits * Y
""",
}

# ----------------------------------------------------------------------------------------------
# weighted_multilabel_cost: written from the task text alone (its formula and TensorFlow's
# convention), in different styles.

WEIGHTED_CORRECT = {
    "reference-style: softplus(z) and softplus(z) - z": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    z = logits
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(pos_weight * Y * (softplus - z) + (1 - Y) * softplus))
""",
    "np.logaddexp for both logs": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    minus_log_p = np.logaddexp(0, -logits)       # -log sigmoid(z)
    minus_log_1mp = np.logaddexp(0, logits)      # -log(1 - sigmoid(z))
    return np.mean(pos_weight[np.newaxis, :] * Y * minus_log_p + (1 - Y) * minus_log_1mp)
""",
    "TensorFlow's documented form: (1 - y) z + l (log1p(exp(-|z|)) + max(-z, 0))": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    l = 1 + (pos_weight - 1) * Y
    loss = (1 - Y) * logits + l * (np.log1p(np.exp(-np.abs(logits))) + np.maximum(-logits, 0))
    return loss.mean()
""",
    "scipy.special.log_expit": """
from scipy.special import log_expit
def weighted_multilabel_cost(logits, Y, pos_weight):
    return -np.mean(pos_weight * Y * log_expit(logits) + (1 - Y) * log_expit(-logits))
""",
    "a loop over the labels (columns), math-free": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    m, k = logits.shape
    total = 0.0
    for j in range(k):
        z, y = logits[:, j], Y[:, j]
        total += np.sum(pos_weight[j] * y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
    return total / (m * k)
""",
    "a double loop over the entries with math.log1p": """
import math
def weighted_multilabel_cost(logits, Y, pos_weight):
    m, k = logits.shape
    total = 0.0
    for i in range(m):
        for j in range(k):
            z, y = float(logits[i, j]), float(Y[i, j])
            softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))
            total += pos_weight[j] * y * (softplus - z) + (1 - y) * softplus
    return total / (m * k)
""",
}

WEIGHTED_WRONG = {
    "the weight on the negative term": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    return np.mean(Y * np.logaddexp(0, -logits) + pos_weight * (1 - Y) * np.logaddexp(0, logits))
""",
    "the weight on both terms": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    return np.mean(pos_weight * (Y * np.logaddexp(0, -logits) + (1 - Y) * np.logaddexp(0, logits)))
""",
    "the textbook formula: log of a sigmoid (inf / nan at +-1000)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    with np.errstate(all="ignore"):
        p = 1 / (1 + np.exp(-logits))
        return -np.mean(pos_weight * Y * np.log(p) + (1 - Y) * np.log(1 - p))
""",
    "clipped like Keras at 1e-7 (wrong at +-1000)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    with np.errstate(all="ignore"):
        p = np.clip(1 / (1 + np.exp(-logits)), 1e-7, 1 - 1e-7)
    return -np.mean(pos_weight * Y * np.log(p) + (1 - Y) * np.log(1 - p))
""",
    "sum instead of mean": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    return np.sum(pos_weight * Y * np.logaddexp(0, -logits) + (1 - Y) * np.logaddexp(0, logits))
""",
    "mean over the labels only (one cost per example)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    loss = pos_weight * Y * np.logaddexp(0, -logits) + (1 - Y) * np.logaddexp(0, logits)
    return loss.mean(axis=1)
""",
    "mean over the examples only (sum over the labels)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    loss = pos_weight * Y * np.logaddexp(0, -logits) + (1 - Y) * np.logaddexp(0, logits)
    return np.mean(loss.sum(axis=1))
""",
    "the weight of example i (pos_weight along the wrong axis)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    q = pos_weight[:, np.newaxis]
    return np.mean(q * Y * np.logaddexp(0, -logits) + (1 - Y) * np.logaddexp(0, logits))
""",
    "divided by the sum of the weights (a weighted mean)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    w = np.where(Y == 1, pos_weight, 1.0)
    loss = w * np.where(Y == 1, np.logaddexp(0, -logits), np.logaddexp(0, logits))
    return loss.sum() / w.sum()
""",
    "missing abs: log1p(exp(-z)) overflows at z = -1000": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    with np.errstate(all="ignore"):
        softplus = np.maximum(logits, 0) + np.log1p(np.exp(-logits))
        return np.mean(pos_weight * Y * (softplus - logits) + (1 - Y) * softplus)
""",
    "ignores pos_weight (the plain multilabel cost)": """
def weighted_multilabel_cost(logits, Y, pos_weight):
    return np.mean(np.logaddexp(0, logits) - logits * Y)
""",
}

# ----------------------------------------------------------------------------------------------
# hamming_accuracy

HAMMING_CORRECT = {
    "reference-style: np.mean(Y_true == Y_pred)": """
def hamming_accuracy(Y_true, Y_pred):
    return np.mean(Y_true == Y_pred)
""",
    "1 - mean |difference|": """
def hamming_accuracy(Y_true, Y_pred):
    return 1.0 - np.abs(Y_true - Y_pred).mean()
""",
    "count_nonzero / size": """
def hamming_accuracy(Y_true, Y_pred):
    return np.count_nonzero(Y_true == Y_pred) / Y_true.size
""",
    "1 - mean of xor": """
def hamming_accuracy(Y_true, Y_pred):
    return float(1 - np.mean(np.logical_xor(Y_true, Y_pred)))
""",
    "a double loop": """
def hamming_accuracy(Y_true, Y_pred):
    right = 0
    m, k = Y_true.shape
    for i in range(m):
        for j in range(k):
            right += int(Y_true[i, j] == Y_pred[i, j])
    return right / (m * k)
""",
}

HAMMING_WRONG = {
    "exact-match (subset) accuracy": """
def hamming_accuracy(Y_true, Y_pred):
    return np.mean(np.all(Y_true == Y_pred, axis=1))
""",
    "Hamming loss (the fraction wrong)": """
def hamming_accuracy(Y_true, Y_pred):
    return np.mean(Y_true != Y_pred)
""",
    "the number of right entries": """
def hamming_accuracy(Y_true, Y_pred):
    return float(np.sum(Y_true == Y_pred))
""",
    "per-label accuracies (an array)": """
def hamming_accuracy(Y_true, Y_pred):
    return np.mean(Y_true == Y_pred, axis=0)
""",
    "recall: right among the present labels only": """
def hamming_accuracy(Y_true, Y_pred):
    present = Y_true == 1
    return np.mean(Y_pred[present] == 1) if present.any() else 1.0
""",
    "divides by the number of examples": """
def hamming_accuracy(Y_true, Y_pred):
    return np.sum(Y_true == Y_pred) / len(Y_true)
""",
    "argmax accuracy (multi-class)": """
def hamming_accuracy(Y_true, Y_pred):
    return np.mean(Y_true.argmax(axis=1) == Y_pred.argmax(axis=1))
""",
}

CASES = [("multilabel.predict_labels", PREDICT_CORRECT, PREDICT_WRONG),
         ("multilabel.multilabel_cost", COST_CORRECT, COST_WRONG),
         ("multilabel.weighted_multilabel_cost", WEIGHTED_CORRECT, WEIGHTED_WRONG),
         ("multilabel.hamming_accuracy", HAMMING_CORRECT, HAMMING_WRONG)]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


# ----------------------------------------------------------------------------------------------
# build_multilabel_classifier: each case trains a model (several seconds each).

KERAS_HEADER = "import numpy as np\nimport keras\n"

CLASSIFIER_CORRECT = {
    "reference-style: linear outputs, from_logits=True": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels)])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "sigmoid outputs, loss='binary_crossentropy'": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(n_labels, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", optimizer="adam", metrics=["binary_accuracy"])
    return m
""",
    "functional API, two hidden layers, SGD with momentum": """
def build_multilabel_classifier(n_features, n_labels):
    inputs = keras.Input(shape=(n_features,))
    h = keras.layers.Dense(64, activation="relu")(inputs)
    h = keras.layers.Dense(32, activation="relu")(h)
    outputs = keras.layers.Dense(n_labels, activation="sigmoid")(h)
    m = keras.Model(inputs, outputs)
    m.compile(loss=keras.losses.BinaryCrossentropy(),
              optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    return m
""",
    "no hidden layer: one logistic regression per label": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_labels)])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
}

CLASSIFIER_WRONG = {
    "softmax outputs with binary cross-entropy": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels, activation="softmax")])
    m.compile(loss="binary_crossentropy", optimizer="adam")
    return m
""",
    "softmax outputs with categorical cross-entropy (multi-class)": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels, activation="softmax")])
    m.compile(loss=keras.losses.CategoricalCrossentropy(), optimizer="adam")
    return m
""",
    "sigmoid outputs with from_logits=True (sigmoid applied twice)": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels, activation="sigmoid")])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "linear outputs without from_logits": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels)])
    m.compile(loss=keras.losses.BinaryCrossentropy(), optimizer="adam")
    return m
""",
    "one output (a single yes/no)": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(1)])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return m
""",
    "does not train (learning rate 1e-6)": """
def build_multilabel_classifier(n_features, n_labels):
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_labels)])
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
              optimizer=keras.optimizers.SGD(learning_rate=1e-6))
    return m
""",
    "not compiled": """
def build_multilabel_classifier(n_features, n_labels):
    return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_labels)])
""",
}

CLASSIFIER_CASES = [("multilabel.build_multilabel_classifier", CLASSIFIER_CORRECT,
                     CLASSIFIER_WRONG)]
test_classifier_accepts_correct, test_classifier_rejects_wrong = \
    accept_and_reject(CLASSIFIER_CASES, KERAS_HEADER, marks=[pytest.mark.slow])
