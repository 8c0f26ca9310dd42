"""Here: grade one chapter's submissions on a cluster, from the submitted folders to the gradebook.

Each submission is checked and read here (`bundle`), graded on a worker (`worker`, through
`attempts.grade_all`, which survives workers dying), and its result written here by the one
writer of the course's grades (`autograder.grading.gradebook`).
"""

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from autograder.course import load_config
from autograder.grading.cohort.bundle import (
    DEFAULT_MAX_MB,
    Bundle,
    TooLarge,
    fingerprint,
    make_bundle,
    read_submission,
    students_of,
)
from autograder.grading.cohort.cluster import Cluster, GradingError
from autograder.grading.cohort.progress import ChapterGrading, Progress, Status, SubmissionResult
from autograder.grading.cohort.worker import RESOURCE, WorkerResult, grade_on_worker
from autograder.grading.gradebook import GradebookWriter
from autograder.safe_text import printable


def grade(chapter: str, cluster: Cluster, root: str | os.PathLike[str] = ".",
          force: bool = False, max_mb: int = DEFAULT_MAX_MB, students: list[str] | None = None,
          stream: TextIO | None = None, tty: bool | None = None,
          log: logging.Logger | None = None) -> ChapterGrading:
    """Grade every submission of `chapter` on `cluster`. Raises GradingError for a setup
    problem (no assignment in the gradebook, no worker whose sandbox holds)."""
    from nbgrader.api import MissingEntry
    from nbgrader.coursedir import CourseDirectory

    from autograder.grading.submissions import refusal, submission_problems, who

    stream = stream or sys.stderr
    log = log or logging.getLogger("autograder.grading.cohort")
    root = Path(root).resolve()
    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    try:
        bundle = make_bundle(root, config, chapter)
    except MissingEntry:
        raise GradingError(f"{chapter!r} is not in the gradebook {coursedir.db_url}: run "
                           f"`nbgrader generate_assignment {chapter}` first") from None
    writer = GradebookWriter(config, chapter, log)
    names = students_of(coursedir, chapter) if students is None else list(students)
    writer.clean_up(names)
    grading = ChapterGrading(chapter)
    progress = Progress(len(names), stream, tty)
    start = time.monotonic()

    jobs = []
    top = Path(coursedir.root) / coursedir.submitted_directory
    for student in names:
        folder = writer.submitted(student)
        problems = submission_problems(folder, top=top)
        if problems:
            writer.refuse(student, who(student, chapter))
            _finish(grading, progress,
                    SubmissionResult(student, Status.REFUSED, refusal(problems)))
            continue
        try:
            files = read_submission(folder, max_mb << 20)
        except TooLarge as exc:
            _failed(writer, grading, progress, student,
                    f"submission {exc}; --max-submission-mb raises the limit")
            continue
        except OSError as exc:
            _failed(writer, grading, progress, student, f"cannot be read: {exc}")
            continue
        digest = fingerprint(files, bundle)
        if not force and writer.up_to_date(student, digest):
            _finish(grading, progress, SubmissionResult(student, Status.UP_TO_DATE))
            continue
        jobs.append((student, digest, files))

    try:
        if jobs:
            stream.write(f"{chapter}: {len(jobs)} to grade, {len(names) - len(jobs)} already "
                         f"graded or refused\n")
            client = cluster.client(stream)
            grading.workers = cluster.workers
            progress.restart_clock()   # the rate and ETA count grading, not the cluster's start
            _grade_jobs(client, bundle, jobs, writer, grading, progress)
    finally:
        writer.close()
    grading.seconds = time.monotonic() - start
    return grading


def _finish(grading: ChapterGrading, progress: Progress, result: SubmissionResult) -> None:
    grading.results.append(result)
    progress.update(result)


def _failed(writer: GradebookWriter, grading: ChapterGrading, progress: Progress, student: str,
            why: str, **details: Any) -> None:
    """A submission that could not be graded: its autograded copy goes (so the next run grades
    it again) and the reason is reported."""
    writer.drop(student)
    _finish(grading, progress, SubmissionResult(student, Status.FAILED, why, **details))


def _grade_jobs(client: Any, bundle: Bundle, jobs: list[tuple[str, str, dict[str, bytes]]],
                writer: GradebookWriter, grading: ChapterGrading, progress: Progress) -> None:
    from autograder.grading.cohort.attempts import grade_all

    for student, digest, sent in grade_all(client, bundle, jobs, grade_on_worker,
                                           resources={RESOURCE: 1}):
        result = _received(sent)
        if isinstance(result, Exception):     # grading raised, or the cluster kept dying
            _failed(writer, grading, progress, student, f"{type(result).__name__}: {result}")
            continue
        writer.keep_log(student, result.log, result.error, result.worker, bool(result.killed))
        if not result.ok:
            _failed(writer, grading, progress, student, _why(result), worker=result.worker,
                    stages=result.stages, seconds=result.seconds)
            continue
        try:
            score, max_score = writer.write(student, digest, result.files)
        except Exception as exc:
            _failed(writer, grading, progress, student,
                    f"its grades could not be written: {type(exc).__name__}: {exc}")
            continue
        _finish(grading, progress, SubmissionResult(
            student, Status.GRADED, score=score, max_score=max_score, worker=result.worker,
            stages=result.stages, seconds=result.seconds))


def _received(sent: dict[str, Any] | Exception) -> WorkerResult | Exception:
    """What a worker sent back, checked; the exception when its grading raised."""
    if isinstance(sent, Exception):
        return sent
    try:
        return WorkerResult.from_json(sent)
    except ValueError as exc:
        return exc


def _why(result: WorkerResult) -> str:
    """One line on why nbgrader did not grade a submission."""
    lines = [line for line in (result.log or "").splitlines() if line.startswith("[ERROR]")]
    text = lines[-1][len("[ERROR] "):] if lines else (result.error or "").strip()
    # The error may quote the notebook: escaped, it cannot forge the command's own lines.
    return printable((text.splitlines() or ["nbgrader wrote no autograded notebook"])[-1], 300)
