"""The student's Jupyter kernel during `nbgrader autograde`, in the course's sandbox."""

import os
import shlex
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager

from autograder.sandbox import Limits, ResourceGroup, bwrap_command, require_sandbox


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the sandbox and talks over Unix sockets.

    The kernel's network namespace is cut, so the kernel and nbgrader speak ZeroMQ over IPC
    socket files in a directory of their own, the only thing (with the connection file and a
    scratch copy of the notebook's folder) the sandbox shares with the grader.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandboxed = require_sandbox()
        self._dirs = []
        self._group = None
        self._memory_hit = False
        self.limits = Limits()
        if self.sandboxed:
            ipc_dir = self._tempdir("kernel-ipc-")
            self.transport = "ipc"
            self.ip = os.path.join(ipc_dir, "kernel")

    def _tempdir(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self._dirs.append(path)
        return path

    async def _async_pre_start_kernel(self, **kw):
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if not self.sandboxed:
            return kernel_cmd, kw
        cwd = kw.get("cwd") or os.getcwd()
        scratch = self._tempdir("kernel-scratch-")
        # The kernel works in a copy of the notebook's folder: what it writes is thrown away.
        # Notebooks stay out: nbgrader has restored the hidden tests into the one being graded.
        shutil.copytree(cwd, scratch, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_ENABLE_ONEDNN_OPTS": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "MPLCONFIGDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}
        wrapped = bwrap_command(kernel_cmd, scratch, ro_binds=[self.connection_file],
                                rw_binds=[(os.path.dirname(self.ip), os.path.dirname(self.ip))],
                                env=env)
        self._group = ResourceGroup(self.limits)
        joins = "".join(f'echo $$ > "{path}/cgroup.procs"; ' for path in self._group.dirs.values())
        limits = self.limits
        prlimit = ["prlimit", f"--fsize={limits.file_bytes}", f"--cpu={limits.cpu_seconds}",
                   "--core=0"]
        if "memory" not in self._group.active:
            prlimit.append(f"--as={limits.memory_bytes * 4}")
        script = joins + "exec " + " ".join(shlex.quote(a) for a in prlimit + ["--"] + wrapped)
        kw["cwd"] = scratch
        return ["/bin/sh", "-c", script], kw

    def memory_limit_hit(self):
        if self._group:
            self._memory_hit = self._memory_hit or self._group.memory_limit_hit()
        return self._memory_hit

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.release()

    def release(self):
        """Kill whatever the kernel left and remove the sandbox's directories."""
        if self._group:
            self.memory_limit_hit()   # read before the group is gone
            self._group.close()
            self._group = None
        for path in self._dirs:
            shutil.rmtree(path, ignore_errors=True)
        self._dirs = []
