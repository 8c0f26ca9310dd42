# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Exercises: numerical stability
#
# Write each function in the cell marked `# YOUR CODE HERE` (delete the `raise NotImplementedError()`
# line), then run the test cell below it. The visible tests check a few inputs and tell you what
# they expected; passing them is a good sign, not a guarantee.
#
# **How this notebook is graded.** When you submit, your code is run again in a fresh Python
# process and compared with the course's reference on fixed inputs, on random inputs drawn at
# grading time, and on edge cases (single rows and batches, Python lists, and logits anywhere
# between $-10^4$ and $10^4$). Your functions must not modify their inputs, print, plot, or raise
# floating-point warnings. Whatever your notebook does to its own kernel does not change the grade.
#
# **The accuracy demand of this chapter.** Every function must return the right, *finite* answer
# for logits as large as $\pm 10^4$, in `float64`, to about 9 significant digits. Two things fail it:
#
# - a floating-point warning: overflow (`np.exp(1000)` is `inf`), division by zero (`np.log(0)`
#   is `-inf`) or an invalid operation (`inf - inf` is `nan`). Any of these rejects the call, even
#   when the value you return happens to be right; note that `np.where(cond, A, B)` computes both
#   `A` and `B` everywhere. Underflow is fine: $e^{-10^4}$ rounding to `0.0` is the correctly
#   rounded value and raises no warning;
# - an answer that is finite but wrong, such as a loss of $16.1$ where the truth is $10^4$
#   because a probability was clipped to $10^{-7}$.
#
# The visible tests run inside `np.errstate(over="raise", divide="raise", invalid="raise")`, so
# a warning shows up there as a `FloatingPointError`. The lecture's log-sum-exp trick and softplus
# form are all you need.
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


# %% [markdown] nbgrader={"grade": false, "grade_id": "log_sum_exp_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `log_sum_exp(z)`
#
# $$\operatorname{LSE}(\vec{z}) = \log \sum_{j} e^{z_j}$$
#
# along the last axis: a 1-D `z` gives one number (a float), a batch of shape `(m, k)` gives an
# array of shape `(m,)`, one value per row (not `(m, 1)`).
#
# Computed as written, $e^{1000}$ overflows to `inf`, and for a row such as
# $[-10^4, -10^4 + 1]$ every $e^{z_j}$ underflows to $0$, so the log is $\log 0 = -\infty$. Both
# answers are finite ($1002.41$ and $-9998.69$). Hint: for any constant $c$,
# $\log \sum_j e^{z_j} = c + \log \sum_j e^{z_j - c}$; pick $c$ per row.

# %% nbgrader={"grade": false, "grade_id": "log_sum_exp", "locked": false, "schema_version": 3, "solution": true, "task": false}
def log_sum_exp(z):
    """log(sum(exp(z))) along the last axis: a float for 1-D z, shape (m,) for a batch (m, k)."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=-1, keepdims=True)   # per row: every z - m <= 0, so exp cannot overflow
    return np.squeeze(m, axis=-1) + np.log(np.sum(np.exp(z - m), axis=-1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_log_sum_exp", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(log_sum_exp, np.array([1.0, 2.0, 3.0]), expected=3.40760596)
    expect_close(log_sum_exp, np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
                 expected=[3.40760596, 1.09861229])
    expect_close(log_sum_exp, np.array([1000.0, 1001.0, 1002.0]), expected=1002.40760596)
### BEGIN HIDDEN TESTS
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(log_sum_exp, np.array([-1e4, -1e4 + 1.0]), expected=-9998.68673831)
    expect_close(log_sum_exp, np.array([[1e4, 0.0, -1e4], [0.0, 1.0, 2.0]]),
                 expected=[1e4, 2.40760596])
    expect_close(log_sum_exp, [[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]],
                 expected=[1.31326169, 2.04858735, 1.19314718])
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "log_softmax_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `log_softmax(z)`
#
# The logarithm of the softmax, along the last axis, with the shape of `z`:
#
# $$\log a_j = \log \frac{e^{z_j}}{\sum_k e^{z_k}} = z_j - \operatorname{LSE}(\vec{z})$$
#
# Same accuracy demand: for `z = [0, 1e4]` the first probability is $e^{-10^4}$, which rounds to
# $0$, yet its log is exactly $-10^4$. So `np.log(softmax(z))` is not good enough: it gives
# $-\infty$ there (and a clipped `np.log(np.clip(a, 1e-12, 1))` gives $-27.6$).

# %% nbgrader={"grade": false, "grade_id": "log_softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
def log_softmax(z):
    """log(softmax(z)) along the last axis; same shape as z."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_log_softmax", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(log_softmax, np.array([1.0, 2.0, 3.0]),
                 expected=[-2.40760596, -1.40760596, -0.40760596])
    expect_close(log_softmax, np.array([1000.0, 1000.0]), expected=[-0.69314718, -0.69314718])
    expect_close(log_softmax, np.array([0.0, 1e4]), expected=[-1e4, 0.0])
### BEGIN HIDDEN TESTS
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(log_softmax, np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
                 expected=[[-2.40760596, -1.40760596, -0.40760596],
                           [-1.09861229, -1.09861229, -1.09861229]])
    expect_close(log_softmax, np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4]]),
                 expected=[[0.0, -1e4, -2e4], [-1.55144471, -0.55144471, -1.55144471]])
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "softmax_cross_entropy_with_logits_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `softmax_cross_entropy_with_logits(logits, y)`
#
# What `SparseCategoricalCrossentropy(from_logits=True)` computes. Given logits of shape `(m, k)`
# (one row per example, before any softmax) and integer labels `y` of shape `(m,)`, return the
# mean loss over the examples, as a float:
#
# $$J = \frac{1}{m} \sum_{i=1}^{m} -\log a^{(i)}_{y^{(i)}}, \qquad
#   \vec{a}^{(i)} = \operatorname{softmax}(\vec{z}^{(i)})$$
#
# The logits `[[0, 100, -100]]` with true class 2 cost exactly $200$; the logits `[[1e4, -1e4, 0]]`
# with true class 1 cost $2 \times 10^4$, although that class's probability rounds to $0$.
# You may call your `log_sum_exp` or `log_softmax` from above.

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy_with_logits", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_cross_entropy_with_logits(logits, y):
    """Mean over the examples of -log softmax(logits[i])[y[i]]; logits (m, k), y (m,) class ids."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=int)
    return float(np.mean(-log_softmax(z)[np.arange(len(z)), y]))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax_cross_entropy_with_logits", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(softmax_cross_entropy_with_logits, np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]),
                 np.array([0, 1]), expected=0.31853977)
    expect_close(softmax_cross_entropy_with_logits, np.array([[0.0, 100.0, -100.0]]), np.array([2]),
                 expected=200.0)
### BEGIN HIDDEN TESTS
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(softmax_cross_entropy_with_logits, np.array([[1e4, -1e4, 0.0]]), np.array([1]),
                 expected=2e4)
    expect_close(softmax_cross_entropy_with_logits,
                 np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]]), [2, 0],
                 expected=0.40760596)
    expect_close(softmax_cross_entropy_with_logits, np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]),
                 [1, 1, 0], expected=0.77322352)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "binary_cross_entropy_with_logits_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. `binary_cross_entropy_with_logits(logits, y)`
#
# What `BinaryCrossentropy(from_logits=True)` computes. `logits` may have any shape, `y` (labels
# 0 or 1) has the same shape; return the mean over every entry, as a float:
#
# $$J = \operatorname{mean}\Big[-y \log \sigma(z) - (1 - y) \log\big(1 - \sigma(z)\big)\Big],
#   \qquad \sigma(z) = \frac{1}{1 + e^{-z}}$$
#
# Computed through $\sigma(z)$, a logit of $40$ with label $0$ breaks it: $1 - \sigma(40)$ rounds to
# $0$ and the loss becomes $\infty$ instead of $40$; and $e^{-z}$ overflows at $z = -10^4$.
# Rewrite the loss so that $\sigma$ never appears (the lecture's softplus form).

# %% nbgrader={"grade": false, "grade_id": "binary_cross_entropy_with_logits", "locked": false, "schema_version": 3, "solution": true, "task": false}
def binary_cross_entropy_with_logits(logits, y):
    """Mean over every entry of the binary cross-entropy of sigmoid(logits) against y; a float."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_binary_cross_entropy_with_logits", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(binary_cross_entropy_with_logits, np.array([2.0, -1.0, 0.5]),
                 np.array([1.0, 0.0, 1.0]), expected=0.30475556)
    expect_close(binary_cross_entropy_with_logits, np.array([[0.0, 3.0], [-2.0, 1.0]]),
                 np.array([[1.0, 0.0], [0.0, 1.0]]), expected=1.04548106)
    expect_close(binary_cross_entropy_with_logits, np.array([40.0, -40.0]), np.array([0.0, 1.0]),
                 expected=40.0)
### BEGIN HIDDEN TESTS
with np.errstate(over="raise", divide="raise", invalid="raise"):
    expect_close(binary_cross_entropy_with_logits, np.array([1e4, -1e4, 1e4, -1e4]),
                 np.array([1.0, 0.0, 0.0, 1.0]), expected=5000.0)
    expect_close(binary_cross_entropy_with_logits, [0.3, -0.3], [0.0, 1.0], expected=0.85435524)
### END HIDDEN TESTS
