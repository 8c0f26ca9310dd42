"""The data sets the checks train on: bundled with scikit-learn or generated, never downloaded."""

import numpy as np


def load_digits_split(classes=None, test_size=0.25, seed=0):
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
