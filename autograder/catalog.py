"""The course's exercises as one table (chapter, id, signature, points), for `list` and the book."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.checks import CHAPTERS, chapter_checks
from autograder.sources import exercise_name, is_test_cell

if TYPE_CHECKING:
    from autograder.checks.base import Check

SOURCE = Path(__file__).resolve().parents[1] / "source"


def exercise_points(chapter: str) -> dict[str, int]:
    """{function name: points} from the test cells of the chapter's nbgrader source notebook."""
    nb = json.loads((SOURCE / chapter / "exercises.ipynb").read_text(encoding="utf-8"))
    points = {}
    for cell in nb["cells"]:
        if is_test_cell(cell):
            meta = cell["metadata"]["nbgrader"]
            points[exercise_name(meta["grade_id"])] = meta.get("points", 0)
    return points


def exercises() -> list[tuple[str, "Check", int | None]]:
    """[(chapter, check, points)] in course order."""
    rows = []
    for chapter in CHAPTERS:
        points = exercise_points(chapter)
        rows += [(chapter, check, points.get(check.name)) for check in chapter_checks(chapter)]
    return rows


def markdown() -> str:
    """The book's "All exercises" page."""
    lines = ["# All exercises", "",
             "Every graded function of the course, in course order. The id names the exercise in",
             "the grader's feedback and on the command line "
             "(`python -m autograder check ID FILE`);",
             "each chapter's exercises are worth 10 points.", "",
             "| chapter | id | signature | points |", "|---|---|---|---|"]
    for chapter, check, points in exercises():
        lines.append(f"| {{doc}}`{chapter} <{chapter}/exercises>` | `{check.exercise_id}` | "
                     f"`{check.signature}` | {points} |")
    return "\n".join(lines) + "\n"
