"""Shared test helpers: run a check on a piece of student code, as grading does."""

import os
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# The sandbox's kept proof (autograder/sandbox/proof.py) of this test run, proven by the first
# test that grades: never the grader's own (~/.cache), which tests that stand in for the
# doctor's probes must not touch.
os.environ.setdefault("AUTOGRADER_PROOF_DIR", tempfile.mkdtemp(prefix="autograder-proof-"))


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
