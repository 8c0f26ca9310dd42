"""The doctor's probes, judged: one method of `Doctor` per promise the sandbox makes.

Each starts a probe (autograder/sandboxed/probes.py) in the sandbox exactly as grading starts
student code (spawn.Sandbox), with the smaller PROBE_LIMITS, and reads what it did: whether the
promise held, by what mechanism, and what the probe saw. doctor.py prints the table.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from autograder.sandbox import bwrap, spawn
from autograder.sandbox.cgroups import ResourceGroup, mechanisms
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import descendants, exit_status, kill_group, send_signal
from autograder.sandbox.rlimits import memory_bound, process_bound

ROOT = Path(__file__).resolve().parents[2]
# The programs run inside the sandbox, one function per promise (a real file, copied into each
# probe's scratch folder).
PROBES_SCRIPT = Path(__file__).resolve().parents[1] / "sandboxed" / "probes.py"
# Half a core, so that the quota shows even on a one-core machine.
PROBE_LIMITS = Limits(memory_bytes=256 * 1024 ** 2, max_processes=32, file_bytes=8 * 1024 ** 2,
                      cpu_seconds=2, cpu_cores=0.5, scratch_bytes=32 * 1024 ** 2)
CPU_SPINNERS, CPU_SPIN_SECONDS = 4, 1.5
MEMORY_PROBE_CPU_SECONDS = 20


# Method of Doctor -> the promise it tests, in the order of the table.
PROMISES = {
    "memory": "memory beyond the limit is stopped",
    "processes": "processes beyond the limit are refused",
    "leftovers": "nothing outlives the sandbox",
    "network": "no network, not even this machine's loopback",
    "course_files": "no course file is readable",
    "writes": "nothing writable outside the scratch folder",
    "file_size": "file size is bounded",
    "cpu": "CPU time is bounded",
    "cpu_share": "a busy sandbox gets its share of CPU, not the machine",
    "scratch": "scratch space is bounded and leaves nothing on disk",
    "host_uid": "the sandboxed process is not root on the machine",
}


@dataclass
class Row:
    """One promise, whether it held here, and by what. A promise that is not `required` may
    fail without stopping grading: the table says what is lost."""

    promise: str
    held: bool
    mechanism: str
    detail: str = ""
    required: bool = True


Watcher = Callable[[subprocess.Popen], object]


@dataclass
class ProbeRun:
    """What one probe did: how it ended, what it printed, its RESULT, and whether its cgroup
    counted a limit hit."""

    returncode: int | None
    output: list[str]
    result: dict
    memory_hit: bool = False
    process_hit: bool = False


class Doctor:
    """Runs the probes with one set of limits and one cgroup root."""

    def __init__(self, limits: Limits = PROBE_LIMITS, cgroup_root: str | Path | None = None,
                 fallback: bool = True, out: TextIO | None = None) -> None:
        self.limits, self.cgroup_root, self.fallback = limits, cgroup_root, fallback
        self.out = out or sys.stdout
        self.said: dict[str, str] = {}
        self.active: set[str] = set()
        self._scratch = ""

    def probe(self, name: str, *args: object, during: Watcher | None = None,
              after: Watcher | None = None, timeout: float = 60,
              limits: Limits | None = None) -> ProbeRun:
        """Run probes.py's `name` in the sandbox; an argument that is a function is given the
        process's ResourceGroup. `during(proc)` runs while the probe does, `after(proc)` once it
        has ended but before its group is closed (what outlives it is still there). `limits`:
        other limits than the doctor's for this probe."""
        with spawn.Sandbox(limits or self.limits, "doctor", cgroup_root=self.cgroup_root,
                           fallback=self.fallback) as box:
            group = box.group
            assert group is not None        # a sandboxed Sandbox always has one
            self._scratch = box.scratch
            self.active = group.active
            self.said = mechanisms(self.limits, group, self.fallback)
            argv = [str(a(group) if callable(a) else a) for a in args]
            script = shutil.copy(PROBES_SCRIPT, box.scratch)
            # No font list seeded into its home: the scratch probe checks that nothing is left.
            proc = box.start([sys.executable, "-I", script, name, *argv], seed=False,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            if during:
                during(proc)
            try:
                output, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                output, _ = proc.communicate()
            if after:
                after(proc)
            lines = output.splitlines()
            results = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
            return ProbeRun(proc.returncode, lines, results[-1] if results else {},
                            group.memory_limit_hit(), group.process_limit_hit())

    # One method per promise, in the order of the table.

    def memory(self) -> Row:
        bound = {}

        def twice_the_bound(group: ResourceGroup) -> int:
            # The bound in force: the limit under a cgroup, 4x under RLIMIT_AS.
            bound["bytes"] = memory_bound(self.limits, group.active) if self.fallback \
                else self.limits.memory_bytes
            return 2 * bound["bytes"]

        # CPU time enough to touch twice the bound (under RLIMIT_AS, 8x the limit) on a busy
        # machine: the CPU limit stopping it first would show nothing about memory.
        run = self.probe("memory", twice_the_bound, limits=replace(
            self.limits, cpu_seconds=max(self.limits.cpu_seconds, MEMORY_PROBE_CPU_SECONDS)))
        cap = 2 * bound["bytes"]
        reached = max([int(line.split()[1]) for line in run.output
                       if line.startswith("allocated ")] or [0])
        how = run.result.get("how") or exit_status(run.returncode)
        # Stopped: a MemoryError, or killed (by the cgroup's OOM killer) while allocating; not
        # by the CPU time limit.
        stopped = run.result.get("stopped") or (not run.result and reached > 0 and
                                                how.startswith("signal") and "SIGXCPU" not in how)
        held = bool(stopped) and reached < cap
        hit = "; the cgroup counted the limit hit" if run.memory_hit else ""
        detail = f"stopped after {reached >> 20} MB ({how}{hit})" if held else \
            f"allocated {reached >> 20} MB of twice the {cap >> 21} MB bound: " \
            f"{_outcome(run)}"
        return Row(PROMISES["memory"], held, self.said["memory"], detail)

    def processes(self) -> Row:
        bound = {}

        def twice_the_bound(group: ResourceGroup) -> int:
            # RLIMIT_NPROC counts what the host user already runs: its bound is higher.
            bound["count"] = self.limits.max_processes \
                if "pids" in group.active or not self.fallback \
                else process_bound(self.limits)
            return 2 * bound["count"]

        run = self.probe("processes", twice_the_bound)
        cap = 2 * bound["count"]
        reached = run.result.get("reached", 0)
        held = bool(run.result.get("stopped")) and reached < cap
        detail = f"fork refused after {reached} processes ({run.result.get('how')})" if held \
            else f"forked {reached} of twice the bound: {_outcome(run)}"
        return Row(PROMISES["processes"], held, self.said["processes"], detail)

    def leftovers(self) -> Row:
        marker = f"course-doctor-leftover-{uuid.uuid4().hex[:8]}"
        found = []

        def look(_proc: subprocess.Popen) -> None:
            time.sleep(0.5)
            found.extend(_processes_named(marker))

        run = self.probe("leftover", marker, after=look)
        for pid in found:     # the promise failed: do not leave it running
            send_signal(pid, signal.SIGKILL)
        held = bool(run.result.get("started")) and not found
        detail = "a daemon it started (own session) was gone when it ended" if held else \
            f"its daemon was still running (pid {', '.join(map(str, found))})" if found else \
            _outcome(run)
        return Row(PROMISES["leftovers"], held,
                   "bubblewrap PID namespace (--unshare-pid, --die-with-parent)", detail)

    def network(self) -> Row:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(0.2)
        accepted, running = [], [True]

        def serve() -> None:
            while running[0]:
                try:
                    accepted.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            run = self.probe("network", server.getsockname()[1])
        finally:
            running[0] = False
            thread.join(timeout=5)
            server.close()
            for conn in accepted:
                conn.close()
        reached = run.result.get("reached", {})
        interfaces = run.result.get("interfaces", ["?"])
        connected = [k for k, v in reached.items() if v == "connected"]
        connected += [f"interface {name}" for name in interfaces if name != "lo"]
        held = bool(reached) and not connected and not accepted
        detail = "; ".join(f"{k}: {v}" for k, v in reached.items()) + \
            f"; interfaces: {', '.join(interfaces)}" if held else \
            f"connected to {', '.join(connected) or 'the listener on 127.0.0.1'}" \
            if connected or accepted else _outcome(run)
        return Row(PROMISES["network"], held,
                   "bubblewrap network namespace (--unshare-net)", detail)

    def course_files(self) -> Row:
        fd, secret = tempfile.mkstemp(prefix="course-doctor-secret-")
        os.close(fd)
        os.chmod(secret, 0o644)
        paths = [str(ROOT / p) for p in ("solutions", "source", "nbgrader_config.py",
                                          "gradebook.db", "autograder/checks", "submitted")]
        # A few of the grader's own files, but not what leads to a mounted Python (~/.pyenv).
        home = Path.home()
        roots = bwrap.python_roots()
        mine = [str(p) for p in sorted(home.iterdir()) if not any(
            r == str(p) or r.startswith(f"{p}/") for r in roots)][:5] if home.is_dir() else []
        paths += [secret, *mine]
        try:
            run = self.probe("read", *paths)
        finally:
            os.remove(secret)
        seen = run.result.get("seen")
        held = seen == []
        detail = f"none of {len(paths)} paths is there: solutions/, source/, the gradebook, " \
                 f"a file in /tmp, files in {home}" if held else \
            f"sees {seen}" if seen else _outcome(run)
        return Row(PROMISES["course_files"], held,
                   "bubblewrap mount namespace: only the system, the Python and the scratch "
                   "folder are mounted", detail)

    def writes(self) -> Row:
        name = f"course-doctor-{uuid.uuid4().hex[:8]}"
        dirs = list(dict.fromkeys(["/", "/tmp", "/var/tmp", "/dev/shm", "/usr", "/etc",
                                   sys.prefix, str(ROOT), str(Path.home()), "/root"]))
        run = self.probe("write", name, *dirs)
        leaked = [d for d in dirs if os.path.lexists(os.path.join(d, name))]
        for folder in leaked:
            os.remove(os.path.join(folder, name))
        wrote = run.result.get("wrote")
        held = wrote is not None and not leaked
        inside = ", ".join(wrote or []) or "none"
        detail = f"writable inside only, private to it: {inside}" if held else \
            f"wrote onto the machine in {', '.join(leaked)}" if leaked else _outcome(run)
        return Row(PROMISES["writes"], held,
                   "bubblewrap mount namespace: read-only root, private /tmp and /dev/shm",
                   detail)

    def file_size(self) -> Row:
        cap = 2 * self.limits.file_bytes
        run = self.probe("file_size", cap)
        reached = run.result.get("reached", 0)
        held = bool(run.result.get("stopped")) and reached <= self.limits.file_bytes
        detail = f"a write past {reached >> 20} MB failed ({run.result.get('how')})" if held \
            else f"wrote {reached >> 20} MB of twice the limit: {_outcome(run)}"
        return Row(PROMISES["file_size"], held, self.said["file size"], detail)

    def cpu(self) -> Row:
        run = self.probe("cpu", 2 * self.limits.cpu_seconds, timeout=30)
        how = exit_status(run.returncode)
        # SIGXCPU at the soft limit, SIGKILL at the hard one.
        held = not run.result and how.split(":")[0] in ("signal SIGXCPU", "signal SIGKILL")
        detail = f"stopped ({how})" if held else _outcome(run)
        return Row(PROMISES["cpu"], held, self.said["cpu time"], detail)

    def cpu_share(self) -> Row:
        run = self.probe("cpu_share", CPU_SPINNERS, CPU_SPIN_SECONDS)
        cores = self.limits.cpu_cores
        used = run.result.get("cpu", 0.0) / max(run.result.get("wall", 1.0), 1e-3)
        got = f"{CPU_SPINNERS} busy processes got {used:.2f} cores for " \
              f"{run.result.get('wall', 0):.1f} s"
        if "cpu" not in self.active:
            # No cgroup can share the CPU here: grading still runs, and says what is lost.
            return Row(PROMISES["cpu_share"], False, self.said["cpu share"],
                       f"{got}; without a cpu cgroup a busy sandbox slows the others (verdicts "
                       f"count CPU time, so they do not change; grading takes longer)",
                       required=False)
        held = bool(run.result) and used <= cores * 1.25 + 0.05
        detail = f"{got} (quota {cores:g})" if run.result else _outcome(run)
        return Row(PROMISES["cpu_share"], held, self.said["cpu share"], detail)

    def scratch(self) -> Row:
        cap = self.limits.scratch_bytes
        left = {}

        def look(_proc: subprocess.Popen) -> None:
            left["files"] = sorted(os.listdir(self._scratch))

        run = self.probe("scratch", 2 * cap, 4 * 1024 ** 2, after=look)
        written = run.result.get("written", {})
        stopped = {folder: total for folder, (total, how) in written.items()
                   if how and total <= cap}
        on_disk = [name for name in left.get("files", []) if name != PROBES_SCRIPT.name]
        held = len(written) == 3 and len(stopped) == 3 and not on_disk
        detail = ("writes stopped at " + ", ".join(f"{folder} {total >> 20} MB"
                                                    for folder, total in stopped.items()) +
                  "; nothing written to the machine's disk") if held else \
            f"wrote {written} ; left on disk: {on_disk}" if run.result else _outcome(run)
        return Row(PROMISES["scratch"], held, self.said["scratch"], detail)

    def host_uid(self) -> Row:
        seen: dict[str, Any] = {}

        def look(proc: subprocess.Popen) -> None:
            assert proc.stdout is not None            # probe() starts it with stdout=PIPE
            proc.stdout.readline()                    # READY
            for pid in descendants(proc.pid):
                if PROBES_SCRIPT.name.encode() in _read(f"/proc/{pid}/cmdline"):
                    status = _read(f"/proc/{pid}/status").decode()
                    fields = dict(line.split(":", 1) for line in status.splitlines())
                    seen.update(pid=pid, uids=fields["Uid"].split(),
                                caps=fields["CapEff"].strip())

        self.probe("uid", during=look)
        held = bool(seen) and "0" not in seen["uids"] and int(seen["caps"], 16) == 0
        detail = (f"uid {seen['uids'][0]} and no capabilities in /proc/{seen['pid']}/status"
                  if seen else "the sandboxed process was not found")
        return Row(PROMISES["host_uid"], held,
                   self.said["host uid"], detail)

    def check(self) -> list[Row]:
        """Every promise, printing progress; returns the rows."""
        rows = []
        for number, (name, promise) in enumerate(PROMISES.items(), 1):
            print(f"doctor [{number}/{len(PROMISES)}] {promise} ...", end=" ", flush=True,
                  file=self.out)
            start = time.perf_counter()
            try:
                row = getattr(self, name)()
            except Exception as exc:  # noqa: BLE001 - a probe that breaks is a promise not shown
                row = Row(promise, False, "?", f"the probe failed: {exc!r}"[:300])
            rows.append(row)
            state = "held" if row.held else "NOT HELD" if row.required else "weak"
            print(f"{state} ({time.perf_counter() - start:.1f} s)",
                  file=self.out, flush=True)
        return rows


def _read(path: str | Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _outcome(run: ProbeRun) -> str:
    """What a probe that did not show the promise holding did, for the table."""
    if run.result:
        return f"it ended with {run.result}"
    last = [line for line in run.output if line.strip()][-1:] or ["no output"]
    return f"the probe ended ({exit_status(run.returncode)}): {last[0][:200]}"


def _processes_named(marker: str) -> list[int]:
    """Processes on the machine whose command line contains marker."""
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and marker.encode() in _read(p / "cmdline")]
