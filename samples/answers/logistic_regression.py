"""Sample answers for logistic_regression: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (sigmoid 1, compute_cost 1, compute_gradient 2, gradient_descent 1,
minibatch_gradient_descent 2, build_binary_classifier 3): sample-correct 10, sample-untouched 0,
sample-partial 6 (sigmoid, compute_cost, compute_gradient and minibatch_gradient_descent right,
written differently from the reference, the mini-batches as np.split of the row indices with the
gradient inlined; gradient_descent updates b with the new w; the classifier has a sigmoid output
and from_logits=True), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 6,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"sigmoid": "REFERENCE", "compute_cost": "REFERENCE",
                        "compute_gradient": "REFERENCE", "gradient_descent": "REFERENCE",
                        "minibatch_gradient_descent": "REFERENCE",
                        "build_binary_classifier": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    "sample-partial": ({
        "sigmoid": '''def sigmoid(z):
    """g(z) = 1 / (1 + e^(-z)), element-wise, without overflow for any finite z."""
    from scipy.special import expit
    return expit(np.asarray(z, dtype=float))
''',
        "compute_cost": '''def compute_cost(X, y, w, b):
    """Clips f so that log() stays finite, as Keras does."""
    X, y, w = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    f = np.clip(sigmoid(X @ w + b), 1e-12, 1 - 1e-12)
    return float(np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f)))
''',
        "compute_gradient": '''def compute_gradient(X, y, w, b):
    """Loops over the examples and the features, as in the course lab."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    m, n = X.shape
    dj_dw, dj_db = np.zeros(n), 0.0
    for i in range(m):
        err_i = sigmoid(np.dot(X[i], w) + b) - y[i]
        for j in range(n):
            dj_dw[j] += err_i * X[i, j]
        dj_db += err_i
    return dj_dw / m, dj_db / m
''',
        "gradient_descent": '''def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """Wrong: not a simultaneous update, b's gradient is taken at the new w."""
    w, b, J_history = np.array(w_in, dtype=float), b_in, []
    for _ in range(num_iters):
        dj_dw, _ = compute_gradient(X, y, w, b)
        w = w - alpha * dj_dw
        _, dj_db = compute_gradient(X, y, w, b)
        b = b - alpha * dj_db
        J_history.append(compute_cost(X, y, w, b))
    return w, b, J_history
''',
        "minibatch_gradient_descent": '''def minibatch_gradient_descent(
        X, y, w_in, b_in, alpha, epochs, batch_size):
    """Right: the row indices split at every multiple of batch_size, the gradient inlined."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, b, history = np.array(w_in, dtype=float), float(b_in), []
    batches = np.split(np.arange(len(y)), np.arange(batch_size, len(y), batch_size))
    for _ in range(epochs):
        for rows in batches:
            error = sigmoid(X[rows] @ w + b) - y[rows]
            w, b = w - alpha * X[rows].T @ error / len(rows), b - alpha * np.mean(error)
        history.append(compute_cost(X, y, w, b))
    return w, b, history
''',
        "build_binary_classifier": '''def build_binary_classifier(n_features):
    """Wrong: a sigmoid output AND from_logits=True applies the sigmoid twice."""
    import keras
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return model
'''}, None),
    "sample-tamper": ({
        "sigmoid": '''def sigmoid(z):
    """Wrong: the literal formula overflows for z = -1e4."""
    return 1 / (1 + np.exp(-z))
''',
        "compute_cost": '''def compute_cost(X, y, w, b):
    return 0.0
''',
        "compute_gradient": '''def compute_gradient(X, y, w, b):
    return np.zeros(len(w)), 0.0
''',
        "gradient_descent": '''def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    return w_in, b_in, []
''',
        "minibatch_gradient_descent": '''def minibatch_gradient_descent(
        X, y, w_in, b_in, alpha, epochs, batch_size):
    return w_in, b_in, [0.0] * epochs
''',
        "build_binary_classifier": '''def build_binary_classifier(n_features):
    return None
'''}, {"setup": "KERNEL_TAMPERING"}),
}
