"""The convolution checks accept correct code written many ways and reject plausible bugs."""

import pytest

from autograder.checks import convolution
from autograder.checks.base import run_checks
from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


def test_checks_are_listed_in_exercise_order():
    assert [check.exercise_id for check in convolution.CHECKS] == [
        "convolution.conv1d", "convolution.conv2d", "convolution.conv1d_layer",
        "convolution.conv2d_layer", "convolution.receptive_field",
        "convolution.build_ekg_classifier"]


def test_the_signatures_are_written_as_the_course_lists_them():
    assert [check.signature for check in convolution.CHECKS] == [
        "conv1d(x, kernel, stride=1)", "conv2d(image, kernel, stride=1)",
        "conv1d_layer(x, W, b, stride, g)",
        "conv2d_layer(images, W, b, stride=1, padding='valid')", "receptive_field(layers)",
        "build_ekg_classifier(n_samples=100)"]


# ----------------------------------------------------------------------------------------------
# conv1d

CONV1D_CORRECT = {
    "reference-style: a loop of dot products": """
def conv1d(x, kernel, stride=1):
    k = len(kernel)
    out = np.zeros((len(x) - k) // stride + 1)
    for p in range(len(out)):
        out[p] = np.dot(x[p * stride:p * stride + k], kernel)
    return out
""",
    "np.correlate, then every stride-th output": """
def conv1d(x, kernel, stride=1):
    return np.correlate(x, kernel, mode="valid")[::stride]
""",
    "sliding_window_view and a matrix product": """
from numpy.lib.stride_tricks import sliding_window_view
def conv1d(x, kernel, stride=1):
    return sliding_window_view(x, len(kernel))[::stride] @ kernel
""",
    "einsum over an index array": """
def conv1d(x, kernel, stride=1):
    positions = (x.size - kernel.size) // stride + 1
    idx = np.arange(positions)[:, None] * stride + np.arange(kernel.size)
    return np.einsum("pk,k->p", x[idx], kernel)
""",
    "pure Python loops over a while": """
def conv1d(x, kernel, stride=1):
    out, start = [], 0
    while start + len(kernel) <= len(x):
        total = 0.0
        for j in range(len(kernel)):
            total += x[start + j] * kernel[j]
        out.append(total)
        start += stride
    return np.array(out)
""",
}

CONV1D_WRONG = {
    "true convolution: the kernel flipped (np.convolve)": """
def conv1d(x, kernel, stride=1):
    return np.convolve(x, kernel, mode="valid")[::stride]
""",
    "off by one: one output too few": """
def conv1d(x, kernel, stride=1):
    k = len(kernel)
    return np.array([np.dot(x[p * stride:p * stride + k], kernel)
                     for p in range((len(x) - k) // stride)])
""",
    "stride ignored": """
def conv1d(x, kernel, stride=1):
    return np.correlate(x, kernel, mode="valid")
""",
    "'same' padding": """
def conv1d(x, kernel, stride=1):
    return np.correlate(x, kernel, mode="same")[::stride]
""",
    "'full' padding": """
def conv1d(x, kernel, stride=1):
    return np.correlate(x, kernel, mode="full")[::stride]
""",
    "length (n - k + 1) // stride when the stride does not divide": """
def conv1d(x, kernel, stride=1):
    k = len(kernel)
    return np.array([np.dot(x[p * stride:p * stride + k], kernel)
                     for p in range((len(x) - k + 1) // stride)])
""",
    "windows start every stride samples but the stride is applied twice": """
def conv1d(x, kernel, stride=1):
    return np.correlate(x, kernel, mode="valid")[::stride * stride]
""",
    "returns a list": """
def conv1d(x, kernel, stride=1):
    return list(np.correlate(x, kernel, mode="valid")[::stride])
""",
}


# ----------------------------------------------------------------------------------------------
# conv2d

CONV2D_CORRECT = {
    "reference-style: loops over the output": """
def conv2d(image, kernel, stride=1):
    kh, kw = kernel.shape
    out = np.zeros(((image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = np.sum(image[r * stride:r * stride + kh, c * stride:c * stride + kw]
                               * kernel)
    return out
""",
    "sliding_window_view and einsum": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->rc", windows, kernel)
""",
    "a sum of shifted, strided copies of the image, one per kernel weight": """
def conv2d(image, kernel, stride=1):
    kh, kw = kernel.shape
    rows = (image.shape[0] - kh) // stride + 1
    cols = (image.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * image[i:i + (rows - 1) * stride + 1:stride,
                                        j:j + (cols - 1) * stride + 1:stride]
    return out
""",
    "np.correlate along each row, summed over the kernel's rows": """
def conv2d(image, kernel, stride=1):
    kh = kernel.shape[0]
    rows = (image.shape[0] - kh) // stride + 1
    return np.array([sum(np.correlate(image[r * stride + i], kernel[i], mode="valid")[::stride]
                         for i in range(kh)) for r in range(rows)])
""",
    "scipy.signal.correlate2d": """
from scipy.signal import correlate2d
def conv2d(image, kernel, stride=1):
    return correlate2d(image, kernel, mode="valid")[::stride, ::stride]
""",
}

CONV2D_WRONG = {
    "true convolution: the kernel flipped along both axes": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->rc", windows, kernel[::-1, ::-1])
""",
    "the kernel flipped along its rows only": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->rc", windows, kernel[::-1])
""",
    "the stride applied to the rows only": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.shape)[::stride]
    return np.einsum("rcij,ij->rc", windows, kernel)
""",
    "off by one: the last row and column of outputs missing": """
def conv2d(image, kernel, stride=1):
    kh, kw = kernel.shape
    out = np.zeros(((image.shape[0] - kh) // stride, (image.shape[1] - kw) // stride))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = np.sum(image[r * stride:r * stride + kh, c * stride:c * stride + kw]
                               * kernel)
    return out
""",
    "the kernel transposed": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.T.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->rc", windows, kernel.T)
""",
    "'same' zero padding": """
from scipy.signal import correlate2d
def conv2d(image, kernel, stride=1):
    return correlate2d(image, kernel, mode="same")[::stride, ::stride]
""",
    "the output transposed": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d(image, kernel, stride=1):
    windows = sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->cr", windows, kernel)
""",
}


# ----------------------------------------------------------------------------------------------
# conv1d_layer

LAYER_CORRECT = {
    "reference-style: loops over examples, positions and filters": """
def conv1d_layer(x, W, b, stride, g):
    batch = np.atleast_2d(x)
    k, filters = W.shape
    positions = (batch.shape[1] - k) // stride + 1
    z = np.zeros((batch.shape[0], positions, filters))
    for e in range(batch.shape[0]):
        for p in range(positions):
            for f in range(filters):
                z[e, p, f] = np.dot(batch[e, p * stride:p * stride + k], W[:, f]) + b[f]
    a = g(z)
    return a if x.ndim == 2 else a[0]
""",
    "sliding_window_view and a matrix product, both shapes at once": """
from numpy.lib.stride_tricks import sliding_window_view
def conv1d_layer(x, W, b, stride, g):
    windows = sliding_window_view(x, W.shape[0], axis=-1)[..., ::stride, :]
    return g(windows @ W + b)
""",
    "einsum over an index array": """
def conv1d_layer(x, W, b, stride, g):
    k = W.shape[0]
    positions = (x.shape[-1] - k) // stride + 1
    idx = np.arange(positions)[:, None] * stride + np.arange(k)
    return g(np.einsum("...pk,kf->...pf", x[..., idx], W) + b)
""",
    "one window at a time, stacked on the positions axis": """
def conv1d_layer(x, W, b, stride, g):
    k = W.shape[0]
    starts = range(0, x.shape[-1] - k + 1, stride)
    z = np.stack([x[..., s:s + k] @ W + b for s in starts], axis=-2)
    return g(z)
""",
    "np.correlate per filter": """
def conv1d_layer(x, W, b, stride, g):
    def one(example):
        return np.stack([np.correlate(example, W[:, f], mode="valid")[::stride] + b[f]
                         for f in range(W.shape[1])], axis=1)
    z = one(x) if x.ndim == 1 else np.stack([one(row) for row in x])
    return g(z)
""",
}

LAYER_BODY = """
from numpy.lib.stride_tricks import sliding_window_view
def conv1d_layer(x, W, b, stride, g):
    windows = sliding_window_view(x, W.shape[0], axis=-1)[..., ::stride, :]
    return g(windows @ W + b)
"""


def slip(old, new, body=LAYER_BODY):
    """The correct conv1d_layer above with one line changed: a bug as students make it."""
    assert old in body, old
    return body.replace(old, new)


LAYER_WRONG = {
    "the bias added after g": slip("g(windows @ W + b)", "g(windows @ W) + b"),
    "g not applied": slip("g(windows @ W + b)", "windows @ W + b"),
    "W read as (filters, k): a row per filter": """
def conv1d_layer(x, W, b, stride, g):
    k = W.shape[1]
    starts = range(0, x.shape[-1] - k + 1, stride)
    z = np.stack([x[..., s:s + k] @ W.T + b for s in starts], axis=-2)
    return g(z)
""",
    "true convolution: each kernel flipped": slip("windows @ W", "windows @ W[::-1]"),
    "stride ignored": slip("[..., ::stride, :]", "[..., :, :]"),
    "a batch of one squeezed to one example": slip("return g(windows @ W + b)",
                                                   "return np.squeeze(g(windows @ W + b))"),
    "output (filters, positions)": slip("return g(windows @ W + b)",
                                        "return np.swapaxes(g(windows @ W + b), -1, -2)"),
    "the filters summed into one": slip("return g(windows @ W + b)",
                                        "return g(windows @ W + b).sum(axis=-1, keepdims=True)"),
    "'same' padding": """
def conv1d_layer(x, W, b, stride, g):
    def one(example):
        return np.stack([np.correlate(example, W[:, f], mode="same")[::stride] + b[f]
                         for f in range(W.shape[1])], axis=1)
    z = one(x) if x.ndim == 1 else np.stack([one(row) for row in x])
    return g(z)
""",
}


# ----------------------------------------------------------------------------------------------
# conv2d_layer

CONV2D_LAYER_BODY = """
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    m, H, Wd, C = images.shape
    kh, kw, _, F = W.shape
    if padding == "same":
        out_h, out_w = -(-H // stride), -(-Wd // stride)
        pad_h = max((out_h - 1) * stride + kh - H, 0)
        pad_w = max((out_w - 1) * stride + kw - Wd, 0)
        images = np.pad(images, ((0, 0), (pad_h // 2, pad_h - pad_h // 2),
                                 (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    elif padding != "valid":
        raise ValueError(padding)
    out_h = (images.shape[1] - kh) // stride + 1
    out_w = (images.shape[2] - kw) // stride + 1
    z = np.zeros((m, out_h, out_w, F))
    for r in range(out_h):
        for c in range(out_w):
            window = images[:, r * stride:r * stride + kh, c * stride:c * stride + kw, :]
            z[:, r, c, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))
    return z + b
"""

CONV2D_LAYER_CORRECT = {
    "loops over output positions, tensordot over (kh, kw, C)": CONV2D_LAYER_BODY,
    "sliding_window_view and einsum": """
from numpy.lib.stride_tricks import sliding_window_view
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    kh, kw = W.shape[:2]
    if padding == "same":
        pads = []
        for n, k in zip(images.shape[1:3], (kh, kw)):
            total = max((int(np.ceil(n / stride)) - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        images = np.pad(images, [(0, 0), *pads, (0, 0)])
    windows = sliding_window_view(images, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    # windows: (m, H', W', C, kh, kw)
    return np.einsum("nrcxij,ijxf->nrcf", windows, W) + b
""",
    "plain Python loops over every index, padding by copying into zeros": """
import math
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    m, H, Wd, C = images.shape
    kh, kw, _, F = W.shape
    if padding == "valid":
        top = left = 0
        out_h, out_w = (H - kh) // stride + 1, (Wd - kw) // stride + 1
        padded = images
    elif padding == "same":
        out_h, out_w = math.ceil(H / stride), math.ceil(Wd / stride)
        extra_h = max((out_h - 1) * stride + kh - H, 0)
        extra_w = max((out_w - 1) * stride + kw - Wd, 0)
        top, left = extra_h // 2, extra_w // 2
        padded = np.zeros((m, H + extra_h, Wd + extra_w, C))
        padded[:, top:top + H, left:left + Wd, :] = images
    else:
        raise ValueError("padding must be 'valid' or 'same'")
    out = np.zeros((m, out_h, out_w, F))
    for n in range(m):
        for r in range(out_h):
            for c in range(out_w):
                for f in range(F):
                    total = b[f]
                    for i in range(kh):
                        for j in range(kw):
                            for ch in range(C):
                                total += padded[n, r * stride + i, c * stride + j, ch] \\
                                    * W[i, j, ch, f]
                    out[n, r, c, f] = total
    return out
""",
    "scipy correlate2d per image, channel and filter, then every stride-th": """
from scipy.signal import correlate2d
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    kh, kw, C, F = W.shape
    if padding == "same":
        H, Wd = images.shape[1:3]
        ph = max((-(-H // stride) - 1) * stride + kh - H, 0)
        pw = max((-(-Wd // stride) - 1) * stride + kw - Wd, 0)
        images = np.pad(images, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2),
                                 (0, 0)))
    out = []
    for image in images:
        maps = [sum(correlate2d(image[:, :, ch], W[:, :, ch, f], mode="valid")
                    for ch in range(C))[::stride, ::stride] + b[f] for f in range(F)]
        out.append(np.stack(maps, axis=-1))
    return np.array(out)
""",
    "im2col: the windows as rows of a matrix": """
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    kh, kw, C, F = W.shape
    if padding not in ("valid", "same"):
        raise ValueError(f"unknown padding {padding}")
    if padding == "same":
        widths = []
        for n, k in ((images.shape[1], kh), (images.shape[2], kw)):
            out = (n + stride - 1) // stride
            need = max(0, (out - 1) * stride + k - n)
            widths.append((need // 2, (need + 1) // 2))
        images = np.pad(images, ((0, 0), widths[0], widths[1], (0, 0)))
    m, H, Wd, _ = images.shape
    rows, cols = (H - kh) // stride + 1, (Wd - kw) // stride + 1
    columns = np.array([[images[:, r * stride:r * stride + kh, c * stride:c * stride + kw, :]
                         .reshape(m, -1) for c in range(cols)] for r in range(rows)])
    z = columns @ W.reshape(-1, F) + b           # (rows, cols, m, F)
    return z.transpose(2, 0, 1, 3)
""",
}


def slip2d(old, new, body=CONV2D_LAYER_BODY):
    """The correct conv2d_layer above with one line changed."""
    assert old in body, old
    return body.replace(old, new)


CONV2D_LAYER_WRONG = {
    "true convolution: the kernel flipped": slip2d("window, W, axes",
                                                   "window, W[::-1, ::-1], axes"),
    "'same' padding with the extra zero row and column at the top and left": slip2d(
        "(pad_h // 2, pad_h - pad_h // 2),\n                                 "
        "(pad_w // 2, pad_w - pad_w // 2)",
        "(pad_h - pad_h // 2, pad_h // 2),\n                                 "
        "(pad_w - pad_w // 2, pad_w // 2)"),
    "'same' padding of k - 1 whatever the stride": slip2d(
        "pad_h = max((out_h - 1) * stride + kh - H, 0)\n        "
        "pad_w = max((out_w - 1) * stride + kw - Wd, 0)",
        "pad_h, pad_w = kh - 1, kw - 1"),
    "'same' output H x W whatever the stride": """
def conv2d_layer(images, W, b, stride=1, padding="valid"):
    kh, kw = W.shape[:2]
    if padding == "same":
        images = np.pad(images, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2),
                                 (0, 0)))
        stride_rows = 1
    else:
        stride_rows = stride
    out_h = (images.shape[1] - kh) // stride_rows + 1
    out_w = (images.shape[2] - kw) // stride_rows + 1
    z = np.zeros((images.shape[0], out_h, out_w, W.shape[3]))
    for r in range(out_h):
        for c in range(out_w):
            window = images[:, r * stride_rows:r * stride_rows + kh,
                            c * stride_rows:c * stride_rows + kw, :]
            z[:, r, c, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))
    return z + b
""",
    "W read as (kh, kw, F, C)": slip2d("window, W, axes", "window, W.swapaxes(2, 3), axes"),
    "only the first channel used": slip2d(
        "np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))",
        "np.tensordot(window[..., 0], W[:, :, 0, :], axes=([1, 2], [0, 1]))"),
    "the bias added once per input channel": slip2d("return z + b",
                                                    "return z + b * images.shape[3]"),
    "the kernel's rows and columns swapped": slip2d(
        "window, W, axes", "window, W.transpose(1, 0, 2, 3).reshape(W.shape), axes"),
    "the stride applied to the rows only": slip2d(
        "c * stride:c * stride + kw", "c:c + kw").replace(
        "out_w = (images.shape[2] - kw) // stride + 1", "out_w = images.shape[2] - kw + 1"),
    "no bias": slip2d("return z + b", "return z"),
}


# ----------------------------------------------------------------------------------------------
# receptive_field

RF_CORRECT = {
    "forward: the size grows by (k - 1) times the step so far": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        size += (k - 1) * step
        step *= s
    return size, step
""",
    "backward from the last layer: k units below span (k - 1) * s + k' ...": """
def receptive_field(layers):
    size = 1
    for k, s in reversed(layers):
        size = (size - 1) * s + k
    step = 1
    for _, s in layers:
        step = step * s
    return size, step
""",
    "closed form with numpy cumulative products": """
def receptive_field(layers):
    if not layers:
        return 1, 1
    kernels, strides = np.array(layers).T
    jumps = np.concatenate([[1], np.cumprod(strides)[:-1]])
    return int(1 + np.sum((kernels - 1) * jumps)), int(np.prod(strides))
""",
    "brute force: the index sets of the first two units, layer by layer": """
def receptive_field(layers):
    units = [[0], [1]]          # the two first units of the last layer, as index lists
    for k, s in reversed(layers):
        units = [sorted({p * s + j for p in unit for j in range(k)}) for unit in units]
    first, second = units
    return len(first), second[0] - first[0]
""",
    "recursion, numpy integers": """
def receptive_field(layers):
    if len(layers) == 0:
        return np.int64(1), np.int64(1)
    size, step = receptive_field(layers[:-1])
    k, s = layers[-1]
    return size + (k - 1) * step, step * s
""",
}

RF_WRONG = {
    "the product of the kernel sizes": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        size *= k
        step *= s
    return size, step
""",
    "the sum of the kernel sizes": """
def receptive_field(layers):
    return sum(k for k, _ in layers) or 1, int(np.prod([s for _, s in layers]))
""",
    "the step is the last layer's stride only": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        size += (k - 1) * step
        step *= s
    return size, (layers[-1][1] if layers else 1)
""",
    "the earlier strides forgotten: the size grows by k - 1": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        size += k - 1
        step *= s
    return size, step
""",
    "the size grows with the layer's own stride, not the step below it": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        step *= s
        size += (k - 1) * step
    return size, step
""",
    "no layers gives (0, 0)": """
def receptive_field(layers):
    if not layers:
        return 0, 0
    size, step = 1, 1
    for k, s in layers:
        size += (k - 1) * step
        step *= s
    return size, step
""",
    "floats: the steps multiplied as floats": """
def receptive_field(layers):
    size, step = 1.0, 1.0
    for k, s in layers:
        size += (k - 1) * step
        step *= s
    return size, step
""",
    "the step is the sum of the strides": """
def receptive_field(layers):
    size, step = 1, 1
    for k, s in layers:
        size += (k - 1) * step
        step *= s
    return size, max(1, sum(s for _, s in layers))
""",
}


CASES = [
    ("convolution.conv1d", CONV1D_CORRECT, CONV1D_WRONG),
    ("convolution.conv2d", CONV2D_CORRECT, CONV2D_WRONG),
    ("convolution.conv1d_layer", LAYER_CORRECT, LAYER_WRONG),
    ("convolution.conv2d_layer", CONV2D_LAYER_CORRECT, CONV2D_LAYER_WRONG),
    ("convolution.receptive_field", RF_CORRECT, RF_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


# ----------------------------------------------------------------------------------------------
# build_ekg_classifier

EKG_HEADER = "import numpy as np\nimport keras\n"

EKG_CORRECT = {
    "reference-style: Sequential, sigmoid output, from_logits=False": """
def build_ekg_classifier(n_samples=100):
    m = keras.Sequential([keras.Input(shape=(n_samples, 1)),
                          keras.layers.Conv1D(8, 20, strides=10, activation="relu"),
                          keras.layers.Conv1D(4, 5, strides=2, activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.Adam(0.01))
    return m
""",
    "functional API, linear output with from_logits=True, global pooling": """
def build_ekg_classifier(n_samples=100):
    inputs = keras.Input(shape=(n_samples, 1))
    h = keras.layers.Conv1D(16, kernel_size=20, strides=10, activation="relu")(inputs)
    h = keras.layers.Conv1D(8, kernel_size=5, strides=2, activation="relu")(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(1)(h)
    m = keras.Model(inputs, outputs)
    m.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
              optimizer=keras.optimizers.Adam(learning_rate=0.003), metrics=["accuracy"])
    return m
""",
    "the loss by name, a dense hidden layer after the convolutions": """
def build_ekg_classifier(n_samples=100):
    m = keras.Sequential([keras.Input(shape=(n_samples, 1)),
                          keras.layers.Conv1D(8, 20, strides=10, activation="tanh"),
                          keras.layers.Conv1D(8, 5, strides=2, activation="relu"),
                          keras.layers.Flatten(),
                          keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.01))
    return m
""",
    "'same' padding in both Conv1D layers (the task leaves the padding free)": """
def build_ekg_classifier(n_samples=100):
    m = keras.Sequential([keras.Input(shape=(n_samples, 1)),
                          keras.layers.Conv1D(8, 20, strides=10, padding="same",
                                              activation="relu"),
                          keras.layers.Conv1D(4, 5, strides=2, padding="same",
                                              activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.Adam(0.01))
    return m
""",
}


def ekg_model(first="keras.layers.Conv1D(8, 20, strides=10, activation='relu')",
              second="keras.layers.Conv1D(4, 5, strides=2, activation='relu')",
              head="keras.layers.Flatten(), keras.layers.Dense(1, activation='sigmoid')",
              loss="keras.losses.BinaryCrossentropy()", optimizer="keras.optimizers.Adam(0.01)",
              inputs="keras.Input(shape=(n_samples, 1))"):
    return f"""
def build_ekg_classifier(n_samples=100):
    m = keras.Sequential([{inputs}, {first}, {second}, {head}])
    m.compile(loss={loss}, optimizer={optimizer})
    return m
"""


EKG_WRONG = {
    "a dense network, no convolution": ekg_model(
        first="keras.layers.Flatten()", second="keras.layers.Dense(8, activation='relu')"),
    "windows of 20 without overlap (stride 20)": ekg_model(
        first="keras.layers.Conv1D(8, 20, strides=20, activation='relu')"),
    "the second layer's window 3": ekg_model(
        second="keras.layers.Conv1D(4, 3, strides=2, activation='relu')"),
    "the notes' network taken literally: one filter per layer, sigmoid, Adam's default rate":
        ekg_model(first="keras.layers.Conv1D(1, 20, strides=10, activation='sigmoid')",
                  second="keras.layers.Conv1D(1, 5, strides=2, activation='sigmoid')",
                  optimizer="'adam'"),
    "sigmoid output with from_logits=True": ekg_model(
        loss="keras.losses.BinaryCrossentropy(from_logits=True)"),
    "two softmax outputs and a categorical loss": ekg_model(
        head="keras.layers.Flatten(), keras.layers.Dense(2, activation='softmax')",
        loss="keras.losses.SparseCategoricalCrossentropy()"),
    "a flat input (n_samples,) reshaped inside": ekg_model(
        inputs="keras.Input(shape=(n_samples,)), keras.layers.Reshape((n_samples, 1))"),
    "does not train (learning rate 1e-6)": ekg_model(
        optimizer="keras.optimizers.SGD(learning_rate=1e-6)"),
}

EKG_CASES = [("convolution.build_ekg_classifier", EKG_CORRECT, EKG_WRONG)]
# Each accepted case and the last rejected one train a model (30-45 s each on 2 loaded cores).
test_ekg_classifier_accepts_correct, test_ekg_classifier_rejects_wrong = \
    accept_and_reject(EKG_CASES, EKG_HEADER, marks=[pytest.mark.slow])


# ----------------------------------------------------------------------------------------------
# Across the chapter

def test_a_flipped_kernel_is_shown_with_its_input(check_code):
    verdict = check_code("convolution.conv1d",
                         HEADER
                         + CONV1D_WRONG["true convolution: the kernel flipped (np.convolve)"])
    text = verdict.feedback()
    assert "not flipped" in text and "input:" in text and "expected:" in text
    assert "np.dot" not in text   # no reference code


def test_a_wrong_window_names_the_layer(check_code):
    verdict = check_code("convolution.build_ekg_classifier",
                         EKG_HEADER + EKG_WRONG["windows of 20 without overlap (stride 20)"])
    assert "Conv1D layer 1" in verdict.feedback() and "strides=10" in verdict.feedback()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_correct_version_is_accepted_whatever_the_seed(seed):
    """The random cases change with the seed: none of them may catch out a correct version."""
    codes = [HEADER + "".join(parts) for parts in zip(
        CONV1D_CORRECT.values(), CONV2D_CORRECT.values(), LAYER_CORRECT.values(),
        CONV2D_LAYER_CORRECT.values(), RF_CORRECT.values())]
    for code in codes:
        verdicts, _ = run_checks(convolution.CHECKS[:5], [code], seed=seed)
        assert all(v.accepted for v in verdicts.values()), \
            "\n".join(v.feedback() for v in verdicts.values())
