"""The data sets the checks train on: bundled with scikit-learn or generated, never downloaded."""

from typing import Any

import numpy as np


def load_digits_split(classes: tuple[int, ...] | None = None, test_size: float = 0.25,
                      seed: int = 0) -> list[np.ndarray]:
    """The 8x8 digits, pixels scaled to [0, 1], shuffled and split with stratification.

    Returns (X_train, X_test, y_train, y_test); `classes` keeps only those digits (e.g. (0, 1)).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    X = X.astype("float32") / 16.0
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


# The course's street scenes (chapter `multilabel`): which of a car, a bus and a pedestrian a
# small grey image shows. Each object is a fixed pixel sprite drawn with a random brightness at a
# random place in its own band of rows (pedestrians on the pavement at the top, buses in the
# middle lane, cars in the lower lane) and at any column; any subset may be present, and Gaussian
# noise covers the whole image. The scene is 16 x 16 pixels; the bands are given for that size.
STREET_LABELS = ("car", "bus", "pedestrian")
STREET_SPRITES = {
    "car": np.array([[0, 1, 1, 1, 0],
                     [1, 1, 1, 1, 1],
                     [0, 1, 0, 1, 0]], dtype=float),
    "bus": np.array([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                     [1, 0, 1, 0, 1, 0, 1, 0, 1, 1],
                     [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                     [0, 1, 1, 0, 0, 0, 0, 1, 1, 0]], dtype=float),
    "pedestrian": np.array([[0, 1, 0],
                            [1, 1, 1],
                            [0, 1, 0],
                            [0, 1, 0],
                            [1, 0, 1],
                            [1, 0, 1]], dtype=float),
}
# The rows where each sprite's top row may fall (inclusive), for 16 x 16 scenes.
STREET_ROWS = {"car": (12, 13), "bus": (7, 8), "pedestrian": (0, 2)}


def street_scenes(n: int, seed: int = 0, rates: tuple[float, ...] = (0.5, 0.5, 0.5),
                  noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """n scenes of 16 x 16 pixels: (X, Y), X float32 (n, 256), Y int (n, 3).

    Y[i, j] is 1 when scene i shows object j of STREET_LABELS, drawn independently with
    probability rates[j]. Deterministic given the arguments.
    """
    rng, size = np.random.default_rng(seed), 16
    Y = (rng.random((n, len(STREET_LABELS))) < np.asarray(rates)).astype(int)
    images = rng.normal(0.0, noise, size=(n, size, size))
    for i in range(n):
        for j, name in enumerate(STREET_LABELS):
            if Y[i, j]:
                sprite = STREET_SPRITES[name] * rng.uniform(0.6, 1.0)
                h, w = sprite.shape
                low, high = STREET_ROWS[name]
                r, c = rng.integers(low, high + 1), rng.integers(0, size - w + 1)
                images[i, r:r + h, c:c + w] = np.maximum(images[i, r:r + h, c:c + w], sprite)
    return images.reshape(n, -1).astype("float32"), Y


def street_scenes_split(n_train: int = 2000, n_test: int = 500, seed: int = 0, **options: Any,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, Y_train, Y_test): independent scenes for training and held out."""
    X_train, Y_train = street_scenes(n_train, seed=seed, **options)
    X_test, Y_test = street_scenes(n_test, seed=seed + 10_000, **options)
    return X_train, X_test, Y_train, Y_test


EKG_SECONDS = 2.0            # each trace: 2 s of signal ...
EKG_RATE = 50.0              # ... sampled 50 times a second: 100 samples


def make_ekg(n: int, n_samples: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n synthetic EKG traces of n_samples samples (50 per second) and their labels.

    Half the traces (label 0) are normal beats; the other half (label 1) have a widened QRS
    complex, as in a bundle-branch block (the ventricles take longer to depolarise). Each beat
    is a sum of Gaussian bumps: the P wave, the QRS complex (a small Q dip, the tall R spike, an
    S dip) and the T wave. Every trace draws its own heart rate (55-100 beats per minute, with
    beat-to-beat jitter), its phase, the height and timing of each wave, a baseline wander and
    white noise, so that the class is told by the width of the QRS complex alone. Returns
    (X, y): X of shape (n, n_samples) float32, y of shape (n,) int (0 or 1), from one seed.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / EKG_RATE
    y = rng.permutation(np.arange(n) % 2)
    X = np.empty((n, n_samples))
    for i, label in enumerate(y):
        period = 60.0 / rng.uniform(55.0, 100.0)
        beats = rng.uniform(0.0, period) - period + period * np.arange(
            int(t[-1] / period) + 3)
        beats = beats + rng.normal(0.0, 0.03 * period, size=beats.size)
        qrs_width = rng.uniform(0.026, 0.040) if label else rng.uniform(0.010, 0.016)
        trace = np.zeros(n_samples)
        for beat in beats:
            waves = [  # (centre, height, width), times in seconds
                (beat - rng.uniform(0.14, 0.20), rng.uniform(0.10, 0.20), 0.025),    # P
                (beat - 1.8 * qrs_width, -rng.uniform(0.05, 0.15), 0.6 * qrs_width),  # Q
                (beat, rng.uniform(0.8, 1.3), qrs_width),                            # R
                (beat + 1.8 * qrs_width, -rng.uniform(0.1, 0.3), 0.8 * qrs_width),   # S
                (beat + rng.uniform(0.25, 0.35), rng.uniform(0.2, 0.4), 0.05),       # T
            ]
            for centre, height, width in waves:
                trace += height * np.exp(-0.5 * ((t - centre) / width) ** 2)
        wander = rng.uniform(0.0, 0.15) * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t
                                                 + rng.uniform(0, 2 * np.pi))
        X[i] = rng.uniform(0.8, 1.2) * trace + wander + rng.normal(0.0, 0.05, size=n_samples)
    return X.astype("float32"), y


def load_ekg_split(n_train: int = 800, n_test: int = 400, n_samples: int = 100, seed: int = 0,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The course's EKG data: (X_train, X_test, y_train, y_test), X of shape (m, n_samples, 1)
    (one channel: the input a Conv1D layer takes), y of 0/1; training and held-out traces come
    from different seeds."""
    X_train, y_train = make_ekg(n_train, n_samples, seed=seed)
    X_test, y_test = make_ekg(n_test, n_samples, seed=seed + 1000)
    return X_train[..., None], X_test[..., None], y_train, y_test
