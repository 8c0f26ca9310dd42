"""The sandbox every process that runs student code runs in: bubblewrap, cgroups and rlimits.

A sandboxed process sees only the Python installation, its own scratch directory and the paths it
is handed read-only; it has no network (a network namespace of its own: not even the grading
machine's loopback services), runs as uid 65534 in a user namespace, in a PID namespace so that
everything it starts dies with it, under a memory limit and a process limit (cgroup v1 `memory`
and `pids` controllers where the machine has them, rlimits otherwise), and with a bound on the
size of any file it writes. The wall-clock limit is the caller's: it kills the process group.

Where bubblewrap is missing (another operating system), `require_sandbox()` refuses to grade
unless the instructor sets COURSE_GRADING_WITHOUT_SANDBOX=I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED.
"""

import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

OPT_OUT_VARIABLE = "COURSE_GRADING_WITHOUT_SANDBOX"
OPT_OUT_VALUE = "I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED"
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "course-grading"
NOBODY = 65534


class SandboxUnavailable(RuntimeError):
    """Grading cannot confine student code here, and the instructor has not opted out."""


@dataclass
class Limits:
    """What one sandboxed process (and everything it starts) may use."""

    memory_bytes: int = 4 * 1024 ** 3      # TensorFlow and a small model fit in well under this
    max_processes: int = 64                # threads count too: TensorFlow starts a few dozen
    file_bytes: int = 64 * 1024 ** 2       # largest file it may write (stdout capture included)
    cpu_seconds: int = 900                 # CPU time, a backstop behind the caller's wall clock


def bwrap_path():
    return shutil.which("bwrap")


def opted_out():
    return os.environ.get(OPT_OUT_VARIABLE) == OPT_OUT_VALUE


def require_sandbox():
    """True when student code will be sandboxed; raise unless the instructor opted out.

    The opt-out also turns the sandbox off where it is available (the grading benchmark uses
    that for its baseline)."""
    if opted_out():
        print(f"WARNING: {OPT_OUT_VARIABLE} is set: student code runs UNCONFINED, with this user's "
              f"files, network and memory.", file=sys.stderr)
        return False
    if bwrap_path():
        return True
    raise SandboxUnavailable(
        "bubblewrap (bwrap) is not installed, so student code cannot be confined: grading "
        "refuses to run. Install it (Debian: apt-get install bubblewrap) or, knowing that student "
        f"code will then read and write anything this user can, set {OPT_OUT_VARIABLE}="
        f"{OPT_OUT_VALUE}.")


def python_roots():
    """The directories a sandboxed Python needs to see: its installation and its environment."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    return sorted(str(r) for r in roots)


def bwrap_command(argv, scratch, ro_binds=(), rw_binds=(), chdir=None, env=None):
    """The bubblewrap command line that runs argv confined; scratch is its writable home."""
    cmd = [bwrap_path(), "--unshare-all", "--die-with-parent", "--new-session",
           "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL",
           "--clearenv"]
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/sbin"):
        if os.path.exists(system_dir):
            cmd += ["--ro-bind", system_dir, system_dir]
    for etc_file in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(etc_file):
            cmd += ["--ro-bind", etc_file, etc_file]
    # A private /tmp first: the binds below may live under /tmp (a checkout there, the scratch
    # directory) and must be mounted over it, not hidden by it.
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in python_roots():
        cmd += ["--ro-bind", root, root]
    for path in ro_binds:
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--bind", str(scratch), str(scratch)]
    for source, target in rw_binds:
        cmd += ["--bind", str(source), str(target)]
    # The sandbox's own root is a tmpfs bwrap builds the mount points on: make it read-only, so
    # the scratch directory and a private /tmp are the only places it can write.
    cmd += ["--remount-ro", "/", "--chdir", str(chdir or scratch)]
    for key, value in (env or {}).items():
        cmd += ["--setenv", key, value]
    cmd += ["--setenv", "HOME", str(scratch), "--setenv", "TMPDIR", "/tmp"]
    return cmd + ["--"] + list(argv)


class ResourceGroup:
    """A cgroup (v1 memory + pids) for one sandboxed process tree, where the machine allows it."""

    def __init__(self, limits):
        self.limits = limits
        self.name = f"{CGROUP_PARENT}/{uuid.uuid4().hex[:12]}"
        self.dirs = {}
        for controller, settings in (
                ("memory", {"memory.limit_in_bytes": limits.memory_bytes,
                            "memory.memsw.limit_in_bytes": limits.memory_bytes}),
                ("pids", {"pids.max": limits.max_processes})):
            path = CGROUP_ROOT / controller / self.name
            try:
                path.mkdir(parents=True, exist_ok=True)
                for key, value in settings.items():
                    if (path / key).exists():
                        (path / key).write_text(str(value))
            except OSError:
                continue
            self.dirs[controller] = path

    @property
    def active(self):
        return set(self.dirs)

    def join(self, pid):
        """Put a process (and so everything it starts) into the group."""
        for path in self.dirs.values():
            try:
                (path / "cgroup.procs").write_text(str(pid))
            except OSError:
                pass

    def memory_limit_hit(self):
        path = self.dirs.get("memory")
        if not path:
            return False
        try:
            oom = (path / "memory.oom_control").read_text()
            killed = [line for line in oom.splitlines() if line.startswith("oom_kill ")]
            if killed and int(killed[0].split()[1]) > 0:
                return True
            return int((path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def process_limit_hit(self):
        path = self.dirs.get("pids")
        try:
            return bool(path) and int((path / "pids.events").read_text().split()[-1]) > 0
        except (OSError, ValueError, IndexError):
            return False

    def close(self):
        """Kill whatever is left in the group and remove it."""
        import signal
        for path in self.dirs.values():
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            except OSError:
                pass
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    import time
                    time.sleep(0.05)


def apply_rlimits(limits, with_cgroups):
    """Called in the child before exec: bounds that hold even without cgroups."""
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if "memory" not in with_cgroups:
        # Address space is a blunt proxy for memory (TensorFlow maps a lot it never touches).
        cap = limits.memory_bytes * 4
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
