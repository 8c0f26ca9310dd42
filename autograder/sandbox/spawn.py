"""The one way to start a process that runs student code (or probes the sandbox): confined.

Every sandboxed process runs under bubblewrap (bwrap.py: its own mount, PID and network
namespaces, an unprivileged user, size-bounded tmpfs folders), in a cgroup of its own (cgroups.py:
memory, processes, a CPU share) and with rlimits (rlimits.py: file size, CPU time, and stand-ins
for the controllers the machine does not give), in a session of its own so that its group can
be killed. The wall-clock limit is the caller's: it kills the process group.

`plan` says how to start one (the command line, the environment, the preexec_fn that joins the
cgroup and sets the rlimits): the kernel manager hands it to jupyter_client, which starts the
kernel. `Sandbox` starts the process itself and owns what the process needs: its scratch folder,
its cgroup and the process; all of them are gone when its block ends. The verdict's runner
(runner.confined), the Keras judge (through runner.confined) and the doctor's probes use it.

Where bubblewrap is missing or cannot build a sandbox, `require_sandbox()` refuses to grade
unless the instructor sets COURSE_GRADING_WITHOUT_SANDBOX=I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED.
"""

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from autograder.sandbox import bwrap
from autograder.sandbox.cgroups import ResourceGroup
from autograder.sandbox.files import remove_tree, scratch_dir
from autograder.sandbox.limits import Limits, grading_limits
from autograder.sandbox.process import kill_group
from autograder.sandbox.rlimits import confiner

OPT_OUT_VARIABLE = "COURSE_GRADING_WITHOUT_SANDBOX"
OPT_OUT_VALUE = "I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED"
# What the opt-out gives up, said wherever the opt-out is taken.
WITHOUT_SANDBOX = ("student code runs UNCONFINED, as this user: it can read every file this user "
                   "can (solutions/, source/, the gradebook, other submissions), write or delete "
                   "them, reach the network and this machine's loopback services, use any amount "
                   "of memory, processes and CPU, and leave processes running after grading")


class SandboxUnavailable(RuntimeError):
    """Grading cannot confine student code here, and the instructor has not opted out."""


def opted_out() -> bool:
    return os.environ.get(OPT_OUT_VARIABLE) == OPT_OUT_VALUE


def require_sandbox() -> bool:
    """True when student code will be sandboxed; raise unless the instructor opted out.

    The opt-out also turns the sandbox off where it is available (the grading benchmark uses
    that for its baseline)."""
    if opted_out():
        print(f"WARNING: {OPT_OUT_VARIABLE} is set: {WITHOUT_SANDBOX}.", file=sys.stderr)
        return False
    if not bwrap.bwrap_path():
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be confined: grading "
            "refuses to run. Install it (Debian: apt-get install bubblewrap) or, knowing that "
            f"{WITHOUT_SANDBOX}, set {OPT_OUT_VARIABLE}={OPT_OUT_VALUE}.")
    _empty_sandbox_starts()
    return True


# Per bubblewrap binary: "" when an empty sandbox started, else the refusal to raise.
_tried: dict[str | None, str] = {}


def _empty_sandbox_starts() -> None:
    """Raise SandboxUnavailable unless an empty sandbox starts here; tried once per process, so
    that a machine without namespaces fails grading at once rather than zeroing everyone."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)


def sandbox_problem() -> str:
    """"" when an empty sandbox starts here, else why grading refuses to run (what to do, where
    the host refuses the unprivileged user namespace a grader that is not root needs). Tried
    once per process and bubblewrap binary."""
    key = bwrap.bwrap_path()
    if key not in _tried:
        scratch = scratch_dir("check")
        try:
            argv = bwrap.bwrap_command(["/bin/true"], scratch, grading_limits())
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            problem = "" if done.returncode == 0 else \
                (done.stderr.strip() or f"exit code {done.returncode}")[:300]
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
        finally:
            remove_tree(scratch)
        # Where the host refuses a user namespace: why, and the commands that allow one (an
        # AppArmor profile last, on lines of its own).
        advice, _, profile = bwrap.userns_advice(problem).partition("\n") if problem \
            else ("", "", "")
        head = advice or (f"bubblewrap cannot build the sandbox on this machine ({problem}), "
                          f"so student code cannot be confined: grading refuses to run.")
        _tried[key] = "" if not problem else (
            f"{head} `python -m autograder doctor` shows what holds here. Knowing that "
            f"{WITHOUT_SANDBOX}, {OPT_OUT_VARIABLE}={OPT_OUT_VALUE} grades anyway."
            + (f"\n{profile}" if profile else ""))
    return _tried[key]


@dataclass
class Plan:
    """How to start one confined process: what Popen (or jupyter_client's launcher) is given,
    with start_new_session=True."""

    argv: list[str]                    # bubblewrap's command line (argv itself, unsandboxed)
    env: dict[str, str]                # the process's whole environment
    cwd: str                           # its scratch folder
    preexec_fn: Callable[[], None]     # joins its cgroup, sets its rlimits


def plan(argv: Sequence[str], scratch: str, limits: Limits, group: ResourceGroup | None, *,
         sandboxed: bool = True, ro_binds: Iterable[str | Path] = (),
         rw_binds: Iterable[tuple[str | Path, str | Path]] = (), env: dict[str, str] | None = None,
         fallback: bool = True, seed: bool = True) -> Plan:
    """How to start `argv` confined, in `scratch` (which the caller has filled with what the
    process needs: it is handed over to the sandbox's user here) under `limits` and `group`.

    `env`: variables on top of bwrap.child_env's. `fallback`: rlimits and `nice` stand in for
    the controllers `group` does not have (off only for the doctor's test of what cgroups alone
    hold). `seed`: matplotlib's font list is put into the home (bwrap.seed_home). Unsandboxed
    (the instructor's opt-out), argv runs as it is, with the same environment and rlimits."""
    environment = bwrap.child_env(limits, **(env or {}))
    command = list(argv)
    if sandboxed:
        if seed:
            bwrap.seed_home(scratch)
        command = bwrap.bwrap_command(command, scratch, limits, ro_binds=ro_binds,
                                      rw_binds=rw_binds, env=environment)
    return Plan(command, environment, scratch, confiner(limits, group, fallback))


class Sandbox:
    """One confined process with its scratch folder and its cgroup, all gone when the `with`
    block ends (the process and everything it started killed, the group removed, the folder
    deleted). Fill `scratch`, then `start` the process:

        with Sandbox(limits, "grade") as box:
            ... write the script and its input into box.scratch ...
            proc = box.start([python, "-I", script], stdout=...)
    """

    def __init__(self, limits: Limits, prefix: str, *, sandboxed: bool = True,
                 cgroup_root: str | Path | None = None, fallback: bool = True) -> None:
        self.limits, self.sandboxed, self.fallback = limits, sandboxed, fallback
        self.proc: subprocess.Popen | None = None
        self.scratch = scratch_dir(prefix)
        try:
            self.group = ResourceGroup(limits, root=cgroup_root) if sandboxed else None
        except BaseException:
            remove_tree(self.scratch)
            raise

    def start(self, argv: Sequence[str], *, seed: bool = True, **popen: Any) -> subprocess.Popen:
        """Start argv (paths inside the scratch folder are seen at the same path inside) with
        Popen's other arguments `popen` (its pipes and files, pass_fds, text)."""
        how = plan(argv, self.scratch, self.limits, self.group, sandboxed=self.sandboxed,
                   fallback=self.fallback, seed=seed)
        self.proc = subprocess.Popen(how.argv, cwd=how.cwd, env=how.env, start_new_session=True,
                                     preexec_fn=how.preexec_fn, **popen)
        return self.proc

    def stop(self) -> None:
        """Kill the process and everything it started, and remove its cgroup (idempotent)."""
        if self.proc is not None:
            kill_group(self.proc)
        if self.group is not None:
            self.group.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self.stop()
        finally:
            remove_tree(self.scratch)
