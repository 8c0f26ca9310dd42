"""The checks, one module per chapter, named as in book/ and solutions/."""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.checks.base import Check

# Course order.
CHAPTERS = ["logistic_regression", "activations", "softmax", "stability", "multilabel", "adam",
            "convolution", "backprop"]


def all_checks() -> dict[str, "Check"]:
    """{exercise_id: Check} in course order."""
    return {check.exercise_id: check for chapter in CHAPTERS
            for check in importlib.import_module(f"autograder.checks.{chapter}").CHECKS}


def chapter_checks(chapter: str) -> list["Check"]:
    """The checks of one chapter, in the order of its exercises."""
    return [check for check in all_checks().values() if check.chapter == chapter]
