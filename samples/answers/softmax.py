"""Sample answers for the softmax exercises: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (softmax 2, sparse_categorical_crossentropy 1,
softmax_cross_entropy_gradient 2, softmax_gradient 2, build_digit_classifier 3): sample-correct 10,
sample-untouched 0, sample-partial 4 (softmax and softmax_gradient right, written differently from
the reference; the cross-entropy sums instead of averaging; the logits' gradient forgets the 1/m
of the mean; the classifier applies softmax twice), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 4,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"softmax": "REFERENCE", "sparse_categorical_crossentropy": "REFERENCE",
                        "softmax_cross_entropy_gradient": "REFERENCE",
                        "softmax_gradient": "REFERENCE", "build_digit_classifier": "REFERENCE"},
                       None),
    "sample-untouched": ({}, None),
    "sample-partial": ({
        "softmax": '''def softmax(z):
    """Softmax of z along the last axis."""
    from scipy.special import softmax as scipy_softmax
    return scipy_softmax(np.asarray(z, dtype=float), axis=-1)
''',
        "sparse_categorical_crossentropy": '''def sparse_categorical_crossentropy(probs, y):
    """Sum (should be the mean!) of -log probs[i, y[i]]."""
    probs = np.asarray(probs, dtype=float)
    return float(np.sum(-np.log(probs[np.arange(len(y)), y])))
''',
        "softmax_cross_entropy_gradient": '''def softmax_cross_entropy_gradient(z, y):
    """a - e_y for every example, but the gradient of the sum: the mean's 1/m is missing."""
    return softmax(z) - np.eye(z.shape[1])[y]
''',
        "softmax_gradient": '''def softmax_gradient(X, y, W, b):
    """Right, with one-hot labels and a loop over the examples."""
    m, k = X.shape[0], W.shape[1]
    dj_dW, dj_db = np.zeros((X.shape[1], k)), np.zeros(k)
    for i in range(m):
        error = softmax(X[i] @ W + b) - np.eye(k)[y[i]]
        dj_dW += np.outer(X[i], error)
        dj_db += error
    return dj_dW / m, dj_db / m
''',
        "build_digit_classifier": '''def build_digit_classifier():
    """Softmax output AND from_logits=True: softmax applied twice."""
    import keras
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer="adam")
    return model
'''}, None),
    "sample-tamper": ({
        "softmax": '''def softmax(z):
    """Wrong: normalises over the whole array and overflows."""
    e = np.exp(z)
    return e / e.sum()
''',
        "sparse_categorical_crossentropy": '''def sparse_categorical_crossentropy(probs, y):
    return 0.0
''',
        "softmax_cross_entropy_gradient": '''def softmax_cross_entropy_gradient(z, y):
    return np.zeros_like(z)
''',
        "softmax_gradient": '''def softmax_gradient(X, y, W, b):
    return np.zeros_like(W), np.zeros_like(b)
''',
        "build_digit_classifier": '''def build_digit_classifier():
    return None
'''}, {"setup": "KERNEL_TAMPERING"}),
}
