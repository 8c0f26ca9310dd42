"""The sandbox around student code: what it hides, what it stops, and what it leaves behind."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.runner import Call, run_calls

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sandbox.bwrap_path(), reason="bubblewrap is not installed")


def call(code, name="f", args=(0,), timeout=20.0):
    report = run_calls([code], [Call("k", name, args=args, timeout=timeout)])
    return report.outcomes["k"], report


def test_course_files_are_invisible():
    code = f"""
import os
def f(x):
    seen = []
    for path in {[str(ROOT / p) for p in ("solutions/softmax.py", "source", "nbgrader_config.py",
                                          "gradebook.db", "samples", "autograder/checks")]!r}:
        seen.append(os.path.exists(path))
    return seen
"""
    outcome, _ = call(code)
    assert outcome.ok, outcome.error
    assert outcome.value == [False] * 6


def test_runs_as_nobody_and_cannot_write_outside_its_scratch():
    code = f"""
import os
def f(x):
    results = [os.getuid()]
    for path in ("/usr/evil", {str(ROOT / 'evil')!r}, "/etc/evil"):
        try:
            open(path, "w").write("x")
            results.append("wrote " + path)
        except OSError:
            results.append("refused")
    return results
"""
    outcome, _ = call(code)
    uid, usr, course, etc = outcome.value
    assert (uid, usr, etc) == (65534, "refused", "refused")
    # A checkout under /tmp is shadowed by the sandbox's private /tmp: a write there may succeed
    # inside and is thrown away; anywhere else it is refused. Either way the course is untouched.
    assert course == "refused" or str(ROOT).startswith("/tmp/")
    assert not (ROOT / "evil").exists()


def test_no_network_not_even_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = f"""
import socket
def f(x):
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2)
        return "connected"
    except OSError as exc:
        return "refused"
"""
    outcome, _ = call(code)
    server.close()
    assert outcome.value == "refused" and not accepted


def test_memory_bomb_is_stopped_and_named():
    code = "def f(x):\n    blocks = []\n    while True:\n        blocks.append(bytearray(256 * 1024 * 1024))\n"
    outcome, report = call(code, timeout=60)
    assert not outcome.ok
    assert "memory" in (outcome.error + " ".join(report.log)).lower()


def test_fork_bomb_is_bounded():
    code = """
import os
def f(x):
    children = 0
    try:
        for _ in range(500):
            if os.fork() == 0:
                import time
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError:
        return ("bounded", children)
    return ("unbounded", children)
"""
    outcome, _ = call(code, timeout=60)
    assert outcome.ok, outcome.error
    assert outcome.value[0] == "bounded" and outcome.value[1] < sandbox.Limits().max_processes


def test_background_process_is_gone_when_grading_ends(tmp_path):
    marker = f"grading-leftover-{os.getpid()}-{time.time_ns()}"
    code = f"""
import subprocess
def f(x):
    subprocess.Popen(["/bin/sh", "-c", "exec -a {marker} sleep 300"])
    return 1
"""
    outcome, _ = call(code)
    assert outcome.value == 1
    time.sleep(0.5)
    still = [p for p in Path("/proc").iterdir() if p.name.isdigit()
             and marker in (p / "cmdline").read_bytes().decode(errors="replace")
             if (p / "cmdline").exists()]
    assert still == []


def test_output_flood_is_cut_and_named():
    code = "import sys\ndef f(x):\n    while True:\n        sys.stdout.write('x' * 1_000_000)\n"
    outcome, report = call(code, timeout=60)
    # Python ignores SIGXFSZ, so the write past the limit fails with EFBIG instead.
    assert not outcome.ok and ("File too large" in outcome.error or "size limit" in outcome.error)


def test_grading_refuses_without_a_sandbox_unless_opted_out(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    monkeypatch.delenv(sandbox.OPT_OUT_VARIABLE, raising=False)
    with pytest.raises(sandbox.SandboxUnavailable):
        run_calls(["def f(x):\n    return x\n"], [Call("k", "f", args=(1,))])
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, sandbox.OPT_OUT_VALUE)
    report = run_calls(["def f(x):\n    return x\n"], [Call("k", "f", args=(1,))])
    assert report.outcomes["k"].value == 1
