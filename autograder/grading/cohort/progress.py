"""Here: what became of each submission, shown as it happens (a bar on a terminal, plain lines
elsewhere) and summed up at the end of each chapter."""

import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TextIO

from autograder.grading.gradebook import LOGS


class Status(StrEnum):
    """What became of one submission in a run."""

    GRADED = "graded"              # graded now: its grades and autograded folder are written
    UP_TO_DATE = "up-to-date"      # graded by an earlier run from the same files and assignment
    REFUSED = "refused"            # holds what must not be followed: zero points, not graded
    FAILED = "failed"              # could not be graded now: no grade, the next run tries again


@dataclass
class SubmissionResult:
    """One student's submission in one run: its status, and when graded its score and where."""

    student: str
    status: Status
    detail: str = ""
    score: float | None = None
    max_score: float | None = None
    worker: str = ""
    stages: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class ChapterGrading:
    """One chapter's run of the command: each submission's result, in the order they ended."""

    chapter: str
    results: list[SubmissionResult] = field(default_factory=list)
    seconds: float = 0.0
    workers: list[str] = field(default_factory=list)

    @property
    def all_graded(self) -> bool:
        return all(r.status in (Status.GRADED, Status.UP_TO_DATE) for r in self.results)

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None,
                 tty: bool | None = None) -> None:
        self.total, self.stream = total, stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = self.refused = self.failed = self.before = 0
        self.start = time.monotonic()

    def restart_clock(self) -> None:
        """Rate and ETA from now on, over what is graded from now on."""
        self.start, self.before = time.monotonic(), self.done

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.refused += result.status == Status.REFUSED
        self.failed += result.status == Status.FAILED
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
            what = result.status.value
            if result.score is not None and result.max_score is not None:
                what += f" {result.score:g}/{result.max_score:g}"
            if result.worker:
                what += f" on {result.worker}"
            if result.detail and result.status in (Status.REFUSED, Status.FAILED):
                what += f": {result.detail}"
            self.stream.write(f"[{self.done}/{self.total}] {result.student}: {what} "
                              f"({rate * 60:.1f}/min, ETA {eta}, {counts})\n")
        self.stream.flush()


def summary(grading: ChapterGrading) -> str:
    """The failure summary printed at the end."""
    graded, failed = grading.count(Status.GRADED), grading.count(Status.FAILED)
    bad = [r for r in grading.results if r.status in (Status.REFUSED, Status.FAILED)]
    lines = [f"{grading.chapter}: {graded} graded, {grading.count(Status.UP_TO_DATE)} already "
             f"up to date, {grading.count(Status.REFUSED)} refused, {failed} failed, "
             f"in {grading.seconds:.0f} s"]
    for result in bad:
        lines.append(f"  {result.status.value.upper():8s} {result.student}: {result.detail}")
    if failed:
        lines.append("  Failed submissions have no grade yet: run the command again to retry "
                     "them (graded ones are kept).")
    if graded or failed:
        lines.append(f"  nbgrader's log of each submission: {LOGS / grading.chapter}/"
                     f"<student>.log")
    return "\n".join(lines)
