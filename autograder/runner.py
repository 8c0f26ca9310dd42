"""Run a student's code in a separate process and collect what each call returned, as plain data."""

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import child, sandbox

CHILD_SCRIPT = Path(child.__file__).resolve()

# The child inherits no secrets and no project paths: only what running NumPy/TensorFlow needs.
_CHILD_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
_CHILD_ENV_SET = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
}


@dataclass
class Call:
    """One call of a student's function: which name, with which (encodable) arguments."""

    key: str
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    timeout: float = 10.0


@dataclass
class Outcome:
    """What one call did, as reported by the child process."""

    ok: bool
    value: object = None
    type: str = ""
    error: str = ""
    warnings: list = field(default_factory=list)
    mutated: list = field(default_factory=list)
    seconds: float = 0.0
    missing: bool = False      # the name was not defined by the student's code
    timed_out: bool = False
    crashed: bool = False      # the child died (os._exit, a signal, a memory limit...)


@dataclass
class RunReport:
    """Everything a run of the student's code produced."""

    outcomes: dict                 # Call.key -> Outcome
    cell_errors: list              # [{"cell": n, "error": "..."}] from loading the code
    log: list                      # human-readable lines on what was stopped and why
    seconds: float = 0.0


def exercise_of(key):
    """Call keys are `exercise_id#case`; calls of one exercise share the part before '#'."""
    return key.split("#", 1)[0]


def run_calls(cells, calls, load_timeout=60.0, python=None):
    """Run `cells` (code strings) in a fresh interpreter, then each call; never raises for
    anything the student's code does. A call that hangs or kills its process is recorded and
    the remaining calls go on in a new process."""
    start = time.perf_counter()
    outcomes, log, cell_errors = {}, [], []
    pending = list(calls)
    restarts = 0
    while pending:
        done, errors, stop = _run_once(cells, pending, load_timeout, python or sys.executable)
        if restarts == 0:
            cell_errors = errors
        outcomes.update(done)
        if stop:
            log.append(stop["log"])
            if stop.get("key"):
                outcomes[stop["key"]] = stop["outcome"]
                # One hang or crash says enough about that exercise: its other cases are not
                # run again (each would cost another time limit), the other exercises are.
                group = exercise_of(stop["key"])
                for c in pending:
                    if c.key not in outcomes and exercise_of(c.key) == group:
                        outcomes[c.key] = Outcome(ok=False, crashed=True, error=(
                            f"not run: an earlier case of this exercise was stopped "
                            f"({stop['outcome'].error})"))
            elif stop.get("abandon"):
                for c in pending:
                    if c.key not in outcomes:
                        outcomes[c.key] = Outcome(ok=False, error=stop["log"], crashed=True,
                                                  timed_out=stop.get("timed_out", False))
        pending = [c for c in pending if c.key not in outcomes]
        restarts += 1
    return RunReport(outcomes, cell_errors, log, time.perf_counter() - start)


def _run_once(cells, calls, load_timeout, python):
    """One child process: returns (outcomes, cell_errors, stop) where stop says why it ended early."""
    sandboxed = sandbox.require_sandbox()
    limits = sandbox.Limits()
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        os.chmod(scratch, 0o700)
        script = os.path.join(scratch, "child.py")
        shutil.copy(CHILD_SCRIPT, script)
        job_path = os.path.join(scratch, "job.json")
        with open(job_path, "w", encoding="utf-8") as f:
            json.dump({"cells": list(cells),
                       "calls": [{"key": c.key, "name": c.name,
                                  "args": child.encode(tuple(c.args))["__tuple__"],
                                  "kwargs": child.encode(dict(c.kwargs))} for c in calls]}, f)
        read_fd, write_fd = os.pipe()
        env = {k: os.environ[k] for k in _CHILD_ENV_KEEP if k in os.environ}
        env.update(_CHILD_ENV_SET)
        argv = [python, "-I", script, job_path, str(write_fd)]
        group = sandbox.ResourceGroup(limits) if sandboxed else None
        if sandboxed:
            argv = sandbox.bwrap_command(argv, scratch, env=env)

        def confine():
            if group:
                group.join(os.getpid())
            sandbox.apply_rlimits(limits, group.active if group else set())

        output_path = os.path.join(scratch, "output.txt")
        with open(output_path, "wb") as output:
            proc = subprocess.Popen(argv, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                    stdout=output, stderr=output, pass_fds=(write_fd,),
                                    start_new_session=True, preexec_fn=confine)
        os.close(write_fd)
        try:
            done, errors, stop = _collect(proc, read_fd, calls, load_timeout)
            if stop and group and group.memory_limit_hit():
                stop["log"] = stop["log"].replace("ended", "was killed at the memory limit "
                                                  f"({limits.memory_bytes >> 20} MB) and ended")
                if stop.get("outcome"):
                    stop["outcome"].error = (f"stopped: it used more than the memory limit "
                                             f"({limits.memory_bytes >> 20} MB)")
            if stop and group and group.process_limit_hit():
                stop["log"] += f" (the process limit of {limits.max_processes} was reached)"
            return done, errors, stop
        finally:
            _kill_group(proc)
            if group:
                group.close()
            os.close(read_fd)


def _collect(proc, read_fd, calls, load_timeout):
    by_key = {c.key: c for c in calls}
    outcomes, cell_errors = {}, []
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    buffer = b""
    current = None            # key of the call running now
    deadline = time.monotonic() + load_timeout
    loaded = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if current is None:
                what = "loading the notebook's code" if not loaded else "between calls"
                return outcomes, cell_errors, {
                    "abandon": True, "timed_out": True,
                    "log": f"time limit: {what} took longer than {load_timeout:.0f} s; stopped"}
            limit = by_key[current].timeout
            return outcomes, cell_errors, {
                "key": current,
                "outcome": Outcome(ok=False, timed_out=True,
                                   error=f"did not return within {limit:g} s (time limit)"),
                "log": f"time limit: {by_key[current].name} (call {current}) stopped after {limit:g} s"}
        if not sel.select(timeout=min(remaining, 0.5)):
            if proc.poll() is not None and not _readable(read_fd):
                return outcomes, cell_errors, _crash(proc, current, loaded)
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            proc.wait(timeout=10)
            if current is None and loaded and len(outcomes) == len(calls):
                return outcomes, cell_errors, None
            return outcomes, cell_errors, _crash(proc, current, loaded)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue   # the student's code wrote into our channel: ignore what is not ours
            event = message.get("event") if isinstance(message, dict) else None
            if event == "loaded" and not loaded:
                loaded = True
                cell_errors = list(message.get("cell_errors", []))[:50]
            elif event == "start" and message.get("key") in by_key:
                current = message["key"]
                deadline = time.monotonic() + by_key[current].timeout
            elif event == "result" and message.get("key") in by_key:
                outcomes[message["key"]] = _outcome(message)
                current = None
                deadline = time.monotonic() + load_timeout
            elif event == "done":
                missing = [c.key for c in calls if c.key not in outcomes]
                if not missing:
                    return outcomes, cell_errors, None


def _readable(fd):
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    return bool(sel.select(timeout=0))


def _crash(proc, current, loaded):
    code = proc.poll()
    if code is not None and code > 128:   # bubblewrap reports a signal as 128 + its number
        code = 128 - code
    how = f"exit code {code}" if code is not None and code >= 0 else \
        f"signal {signal.Signals(-code).name}" if code is not None else "unknown"
    how = {"signal SIGXFSZ": "signal SIGXFSZ: the output/file size limit",
           "signal SIGXCPU": "signal SIGXCPU: the CPU time limit"}.get(how, how)
    if current is None:
        where = "while loading the notebook's code" if not loaded else "between calls"
        return {"abandon": True, "log": f"process ended {where} ({how})"}
    return {"key": current,
            "outcome": Outcome(ok=False, crashed=True,
                               error=f"the process running it ended during the call ({how})"),
            "log": f"crash: call {current} ended its process ({how})"}


def _outcome(message):
    value = message.get("value")
    try:
        value = child.decode(value)
    except Exception as exc:  # noqa: BLE001 - malformed data from an untrusted process
        return Outcome(ok=False, error=f"returned data that could not be read ({exc})")
    return Outcome(ok=bool(message.get("ok")), value=value, type=str(message.get("type", "")),
                   error=str(message.get("error", ""))[:2000],
                   warnings=[str(w)[:300] for w in message.get("warnings", [])][:5],
                   mutated=list(message.get("mutated", [])),
                   seconds=float(message.get("seconds", 0.0) or 0.0),
                   missing=bool(message.get("missing")))


def _kill_group(proc):
    """The child and everything it started are gone when this returns."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
