"""`python -m autograder doctor`: test, on this machine, every promise the grading sandbox makes.

Each promise is tested by a real program doing the harmful thing inside the sandbox, started
exactly as grading starts student code (sandbox.ResourceGroup, bwrap_command, confiner), and
bounded so that a limit that does not hold cannot hurt the machine: memory is allocated in steps
up to twice the limit, processes are forked up to twice the limit, and so on. The probes use
smaller limits than grading (so they take seconds), enforced by the same mechanisms.

Exit status 0 when every promise holds, 1 when one does not: `make grade` runs the doctor first
and refuses to grade unless COURSE_GRADING_WITHOUT_SANDBOX=I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from autograder import sandbox

ROOT = Path(__file__).resolve().parents[2]
# Half a core, so that the quota shows even on a one-core machine.
PROBE_LIMITS = sandbox.Limits(memory_bytes=256 * 1024 ** 2, max_processes=32,
                              file_bytes=8 * 1024 ** 2, cpu_seconds=2, cpu_cores=0.5,
                              scratch_bytes=32 * 1024 ** 2)
CPU_SPINNERS, CPU_SPIN_SECONDS = 4, 1.5

# The programs run inside the sandbox, one function per promise; each ends by printing
# `RESULT {json}` unless the sandbox stops it first.
PROBES = r'''
import json, os, socket, sys, time


def say(**result):
    print("RESULT " + json.dumps(result), flush=True)


def memory(cap):
    blocks, got = [], 0
    try:
        while got < int(cap):
            blocks.append(b"\x01" * (16 << 20))   # written, so really in memory
            got += 16 << 20
            print("allocated", got, flush=True)
    except MemoryError:
        return say(stopped=True, reached=got, how="MemoryError")
    say(stopped=False, reached=got)


def processes(cap):
    children = 0
    try:
        while children < int(cap):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError as exc:
        return say(stopped=True, reached=children, how=exc.strerror)
    say(stopped=False, reached=children)


def leftover(marker):
    if os.fork() == 0:        # a daemon: its own session, its parent gone
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", [marker, "60"])
        os._exit(0)
    time.sleep(0.5)
    say(started=True)


def network(port):
    # Only this machine's loopback is tried: the probe never sends anything off the machine.
    # That no other address is reachable is read from the interfaces the sandbox has.
    reached = {}
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
        reached[f"127.0.0.1:{port}"] = "connected"
    except OSError as exc:
        reached[f"127.0.0.1:{port}"] = exc.strerror or str(exc)
    say(reached=reached, interfaces=[name for _, name in socket.if_nameindex()])


def read(*paths):
    seen = []
    for path in paths:
        if os.path.exists(path):
            seen.append(path)
    say(seen=seen)


def write(name, *dirs):
    wrote = []
    for folder in dirs:
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write("course doctor")
            wrote.append(folder)
        except OSError:
            pass
    say(wrote=wrote)


def file_size(cap):
    chunk, written = b"x" * (1 << 20), 0
    try:
        with open("big", "wb", buffering=0) as f:
            while written < int(cap):
                written += f.write(chunk)
    except OSError as exc:
        return say(stopped=True, reached=written, how=exc.strerror)
    say(stopped=False, reached=written)


def cpu(cap):
    while time.process_time() < float(cap):
        pass
    say(stopped=False, seconds=time.process_time())


def cpu_share(workers, seconds):
    # Busy processes, each in a session of its own, for a fixed wall time: the CPU they got.
    start, pids = time.monotonic(), []
    for _ in range(int(workers)):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            while time.monotonic() < start + float(seconds):
                pass
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    times = os.times()
    say(cpu=times.children_user + times.children_system, wall=time.monotonic() - start)


def scratch(cap, chunk):
    # Files below the file-size limit, until cap bytes or a refusal, in each writable place.
    written = {}
    for name, folder in (("home", os.environ["HOME"]), ("/tmp", "/tmp"), ("/dev/shm", "/dev/shm")):
        total, how = 0, None
        try:
            while total < int(cap):
                with open(os.path.join(folder, f"fill-{total}"), "wb") as f:
                    f.write(b"x" * int(chunk))
                total += int(chunk)
        except OSError as exc:
            how = exc.strerror
        written[name] = [total, how]
    say(written=written)


def uid():
    print("READY", flush=True)
    sys.stdin.read()          # until the doctor has looked at this process from outside
    say(uid=os.getuid())


globals()[sys.argv[1]](*sys.argv[2:])
'''


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


@dataclass
class Run:
    """What one probe did."""

    returncode: int
    output: list
    result: dict
    memory_hit: bool = False
    process_hit: bool = False


class Doctor:
    """Runs the probes with one set of limits and one cgroup root."""

    def __init__(self, limits=PROBE_LIMITS, cgroup_root=None, fallback=True, out=None):
        self.limits, self.cgroup_root, self.fallback = limits, cgroup_root, fallback
        self.out = out or sys.stdout
        self.said = {}

    def probe(self, name, *args, during=None, after=None, timeout=60):
        """Run PROBES' `name` in the sandbox; an argument that is a function is given the
        process's ResourceGroup. `during(proc)` runs while the probe does, `after(proc)` once it
        has ended but before its group is closed (what outlives it is still there)."""
        scratch = self._scratch = sandbox.scratch_dir("doctor")
        group = sandbox.ResourceGroup(self.limits, root=self.cgroup_root)
        self.active = group.active
        self.said = sandbox.mechanisms(self.limits, group, self.fallback)
        args = [str(a(group) if callable(a) else a) for a in args]
        proc = None
        try:
            script = os.path.join(scratch, "probe.py")
            with open(script, "w") as f:
                f.write(PROBES)
            argv = sandbox.bwrap_command([sys.executable, "-I", script, name, *args],
                                         scratch, env=sandbox.child_env(self.limits),
                                         limits=self.limits)
            proc = subprocess.Popen(argv, cwd=scratch, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True,
                                    preexec_fn=sandbox.confiner(self.limits, group,
                                                                self.fallback))
            if during:
                during(proc)
            try:
                output, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                output, _ = proc.communicate()
            if after:
                after(proc)
            lines = output.splitlines()
            results = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
            return Run(proc.returncode, lines, results[-1] if results else {},
                       group.memory_limit_hit(), group.process_limit_hit())
        finally:
            if proc is not None:
                _kill(proc)
            group.close()
            sandbox.remove_tree(scratch)

    # One method per promise, in the order of the table.

    def memory(self):
        bound = {}

        def twice_the_bound(group):
            # The bound in force: the limit under a cgroup, 4x under RLIMIT_AS.
            bound["bytes"] = sandbox.memory_bound(self.limits, group.active) if self.fallback \
                else self.limits.memory_bytes
            return 2 * bound["bytes"]

        run = self.probe("memory", twice_the_bound)
        cap = 2 * bound["bytes"]
        reached = max([int(line.split()[1]) for line in run.output
                       if line.startswith("allocated ")] or [0])
        how = run.result.get("how") or _ended(run.returncode)
        # Stopped: a MemoryError, or killed (by the cgroup's OOM killer) while allocating.
        stopped = run.result.get("stopped") or (not run.result and reached > 0 and
                                                how.startswith("signal"))
        held = bool(stopped) and reached < cap
        hit = "; the cgroup counted the limit hit" if run.memory_hit else ""
        detail = f"stopped after {reached >> 20} MB ({how}{hit})" if held else \
            f"allocated {reached >> 20} MB of twice the {cap >> 21} MB bound: " \
            f"{_outcome(run)}"
        return Row(PROMISES["memory"], held, self.said["memory"], detail)

    def processes(self):
        bound = {}

        def twice_the_bound(group):
            # RLIMIT_NPROC counts what the host user already runs: its bound is higher.
            bound["count"] = self.limits.max_processes \
                if "pids" in group.active or not self.fallback \
                else sandbox.process_bound(self.limits)
            return 2 * bound["count"]

        run = self.probe("processes", twice_the_bound)
        cap = 2 * bound["count"]
        reached = run.result.get("reached", 0)
        held = bool(run.result.get("stopped")) and reached < cap
        detail = f"fork refused after {reached} processes ({run.result.get('how')})" if held \
            else f"forked {reached} of twice the bound: {_outcome(run)}"
        return Row(PROMISES["processes"], held, self.said["processes"], detail)

    def leftovers(self):
        marker = f"course-doctor-leftover-{uuid.uuid4().hex[:8]}"
        found = []

        def look(_proc):
            time.sleep(0.5)
            found.extend(_processes_named(marker))

        run = self.probe("leftover", marker, after=look)
        for pid in found:     # the promise failed: do not leave it running
            _signal(pid, signal.SIGKILL)
        held = run.result.get("started") and not found
        detail = "a daemon it started (own session) was gone when it ended" if held else \
            f"its daemon was still running (pid {', '.join(map(str, found))})" if found else \
            _outcome(run)
        return Row(PROMISES["leftovers"], held,
                   "bubblewrap PID namespace (--unshare-pid, --die-with-parent)", detail)

    def network(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(0.2)
        accepted, running = [], [True]

        def serve():
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

    def course_files(self):
        fd, secret = tempfile.mkstemp(prefix="course-doctor-secret-")
        os.close(fd)
        os.chmod(secret, 0o644)
        paths = [str(ROOT / p) for p in ("solutions", "source", "nbgrader_config.py",
                                          "gradebook.db", "autograder/checks", "submitted")]
        # A few of the grader's own files, but not what leads to a mounted Python (~/.pyenv).
        home = Path.home()
        roots = sandbox.python_roots()
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

    def writes(self):
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

    def file_size(self):
        cap = 2 * self.limits.file_bytes
        run = self.probe("file_size", cap)
        reached = run.result.get("reached", 0)
        held = bool(run.result.get("stopped")) and reached <= self.limits.file_bytes
        detail = f"a write past {reached >> 20} MB failed ({run.result.get('how')})" if held \
            else f"wrote {reached >> 20} MB of twice the limit: {_outcome(run)}"
        return Row(PROMISES["file_size"], held, self.said["file size"], detail)

    def cpu(self):
        run = self.probe("cpu", 2 * self.limits.cpu_seconds, timeout=30)
        how = _ended(run.returncode)
        held = not run.result and how in ("signal SIGXCPU", "signal SIGKILL")
        detail = f"stopped ({how})" if held else _outcome(run)
        return Row(PROMISES["cpu"], held, self.said["cpu time"], detail)

    def cpu_share(self):
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

    def scratch(self):
        cap = self.limits.scratch_bytes
        left = {}

        def look(_proc):
            left["files"] = sorted(os.listdir(self._scratch))

        run = self.probe("scratch", 2 * cap, 4 * 1024 ** 2, after=look)
        written = run.result.get("written", {})
        stopped = {folder: total for folder, (total, how) in written.items()
                   if how and total <= cap}
        on_disk = [name for name in left.get("files", []) if name != "probe.py"]
        held = len(written) == 3 and len(stopped) == 3 and not on_disk
        detail = ("writes stopped at " + ", ".join(f"{folder} {total >> 20} MB"
                                                    for folder, total in stopped.items()) +
                  "; nothing written to the machine's disk") if held else \
            f"wrote {written} ; left on disk: {on_disk}" if run.result else _outcome(run)
        return Row(PROMISES["scratch"], held, self.said["scratch"], detail)

    def host_uid(self):
        seen = {}

        def look(proc):
            proc.stdout.readline()                    # READY
            for pid in sandbox.descendants(proc.pid):
                if b"probe.py" in _read(f"/proc/{pid}/cmdline"):
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

    def check(self):
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


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _outcome(run):
    """What a probe that did not show the promise holding did, for the table."""
    if run.result:
        return f"it ended with {run.result}"
    last = [line for line in run.output if line.strip()][-1:] or ["no output"]
    return f"the probe ended ({_ended(run.returncode)}): {last[0][:200]}"


def _ended(returncode):
    if returncode is not None and returncode > 128:   # bubblewrap: 128 + the signal's number
        returncode = 128 - returncode
    if returncode is not None and returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def _processes_named(marker):
    """Processes on the machine whose command line contains marker."""
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and marker.encode() in _read(p / "cmdline")]


def table(rows):
    """The rows as the doctor prints them."""
    width = max(len(r.promise) for r in rows)
    lines = [f"{'promise':{width}}  {'':8}  by, and what the probe saw", "-" * (width + 60)]
    for r in rows:
        state = "held" if r.held else "NOT HELD" if r.required else "weak"
        lines.append(f"{r.promise:{width}}  {state:8}  {r.mechanism}")
        if r.detail:
            lines.append(f"{'':{width}}  {'':8}  ({r.detail})")
    return "\n".join(lines)


def limits_text(limits):
    return (f"memory {limits.memory_bytes >> 20} MB, {limits.max_processes} processes, files "
            f"{limits.file_bytes >> 20} MB, CPU {limits.cpu_seconds} s, {limits.cpu_cores:g} "
            f"core(s), scratch {limits.scratch_bytes >> 20} MB")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder doctor", description=(
        "Test, with real programs in the sandbox, every promise grading makes about student "
        "code; exit 1 if one does not hold here."))
    parser.add_argument("--cgroup-root", type=Path, default=None,
                        help="where the cgroup hierarchy is (default /sys/fs/cgroup)")
    parser.add_argument("--no-rlimit-fallback", action="store_true",
                        help="do not stand in for a missing cgroup with rlimits (to see what "
                             "the cgroups alone hold)")
    args = parser.parse_args(argv)
    if not sandbox.bwrap_path():
        print("bubblewrap (bwrap) is not installed: no promise holds; grading refuses to run "
              "(Debian: apt-get install bubblewrap).")
        return 1
    grading = sandbox.Limits()
    print(f"The sandbox's promises on this machine. Grading limits: {limits_text(grading)}; "
          f"the probes use {limits_text(PROBE_LIMITS)}, enforced the same way.", flush=True)
    doctor = Doctor(cgroup_root=args.cgroup_root, fallback=not args.no_rlimit_fallback)
    rows = doctor.check()
    print()
    print(table(rows))
    weak = [r.promise for r in rows if not r.held and not r.required]
    if weak:
        print(f"\nWeaker here, grading runs anyway: {'; '.join(weak)} (see the table).")
    failed = [r.promise for r in rows if not r.held and r.required]
    if not failed:
        print("\nEvery promise holds here." if not weak else
              "Every other promise holds here.")
        return 0
    print(f"\n{len(failed)} promise(s) do not hold here: {'; '.join(failed)}.")
    if sandbox.opted_out():
        print(f"{sandbox.OPT_OUT_VARIABLE} is set, so grading will run anyway, with no sandbox "
              f"at all: {sandbox.WITHOUT_SANDBOX}.")
    else:
        print(f"Grading (make grade) refuses to run. To grade anyway, knowing that "
              f"{sandbox.WITHOUT_SANDBOX}, set {sandbox.OPT_OUT_VARIABLE}="
              f"{sandbox.OPT_OUT_VALUE}.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
