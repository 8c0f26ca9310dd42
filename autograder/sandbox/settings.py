"""The sandbox's limits as a traitlets setting: `c.SandboxLimits.<name>` in nbgrader_config.py.

Apart from limits.py because traitlets comes with Jupyter, and `python -m autograder check`
must import the sandbox where Jupyter is not installed: only `limits.grading_limits` imports
this module, when it reads the configuration.
"""

from traitlets import Float, Integer
from traitlets.config import Configurable

from autograder.sandbox.limits import Limits

_DEFAULT = Limits()


class SandboxLimits(Configurable):
    """What each sandboxed process that runs student code may use (the kernel, the verdict's
    process, the Keras judge). The defaults are limits.Limits'."""

    memory_bytes = Integer(_DEFAULT.memory_bytes, help=(
        "Memory of one sandboxed process and everything it starts, in bytes (a memory cgroup; "
        "4x this as address space where no cgroup can be made).")).tag(config=True)
    max_processes = Integer(_DEFAULT.max_processes, help=(
        "Processes and threads one sandboxed process may run (a pids cgroup, or "
        "RLIMIT_NPROC).")).tag(config=True)
    file_bytes = Integer(_DEFAULT.file_bytes, help=(
        "Largest file it may write, in bytes, its captured output included "
        "(RLIMIT_FSIZE).")).tag(config=True)
    cpu_seconds = Integer(_DEFAULT.cpu_seconds, help=(
        "CPU time, in seconds: a backstop behind the wall-clock limits (RLIMIT_CPU).")
    ).tag(config=True)
    cpu_cores = Float(_DEFAULT.cpu_cores, help=(
        "Cores it may use at most (a cgroup CPU quota); TensorFlow runs as many threads.")
    ).tag(config=True)
    scratch_bytes = Integer(_DEFAULT.scratch_bytes, help=(
        "Size of each of its writable tmpfs folders (home, /tmp, /dev/shm), in bytes.")
    ).tag(config=True)
