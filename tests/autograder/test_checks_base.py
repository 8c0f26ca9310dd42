"""autograder.checks.base: the check API every chapter's checks are written with."""

import numpy as np
import pytest

import solutions.activations
from autograder.checks.base import Case, Check, Failure, Mismatch, expect_tuple
from autograder.sandbox.runner import Outcome, Reason


@pytest.mark.parametrize("actual, names, of, message", [
    (np.zeros(2), ("W", "b"), "", "expected a pair (W, b), got ndarray: [0., 0.]"),
    ((1.0,), ("dj_dw", "dj_db"), "", "expected a pair (dj_dw, dj_db), got tuple: (1)"),
    ([1, 2, 3], ("activation", "loss"), "of strings",
     "expected a pair (activation, loss) of strings, got list: [1, 2, 3]"),
    (None, ("w", "b", "J_history"), "", "expected a triple (w, b, J_history), got NoneType: None"),
    ({"w": 1}, ("w", "path"), "", "expected a pair (w, path), got dict: {'w': 1}"),
])
def test_expect_tuple_names_the_parts_it_expected(actual, names, of, message):
    """What a function returning several values is told when it returns something else."""
    with pytest.raises(Mismatch) as raised:
        expect_tuple(actual, names, of)
    assert str(raised.value) == message


@pytest.mark.parametrize("actual", [(1, 2), [1, 2]])
def test_expect_tuple_gives_back_the_values_as_a_tuple(actual):
    assert expect_tuple(actual, ("W", "b")) == (1, 2)


class Dense(Check):
    reference = solutions.activations.dense

    def cases(self, rng):
        return [Case("one", (np.ones(1), np.ones((1, 1)), np.ones(1), None))]


def test_the_signature_is_the_references_without_its_type_hints():
    """Students read the signature in their feedback and on the catalog page: their notebooks'
    functions carry no type hints, so the reference's are left out."""
    assert Dense().signature == "dense(a_in, W, b, g)"


def test_a_check_turns_outcomes_into_a_verdict():
    check = Dense()
    cases, calls = check.make_calls(np.random.default_rng(0))
    missing = Outcome(reason=Reason.MISSING, error="")
    verdict = check.verdict_on(cases, calls, {calls[0].key: missing}, seed=7)
    assert not verdict.accepted and verdict.reasons == {Reason.MISSING}
    failure = check.failure_of(cases[0], missing)
    assert isinstance(failure, Failure) and "`dense` is not defined" in failure.message
