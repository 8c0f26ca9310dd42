"""The sandbox every process that runs student code runs in: bubblewrap, cgroups and rlimits.

A sandboxed process sees only the Python installation, a copy of what its caller put in its
scratch folder and the paths it is handed read-only; it has no network (a network namespace of
its own: not even the grading machine's loopback services), runs in a PID namespace so that
everything it starts dies with it, under a memory limit, a process limit and a CPU share (a
quota of Limits.cpu_cores and the same weight as every other sandbox: a cgroup, v1 or v2, where
the machine lets the grader make one; rlimits and `nice` otherwise), with a bound on CPU time
and on the size of any file it writes. All it can write is size-limited tmpfs (its home, /tmp,
/dev/shm), never the grading machine's disk; folders a grader that died left in the temporary
directory, and its empty cgroups, are removed by the next grading run (sweep_leftovers).
On the host it is an unprivileged user: uid 65534 when the grader is root (bubblewrap sets up
the sandbox as root, then `setpriv` drops to 65534 before the student's program starts), the
grader's own user otherwise (uid 65534 inside a user namespace). The wall-clock limit is the
caller's: it kills the process group.

The callers (runner.py, kernel.py, doctor.py) all start a sandboxed process the same way:

    group = ResourceGroup(limits)
    argv = bwrap_command(argv, scratch, env=child_env(limits), limits=limits)
    subprocess.Popen(argv, ..., start_new_session=True, preexec_fn=confiner(limits, group))
    ...
    group.close()

Where bubblewrap is missing or cannot build a sandbox, `require_sandbox()` refuses to grade
unless the instructor sets COURSE_GRADING_WITHOUT_SANDBOX=I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED.
"""

import atexit
import fnmatch
import math
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

OPT_OUT_VARIABLE = "COURSE_GRADING_WITHOUT_SANDBOX"
OPT_OUT_VALUE = "I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED"
# What the opt-out gives up, said wherever the opt-out is taken.
WITHOUT_SANDBOX = ("student code runs UNCONFINED, as this user: it can read every file this user "
                   "can (solutions/, source/, the gradebook, other submissions), write or delete "
                   "them, reach the network and this machine's loopback services, use any amount "
                   "of memory, processes and CPU, and leave processes running after grading")
CGROUP_ROOT = Path("/sys/fs/cgroup")          # tests point this at a fake tree
PROC_CGROUP = Path("/proc/self/cgroup")       # where the grader's own cgroup is read (v2)
CGROUP_PARENT = "course-grading"
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000                       # the CFS period; the quota is cores x this
CPU_SHARES_V1 = 1024                          # every sandbox the same weight (the default)
CPU_WEIGHT_V2 = 100
CPU_NICE = 10    # without a cpu cgroup: sandboxes yield to the grader and the machine
NOBODY = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")


class SandboxUnavailable(RuntimeError):
    """Grading cannot confine student code here, and the instructor has not opted out."""


@dataclass
class Limits:
    """What one sandboxed process (and everything it starts) may use."""

    memory_bytes: int = 4 * 1024 ** 3      # TensorFlow and a small model fit in well under this
    max_processes: int = 64                # threads count too: TensorFlow starts a few dozen
    file_bytes: int = 64 * 1024 ** 2       # largest file it may write (stdout capture included)
    cpu_seconds: int = 900                 # CPU time, a backstop behind the caller's wall clock
    # Its share of the machine: at most this many cores (a cgroup CPU quota), and an equal
    # weight with every other sandbox, so 48 busy processes in one sandbox take one core, not
    # the machine. One core trains the exercises' models at full speed (TensorFlow's threads
    # are set to match: TF_NUM_INTRAOP_THREADS below).
    cpu_cores: float = 1.0
    # Everything it may write: its home (the scratch folder), /tmp and /dev/shm are each a
    # tmpfs of this size (memory, counted by the memory cgroup too), gone when it ends.
    scratch_bytes: int = 512 * 1024 ** 2


def child_env(limits=None, **extra):
    """The whole environment of a sandboxed process: no secrets and no project paths, only what
    NumPy, TensorFlow and Matplotlib need (HOME, TMPDIR and MPLCONFIGDIR are set by
    bwrap_command). TensorFlow runs as many threads as the sandbox has cores: more would only
    wait on the CPU quota."""
    threads = str(max(1, math.ceil((limits or Limits()).cpu_cores)))
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
           "TF_NUM_INTRAOP_THREADS": threads,
           "MPLBACKEND": "Agg",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def bwrap_path():
    return shutil.which("bwrap")


def setpriv_path():
    # Only a setpriv under the system directories: it must exist inside the sandbox too.
    return shutil.which("setpriv", path="/usr/bin:/bin")


def opted_out():
    return os.environ.get(OPT_OUT_VARIABLE) == OPT_OUT_VALUE


def require_sandbox():
    """True when student code will be sandboxed; raise unless the instructor opted out.

    The opt-out also turns the sandbox off where it is available (the grading benchmark uses
    that for its baseline)."""
    if opted_out():
        print(f"WARNING: {OPT_OUT_VARIABLE} is set: {WITHOUT_SANDBOX}.", file=sys.stderr)
        return False
    if not bwrap_path():
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be confined: grading "
            "refuses to run. Install it (Debian: apt-get install bubblewrap) or, knowing that "
            f"{WITHOUT_SANDBOX}, set {OPT_OUT_VARIABLE}={OPT_OUT_VALUE}.")
    problem = _sandbox_problem()
    if problem:
        raise SandboxUnavailable(
            f"bubblewrap cannot build the sandbox on this machine ({problem}), so student code "
            f"cannot be confined: grading refuses to run. `python -m autograder doctor` shows "
            f"what holds here; knowing that {WITHOUT_SANDBOX}, set {OPT_OUT_VARIABLE}="
            f"{OPT_OUT_VALUE}.")
    return True


_checked = {}


def _sandbox_problem():
    """Why an empty sandbox does not start here ('' when it does); tried once per process, so
    that a machine without namespaces fails grading at once rather than zeroing everyone."""
    key = bwrap_path()
    if key not in _checked:
        scratch = scratch_dir("check")
        try:
            done = subprocess.run(bwrap_command(["/bin/true"], scratch), capture_output=True,
                                  text=True, timeout=30)
            _checked[key] = "" if done.returncode == 0 else \
                (done.stderr.strip() or f"exit code {done.returncode}")[:300]
        except (OSError, subprocess.TimeoutExpired) as exc:
            _checked[key] = str(exc)
        finally:
            remove_tree(scratch)
    return _checked[key]


def sandbox_user():
    """(uid, gid) the sandboxed process has on the host, and how it gets them."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), "the grader's own user (65534 in a user namespace)"
    if setpriv_path():
        return NOBODY, NOBODY, "bubblewrap as root, then setpriv to uid 65534"
    return 0, 0, "ROOT outside its user namespace: setpriv (util-linux) is missing"


def _drops_root():
    """Whether bubblewrap runs as root and setpriv drops to uid 65534 inside the sandbox."""
    return os.geteuid() == 0 and bool(setpriv_path())


def hand_over(path):
    """Give a directory tree to the sandbox's host user, so the sandboxed process can write it
    (nothing to do when the grader is that user). Links are changed, never followed."""
    uid, gid, _ = sandbox_user()
    if (uid, gid) == (os.geteuid(), os.getegid()):
        return
    os.lchown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


def seed_home(home):
    """Put matplotlib's font list, built once per grading process outside the sandbox, into a
    sandboxed process's home (its scratch folder, before it is handed over). Without it every
    sandboxed process that plots builds the list again (about 0.4 s) and runs `fc-list`, which
    prints fontconfig errors on the grader's terminal. A home the student's files already fill
    differently is left as it is."""
    cache = _matplotlib_cache()
    if cache is None:
        return
    target = os.path.join(home, MATPLOTLIB_DIR)
    try:
        os.makedirs(target, mode=0o755, exist_ok=True)
        for name in os.listdir(cache):
            if name.startswith("fontlist") and name.endswith(".json"):
                shutil.copyfile(os.path.join(cache, name), os.path.join(target, name),
                                follow_symlinks=False)
    except OSError:
        pass


MATPLOTLIB_DIR = ".matplotlib"     # in the home: MPLCONFIGDIR, its config and cache folder
_MATPLOTLIB_CACHE = []


def _matplotlib_cache():
    """The folder of matplotlib's font list for this Python, built on first use; None when
    matplotlib cannot build it here."""
    if not _MATPLOTLIB_CACHE:
        folder = tempfile.mkdtemp(prefix="grading-matplotlib-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        try:
            subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"],
                           env={"MPLCONFIGDIR": folder, "HOME": folder, "PATH": "/usr/bin:/bin"},
                           capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            folder = None
        _MATPLOTLIB_CACHE.append(folder)
    return _MATPLOTLIB_CACHE[0]


SCRATCH_PREFIX = "autograder-"


def scratch_dir(kind, short=False):
    """A new private folder in the temporary directory for one sandboxed process (what it is
    handed, its socket folder), named after this grader's pid: a later grading run removes the
    folders of graders that died (sweep_leftovers). `short`: for socket files, whose paths
    must stay under 108 bytes: in /tmp when the temporary directory's path is long."""
    sweep_leftovers()
    base = tempfile.gettempdir()
    if short and len(base) > 48 and os.path.isdir("/tmp"):
        base = "/tmp"
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-{kind}-", dir=base)


_swept = []


def sweep_leftovers(tmp=None, cgroup_root=None, force=False):
    """Remove what graders that died left behind, once per process: folders
    autograder-<pid>-* in the temporary directory and empty cgroups <pid>-* under
    course-grading, where no process <pid> runs any more. Returns the paths removed."""
    if _swept and not force:
        return []
    _swept.append(True)
    removed = []
    entries = []
    for folder in dict.fromkeys([tmp] if tmp else [tempfile.gettempdir(), "/tmp"]):
        try:
            entries += list(Path(folder).iterdir())
        except OSError:
            pass
    for path in entries:
        pid = _pid_in(path.name[len(SCRATCH_PREFIX):]) \
            if path.name.startswith(SCRATCH_PREFIX) else None
        if pid and not _running(pid) and path.is_dir() and not path.is_symlink():
            remove_tree(path)
            removed.append(str(path))
    for parent in _cgroup_parents(Path(cgroup_root or CGROUP_ROOT)):
        try:
            groups = list(parent.iterdir())
        except OSError:
            continue
        for group in groups:
            pid = _pid_in(group.name)
            if pid and group.is_dir() and not _running(pid):
                try:
                    group.rmdir()            # refused while a process is still in it
                    removed.append(str(group))
                except OSError:
                    pass
    return removed


def _pid_in(name):
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cgroup_parents(root):
    """Every course-grading folder ResourceGroup may have made."""
    candidates = [root / c / CGROUP_PARENT for c in CONTROLLERS]
    own = root / own_cgroup().strip("/")
    candidates += [p / CGROUP_PARENT for p in [own, *own.parents]
                   if p == root or root in p.parents]
    return [p for p in dict.fromkeys(candidates) if p.is_dir()]


def remove_tree(path):
    """Remove a tree the sandbox wrote, whatever modes it left on it."""
    def make_writable(function, failed, _exc):
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
            function(failed)
        except OSError:
            pass
    shutil.rmtree(path, onerror=make_writable)


def copy_plain_tree(source, target, skip=()):
    """Copy the directories and regular files under source into target, which exists; return
    the paths left out: links (never followed), devices, FIFOs, sockets, and names matching a
    pattern of `skip`."""
    left_out = []
    with os.scandir(source) as entries:
        for entry in entries:
            if any(fnmatch.fnmatch(entry.name, pattern) for pattern in skip):
                continue
            dest = os.path.join(target, entry.name)
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(dest, 0o755)
                left_out += copy_plain_tree(entry.path, dest, skip)
            elif entry.is_file(follow_symlinks=False) and _copy_regular(entry.path, dest):
                pass
            else:
                left_out.append(entry.path)
    return left_out


def _copy_regular(source, dest):
    # O_NOFOLLOW and O_NONBLOCK: a link or a FIFO put in the file's place is refused, not opened.
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with open(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            return False
        with open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    return True


def python_binds():
    """(source, target) pairs that make the grader's Python visible in the sandbox at the paths
    its command line and its own files name: the installation and the environment, each at its
    real path and, when reached through a symbolic link (a `.venv` that links elsewhere), at the
    linked path too, so that `sys.executable` as the grader knows it runs inside."""
    pairs = {}
    for prefix in (sys.base_prefix, sys.prefix):
        real = Path(prefix).resolve()
        for target in (real, Path(os.path.abspath(prefix))):
            pairs.setdefault(str(target), str(real))
    return sorted((source, target) for target, source in pairs.items())


def python_roots():
    """The paths under which a sandboxed process sees the grader's Python."""
    return sorted({target for _, target in python_binds()})


INPUTS = "/sandbox-inputs"    # where the caller's scratch folder is seen, read-only


def tmpfs_sizes_supported():
    """Whether this bubblewrap can bound a tmpfs (`--size`, bubblewrap 0.8 and later)."""
    if "size" not in _BWRAP_FEATURES:
        try:
            text = subprocess.run([bwrap_path(), "--help"], capture_output=True, text=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError, TypeError):
            text = ""
        _BWRAP_FEATURES["size"] = "--size" in text
    return _BWRAP_FEATURES["size"]


_BWRAP_FEATURES = {}


def bwrap_command(argv, scratch, ro_binds=(), rw_binds=(), chdir=None, env=None, limits=None):
    """The bubblewrap command line that runs argv confined.

    `scratch` is a folder the caller filled with what the process needs (its script, its job,
    a copy of the notebook's folder). Inside, the process's home is a fresh tmpfs at the same
    path, bounded by limits.scratch_bytes, into which the scratch folder's files are copied
    before argv starts: whatever it writes stays in memory the sandbox pays for and is gone
    when it ends, never on the grading machine's disk (which a sandbox user could fill, root's
    reserved blocks included). The rw_binds sources are handed over to the sandbox's host
    user here; they are the only host folders it can write (the kernel's socket folder)."""
    limits = limits or Limits()
    uid, gid, _ = sandbox_user()
    cmd = [bwrap_path(), "--die-with-parent", "--new-session", "--clearenv"]
    if _drops_root():
        # As root, bubblewrap builds the sandbox without a user namespace (root can reach a
        # Python installed under /root, which uid 65534 could not bind), keeping only the
        # capabilities it needs to enter the scratch directory (owned by uid 65534, mode 700)
        # and setpriv needs to drop to uid 65534, and all of them, before argv runs.
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL"]
        cmd += [arg for cap in ("CAP_DAC_READ_SEARCH", "CAP_SETUID", "CAP_SETGID",
                                "CAP_SETPCAP") for arg in ("--cap-add", cap)]
    else:
        cmd += ["--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL"]
    mounts = _Mounts(cmd)
    for system_dir in SYSTEM_DIRS:
        if os.path.exists(system_dir):
            mounts.bind("--ro-bind", system_dir, system_dir)
    for etc_file in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(etc_file):
            mounts.bind("--ro-bind", etc_file, etc_file)
    # A private /tmp first: the binds below may live under /tmp (a checkout there, the scratch
    # directory) and must be mounted over it, not hidden by it. A private /dev/shm too, where
    # multiprocessing makes its semaphores (joblib, under scikit-learn, warns without one).
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    mounts.made.update({"/proc", "/dev"})
    for path in ("/dev/shm", "/tmp"):
        mounts.tmpfs(path, limits.scratch_bytes, mode="1777")
    for source, target in python_binds():
        mounts.bind("--ro-bind", source, target)
    for path in ro_binds:
        mounts.bind("--ro-bind", str(path), str(path))
    hand_over(scratch)
    mounts.bind("--ro-bind", str(scratch), INPUTS)
    # 1777: bubblewrap running as root makes the tmpfs root's; only this sandbox sees it.
    mounts.tmpfs(str(scratch), limits.scratch_bytes, mode="1777")
    for source, target in rw_binds:
        hand_over(source)
        mounts.bind("--bind", str(source), str(target))
    # The sandbox's own root is a tmpfs bwrap builds the mount points on: make it read-only, so
    # the tmpfs folders and the rw_binds are the only places it can write.
    cmd += ["--remount-ro", "/", "--chdir", str(chdir or scratch)]
    for key, value in (env or {}).items():
        cmd += ["--setenv", key, value]
    cmd += ["--setenv", "HOME", str(scratch), "--setenv", "TMPDIR", "/tmp",
            "--setenv", "MPLCONFIGDIR", os.path.join(scratch, MATPLOTLIB_DIR), "--"]
    if _drops_root():
        cmd += [setpriv_path(), f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    # Unprivileged, before argv: the caller's files into the home (links are not followed:
    # the scratch folder holds only what the caller wrote).
    copy_in = 'cp -R "$0"/. "$HOME" && exec "$@"'
    return cmd + ["/bin/sh", "-c", copy_in, INPUTS] + list(argv)


class _Mounts:
    """Adds mounts to a bwrap command line, with every directory above a mount point made 0755
    first (bubblewrap running as root makes them 0700, which uid 65534 could not enter)."""

    def __init__(self, cmd):
        self.cmd, self.made, self.bound = cmd, set(), []

    def _parents(self, target):
        for parent in reversed(Path(target).parents):
            parent = str(parent)
            if parent == "/" or parent in self.made or \
                    any(parent == b or parent.startswith(b + "/") for b in self.bound):
                continue
            self.cmd += ["--perms", "0755", "--dir", parent]
            self.made.add(parent)

    def bind(self, option, source, target):
        self._parents(target)
        self.cmd += [option, source, target]
        self.bound.append(target.rstrip("/") or "/")

    def tmpfs(self, target, size, mode):
        """A private tmpfs at target, bounded by size where bubblewrap can bound it."""
        self._parents(target)
        if tmpfs_sizes_supported():
            self.cmd += ["--size", str(int(size))]
        self.cmd += ["--perms", mode, "--tmpfs", target]
        # Made, not bound: folders under it are made 0755 like any other mount point's parents.
        self.made.add(target)


def rlimits(limits, active, fallback=True):
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


def memory_bound(limits, active):
    """The memory a sandboxed process can get before it is stopped, under the mechanism in force."""
    if "memory" in active:
        return limits.memory_bytes
    # Address space is a blunt proxy for memory (TensorFlow maps a lot it never touches).
    return limits.memory_bytes * 4


def process_bound(limits):
    """RLIMIT_NPROC counts every task (thread) of the host user: what the sandbox's host user
    already runs, plus the limit."""
    uid = sandbox_user()[0]
    return _tasks_of(uid) + limits.max_processes


def _tasks_of(uid):
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def apply_rlimits(limits, with_cgroups, fallback=True):
    """Called in the child before exec: bounds that hold even without cgroups."""
    for name, soft, hard in rlimits(limits, with_cgroups, fallback):
        resource.setrlimit(getattr(resource, name), (soft, hard))


def confiner(limits, group=None, fallback=True):
    """The preexec_fn of a sandboxed process: it joins its group, then sets its rlimits."""
    def confine():
        # A controller it could not join (its group removed meanwhile) gets the rlimit instead.
        joined = group.join(os.getpid()) if group else set()
        apply_rlimits(limits, joined, fallback)
        if fallback and "cpu" not in joined:
            os.nice(CPU_NICE)     # no cpu cgroup: at least the grader itself comes first
    return confine


def own_cgroup():
    """The grader's own cgroup in the v2 hierarchy ('/path' from the line '0::/path')."""
    try:
        for line in PROC_CGROUP.read_text().splitlines():
            if line.startswith("0::"):
                return line[3:] or "/"
    except OSError:
        pass
    return "/"


def _write(path, value):
    """Write a cgroup file and read it back: the kernel may refuse or round what it was given."""
    path.write_text(str(value))
    return path.read_text().strip()


def _same(read, value):
    if isinstance(value, str):
        return read.split() == value.split()      # cpu.max: "quota period"
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        number = int(read)
    except ValueError:
        return False
    return number == value or number == value // page * page   # memory limits are in pages


def _names(text):
    # The kernel lists controller names; a plain file (a test's fake tree) echoes "+name".
    return {word.lstrip("+") for word in text.split()}


class ResourceGroup:
    """A cgroup for one sandboxed process tree, where the machine lets the grader make one.

    cgroup v1: one group per controller, /sys/fs/cgroup/{memory,pids,cpu}/course-grading/<id>.
    cgroup v2: one group under `course-grading`, made next to the grader's own cgroup (or
    higher up): a cgroup with processes cannot also have children with controllers ("no
    internal processes"), so course-grading is made where `+memory +pids +cpu` can be enabled.
    The cpu controller gives each sandbox a quota of Limits.cpu_cores and the same weight as
    every other sandbox (cpu.cfs_quota_us and cpu.shares on v1, cpu.max and cpu.weight on v2):
    the scheduler shares the CPU between groups, not processes, so a sandbox running 48 busy
    processes gets no more than one running one.
    A controller is active only once its limit has been written and read back; the ones that
    are not are replaced by rlimits (apply_rlimits), and `notes` says why.
    """

    def __init__(self, limits, root=None):
        self.limits = limits
        self.root = Path(root or CGROUP_ROOT)
        # The grader's pid first: a later grading run removes groups whose grader is gone.
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.dirs = {}     # controller -> its group's directory, for the active controllers
        self.notes = []
        if (self.root / "cgroup.controllers").is_file():
            self.layout = "v2"
            self._make_v2()
        elif any((self.root / c).is_dir() for c in CONTROLLERS):
            self.layout = "v1"
            self._make_v1()
        else:
            self.layout = None
            self.notes.append(f"no cgroup hierarchy at {self.root}")
        announce(self)

    def _limits(self):
        """(controller, file, value, extra files) of each limit ResourceGroup sets: the first
        file is read back to decide whether the controller is active."""
        limits = self.limits
        period = CPU_PERIOD_US
        quota = max(1000, int(limits.cpu_cores * period))
        if self.layout == "v1":
            return [("memory", "memory.limit_in_bytes", limits.memory_bytes,
                     {"memory.memsw.limit_in_bytes": limits.memory_bytes}),
                    ("pids", "pids.max", limits.max_processes, {}),
                    ("cpu", "cpu.cfs_quota_us", quota,
                     {"cpu.cfs_period_us": period, "cpu.shares": CPU_SHARES_V1})]
        return [("memory", "memory.max", limits.memory_bytes, {"memory.swap.max": 0}),
                ("pids", "pids.max", limits.max_processes, {}),
                ("cpu", "cpu.max", f"{quota} {period}", {"cpu.weight": CPU_WEIGHT_V2})]

    def _make_v1(self):
        for controller, key, value, extra in self._limits():
            base = self.root / controller
            if not (base / "cgroup.procs").is_file():
                self.notes.append(f"no cgroup v1 {controller} hierarchy")
                continue
            path = base / CGROUP_PARENT / self.name
            try:
                path.mkdir(parents=True)
                # The period first: the kernel checks a quota against it.
                if "cpu.cfs_period_us" in extra:
                    _write(path / "cpu.cfs_period_us", extra["cpu.cfs_period_us"])
                read = _write(path / key, value)
                for name, other in extra.items():
                    # memory + swap: no swapping past the limit (where swap is accounted);
                    # cpu.shares: the same weight as every other sandbox.
                    if name.startswith("cpu.shares") or (path / name).exists():
                        _write(path / name, other)
            except OSError as exc:
                self.notes.append(f"cgroup v1 {controller}: {exc.strerror or exc}")
                _rmdir(path)
                continue
            if _same(read, value):
                self.dirs[controller] = path
            else:
                self.notes.append(f"cgroup v1 {key} reads back {read!r}, not {value}")
                _rmdir(path)

    def _make_v2(self):
        parent, enabled = self._v2_parent()
        if parent is None:
            return
        path = parent / self.name
        try:
            path.mkdir()
        except OSError as exc:
            self.notes.append(f"cgroup v2: {exc.strerror or exc}")
            return
        for controller, key, value, extra in self._limits():
            if controller not in enabled:
                continue
            try:
                read = _write(path / key, value)
                for name, other in extra.items():
                    # No swapping past the limit (where swap is accounted); cpu.weight: the
                    # same weight as every other sandbox.
                    if name == "cpu.weight" or (path / name).exists():
                        _write(path / name, other)
            except OSError as exc:
                self.notes.append(f"cgroup v2 {key}: {exc.strerror or exc}")
                continue
            if _same(read, value):
                self.dirs[controller] = path
            else:
                self.notes.append(f"cgroup v2 {key} reads back {read!r}, not {value}")
        if not self.dirs:
            _rmdir(path)

    def _v2_parent(self):
        """course-grading, with memory, pids and cpu enabled for its children: under the nearest
        cgroup above the grader's own where that can be done (the root is exempt from the
        no-internal-processes rule, so the grader's own cgroup is tried only when it is the
        root). Returns (path, enabled controllers) or (None, set())."""
        own = self.root / own_cgroup().strip("/")
        bases = [own] if own == self.root else []
        bases += [p for p in own.parents if p == self.root or self.root in p.parents]
        for base in bases:
            try:
                wanted = set(CONTROLLERS) & _names((base / "cgroup.controllers").read_text())
                if not wanted:
                    self.notes.append(f"cgroup v2: memory, pids and cpu are not delegated to "
                                      f"{base}")
                    continue
                enabled = _names((base / "cgroup.subtree_control").read_text())
                if not wanted <= enabled:
                    enabled = _names(_write(base / "cgroup.subtree_control",
                                            " ".join(f"+{c}" for c in sorted(wanted))))
                wanted &= enabled
                parent = base / CGROUP_PARENT
                parent.mkdir(exist_ok=True)
                enabled = _names(_write(parent / "cgroup.subtree_control",
                                        " ".join(f"+{c}" for c in sorted(wanted))))
            except OSError as exc:
                self.notes.append(f"cgroup v2 at {base}: {exc.strerror or exc}")
                continue
            if wanted & enabled:
                return parent, wanted & enabled
            self.notes.append(f"cgroup v2: {parent} did not enable {' '.join(sorted(wanted))}")
        return None, set()

    @property
    def active(self):
        return set(self.dirs)

    def join(self, pid):
        """Put a process (and so everything it starts) into the group; returns the controllers
        it joined."""
        joined = set()
        for controller, path in self.dirs.items():
            try:
                (path / "cgroup.procs").write_text(str(pid))
                joined.add(controller)
            except OSError:
                pass
        return joined

    def memory_limit_hit(self):
        path = self.dirs.get("memory")
        if not path:
            return False
        try:
            if self.layout == "v2":
                events = _counters((path / "memory.events").read_text())
                return events.get("oom_kill", 0) > 0 or events.get("max", 0) > 0
            oom = _counters((path / "memory.oom_control").read_text())
            return oom.get("oom_kill", 0) > 0 or int((path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def process_limit_hit(self):
        path = self.dirs.get("pids")
        try:
            return bool(path) and _counters((path / "pids.events").read_text()).get("max", 0) > 0
        except (OSError, ValueError):
            return False

    def close(self):
        """Kill whatever is left in the group and remove it."""
        for path in set(self.dirs.values()):
            for _ in range(50):
                try:
                    pids = (path / "cgroup.procs").read_text().split()
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError, ValueError):
                        pass
                time.sleep(0.02)
            _rmdir(path)
        self.dirs = {}


def descendants(pid):
    """Every process started, directly or not, by process pid (read from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    parent = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def processes_inside(pid):
    """The processes running inside the sandbox that the bubblewrap process pid started (not
    bubblewrap's own processes)."""
    inside = []
    for child in descendants(pid):
        try:
            if os.path.basename(os.readlink(f"/proc/{child}/exe")) != "bwrap":
                inside.append(child)
        except OSError:
            pass
    return inside


def _counters(text):
    """'name value' lines (memory.events, pids.events, memory.oom_control) as a dict."""
    pairs = (line.split() for line in text.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def _rmdir(path):
    # A cgroup whose last processes are still exiting is busy for a moment.
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != 16:     # EBUSY; anything else will not change by waiting
                return
            time.sleep(0.02)


def mechanisms(limits, group=None, fallback=True):
    """promise -> the mechanism that holds it here, in words (the grading log, the doctor)."""
    active = group.active if group else set()
    layout = group.layout if group else None
    mb = limits.memory_bytes >> 20
    if "memory" in active:
        key = "memory.max" if layout == "v2" else "memory.limit_in_bytes"
        memory = f"cgroup {layout} {key} {mb} MB"
    elif fallback:
        memory = (f"rlimit RLIMIT_AS {memory_bound(limits, active) >> 20} MB "
                  f"(address space, 4x the {mb} MB limit)")
    else:
        memory = "nothing: no cgroup, and the rlimit stand-in is off"
    if "pids" in active:
        processes = f"cgroup {layout} pids.max {limits.max_processes}"
    elif fallback:
        processes = (f"rlimit RLIMIT_NPROC (the host user's tasks + {limits.max_processes})")
    else:
        processes = "nothing: no cgroup, and the rlimit stand-in is off"
    cores = f"{limits.cpu_cores:g} core{'s' if limits.cpu_cores != 1 else ''}"
    if "cpu" in active and layout == "v2":
        cpu = f"cgroup v2 cpu.max ({cores}), cpu.weight {CPU_WEIGHT_V2} like every sandbox"
    elif "cpu" in active:
        cpu = f"cgroup v1 cpu.cfs_quota_us ({cores}), cpu.shares {CPU_SHARES_V1} like every " \
              f"sandbox"
    elif fallback:
        cpu = (f"nice {CPU_NICE} only (no cpu cgroup): the grader comes first, but sandboxes "
               f"are not shared fairly among themselves")
    else:
        cpu = "nothing: no cgroup, and the nice stand-in is off"
    scratch = f"tmpfs of {limits.scratch_bytes >> 20} MB each for home, /tmp and /dev/shm" \
        if tmpfs_sizes_supported() else \
        "tmpfs for home, /tmp and /dev/shm, UNBOUNDED by size (bubblewrap older than 0.8 " \
        "has no --size): only a memory cgroup bounds them"
    uid, _, how = sandbox_user()
    return {"memory": memory, "processes": processes, "host uid": f"{uid}, {how}",
            "file size": f"rlimit RLIMIT_FSIZE {limits.file_bytes >> 20} MB",
            "cpu time": f"rlimit RLIMIT_CPU {limits.cpu_seconds} s",
            "cpu share": cpu, "scratch": scratch}


_announced = []


def announce(group):
    """Say in the grading log which mechanism holds each limit: once, and again if it changes."""
    said = mechanisms(group.limits, group)
    line = "; ".join(f"{k}: {said[k]}" for k in ("memory", "processes", "cpu share",
                                                 "host uid"))
    if group.notes and len(group.active) < len(CONTROLLERS):
        line += f" (cgroups not used: {'; '.join(dict.fromkeys(group.notes))})"
    if line not in _announced:
        _announced.append(line)
        print(f"[sandbox] {line}", file=sys.stderr)
