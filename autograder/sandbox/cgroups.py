"""The cgroup of one sandboxed process tree (v1 or v2, where the machine lets the grader make
one), and which mechanism holds each limit here.

Each sandbox gets a memory limit, a process limit and a CPU share: a quota of Limits.cpu_cores
and the same weight as every other sandbox. Where a controller cannot be had, rlimits and
`nice` stand in (rlimits.py), and `mechanisms` says so, in the grading log and the doctor's
table. Folders a grader that died left, its empty cgroups included, are removed by the next
grading run (files.sweep_leftovers, with `cgroup_parents`).
"""

import os
import pwd
import signal
import sys
import time
import uuid
from pathlib import Path

from autograder.sandbox import bwrap
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import send_signal
from autograder.sandbox.rlimits import CPU_NICE, memory_bound

CGROUP_ROOT = Path("/sys/fs/cgroup")          # tests point this at a fake tree
PROC_CGROUP = Path("/proc/self/cgroup")       # where the grader's own cgroup is read (v2)
CGROUP_PARENT = "course-grading"
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000                       # the CFS period; the quota is cores x this
CPU_SHARES_V1 = 1024                          # every sandbox the same weight (the default)
CPU_WEIGHT_V2 = 100


def cgroup_parents(root: Path) -> list[Path]:
    """Every course-grading folder ResourceGroup may have made."""
    candidates = [root / c / CGROUP_PARENT for c in CONTROLLERS]
    own = root / own_cgroup().strip("/")
    candidates += [p / CGROUP_PARENT for p in [own, *own.parents]
                   if p == root or root in p.parents]
    return [p for p in dict.fromkeys(candidates) if p.is_dir()]

def own_cgroup() -> str:
    """The grader's own cgroup in the v2 hierarchy ('/path' from the line '0::/path')."""
    try:
        for line in PROC_CGROUP.read_text().splitlines():
            if line.startswith("0::"):
                return line[3:] or "/"
    except OSError:
        pass
    return "/"


def _write(path: Path, value: int | str) -> str:
    """Write a cgroup file and read it back: the kernel may refuse or round what it was given."""
    path.write_text(str(value))
    return path.read_text().strip()


def _same(read: str, value: int | str) -> bool:
    if isinstance(value, str):
        return read.split() == value.split()      # cpu.max: "quota period"
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        number = int(read)
    except ValueError:
        return False
    return number == value or number == value // page * page   # memory limits are in pages


def _names(text: str) -> set[str]:
    # The kernel lists controller names; a plain file (a test's fake tree) echoes "+name".
    return {word.lstrip("+") for word in text.split()}


GRADER_LEAF = "grader-{user}"   # v2: where root puts the delegated grader (see delegate)


def delegate(user: str, root: str | Path | None = None) -> list[Path]:
    """As root: make the course's cgroup parent and give it to `user` (an instructor account),
    so that a grader running as `user` can make its sandboxes' cgroups there. Returns the
    folders given.

    v1: course-grading in each controller's hierarchy, its folder and files the user's (the
    groups it makes under it are its own; the kernel lets it move its own processes in).
    v2: course-grading at the top with memory, pids and cpu enabled for it and its children,
    the folder and its cgroup.procs, cgroup.subtree_control and cgroup.threads the user's, and
    a leaf grader-<user> under it for the grader itself: v2 lets a process move another only
    where it may write the cgroup.procs of both groups' common ancestor, so the grader must
    run inside course-grading (root moves its shell there: `echo PID > .../cgroup.procs`)."""
    if os.geteuid() != 0:
        raise ValueError("only root can delegate cgroups (sudo python -m autograder doctor "
                         "--delegate USER)")
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"no user {user!r} on this machine") from None
    uid, gid = entry.pw_uid, entry.pw_gid
    root = Path(root or CGROUP_ROOT)
    given: list[Path] = []

    def give(folder: Path, files: tuple[str, ...]) -> None:
        os.chown(folder, uid, gid)
        for name in files:
            if (folder / name).exists():
                os.chown(folder / name, uid, gid)
        given.append(folder)

    if (root / "cgroup.controllers").is_file():
        wanted = set(CONTROLLERS) & _names((root / "cgroup.controllers").read_text())
        if not wanted:
            raise ValueError(f"the cgroup v2 root {root} has none of {', '.join(CONTROLLERS)}")
        plus = " ".join(f"+{c}" for c in sorted(wanted))
        if not wanted <= _names((root / "cgroup.subtree_control").read_text()):
            _write(root / "cgroup.subtree_control", plus)
        parent = root / CGROUP_PARENT
        parent.mkdir(exist_ok=True)
        _write(parent / "cgroup.subtree_control", plus)
        delegated = ("cgroup.procs", "cgroup.subtree_control", "cgroup.threads")
        give(parent, delegated)
        leaf = parent / GRADER_LEAF.format(user=user)
        leaf.mkdir(exist_ok=True)
        give(leaf, delegated)
        return given
    for controller in CONTROLLERS:
        if (root / controller / "cgroup.procs").is_file():
            folder = root / controller / CGROUP_PARENT
            folder.mkdir(exist_ok=True)
            give(folder, ("cgroup.procs", "tasks", "cgroup.clone_children"))
    if not given:
        raise ValueError(f"no cgroup hierarchy at {root}")
    return given


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

    def __init__(self, limits: Limits, root: str | Path | None = None) -> None:
        self.limits = limits
        self.root = Path(root or CGROUP_ROOT)
        # The grader's pid first: a later grading run removes groups whose grader is gone.
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        # controller -> its group's directory, for the active controllers
        self.dirs: dict[str, Path] = {}
        self.notes: list[str] = []
        self.layout: str | None
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

    def _limits(self) -> list[tuple[str, str, int | str, dict[str, int]]]:
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

    def _make_v1(self) -> None:
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

    def _make_v2(self) -> None:
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

    def _v2_parent(self) -> tuple[Path | None, set[str]]:
        """course-grading, with memory, pids and cpu enabled for its children: under the nearest
        cgroup above the grader's own where that can be done (the root is exempt from the
        no-internal-processes rule, so the grader's own cgroup is tried only when it is the
        root). Returns (path, enabled controllers) or (None, set())."""
        own = self.root / own_cgroup().strip("/")
        bases = [own] if own == self.root else []
        bases += [p for p in own.parents if p == self.root or self.root in p.parents]
        for base in bases:
            if not _may_move_within(base):
                self.notes.append(
                    f"cgroup v2: uid {os.geteuid()} may not move processes under {base} (its "
                    f"cgroup.procs is not the grader's: as root, `python -m autograder doctor "
                    f"--delegate USER` and the grader run in {CGROUP_PARENT}/"
                    f"{GRADER_LEAF.format(user='USER')})")
                continue
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
    def active(self) -> set[str]:
        return set(self.dirs)

    def join(self, pid: int) -> set[str]:
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

    def memory_limit_hit(self) -> bool:
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

    def process_limit_hit(self) -> bool:
        path = self.dirs.get("pids")
        try:
            return path is not None and \
                _counters((path / "pids.events").read_text()).get("max", 0) > 0
        except (OSError, ValueError):
            return False

    def close(self) -> None:
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
                    if pid.isdigit():
                        send_signal(int(pid), signal.SIGKILL)
                time.sleep(0.02)
            _rmdir(path)
        self.dirs = {}

def _may_move_within(base: Path) -> bool:
    """v2 lets a process move another from one group to another only when it may write the
    cgroup.procs of their common ancestor: for a sandbox under base/course-grading, base's."""
    return os.geteuid() == 0 or os.access(base / "cgroup.procs", os.W_OK)


def _counters(text: str) -> dict[str, int]:
    """'name value' lines (memory.events, pids.events, memory.oom_control) as a dict."""
    pairs = (line.split() for line in text.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def _rmdir(path: Path) -> None:
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


def mechanisms(limits: Limits, group: "ResourceGroup | None" = None,
               fallback: bool = True) -> dict[str, str]:
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
        if bwrap.tmpfs_sizes_supported() else \
        "tmpfs for home, /tmp and /dev/shm, UNBOUNDED by size (bubblewrap older than 0.8 " \
        "has no --size): only a memory cgroup bounds them"
    uid, _, how = bwrap.sandbox_user()
    return {"memory": memory, "processes": processes, "host uid": f"{uid}, {how}",
            "file size": f"rlimit RLIMIT_FSIZE {limits.file_bytes >> 20} MB",
            "cpu time": f"rlimit RLIMIT_CPU {limits.cpu_seconds} s",
            "cpu share": cpu, "scratch": scratch}


_announced: list[str] = []


def announce(group: ResourceGroup) -> None:
    """Say in the grading log which mechanism holds each limit: once, and again if it changes."""
    said = mechanisms(group.limits, group)
    line = "; ".join(f"{k}: {said[k]}" for k in ("memory", "processes", "cpu share",
                                                 "host uid"))
    if group.notes and len(group.active) < len(CONTROLLERS):
        line += f" (cgroups not used: {'; '.join(dict.fromkeys(group.notes))})"
    if line not in _announced:
        _announced.append(line)
        print(f"[sandbox] {line}", file=sys.stderr)
