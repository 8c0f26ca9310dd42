"""The doctor: every promise holds on this machine, and a promise that does not is reported."""

import pytest

from autograder import cli
from autograder.sandbox import bwrap, promises, spawn

pytestmark = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")


def rows_of(output):
    """promise -> its status word, from the doctor's table."""
    rows = {}
    for line in output.splitlines():
        for promise in promises.PROMISES.values():
            if line.startswith(promise + " "):
                rows[promise] = line[len(promise):].split()[0]
    return rows


def test_every_promise_holds_here(capsys):
    assert cli.main(["doctor"]) == 0
    output = capsys.readouterr().out
    assert rows_of(output) == {promise: "held" for promise in promises.PROMISES.values()}
    assert f"doctor [{len(promises.PROMISES)}/{len(promises.PROMISES)}]" in output   # progress
    assert "Every promise holds here." in output


def test_a_promise_that_does_not_hold_is_reported_and_fails(tmp_path, capsys, monkeypatch):
    """No cgroup (an empty fake tree) and no rlimit in its place: nothing stops the memory and
    fork probes, which stop themselves at twice the limit (512 MB, 64 processes)."""
    monkeypatch.delenv(spawn.OPT_OUT_VARIABLE, raising=False)
    assert cli.main(["doctor", "--cgroup-root", str(tmp_path), "--no-rlimit-fallback"]) == 1
    output = capsys.readouterr().out
    rows = rows_of(output)
    assert rows[promises.PROMISES["memory"]] == "NOT"
    assert rows[promises.PROMISES["processes"]] == "NOT"
    assert rows[promises.PROMISES["network"]] == "held"
    assert "allocated 512 MB" in output and "forked 64" in output
    assert "refuses to run" in output and spawn.OPT_OUT_VALUE in output


def test_without_a_cgroup_the_rlimits_hold_the_limits(tmp_path):
    probe = promises.Doctor(cgroup_root=tmp_path)
    memory, processes = probe.memory(), probe.processes()
    assert memory.held and memory.mechanism.startswith("rlimit RLIMIT_AS"), memory
    assert processes.held and processes.mechanism.startswith("rlimit RLIMIT_NPROC"), processes


def test_the_opt_out_says_what_is_lost(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(spawn.OPT_OUT_VARIABLE, spawn.OPT_OUT_VALUE)
    probe = promises.Doctor(cgroup_root=tmp_path, fallback=False)
    monkeypatch.setattr(promises, "Doctor", lambda **kw: probe)
    monkeypatch.setattr(probe, "check", lambda: [promises.Row("a promise", False, "nothing")])
    assert cli.main(["doctor"]) == 1
    output = capsys.readouterr().out
    assert "grading will run anyway, with no sandbox at all" in output
    assert "read every file this user can" in output and "network" in output


def test_without_a_cpu_cgroup_the_cpu_share_is_weak_and_grading_goes_on(tmp_path, capsys,
                                                                        monkeypatch):
    """No cgroup at all (an empty fake tree): rlimits hold memory and processes, but nothing
    shares the CPU between sandboxes. The table says so, and grading is not refused for it."""
    monkeypatch.setattr(promises.Doctor, "check", lambda self: [
        getattr(self, name)() for name in ("memory", "processes", "cpu_share")])
    assert cli.main(["doctor", "--cgroup-root", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    rows = rows_of(output)
    assert rows[promises.PROMISES["cpu_share"]] == "weak"
    assert "nice 10 only (no cpu cgroup)" in output and "Weaker here" in output


def test_a_cpu_quota_the_kernel_does_not_enforce_is_not_held(tmp_path):
    """A fake v1 tree takes the quota's file but enforces nothing: the probe's busy processes
    then get more than the quota (two cores on an idle two-core machine), and the row says so."""
    for controller in ("memory", "pids", "cpu"):
        (tmp_path / controller).mkdir()
        (tmp_path / controller / "cgroup.procs").write_text("")
    row = promises.Doctor(cgroup_root=tmp_path).cpu_share()
    assert row.mechanism.startswith("cgroup v1 cpu.cfs_quota_us (0.5 cores)")
    assert not row.held and row.required, row
    real = promises.Doctor().cpu_share()
    assert real.held, real


def test_scratch_without_a_size_bound_is_not_held(monkeypatch):
    """The tmpfs folders are bounded by bubblewrap's --size: without it the probe writes twice
    the bound into each of them, and the row says so."""
    monkeypatch.setattr(bwrap, "tmpfs_sizes_supported", lambda: False)
    row = promises.Doctor().scratch()
    assert not row.held and "UNBOUNDED" in row.mechanism, row
    monkeypatch.undo()
    row = promises.Doctor().scratch()
    assert row.held and "nothing written to the machine's disk" in row.detail, row


def test_the_grading_limits_printed_are_the_nbgrader_configs(tmp_path, capsys, monkeypatch):
    """The doctor states the limits grading runs under as nbgrader_config.py sets them."""
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\nc.SandboxLimits.memory_bytes = 3 * 1024 ** 3\n")
    monkeypatch.setattr("autograder.course.ROOT", tmp_path)
    monkeypatch.setattr(promises.Doctor, "check", lambda self: [
        promises.Row("a promise", True, "something")])
    assert cli.main(["doctor"]) == 0
    assert "Grading limits: memory 3072 MB, 64 processes" in capsys.readouterr().out


@pytest.mark.parametrize("signal_name, held", [("SIGKILL", True), ("SIGXCPU", False)])
def test_a_memory_probe_stopped_by_the_cpu_limit_shows_nothing_about_memory(
        tmp_path, monkeypatch, signal_name, held):
    """Under RLIMIT_AS the probe touches up to 2 GB; on a busy machine the CPU time limit could
    stop it first (seen as an ordinary user here: 'stopped after 640 MB (signal SIGXCPU)'). That
    is not a memory limit holding: only a MemoryError or a kill (the OOM killer) is. The probe
    gets more CPU time than the others, so that it is not stopped that way."""
    import signal

    seen = {}

    def probe(self, name, *args, limits=None, **kw):
        seen["cpu_seconds"] = limits.cpu_seconds
        self.said = {"memory": "rlimit RLIMIT_AS"}
        with spawn.Sandbox(self.limits, "test", cgroup_root=tmp_path) as box:
            args[0](box.group)          # the bound: twice RLIMIT_AS's, 2 GB
        return promises.ProbeRun(128 + getattr(signal, signal_name),
                                 ["allocated 671088640"], {})

    monkeypatch.setattr(promises.Doctor, "probe", probe)
    row = promises.Doctor(cgroup_root=tmp_path).memory()
    assert row.held is held, row
    assert seen["cpu_seconds"] == promises.MEMORY_PROBE_CPU_SECONDS
