"""Sample answers for activations: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (relu 2, dense 3, sequential 2, collapse_linear 3): sample-correct 10,
sample-untouched 0, sample-partial 5 (relu and dense right, written differently from the
reference; sequential feeds x to every layer; collapse_linear adds the biases without carrying
them through the later layers), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"relu": "REFERENCE", "dense": "REFERENCE", "sequential": "REFERENCE",
                        "collapse_linear": "REFERENCE"}, None),
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
'''}, {"setup": "KERNEL_TAMPERING"}),
}
