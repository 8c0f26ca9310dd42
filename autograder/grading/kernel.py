"""The student's Jupyter kernel during `nbgrader autograde`, in the course's sandbox."""

import os
import signal
import subprocess
from typing import Any, BinaryIO

from autograder.grading.kernel_channels import BoundedChannelsKernelManager
from autograder.safe_text import printable_lines
from autograder.sandbox import spawn
from autograder.sandbox.bwrap import sandbox_user
from autograder.sandbox.cgroups import ResourceGroup
from autograder.sandbox.files import copy_plain_tree, remove_tree, scratch_dir
from autograder.sandbox.limits import grading_limits
from autograder.sandbox.process import processes_inside, send_signal

STDERR_QUOTED_LINES = 20      # of the kernel's stderr, quoted (escaped) in the grading log


# Its channels go through a relay that bounds what the kernel can send (kernel_channels.py).
class SandboxedKernelManager(BoundedChannelsKernelManager):
    """A kernel manager whose kernel runs in the sandbox and talks over Unix sockets.

    The kernel's network namespace is cut, so the kernel and nbgrader speak ZeroMQ over IPC
    socket files in a directory of their own, the only thing (with the connection file and a
    scratch copy of the notebook's folder) the sandbox shares with the grader. Whatever the
    kernel did, even died, `release()` leaves none of it behind: no process, no directory.
    What it writes to its stdout is dropped; its stderr goes to a file (bounded by the file-size
    limit) of which the grading log quotes the last lines, escaped, never to the grader's own
    stderr, where it could forge lines of the grading command's output.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sandboxed = spawn.require_sandbox()
        self._dirs: list[str] = []
        self._group: ResourceGroup | None = None
        self._memory_hit = False
        self.limits = grading_limits()      # the course's, from nbgrader_config.py

    def _tempdir(self, kind: str, short: bool = False) -> str:
        path = scratch_dir(kind, short)
        self._dirs.append(path)
        return path

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.sandboxed and self.transport != "ipc":
            # Made here rather than in __init__: a manager that never starts a kernel leaves
            # nothing in /tmp. A restart keeps it (the connection file names it).
            self.transport = "ipc"
            self.ip = os.path.join(self._tempdir("ipc", short=True), "kernel")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if not self.sandboxed:
            return kernel_cmd, kw
        self._close_group()           # a restarted kernel gets a fresh group
        cwd = kw.get("cwd") or os.getcwd()
        scratch = self._tempdir("kernel-scratch")
        # The kernel works in a copy of the notebook's folder: what it writes is thrown away.
        # Notebooks stay out (the one being graded is nbgrader's), and so do links, devices and
        # FIFOs: only directories and regular files are copied.
        left_out = copy_plain_tree(cwd, scratch, skip=("*.ipynb", ".ipynb_checkpoints"))
        for path in left_out:
            self.log.warning("[sandbox] not copied into the kernel's folder (not a regular file or "
                        "directory): %s", path)
        # The connection file (in the grader's runtime directory) is bound read-only; the
        # kernel's host user must be able to read it.
        uid, gid, _ = sandbox_user()
        os.chown(self.connection_file, uid, gid)
        ipc_dir = os.path.dirname(self.ip)
        self._group = ResourceGroup(self.limits)
        # jupyter_client starts the kernel: it gets the plan's command line, preexec_fn and
        # folder (bubblewrap --clearenv gives the kernel the plan's environment, whatever
        # jupyter_client gives bubblewrap itself).
        how = spawn.plan(kernel_cmd, scratch, self.limits, self._group,
                         ro_binds=[self.connection_file], rw_binds=[(ipc_dir, ipc_dir)],
                         env={"MPLBACKEND": "module://matplotlib_inline.backend_inline"})
        kw["preexec_fn"] = how.preexec_fn
        kw["cwd"] = how.cwd
        # What the kernel writes to its own stdout (ipykernel's connection banner, a student's
        # os.system output) reaches no grader's terminal: the notebook's outputs come over ZeroMQ.
        kw["stdout"] = subprocess.DEVNULL
        self._quote_stderr()          # of a kernel this manager restarts
        self._stderr_path = os.path.join(self._tempdir("kernel-stderr"), "stderr.txt")
        self._stderr = open(self._stderr_path, "wb")
        kw["stderr"] = self._stderr
        return how.argv, kw

    _stderr: BinaryIO | None = None
    _stderr_path = ""

    def _quote_stderr(self) -> None:
        """Quote the end of what the kernel wrote to its stderr in the grading log, escaped."""
        if self._stderr is None:
            return
        self._stderr.close()
        self._stderr = None
        try:
            with open(self._stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 4000))
                lines, _ = printable_lines(f.read(), STDERR_QUOTED_LINES)
        except OSError:
            return
        if lines:
            self.log.info("[sandbox] the kernel wrote %d bytes to its stderr; the last lines, "
                          "escaped:\n%s", size, "\n".join(f"  kernel stderr | {line}"
                                                         for line in lines))

    async def _async_signal_kernel(self, signum: int) -> None:
        """An interrupt (SIGINT) goes to the processes inside the sandbox. jupyter_client sends
        it to the kernel's process group, which inside the sandbox is bubblewrap alone (the
        sandbox is a session of its own): bubblewrap died of it, and the kernel with it."""
        process = getattr(self.provisioner, "process", None)
        if not (self.sandboxed and signum == signal.SIGINT and process):
            return await super()._async_signal_kernel(signum)
        for pid in processes_inside(process.pid):
            send_signal(pid, signum)

    def memory_limit_hit(self) -> bool:
        if self._group:
            self._memory_hit = self._memory_hit or self._group.memory_limit_hit()
        return self._memory_hit

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.release()

    # AsyncKernelManager binds `cleanup_resources` to KernelManager's own function, not to the
    # override above: nbclient cleans up a kernel that already died through that name only, so
    # a dead kernel's directories used to stay in /tmp.
    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]

    def _close_group(self) -> None:
        if self._group:
            self.memory_limit_hit()   # read before the group is gone
            self._group.close()
            self._group = None

    def release(self) -> None:
        """Kill whatever the kernel left and remove the sandbox's directories (idempotent)."""
        self._close_group()
        self._quote_stderr()
        for path in self._dirs:
            remove_tree(path)
        self._dirs = []
