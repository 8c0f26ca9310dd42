"""The doctor: every promise holds on this machine, and a promise that does not is reported."""

import pytest

from autograder import sandbox
from autograder.sandbox import doctor

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
    assert f"doctor [{len(doctor.PROMISES)}/{len(doctor.PROMISES)}]" in output   # progress
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


def test_without_a_cpu_cgroup_the_cpu_share_is_weak_and_grading_goes_on(tmp_path, capsys,
                                                                        monkeypatch):
    """No cgroup at all (an empty fake tree): rlimits hold memory and processes, but nothing
    shares the CPU between sandboxes. The table says so, and grading is not refused for it."""
    monkeypatch.setattr(doctor.Doctor, "check", lambda self: [
        getattr(self, name)() for name in ("memory", "processes", "cpu_share")])
    assert doctor.main(["--cgroup-root", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    rows = rows_of(output)
    assert rows[doctor.PROMISES["cpu_share"]] == "weak"
    assert "nice 10 only (no cpu cgroup)" in output and "Weaker here" in output


def test_a_cpu_quota_the_kernel_does_not_enforce_is_not_held(tmp_path):
    """A fake v1 tree takes the quota's file but enforces nothing: the probe's busy processes
    then get more than the quota (two cores on an idle two-core machine), and the row says so."""
    for controller in ("memory", "pids", "cpu"):
        (tmp_path / controller).mkdir()
        (tmp_path / controller / "cgroup.procs").write_text("")
    row = doctor.Doctor(cgroup_root=tmp_path).cpu_share()
    assert row.mechanism.startswith("cgroup v1 cpu.cfs_quota_us (0.5 cores)")
    assert not row.held and row.required, row
    real = doctor.Doctor().cpu_share()
    assert real.held, real


def test_scratch_without_a_size_bound_is_not_held(monkeypatch):
    """The tmpfs folders are bounded by bubblewrap's --size: without it the probe writes twice
    the bound into each of them, and the row says so."""
    monkeypatch.setattr(sandbox, "tmpfs_sizes_supported", lambda: False)
    row = doctor.Doctor().scratch()
    assert not row.held and "UNBOUNDED" in row.mechanism, row
    monkeypatch.undo()
    row = doctor.Doctor().scratch()
    assert row.held and "nothing written to the machine's disk" in row.detail, row
