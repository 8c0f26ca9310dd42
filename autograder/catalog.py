"""The course's exercises as one table (chapter, id, signature, points), for `list` and the book."""

import json
from pathlib import Path

from autograder.checks import CHAPTERS, chapter_checks

SOURCE = Path(__file__).resolve().parents[1] / "source"
TEST_PREFIX = "test_"


def exercise_points(chapter):
    """{function name: points} from the test cells of the chapter's nbgrader source notebook."""
    nb = json.loads((SOURCE / chapter / "exercises.ipynb").read_text(encoding="utf-8"))
    points = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            points[meta["grade_id"][len(TEST_PREFIX):]] = meta.get("points", 0)
    return points


def exercises():
    """[(chapter, check, points)] in course order."""
    rows = []
    for chapter in CHAPTERS:
        points = exercise_points(chapter)
        rows += [(chapter, check, points.get(check.name)) for check in chapter_checks(chapter)]
    return rows


def markdown():
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
