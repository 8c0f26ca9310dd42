"""Grade a cohort: `python -m autograder grade CHAPTER` on every core, or on any Dask cluster.

`nbgrader autograde` grades one submission after another. This command grades the same
submissions with the same pipeline -- nbgrader's own `Autograde` converter, configured by the
course's `nbgrader_config.py` (sandboxed kernel, trusted verdict, checked submissions) -- on the
workers of a Dask cluster: a `LocalCluster` with one worker process per core by default, or an
existing scheduler (`--scheduler tcp://HOST:8786`: SLURM or PBS through dask-jobqueue, Kubernetes,
plain `dask scheduler` / `dask worker` machines).

How one submission travels:

1. Here (the machine that runs the command, the only one that touches the gradebook and the
   course folders): the submission is checked without following anything
   (`submissions.submission_problems`; a refused one gets its zero here, as `nbgrader autograde`
   gives it), read into memory, and fingerprinted with the assignment's definition.
2. On a worker: a scratch course is made from that data -- the course's config, a SQLite
   gradebook holding only the assignment's definition (its cells, points and checksums, no
   student's grades), the assignment's non-notebook files and the submission -- and nbgrader's
   `Autograde` runs there. The worker sends back the autograded files. Nothing is shared but data.
3. Here: the grades are read from the autograded notebooks as nbgrader's `SaveAutoGrades` and
   `AssignLatePenalties` read them, and written to the real gradebook in one transaction; then
   the autograded folder replaces the old one in one rename, with a marker holding the
   fingerprint. A run that stops at any point leaves each submission either graded or not;
   started again, it grades only submissions without a marker or whose fingerprint changed
   (`--force` regrades all).

A worker runs the sandbox self-test (`python -m autograder doctor`) when it joins and offers the
`autograder-sandbox` resource only if every promise holds (or the grading machine opted out);
submissions go only to workers offering it (a worker a LocalCluster restarts runs it again).
A worker that dies mid-run loses nothing (`autograder.grading.attempts`): its submissions are graded again
elsewhere, each result is written once, and a submission whose grading killed its worker twice is
not graded a third time but reported as failed.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.course import load_config
from autograder.safe_text import printable

RESOURCE = "autograder-sandbox"
MARKER = ".autograder-graded.json"       # in autograded/<student>/<chapter>/; nbgrader ignores .*
LOGS = Path("logs") / "grade"             # <course>/logs/grade/<chapter>/<student>.log
DEFAULT_MAX_MB = 100
SELF_TEST_TIMEOUT = 300
EXIT_ALL_GRADED, EXIT_NOT_ALL_GRADED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# ----------------------------------------------------------------------------------------------
# The assignment, as data a worker can grade with.

@dataclass
class Bundle:
    """Everything a worker needs besides the submission: no student's data, no solution."""

    chapter: str
    course_id: str
    config_text: str
    seed_db: bytes                   # SQLite gradebook with the assignment's definition only
    source_files: dict               # non-notebook files of source/<chapter>/ (relative -> bytes)
    definition: str                  # hash of the above: a change regrades every submission


def copy_definition(db_url, seed_url, chapter):
    """Copy the assignment's definition (notebooks, cells, points, checksums) to another
    gradebook. Raises nbgrader's MissingEntry when the assignment was never generated."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as src, Gradebook(seed_url) as dst:
        assignment = src.find_assignment(chapter)
        dst.update_or_create_assignment(chapter, duedate=assignment.duedate)
        for nb in assignment.notebooks:
            dst.update_or_create_notebook(nb.name, chapter, kernelspec=nb.kernelspec)
            for cell in nb.grade_cells:
                dst.update_or_create_grade_cell(cell.name, nb.name, chapter,
                                                max_score=cell.max_score,
                                                cell_type=cell.cell_type)
            for cell in nb.solution_cells:
                dst.update_or_create_solution_cell(cell.name, nb.name, chapter)
            for cell in nb.task_cells:
                dst.update_or_create_task_cell(cell.name, nb.name, chapter,
                                               max_score=cell.max_score,
                                               cell_type=cell.cell_type)
            for cell in nb.source_cells:
                dst.update_or_create_source_cell(cell.name, nb.name, chapter,
                                                 cell_type=cell.cell_type, locked=cell.locked,
                                                 source=cell.source, checksum=cell.checksum)


def make_bundle(root, config, chapter):
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import find_all_files

    coursedir = CourseDirectory(config=config)
    with tempfile.TemporaryDirectory(prefix="autograder-seed-") as tmp:
        seed = Path(tmp) / "gradebook.db"
        copy_definition(coursedir.db_url, f"sqlite:///{seed}", chapter)
        seed_db = seed.read_bytes()
    source = Path(coursedir.format_path(coursedir.source_directory, ".", chapter))
    source_files = {}
    for path in sorted(find_all_files(str(source), coursedir.ignore + ["*.ipynb"])):
        source_files[os.path.relpath(path, source)] = Path(path).read_bytes()
    config_text = (Path(root) / "nbgrader_config.py").read_text()
    digest = hashlib.sha256()
    for part in (chapter, config_text, _definition_rows(coursedir.db_url, chapter),
                 *sorted(source_files), *(source_files[k] for k in sorted(source_files))):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return Bundle(chapter, coursedir.course_id, config_text, seed_db, source_files,
                  digest.hexdigest())


def _definition_rows(db_url, chapter):
    """The assignment's definition as text (the seed file's bytes vary from run to run)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        assignment = gb.find_assignment(chapter)
        rows = [str(assignment.duedate)]
        for nb in sorted(assignment.notebooks, key=lambda n: n.name):
            rows.append(f"notebook {nb.name}")
            rows += sorted(f"grade {c.name} {c.max_score} {c.cell_type}" for c in nb.grade_cells)
            rows += sorted(f"source {c.name} {c.checksum} {c.locked}" for c in nb.source_cells)
            rows += sorted(f"task {c.name} {c.max_score}" for c in nb.task_cells)
        return "\n".join(rows)


# ----------------------------------------------------------------------------------------------
# One submission, read here without following anything.

class TooLarge(Exception):
    """A submission bigger than the limit on what is sent to a worker."""


def read_submission(folder, max_bytes):
    """The regular files under `folder` as {relative path: bytes}. The folder was checked by
    `submission_problems` first; each file is opened without following a link and must still be
    a regular file once open."""
    files, total = {}, 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise OSError(f"{name} is no longer a regular file")
                total += info.st_size
                if total > max_bytes:
                    raise TooLarge(f"over {max_bytes >> 20} MB")
                files[os.path.relpath(path, folder)] = handle.read(max_bytes + 1)
    return files


def fingerprint(files, bundle):
    digest = hashlib.sha256(bundle.definition.encode())
    for name in sorted(files):
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------
# On a worker.

def grade_on_worker(bundle, student, files):
    """Run nbgrader's Autograde on one submission in a scratch course; return its result as data:
    {"ok", "files" (the autograded folder), "log", "error", "stages" (seconds per preprocessor),
    "seconds", "worker"}. Never raises for a student's notebook: nbgrader grades what it can."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"autograder-{os.getpid()}-cohort-") as tmp:
        root = Path(tmp)
        (root / "nbgrader_config.py").write_text(bundle.config_text)
        (root / "gradebook.db").write_bytes(bundle.seed_db)
        _write_tree(root / "source" / bundle.chapter, bundle.source_files)
        _write_tree(root / "submitted" / student / bundle.chapter, files)
        config = load_config(root)
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        config.CourseDirectory.assignment_id = bundle.chapter
        config.CourseDirectory.student_id = student
        stages = {}
        # nbgrader's messages at the level `nbgrader autograde` shows them, captured for the
        # submission's log only (not the worker's stderr).
        log = logging.getLogger(f"autograder.grading.cohort.worker.{os.getpid()}")
        log.setLevel(logging.INFO)
        log.propagate = False
        app = _timed_autograde_class()(coursedir=CourseDirectory(config=config), config=config,
                                       log=log)
        app.stage_seconds = stages
        app.force = True
        app.create_student = True
        with _known_nbgrader_warnings_quiet():
            result = capture_log(app)
        out = root / "autograded" / student / bundle.chapter
        graded = _read_tree(out) if out.is_dir() else {}
    return {"ok": bool(result.get("success")) and bool(graded), "files": graded,
            "log": result.get("log", ""), "error": result.get("error", ""), "stages": stages,
            "seconds": time.perf_counter() - start, "worker": _worker_name()}


@contextmanager
def _known_nbgrader_warnings_quiet():
    """nbgrader 0.9 makes SQLAlchemy warn on every submission it records, and nbformat warn of
    its cell ids: known, harmless, and hundreds of lines in a cohort's log."""
    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        yield


def _timed_autograde_class():
    """The course's Autograde with each preprocessor's seconds added up (for the benchmark)."""
    from autograder.grading.submissions import CheckedAutograde

    class TimedAutograde(CheckedAutograde):
        stage_seconds = None

        def _init_preprocessors(self):
            super()._init_preprocessors()
            self.exporter._preprocessors = [_Timed(p, self.stage_seconds)
                                            for p in self.exporter._preprocessors]

    return TimedAutograde


class _Timed:
    def __init__(self, preprocessor, seconds):
        self.preprocessor, self.seconds = preprocessor, seconds

    def __call__(self, nb, resources):
        start = time.perf_counter()
        try:
            return self.preprocessor(nb, resources)
        finally:
            name = type(self.preprocessor).__name__
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            verdict = getattr(self.preprocessor, "verdict_seconds", None)
            if name == "TrustedVerdict" and verdict is not None:
                self.seconds["verdict process"] = verdict


def _worker_name():
    with suppress(ImportError, ValueError):
        from distributed import get_worker
        return get_worker().address
    return f"pid {os.getpid()}"


def _write_tree(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder / _safe_relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read_tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _safe_relative(name):
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"unsafe file name in a submission: {name!r}")
    return path


def self_test():
    """(passed, report) of the sandbox self-test on this machine, as `make grade` runs it."""
    from autograder import sandbox

    try:
        proc = subprocess.run([sys.executable, "-m", "autograder", "doctor"],
                              capture_output=True, text=True, timeout=SELF_TEST_TIMEOUT,
                              cwd=Path(__file__).resolve().parents[3])
        passed, report = proc.returncode == 0, proc.stdout + proc.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        passed, report = False, f"the self-test could not run: {exc}"
    if not passed and sandbox.opted_out():
        return True, f"{report}\n(opted out: {sandbox.OPT_OUT_VARIABLE} is set)"
    return passed, report


class SandboxSelfTest(WorkerPlugin):
    """Dask worker plugin: a worker offers the grading resource only once its sandbox holds."""

    name = "autograder-sandbox-self-test"
    idempotent = True

    async def setup(self, worker):
        passed, report = await asyncio.to_thread(self_test)
        _SELF_TESTS[worker.address] = (passed, report)
        if passed:
            await worker.set_resources(**{RESOURCE: 1})


_SELF_TESTS = {}     # in a worker process: its address -> (passed, report)


def self_test_result(dask_worker=None):
    """Run on a worker by `Client.run`: its self-test result, or None while it runs."""
    return _SELF_TESTS.get(dask_worker.address) if dask_worker is not None else None


# ----------------------------------------------------------------------------------------------
# Here: writing what a worker sent back.

@dataclass
class Outcome:
    student: str
    status: str                    # graded | up-to-date | refused | failed
    detail: str = ""
    score: float | None = None
    max_score: float | None = None
    worker: str = ""
    stages: dict = field(default_factory=dict)
    seconds: float = 0.0


class GradebookWriter:
    """Writes a graded submission into the real gradebook and autograded/ folder."""

    def __init__(self, config, chapter, log):
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import AssignLatePenalties

        self.config, self.chapter, self.log = config, chapter, log
        self.coursedir = CourseDirectory(config=config)
        self.late = AssignLatePenalties(config=config)
        self.late.init_plugin()

    def clean_up(self, students):
        """Remove what a run stopped mid-write left: staging folders, never a graded one."""
        for student in students:
            parent = self.autograded(student).parent
            for pattern in (f".{self.chapter}.new-*", f".{self.chapter}.old-*"):
                for leftover in parent.glob(pattern):
                    shutil.rmtree(leftover, ignore_errors=True)

    def keep_log(self, student, result):
        """The worker's nbgrader log of one submission, kept as `nbgrader autograde` shows it."""
        folder = Path(self.coursedir.root) / LOGS / self.chapter
        folder.mkdir(parents=True, exist_ok=True)
        text = result.get("log", "") + (f"\n{result['error']}" if result.get("error") else "")
        how = "not graded again on" if result.get("killed") else "graded on"
        (folder / f"{student}.log").write_text(f"{how} {result.get('worker', '?')}\n{text}")

    def submitted(self, student):
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                               self.chapter))

    def autograded(self, student):
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student,
                                               self.chapter))

    def up_to_date(self, student, digest):
        marker = self.autograded(student) / MARKER
        with suppress(OSError, ValueError):
            return json.loads(marker.read_text()).get("fingerprint") == digest
        return False

    def refuse(self, student, reason):
        """A refused submission: zero points, no autograded copy (as `nbgrader autograde`)."""
        from autograder.grading.submissions import record_zero

        record_zero(self.coursedir.db_url, self.coursedir.course_id, self.chapter, student,
                    create_student=True, log=self.log)
        self._remove(self.autograded(student))

    def drop(self, student):
        """A submission that could not be graded: no autograded copy, so a rerun grades it."""
        self._remove(self.autograded(student))

    def write(self, student, digest, graded_files):
        """Grades first (one transaction), then the autograded folder (one rename)."""
        notebooks = {Path(name).stem: graded_files[name] for name in graded_files
                     if name.endswith(".ipynb") and "/" not in name}
        score, max_score = self._record(student, notebooks)
        dest = self.autograded(student)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.chapter}.new-", dir=dest.parent))
        _write_tree(staging, graded_files)
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

    def _record(self, student, notebooks):
        import nbformat
        from nbgrader import utils
        from nbgrader.api import Gradebook

        source = self.submitted(student)
        timestamp = self.coursedir.get_existing_timestamp(str(source))
        with _known_nbgrader_warnings_quiet(), \
                Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            gb.update_or_create_student(student)
            if timestamp:
                gb.update_or_create_submission(self.chapter, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(self.chapter, student)
        with _known_nbgrader_warnings_quiet(), \
                Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
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
            except BaseException:
                gb.db.rollback()
                raise
            return submission.score, submission.max_score

    def _save_cell(self, gb, utils, cell, notebook_id, student):
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

    def _late_penalty(self, submission, notebook, student):
        """What nbgrader's AssignLatePenalties does for one notebook, without committing."""
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = self.late.plugin_inst.late_submission_penalty(
                student, notebook.score, submission.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = self.late._check_late_penalty(notebook,
                                                                                 penalty)

    @staticmethod
    def _remove(path):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


# ----------------------------------------------------------------------------------------------
# Progress: a bar on a terminal, plain lines elsewhere.

class Progress:
    def __init__(self, total, stream=None, tty=None):
        self.total, self.stream = total, stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = self.refused = self.failed = self.before = 0
        self.start = time.monotonic()

    def restart_clock(self):
        """Rate and ETA from now on, over what is graded from now on."""
        self.start, self.before = time.monotonic(), self.done

    def update(self, outcome):
        self.done += 1
        self.refused += outcome.status == "refused"
        self.failed += outcome.status == "failed"
        elapsed = time.monotonic() - self.start
        worked = self.done - self.before
        rate = worked / elapsed if elapsed > 0 and worked else 0.0
        left = self.total - self.done
        eta = f"{left / rate:,.0f} s" if rate else "?"
        counts = f"refused {self.refused}, failed {self.failed}"
        if self.tty:
            width = 28
            filled = int(width * self.done / max(self.total, 1))
            line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                    f"{rate * 60:5.1f}/min  ETA {eta:>8s}  {counts}")
            self.stream.write(line + ("\n" if self.done == self.total else ""))
        else:
            what = outcome.status
            if outcome.score is not None:
                what += f" {outcome.score:g}/{outcome.max_score:g}"
            if outcome.worker:
                what += f" on {outcome.worker}"
            if outcome.detail and outcome.status in ("refused", "failed"):
                what += f": {outcome.detail}"
            self.stream.write(f"[{self.done}/{self.total}] {outcome.student}: {what} "
                              f"({rate * 60:.1f}/min, ETA {eta}, {counts})\n")
        self.stream.flush()


# ----------------------------------------------------------------------------------------------
# The command.

@dataclass
class Run:
    chapter: str
    outcomes: list = field(default_factory=list)
    seconds: float = 0.0
    workers: list = field(default_factory=list)

    @property
    def all_graded(self):
        return all(o.status in ("graded", "up-to-date") for o in self.outcomes)


def students_of(coursedir, chapter):
    """The students with a submitted/<student>/<chapter> entry (a link is listed, then refused)."""
    top = Path(coursedir.root) / coursedir.submitted_directory
    if not top.is_dir():
        return []
    return sorted(entry.name for entry in os.scandir(top)
                  if os.path.lexists(os.path.join(entry.path, chapter)))


def grade(chapter, cluster, root=".", force=False, max_mb=DEFAULT_MAX_MB, students=None,
          stream=None, tty=None, log=None):
    """Grade every submission of `chapter` on `cluster` (a Cluster); returns a Run. Raises
    GradingError for a setup problem (no assignment in the gradebook, no worker whose sandbox
    holds)."""
    from nbgrader.api import MissingEntry
    from nbgrader.coursedir import CourseDirectory

    from autograder.grading.submissions import refusal, submission_problems

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
    run = Run(chapter)
    progress = Progress(len(names), stream, tty)
    start = time.monotonic()

    jobs = []
    top = Path(coursedir.root) / coursedir.submitted_directory
    for student in names:
        folder = writer.submitted(student)
        problems = submission_problems(folder, top=top)
        if problems:
            writer.refuse(student, problems)
            _finish(run, progress, Outcome(student, "refused", refusal(problems)))
            continue
        try:
            files = read_submission(folder, max_mb << 20)
        except TooLarge as exc:
            writer.drop(student)
            _finish(run, progress, Outcome(student, "failed", f"submission {exc}; "
                                           f"--max-submission-mb raises the limit"))
            continue
        except OSError as exc:
            writer.drop(student)
            _finish(run, progress, Outcome(student, "failed", f"cannot be read: {exc}"))
            continue
        digest = fingerprint(files, bundle)
        if not force and writer.up_to_date(student, digest):
            _finish(run, progress, Outcome(student, "up-to-date"))
            continue
        jobs.append((student, digest, files))

    if jobs:
        stream.write(f"{chapter}: {len(jobs)} to grade, {len(names) - len(jobs)} already "
                     f"graded or refused\n")
        client = cluster.client(stream)
        run.workers = cluster.workers
        progress.restart_clock()       # the rate and ETA count grading, not the cluster's start
        _grade_jobs(client, bundle, jobs, writer, run, progress)
    run.seconds = time.monotonic() - start
    return run


class GradingError(Exception):
    """Grading cannot start: the message says why and what to do."""


def _finish(run, progress, outcome):
    run.outcomes.append(outcome)
    progress.update(outcome)


class Cluster:
    """The Dask cluster grading runs on, started (or connected to) when first needed: a
    LocalCluster of `workers` processes, or the cluster at `scheduler`."""

    def __init__(self, workers=None, scheduler=None):
        self.n_workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self.workers = []
        self._local = self._client = self._config = None

    def client(self, stream=sys.stderr):
        if self._client is None:
            import dask
            from distributed import Client, LocalCluster

            from autograder.grading.attempts import local_cluster_config

            if self.scheduler:
                stream.write(f"Connecting to the Dask scheduler at {self.scheduler}\n")
                self._client = Client(self.scheduler, timeout="60s")
            else:
                stream.write(f"Starting {self.n_workers} local worker process(es); each runs "
                             f"the sandbox self-test first\n")
                self._config = dask.config.set(local_cluster_config(SELF_TEST_TIMEOUT))
                self._local = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR, host="127.0.0.1")
                self._client = Client(self._local)
            self._client.register_plugin(SandboxSelfTest())
            self.workers = _wait_for_sandboxed_workers(self._client, stream)
        return self._client

    def close(self):
        if self._client is not None:
            self._client.close()
        if self._local is not None:
            self._local.close()
        if self._config is not None:
            self._config.__exit__(None, None, None)
        self._client = self._local = self._config = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _wait_for_sandboxed_workers(client, stream, timeout=SELF_TEST_TIMEOUT):
    """Workers whose self-test passed; tells which refused work. Waits for at least one."""
    deadline = time.monotonic() + timeout
    told = set()
    while True:
        results = client.run(self_test_result)
        for address, result in sorted(results.items()):
            if result is not None and not result[0] and address not in told:
                told.add(address)
                tail = "\n    ".join(result[1].strip().splitlines()[-6:])
                stream.write(f"worker {address} refuses work: the sandbox self-test failed "
                             f"there:\n    {tail}\n")
        passed = sorted(a for a, r in results.items() if r is not None and r[0])
        pending = [a for a, r in results.items() if r is None]
        if passed and not pending:
            return passed
        if passed and time.monotonic() > deadline:
            return passed
        if time.monotonic() > deadline or (results and not pending and not passed):
            raise GradingError("no worker passed the sandbox self-test (`python -m autograder "
                               "doctor` on a worker says why): nothing was graded")
        time.sleep(0.5)


def _grade_jobs(client, bundle, jobs, writer, run, progress):
    from autograder.grading.attempts import grade_all

    for student, digest, result in grade_all(client, bundle, jobs, grade_on_worker,
                                             resources={RESOURCE: 1}):
        if isinstance(result, Exception):     # grading raised, or the cluster kept dying
            writer.drop(student)
            _finish(run, progress, Outcome(student, "failed",
                                           f"{type(result).__name__}: {result}"))
            continue
        writer.keep_log(student, result)
        if not result["ok"]:
            writer.drop(student)
            _finish(run, progress, Outcome(student, "failed", _why(result),
                                           worker=result["worker"], stages=result["stages"],
                                           seconds=result["seconds"]))
            continue
        try:
            score, max_score = writer.write(student, digest, result["files"])
        except Exception as exc:
            writer.drop(student)
            _finish(run, progress, Outcome(student, "failed", f"its grades could not be "
                                           f"written: {type(exc).__name__}: {exc}"))
            continue
        _finish(run, progress, Outcome(student, "graded", score=score, max_score=max_score,
                                       worker=result["worker"], stages=result["stages"],
                                       seconds=result["seconds"]))


def _why(result):
    lines = [line for line in (result["log"] or "").splitlines() if line.startswith("[ERROR]")]
    text = lines[-1][len("[ERROR] "):] if lines else (result["error"] or "").strip()
    # The error may quote the notebook: escaped, it cannot forge the command's own lines.
    return printable((text.splitlines() or ["nbgrader wrote no autograded notebook"])[-1], 300)


def summary(run):
    """The failure summary printed at the end."""
    graded = sum(o.status == "graded" for o in run.outcomes)
    fresh = sum(o.status == "up-to-date" for o in run.outcomes)
    bad = [o for o in run.outcomes if o.status in ("refused", "failed")]
    lines = [f"{run.chapter}: {graded} graded, {fresh} already up to date, "
             f"{sum(o.status == 'refused' for o in bad)} refused, "
             f"{sum(o.status == 'failed' for o in bad)} failed, in {run.seconds:.0f} s"]
    for outcome in bad:
        lines.append(f"  {outcome.status.upper():8s} {outcome.student}: {outcome.detail}")
    if any(o.status == "failed" for o in bad):
        lines.append("  Failed submissions have no grade yet: run the command again to retry "
                     "them (graded ones are kept).")
    if graded or any(o.status == "failed" for o in bad):
        lines.append(f"  nbgrader's log of each submission: {LOGS / run.chapter}/<student>.log")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade every submitted/<student>/CHAPTER with nbgrader's autograde pipeline "
                    "and the course's config, on every core or on a Dask cluster.")
    parser.add_argument("chapters", nargs="+", metavar="CHAPTER")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per core)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="use an existing Dask cluster, e.g. tcp://HOST:8786")
    parser.add_argument("--force", action="store_true", help="regrade every submission")
    parser.add_argument("--student", action="append", default=None,
                        help="grade only this student (repeatable)")
    parser.add_argument("--max-submission-mb", type=int, default=DEFAULT_MAX_MB,
                        help=f"largest submission sent to a worker (default {DEFAULT_MAX_MB})")
    parser.add_argument("--root", default=".", help="the course folder (default: here)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers and args.scheduler:
        parser.error("--workers starts local workers; with --scheduler the cluster has its own")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)     # a batch system's stop: close the cluster too
    status = EXIT_ALL_GRADED
    try:
        with Cluster(args.workers, args.scheduler) as cluster:
            for chapter in args.chapters:
                try:
                    run = grade(chapter, cluster, root=args.root, force=args.force,
                                max_mb=args.max_submission_mb, students=args.student)
                except GradingError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return EXIT_USAGE
                print(summary(run), flush=True)
                if not run.all_graded:
                    status = EXIT_NOT_ALL_GRADED
    except KeyboardInterrupt:
        print("\ninterrupted: every submission graded so far is kept; run the same command "
              "again to grade the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


def _interrupt(signum, frame):
    raise KeyboardInterrupt
