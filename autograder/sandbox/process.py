"""Processes seen from the grader: ending a sandboxed process's group, saying how it ended, and
finding the processes it started. The one place for each: every caller that kills a process
group or describes an exit uses these."""

import os
import signal
import subprocess


def kill_group(proc: subprocess.Popen) -> None:
    """The process and everything it started in its session are gone when this returns (a
    sandboxed process is started in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def send_signal(pid: int, sig: int) -> None:
    """Send `sig` to process `pid`, which may have ended already (or never been ours to signal:
    a sandbox's process runs as another user once it has dropped root)."""
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def exit_status(proc: "subprocess.Popen | int | None", wait: float = 0.0) -> str:
    """'exit code N' or 'signal NAME' of an ended process (or of its return code); '' while it
    still runs."""
    if isinstance(proc, subprocess.Popen):
        try:
            code = proc.wait(timeout=wait) if wait else proc.poll()
        except subprocess.TimeoutExpired:
            return ""
    else:
        code = proc
    if code is None:
        return ""
    if code > 128:   # bubblewrap reports a signal as 128 + its number
        code = 128 - code
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    return {"SIGXFSZ": "signal SIGXFSZ: the output/file size limit",
            "SIGXCPU": "signal SIGXCPU: the CPU time limit"}.get(name, f"signal {name}")


def running(pid: int) -> bool:
    """Whether a process pid exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by process pid (read from /proc)."""
    children: dict[int, list[int]] = {}
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


def processes_inside(pid: int) -> list[int]:
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
