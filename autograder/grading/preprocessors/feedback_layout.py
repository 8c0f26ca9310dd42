"""`FeedbackLayout`: the feedback page says first what a student needs, the verdict of each
exercise, then their code, then the test code; the shared test helpers go last."""

import html
import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from traitlets import Bool, Int

from autograder.grading.preprocessors.inert_outputs import course_cell, one_line
from autograder.grading.verdict_record import METADATA_KEY, BadRecord, VerdictRecord

LAYOUT_KEY = "course_feedback"     # marks the cells this step adds (and is removed from all others)
HELPERS_HEADING = (
    "## Shared test helpers\n\n"
    "The code below ran before your first exercise: it imports NumPy and defines `TestFailure`, "
    "`expect_close` and the other helpers that the visible test cells above call. It is the "
    "same for every student; your grade comes from the verdicts above.")


class FeedbackLayout(Preprocessor):
    """Reorder a graded notebook for its feedback page (GenerateFeedback only, after GetGrades).

    - A summary first, before the notebook's introduction: the score, and one line per exercise
      with its points and verdict, each linked to that exercise's verdict.
    - Before each exercise's answer cell: a verdict block with the points, accepted or not, the
      first failing cases by label (the test cell's verdict record, METADATA_KEY) and the
      verdict's text (the test cell's stream output, which TrustedVerdict wrote). Then the
      student's code and the test cell follow, as in the notebook.
    - The locked code cells before the first exercise (the setup: imports, `TestFailure`,
      `expect_close`) move to the end, under a heading that says what they are.

    What this step adds is Markdown cells holding one HTML block that it builds itself: every
    text in it (labels, output, exercise names) is escaped, `$` included, and the block carries
    MathJax's ignore class, so nothing a student wrote or printed becomes markup or math there.
    """

    enabled = Bool(True, help="Whether feedback pages show verdicts first.").tag(config=True)
    failing_cases_listed = Int(3, help="Failing cases named in a verdict block.").tag(config=True)
    verdict_lines = Int(60, help="Lines of the verdict's text in a verdict block at most.",
                        ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        for cell in nb.cells:
            cell.metadata.pop(LAYOUT_KEY, None)      # only this step's cells carry the mark
        cells = list(nb.cells)
        first_answer = next((i for i, cell in enumerate(cells) if is_answer(cell)), None)
        if first_answer is None:
            return nb, resources
        helpers = [cell for cell in cells[:first_answer] if is_helper(cell)]
        body = [cell for cell in cells if not any(cell is h for h in helpers)]

        verdicts: dict[int, list[NotebookNode]] = {}
        rows: list[dict[str, Any]] = []
        answer = None
        for cell in body:
            if is_answer(cell):
                answer = cell
            elif is_test(cell) and answer is not None:
                block = self.verdict(cell, answer)
                verdicts.setdefault(id(answer), []).append(block)
                rows.append(block.metadata[LAYOUT_KEY])
        laid_out = []
        for cell in body:
            laid_out.extend(verdicts.get(id(cell), []))
            laid_out.append(cell)
        laid_out.insert(0, summary(rows, resources.get("nbgrader", {})))
        if helpers:
            heading = new_markdown_cell(HELPERS_HEADING)
            heading.metadata[LAYOUT_KEY] = {"kind": "helpers"}
            laid_out.extend([heading, *helpers])
        nb.cells = laid_out
        return nb, resources

    def verdict(self, test: NotebookNode, answer: NotebookNode) -> NotebookNode:
        """The verdict block of one test cell, placed before the answer cell it tests."""
        grade = test.metadata.nbgrader
        name = answer.metadata.nbgrader.get("grade_id") or grade.get("grade_id", "")
        score, points = number(grade.get("score")), number(grade.get("points"))
        try:
            record: VerdictRecord | None = VerdictRecord.from_json(test.metadata.get(METADATA_KEY))
        except BadRecord:
            record = None
        accepted = record.accepted if record else (score is not None and score == points)
        label = "accepted" if accepted else "not accepted"
        kind = "accepted" if accepted else "rejected"
        parts = [f'<div class="course-verdict tex2jax_ignore {kind}"'
                 f' id="{anchor(grade.get("grade_id", ""))}">',
                 f"<h3>Verdict: <code>{text(name)}</code>: {text(label)}, "
                 f"{text(fmt(score))} / {text(fmt(points))} point{'' if points == 1 else 's'}</h3>"]
        if record and not record.accepted and record.failed_cases:
            shown = record.failed_cases[:self.failing_cases_listed]
            parts.append(f"<p>{record.failures} of {record.cases} cases failed; the first "
                         f"{'one' if len(shown) == 1 else len(shown)}:</p><ul>")
            parts += [f"<li>{text(case.label)} ({text(str(case.reason))})</li>" for case in shown]
            parts.append("</ul>")
        elif record and record.accepted:
            parts.append(f"<p>All {record.cases} cases passed.</p>")
        said = verdict_text(test, self.verdict_lines)
        if said:
            parts.append(f"<p>What the grader said:</p><pre>{text(said)}</pre>")
        parts.append("<p><em>Below: your code, then the test cell that checked it.</em></p></div>")
        cell = new_markdown_cell(one_line("".join(parts)))
        cell.metadata[LAYOUT_KEY] = {"kind": "verdict", "exercise": name, "score": score,
                                     "points": points, "accepted": accepted,
                                     "anchor": anchor(grade.get("grade_id", ""))}
        return cell


def is_answer(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("solution") is True and course_id(meta)


def is_test(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and meta.get("grade") is True and not meta.get("solution")
            and course_id(meta))


def is_helper(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and course_cell(cell) and not meta.get("grade")
            and not meta.get("solution"))


def course_id(meta: Any) -> bool:
    return isinstance(meta, dict) and isinstance(meta.get("grade_id"), str) \
        and bool(meta["grade_id"])


def verdict_text(test: NotebookNode, max_lines: int) -> str:
    """The test cell's stream output (what TrustedVerdict printed), at most max_lines lines."""
    said = "".join(output.get("text", "") for output in test.get("outputs", [])
                   if output.get("output_type") == "stream" and isinstance(output.get("text"), str))
    lines = said.rstrip("\n").split("\n")
    if len(lines) > max_lines:
        more = len(lines) - max_lines
        lines = [*lines[:max_lines], f"... ({more} more lines under the test code)"]
    return "\n".join(lines).strip("\n")


def summary(rows: list[dict[str, Any]], grades: dict[str, Any]) -> NotebookNode:
    """The block at the top: the notebook's score and a line per exercise."""
    score, total = number(grades.get("score")), number(grades.get("max_score"))
    parts = ['<div class="course-summary tex2jax_ignore">',
             f"<h2>Your score: {text(fmt(score))} / {text(fmt(total))}</h2>"]
    late = number(grades.get("late_penalty"))
    if late:
        parts.append(f"<p>Late submission penalty: -{text(fmt(late))}</p>")
    parts.append("<ol>")
    for row in rows:
        verdict = "accepted" if row["accepted"] else "not accepted"
        parts.append(f'<li><a href="#{row["anchor"]}"><code>{text(row["exercise"])}</code></a>: '
                     f"{text(fmt(row['score']))} / {text(fmt(row['points']))}, {verdict}</li>")
    parts.append("</ol><p>Each exercise below shows its verdict first, then your code, then the "
                 "test cell. The shared test helpers are at the end.</p></div>")
    cell = new_markdown_cell(one_line("".join(parts)))
    cell.metadata[LAYOUT_KEY] = {"kind": "summary"}
    return cell


def text(value: str) -> str:
    """Escaped for HTML, and `$` too, so neither Markdown's math nor MathJax reads it."""
    return html.escape(value).replace("$", "&#36;").replace("\\", "&#92;")


def anchor(grade_id: str) -> str:
    return "verdict-" + re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:80]


def number(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if value == int(value) else f"{value:.2f}"
