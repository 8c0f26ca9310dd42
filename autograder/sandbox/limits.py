"""What a sandboxed process may use, as the instructor sets it in `nbgrader_config.py`.

`SandboxLimits` (settings.py) is the traitlets setting (`c.SandboxLimits.memory_bytes = ...`),
read like nbgrader's own; `Limits` is the plain value the sandbox passes around.
Every process that runs student code (the kernel, the verdict runner, the Keras judge) gets its
limits from `grading_limits()`; the doctor prints them beside the smaller ones its probes use.
"""

import functools
from dataclasses import dataclass, fields
from pathlib import Path

GiB, MiB = 1024 ** 3, 1024 ** 2


@dataclass(frozen=True)
class Limits:
    """What one sandboxed process (and everything it starts) may use."""

    memory_bytes: int = 4 * GiB            # TensorFlow and a small model fit in well under this
    max_processes: int = 64                # threads count too: TensorFlow starts a few dozen
    file_bytes: int = 64 * MiB             # largest file it may write (stdout capture included)
    cpu_seconds: int = 900                 # CPU time, a backstop behind the caller's wall clock
    # Its share of the machine: at most this many cores (a cgroup CPU quota), and an equal
    # weight with every other sandbox, so 48 busy processes in one sandbox take one core, not
    # the machine. One core trains the exercises' models at full speed (TensorFlow's threads
    # are set to match: TF_NUM_INTRAOP_THREADS in bwrap.child_env).
    cpu_cores: float = 1.0
    # Everything it may write: its home (the scratch folder), /tmp and /dev/shm are each a
    # tmpfs of this size (memory, counted by the memory cgroup too), gone when it ends.
    scratch_bytes: int = 512 * MiB


def grading_limits(root: str | Path | None = None) -> Limits:
    """The limits the course's `nbgrader_config.py` (under `root`, by default the course this
    package belongs to) sets for grading; read once per process and root.

    Where traitlets or nbgrader are not installed (`python -m autograder check` on a student's
    machine needs neither), the configuration cannot be read: the defaults above hold, which
    are also the values the course's file sets."""
    try:
        import nbgrader  # noqa: F401 - the configuration file imports it

        from autograder import course
    except ImportError:
        return Limits()
    return _read(str(root or course.ROOT))


@functools.cache
def _read(root: str) -> Limits:
    from autograder.course import load_config
    from autograder.sandbox.settings import SandboxLimits

    setting = SandboxLimits(config=load_config(root))
    return Limits(**{f.name: getattr(setting, f.name) for f in fields(Limits)})
