"""Sample answers for convolution: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (conv1d 2, conv2d 2, conv1d_layer 3, build_ekg_classifier 3):
sample-correct 10, sample-untouched 0, sample-partial 5 (conv1d and conv1d_layer right, conv2d
flips the kernel, build_ekg_classifier uses windows of 20 without overlap), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"conv1d": "REFERENCE", "conv2d": "REFERENCE", "conv1d_layer": "REFERENCE",
                        "build_ekg_classifier": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # conv1d right with np.correlate (2 points); conv2d flips the kernel, a true convolution
    # (0 of 2); conv1d_layer right with einsum (3 points); the EKG model's first layer has
    # windows of 20, 20 apart (0 of 3): expected 5/10.
    "sample-partial": ({
        "conv1d": '''def conv1d(x, kernel, stride=1):
    """Valid cross-correlation, every stride-th output of np.correlate."""
    return np.correlate(x, kernel, mode="valid")[::stride]
''',
        "conv2d": '''def conv2d(image, kernel, stride=1):
    """Flips the kernel: the convolution of signal processing, not what is asked."""
    kernel = kernel[::-1, ::-1]
    kh, kw = kernel.shape
    rows = (image.shape[0] - kh) // stride + 1
    cols = (image.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = np.sum(image[r * stride:r * stride + kh, c * stride:c * stride + kw]
                               * kernel)
    return out
''',
        "conv1d_layer": '''def conv1d_layer(x, W, b, stride, g):
    """einsum over an index array of the windows."""
    k = W.shape[0]
    positions = (x.shape[-1] - k) // stride + 1
    idx = np.arange(positions)[:, None] * stride + np.arange(k)
    return g(np.einsum("...pk,kf->...pf", x[..., idx], W) + b)
''',
        "build_ekg_classifier": '''def build_ekg_classifier(n_samples=100):
    """Windows of 20 that do not overlap: not the lecture's layer."""
    import keras
    model = keras.Sequential([
        keras.Input(shape=(n_samples, 1)),
        keras.layers.Conv1D(8, kernel_size=20, strides=20, activation="relu"),
        keras.layers.Conv1D(4, kernel_size=5, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model
'''}, None),
    "sample-tamper": ({
        "conv1d": '''def conv1d(x, kernel, stride=1):
    """True convolution: the kernel flipped."""
    return np.convolve(x, kernel, mode="valid")[::stride]
''',
        "conv2d": '''def conv2d(image, kernel, stride=1):
    return image
''',
        "conv1d_layer": '''def conv1d_layer(x, W, b, stride, g):
    return g(x)
'''}, {"setup": "KERNEL_TAMPERING"}),
}
