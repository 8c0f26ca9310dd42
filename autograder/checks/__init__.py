"""The checks, one module per chapter, named as in book/ and solutions/."""

import importlib

# Course order.
CHAPTERS = ["logistic_regression", "activations", "softmax", "stability", "multilabel", "adam",
            "convolution", "backprop"]


def all_checks():
    """{exercise_id: Check} in course order."""
    return {check.exercise_id: check for chapter in CHAPTERS
            for check in importlib.import_module(f"autograder.checks.{chapter}").CHECKS}


def chapter_checks(chapter):
    """The checks of one chapter, in the order of its exercises."""
    return [check for check in all_checks().values() if check.chapter == chapter]
