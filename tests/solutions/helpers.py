"""Helpers the reference-package tests share: strict floating point, read-only inputs."""

import warnings

import numpy as np


def strict(f, *args):
    """f(*args) with every warning an error and every floating-point event raising, underflow
    included."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            return f(*args)


def frozen(a, dtype=None):
    """A read-only copy of a: any attempt to modify it in place raises ValueError."""
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a
