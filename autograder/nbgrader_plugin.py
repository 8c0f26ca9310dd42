"""nbgrader preprocessors: the trusted verdict for `autograde`, hidden tests kept out of feedback.

`TrustedVerdict` runs after nbgrader's `Execute` and before `SaveAutoGrades`. It ignores whatever
the student's kernel printed in the test cells, re-runs the student's code in a fresh process
(see `autograder.runner`), judges the returned data here with the chapter's checks, and writes
the verdict into each test cell's outputs: feedback text, plus an error output when rejected.
`SaveAutoGrades` then scores those outputs as usual, so the gradebook, feedback and export all
carry the trusted verdict.
"""

import json
import logging
import threading

from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from autograder.checks import CHAPTERS, chapter_checks
from autograder.framework import run_checks
from autograder.sandbox import SandboxedKernelManager
from autograder.sources import is_test_cell, notebook_code_cells

TEST_PREFIX = "test_"


class TrustedVerdict(NbGraderPreprocessor):
    """Replace each test cell's kernel outputs with the verdict of the course's own check."""

    load_timeout = Float(120.0, help="Seconds the student's code may take to load, before any "
                                     "call (TensorFlow alone takes a few).").tag(config=True)
    strict = Bool(True, help="Give zero to a test cell of a course chapter that has no trusted "
                             "check, instead of keeping the kernel's verdict.").tag(config=True)
    log_prefix = Unicode("[trusted verdict]").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        student = resources["nbgrader"].get("student", "?")
        if assignment not in CHAPTERS:
            self.log.warning("%s %s is not a course chapter: kernel verdicts kept", self.log_prefix,
                             assignment)
            return nb, resources
        checks = {check.name: check for check in chapter_checks(assignment)}
        test_cells = [cell for cell in nb.cells if cell.cell_type == "code" and is_test_cell(cell)]
        wanted = []
        for cell in test_cells:
            name = cell.metadata.nbgrader.get("grade_id", "")[len(TEST_PREFIX):]
            if name in checks and checks[name] not in wanted:
                wanted.append(checks[name])
        verdicts, report = run_checks(wanted, notebook_code_cells(nb),
                                      load_timeout=self.load_timeout)
        for cell in test_cells:
            grade_id = cell.metadata.nbgrader.get("grade_id", "")
            check = checks.get(grade_id[len(TEST_PREFIX):])
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
            self.log.info("%s %s/%s: %s %s (%d cases, seed %d)", self.log_prefix, student,
                          assignment, check.exercise_id,
                          "accepted" if verdict.accepted else "rejected", verdict.cases_run,
                          verdict.seed)
            for note in verdict.notes:
                self.log.warning("%s %s/%s: %s", self.log_prefix, student, assignment, note)
        for line in report.log:
            self.log.warning("%s %s/%s: %s", self.log_prefix, student, assignment, line)
        return nb, resources


class ScrubNbgraderMetadata(NbGraderPreprocessor):
    """Keep only the nbgrader metadata the course put there, once per cell id.

    A student can edit cell metadata. nbgrader restores what it finds by grade id, but a
    duplicated cell, an unknown id or a malformed entry makes it fail for that student, and a
    metadata entry without a schema version aborts the whole grading run. Here such entries are
    removed before nbgrader looks (the cell becomes an ordinary cell), and with
    `OverwriteCells.add_missing_cells` nbgrader puts back any course cell that went missing.
    """

    def preprocess(self, nb, resources):
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        who = f"{resources['nbgrader'].get('student', '?')}/{assignment_id}/{notebook_id}"
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            try:
                known = {cell.name for cell in gb.find_notebook(notebook_id, assignment_id).source_cells}
            except MissingEntry:
                return nb, resources
        seen = set()
        for index, cell in enumerate(nb.cells):
            if "nbgrader" not in cell.get("metadata", {}):
                continue
            meta = cell.metadata.nbgrader
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            reason = ("malformed" if not isinstance(meta, dict) or meta.get("schema_version") != 3
                      else "unknown cell id" if grade_id not in known
                      else "duplicate of an earlier cell" if grade_id in seen else None)
            if reason:
                del cell.metadata["nbgrader"]
                self.log.warning("[metadata] %s: cell %d (%s): nbgrader metadata removed: %s",
                                 who, index + 1, grade_id, reason)
            else:
                seen.add(grade_id)
        return nb, resources


class SandboxedExecute(Execute):
    """nbgrader's Execute with the student's kernel in the sandbox and whole-notebook limits.

    Whatever happens in the kernel (it dies, it floods its output, it runs out of time), the
    notebook comes out of here with the outputs it had, so TrustedVerdict still grades it.
    """

    notebook_timeout = Integer(900, help="Seconds the whole notebook may run in its kernel "
                                         "(each cell also has Execute.timeout).").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output a notebook may produce in all; the rest "
                                               "is dropped.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources, km=None):
        self._output_bytes, self._flood_noted, self._stopped = 0, False, ""
        who = "/".join(str(resources.get("nbgrader", {}).get(k, "?"))
                       for k in ("student", "assignment", "notebook"))
        timer = threading.Timer(self.notebook_timeout, self._time_is_up)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as exc:  # noqa: BLE001 - a dead or stopped kernel ends execution only
            reason = self._stopped or self._death_reason(exc)
            self.log.warning("[sandbox] %s: %s; the notebook is graded with the outputs it had",
                             who, reason)
            return self.nb if getattr(self, "nb", None) is not None else nb, resources
        finally:
            timer.cancel()
            if self._flood_noted:
                self.log.warning("[sandbox] %s: output limit: more than %d bytes of output; the "
                                 "rest was dropped", who, self.max_output_bytes)

    def _time_is_up(self):
        self._stopped = f"time limit: the notebook ran longer than {self.notebook_timeout} s in " \
                        f"its kernel, which was stopped"
        km = getattr(self, "km", None)
        if km is not None and getattr(km, "provisioner", None) is not None:
            try:
                km.provisioner.process.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _death_reason(self, exc):
        km = getattr(self, "km", None)
        if km is not None and getattr(km, "memory_limit_hit", lambda: False)():
            return "memory limit: the kernel was killed for using too much memory"
        if type(exc).__name__ == "CellTimeoutError":
            return f"time limit: a cell ran longer than {self.timeout} s and the kernel did not " \
                   f"recover"
        return f"the kernel stopped ({type(exc).__name__}: {str(exc)[:200]})"

    def output(self, outs, msg, display_id, cell_index):
        self._output_bytes += len(json.dumps(msg.get("content", {}), default=str))
        if self._output_bytes > self.max_output_bytes:
            if not self._flood_noted:
                self._flood_noted = True
                outs.append(new_output("stream", name="stdout", text=(
                    f"\n[output limit: more than {self.max_output_bytes} bytes of output; the "
                    f"rest was dropped]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


logging.getLogger(__name__).addHandler(logging.NullHandler())
