"""TrustedVerdict on notebooks built in memory: the test cells' outputs are the course's verdict.

As nbgrader tests its own preprocessors: no kernel, no nbgrader command, only `preprocess` on a
notebook. The student's code still runs in a child process, as in grading (NumPy only: fast).
"""

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.utils import determine_grade

from autograder.grading.preprocessors.trusted_verdict import TrustedVerdict

# The stability chapter's exercises, with their points, and a correct solution of each.
POINTS = {"log_sum_exp": 3, "log_softmax": 2, "softmax_cross_entropy_with_logits": 3,
          "binary_cross_entropy_with_logits": 2}
CORRECT = {
    "log_sum_exp": """
def log_sum_exp(z):
    z = np.asarray(z, dtype=float)
    c = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(c, axis=-1) + np.log(np.sum(np.exp(z - c), axis=-1))
""",
    "log_softmax": """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
""",
    "softmax_cross_entropy_with_logits": """
def softmax_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    log_a = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(np.mean(-log_a[np.arange(len(z)), np.asarray(y)]))
""",
    "binary_cross_entropy_with_logits": """
def binary_cross_entropy_with_logits(logits, y):
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
""",
}
NAIVE_LOG_SOFTMAX = """
def log_softmax(z):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
"""


def nbgrader_cell(source, grade_id, solution=False, points=None):
    """A code cell with the nbgrader metadata of the course's source notebooks."""
    meta = {"grade_id": grade_id, "solution": solution, "grade": points is not None,
            "locked": not solution, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return new_code_cell(source, metadata={"nbgrader": meta})


def exercises(answers, extra_tests=()):
    """The chapter's notebook with `answers` ({function: code}) in its solution cells."""
    cells = [new_markdown_cell("# Numerical stability"),
             nbgrader_cell("import numpy as np\n", "setup")]
    for name, points in POINTS.items():
        cells.append(nbgrader_cell(answers[name], name, solution=True))
        cells.append(nbgrader_cell(f"expect_close({name}([1.0, 2.0]), 0.0)\n", f"test_{name}",
                                   points=points))
    cells.extend(nbgrader_cell("pass\n", grade_id, points=1) for grade_id in extra_tests)
    return new_notebook(cells=cells)


def graded_cells(nb):
    """{grade_id: cell} of the notebook's graded (test) cells."""
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def graded(nb, assignment="stability"):
    """The test cells of nb after TrustedVerdict, as autograde runs it on student x's notebook."""
    resources = {"nbgrader": {"assignment": assignment, "notebook": "exercises", "student": "x"}}
    nb, _ = TrustedVerdict().preprocess(nb, resources)
    return graded_cells(nb)


def errors(cell):
    return [output.ename for output in cell.outputs if output.output_type == "error"]


def text(cell):
    return "".join(output.get("text", "") for output in cell.outputs)


def test_correct_code_is_accepted_in_every_test_cell_with_full_points():
    """Accepted means feedback only, no error output: nbgrader then gives the cell its points."""
    cells = graded(exercises(CORRECT))
    assert sorted(cells) == sorted(f"test_{name}" for name in POINTS)
    for grade_id, cell in cells.items():
        assert errors(cell) == [], text(cell)
        assert "accepted" in text(cell), grade_id
        assert determine_grade(cell) == (POINTS[grade_id.removeprefix("test_")],) * 2


def test_wrong_code_is_rejected_in_its_own_test_cell_only():
    """One wrong function costs only its exercise's points; the feedback names the case."""
    cells = graded(exercises(dict(CORRECT, log_softmax=NAIVE_LOG_SOFTMAX)))
    assert errors(cells["test_log_softmax"]) == ["Rejected"]
    assert "rejected" in text(cells["test_log_softmax"])
    assert "large logits [1000, 1001, 1002]" in text(cells["test_log_softmax"])
    assert determine_grade(cells["test_log_softmax"]) == (0, 2)
    for name in POINTS.keys() - {"log_softmax"}:
        assert errors(cells[f"test_{name}"]) == [], text(cells[f"test_{name}"])


def test_a_test_cell_without_a_course_check_gets_zero():
    """A test cell the course has no check for (an edited grade id) must not keep the kernel's
    verdict, which the student's code controls."""
    cells = graded(exercises(CORRECT, extra_tests=["test_log_sum_exp_again"]))
    assert errors(cells["test_log_sum_exp_again"]) == ["NoTrustedCheck"]
    assert determine_grade(cells["test_log_sum_exp_again"]) == (0, 1)
    assert errors(cells["test_log_sum_exp"]) == []


def test_an_assignment_that_is_not_a_course_chapter_keeps_the_kernel_outputs():
    """Other assignments of the same nbgrader course are graded by nbgrader as usual."""
    nb = exercises(CORRECT)
    kernel_said = new_output("error", ename="AssertionError", evalue="", traceback=[])
    for cell in graded_cells(nb).values():
        cell.outputs = [kernel_said]
    cells = graded(nb, assignment="homework_1")
    assert all(cell.outputs == [kernel_said] for cell in cells.values())


@pytest.mark.parametrize("answers, kernel_said, verdict", [
    (dict(CORRECT, log_softmax=NAIVE_LOG_SOFTMAX),
     new_output("stream", name="stdout", text="passed\n"), ["Rejected"]),
    (CORRECT, new_output("error", ename="AssertionError", evalue="not close", traceback=[]), []),
], ids=["a kernel that says passed, wrong code", "a kernel that failed, correct code"])
def test_whatever_the_kernel_printed_in_a_test_cell_is_replaced(answers, kernel_said, verdict):
    """The student's code runs in the kernel and can print anything there (a tampered kernel
    prints "passed"): the grade must come from the check alone."""
    nb = exercises(answers)
    graded_cells(nb)["test_log_softmax"].outputs = [kernel_said]
    cell = graded(nb)["test_log_softmax"]
    assert kernel_said not in cell.outputs
    assert errors(cell) == verdict, text(cell)


@pytest.mark.parametrize("wrong", [
    "def log_softmax(z):\n    return 10**400\n",
    "def log_softmax(z):\n    return {'a': [1, 2]}\n",
    "def log_softmax(z):\n    raise SystemExit(3)\n",
], ids=["an integer too large for a float", "a dict", "SystemExit"])
def test_an_answer_that_breaks_the_comparison_costs_only_its_exercise(wrong):
    """Whatever goes wrong while judging one exercise is that exercise's rejection with a reason:
    the notebook is still graded and the other exercises keep their points."""
    cells = graded(exercises(dict(CORRECT, log_softmax=wrong)))
    assert errors(cells["test_log_softmax"]) == ["Rejected"]
    assert "rejected" in text(cells["test_log_softmax"])
    for name in POINTS.keys() - {"log_softmax"}:
        assert errors(cells[f"test_{name}"]) == [], text(cells[f"test_{name}"])


def test_the_verdict_record_in_the_metadata_says_what_the_feedback_says():
    answers = dict(CORRECT, log_softmax=NAIVE_LOG_SOFTMAX)
    cells = graded(exercises(answers))
    accepted = cells["test_log_sum_exp"].metadata["autograder"]
    assert accepted["exercise"] == "stability.log_sum_exp" and accepted["accepted"]
    assert accepted["failures"] == 0 and accepted["failed_cases"] == []
    rejected = cells["test_log_softmax"].metadata["autograder"]
    assert not rejected["accepted"] and rejected["failures"] >= 1
    labels = [case["label"] for case in rejected["failed_cases"]]
    assert labels[0] in text(cells["test_log_softmax"])
    assert {case["reason"] for case in rejected["failed_cases"]} <= {"mismatch", "warning",
                                                                      "error"}


def started_then_graded(nb_started, nb_graded):
    """StartTrustedVerdict on one notebook, then TrustedVerdict on another (as if execution had
    changed it), sharing nbconvert's resources as autograde does."""
    from autograder.grading.preprocessors import StartTrustedVerdict

    resources = {"nbgrader": {"assignment": "stability", "notebook": "exercises",
                              "student": "x"}}
    StartTrustedVerdict().preprocess(nb_started, resources)
    assert "autograder_early_verdict" in resources
    nb, resources = TrustedVerdict().preprocess(nb_graded, resources)
    assert "autograder_early_verdict" not in resources
    return graded_cells(nb)


def test_a_verdict_started_before_the_kernel_is_the_verdict_of_the_same_code():
    cells = started_then_graded(exercises(CORRECT), exercises(CORRECT))
    for grade_id, cell in cells.items():
        assert errors(cell) == [] and "accepted" in text(cell), grade_id


def test_a_verdict_started_on_other_code_is_not_used():
    """Only outputs change in execution; were a code cell to differ, it is judged anew."""
    wrong = dict(CORRECT, log_softmax=NAIVE_LOG_SOFTMAX)
    cells = started_then_graded(exercises(wrong), exercises(CORRECT))
    assert errors(cells["test_log_softmax"]) == [], text(cells["test_log_softmax"])
    cells = started_then_graded(exercises(CORRECT), exercises(wrong))
    assert errors(cells["test_log_softmax"]) == ["Rejected"]
