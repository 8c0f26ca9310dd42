"""Sample answers for the stability exercises: correct, untouched, partly wrong, and tampering."""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 6,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"log_sum_exp": "REFERENCE", "log_softmax": "REFERENCE",
                        "log_sigmoid": "REFERENCE",
                        "softmax_cross_entropy_with_logits": "REFERENCE",
                        "binary_cross_entropy_with_logits": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # log_sum_exp, log_softmax and log_sigmoid right (2 + 2 + 2 points), both cross-entropies
    # wrong (3 + 1): expected 6/10.
    "sample-partial": ({
        "log_sum_exp": '''def log_sum_exp(z):
    """log(sum(exp(z))) along the last axis: a float for 1-D z, shape (m,) for a batch (m, k)."""
    from scipy.special import logsumexp
    return logsumexp(np.asarray(z, dtype=float), axis=-1)
''',
        "log_softmax": '''def log_softmax(z):
    """log(softmax(z)) along the last axis; same shape as z."""
    z = np.asarray(z, dtype=float)
    return z - log_sum_exp(z)[..., np.newaxis]
''',
        "log_sigmoid": '''def log_sigmoid(z):
    """-softplus(-z), with NumPy's stable log(e^a + e^b)."""
    return -np.logaddexp(0.0, -np.asarray(z, dtype=float))
''',
        "softmax_cross_entropy_with_logits": '''def softmax_cross_entropy_with_logits(logits, y):
    """Sum (should be the mean!) over the examples of -log softmax(logits[i])[y[i]]."""
    z = np.asarray(logits, dtype=float)
    return float(np.sum(-log_softmax(z)[np.arange(len(z)), y]))
''',
        "binary_cross_entropy_with_logits": '''def binary_cross_entropy_with_logits(logits, y):
    """Through sigmoid: log(1 - sigmoid(40)) = log(0), and exp(1e4) overflows."""
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    a = 1 / (1 + np.exp(-z))
    return float(np.mean(-y * np.log(a) - (1 - y) * np.log(1 - a)))
'''}, None),
    "sample-tamper": ({
        "log_sum_exp": '''def log_sum_exp(z):
    """Naive: exp overflows for large logits."""
    return np.log(np.sum(np.exp(z), axis=-1))
''',
        "log_softmax": '''def log_softmax(z):
    e = np.exp(z)
    return np.log(e / e.sum())
''',
        "log_sigmoid": '''def log_sigmoid(z):
    """Naive: e^-z overflows far below zero, and 1 + e^-40 rounds to 1."""
    return -np.log(1 + np.exp(-z))
''',
        "softmax_cross_entropy_with_logits": '''def softmax_cross_entropy_with_logits(logits, y):
    return 0.0
''',
        "binary_cross_entropy_with_logits": '''def binary_cross_entropy_with_logits(logits, y):
    return None
'''}, {"setup": "KERNEL_TAMPERING"}),
}
