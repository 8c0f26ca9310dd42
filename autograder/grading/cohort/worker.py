"""On a Dask worker: grade one submission in a scratch course, and the sandbox self-test that a
worker passes before it is given any submission.

Nothing here touches the course's folders or gradebook: a worker gets the assignment's bundle
and the submission as data, and sends back a `WorkerResult` as plain data.
"""

import asyncio
import importlib
import logging
import os
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.course import load_config
from autograder.grading.cohort.bundle import Bundle
from autograder.grading.gradebook import nbgrader_warnings_quiet, write_tree

RESOURCE = "autograder-sandbox"       # what a worker offers once its sandbox holds
SELF_TEST_TIMEOUT = 300


@dataclass
class WorkerResult:
    """What a worker sends back for one submission. It crosses the Dask boundary as plain data
    (`to_json`: JSON's types, except the files' contents, which stay bytes for Dask to carry as
    they are) and is checked when it arrives (`from_json`)."""

    ok: bool                                  # nbgrader succeeded and wrote an autograded folder
    files: dict[str, bytes]                   # the autograded folder (relative name -> bytes)
    log: str = ""                             # nbgrader's messages about this submission
    error: str = ""
    stages: dict[str, float] = field(default_factory=dict)   # seconds per preprocessor
    seconds: float = 0.0
    worker: str = ""
    killed: list[str] = field(default_factory=list)   # workers its gradings killed (then not ok)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": dict(self.files), "log": self.log, "error": self.error,
                "stages": dict(self.stages), "seconds": self.seconds, "worker": self.worker,
                "killed": list(self.killed)}

    @classmethod
    def from_json(cls, data: Any) -> "WorkerResult":
        """Raises ValueError when `data` is not what `to_json` makes."""
        if not isinstance(data, dict):
            raise ValueError(f"a worker's result is a dict, not {type(data).__name__}")
        try:
            result = cls(ok=data["ok"], files=data["files"], log=data["log"],
                         error=data["error"], stages=data["stages"],
                         seconds=data["seconds"], worker=data["worker"], killed=data["killed"])
        except KeyError as exc:
            raise ValueError(f"a worker's result lacks {exc}") from None
        if not (isinstance(result.ok, bool) and isinstance(result.log, str)
                and isinstance(result.error, str) and isinstance(result.worker, str)
                and isinstance(result.seconds, (int, float))
                and isinstance(result.files, dict)
                and all(isinstance(k, str) and isinstance(v, bytes)
                        for k, v in result.files.items())
                and isinstance(result.stages, dict)
                and all(isinstance(v, (int, float)) for v in result.stages.values())
                and isinstance(result.killed, list)):
            raise ValueError("a worker's result has a field of the wrong type")
        return result


def grade_on_worker(bundle: Bundle, student: str, files: dict[str, bytes]) -> dict[str, Any]:
    """Run nbgrader's Autograde on one submission in a scratch course; return its
    `WorkerResult.to_json()`. Never raises for a student's notebook: nbgrader grades what it
    can."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"autograder-{os.getpid()}-cohort-") as tmp:
        root = Path(tmp)
        (root / "nbgrader_config.py").write_text(bundle.config_text)
        (root / "gradebook.db").write_bytes(bundle.seed_db)
        write_tree(root / "source" / bundle.chapter, bundle.source_files)
        write_tree(root / "submitted" / student / bundle.chapter, files)
        config = load_config(root)
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        config.CourseDirectory.assignment_id = bundle.chapter
        config.CourseDirectory.student_id = student
        stages: dict[str, float] = {}
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
        with nbgrader_warnings_quiet():
            result = capture_log(app)
        out = root / "autograded" / student / bundle.chapter
        graded = _read_tree(out) if out.is_dir() else {}
    return WorkerResult(ok=bool(result.get("success")) and bool(graded), files=graded,
                        log=result.get("log", ""), error=result.get("error", ""),
                        stages=stages, seconds=time.perf_counter() - start,
                        worker=worker_name()).to_json()


def _timed_autograde_class() -> type:
    """The course's Autograde with each preprocessor's seconds added up (for the benchmark)."""
    from autograder.grading.submissions import CheckedAutograde

    class TimedAutograde(CheckedAutograde):
        stage_seconds: dict[str, float]        # set on each instance before it grades

        def _init_preprocessors(self) -> None:
            super()._init_preprocessors()
            self.exporter._preprocessors = [_Timed(p, self.stage_seconds)
                                            for p in self.exporter._preprocessors]

    return TimedAutograde


class _Timed:
    def __init__(self, preprocessor: Any, seconds: dict[str, float]) -> None:
        self.preprocessor, self.seconds = preprocessor, seconds

    def __call__(self, nb: Any, resources: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.preprocessor(nb, resources)
        finally:
            name = type(self.preprocessor).__name__
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            verdict = getattr(self.preprocessor, "verdict_seconds", None)
            if name == "TrustedVerdict" and verdict is not None:
                self.seconds["verdict process"] = verdict


def worker_name() -> str:
    """This Dask worker's address (a process id outside a worker)."""
    with suppress(ImportError, ValueError):
        from distributed import get_worker
        return str(get_worker().address)
    return f"pid {os.getpid()}"


def _read_tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


# ----------------------------------------------------------------------------------------------
# The sandbox self-test, run by each worker when it joins.

def self_test() -> tuple[bool, str]:
    """(passed, report) of the sandbox self-test on this worker: the host's proof (kept from an
    earlier doctor's run when nothing it depends on changed, else proven now, once per host:
    autograder.sandbox.proof), then an empty sandbox started exactly as grading starts one."""
    from autograder.sandbox import proof, spawn

    try:
        passed, report = proof.ensure(SELF_TEST_TIMEOUT)
        if passed:
            problem = proof.sandbox_starts()
            passed, report = not problem, problem or report
    except Exception as exc:       # a worker that cannot tell refuses work, and says why
        passed, report = False, f"the sandbox self-test failed: {type(exc).__name__}: {exc}"
    if not passed and spawn.opted_out():
        return True, f"{report}\n(opted out: {spawn.OPT_OUT_VARIABLE} is set)"
    return passed, report


# What grading a submission imports. A worker imports it before its first submission
# (warm_up); a local worker's forkserver has imported it already (cluster._preload_forkserver).
GRADING_MODULES = ["nbgrader.apps.autogradeapp", "autograder.grading.preprocessors",
                   "autograder.grading.submissions", "autograder.checks"]


def warm_up() -> None:
    """Import what grading a submission imports, so that the worker's first submission does
    not pay for it (the worker does this while the grading machine reads the submissions)."""
    from autograder.checks import all_checks

    for module in GRADING_MODULES:
        importlib.import_module(module)
    all_checks()


class SandboxSelfTest(WorkerPlugin):
    """Dask worker plugin: a worker offers the grading resource only once its sandbox holds."""

    name = "autograder-sandbox-self-test"
    idempotent = True

    async def setup(self, worker: Any) -> None:
        passed, report = await asyncio.to_thread(self_test)
        if passed:
            await asyncio.to_thread(warm_up)
        _SELF_TESTS[worker.address] = (passed, report)
        if passed:
            await worker.set_resources(**{RESOURCE: 1})


_SELF_TESTS: dict[str, tuple[bool, str]] = {}     # in a worker process: address -> (passed, report)


def self_test_result(dask_worker: Any = None) -> tuple[bool, str] | None:
    """Run on a worker by `Client.run`: its self-test result, or None while it runs."""
    return _SELF_TESTS.get(dask_worker.address) if dask_worker is not None else None
