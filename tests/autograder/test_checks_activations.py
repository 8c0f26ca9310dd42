"""The activations checks accept correct code written many ways and reject plausible bugs."""

from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


RELU_CORRECT = {
    "reference style (np.where)": """
def relu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.0)
""",
    "np.maximum": """
def relu(z):
    return np.maximum(0, z)
""",
    "z times a mask": """
def relu(z):
    z = np.asarray(z, dtype=float)
    return z * (z > 0)
""",
    "copy and zero the negatives": """
def relu(z):
    a = np.array(z, dtype=float)
    a[a < 0] = 0
    return a
""",
    "np.clip with no upper bound": """
def relu(z):
    return np.clip(np.asarray(z, dtype=float), 0, None)
""",
}

RELU_WRONG = {
    "np.max instead of np.maximum": """
def relu(z):
    return np.max(np.asarray(z, dtype=float), 0)
""",
    "built-in max (scalars only)": """
def relu(z):
    return max(0, z)
""",
    "zeroes the negatives in place": """
def relu(z):
    z = np.asarray(z, dtype=float)
    z[z < 0] = 0
    return z
""",
    "leaky ReLU": """
def relu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.01 * z)
""",
    "keeps the negatives instead": """
def relu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z < 0, z, 0.0)
""",
    "clipped at 1 as well": """
def relu(z):
    return np.clip(np.asarray(z, dtype=float), 0, 1)
""",
    "returns a list": """
def relu(z):
    return np.maximum(0, np.asarray(z, dtype=float)).tolist()
""",
}

DENSE_REF = """
def dense(a_in, W, b, g):
    a_in, W, b = np.asarray(a_in, float), np.asarray(W, float), np.asarray(b, float)
    return g(a_in @ W + b)
"""

DENSE_CORRECT = {
    "reference style (a_in @ W + b)": DENSE_REF,
    "np.dot without conversion": """
def dense(a_in, W, b, g):
    return g(np.dot(a_in, W) + np.asarray(b))
""",
    "a_in @ W + b, NumPy arrays taken as they come": """
def dense(a_in, W, b, g):
    return g(a_in @ W + b)
""",
    "the lecture's loop over units, rows of a batch one by one": """
def dense(a_in, W, b, g):
    a_in, W, b = np.asarray(a_in, float), np.asarray(W, float), np.asarray(b, float)
    rows = np.atleast_2d(a_in)
    out = np.zeros((rows.shape[0], W.shape[1]))
    for i, x in enumerate(rows):
        for j in range(W.shape[1]):
            out[i, j] = g(np.dot(W[:, j], x) + b[j])
    return out if a_in.ndim == 2 else out[0]
""",
    "einsum over the last axis": """
def dense(a_in, W, b, g):
    z = np.einsum("...i,ij->...j", np.asarray(a_in, float), np.asarray(W, float)) + b
    return g(z)
""",
}

DENSE_WRONG = {
    "forgets the bias": """
def dense(a_in, W, b, g):
    return g(np.asarray(a_in, float) @ np.asarray(W, float))
""",
    "forgets g": """
def dense(a_in, W, b, g):
    return np.asarray(a_in, float) @ np.asarray(W, float) + np.asarray(b, float)
""",
    "adds b after g": """
def dense(a_in, W, b, g):
    return g(np.asarray(a_in, float) @ np.asarray(W, float)) + np.asarray(b, float)
""",
    "a_in @ W.T": """
def dense(a_in, W, b, g):
    return g(np.asarray(a_in, float) @ np.asarray(W, float).T + np.asarray(b, float))
""",
    "W @ a_in": """
def dense(a_in, W, b, g):
    return g(np.asarray(W, float) @ np.asarray(a_in, float) + np.asarray(b, float))
""",
    "always ReLU, whatever g is": """
def dense(a_in, W, b, g):
    return np.maximum(0, np.asarray(a_in, float) @ np.asarray(W, float) + np.asarray(b, float))
""",
    "one example only (the lecture's loop without batches)": """
def dense(a_in, W, b, g):
    W = np.asarray(W, float)
    a_out = np.zeros(W.shape[1])
    for j in range(W.shape[1]):
        a_out[j] = g(np.dot(W[:, j], a_in) + b[j])
    return a_out
""",
    "bias as a column (broadcasts to the wrong shape)": """
def dense(a_in, W, b, g):
    b = np.asarray(b, float).reshape(-1, 1)
    return g(np.asarray(a_in, float) @ np.asarray(W, float) + b)
""",
}

SEQUENTIAL_CORRECT = {
    "reference style (a loop over dense)": DENSE_REF + """
def sequential(x, layers):
    a = np.asarray(x, dtype=float)
    for W, b, g in layers:
        a = dense(a, W, b, g)
    return a
""",
    "functools.reduce, dense inlined": """
from functools import reduce
def sequential(x, layers):
    return reduce(lambda a, layer: layer[2](a @ layer[0] + layer[1]), layers,
                  np.asarray(x, dtype=float))
""",
    "recursion": DENSE_REF + """
def sequential(x, layers):
    if not layers:
        return np.asarray(x, dtype=float)
    W, b, g = layers[0]
    return sequential(dense(x, W, b, g), layers[1:])
""",
    "no conversion: x @ W + b as the arrays come, x.shape used": """
def sequential(x, layers):
    a = x
    for W, b, g in layers:
        assert a.shape[-1] == W.shape[0]
        a = g(a @ W + b)
    return a
""",
    "indexing the layers, np.matmul": """
def sequential(x, layers):
    a = np.array(x, dtype=float)
    for l in range(len(layers)):
        a = layers[l][2](np.matmul(a, layers[l][0]) + layers[l][1])
    return a
""",
}

SEQUENTIAL_WRONG = {
    "feeds x to every layer": DENSE_REF + """
def sequential(x, layers):
    a = x
    for W, b, g in layers:
        a = dense(x, W, b, g)
    return a
""",
    "applies only the last layer's g": """
def sequential(x, layers):
    a = np.asarray(x, dtype=float)
    for W, b, g in layers:
        a = a @ W + b
    return layers[-1][2](a)
""",
    "the first layer's g for every layer": DENSE_REF + """
def sequential(x, layers):
    a = x
    g = layers[0][2]
    for W, b, _ in layers:
        a = dense(a, W, b, g)
    return a
""",
    "layers in reverse order": DENSE_REF + """
def sequential(x, layers):
    a = x
    for W, b, g in reversed(layers):
        a = dense(a, W.T, b, g)
    return a
""",
    "skips the output layer": DENSE_REF + """
def sequential(x, layers):
    a = np.asarray(x, dtype=float)
    for W, b, g in layers[:-1]:
        a = dense(a, W, b, g)
    return a
""",
    "ReLU in every layer": DENSE_REF + """
def sequential(x, layers):
    a = x
    for W, b, g in layers:
        a = np.maximum(0, np.asarray(a) @ W + b)
    return a
""",
    "returns every layer's activation": DENSE_REF + """
def sequential(x, layers):
    a, activations = x, []
    for W, b, g in layers:
        a = dense(a, W, b, g)
        activations.append(a)
    return activations
""",
}

COLLAPSE_CORRECT = {
    "reference style (fold from the front)": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W, b = W @ np.asarray(W_l, float), b @ np.asarray(W_l, float) + np.asarray(b_l, float)
    return W, b
""",
    "no conversion: W @ W_l on the arrays as they come": """
def collapse_linear(layers):
    W, b = layers[0]
    for W_l, b_l in layers[1:]:
        W, b = W @ W_l, b @ W_l + b_l
    return W.copy(), b.copy()
""",
    "fold from the back": """
def collapse_linear(layers):
    W = np.asarray(layers[-1][0], dtype=float)
    b = np.asarray(layers[-1][1], dtype=float)
    for W_l, b_l in reversed(layers[:-1]):
        b = np.asarray(b_l, float) @ W + b
        W = np.asarray(W_l, float) @ W
    return W, b
""",
    "run the stack on 0 and on the identity": """
def collapse_linear(layers):
    def run(a):
        for W_l, b_l in layers:
            a = a @ np.asarray(W_l, float) + np.asarray(b_l, float)
        return a
    n = np.asarray(layers[0][0]).shape[0]
    b = run(np.zeros(n))
    W = run(np.eye(n)) - b
    return W, b
""",
    "multi_dot and a sum over the biases, returned as a list": """
def collapse_linear(layers):
    Ws = [np.asarray(W_l, float) for W_l, _ in layers]
    bs = [np.asarray(b_l, float) for _, b_l in layers]
    W = Ws[0] if len(Ws) == 1 else np.linalg.multi_dot(Ws) if len(Ws) > 2 else Ws[0] @ Ws[1]
    b = np.zeros(Ws[-1].shape[1])
    for l, b_l in enumerate(bs):
        for W_next in Ws[l + 1:]:
            b_l = b_l @ W_next
        b = b + b_l
    return [W, b]
""",
}

COLLAPSE_WRONG = {
    "products in the wrong order (W_l @ W)": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W_l = np.asarray(W_l, float)
        W, b = W_l @ W if W_l.shape[1] == W.shape[0] else W @ W_l, b @ W_l + b_l
    return W, b
""",
    "adds the biases without propagating them": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W, b = W @ np.asarray(W_l, float), b + np.asarray(b_l, float)
    return W, b
""",
    "keeps only the last bias": """
def collapse_linear(layers):
    W = np.array(layers[0][0], dtype=float)
    for W_l, _ in layers[1:]:
        W = W @ np.asarray(W_l, float)
    return W, np.array(layers[-1][1], dtype=float)
""",
    "propagates b but forgets to add b_l": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W, b = W @ np.asarray(W_l, float), b @ np.asarray(W_l, float)
    return W, b
""",
    "propagates b through W_l transposed": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W_l = np.asarray(W_l, float)
        b = (W_l @ b if W_l.shape[1] == b.shape[0] else b @ W_l) + np.asarray(b_l, float)
        W = W @ W_l
    return W, b
""",
    "returns (b, W)": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        W, b = W @ np.asarray(W_l, float), b @ np.asarray(W_l, float) + np.asarray(b_l, float)
    return b, W
""",
    "accumulates into the next layer's bias in place": """
def collapse_linear(layers):
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_l, b_l in layers[1:]:
        if isinstance(b_l, np.ndarray):
            b_l += b @ W_l
            W, b = W @ W_l, b_l
        else:
            W, b = W @ np.asarray(W_l, float), b @ np.asarray(W_l, float) + np.asarray(b_l, float)
    return W, b
""",
}

# piecewise_linear_layers is judged by the function its network computes: every construction
# below is right, though no two return the same weights.
PIECEWISE_CORRECT = {
    "reference style (a unit facing left for the left tail, hinges facing right)": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    W2 = np.concatenate([[-slopes[0]], [slopes[1]], np.diff(slopes)[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "the left slope as relu(x) - relu(-x), the output bias shifted to match": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    x1 = breakpoints[0]
    W1 = np.concatenate([[1.0, -1.0], np.ones(len(breakpoints))]).reshape(1, -1)
    b1 = np.concatenate([[0.0, 0.0], -breakpoints])
    W2 = np.concatenate([[slopes[0], -slopes[0]], np.diff(slopes)]).reshape(-1, 1)
    b2 = np.array([first_value - slopes[0] * x1])
    return [(W1, b1), (W2, b2)]
""",
    "mirrored: hinges facing left, built from the right end": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    last = first_value + np.sum(slopes[1:-1] * np.diff(breakpoints))
    gb, gs = -breakpoints[::-1], -slopes[::-1]
    W1 = -np.ones((1, len(gb) + 1))
    W1[0, 0] = 1.0
    b1 = np.concatenate([[gb[0]], -gb])
    W2 = np.concatenate([[-gs[0]], [gs[1]], np.diff(gs)[1:]]).reshape(-1, 1)
    return [(W1, b1), (W2, np.array([last]))]
""",
    "units scaled by 2, a spare unit with weight 0, built in a loop, int W1": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    w1, b1, w2 = [-2, 5], [2 * breakpoints[0], -7.0], [-slopes[0] / 2, 0.0]
    for k, x_k in enumerate(breakpoints):
        w1.append(2)
        b1.append(-2 * x_k)
        w2.append((slopes[k + 1] - (slopes[k] if k > 0 else 0.0)) / 2)
    return ((np.array([w1]), np.array(b1)),
            (np.array(w2).reshape(-1, 1), np.array([float(first_value)])))
""",
}

PIECEWISE_WRONG = {
    "output weights are the slopes, not the changes of slope": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    W2 = np.concatenate([[-slopes[0]], slopes[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "no unit for the left tail (flat left of x_1)": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    W1 = np.ones((1, len(breakpoints)))
    b1 = -np.asarray(breakpoints, dtype=float)
    W2 = np.diff(slopes).reshape(-1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "hinges at -x_k: b1 = +x_k": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[-breakpoints[0]], breakpoints])
    W2 = np.concatenate([[-slopes[0]], [slopes[1]], np.diff(slopes)[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "relu(x) - relu(-x) for the left slope, output bias left at f(x_1)": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    W1 = np.concatenate([[1.0, -1.0], np.ones(len(breakpoints))]).reshape(1, -1)
    b1 = np.concatenate([[0.0, 0.0], -breakpoints])
    W2 = np.concatenate([[slopes[0], -slopes[0]], np.diff(slopes)]).reshape(-1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "changes of slope with the wrong sign": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    W2 = np.concatenate([[-slopes[0]], [slopes[1]], -np.diff(slopes)[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "the left-facing unit with weight +s_0": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    W2 = np.concatenate([[slopes[0]], [slopes[1]], np.diff(slopes)[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "each change of slope placed at the next breakpoint": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones((1, K + 1))
    W1[0, 0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    changes = np.diff(slopes)
    W2 = np.concatenate([[-slopes[0]], [slopes[0]], changes[:-1]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
    "W1 of shape (units,) instead of (1, units)": """
def piecewise_linear_layers(breakpoints, slopes, first_value):
    K = len(breakpoints)
    W1 = np.ones(K + 1)
    W1[0] = -1.0
    b1 = np.concatenate([[breakpoints[0]], -breakpoints])
    W2 = np.concatenate([[-slopes[0]], [slopes[1]], np.diff(slopes)[1:]]).reshape(K + 1, 1)
    return [(W1, b1), (W2, np.array([first_value]))]
""",
}

OUTPUT_LAYER_CORRECT = {
    "reference style (probabilities out, a dict)": """
def output_layer_for(target):
    return {"binary label": ("sigmoid", "BinaryCrossentropy"),
            "one of k classes": ("softmax", "SparseCategoricalCrossentropy"),
            "several yes/no labels": ("sigmoid", "BinaryCrossentropy"),
            "any real number": ("linear", "MeanSquaredError"),
            "a non-negative quantity": ("relu", "MeanSquaredError")}[target]
""",
    "logits out, from_logits=True; absolute error for numbers": """
def output_layer_for(target):
    if target in ("binary label", "several yes/no labels"):
        return ("linear", "BinaryCrossentropy(from_logits=True)")
    if target == "one of k classes":
        return ("linear", "SparseCategoricalCrossentropy(from_logits=True)")
    if target == "any real number":
        return ("linear", "MeanAbsoluteError")
    return ("relu", "MeanAbsoluteError")
""",
    "Keras' string names for the losses": """
def output_layer_for(target):
    table = {"binary label": ("sigmoid", "binary_crossentropy"),
             "one of k classes": ("softmax", "sparse_categorical_crossentropy"),
             "several yes/no labels": ("sigmoid", "binary_crossentropy"),
             "any real number": ("linear", "mse"),
             "a non-negative quantity": ("relu", "mean_squared_error")}
    return table[target]
""",
    "written as code: keras.losses prefix, parentheses, spaces; a list; None for linear": """
def output_layer_for(target):
    if target == "binary label":
        return ["sigmoid", "keras.losses.BinaryCrossentropy()"]
    if target == "one of k classes":
        return ["linear", "keras.losses.SparseCategoricalCrossentropy(from_logits = True)"]
    if target == "several yes/no labels":
        return ["sigmoid", "BinaryCrossentropy(from_logits=False)"]
    if target == "any real number":
        return [None, "MeanSquaredError()"]
    return ["relu", "tf.keras.losses.MeanSquaredError()"]
""",
}

OUTPUT_LAYER_REF = {"binary label": ("sigmoid", "BinaryCrossentropy"),
                    "one of k classes": ("softmax", "SparseCategoricalCrossentropy"),
                    "several yes/no labels": ("sigmoid", "BinaryCrossentropy"),
                    "any real number": ("linear", "MeanSquaredError"),
                    "a non-negative quantity": ("relu", "MeanSquaredError")}


def output_layer_except(target, answer):
    """A student who answers every target right but one."""
    table = dict(OUTPUT_LAYER_REF, **{target: answer})
    return f"def output_layer_for(target):\n    return {table!r}[target]\n"


OUTPUT_LAYER_WRONG = {
    "softmax for several yes/no labels": output_layer_except(
        "several yes/no labels", ("softmax", "SparseCategoricalCrossentropy")),
    "sigmoid and binary cross-entropy for one of k classes": output_layer_except(
        "one of k classes", ("sigmoid", "BinaryCrossentropy")),
    "a linear output for a non-negative quantity": output_layer_except(
        "a non-negative quantity", ("linear", "MeanSquaredError")),
    "a sigmoid output and from_logits=True (the sigmoid twice)": output_layer_except(
        "binary label", ("sigmoid", "BinaryCrossentropy(from_logits=True)")),
    "a linear output read as probabilities (no from_logits)": output_layer_except(
        "one of k classes", ("linear", "SparseCategoricalCrossentropy")),
    "squared error for a binary label": output_layer_except(
        "binary label", ("sigmoid", "MeanSquaredError")),
    "CategoricalCrossentropy with class-id labels": output_layer_except(
        "one of k classes", ("softmax", "CategoricalCrossentropy")),
    "ReLU for any real number": output_layer_except(
        "any real number", ("relu", "MeanSquaredError")),
    "the activation only": """
def output_layer_for(target):
    return {"binary label": "sigmoid", "one of k classes": "softmax",
            "several yes/no labels": "sigmoid", "any real number": "linear",
            "a non-negative quantity": "relu"}[target]
""",
}

# Written from the task text alone: the four slopes, relu'(0) = 0, no overflow, ValueError.
DERIVATIVE_CORRECT = {
    "reference style (e^{-|z|} / (1 + e^{-|z|})^2, tanh' = 4 sigmoid'(2z))": """
def activation_derivative(name, z):
    z = np.asarray(z, dtype=float)
    if name not in ("linear", "sigmoid", "tanh", "relu"):
        raise ValueError(name)
    e = np.exp(-np.abs(z))
    e2 = np.exp(-2 * np.abs(z))
    return {"linear": np.ones_like(z), "sigmoid": e / (1 + e) ** 2,
            "tanh": 4 * e2 / (1 + e2) ** 2, "relu": (z > 0).astype(float)}[name]
""",
    "sigma (1 - sigma) with the overflow-free sigmoid, 1 - tanh^2, if/elif": """
def activation_derivative(name, z):
    z = np.asarray(z, dtype=float)
    if name == "linear":
        return np.ones(z.shape)
    elif name == "sigmoid":
        a = 0.5 * (1.0 + np.tanh(0.5 * z))
        return a * (1 - a)
    elif name == "tanh":
        return 1 - np.tanh(z) ** 2
    elif name == "relu":
        return np.where(z > 0, 1.0, 0.0)
    else:
        raise ValueError(f"unknown activation {name}")
""",
    "scipy.special.expit, a dict of functions, KeyError turned into ValueError": """
from scipy.special import expit

SLOPES = {"linear": lambda z: np.ones_like(z),
          "sigmoid": lambda z: expit(z) * expit(-z),
          "tanh": lambda z: (1 - np.tanh(z)) * (1 + np.tanh(z)),
          "relu": lambda z: np.heaviside(z, 0.0)}

def activation_derivative(name, z):
    try:
        slope = SLOPES[name]
    except KeyError:
        raise ValueError(f"no activation called {name!r}") from None
    return slope(np.array(z, dtype=float))
""",
    "a loop over the entries with the math module, 1/cosh^2 kept away from overflow": """
import math

def activation_derivative(name, z):
    if name not in ["linear", "sigmoid", "tanh", "relu"]:
        raise ValueError("name must be linear, sigmoid, tanh or relu")
    z = np.array(z, dtype=float)
    out = np.zeros(z.shape)
    for i, v in np.ndenumerate(z):
        if name == "linear":
            out[i] = 1.0
        elif name == "sigmoid":
            e = math.exp(-abs(v))
            out[i] = e / (1 + e) ** 2
        elif name == "tanh":
            out[i] = 0.0 if abs(v) > 300 else 1 / math.cosh(v) ** 2
        else:
            out[i] = 1.0 if v > 0 else 0.0
    return out
""",
    "match statement, a bool mask times 1.0 for relu, np.full for linear": """
def activation_derivative(name, z):
    z = np.asarray(z)
    match name:
        case "linear":
            return np.full(np.shape(z), 1.0)
        case "sigmoid":
            e = np.exp(-np.abs(z))
            s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
            return s * (1 - s)
        case "tanh":
            t = np.tanh(z)
            return 1.0 - t * t
        case "relu":
            return (z > 0) * 1.0
    raise ValueError(name)
""",
}

DERIVATIVE_REF = DERIVATIVE_CORRECT[
    "sigma (1 - sigma) with the overflow-free sigmoid, 1 - tanh^2, if/elif"]


def derivative_with(old, new):
    """The if/elif answer with one piece changed: a student right everywhere but there."""
    assert old in DERIVATIVE_REF
    return DERIVATIVE_REF.replace(old, new)


DERIVATIVE_WRONG = {
    "relu'(0) = 1": derivative_with("np.where(z > 0, 1.0, 0.0)", "np.where(z >= 0, 1.0, 0.0)"),
    "sigmoid' as sigmoid(z) (1 - z)": derivative_with("return a * (1 - a)", "return a * (1 - z)"),
    "tanh' as 1 - z^2": derivative_with("1 - np.tanh(z) ** 2", "1 - z ** 2"),
    "linear' returns z": derivative_with("return np.ones(z.shape)", "return z"),
    "linear' returns the number 1, not an array of ones": derivative_with(
        "return np.ones(z.shape)", "return 1.0"),
    "sigmoid as 1 / (1 + e^{-z}): overflows for large negative z": derivative_with(
        "a = 0.5 * (1.0 + np.tanh(0.5 * z))", "a = 1 / (1 + np.exp(-z))"),
    "tanh' as 1 / cosh(z)^2: cosh overflows far from 0": derivative_with(
        "1 - np.tanh(z) ** 2", "1 / np.cosh(z) ** 2"),
    "no ValueError for an unknown name (falls back to linear)": derivative_with(
        '    else:\n        raise ValueError(f"unknown activation {name}")',
        "    return np.ones(z.shape)"),
    "a dict lookup that raises KeyError, not ValueError": """
def activation_derivative(name, z):
    z = np.asarray(z, dtype=float)
    a = 0.5 * (1.0 + np.tanh(0.5 * z))
    return {"linear": np.ones_like(z), "sigmoid": a * (1 - a), "tanh": 1 - np.tanh(z) ** 2,
            "relu": np.where(z > 0, 1.0, 0.0)}[name]
""",
    "sigmoid' as the sigmoid itself": derivative_with("return a * (1 - a)", "return a"),
    "relu' as relu (z where z > 0)": derivative_with("np.where(z > 0, 1.0, 0.0)",
                                                     "np.where(z > 0, z, 0.0)"),
}

CASES = [
    ("activations.relu", RELU_CORRECT, RELU_WRONG),
    ("activations.dense", DENSE_CORRECT, DENSE_WRONG),
    ("activations.sequential", SEQUENTIAL_CORRECT, SEQUENTIAL_WRONG),
    ("activations.collapse_linear", COLLAPSE_CORRECT, COLLAPSE_WRONG),
    ("activations.piecewise_linear_layers", PIECEWISE_CORRECT, PIECEWISE_WRONG),
    ("activations.output_layer_for", OUTPUT_LAYER_CORRECT, OUTPUT_LAYER_WRONG),
    ("activations.activation_derivative", DERIVATIVE_CORRECT, DERIVATIVE_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


def test_collapse_linear_feedback_says_which_of_W_and_b_is_wrong(check_code):
    verdict = check_code("activations.collapse_linear",
                         HEADER + COLLAPSE_WRONG["adds the biases without propagating them"])
    text = verdict.feedback()
    assert "b is not close enough" in text and "W is right" in text


def test_dense_feedback_names_the_activation(check_code):
    verdict = check_code("activations.dense", HEADER + DENSE_WRONG["forgets g"])
    text = verdict.feedback()
    assert "sigmoid" in text and "expected:" in text and "actual:" in text


def test_piecewise_feedback_shows_where_the_network_differs(check_code):
    verdict = check_code("activations.piecewise_linear_layers",
                         HEADER + PIECEWISE_WRONG["no unit for the left tail (flat left of x_1)"])
    text = verdict.feedback()
    assert "|x|" in text and "the network gives" in text and "f(x) =" in text


def test_output_layer_feedback_says_why_without_naming_the_answer(check_code):
    verdict = check_code("activations.output_layer_for",
                         HEADER + OUTPUT_LAYER_WRONG["softmax for several yes/no labels"])
    assert verdict.failures[0].case.label == "target 'several yes/no labels'"
    assert all("several yes/no" in f.case.label for f in verdict.failures)
    message = verdict.failures[0].message
    assert "independent" in message and "sigmoid" not in message


def test_activation_derivative_feedback_names_the_slope_and_the_exception(check_code):
    verdict = check_code("activations.activation_derivative",
                         HEADER + DERIVATIVE_WRONG["relu'(0) = 1"])
    assert [f.case.label for f in verdict.failures] == [
        "relu' at z = 0 exactly: 0, as TensorFlow's gradient gives"]
    assert "relu' is not close enough" in verdict.feedback()
    verdict = check_code("activations.activation_derivative",
                         HEADER + DERIVATIVE_WRONG["a dict lookup that raises KeyError, not "
                                                   "ValueError"])
    assert [f.message for f in verdict.failures] == [
        "should raise ValueError, but it raised KeyError"]
