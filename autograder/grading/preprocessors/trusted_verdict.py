"""`TrustedVerdict`: the grade of each test cell comes from the course's checks, not the kernel.

It runs after nbgrader's `Execute` and before `SaveAutoGrades`. It ignores whatever the student's
kernel printed in the test cells, re-runs the student's code in a fresh process (see
`autograder.sandbox.runner`), judges the returned data here with the chapter's checks, and writes
the verdict into each test cell's outputs: feedback text, plus an error output when rejected.
`SaveAutoGrades` then scores those outputs as usual, so the gradebook, feedback and export all
carry the trusted verdict.

`StartTrustedVerdict` (placed before the kernel runs) may have started the same judgement
already, on the same code cells: then this waits for it instead of starting another.

One deadline per notebook, `verdict_timeout`, covers the whole judgement: the student's process
and, after it, every Keras model's judge (checks.base.run_checks hands the time left to them), so
a notebook costs at most that, whatever its models cost to train.
"""

import time
from collections.abc import Sequence
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

from autograder.checks import CHAPTERS, chapter_checks
from autograder.checks.base import Check, Verdict, run_checks
from autograder.grading.verdict_record import METADATA_KEY, VerdictRecord
from autograder.safe_text import printable
from autograder.sandbox.runner import RunReport
from autograder.sources import exercise_name, is_test_cell, notebook_code_cells

EARLY_KEY = "autograder_early_verdict"   # in nbconvert's resources: (code cells, Future)
# What judging a notebook gives: each exercise's verdict by id, and the run's report.
Judgement = tuple[dict[str, Verdict], RunReport]


class TrustedVerdict(NbGraderPreprocessor):
    """Replace each test cell's kernel outputs with the verdict of the course's own check."""

    load_timeout = Float(120.0, help="Seconds the student's code may take to load, before any "
                                     "call (TensorFlow alone takes a few).").tag(config=True)
    verdict_timeout = Float(300.0, help="Seconds a notebook's verdict may take: its code's "
                                        "loading and calls, then the judging of every Keras "
                                        "model it returned. Nothing the student's process "
                                        "sends extends it; a judge that would start after it "
                                        "is not started.").tag(config=True)
    strict = Bool(True, help="Give zero to a test cell of a course chapter that has no trusted "
                             "check, instead of keeping the kernel's verdict.").tag(config=True)
    log_prefix = Unicode("[trusted verdict]").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        assignment = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        student = resources["nbgrader"].get("student", "?")
        if assignment not in CHAPTERS:
            self.log.warning("%s %s is not a course chapter: kernel verdicts kept", self.log_prefix,
                             assignment)
            return nb, resources
        checks, test_cells, wanted = plan(nb, assignment)
        verdicts, report = self._judgement(wanted, notebook_code_cells(nb), resources)
        for cell in test_cells:
            grade_id = cell.metadata.nbgrader.get("grade_id", "")
            check = checks.get(exercise_name(grade_id))
            if check is None:
                if self.strict:
                    cell.outputs = [_error("NoTrustedCheck", f"no course check for {grade_id}")]
                    self.log.warning("%s %s/%s/%s: cell %s has no check: zero", self.log_prefix,
                                     student, assignment, notebook, grade_id)
                continue
            verdict = verdicts[check.exercise_id]
            cell.outputs = [new_output("stream", name="stdout", text=verdict.feedback() + "\n")]
            if not verdict.accepted:
                cell.outputs.append(_error("Rejected", f"{check.exercise_id} did not pass the "
                                                       f"course's checks (details above)"))
            # The verdict as data, for the instructor's report (autograder/report/gather.py).
            cell.metadata[METADATA_KEY] = VerdictRecord.from_verdict(verdict).to_json()
            self.log.info("%s %s/%s: %s %s (%d cases, seed %d)", self.log_prefix, student,
                          assignment, check.exercise_id,
                          "accepted" if verdict.accepted else "rejected", verdict.cases_run,
                          verdict.seed)
            for note in verdict.notes:
                # Student text (an exception's message) reaches the log only escaped.
                self.log.warning("%s %s/%s: %s", self.log_prefix, student, assignment,
                                 printable(note, 500))
        for line in report.log:
            self.log.warning("%s %s/%s: %s", self.log_prefix, student, assignment,
                             printable(line, 500))
        return nb, resources


    verdict_seconds: float | None = None     # how long the verdict process took (for the benchmark)

    def _judgement(self, wanted: Sequence[Check], cells: list[str], resources: dict[str, Any],
                   ) -> Judgement:
        early = resources.pop(EARLY_KEY, None)
        if early is not None and early[0] == cells:    # execution changes outputs, not code
            (verdicts, report), self.verdict_seconds = early[1].result()
            return verdicts, report
        return self.verdicts_of(wanted, cells)

    def verdicts_of(self, wanted: Sequence[Check], cells: Sequence[str]) -> Judgement:
        """(verdicts, report) of `wanted` on the student's code `cells`, within verdict_timeout."""
        start = time.perf_counter()
        result = run_checks(wanted, cells, load_timeout=self.load_timeout,
                            total_timeout=self.verdict_timeout)
        self.verdict_seconds = time.perf_counter() - start
        return result


def plan(nb: NotebookNode, assignment: str,
         ) -> tuple[dict[str, Check], list[NotebookNode], list[Check]]:
    """The chapter's checks by function name, the notebook's test cells, and the checks they
    ask for (in cell order, each once)."""
    checks = {check.name: check for check in chapter_checks(assignment)}
    test_cells = [cell for cell in nb.cells if cell.cell_type == "code" and is_test_cell(cell)]
    wanted = []
    for cell in test_cells:
        name = exercise_name(cell.metadata.nbgrader.get("grade_id", ""))
        if name in checks and checks[name] not in wanted:
            wanted.append(checks[name])
    return checks, test_cells, wanted


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
