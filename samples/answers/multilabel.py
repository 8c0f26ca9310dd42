"""Sample answers for multilabel: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (predict_labels 2, multilabel_cost 2, weighted_multilabel_cost 2,
hamming_accuracy 1, build_multilabel_classifier 3): sample-correct 10, sample-untouched 0,
sample-partial 5 (predict_labels and build_multilabel_classifier right, multilabel_cost with the
naive formula, weighted_multilabel_cost weighting both terms, hamming_accuracy as the
exact-match accuracy), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"predict_labels": "REFERENCE", "multilabel_cost": "REFERENCE",
                        "weighted_multilabel_cost": "REFERENCE",
                        "hamming_accuracy": "REFERENCE",
                        "build_multilabel_classifier": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # predict_labels compares logits with log(t / (1 - t)) (2 points); multilabel_cost is the
    # textbook formula, inf at logits of 1e4 (0 of 2); weighted_multilabel_cost is stable but
    # weights the negatives too (0 of 2); hamming_accuracy counts whole scenes (0 of 1); the
    # classifier has sigmoid outputs (3 points): expected 5/10.
    "sample-partial": ({
        "predict_labels": '''def predict_labels(logits, threshold=0.5):
    """sigmoid(z) >= t exactly when z >= log(t / (1 - t))."""
    return (logits >= np.log(threshold / (1 - threshold))).astype(int)
''',
        "multilabel_cost": '''def multilabel_cost(logits, Y):
    """The textbook formula: log of a sigmoid, which overflows for large logits."""
    p = 1 / (1 + np.exp(-logits))
    return -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
''',
        "weighted_multilabel_cost": '''def weighted_multilabel_cost(logits, Y, pos_weight):
    """Stable, but the weight multiplies the whole loss of the label, negatives too."""
    loss = np.logaddexp(0, logits) - logits * Y
    return np.mean(pos_weight * loss)
''',
        "hamming_accuracy": '''def hamming_accuracy(Y_true, Y_pred):
    """Counts a scene as right only when all its labels are: the exact-match accuracy."""
    return np.mean(np.all(Y_true == Y_pred, axis=1))
''',
        "build_multilabel_classifier": '''def build_multilabel_classifier(n_features, n_labels):
    """Sigmoid outputs and a loss that expects probabilities."""
    import keras
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(n_labels, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model
'''}, None),
    "sample-tamper": ({
        "predict_labels": '''def predict_labels(logits, threshold=0.5):
    """Thresholds the logits themselves."""
    return (logits >= threshold).astype(int)
''',
        "multilabel_cost": '''def multilabel_cost(logits, Y):
    return 0.0
''',
        "weighted_multilabel_cost": '''def weighted_multilabel_cost(logits, Y, pos_weight):
    """Weights the logits instead of the positives' losses."""
    return float(np.mean(np.logaddexp(0, pos_weight * logits) - pos_weight * logits * Y))
''',
        "hamming_accuracy": '''def hamming_accuracy(Y_true, Y_pred):
    return 1.0
''',
        "build_multilabel_classifier": '''def build_multilabel_classifier(n_features, n_labels):
    """One softmax over the labels, as if exactly one were present."""
    import keras
    model = keras.Sequential([keras.Input(shape=(n_features,)),
                              keras.layers.Dense(n_labels, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model
'''}, {"setup": "KERNEL_TAMPERING"}),
}
