"""Run a student's code in a separate process and collect what each call returned, as plain data.

Everything the student's process sends is hostile input: the result channel is a pipe the
student's code can find and write itself. So the parent accepts only the protocol's messages in
the protocol's order (each call starts once, in order), bounds every message and the whole run in
bytes, and keeps one deadline per run that no message can extend.
"""

import contextlib
import enum
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import channel
from autograder.channel import End, NamedCallable, Reader
from autograder.sandbox import bwrap, process
from autograder.sandbox.cgroups import ResourceGroup
from autograder.sandbox.limits import Limits, grading_limits
from autograder.sandbox.spawn import Sandbox, require_sandbox

# The script the student's code runs in, and its companion: the codec it shares with this side.
CHILD_SCRIPT = Path(__file__).resolve().parents[1] / "sandboxed" / "child.py"
CHANNEL_FILE = Path(channel.__file__).resolve()


class Reason(enum.StrEnum):
    """Why a case failed: decided from data, and turned into words only for a person."""

    MISSING = "missing"          # the function is not defined by the student's code
    NOT_LOADED = "not_loaded"    # the process ended or hung while loading the code
    CRASH = "crash"              # the process ended during a call or between calls
    TIMEOUT = "timeout"          # a call, or the whole run, took longer than its limit
    ERROR = "error"              # the call raised an exception
    UNREADABLE = "unreadable"    # what came back is not plain data of the protocol
    NOT_RUN = "not_run"          # skipped: an earlier case of the exercise was stopped
    MISMATCH = "mismatch"        # the value differs from the reference's
    WARNING = "warning"          # floating-point warnings during the call
    MUTATED = "mutated"          # the call modified its input
    UNJUDGED = "unjudged"        # judging the value failed (e.g. a number too large to compare)


# Reasons that say the process was stopped, rather than what the function computed.
STOPPED = {Reason.NOT_LOADED, Reason.CRASH, Reason.TIMEOUT}


@dataclass
class Call:
    """One call of a student's function: which name, with which (encodable) arguments."""

    key: str
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    timeout: float = 10.0
    # A helper module's function that drives the student's `name` instead of calling it: the
    # child runs adapter(namespace[name], *args, **kwargs) (e.g. backprop_interpreter'
    # run_graph_program, which builds a graph program's nodes with the student's class).
    adapter: NamedCallable | None = None


@dataclass
class Outcome:
    """What one call did. `reason` is None when the call returned a value."""

    value: object = None
    type: str = ""
    reason: Reason | None = None
    error: str = ""
    warnings: list = field(default_factory=list)
    mutated: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class Stop:
    """Why a child process ended before it had answered every call."""

    reason: Reason           # TIMEOUT, CRASH or UNREADABLE
    how: str                 # "exit code 1", "signal SIGKILL", "after 10 s", ...
    key: str | None = None   # the call that was running; None while loading or between calls
    loaded: bool = True      # whether the student's code had finished loading
    limit: str = ""          # the sandbox limit that was hit, when the sandbox knows it

    @property
    def where(self) -> str:
        return "between calls" if self.loaded else "while loading the notebook's code"

    def outcome(self) -> Outcome:
        """The Outcome of the call that was running (or of every call, while loading)."""
        reason = self.reason if self.loaded or self.reason is Reason.UNREADABLE \
            else Reason.NOT_LOADED
        return Outcome(reason=reason, error=self.describe())

    def describe(self) -> str:
        what = {Reason.TIMEOUT: "was stopped at its time limit",
                Reason.CRASH: "ended its process" if self.key else "ended",
                Reason.UNREADABLE: "sent data outside the protocol"}[self.reason]
        limit = f"; {self.limit}" if self.limit else ""
        if self.key:
            return f"call {self.key} {what} ({self.how}{limit})"
        return f"the process {what} {self.where} ({self.how}{limit})"


@dataclass
class RunReport:
    """Everything a run of the student's code produced."""

    outcomes: dict                 # Call.key -> Outcome
    cell_errors: list              # [{"cell": n, "error": "..."}] from loading the code
    log: list                      # human-readable lines on what was stopped and why


def exercise_of(key: str) -> str:
    """Call keys are `exercise_id#case`; calls of one exercise share the part before '#'."""
    return key.split("#", 1)[0]


def run_calls(cells: Sequence[str], calls: Sequence[Call], load_timeout: float = 60.0,
              total_timeout: float | None = None, python: str | None = None) -> RunReport:
    """Run `cells` (code strings) in a fresh interpreter, then each call; never raises for
    anything the student's code does. A call that hangs or kills its process is recorded and
    the remaining calls go on in a new process, until `total_timeout` (by default the load
    time plus every call's limit) runs out for the whole run."""
    if total_timeout is None:
        total_timeout = 2 * load_timeout + sum(c.timeout for c in calls)
    deadline = time.monotonic() + total_timeout
    outcomes, log, cell_errors = {}, [], None
    pending = list(calls)
    while pending:
        if time.monotonic() >= deadline:
            for c in pending:
                outcomes[c.key] = Outcome(reason=Reason.TIMEOUT, error=(
                    f"not run: the code's total time limit ({total_timeout:g} s) ran out"))
            log.append(f"time limit: the run's total of {total_timeout:g} s ran out with "
                       f"{len(pending)} calls left")
            break
        done, errors, stop = _run_once(cells, pending, load_timeout, deadline,
                                       python or sys.executable)
        cell_errors = errors if cell_errors is None else cell_errors
        outcomes.update(done)
        if stop:
            log.append(stop.describe())
            if stop.key:
                outcomes[stop.key] = stop.outcome()
                # One hang or crash says enough about that exercise: its other cases are not
                # run again (each would cost another time limit), the other exercises are.
                group = exercise_of(stop.key)
                for c in pending:
                    if c.key not in outcomes and exercise_of(c.key) == group:
                        outcomes[c.key] = Outcome(reason=Reason.NOT_RUN, error=(
                            f"not run: an earlier case of this exercise was stopped "
                            f"({stop.describe()})"))
            else:
                for c in pending:
                    outcomes.setdefault(c.key, stop.outcome())
        pending = [c for c in pending if c.key not in outcomes]
    return RunReport(outcomes, cell_errors or [], log)


@dataclass
class Confined:
    """A trusted script running in the sandbox: its process, the read end of its result pipe,
    and the resource group and limits it runs under."""

    proc: subprocess.Popen
    read_fd: int
    group: ResourceGroup | None
    limits: Limits
    scratch: str
    output_path: str


@contextlib.contextmanager
def confined(script: str | Path, write_job: Callable[[str], object], python: str | None = None,
             limits: Limits | None = None, prefix: str = "grade",
             companions: Iterable[str | Path] = ()) -> Iterator[Confined]:
    """Run `python -I SCRIPT JOB RESULT_FD` in the sandbox, in a fresh scratch folder, under
    `limits` (by default the course's: limits.grading_limits).

    `write_job(scratch)` returns the job (JSON-safe data) and may write files beside it.
    `companions` are files copied beside the script (same basename); `-I` leaves the script's
    folder off sys.path, so the script puts it there before importing them. The process,
    everything it started, its group and its folder are gone when the block ends."""
    sandboxed = require_sandbox()
    limits = limits or grading_limits()
    with Sandbox(limits, prefix, sandboxed=sandboxed) as box:
        target = _copy_script(box.scratch, script, companions)
        job_path = _write_job(box.scratch, write_job)
        with _started(box, python, target, [job_path], subprocess.DEVNULL) as run:
            yield run


def _copy_script(scratch: str, script: str | Path, companions: Iterable[str | Path]) -> str:
    """The script and its companions copied into `scratch`; the script's path there."""
    target = os.path.join(scratch, os.path.basename(script))
    shutil.copy(script, target)
    for companion in companions:
        shutil.copy(companion, os.path.join(scratch, os.path.basename(companion)))
    return target


def _write_job(scratch: str, write_job: Callable[[str], object]) -> str:
    """job.json in `scratch`, from write_job(scratch) (which may write files beside it)."""
    job_path = os.path.join(scratch, "job.json")
    job = write_job(scratch)
    with open(job_path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    return job_path


@contextlib.contextmanager
def _started(box: Sandbox, python: str | None, target: str, args: Sequence[str],
             stdin: int) -> Iterator[Confined]:
    """`python -I TARGET *ARGS RESULT_FD` started in `box`; its pipe closed when the block
    ends, and the box stopped (the process and everything it started killed)."""
    read_fd, write_fd = os.pipe()
    # What the process prints goes to this file (bounded by the file-size limit), never to
    # the grader's terminal; it is read back only to say why a process stopped.
    output_path = os.path.join(box.scratch, "output.txt")
    try:
        with open(output_path, "wb") as output:
            proc = box.start([python or sys.executable, "-I", target, *args, str(write_fd)],
                             stdin=stdin, stdout=output, stderr=output, pass_fds=(write_fd,))
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    try:
        yield Confined(proc, read_fd, box.group, box.limits, box.scratch, output_path)
    finally:
        box.stop()
        os.close(read_fd)


STANDBY_ARG = "--standby"


@dataclass
class Standby:
    """A trusted script started in the sandbox before its job exists (standby()): it runs
    `python -I SCRIPT --standby *ARGS RESULT_FD`, prepares (imports), then reads one line from
    its stdin: the path of its job, as the process sees it, or nothing (end of file) when no
    job comes. `hand_over` writes the job into the scratch folder and sends that line, once."""

    run: Confined
    box: Sandbox
    started: float                     # time.monotonic() when the process was started
    handed_over: bool = False

    def stop(self) -> None:
        """Kill the process and everything it started, and remove its group (idempotent; the
        scratch folder goes when standby's block ends)."""
        self.box.stop()

    def hand_over(self, write_job: Callable[[str], object]) -> Confined:
        """Write the job (write_job(scratch), as confined's) and give the process its path."""
        if self.handed_over:
            raise RuntimeError("a standby process takes one job")
        self.handed_over = True
        scratch = self.run.scratch
        job_path = _write_job(scratch, write_job)
        if self.box.sandboxed:
            # The sandbox sees the scratch folder, read-only, at bwrap.INPUTS (the files written
            # since it started included); they go to its user, as the first ones did.
            bwrap.hand_over(scratch)
            job_path = os.path.join(bwrap.INPUTS, os.path.basename(job_path))
        stdin = self.run.proc.stdin
        assert stdin is not None   # standby() starts the process with a pipe for stdin
        try:
            stdin.write(job_path.encode("utf-8") + b"\n")
            stdin.close()
        except OSError:
            pass   # it ended meanwhile: the reader of its result pipe says so
        return self.run


@contextlib.contextmanager
def standby(script: str | Path, args: Sequence[str] = (), python: str | None = None,
            limits: Limits | None = None, prefix: str = "grade",
            companions: Iterable[str | Path] = ()) -> Iterator[Standby]:
    """Start `python -I SCRIPT --standby *ARGS RESULT_FD` in the sandbox now, and hand it its
    job later (Standby.hand_over), as confined would have started it then: same sandbox, same
    limits, same scratch folder. The process, everything it started, its group and its folder
    are gone when the block ends, whether or not it got a job."""
    sandboxed = require_sandbox()
    limits = limits or grading_limits()
    with Sandbox(limits, prefix, sandboxed=sandboxed) as box:
        target = _copy_script(box.scratch, script, companions)
        started = time.monotonic()
        with _started(box, python, target, [STANDBY_ARG, *args], subprocess.PIPE) as run:
            try:
                yield Standby(run, box, started)
            finally:
                if run.proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        run.proc.stdin.close()


# What a child process left: (outcomes by call key, cell errors, why it stopped or None).
Collected = tuple[dict[str, Outcome], list[dict[str, Any]], Stop | None]


def _run_once(cells: Sequence[str], calls: Sequence[Call], load_timeout: float, deadline: float,
              python: str) -> Collected:
    """One child process: (outcomes, cell_errors, Stop or None)."""
    # The helper modules the calls' named callables come from travel with the child, which
    # loads them before the student's code; results are decoded with the same modules here.
    helpers: channel.Helpers = {}
    encoded = [{"key": c.key, "name": c.name,
                "args": channel.encode(tuple(c.args), helpers)["__tuple__"],
                "kwargs": channel.encode(dict(c.kwargs), helpers),
                "adapter": channel.encode(c.adapter, helpers)} for c in calls]
    job = {"cells": list(cells), "helpers": sorted(helpers), "calls": encoded}
    companions = [CHANNEL_FILE] + [Path(str(helpers[name].__file__)) for name in sorted(helpers)]

    with confined(CHILD_SCRIPT, lambda scratch: job, python, companions=companions) as run:
        done, errors, stop = _Collector(run.proc, run.read_fd, calls, load_timeout,
                                        deadline, helpers).run()
        if stop and run.group and stop.reason is not Reason.UNREADABLE:
            if run.group.memory_limit_hit():
                stop.limit = f"killed at the memory limit ({run.limits.memory_bytes >> 20} MB)"
            elif run.group.process_limit_hit():
                stop.limit = f"the process limit of {run.limits.max_processes} was reached"
        return done, errors, stop


class _Collector:
    """Reads the child's messages, in protocol order only, until every call has answered."""

    def __init__(self, proc: subprocess.Popen, read_fd: int, calls: Sequence[Call],
                 load_timeout: float, run_deadline: float,
                 helpers: channel.Helpers | None = None) -> None:
        self.proc = proc
        self.reader = Reader(proc, read_fd)
        self.calls = calls
        self.helpers = helpers or {}
        self.next_index = 0          # the only call that may start next
        self.current: Call | None = None   # the Call running now
        self.loaded = False
        self.outcomes: dict[str, Outcome] = {}
        self.cell_errors: list[dict[str, Any]] = []
        self.load_timeout = load_timeout
        self.run_deadline = run_deadline
        self.deadline = min(run_deadline, time.monotonic() + load_timeout)

    def stop(self, reason: Reason, how: str) -> Collected:
        return self.outcomes, self.cell_errors, Stop(
            reason, how, key=self.current.key if self.current else None, loaded=self.loaded)

    def run(self) -> Collected:
        try:
            while True:
                message = self.reader.next(self.deadline)
                if message is End.TIMEOUT:
                    return self.stop(Reason.TIMEOUT, self._time_limit())
                if message is End.ENDED:
                    return self.stop(Reason.CRASH, process.exit_status(self.proc))
                if message is End.CLOSED:
                    # The pipe is closed (by the child exiting, or by its code closing it).
                    if self.finished():
                        return self.outcomes, self.cell_errors, None
                    return self.stop(Reason.CRASH, process.exit_status(self.proc, wait=1.0)
                                     or "it closed the result channel")
                if message is End.OVERSIZED:
                    return self.stop(Reason.UNREADABLE, channel.limits_words())
                self.receive(message)
                if self.finished():
                    return self.outcomes, self.cell_errors, None
        finally:
            self.reader.close()

    def finished(self) -> bool:
        return self.loaded and self.current is None and len(self.outcomes) == len(self.calls)

    def receive(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "loaded" and not self.loaded:
            self.loaded = True
            errors = message.get("cell_errors")
            self.cell_errors = [{"cell": e.get("cell"), "error": str(e.get("error"))[:2000]}
                                for e in (errors if isinstance(errors, list) else [])[:50]
                                if isinstance(e, dict)]
            self.deadline = min(self.run_deadline, time.monotonic() + self.load_timeout)
        elif event == "start" and self.loaded and self.current is None \
                and self.next_index < len(self.calls) \
                and message.get("key") == self.calls[self.next_index].key:
            self.current = self.calls[self.next_index]
            self.next_index += 1
            self.deadline = min(self.run_deadline, time.monotonic() + self.current.timeout)
        elif event == "result" and self.current is not None \
                and message.get("key") == self.current.key:
            self.outcomes[self.current.key] = _outcome(message, self.helpers)
            self.current = None
            self.deadline = min(self.run_deadline, time.monotonic() + self.load_timeout)

    def _time_limit(self) -> str:
        if self.deadline >= self.run_deadline:
            return "the run's total time limit ran out"
        if self.current is not None:
            return f"after {self.current.timeout:g} s"
        return f"after {self.load_timeout:g} s"


def _outcome(message: dict, helpers: channel.Helpers | None = None) -> Outcome:
    """An Outcome from a result message; anything outside the protocol's schema is UNREADABLE.
    `helpers`: the helper modules of the run, whose named callables a value may hold."""
    if message.get("missing") is True:
        return Outcome(reason=Reason.MISSING, error=str(message.get("error", ""))[:300])
    error = str(message.get("error", ""))[:2000]
    if message.get("unencodable") is True:
        return Outcome(reason=Reason.UNREADABLE, error=error)
    if message.get("ok") is not True:
        return Outcome(reason=Reason.ERROR, error=error)
    try:
        value = channel.decode(message.get("value"), helpers)
    except (ValueError, TypeError, RecursionError, OverflowError, MemoryError) as exc:
        return Outcome(reason=Reason.UNREADABLE,
                       error=f"returned data that could not be read ({str(exc)[:300]})")
    warnings = message.get("warnings")
    mutated = message.get("mutated")
    return Outcome(value=value, type=str(message.get("type", ""))[:200],
                   warnings=[str(w)[:300] for w in warnings][:5]
                   if isinstance(warnings, list) else [],
                   mutated=[m for m in mutated if type(m) is int][:20]
                   if isinstance(mutated, list) else [])

