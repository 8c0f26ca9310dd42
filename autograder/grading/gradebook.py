"""Every write the grader makes to a course's grades: the one module to review for them.

What is written, and when:

- A refused submission (`record_zero`): zero points for each of its grades in the gradebook, a
  manual score or extra credit of an earlier grading cleared, nothing left for manual grading.
  Written by `nbgrader autograde` (through `submissions.CheckedAutograde`) and by cohort grading,
  as soon as the submission is refused; the submission itself is never opened.
- A graded submission of cohort grading (`GradebookWriter.write`), on the grading machine only,
  one submission at a time as results come back from the workers (workers write only to their
  scratch course, never here): first the student and the submission (with the timestamp of its
  submitted folder), then its grades in ONE transaction (each grade cell's score and each
  solution cell's comment as nbgrader's `SaveAutoGrades` sets them, the late penalty as
  `AssignLatePenalties` sets it); then its autograded/<student>/<chapter>/ folder, replaced in
  ONE rename by a staging folder holding the autograded files and the `MARKER` with the
  submission's fingerprint.
  A run that stops anywhere leaves the submission graded (marker and grades) or not graded
  (no marker: the next run grades it again, and the grades it writes then replace these).
- A submission that could not be graded (`GradebookWriter.drop`): its old autograded folder
  is removed, so that the next run grades it and no feedback is made from a stale copy.
- nbgrader's log of each submission a worker graded (or failed to), in
  `LOGS`/<chapter>/<student>.log.

Why a hostile submission cannot steer these writes:

- A refused submission (links, devices, hard links out of it: `submissions.submission_problems`)
  gets its zero without anything in it being read.
- The scores come from the verdict that nbgrader's pipeline wrote into the autograded notebook
  on the worker, where the student's code ran only inside the sandbox; they are read here with
  nbgrader's own rules (`utils.determine_grade`), cell by cell, against the gradebook's cells.
- The autograded files come back from a worker as data ({relative name: bytes}). Each name must
  stay inside its folder (`safe_relative`: no absolute path, no `..`), and they are written into
  a fresh staging folder made here, so no name or link of the student's can make a write land
  elsewhere; only then is the folder renamed into place.
- The log is written to a file named after the student's submitted folder, never shown on the
  terminal here (the command shows one escaped line of it).
"""

import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from logging import Logger
from pathlib import Path
from typing import Any

MARKER = ".autograder-graded.json"       # in autograded/<student>/<chapter>/; nbgrader ignores .*
LOGS = Path("logs") / "grade"             # <course>/logs/grade/<chapter>/<student>.log


@contextmanager
def nbgrader_warnings_quiet() -> Iterator[None]:
    """nbgrader 0.9 makes SQLAlchemy warn on every submission it records, and nbformat warn of
    its cell ids: known, harmless, and hundreds of lines in a cohort's log."""
    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        yield


def safe_relative(name: str) -> Path:
    """`name` (a file name from a worker) as a relative path that stays inside its folder."""
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"unsafe file name in a submission: {name!r}")
    return path


def write_tree(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write {relative name: bytes} under `folder`, each name checked by `safe_relative`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder / safe_relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def record_zero(db_url: str, course_id: str, assignment_id: str, student_id: str,
                create_student: bool, log: Logger, who: str) -> None:
    """Zero points for every grade of a refused submission, so `nbgrader export` shows a 0.

    Like nbgrader's own handling of a missing notebook: auto_score 0, nothing left for manual
    grading; a manual score or extra credit from an earlier grading of another version of this
    submission is cleared too. Used by `nbgrader autograde` and by cohort grading; `who` names
    the submission in the log (`submissions.who`).
    """
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(db_url, course_id) as gb:
            if create_student:
                gb.update_or_create_student(student_id)
            else:
                gb.find_student(student_id)
        with Gradebook(db_url, course_id) as gb:
            submission = gb.update_or_create_submission(assignment_id, student_id)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0.0
                    grade.manual_score = None
                    grade.extra_credit = None
                    grade.needs_manual_grade = False
            gb.db.commit()
    except MissingEntry as exc:
        log.warning("[submission] %s: no zero recorded: %s", who, exc)


class GradebookWriter:
    """Writes a graded submission into the real gradebook and autograded/ folder."""

    def __init__(self, config: Any, chapter: str, log: Logger) -> None:
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import AssignLatePenalties

        self.config, self.chapter, self.log = config, chapter, log
        self.coursedir = CourseDirectory(config=config)
        self.late = AssignLatePenalties(config=config)
        self.late.init_plugin()
        self._gb: Any = None

    def _gradebook(self) -> Any:
        """One connection for every submission this writer records: each new Gradebook is a
        new SQLAlchemy engine, whose statements are compiled again (a tenth of a second per
        submission, on the machine that also runs workers)."""
        if self._gb is None:
            from nbgrader.api import Gradebook

            with nbgrader_warnings_quiet():
                self._gb = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        return self._gb

    def close(self) -> None:
        if self._gb is not None:
            self._gb.close()
            self._gb = None

    def clean_up(self, students: Iterable[str]) -> None:
        """Remove what a run stopped mid-write left: staging folders, never a graded one."""
        for student in students:
            parent = self.autograded(student).parent
            for pattern in (f".{self.chapter}.new-*", f".{self.chapter}.old-*"):
                for leftover in parent.glob(pattern):
                    shutil.rmtree(leftover, ignore_errors=True)

    def keep_log(self, student: str, log: str, error: str, worker: str, killed: bool) -> None:
        """The worker's nbgrader log of one submission, kept as `nbgrader autograde` shows it."""
        folder = Path(self.coursedir.root) / LOGS / self.chapter
        folder.mkdir(parents=True, exist_ok=True)
        text = log + (f"\n{error}" if error else "")
        how = "not graded again on" if killed else "graded on"
        (folder / f"{student}.log").write_text(f"{how} {worker}\n{text}")

    def submitted(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                               self.chapter))

    def autograded(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student,
                                               self.chapter))

    def up_to_date(self, student: str, digest: str) -> bool:
        marker = self.autograded(student) / MARKER
        with suppress(OSError, ValueError):
            return json.loads(marker.read_text()).get("fingerprint") == digest
        return False

    def refuse(self, student: str, who: str) -> None:
        """A refused submission: zero points, no autograded copy (as `nbgrader autograde`)."""
        record_zero(self.coursedir.db_url, self.coursedir.course_id, self.chapter, student,
                    create_student=True, log=self.log, who=who)
        self._remove(self.autograded(student))

    def drop(self, student: str) -> None:
        """A submission that could not be graded: no autograded copy, so a rerun grades it."""
        self._remove(self.autograded(student))

    def write(self, student: str, digest: str,
              graded_files: Mapping[str, bytes]) -> tuple[float, float]:
        """Grades first (one transaction), then the autograded folder (one rename)."""
        notebooks = {Path(name).stem: graded_files[name] for name in graded_files
                     if name.endswith(".ipynb") and "/" not in name}
        score, max_score = self._record(student, notebooks)
        dest = self.autograded(student)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.chapter}.new-", dir=dest.parent))
        write_tree(staging, graded_files)
        (staging / MARKER).write_text(json.dumps({"fingerprint": digest, "graded_at":
                                                  time.strftime("%Y-%m-%d %H:%M:%S %Z")}))
        old = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.chapter}.old-", dir=dest.parent))
            os.rename(dest, old / "tree")
        os.rename(staging, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return score, max_score

    def _record(self, student: str, notebooks: Mapping[str, bytes]) -> tuple[float, float]:
        import nbformat
        from nbgrader import utils

        source = self.submitted(student)
        timestamp = self.coursedir.get_existing_timestamp(str(source))
        gb = self._gradebook()
        with nbgrader_warnings_quiet():
            try:
                gb.update_or_create_student(student)
                if timestamp:
                    gb.update_or_create_submission(self.chapter, student, timestamp=timestamp)
                else:
                    gb.update_or_create_submission(self.chapter, student)
            except BaseException:
                gb.db.rollback()
                raise
            try:
                submission = gb.find_submission(self.chapter, student)
                for notebook in submission.notebooks:
                    data = notebooks.get(notebook.name)
                    if data is None:          # not submitted: zero, as nbgrader gives it
                        for grade in notebook.grades:
                            grade.auto_score = 0
                            grade.needs_manual_grade = False
                        continue
                    with warnings.catch_warnings():    # nbgrader's copy lacks cell ids
                        warnings.simplefilter("ignore")
                        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
                    for cell in nb.cells:
                        self._save_cell(gb, utils, cell, notebook.name, student)
                gb.db.flush()
                for notebook in submission.notebooks:
                    gb.db.refresh(notebook)
                    self._late_penalty(submission, notebook, student)
                gb.db.commit()
                score, max_score = submission.score, submission.max_score
                # Ends the read those two began: between submissions this connection holds no
                # transaction, so nothing else writing the gradebook waits for it.
                gb.db.rollback()
            except BaseException:
                gb.db.rollback()
                raise
            return score, max_score

    def _save_cell(self, gb: Any, utils: Any, cell: Any, notebook_id: str,
                   student: str) -> None:
        """What nbgrader's SaveAutoGrades does for one cell, without committing."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if utils.is_grade(cell):
            grade = gb.find_grade(grade_id, notebook_id, self.chapter, student)
            grade.auto_score, _ = utils.determine_grade(cell, self.log)
            grade.needs_manual_grade = (grade.manual_score is not None
                                        or grade.auto_score is None)
        if utils.is_solution(cell) or utils.is_task(cell):
            comment = gb.find_comment(grade_id, notebook_id, self.chapter, student)
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            comment.auto_comment = ("No response." if unchanged and not utils.is_task(cell)
                                    else None)

    def _late_penalty(self, submission: Any, notebook: Any, student: str) -> None:
        """What nbgrader's AssignLatePenalties does for one notebook, without committing."""
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = self.late.plugin_inst.late_submission_penalty(
                student, notebook.score, submission.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = self.late._check_late_penalty(notebook,
                                                                                 penalty)

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
