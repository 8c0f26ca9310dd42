"""Shared test helpers: run a check on a piece of student code, as grading does."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def run_check(exercise_id, code, seed=None):
    """The Verdict of the named exercise's check on `code` (a string of student code)."""
    from autograder.checks import all_checks
    from autograder.checks.base import run_checks

    check = all_checks()[exercise_id]
    verdicts, _ = run_checks([check], [code], seed=seed)
    return verdicts[exercise_id]


@pytest.fixture
def check_code():
    return run_check
