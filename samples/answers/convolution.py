"""Sample answers for convolution: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (conv1d 1, conv2d 1, conv1d_layer 2, conv2d_layer 2,
receptive_field 2, build_ekg_classifier 2): sample-correct 10, sample-untouched 0, sample-partial
5 (conv1d, conv1d_layer and receptive_field right; conv2d flips the kernel, conv2d_layer pads
'same' with the extra zero row at the top, build_ekg_classifier uses windows of 20 without
overlap), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"conv1d": "REFERENCE", "conv2d": "REFERENCE", "conv1d_layer": "REFERENCE",
                        "conv2d_layer": "REFERENCE", "receptive_field": "REFERENCE",
                        "build_ekg_classifier": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # conv1d right with np.correlate (1 point); conv2d flips the kernel, a true convolution
    # (0 of 1); conv1d_layer right with einsum (2 points); conv2d_layer pads 'same'
    # symmetrically with the odd zero row and column at the top and left (0 of 2);
    # receptive_field right, walking the stack from the top down (2 points); the EKG model's
    # first layer has windows of 20, 20 apart (0 of 2): expected 5/10.
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
        "conv2d_layer": '''def conv2d_layer(images, W, b, stride=1, padding="valid"):
    """'same' padding split evenly, but the odd row and column at the top and left."""
    kh, kw, _, F = W.shape
    if padding == "same":
        pads = []
        for n, k in ((images.shape[1], kh), (images.shape[2], kw)):
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            pads.append((total - total // 2, total // 2))
        images = np.pad(images, [(0, 0), *pads, (0, 0)])
    rows = (images.shape[1] - kh) // stride + 1
    cols = (images.shape[2] - kw) // stride + 1
    z = np.zeros((images.shape[0], rows, cols, F))
    for r in range(rows):
        for c in range(cols):
            window = images[:, r * stride:r * stride + kh, c * stride:c * stride + kw, :]
            z[:, r, c, :] = np.einsum("nijc,ijcf->nf", window, W)
    return z + b
''',
        "receptive_field": '''def receptive_field(layers):
    """From the top down: a unit of the layer above spans (size - 1) * stride + kernel below."""
    size, step = 1, 1
    for kernel_size, stride in reversed(layers):
        size = (size - 1) * stride + kernel_size
        step *= stride
    return size, step
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
''',
        "conv2d_layer": '''def conv2d_layer(images, W, b, stride=1, padding="valid"):
    return images
''',
        "receptive_field": '''def receptive_field(layers):
    """The product of the kernel sizes."""
    return int(np.prod([k for k, _ in layers])), int(np.prod([s for _, s in layers]))
'''}, {"setup": "KERNEL_TAMPERING"}),
}
