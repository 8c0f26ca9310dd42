"""The logistic_regression checks accept correct code written many ways, reject plausible bugs."""

import pytest

from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


# The student's notebook defines every function in one namespace: compute_cost and
# gradient_descent run on top of a correct sigmoid (and gradient_descent on correct
# compute_gradient and compute_cost), as they would in a notebook where those are right.
SIGMOID_REF = """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
"""
COST_REF = """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f)))
"""
GRADIENT_REF = """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = sigmoid(X @ w + b) - y
    return X.T @ err / len(y), float(np.mean(err))
"""

SIGMOID_CORRECT = {
    "reference style (np.where on e^-|z|)": SIGMOID_REF,
    "scipy.special.expit": """
from scipy.special import expit
def sigmoid(z):
    return expit(np.asarray(z, dtype=float))
""",
    "tanh identity": """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))
""",
    "via logaddexp": """
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))
""",
    "clip z to [-500, 500] first": """
def sigmoid(z):
    z = np.clip(np.asarray(z, dtype=float), -500, 500)
    return 1.0 / (1.0 + np.exp(-z))
""",
    "boolean masks, loop-free": """
def sigmoid(z):
    z = np.array(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out
""",
    "overflow silenced with errstate (the result is right)": """
def sigmoid(z):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
""",
}

SIGMOID_WRONG = {
    "literal formula overflows at z = -1e4": """
def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
""",
    "wrong sign 1/(1+e^z)": """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))
""",
    "e^z/(1+e^z) overflows at z = +1e4 (nan)": """
def sigmoid(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / (1 + e)
""",
    "np.where over two naive branches still overflows": """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
""",
    "math.exp (scalars only)": """
import math
def sigmoid(z):
    return 1 / (1 + math.exp(-z))
""",
    "flattens its input": """
from scipy.special import expit
def sigmoid(z):
    return expit(np.ravel(z))
""",
    "returns a list": """
from scipy.special import expit
def sigmoid(z):
    return expit(np.asarray(z, dtype=float)).tolist()
""",
    "modifies its input in place": """
def sigmoid(z):
    if isinstance(z, np.ndarray):
        np.negative(z, out=z)
        z = -z
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
""",
}

COST_CORRECT = {
    "reference style (textbook formula)": SIGMOID_REF + COST_REF,
    "the lecture's version, clipped at 1e-12": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    f = np.clip(sigmoid(X @ np.asarray(w, dtype=float) + b), 1e-12, 1 - 1e-12)
    loss = -y * np.log(f) - (1 - y) * np.log(1 - f)
    return float(np.mean(loss))
""",
    "a loop over examples with math.log": SIGMOID_REF + """
import math
def compute_cost(X, y, w, b):
    m = len(X)
    cost = 0.0
    for i in range(m):
        z_i = sum(X[i][j] * w[j] for j in range(len(w))) + b
        f_i = 1 / (1 + math.exp(-z_i))
        cost += -y[i] * math.log(f_i) - (1 - y[i]) * math.log(1 - f_i)
    return cost / m
""",
    "softplus with np.logaddexp, numpy float": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    z = np.asarray(X, float) @ np.asarray(w, float) + b
    y = np.asarray(y, float)
    return np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
""",
    "NumPy arrays as they come: X @ w, m = X.shape[0], no np.asarray": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    m = X.shape[0]
    f = sigmoid(X @ w + b)
    return float(np.sum(-y * np.log(f) - (1 - y) * np.log(1 - f)) / m)
""",
    "Keras-style clip at 1e-7": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    f = np.clip(sigmoid(np.dot(X, w) + b), 1e-7, 1 - 1e-7)
    y = np.asarray(y, float)
    return float(-np.mean(y * np.log(f) + (1 - y) * np.log(1 - f)))
""",
}

COST_WRONG = {
    "sum instead of mean": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.sum(-y * np.log(f) - (1 - y) * np.log(1 - f)))
""",
    "wrong sign": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.mean(y * np.log(f) + (1 - y) * np.log(1 - f)))
""",
    "forgets the bias b": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w)
    return float(np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f)))
""",
    "only the y = 1 term": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.mean(-y * np.log(f)))
""",
    "squared error instead of cross-entropy": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.mean((f - y) ** 2) / 2)
""",
    "log10 instead of the natural log": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return float(np.mean(-y * np.log10(f) - (1 - y) * np.log10(1 - f)))
""",
    "returns the per-example losses": SIGMOID_REF + """
def compute_cost(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    f = sigmoid(X @ w + b)
    return -y * np.log(f) - (1 - y) * np.log(1 - f)
""",
}

GRADIENT_CORRECT = {
    "reference style (vectorised)": SIGMOID_REF + GRADIENT_REF,
    "the course lab's loops": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X = np.asarray(X, float)
    m, n = X.shape
    dj_dw = np.zeros((n,))
    dj_db = 0.
    for i in range(m):
        err_i = sigmoid(np.dot(X[i], w) + b) - y[i]
        for j in range(n):
            dj_dw[j] = dj_dw[j] + err_i * X[i, j]
        dj_db = dj_db + err_i
    return dj_dw / m, dj_db / m
""",
    "NumPy arrays as they come: m, n = X.shape, no np.asarray": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    m, n = X.shape
    error = sigmoid(X @ w + b) - y
    return X.T @ error / m, np.sum(error) / m
""",
    "np.mean over broadcast products, returns a list": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y = np.asarray(X, float), np.asarray(y, float)
    err = sigmoid(np.dot(X, w) + b) - y
    return [np.mean(err[:, None] * X, axis=0), np.mean(err)]
""",
    "einsum, dj_db as a 0-d array": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y = np.asarray(X, float), np.asarray(y, float)
    err = sigmoid(X @ np.asarray(w, float) + b) - y
    return np.einsum("ij,i->j", X, err) / X.shape[0], np.asarray(err.sum() / X.shape[0])
""",
}

GRADIENT_WRONG = {
    "missing 1/m": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = sigmoid(X @ w + b) - y
    return X.T @ err, float(np.sum(err))
""",
    "y - f instead of f - y": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = y - sigmoid(X @ w + b)
    return X.T @ err / len(y), float(np.mean(err))
""",
    "linear regression's gradient (z instead of f)": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = X @ w + b - y
    return X.T @ err / len(y), float(np.mean(err))
""",
    "mean over the wrong axis": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = sigmoid(X @ w + b) - y
    return np.mean(err[:, None] * X, axis=1)[: X.shape[1]], float(np.mean(err))
""",
    "returns (dj_db, dj_dw)": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = sigmoid(X @ w + b) - y
    return float(np.mean(err)), X.T @ err / len(y)
""",
    "dj_dw of shape (n, 1)": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = (sigmoid(X @ w + b) - y).reshape(-1, 1)
    return X.T @ err / len(y), float(np.mean(err))
""",
    "divides dj_dw by n instead of m": SIGMOID_REF + """
def compute_gradient(X, y, w, b):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    err = sigmoid(X @ w + b) - y
    return X.T @ err / X.shape[1], float(np.mean(err))
""",
}

GD_SUPPORT = SIGMOID_REF + COST_REF + GRADIENT_REF

GD_CORRECT = {
    "reference style (the lecture's loop)": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w = np.array(w_in, dtype=float)
    b = float(b_in)
    J_history = []
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "the course lab's style (deepcopy, tuple assignment)": GD_SUPPORT + """
import copy
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w = copy.deepcopy(w_in)
    b = b_in
    J_history = []
    for i in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        if i < 100000:
            J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "in-place updates on a copy, preallocated array history": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w = w_in.copy()
    b = b_in
    J_history = np.zeros(num_iters)
    for i in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w -= alpha * dj_dw
        b -= alpha * dj_db
        J_history[i] = compute_cost(X, y, w, b)
    return w, b, J_history
""",
    "gradient inlined, its own cost": SIGMOID_REF + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    X, y = np.asarray(X, float), np.asarray(y, float)
    w, b, history = np.asarray(w_in, float) + 0.0, b_in, []
    m = len(y)
    for _ in range(num_iters):
        f = sigmoid(X @ w + b)
        w, b = w - alpha * (X.T @ (f - y)) / m, b - alpha * np.sum(f - y) / m
        z = X @ w + b
        history.append(np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))
    return (w, b, history)
""",
}

GD_WRONG = {
    "non-simultaneous update (b uses the new w)": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        dj_dw, _ = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        _, dj_db = compute_gradient(X, y, w, b)
        b = b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "J_history records the cost before each update": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        J_history.append(compute_cost(X, y, w, b))
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
    return w, b, J_history
""",
    "J_history also holds the initial cost (num_iters + 1 entries)": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b = np.array(w_in, dtype=float), b_in
    J_history = [compute_cost(X, y, w, b)]
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "modifies w_in in place": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = w_in, b_in, []
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w -= alpha * dj_dw
        b -= alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "gradient ascent (+ alpha)": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w + alpha * dj_dw
        b = b + alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "one step too few (range(num_iters - 1))": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters - 1):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "never updates b": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "returns only (w, b)": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b = np.array(w_in, dtype=float), b_in
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
    return w, b
""",
}

# Written from the task text alone: batches in order, the last one smaller, one step per batch
# on that batch's mean cost, the cost on all of X after each epoch, w_in left alone.
MB_CORRECT = {
    "reference style (slices, compute_gradient on the batch)": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            dj_dw, dj_db = compute_gradient(Xb, yb, w, b)
            w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "one step of the student's gradient_descent per batch": GD_SUPPORT + """
def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history

def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b = w_in, b_in
    J_history = np.zeros(epochs)
    for e in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            end = min(start + batch_size, X.shape[0])
            w, b, _ = gradient_descent(X[start:end], y[start:end], w, b, alpha, 1)
        J_history[e] = compute_cost(X, y, w, b)
    return np.array(w, dtype=float), b, J_history
""",
    "np.split of the indices at multiples of batch_size, gradient inlined": SIGMOID_REF + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    X, y = np.asarray(X, float), np.asarray(y, float)
    w, b, history = np.copy(w_in).astype(float), b_in, []
    batches = np.split(np.arange(len(y)), np.arange(batch_size, len(y), batch_size))
    for _ in range(epochs):
        for idx in batches:
            err = sigmoid(X[idx] @ w + b) - y[idx]
            w, b = w - alpha * X[idx].T @ err / len(idx), b - alpha * err.mean()
        z = X @ w + b
        history.append(float(np.mean(np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y))))
    return w, b, history
""",
    "Python loops over the examples of each batch, while loop over the batches": """
import math
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    m, n = len(X), len(X[0])
    w, b = [float(v) for v in w_in], float(b_in)
    def f(i):
        z = sum(X[i][j] * w[j] for j in range(n)) + b
        return 1 / (1 + math.exp(-z))
    J_history = []
    for _ in range(epochs):
        start = 0
        while start < m:
            rows = range(start, min(start + batch_size, m))
            dw, db = [0.0] * n, 0.0
            for i in rows:
                err = f(i) - y[i]
                for j in range(n):
                    dw[j] += err * X[i][j] / len(rows)
                db += err / len(rows)
            w = [w[j] - alpha * dw[j] for j in range(n)]
            b -= alpha * db
            start += batch_size
        J_history.append(sum(-y[i] * math.log(f(i)) - (1 - y[i]) * math.log(1 - f(i))
                             for i in range(m)) / m)
    return np.array(w), b, J_history
""",
    "epochs x batches as one flat loop, tuple history": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    m = X.shape[0]
    per_epoch = -(-m // batch_size)
    w, b, costs = w_in.astype(float), b_in, ()
    for step in range(epochs * per_epoch):
        k = step % per_epoch
        g_w, g_b = compute_gradient(X[k * batch_size:(k + 1) * batch_size],
                                    y[k * batch_size:(k + 1) * batch_size], w, b)
        w = w - alpha * g_w
        b = b - alpha * g_b
        if k == per_epoch - 1:
            costs += (compute_cost(X, y, w, b),)
    return w, b, costs
""",
}


def minibatch_variant(batches="range(0, len(y), batch_size)", before="",
                      after="J_history.append(compute_cost(X, y, w, b))"):
    """The reference loop with one piece replaced: each wrong variant below differs in one way."""
    return GD_SUPPORT + f"""
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        {before}
        for start in {batches}:
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            dj_dw, dj_db = compute_gradient(Xb, yb, w, b)
            w, b = w - alpha * dj_dw, b - alpha * dj_db
        {after}
    return w, b, J_history
"""


MB_WRONG = {
    "shuffles the examples every epoch": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    rng = np.random.default_rng()
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            dj_dw, dj_db = compute_gradient(X[idx], y[idx], w, b)
            w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "drops the last, smaller batch": minibatch_variant(
        batches="range(0, len(y) - batch_size + 1, batch_size)"),
    "averages the batch's gradient over m instead of the batch size": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    m = len(y)
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        for start in range(0, m, batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            err = sigmoid(Xb @ w + b) - yb
            w, b = w - alpha * Xb.T @ err / m, b - alpha * np.sum(err) / m
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "records the cost before each epoch, not after": minibatch_variant(
        before="J_history.append(compute_cost(X, y, w, b))", after=""),
    "one full-batch step per epoch": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        dj_dw, dj_db = compute_gradient(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "modifies w_in in place (w = w_in, then w -= ...)": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = w_in, b_in, []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            dj_dw, dj_db = compute_gradient(Xb, yb, w, b)
            w -= alpha * dj_dw
            b -= alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "np.array_split into ceil(m / batch_size) equal parts": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    parts = -(-len(y) // batch_size)
    for _ in range(epochs):
        for idx in np.array_split(np.arange(len(y)), parts):
            dj_dw, dj_db = compute_gradient(X[idx], y[idx], w, b)
            w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
    "J_history is the cost of the last batch, not of all of X": minibatch_variant(
        after="J_history.append(compute_cost(Xb, yb, w, b))"),
    "one J_history entry per batch": GD_SUPPORT + """
def minibatch_gradient_descent(X, y, w_in, b_in, alpha, epochs, batch_size):
    w, b, J_history = np.array(w_in, dtype=float), float(b_in), []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            dj_dw, dj_db = compute_gradient(Xb, yb, w, b)
            w, b = w - alpha * dj_dw, b - alpha * dj_db
            J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
""",
}

CASES = [
    ("logistic_regression.sigmoid", SIGMOID_CORRECT, SIGMOID_WRONG),
    ("logistic_regression.compute_cost", COST_CORRECT, COST_WRONG),
    ("logistic_regression.compute_gradient", GRADIENT_CORRECT, GRADIENT_WRONG),
    ("logistic_regression.gradient_descent", GD_CORRECT, GD_WRONG),
    ("logistic_regression.minibatch_gradient_descent", MB_CORRECT, MB_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


def test_sigmoid_feedback_names_the_overflow(check_code):
    verdict = check_code("logistic_regression.sigmoid",
                         HEADER + SIGMOID_WRONG["literal formula overflows at z = -1e4"])
    text = verdict.feedback()
    assert "z = -1e4" in text and "overflow" in text
    assert "np.exp(-np.abs" not in text   # no reference code in feedback


def test_gradient_descent_feedback_names_the_history_length(check_code):
    verdict = check_code("logistic_regression.gradient_descent",
                         HEADER + GD_WRONG[
                             "J_history also holds the initial cost (num_iters + 1 entries)"])
    assert "J_history should hold 10 costs" in verdict.feedback()


def test_gradient_descent_feedback_says_w_in_was_modified(check_code):
    verdict = check_code("logistic_regression.gradient_descent",
                         HEADER + GD_WRONG["modifies w_in in place"])
    assert "modified its input (argument 3)" in verdict.feedback()


# --- build_binary_classifier: each case trains a model (a few seconds each) ----------

KERAS_HEADER = "import numpy as np\nimport keras\n"

CLASSIFIER_CORRECT = {
    "sigmoid output, loss='binary_crossentropy', default Adam": """
def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
""",
    "linear output, from_logits=True, functional API, SGD": """
def build_binary_classifier(n_features):
    inputs = keras.Input(shape=(n_features,))
    h = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(h)
    model = keras.Model(inputs, outputs)
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.SGD(learning_rate=0.1))
    return model
""",
}

CLASSIFIER_WRONG = {
    "sigmoid output with from_logits=True": """
def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return model
""",
    "linear output without from_logits": """
def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(1)])
    model.compile(loss=keras.losses.BinaryCrossentropy(), optimizer="adam")
    return model
""",
    "mean squared error": """
def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer="adam")
    return model
""",
    "does not train (SGD, learning rate 1e-6)": """
def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=keras.losses.BinaryCrossentropy(),
                  optimizer=keras.optimizers.SGD(learning_rate=1e-6))
    return model
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIER_CORRECT)
def test_binary_classifier_accepts_correct(check_code, name):
    verdict = check_code("logistic_regression.build_binary_classifier",
                         KERAS_HEADER + CLASSIFIER_CORRECT[name])
    assert verdict.accepted, verdict.feedback()


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIER_WRONG)
def test_binary_classifier_rejects_wrong(check_code, name):
    verdict = check_code("logistic_regression.build_binary_classifier",
                         KERAS_HEADER + CLASSIFIER_WRONG[name])
    assert not verdict.accepted, name
