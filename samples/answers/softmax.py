"""Sample answers for the softmax exercises: correct, untouched, partly wrong, and tampering."""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 3,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"softmax": "REFERENCE", "sparse_categorical_crossentropy": "REFERENCE",
                        "build_digit_classifier": "REFERENCE"}, None),
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
        "build_digit_classifier": '''def build_digit_classifier():
    return None
'''}, {"setup": "KERNEL_TAMPERING"}),
}
