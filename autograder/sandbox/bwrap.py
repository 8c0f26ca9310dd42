"""The bubblewrap command that confines one process, the environment it gets, and the user it
runs as.

A sandboxed process sees only the Python installation, a copy of what its caller put in its
scratch folder and the paths it is handed read-only; it has no network (a network namespace of
its own: not even the grading machine's loopback services), and runs in a PID namespace so that
everything it starts dies with it. All it can write is size-limited tmpfs (its home, /tmp,
/dev/shm), never the grading machine's disk. On the host it is an unprivileged user: uid 65534
when the grader is root (bubblewrap sets up the sandbox as root, then `setpriv` drops to 65534
before the student's program starts), the grader's own user otherwise (uid 65534 inside a user
namespace). spawn.py puts this command together with the cgroup and rlimits.
"""

import atexit
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from autograder.sandbox.limits import Limits

NOBODY = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")


def child_env(limits: Limits, **extra: str) -> dict[str, str]:
    """The whole environment of a sandboxed process: no secrets and no project paths, only what
    NumPy, TensorFlow and Matplotlib need (HOME, TMPDIR and MPLCONFIGDIR are set by
    bwrap_command). TensorFlow runs as many threads as the sandbox has cores: more would only
    wait on the CPU quota."""
    threads = str(max(1, math.ceil(limits.cpu_cores)))
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
           "TF_NUM_INTRAOP_THREADS": threads,
           "MPLBACKEND": "Agg",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def setpriv_path() -> str | None:
    # Only a setpriv under the system directories: it must exist inside the sandbox too.
    return shutil.which("setpriv", path="/usr/bin:/bin")


def sandbox_user() -> tuple[int, int, str]:
    """(uid, gid) the sandboxed process has on the host, and how it gets them."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), "the grader's own user (65534 in a user namespace)"
    if setpriv_path():
        return NOBODY, NOBODY, "bubblewrap as root, then setpriv to uid 65534"
    return 0, 0, "ROOT outside its user namespace: setpriv (util-linux) is missing"


def _drops_root() -> bool:
    """Whether bubblewrap runs as root and setpriv drops to uid 65534 inside the sandbox."""
    return os.geteuid() == 0 and bool(setpriv_path())


def hand_over(path: str | Path) -> None:
    """Give a directory tree to the sandbox's host user, so the sandboxed process can write it
    (nothing to do when the grader is that user). Links are changed, never followed."""
    uid, gid, _ = sandbox_user()
    if (uid, gid) == (os.geteuid(), os.getegid()):
        return
    os.lchown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


def seed_home(home: str) -> None:
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
_MATPLOTLIB_CACHE: list[str | None] = []


def _matplotlib_cache() -> str | None:
    """The folder of matplotlib's font list for this Python, built on first use; None when
    matplotlib cannot build it here."""
    if not _MATPLOTLIB_CACHE:
        made = tempfile.mkdtemp(prefix="grading-matplotlib-")
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        folder: str | None = made
        try:
            subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"],
                           env={"MPLCONFIGDIR": made, "HOME": made, "PATH": "/usr/bin:/bin"},
                           capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            folder = None
        _MATPLOTLIB_CACHE.append(folder)
    return _MATPLOTLIB_CACHE[0]

def python_binds() -> list[tuple[str, str]]:
    """(source, target) pairs that make the grader's Python visible in the sandbox at the paths
    its command line and its own files name: the installation and the environment, each at its
    real path and, when reached through a symbolic link (a `.venv` that links elsewhere), at the
    linked path too, so that `sys.executable` as the grader knows it runs inside."""
    pairs: dict[str, str] = {}
    for prefix in (sys.base_prefix, sys.prefix):
        real = Path(prefix).resolve()
        for target in (real, Path(os.path.abspath(prefix))):
            pairs.setdefault(str(target), str(real))
    return sorted((source, target) for target, source in pairs.items())


def python_roots() -> list[str]:
    """The paths under which a sandboxed process sees the grader's Python."""
    return sorted({target for _, target in python_binds()})


INPUTS = "/sandbox-inputs"    # where the caller's scratch folder is seen, read-only


def tmpfs_sizes_supported() -> bool:
    """Whether this bubblewrap can bound a tmpfs (`--size`, bubblewrap 0.8 and later)."""
    if "size" not in _BWRAP_FEATURES:
        bwrap = bwrap_path()
        try:
            text = subprocess.run([bwrap, "--help"], capture_output=True, text=True,
                                  timeout=10).stdout if bwrap else ""
        except (OSError, subprocess.SubprocessError):
            text = ""
        _BWRAP_FEATURES["size"] = "--size" in text
    return _BWRAP_FEATURES["size"]


_BWRAP_FEATURES: dict[str, bool] = {}


def bwrap_command(argv: Sequence[str], scratch: str | Path, limits: Limits,
                  ro_binds: Iterable[str | Path] = (),
                  rw_binds: Iterable[tuple[str | Path, str | Path]] = (),
                  chdir: str | None = None, env: dict[str, str] | None = None) -> list[str]:
    """The bubblewrap command line that runs argv confined.

    `scratch` is a folder the caller filled with what the process needs (its script, its job,
    a copy of the notebook's folder). Inside, the process's home is a fresh tmpfs at the same
    path, bounded by limits.scratch_bytes, into which the scratch folder's files are copied
    before argv starts: whatever it writes stays in memory the sandbox pays for and is gone
    when it ends, never on the grading machine's disk (which a sandbox user could fill, root's
    reserved blocks included). The rw_binds sources are handed over to the sandbox's host
    user here; they are the only host folders it can write (the kernel's socket folder)."""
    uid, gid, _ = sandbox_user()
    # (No bubblewrap: the command fails to start; callers ask require_sandbox first.)
    cmd = [bwrap_path() or "bwrap", "--die-with-parent", "--new-session", "--clearenv"]
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
    for ro_bind in ro_binds:
        mounts.bind("--ro-bind", str(ro_bind), str(ro_bind))
    hand_over(scratch)
    mounts.bind("--ro-bind", str(scratch), INPUTS)
    # 1777: bubblewrap running as root makes the tmpfs root's; only this sandbox sees it.
    mounts.tmpfs(str(scratch), limits.scratch_bytes, mode="1777")
    for rw_source, rw_target in rw_binds:
        hand_over(rw_source)
        mounts.bind("--bind", str(rw_source), str(rw_target))
    # The sandbox's own root is a tmpfs bwrap builds the mount points on: make it read-only, so
    # the tmpfs folders and the rw_binds are the only places it can write.
    cmd += ["--remount-ro", "/", "--chdir", str(chdir or scratch)]
    for key, value in (env or {}).items():
        cmd += ["--setenv", key, value]
    cmd += ["--setenv", "HOME", str(scratch), "--setenv", "TMPDIR", "/tmp",
            "--setenv", "MPLCONFIGDIR", os.path.join(scratch, MATPLOTLIB_DIR), "--"]
    if _drops_root():
        cmd += [setpriv_path() or "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    # Unprivileged, before argv: the caller's files into the home (links are not followed:
    # the scratch folder holds only what the caller wrote).
    copy_in = 'cp -R "$0"/. "$HOME" && exec "$@"'
    return cmd + ["/bin/sh", "-c", copy_in, INPUTS] + list(argv)


PROC_SYS = Path("/proc/sys")      # tests point this at a fake tree
# kernel setting (under /proc/sys) -> the value that refuses an unprivileged user namespace,
# and the command that allows it again.
USERNS_SETTINGS = {
    "kernel/apparmor_restrict_unprivileged_userns": (
        "1", "an AppArmor profile that lets bwrap make user namespaces (below), or, for every "
             "program on the machine: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
    "user/max_user_namespaces": (
        "0", "sysctl -w user.max_user_namespaces=15000 (and the same line, without -w, in "
             "/etc/sysctl.d/90-userns.conf)"),
    "kernel/unprivileged_userns_clone": (
        "0", "sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/90-userns.conf)"),
}
# What bubblewrap prints when the kernel (or AppArmor) refuses it a user namespace.
USERNS_FAILURES = ("setting up uid map", "No permissions to create", "creating new namespace",
                   "Creating new namespace failed", "Failed RTM_NEWADDR",
                   "unprivileged user namespaces")
APPARMOR_PROFILE = """abi <abi/4.0>,
include <tunables/global>
profile bwrap /usr/bin/bwrap flags=(unconfined) {
  userns,
  include if exists <local/bwrap>
}"""


def userns_refused_by(proc_sys: str | Path | None = None) -> list[str]:
    """The kernel settings here (under /proc/sys) that refuse unprivileged user namespaces."""
    refused = []
    for name, (value, _) in USERNS_SETTINGS.items():
        try:
            now = (Path(proc_sys or PROC_SYS) / name).read_text().strip()
        except OSError:
            continue         # not this kernel's setting (AppArmor's is Ubuntu's)
        if now == value:
            refused.append(name)
    return refused


def userns_advice(bwrap_error: str = "", proc_sys: str | Path | None = None) -> str:
    """Why a grader that is not root cannot have its sandbox here, and what to do, in words; ""
    when it is root (bubblewrap then needs no user namespace) or nothing refuses one."""
    if os.geteuid() == 0:
        return ""
    refused = userns_refused_by(proc_sys)
    failed = [text for text in USERNS_FAILURES if text.lower() in bwrap_error.lower()]
    if not refused and not failed:
        return ""
    said = [f"bubblewrap said: {bwrap_error.strip()[:200]}"] if bwrap_error.strip() else []
    why = "; ".join([f"{name.replace('/', '.')} = {USERNS_SETTINGS[name][0]}"
                     for name in refused] + said)
    fixes = [USERNS_SETTINGS[name][1] for name in refused]
    apparmor = any("apparmor" in name for name in refused) or "uid map" in bwrap_error or \
        "RTM_NEWADDR" in bwrap_error
    if not fixes:       # bubblewrap failed, no setting known here says why
        fixes = [USERNS_SETTINGS["kernel/apparmor_restrict_unprivileged_userns"][1]] \
            if apparmor else [USERNS_SETTINGS["user/max_user_namespaces"][1],
                              USERNS_SETTINGS["kernel/unprivileged_userns_clone"][1]]
    text = (f"This machine refuses unprivileged user namespaces ({why}), which bubblewrap needs "
            f"to confine student code when the grader (uid {os.geteuid()}) is not root: grading "
            f"refuses to start rather than run student code unconfined. Either grade as root "
            f"(bubblewrap then needs no user namespace, and setpriv drops the sandbox to uid "
            f"{NOBODY}), or, as root, " + "; or ".join(fixes) + ".")
    if apparmor:
        text += (" The AppArmor profile (Ubuntu 23.10 and later; as root, "
                 "`apparmor_parser -r /etc/apparmor.d/bwrap` after writing this to "
                 "/etc/apparmor.d/bwrap):\n"
                 + APPARMOR_PROFILE.replace("/usr/bin/bwrap",
                                            os.path.realpath(bwrap_path() or "/usr/bin/bwrap")))
    return text


class _Mounts:
    """Adds mounts to a bwrap command line, with every directory above a mount point made 0755
    first (bubblewrap running as root makes them 0700, which uid 65534 could not enter)."""

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd
        self.made: set[str] = set()
        self.bound: list[str] = []

    def _parents(self, target: str) -> None:
        for path in reversed(Path(target).parents):
            parent = str(path)
            if parent == "/" or parent in self.made or \
                    any(parent == b or parent.startswith(b + "/") for b in self.bound):
                continue
            self.cmd += ["--perms", "0755", "--dir", parent]
            self.made.add(parent)

    def bind(self, option: str, source: str, target: str) -> None:
        self._parents(target)
        self.cmd += [option, source, target]
        self.bound.append(target.rstrip("/") or "/")

    def tmpfs(self, target: str, size: int, mode: str) -> None:
        """A private tmpfs at target, bounded by size where bubblewrap can bound it."""
        self._parents(target)
        if tmpfs_sizes_supported():
            self.cmd += ["--size", str(int(size))]
        self.cmd += ["--perms", mode, "--tmpfs", target]
        # Made, not bound: folders under it are made 0755 like any other mount point's parents.
        self.made.add(target)
