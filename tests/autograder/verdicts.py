"""The accept/reject test pair every chapter's check tests share."""

import pytest


def accept_and_reject(cases, header, marks=()):
    """Tests that each check accepts its correct variants and rejects its wrong ones.

    cases: [(exercise_id, {name: correct code}, {name: wrong code}), ...]; header is prepended
    to every piece of code; marks (such as pytest.mark.slow, for checks that train a Keras model)
    go on both tests. Returns (test_accepts_correct, test_rejects_wrong) for a test module to
    bind at top level, under any names starting with test_.
    """
    accept = [(ex, name, code) for ex, correct, _ in cases for name, code in correct.items()]
    reject = [(ex, name, code) for ex, _, wrong in cases for name, code in wrong.items()]

    @pytest.mark.parametrize("exercise_id, name, code", accept,
                             ids=[f"{ex.split('.')[1]}: {name}" for ex, name, _ in accept])
    def test_accepts_correct(check_code, exercise_id, name, code):
        verdict = check_code(exercise_id, header + code)
        assert verdict.accepted, verdict.feedback()

    @pytest.mark.parametrize("exercise_id, name, code", reject,
                             ids=[f"{ex.split('.')[1]}: {name}" for ex, name, _ in reject])
    def test_rejects_wrong(check_code, exercise_id, name, code):
        verdict = check_code(exercise_id, header + code)
        assert not verdict.accepted, name

    tests = (test_accepts_correct, test_rejects_wrong)
    for mark in marks:
        tests = tuple(mark(test) for test in tests)
    return tests
