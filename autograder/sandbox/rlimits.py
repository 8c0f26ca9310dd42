"""The rlimits of a sandboxed process, and the preexec_fn that puts it in its cgroup and sets them.

The rlimits bound what holds even without cgroups (the size of any file it writes, CPU time, no
core dumps); where the machine gives the grader no memory or pids cgroup, RLIMIT_AS and
RLIMIT_NPROC stand in for them, and `nice` for a missing cpu cgroup.
"""

import os
import resource
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from autograder.sandbox import bwrap
from autograder.sandbox.limits import Limits

if TYPE_CHECKING:   # cgroups.py imports this module
    from autograder.sandbox.cgroups import ResourceGroup

CPU_NICE = 10    # without a cpu cgroup: sandboxes yield to the grader and the machine


def rlimits(limits: Limits, active: Collection[str],
            fallback: bool = True) -> list[tuple[str, int, int]]:
    """The rlimits of a sandboxed process, as (name, soft, hard): the one list apply_rlimits
    sets. `active` names the cgroup controllers in force; the limits they hold are otherwise
    approximated by rlimits, unless `fallback` is off (the doctor's test of a failing limit)."""
    cpu = limits.cpu_seconds
    result = [("RLIMIT_FSIZE", limits.file_bytes, limits.file_bytes),
              ("RLIMIT_CPU", cpu, cpu + 5),        # SIGXCPU first, SIGKILL 5 s later
              ("RLIMIT_CORE", 0, 0)]
    if fallback and "memory" not in active:
        cap = memory_bound(limits, active)
        result.append(("RLIMIT_AS", cap, cap))
    if fallback and "pids" not in active:
        cap = process_bound(limits)
        result.append(("RLIMIT_NPROC", cap, cap))
    return result


def memory_bound(limits: Limits, active: Collection[str]) -> int:
    """The memory a sandboxed process can get before it is stopped, under the mechanism in force."""
    if "memory" in active:
        return limits.memory_bytes
    # Address space is a blunt proxy for memory (TensorFlow maps a lot it never touches).
    return limits.memory_bytes * 4


def process_bound(limits: Limits) -> int:
    """RLIMIT_NPROC counts every task (thread) of the host user: what the sandbox's host user
    already runs, plus the limit."""
    uid = bwrap.sandbox_user()[0]
    return _tasks_of(uid) + limits.max_processes


def _tasks_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def apply_rlimits(limits: Limits, with_cgroups: Collection[str], fallback: bool = True) -> None:
    """Called in the child before exec: bounds that hold even without cgroups."""
    for name, soft, hard in rlimits(limits, with_cgroups, fallback):
        resource.setrlimit(getattr(resource, name), (soft, hard))


def confiner(limits: Limits, group: "ResourceGroup | None" = None,
             fallback: bool = True) -> Callable[[], None]:
    """The preexec_fn of a sandboxed process: it joins its group, then sets its rlimits."""
    def confine() -> None:
        # A controller it could not join (its group removed meanwhile) gets the rlimit instead.
        joined = group.join(os.getpid()) if group else set()
        apply_rlimits(limits, joined, fallback)
        if fallback and "cpu" not in joined:
            os.nice(CPU_NICE)     # no cpu cgroup: at least the grader itself comes first
    return confine
