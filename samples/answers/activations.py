"""Sample answers for activations: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (relu 1, dense 1, sequential 1, collapse_linear 1,
piecewise_linear_layers 3, output_layer_for 1, activation_derivative 2): sample-correct 10,
sample-untouched 0, sample-partial 5 (relu, dense and piecewise_linear_layers right, written
differently from the reference; sequential feeds x to every layer; collapse_linear adds the
biases without carrying them through the later layers; output_layer_for gives softmax to several
yes/no labels; activation_derivative's sigmoid 1 / (1 + e^{-z}) overflows for z = -1000),
sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"relu": "REFERENCE", "dense": "REFERENCE", "sequential": "REFERENCE",
                        "collapse_linear": "REFERENCE", "piecewise_linear_layers": "REFERENCE",
                        "output_layer_for": "REFERENCE",
                        "activation_derivative": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    "sample-partial": ({
        "relu": '''def relu(z):
    """g(z) = max(0, z), element-wise."""
    return np.maximum(0, z)
''',
        "dense": '''def dense(a_in, W, b, g):
    """One dense layer: g(a_in @ W + b) for one example (n,) or a batch (m, n)."""
    return g(np.dot(a_in, W) + np.asarray(b))
''',
        "sequential": '''def sequential(x, layers):
    """Wrong: every layer is fed x instead of the previous layer's output."""
    a = x
    for W, b, g in layers:
        a = dense(x, W, b, g)
    return a
''',
        "collapse_linear": '''def collapse_linear(layers):
    """Wrong: the earlier biases are not multiplied by the later weights."""
    W, b = (np.array(p, dtype=float) for p in layers[0])
    for W_next, b_next in layers[1:]:
        W, b = W @ np.asarray(W_next, dtype=float), b + np.asarray(b_next, dtype=float)
    return W, b
''',
        "piecewise_linear_layers": '''def piecewise_linear_layers(breakpoints, slopes, first_value):
    """Right, another way: relu(x) - relu(-x) carries the left slope, one hinge per breakpoint."""
    W1 = np.concatenate([[1.0, -1.0], np.ones(len(breakpoints))]).reshape(1, -1)
    b1 = np.concatenate([[0.0, 0.0], -breakpoints])
    W2 = np.concatenate([[slopes[0], -slopes[0]], np.diff(slopes)]).reshape(-1, 1)
    b2 = np.array([first_value - slopes[0] * breakpoints[0]])
    return [(W1, b1), (W2, b2)]
''',
        "output_layer_for": '''def output_layer_for(target):
    """Wrong for several yes/no labels: softmax makes the labels share one unit of probability."""
    return {"binary label": ("linear", "BinaryCrossentropy(from_logits=True)"),
            "one of k classes": ("softmax", "SparseCategoricalCrossentropy"),
            "several yes/no labels": ("softmax", "SparseCategoricalCrossentropy"),
            "any real number": ("linear", "MeanSquaredError"),
            "a non-negative quantity": ("relu", "MeanSquaredError")}[target]
''',
        "activation_derivative": '''def activation_derivative(name, z):
    """Wrong far from 0: e^{-z} overflows for z = -1000 (the slopes themselves are right)."""
    z = np.asarray(z, dtype=float)
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        a = 1 / (1 + np.exp(-z))
        return a * (1 - a)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    raise ValueError(f"unknown activation {name}")
'''}, None),
    "sample-tamper": ({
        "relu": '''def relu(z):
    """Wrong: np.max reduces the array to one number."""
    return np.max(z, 0)
''',
        "dense": '''def dense(a_in, W, b, g):
    return a_in
''',
        "sequential": '''def sequential(x, layers):
    return x
''',
        "collapse_linear": '''def collapse_linear(layers):
    return layers[0]
''',
        "piecewise_linear_layers": '''def piecewise_linear_layers(breakpoints, slopes, first_value):
    return [(np.ones((1, 1)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))]
''',
        "output_layer_for": '''def output_layer_for(target):
    return ("linear", "MeanSquaredError")
''',
        "activation_derivative": '''def activation_derivative(name, z):
    return np.ones_like(z)
'''}, {"setup": "KERNEL_TAMPERING"}),
}
