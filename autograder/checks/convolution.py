"""Checks for the `convolution` chapter: 1-D and 2-D convolution (cross-correlation), a 1-D
convolutional layer, a 2-D layer with channels and padding, receptive fields, and the EKG
classifier."""

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import solutions.convolution
from autograder.channel import NamedCallable
from autograder.checks import elementary_functions
from autograder.checks.base import Case, Check, Mismatch, expect_tuple, fmt
from autograder.checks.keras_config import layer_input_shape, leaf_layer_configs
from autograder.checks.keras_models import KerasModelCheck
from autograder.data import load_ekg_split

RELU, SIGMOID, LINEAR = (NamedCallable(elementary_functions, name)
                         for name in ("relu", "sigmoid", "linear"))

# Every output is a sum of at most a few hundred products of numbers below 300 in size: any
# correct order of summation (a loop, np.dot, einsum, sliding_window_view) agrees to ~1e-13;
# the bugs worth catching (a flipped kernel, a shifted window, a missing bias) are off by O(1).
RTOL, ATOL = 1e-7, 1e-9
SOBEL_X = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def _patch_of_china(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A grey patch of scikit-learn's bundled photo china.jpg (values 0..255), at a random
    place: real image structure (edges, texture) rather than noise."""
    from sklearn.datasets import load_sample_image

    grey = load_sample_image("china.jpg").mean(axis=2)
    r = int(rng.integers(0, grey.shape[0] - shape[0]))
    c = int(rng.integers(0, grey.shape[1] - shape[1]))
    return grey[r:r + shape[0], c:c + shape[1]].copy()


class Conv1d(Check):
    reference = solutions.convolution.conv1d
    rtol, atol = RTOL, ATOL

    def cases(self, rng: np.random.Generator) -> list[Case]:
        n, k = int(rng.integers(20, 41)), int(rng.integers(3, 8))
        stride = int(rng.integers(2, 4))
        return [
            Case("x = [1, 2, 3, 4, 5], kernel = [1, 0, -1] (the default stride 1)",
                 (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, 0.0, -1.0]))),
            Case("an asymmetric kernel [1, 2, 3]: it is not flipped",
                 (np.array([0.0, 1.0, 0.0, 0.0, 2.0, -1.0]), np.array([1.0, 2.0, 3.0]))),
            Case("stride 2", (np.arange(10.0), np.array([1.0, -1.0, 0.5]), 2)),
            Case("stride passed by keyword, stride=3",
                 (np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]),
                  np.array([0.5, -1.0])), {"stride": 3}),
            Case("stride 3 not dividing the length: len(x) 9, kernel 3 -> 3 outputs",
                 (np.array([1.0, -2.0, 0.5, 4.0, 3.0, -1.0, 2.0, 0.0, 1.5]),
                  np.array([2.0, 1.0, -1.0]), 3)),
            Case(f"a random x of {n} samples and a kernel of {k}",
                 (rng.normal(size=n), rng.normal(size=k)), kind="random"),
            Case(f"a random x of {n} samples, a kernel of {k}, stride {stride}",
                 (rng.normal(size=n), rng.normal(size=k), stride), kind="random"),
            Case("a kernel as long as x: one output",
                 (np.array([1.0, 2.0, -1.0, 0.5]), np.array([0.5, -1.0, 2.0, 1.0])),
                 kind="edge"),
            Case("a 1-sample kernel, stride 2: every second sample, scaled",
                 (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([-2.0]), 2), kind="edge"),
            Case("a stride larger than the kernel: windows with gaps between them",
                 (np.arange(12.0) ** 2 / 10, np.array([1.0, -1.0]), 5), kind="edge"),
            Case("a stride larger than len(x) - len(kernel): one output",
                 (np.array([2.0, -1.0, 3.0, 0.5, 1.0]), np.array([1.0, 0.0, 2.0]), 4),
                 kind="edge"),
            Case("the lecture's window: 100 samples, a kernel of 20, stride 10 (9 outputs)",
                 (np.sin(np.arange(100) / 5.0), np.linspace(-1.0, 1.0, 20), 10), kind="edge",
                 show_input=False),
        ]


class Conv2d(Check):
    reference = solutions.convolution.conv2d
    rtol, atol = RTOL, ATOL

    def cases(self, rng: np.random.Generator) -> list[Case]:
        h, w = int(rng.integers(6, 12)), int(rng.integers(6, 12))
        kh, kw = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        sobel_x = SOBEL_X
        return [
            Case("a 4x4 image and an asymmetric 2x2 kernel (not flipped)",
                 (np.arange(16.0).reshape(4, 4), np.array([[1.0, 2.0], [0.0, -1.0]]))),
            Case("a vertical edge and the Sobel kernel for it",
                 (np.repeat([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]], 5, axis=0), sobel_x)),
            Case("a 3x5 image and a 2x3 kernel (rows and columns differ)",
                 (np.array([[1.0, 2.0, 0.0, -1.0, 3.0], [0.5, -2.0, 1.0, 4.0, 0.0],
                            [2.0, 1.0, -1.0, 0.0, 1.0]]),
                  np.array([[1.0, 0.0, -2.0], [0.5, 1.0, 0.0]]))),
            Case("stride 2 on a 6x7 image with a 3x3 kernel",
                 (np.arange(42.0).reshape(6, 7) % 5, np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0],
                                                                [0.0, 0.0, -1.0]]), 2)),
            Case("stride 3 by keyword, not dividing: 8x7 image, 2x2 kernel",
                 (np.arange(56.0).reshape(8, 7) ** 0.5, np.array([[1.0, -1.0], [2.0, 0.5]])),
                 {"stride": 3}),
            Case(f"a random {h}x{w} image and a {kh}x{kw} kernel",
                 (rng.normal(size=(h, w)), rng.normal(size=(kh, kw))), kind="random"),
            Case(f"a random {h}x{w} image, a {kh}x{kw} kernel, stride 2",
                 (rng.normal(size=(h, w)), rng.normal(size=(kh, kw)), 2), kind="random"),
            Case("a 40x50 grey patch of china.jpg (values 0..255) and the Sobel kernel",
                 (_patch_of_china(rng, (40, 50)), sobel_x), kind="random", show_input=False),
            Case("a kernel as large as the image: a 1x1 output",
                 (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0], [2.0, 1.0]])),
                 kind="edge"),
            Case("a 1x1 kernel: the image scaled",
                 (np.array([[1.0, -2.0, 3.0], [0.0, 4.0, -1.0]]), np.array([[3.0]])),
                 kind="edge"),
            Case("a 1x1 kernel with stride 2: every second row and column",
                 (np.arange(20.0).reshape(4, 5), np.array([[-1.0]]), 2), kind="edge"),
            Case("a one-row kernel on a one-row image",
                 (np.array([[1.0, 3.0, -2.0, 0.5, 4.0]]), np.array([[1.0, -1.0]])),
                 kind="edge"),
            Case("a stride larger than the room left: one row of outputs",
                 (np.arange(24.0).reshape(4, 6), np.array([[1.0, 0.0, 1.0], [0.0, -1.0, 0.0],
                                                           [2.0, 0.0, 0.0]]), 3), kind="edge"),
        ]


class Conv1dLayer(Check):
    reference = solutions.convolution.conv1d_layer
    rtol, atol = RTOL, ATOL

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, n = int(rng.integers(2, 6)), int(rng.integers(15, 31))
        k, filters = int(rng.integers(2, 7)), int(rng.integers(2, 5))
        stride = int(rng.integers(2, 4))
        W_demo = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]])
        return [
            Case("one example (n,), 2 filters of 3 weights, stride 1, ReLU",
                 (np.array([1.0, -2.0, 3.0, 0.5, -1.0, 2.0]), W_demo, np.array([0.5, -1.0]), 1,
                  RELU)),
            Case("a batch of 2 examples, stride 2, linear",
                 (np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                            [0.0, -1.0, 2.0, -3.0, 4.0, -5.0, 6.0]]),
                  W_demo, np.array([0.0, 1.0]), 2, LINEAR)),
            Case("one filter, sigmoid, stride 3 not dividing the length",
                 (np.array([0.2, -0.4, 1.0, 0.0, 0.5, -1.5, 2.0, 1.0, -0.5, 0.3]),
                  np.array([[1.0], [-2.0], [0.5], [1.0]]), np.array([0.25]), 3, SIGMOID)),
            Case("4 filters of 2 weights (more filters than weights), ReLU",
                 (np.array([1.0, 0.0, -1.0, 2.0, -2.0]),
                  np.array([[1.0, -1.0, 0.5, 0.0], [2.0, 1.0, -0.5, -1.0]]),
                  np.array([0.0, 0.5, -0.5, 1.0]), 1, RELU)),
            Case(f"a random batch of {m} examples of {n}, {filters} filters of {k}, stride "
                 f"{stride}, ReLU",
                 (rng.normal(size=(m, n)), rng.normal(size=(k, filters)),
                  rng.normal(size=filters), stride, RELU), kind="random"),
            Case(f"a random example of {n}, {filters} filters of {k}, stride 1, sigmoid",
                 (rng.normal(size=n), rng.normal(size=(k, filters)), rng.normal(size=filters),
                  1, SIGMOID), kind="random"),
            Case("the lecture's first layer: a batch of 3 traces of 100 samples, 4 filters of "
                 "20, stride 10, ReLU",
                 (rng.normal(size=(3, 100)), rng.normal(0, 0.3, size=(20, 4)),
                  rng.normal(size=4), 10, RELU), kind="random", show_input=False),
            Case("a batch of one example (1, n): the output keeps its batch axis",
                 (np.array([[1.0, 2.0, -1.0, 0.0, 3.0]]), np.array([[1.0, 0.5], [-1.0, 2.0]]),
                  np.array([-0.5, 0.0]), 1, LINEAR), kind="edge"),
            Case("a kernel as long as x: one position",
                 (np.array([1.0, -1.0, 2.0]), np.array([[1.0, 0.0], [2.0, -1.0], [0.5, 1.0]]),
                  np.array([0.0, -3.0]), 1, RELU), kind="edge"),
            Case("a 1-sample kernel, stride 2",
                 (np.array([[1.0, -2.0, 3.0, -4.0, 5.0]]), np.array([[2.0, -1.0, 0.5]]),
                  np.array([0.0, 1.0, -1.0]), 2, LINEAR), kind="edge"),
            Case("every pre-activation negative: ReLU gives zeros (bias inside g)",
                 (np.array([1.0, 2.0, 3.0, 4.0]), np.array([[-1.0], [-1.0]]), np.array([-0.5]),
                  1, RELU), kind="edge"),
        ]


class Conv2dLayer(Check):
    reference = solutions.convolution.conv2d_layer
    rtol, atol = RTOL, ATOL

    def cases(self, rng: np.random.Generator) -> list[Case]:
        m, h, w = int(rng.integers(2, 4)), int(rng.integers(5, 10)), int(rng.integers(5, 10))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        c, f = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        stride = int(rng.integers(2, 4))

        def random(*shape: int) -> np.ndarray:
            return rng.normal(size=shape)

        # Small whole numbers: a wrong sum shows as a different integer.
        grid = (np.arange(2 * 5 * 6 * 2, dtype=float).reshape(2, 5, 6, 2) % 7) - 3
        W_asym = np.array([[[[1.0, -1.0]], [[2.0, 0.0]]], [[[0.0, 1.0]], [[-1.0, 3.0]]]])
        W_channels = np.arange(3 * 2 * 2 * 3, dtype=float).reshape(3, 2, 2, 3) % 5 - 2
        return [
            Case("one 4x4 image, one channel, an asymmetric 2x2 kernel, 2 filters, 'valid'",
                 (np.arange(16.0).reshape(1, 4, 4, 1), W_asym, np.array([0.5, -1.0]))),
            Case("the same with padding='same' (output 4x4: the zero row and column go at the "
                 "bottom and right)",
                 (np.arange(16.0).reshape(1, 4, 4, 1), W_asym, np.array([0.5, -1.0])),
                 {"padding": "same"}),
            Case("2 images 5x6 with 2 channels, a 3x2 kernel, 3 filters: the channels summed",
                 (grid, W_channels, np.array([1.0, 0.0, -2.0]))),
            Case("stride 2, 'valid'", (grid, W_channels, np.array([0.0, 1.0, 0.0]), 2)),
            Case("stride 2, 'same' (output ceil(5/2) x ceil(6/2) = 3x3)",
                 (grid, W_channels, np.array([0.0, 1.0, 0.0])),
                 {"stride": 2, "padding": "same"}),
            Case(f"random: {m} images {h}x{w} with {c} channels, a {kh}x{kw} kernel, {f} "
                 f"filters, 'valid'",
                 (random(m, h, w, c), random(kh, kw, c, f), random(f)), kind="random"),
            Case(f"random: {m} images {h}x{w} with {c} channels, a {kh}x{kw} kernel, {f} "
                 f"filters, stride {stride}, 'same'",
                 (random(m, h, w, c), random(kh, kw, c, f), random(f), stride, "same"),
                 kind="random"),
            Case(f"random: {m} images {h}x{w}, {c} channels, an even 4x2 kernel, {f} filters, "
                 "'same' (more padding at the bottom and right)",
                 (random(m, h, w, c), random(4, 2, c, f), random(f)), {"padding": "same"},
                 kind="random"),
            Case("a 40x50 grey patch of china.jpg, the Sobel kernel and its transpose as 2 "
                 "filters, stride 3, 'same'",
                 (_patch_of_china(rng, (40, 50))[None, :, :, None],
                  np.stack([SOBEL_X, SOBEL_X.T], axis=-1)[:, :, None, :], np.zeros(2), 3,
                  "same"), kind="random", show_input=False),
            Case("stride 2, 'same', an odd height 7 and a 3x3 kernel (the extra zero row at the "
                 "bottom)",
                 (np.arange(7 * 4, dtype=float).reshape(1, 7, 4, 1) % 5,
                  np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0], [3.0, 0.0, 1.0]])[:, :, None, None],
                  np.array([0.5]), 2, "same"), kind="edge"),
            Case("a 1x1 kernel mixing 3 channels into 2 filters, 'same' (no padding needed)",
                 (np.arange(18.0).reshape(1, 2, 3, 3),
                  np.array([[[[1.0, 0.0], [-1.0, 2.0], [0.5, 1.0]]]]), np.array([0.0, -1.0])),
                 {"padding": "same"}, kind="edge"),
            Case("a kernel as large as the image, 'valid': a 1x1 output per filter",
                 (np.arange(12.0).reshape(1, 2, 3, 2) - 5,
                  np.arange(24.0).reshape(2, 3, 2, 2) % 3 - 1, np.array([1.0, -1.0])),
                 kind="edge"),
            Case("a kernel as large as the image, 'same': the output keeps the image's size",
                 (np.arange(12.0).reshape(1, 2, 3, 2) - 5,
                  np.arange(24.0).reshape(2, 3, 2, 2) % 3 - 1, np.array([1.0, -1.0])),
                 {"padding": "same"}, kind="edge"),
            Case("stride 3 larger than the kernel, 'valid' (rows and columns skipped)",
                 (np.arange(2 * 7 * 8, dtype=float).reshape(2, 7, 8, 1) % 4,
                  np.array([[1.0, -1.0], [2.0, 0.5]])[:, :, None, None], np.array([0.0]), 3),
                 kind="edge"),
        ]


class ReceptiveField(Check):
    reference = solutions.convolution.receptive_field

    def cases(self, rng: np.random.Generator) -> list[Case]:
        depth = int(rng.integers(3, 6))
        strides = rng.integers(1, 4, size=depth)
        kernels = strides + rng.integers(0, 5, size=depth)     # every kernel >= its stride
        stack = [(int(k), int(s)) for k, s in zip(kernels, strides)]
        return [
            Case("the lecture's EKG network [(20, 10), (5, 2)]", ([(20, 10), (5, 2)],)),
            Case("one layer (20, 10): its own window and stride", ([(20, 10)],)),
            Case("three layers of kernel 3, stride 1", ([(3, 1), (3, 1), (3, 1)],)),
            Case("kernel 3 stride 2, then kernel 3 stride 1", ([(3, 2), (3, 1)],)),
            Case("kernel 3 stride 1, then kernel 3 stride 2 (the order matters)",
                 ([(3, 1), (3, 2)],)),
            Case("three layers [(4, 2), (3, 3), (2, 2)]", ([(4, 2), (3, 3), (2, 2)],)),
            Case(f"a random stack of {depth} layers", (stack,), kind="random"),
            Case("no layers: the input itself", ([],), kind="edge"),
            Case("1-sample kernels with stride 2: each unit sees one sample",
                 ([(1, 2), (1, 2)],), kind="edge"),
            Case("windows that just touch (kernel = stride), four layers",
                 ([(2, 2), (2, 2), (2, 2), (2, 2)],), kind="edge"),
            Case("a long stack: ten layers of (3, 2)", ([(3, 2)] * 10,), kind="edge"),
        ]

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        parts = expect_tuple(actual, ("size", "step"), "of whole numbers")
        for name, want, got in zip(("size", "step"), expected, parts):
            if isinstance(got, bool) or not isinstance(got, (numbers.Integral, np.integer)):
                raise Mismatch(f"{name} is {fmt(got)} of type {type(got).__name__}; expected a "
                               f"whole number (int), {want}")
            if got != want:
                raise Mismatch(f"expected (size, step) = {expected}, got ({fmt(parts[0])}, "
                               f"{fmt(parts[1])}): the {name} differs")


class EkgClassifier(KerasModelCheck):
    reference = solutions.convolution.build_ekg_classifier
    # The input is (n_samples, 1), not a flat vector of n_inputs: the judge's shape test is
    # for flat inputs, so this check tests the input shape itself, from the config.
    n_inputs, n_outputs = None, 1
    n_samples = 100
    expected_losses = ("BinaryCrossentropy", "binary_crossentropy")
    # Measured on this split, 30 epochs: the reference reaches 96.75% with the grader's seed 0
    # (96-100% over seeds 0-3); a correct variant (tanh first layer, a dense layer of 8 before
    # the output) 89.5%; 4 then 2 filters at Adam's default rate 83-92%. A model that does not
    # learn stays near 50% (the classes are balanced), so 80% is the bar.
    epochs, min_accuracy = 30, 0.80
    windows = ((20, 10), (5, 2))     # (kernel_size, strides) of the first two layers

    def build_args(self) -> tuple:
        return (self.n_samples,)

    def data(self) -> Sequence[np.ndarray]:
        return load_ekg_split(n_samples=self.n_samples)

    def predict_labels(self, outputs: np.ndarray, from_logits: bool, activation: str,
                       ) -> np.ndarray:
        outputs = np.reshape(outputs, (len(outputs), -1))[:, 0]
        # sigmoid(z) >= 0.5 exactly when z >= 0.
        return (outputs >= (0.0 if from_logits else 0.5)).astype(int)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        if isinstance(actual, dict) and isinstance(actual.get("config"), dict):
            self.check_layers(actual["config"])
        super().compare(case, expected, actual)

    def check_layers(self, config: dict) -> None:
        """The first two layers with weights must be Conv1D with the lecture's windows, on an
        input of shape (n_samples, 1)."""
        layers = [layer for layer in leaf_layer_configs(config)
                  if layer.get("class_name") not in ("InputLayer",)]
        kinds = [str(layer.get("class_name")) for layer in layers]
        if kinds[:2] != ["Conv1D", "Conv1D"]:
            raise Mismatch(f"the first two layers must be keras.layers.Conv1D; the model's "
                           f"layers are {', '.join(kinds[:6]) or 'none'}")
        shape = layer_input_shape(layers[0])
        if shape is not None and list(shape[1:]) != [self.n_samples, 1]:
            raise Mismatch(f"the model's input shape is {tuple(shape)}, expected (batch, "
                           f"{self.n_samples}, 1): start it with keras.Input(shape="
                           f"({self.n_samples}, 1))")
        for number, (layer, (size, stride)) in enumerate(zip(layers, self.windows), start=1):
            layer_config = layer.get("config")
            inner = layer_config if isinstance(layer_config, dict) else {}
            # The demand is the window and the stride; the padding is the student's choice.
            got = (inner.get("kernel_size"), inner.get("strides"))
            if list(got[0] or []) != [size] or list(got[1] or []) != [stride]:
                raise Mismatch(f"Conv1D layer {number} has kernel_size={got[0]}, strides="
                               f"{got[1]}; the lecture's layer {number} needs kernel_size="
                               f"{size}, strides={stride}")


CHECKS = [Conv1d(), Conv2d(), Conv1dLayer(), Conv2dLayer(), ReceptiveField(),
          EkgClassifier()]
