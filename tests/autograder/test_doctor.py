"""The doctor: every promise holds on this machine, and a promise that does not is reported."""

import pytest

from autograder import doctor, sandbox

pytestmark = pytest.mark.skipif(not sandbox.bwrap_path(), reason="bubblewrap is not installed")


def rows_of(output):
    """promise -> its status word, from the doctor's table."""
    rows = {}
    for line in output.splitlines():
        for promise in doctor.PROMISES.values():
            if line.startswith(promise + " "):
                rows[promise] = line[len(promise):].split()[0]
    return rows


def test_every_promise_holds_here(capsys):
    assert doctor.main([]) == 0
    output = capsys.readouterr().out
    assert rows_of(output) == {promise: "held" for promise in doctor.PROMISES.values()}
    assert "doctor [9/9]" in output          # progress, as it goes
    assert "Every promise holds here." in output


def test_a_promise_that_does_not_hold_is_reported_and_fails(tmp_path, capsys, monkeypatch):
    """No cgroup (an empty fake tree) and no rlimit in its place: nothing stops the memory and
    fork probes, which stop themselves at twice the limit (512 MB, 64 processes)."""
    monkeypatch.delenv(sandbox.OPT_OUT_VARIABLE, raising=False)
    assert doctor.main(["--cgroup-root", str(tmp_path), "--no-rlimit-fallback"]) == 1
    output = capsys.readouterr().out
    rows = rows_of(output)
    assert rows[doctor.PROMISES["memory"]] == "NOT"
    assert rows[doctor.PROMISES["processes"]] == "NOT"
    assert rows[doctor.PROMISES["network"]] == "held"
    assert "allocated 512 MB" in output and "forked 64" in output
    assert "refuses to run" in output and sandbox.OPT_OUT_VALUE in output


def test_without_a_cgroup_the_rlimits_hold_the_limits(tmp_path):
    probe = doctor.Doctor(cgroup_root=tmp_path)
    memory, processes = probe.memory(), probe.processes()
    assert memory.held and memory.mechanism.startswith("rlimit RLIMIT_AS"), memory
    assert processes.held and processes.mechanism.startswith("rlimit RLIMIT_NPROC"), processes


def test_the_opt_out_says_what_is_lost(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, sandbox.OPT_OUT_VALUE)
    probe = doctor.Doctor(cgroup_root=tmp_path, fallback=False)
    monkeypatch.setattr(doctor, "Doctor", lambda **kw: probe)
    monkeypatch.setattr(probe, "check", lambda: [doctor.Row("a promise", False, "nothing")])
    assert doctor.main([]) == 1
    output = capsys.readouterr().out
    assert "grading will run anyway, with no sandbox at all" in output
    assert "read every file this user can" in output and "network" in output
