"""The stability checks accept correct code written many ways and reject plausible bugs."""

import pytest

from autograder.checks import stability
from autograder.checks.base import run_checks
from autograder.sandbox.runner import Reason
from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


def test_checks_are_listed_in_exercise_order():
    assert [check.exercise_id for check in stability.CHECKS] == [
        "stability.log_sum_exp", "stability.log_softmax", "stability.log_sigmoid",
        "stability.softmax_cross_entropy_with_logits",
        "stability.binary_cross_entropy_with_logits"]


# ----------------------------------------------------------------------------------------------
# log_sum_exp

LSE_CORRECT = {
    "reference-style: shift by the row max": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z - c), axis=-1))
""",
    "array methods on z as it comes, no np.asarray": """
def log_sum_exp(z):
    c = z.max(axis=-1, keepdims=True)
    return c[..., 0] + np.log(np.exp(z - c).sum(axis=-1))
""",
    "scipy.special.logsumexp": """
from scipy.special import logsumexp
def log_sum_exp(z):
    return logsumexp(np.asarray(z, dtype=float), axis=-1)
""",
    "np.logaddexp.reduce": """
def log_sum_exp(z):
    return np.logaddexp.reduce(np.asarray(z, dtype=float), axis=-1)
""",
    "row by row with math.fsum, Python floats for 1-D": """
import math
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    rows = z.reshape(-1, z.shape[-1])
    out = []
    for row in rows:
        c = max(row)
        out.append(c + math.log(math.fsum(math.exp(v - c) for v in row)))
    if z.ndim == 1:
        return out[0]
    return np.array(out).reshape(z.shape[:-1])
""",
}

LSE_WRONG = {
    "naive: exp overflows at 1000": """
def log_sum_exp(z):
    return np.log(np.sum(np.exp(np.asarray(z, dtype=float)), axis=-1))
""",
    "guards overflow only: exp underflows to 0 for very negative logits (log 0 = -inf)": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.maximum(np.max(z, axis=-1, keepdims=True), 0.0)
    return np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z - c), axis=-1))
""",
    "keepdims: returns shape (m, 1), (1,) for one row": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return c + np.log(np.sum(np.exp(z - c), axis=-1, keepdims=True))
""",
    "wrong axis (columns of a batch)": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=0, keepdims=True)
    return np.squeeze(c, axis=0) + np.log(np.sum(np.exp(z - c), axis=0))
""",
    "one max for the whole batch (rows at different scales underflow)": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z)
    return c + np.log(np.sum(np.exp(z - c), axis=-1))
""",
    "log1p of the whole sum, the max's own 1 included": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(c, axis=-1) + np.log1p(np.sum(np.exp(z - c), axis=-1))
""",
    "forgets to add the max back": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(z - c), axis=-1))
""",
    "the max alone (an approximation)": """
def log_sum_exp(z):
    return np.max(np.asarray(z, dtype=float), axis=-1)
""",
    "float32 arithmetic (not accurate enough)": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=np.float32)
    c = np.max(z, axis=-1, keepdims=True)
    return (np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z - c), axis=-1))).astype(float)
""",
    "logits clipped to [-700, 700] so that exp cannot overflow": """
def log_sum_exp(z):
    z = np.clip(np.asarray(z, dtype=float), -700, 700)
    return np.log(np.sum(np.exp(z), axis=-1))
""",
    "modifies its input": """
def log_sum_exp(z):
    if isinstance(z, np.ndarray):
        c = np.max(z, axis=-1, keepdims=True)
        z -= c
        return np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z), axis=-1))
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z - c), axis=-1))
""",
}



# ----------------------------------------------------------------------------------------------
# log_softmax

LOG_SOFTMAX_CORRECT = {
    "reference-style: shifted logits minus their log-sum-exp": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
""",
    "scipy.special.log_softmax": """
from scipy.special import log_softmax as _log_softmax
def log_softmax(z):
    return _log_softmax(np.asarray(z, dtype=float), axis=-1)
""",
    "z minus scipy's logsumexp": """
from scipy.special import logsumexp
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    return z - logsumexp(z, axis=-1, keepdims=True)
""",
    "np.logaddexp.reduce with a new axis": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    return z - np.logaddexp.reduce(z, axis=-1)[..., np.newaxis]
""",
    "row by row with math.fsum": """
import math
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    rows, out_rows = z.reshape(-1, z.shape[-1]), out.reshape(-1, z.shape[-1])
    for row, out_row in zip(rows, out_rows):
        c = max(row)
        lse = c + math.log(math.fsum(math.exp(v - c) for v in row))
        out_row[:] = [v - lse for v in row]
    return out
""",
}

LOG_SOFTMAX_WRONG = {
    "naive: exp overflows at 1000": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
""",
    "log of a stable softmax (a probability underflows to 0: log 0 = -inf)": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return np.log(e / np.sum(e, axis=-1, keepdims=True))
""",
    "log of a clipped softmax (log 1e-12 = -27.6, not -1e4)": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return np.log(np.clip(e / np.sum(e, axis=-1, keepdims=True), 1e-12, 1.0))
""",
    "no keepdims: the row sums broadcast against the wrong axis": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1))
""",
    "wrong axis (columns of a batch)": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
""",
    "wrong sign (log-sum-exp minus z)": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)) - shifted
""",
    "softmax, not its log": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
""",
    "returns a list": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return (shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))).tolist()
""",
}



# ----------------------------------------------------------------------------------------------
# softmax_cross_entropy_with_logits

SCE_CORRECT = {
    "reference-style: -log_softmax at the true class": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    log_a = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(np.mean(-log_a[np.arange(len(y)), y]))
""",
    "logits.shape[0] and y as they come, no conversion": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    m = logits.shape[0]
    return float(-log_softmax(logits, axis=1)[np.arange(m), y].sum() / m)
""",
    "scipy logsumexp minus the true logit": """
from scipy.special import logsumexp
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    true = np.take_along_axis(z, np.asarray(y).reshape(-1, 1), axis=1)[:, 0]
    return np.mean(logsumexp(z, axis=1) - true)
""",
    "one-hot with scipy.special.log_softmax": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    onehot = np.eye(z.shape[1])[np.asarray(y)]
    return -np.sum(onehot * log_softmax(z, axis=1)) / z.shape[0]
""",
    "a loop with math, Python floats": """
import math
def softmax_cross_entropy_with_logits(logits, y):
    total = 0.0
    for row, label in zip(logits, y):
        c = max(row)
        lse = c + math.log(math.fsum(math.exp(v - c) for v in row))
        total += lse - row[int(label)]
    return total / len(logits)
""",
}

SCE_WRONG = {
    "naive -log(softmax): a true-class probability underflows to 0": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    a = e / np.sum(e, axis=-1, keepdims=True)
    return float(np.mean(-np.log(a[np.arange(len(z)), y])))
""",
    "naive log-sum-exp: exp overflows": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    lse = np.log(np.sum(np.exp(z), axis=1))
    return float(np.mean(lse - z[np.arange(len(z)), y]))
""",
    "one max for the whole batch (a row far below it underflows)": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    shifted = z - np.max(z)
    log_a = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(np.mean(-log_a[np.arange(len(z)), y]))
""",
    "probabilities clipped to [1e-7, 1] as Keras does": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    a = np.clip(e / np.sum(e, axis=-1, keepdims=True), 1e-7, 1.0)
    return float(np.mean(-np.log(a[np.arange(len(z)), y])))
""",
    "sum instead of mean": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    return float(np.sum(-log_softmax(z, axis=1)[np.arange(len(z)), y]))
""",
    "wrong sign": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    return float(np.mean(log_softmax(z, axis=1)[np.arange(len(z)), y]))
""",
    "mean over every entry of the one-hot product (divides by m*k)": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    onehot = np.eye(z.shape[1])[np.asarray(y)]
    return float(np.mean(-onehot * log_softmax(z, axis=1)))
""",
    "rows picked by label (z[y]) instead of the true class of each row": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    return float(np.mean(-log_softmax(z, axis=1)[np.asarray(y), 0]))
""",
    "the max logit in place of the true class's logit": """
from scipy.special import logsumexp
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    return float(np.mean(logsumexp(z, axis=1) - np.max(z, axis=1)))
""",
    "returns the per-example losses": """
from scipy.special import log_softmax
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    return -log_softmax(z, axis=1)[np.arange(len(z)), y]
""",
}



# ----------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits

BCE_CORRECT = {
    "reference-style: max(z, 0) - z y + log(1 + e^-|z|)": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
""",
    "arrays as they come: logits * y, no np.asarray": """
def binary_cross_entropy_with_logits(logits, y):
    loss = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
    return float(loss.mean())
""",
    "softplus with np.logaddexp": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
""",
    "scipy.special.log_expit": """
from scipy.special import log_expit
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(-y * log_expit(z) - (1 - y) * log_expit(-z)))
""",
    "np.log(1 + ...) instead of np.log1p (tiny terms lost, within tolerance)": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.where(z > 0, z, 0.0) - z * y + np.log(1 + np.exp(-np.abs(z)))))
""",
    "a loop over the flattened entries with math": """
import math
def binary_cross_entropy_with_logits(logits, y):
    zs = np.asarray(logits, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()
    losses = [max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z))) for z, t in zip(zs, ys)]
    return math.fsum(losses) / len(losses)
""",
}

BCE_WRONG = {
    "naive -log(sigmoid): 1 - sigmoid(40) rounds to 0": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    a = 0.5 * (1 + np.tanh(0.5 * z))
    return float(np.mean(-y * np.log(a) - (1 - y) * np.log(1 - a)))
""",
    "naive sigmoid 1/(1+e^-z): exp overflows at -1e4": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    a = 1 / (1 + np.exp(-z))
    return float(np.mean(-y * np.log(a) - (1 - y) * np.log(1 - a)))
""",
    "naive softplus log(1 + e^z) - z y: exp overflows": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.log1p(np.exp(z)) - z * y))
""",
    "probabilities clipped to [1e-7, 1 - 1e-7]": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    a = np.clip(0.5 * (1 + np.tanh(0.5 * z)), 1e-7, 1 - 1e-7)
    return float(np.mean(-y * np.log(a) - (1 - y) * np.log(1 - a)))
""",
    "sum instead of mean": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
""",
    "wrong sign": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
""",
    "forgets max(z, 0)": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(-z * y + np.log1p(np.exp(-np.abs(z)))))
""",
    "labels swapped (y and 1 - y)": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = 1 - np.asarray(y, dtype=float)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
""",
    "mean over the first axis only (an array for a batch)": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=0)
""",
    "np.where over two branches: the unused branch overflows": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    loss = np.where(z >= 0, z - z * y + np.log1p(np.exp(-z)), -z * y + np.log1p(np.exp(z)))
    return float(np.mean(loss))
""",
}


# ----------------------------------------------------------------------------------------------
# log_sigmoid

LOG_SIGMOID_CORRECT = {
    "reference-style: min(z, 0) - log(1 + e^-|z|)": """
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))
""",
    "-softplus(-z) with np.logaddexp": """
def log_sigmoid(z):
    return -np.logaddexp(0.0, -np.asarray(z, dtype=float))
""",
    "scipy.special.log_expit": """
from scipy.special import log_expit
def log_sigmoid(z):
    return log_expit(np.asarray(z, dtype=float))
""",
    "a loop with math, one branch per sign of z": """
import math
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = []
    for v in z.ravel():
        if v >= 0:
            out.append(-math.log1p(math.exp(-v)))
        else:
            out.append(v - math.log1p(math.exp(v)))
    return np.array(out).reshape(z.shape)
""",
    "boolean masks, each formula only where it is safe": """
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = -np.log1p(np.exp(-z[pos]))
    out[~pos] = z[~pos] - np.log1p(np.exp(z[~pos]))
    return out
""",
}

LOG_SIGMOID_WRONG = {
    "np.log(1 / (1 + np.exp(-z))): overflow, then log(0)": """
def log_sigmoid(z):
    return np.log(1 / (1 + np.exp(-np.asarray(z, dtype=float))))
""",
    "-log1p(e^-z): e^-z overflows for z << 0": """
def log_sigmoid(z):
    return -np.log1p(np.exp(-np.asarray(z, dtype=float)))
""",
    "log(1 + e^-|z|) without log1p: 0 where -e^-z is due (z = 40)": """
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.minimum(z, 0) - np.log(1 + np.exp(-np.abs(z)))
""",
    "sign error: + log(1 + e^-|z|)": """
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.minimum(z, 0) + np.log1p(np.exp(-np.abs(z)))
""",
    "max in place of min": """
def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.maximum(z, 0) - np.log1p(np.exp(-np.abs(z)))
""",
    "sigmoid clipped to [1e-15, 1] before the log": """
from scipy.special import expit
def log_sigmoid(z):
    return np.log(np.clip(expit(np.asarray(z, dtype=float)), 1e-15, 1.0))
""",
    "z clipped to [-30, 30] so that exp cannot overflow": """
def log_sigmoid(z):
    z = np.clip(np.asarray(z, dtype=float), -30.0, 30.0)
    return -np.log1p(np.exp(-z))
""",
}


CASES = [
    ("stability.log_sum_exp", LSE_CORRECT, LSE_WRONG),
    ("stability.log_softmax", LOG_SOFTMAX_CORRECT, LOG_SOFTMAX_WRONG),
    ("stability.log_sigmoid", LOG_SIGMOID_CORRECT, LOG_SIGMOID_WRONG),
    ("stability.softmax_cross_entropy_with_logits", SCE_CORRECT, SCE_WRONG),
    ("stability.binary_cross_entropy_with_logits", BCE_CORRECT, BCE_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


# ----------------------------------------------------------------------------------------------
# Across the chapter

def test_feedback_names_input_expected_and_actual(check_code):
    verdict = check_code("stability.log_sum_exp",
                         HEADER + LSE_WRONG["naive: exp overflows at 1000"])
    text = verdict.feedback()
    assert "large logits [1000, 1001, 1002]" in text
    assert "input:" in text and "expected" in text
    assert "take_along_axis" not in text and "log1p" not in text   # no reference code


def test_a_floating_point_warning_rejects_even_a_right_value(check_code):
    # np.where computes both branches: the right value comes back, but exp(1e4) overflowed on
    # the way. The intro promises "no floating-point warnings"; the feedback must say why.
    verdict = check_code("stability.binary_cross_entropy_with_logits",
                         HEADER + BCE_WRONG[
                             "np.where over two branches: the unused branch overflows"])
    assert not verdict.accepted
    assert verdict.reasons == {Reason.WARNING}, verdict.feedback()
    assert all("floating-point warnings" in f.message for f in verdict.failures)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_reference_is_accepted_on_every_check_whatever_the_seed(seed):
    """The random cases change with the seed: none of them may catch out the reference."""
    code = HEADER + LSE_CORRECT["reference-style: shift by the row max"] \
        + LOG_SOFTMAX_CORRECT["reference-style: shifted logits minus their log-sum-exp"] \
        + LOG_SIGMOID_CORRECT["reference-style: min(z, 0) - log(1 + e^-|z|)"] \
        + SCE_CORRECT["reference-style: -log_softmax at the true class"] \
        + BCE_CORRECT["reference-style: max(z, 0) - z y + log(1 + e^-|z|)"]
    verdicts, _ = run_checks(stability.CHECKS, [code], seed=seed)
    assert all(v.accepted for v in verdicts.values()), \
        "\n".join(v.feedback() for v in verdicts.values())
