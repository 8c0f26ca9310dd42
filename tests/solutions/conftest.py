"""Fixtures of the reference-package tests."""

import os

import pytest


@pytest.fixture(scope="module")
def tf():
    """TensorFlow, imported only by the tests that compare against it (it costs seconds)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow

    return tensorflow
