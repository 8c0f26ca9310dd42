"""The sandbox's proof on this host, kept: tested once, not once per command or per worker.

`python -m autograder doctor` proves every promise of the sandbox with real probes (about 10 s
of a core). Grading needs that proof before it runs student code, but what the proof depends on
rarely changes, so a passing proof is kept, under a key made of everything it depends on:

- the host: its name, its kernel's release and this boot (a sysctl, an AppArmor profile or a
  cgroup mount may change at boot; /proc/sys/kernel/random/boot_id changes with each boot);
- who grades (the effective uid: root and an ordinary account get different mechanisms);
- the mechanisms a sandbox gets here now (the cgroup layout and controllers, read from a real
  ResourceGroup, or the rlimit stand-ins): a controller that goes away changes the key;
- bubblewrap and setpriv (path, size, modification time) and the Python that runs the sandbox;
- the limits: the course's grading limits and the probes' own;
- the code: every file of autograder/sandbox/ and autograder/sandboxed/.

A kept proof whose key no longer matches is not used: grading proves again (`ensure`, under a
lock, so that sixteen workers on one host run the doctor once, not sixteen times).
`python -m autograder doctor` always runs the probes (re-proving on request) and keeps the proof
only when every required promise held; a failing run removes the kept one. Each worker then
checks only that its own sandbox starts (`sandbox_starts`: an empty sandbox in a real cgroup,
well under a second).

Proofs live in $AUTOGRADER_PROOF_DIR, else ${XDG_CACHE_HOME:-~/.cache}/training-neural-networks
(a folder only its owner can open, one file per key: a shared home serves many hosts).
"""

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]          # autograder/
ROOT = PACKAGE.parent
CODE = ("sandbox", "sandboxed")                        # the folders whose files the proof covers
DOCTOR_TIMEOUT = 300


def folder() -> Path:
    if os.environ.get("AUTOGRADER_PROOF_DIR"):
        return Path(os.environ["AUTOGRADER_PROOF_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "training-neural-networks"


def _file_id(path: str | None) -> str:
    if not path:
        return "missing"
    stat = os.stat(path)
    return f"{path} {stat.st_size} {int(stat.st_mtime)}"


def _code_digest() -> str:
    digest = hashlib.sha256()
    for name in CODE:
        for path in sorted((PACKAGE / name).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _mechanisms() -> dict[str, str]:
    """What a sandbox gets here now: the mechanism of each limit, from a real (empty) group."""
    from autograder.sandbox.cgroups import ResourceGroup, mechanisms
    from autograder.sandbox.limits import grading_limits

    limits = grading_limits()
    group = ResourceGroup(limits)
    try:
        return mechanisms(limits, group)
    finally:
        group.close()


def key() -> dict[str, Any]:
    """Everything the proof depends on, as readable data (its hash names the proof's file)."""
    from autograder.sandbox import bwrap
    from autograder.sandbox.limits import grading_limits
    from autograder.sandbox.promises import PROBE_LIMITS

    return {"host": platform.node(), "kernel": platform.release(), "boot": _boot_id(),
            "uid": os.geteuid(), "mechanisms": _mechanisms(),
            "bwrap": _file_id(bwrap.bwrap_path()), "setpriv": _file_id(bwrap.setpriv_path()),
            "python": _file_id(os.path.realpath(sys.executable)),
            "limits": repr(grading_limits()), "probe_limits": repr(PROBE_LIMITS),
            "code": _code_digest()}


def _path(of: dict[str, Any]) -> Path:
    name = hashlib.sha256(json.dumps(of, sort_keys=True).encode()).hexdigest()[:24]
    return folder() / f"sandbox-proof-{name}.json"


def kept(of: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The kept proof for `of` (default: this host as it is now), or None."""
    of = of if of is not None else key()
    try:
        proof = json.loads(_path(of).read_text())
    except (OSError, ValueError):
        return None
    return proof if isinstance(proof, dict) and proof.get("key") == of else None


def keep(table: str, of: dict[str, Any] | None = None) -> Path:
    """Keep a passing proof (the doctor's table) for `of`; proofs of earlier boots of this host
    go (they can never match again)."""
    of = of if of is not None else key()
    where = folder()
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _path(of)
    for old in where.glob("sandbox-proof-*.json"):
        if old != path:
            try:
                stale = json.loads(old.read_text())["key"]
                if stale["host"] == of["host"] and stale["boot"] != of["boot"]:
                    old.unlink()
            except (OSError, ValueError, KeyError, TypeError):
                continue
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"key": of, "proven_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                   "table": table}, f, indent=1)
    os.replace(partial, path)       # a reader sees the old proof or the whole new one
    return path


def forget(of: dict[str, Any] | None = None) -> None:
    """A proof that no longer holds is not kept."""
    _path(of if of is not None else key()).unlink(missing_ok=True)


def ensure(timeout: float = DOCTOR_TIMEOUT) -> tuple[bool, str]:
    """(held, what to say): the kept proof for this host as it is now, else the doctor's run
    (once per host at a time: concurrent callers wait for it and use its proof)."""
    of = key()
    proof = kept(of)
    if proof:
        return True, f"sandbox proven on this host at {proof['proven_at']} (kept proof)"
    try:
        where = folder()
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = open(where / "doctor.lock", "w")
    except OSError:
        return _doctor(timeout)             # no folder of its own: prove, without keeping
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # another process may be proving it right now
        proof = kept(of)
        if proof:
            return True, f"sandbox proven on this host at {proof['proven_at']} (kept proof)"
        return _doctor(timeout)


def _doctor(timeout: float) -> tuple[bool, str]:
    """The doctor's run in a process of its own (it keeps the proof when every promise held)."""
    try:
        done = subprocess.run([sys.executable, "-m", "autograder", "doctor"], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        return done.returncode == 0, done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"the sandbox's self-test could not run: {exc}"


def sandbox_starts(timeout: float = 30) -> str:
    """"" when an empty sandbox starts here exactly as grading starts one (bubblewrap, its own
    cgroup, the grading limits), else why not."""
    from autograder.sandbox import spawn
    from autograder.sandbox.limits import grading_limits

    try:
        with spawn.Sandbox(grading_limits(), "doctor-start-check") as box:
            proc = box.start([shutil.which("true", path="/usr/bin:/bin") or "/bin/true"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
            _, err = proc.communicate(timeout=timeout)
            if proc.returncode:
                return (f"an empty sandbox did not start (exit {proc.returncode}): "
                        f"{err.decode(errors='replace').strip()[:300]}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"an empty sandbox did not start: {exc}"
    return ""
