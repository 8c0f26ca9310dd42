"""ResourceGroup on each cgroup layout: what it writes, what it calls active, when rlimits stand in.

These are fake trees in tmp_path, not the kernel's cgroupfs: this machine is cgroup v1, so the
v2 layouts cannot be tried for real here (tests/autograder/test_sandbox.py and the doctor test
the real v1 enforcement). A fake tree is plain files: a write simply stays, so what is checked
is what ResourceGroup writes where, and that it counts a controller active only when its limit
reads back.
"""

import pytest

from autograder.sandbox import cgroups, files
from autograder.sandbox.limits import Limits
from autograder.sandbox.rlimits import rlimits

LIMITS = Limits(memory_bytes=1 << 30, max_processes=10, cpu_cores=1.5)
NO_SUCH_PID = 2 ** 22 + 1       # above the kernel's largest pid_max: never a real process


@pytest.fixture(autouse=True)
def fresh_log(monkeypatch):
    monkeypatch.setattr(cgroups, "_announced", [])


def fallback_rlimits(group):
    """The rlimits that stand in for controllers the group does not have."""
    names = {name for name, _, _ in rlimits(LIMITS, group.active)}
    return names & {"RLIMIT_AS", "RLIMIT_NPROC"}


def v1_tree(root):
    for controller in ("memory", "pids", "cpu"):
        (root / controller).mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")
    return root


def v2_tree(root, controllers="cpu io memory pids", own="/grader.scope", monkeypatch=None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("\n")
    (root / own.strip("/")).mkdir(parents=True, exist_ok=True)
    proc_cgroup = root.parent / "proc-self-cgroup"
    proc_cgroup.write_text(f"0::{own}\n")
    monkeypatch.setattr(cgroups, "PROC_CGROUP", proc_cgroup)
    return root


def test_v1_writes_both_limits_and_needs_no_rlimit(tmp_path, capsys):
    root = v1_tree(tmp_path / "cgroup")
    group = cgroups.ResourceGroup(LIMITS, root=root)
    memory = root / "memory" / cgroups.CGROUP_PARENT / group.name
    pids = root / "pids" / cgroups.CGROUP_PARENT / group.name
    assert (memory / "memory.limit_in_bytes").read_text() == str(1 << 30)
    assert (pids / "pids.max").read_text() == "10"
    cpu = root / "cpu" / cgroups.CGROUP_PARENT / group.name
    # 1.5 cores: 150 ms of CPU time in every 100 ms period, and the same weight as any sandbox.
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000"
    assert (cpu / "cpu.shares").read_text() == "1024"
    assert group.layout == "v1" and group.active == {"memory", "pids", "cpu"}
    assert fallback_rlimits(group) == set()
    assert group.join(NO_SUCH_PID) == {"memory", "pids", "cpu"}
    assert (memory / "cgroup.procs").read_text() == str(NO_SUCH_PID)
    assert (cpu / "cgroup.procs").read_text() == str(NO_SUCH_PID)
    line = capsys.readouterr().err
    assert "memory: cgroup v1 memory.limit_in_bytes 1024 MB" in line
    assert "processes: cgroup v1 pids.max 10" in line
    assert "cpu share: cgroup v1 cpu.cfs_quota_us (1.5 cores), cpu.shares 1024" in line


def test_v1_limit_hits_are_read_from_oom_control_and_pids_events(tmp_path):
    group = cgroups.ResourceGroup(LIMITS, root=v1_tree(tmp_path / "cgroup"))
    assert not group.memory_limit_hit() and not group.process_limit_hit()
    (group.dirs["memory"] / "memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    (group.dirs["memory"] / "memory.failcnt").write_text("0\n")
    (group.dirs["pids"] / "pids.events").write_text("max 3\n")
    assert group.memory_limit_hit() and group.process_limit_hit()


def test_v2_with_the_controllers_delegated(tmp_path, monkeypatch, capsys):
    """Root of the tree is the only place above the grader's own cgroup: course-grading goes
    there, with +cpu +memory +pids enabled for it and for its children."""
    root = v2_tree(tmp_path / "cgroup", monkeypatch=monkeypatch)
    group = cgroups.ResourceGroup(LIMITS, root=root)
    parent = root / cgroups.CGROUP_PARENT
    path = parent / group.name
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (parent / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (path / "memory.max").read_text() == str(1 << 30)
    assert (path / "pids.max").read_text() == "10"
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert group.layout == "v2" and group.active == {"memory", "pids", "cpu"}
    assert group.dirs == {"memory": path, "pids": path, "cpu": path}
    assert fallback_rlimits(group) == set()
    assert not (root / "grader.scope" / cgroups.CGROUP_PARENT).exists()
    group.join(NO_SUCH_PID)
    assert (path / "cgroup.procs").read_text() == str(NO_SUCH_PID)
    line = capsys.readouterr().err
    assert "memory: cgroup v2 memory.max 1024 MB; processes: cgroup v2 pids.max 10" in line
    assert "cpu share: cgroup v2 cpu.max (1.5 cores), cpu.weight 100" in line


def test_v2_parent_is_made_next_to_the_grader_not_under_it(tmp_path, monkeypatch):
    """The grader's cgroup has processes, so it cannot have children with controllers: the
    nearest cgroup above it that has memory and pids gets course-grading."""
    root = v2_tree(tmp_path / "cgroup", own="/user.slice/grader.scope", monkeypatch=monkeypatch)
    slice_ = root / "user.slice"
    (slice_ / "cgroup.controllers").write_text("memory pids\n")
    (slice_ / "cgroup.subtree_control").write_text("memory pids\n")     # already enabled
    group = cgroups.ResourceGroup(LIMITS, root=root)
    assert group.dirs["memory"] == slice_ / cgroups.CGROUP_PARENT / group.name
    assert (slice_ / "cgroup.subtree_control").read_text() == "memory pids\n"   # not rewritten
    assert (root / "cgroup.subtree_control").read_text() == "\n"                # not touched


def test_v2_limit_hits_are_read_from_memory_events_and_pids_events(tmp_path, monkeypatch):
    group = cgroups.ResourceGroup(LIMITS, root=v2_tree(tmp_path / "cgroup",
                                                       monkeypatch=monkeypatch))
    path = group.dirs["memory"]
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    (path / "pids.events").write_text("max 0\n")
    assert not group.memory_limit_hit() and not group.process_limit_hit()
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (path / "pids.events").write_text("max 2\n")
    assert group.memory_limit_hit() and group.process_limit_hit()


def test_v2_without_the_controllers_delegated_falls_back_to_rlimits(tmp_path, monkeypatch,
                                                                    capsys):
    root = v2_tree(tmp_path / "cgroup", controllers="io", monkeypatch=monkeypatch)
    group = cgroups.ResourceGroup(LIMITS, root=root)
    assert group.layout == "v2" and group.active == set()
    assert not (root / cgroups.CGROUP_PARENT).exists()
    assert (root / "cgroup.subtree_control").read_text() == "\n"
    assert fallback_rlimits(group) == {"RLIMIT_AS", "RLIMIT_NPROC"}
    assert group.join(NO_SUCH_PID) == set()
    line = capsys.readouterr().err
    assert "memory: rlimit RLIMIT_AS 4096 MB" in line and "processes: rlimit RLIMIT_NPROC" in line
    assert "cpu share: nice 10 only (no cpu cgroup)" in line
    assert "not delegated" in line


def test_v2_with_only_cpu_delegated_shares_the_cpu_and_bounds_the_rest_by_rlimits(
        tmp_path, monkeypatch):
    root = v2_tree(tmp_path / "cgroup", controllers="cpu io", monkeypatch=monkeypatch)
    group = cgroups.ResourceGroup(LIMITS, root=root)
    assert group.active == {"cpu"}
    assert (root / "cgroup.subtree_control").read_text() == "+cpu"
    assert (group.dirs["cpu"] / "cpu.max").read_text() == "150000 100000"
    assert fallback_rlimits(group) == {"RLIMIT_AS", "RLIMIT_NPROC"}


def test_v2_read_only_tree_falls_back_to_rlimits(tmp_path, monkeypatch):
    """As root, chmod does not stop a write: the file the limit goes to is a directory."""
    root = v2_tree(tmp_path / "cgroup", monkeypatch=monkeypatch)
    (root / "cgroup.subtree_control").unlink()
    (root / "cgroup.subtree_control").mkdir()
    group = cgroups.ResourceGroup(LIMITS, root=root)
    assert group.active == set()
    assert fallback_rlimits(group) == {"RLIMIT_AS", "RLIMIT_NPROC"}
    assert not (root / cgroups.CGROUP_PARENT).exists()


def test_v1_unwritable_memory_hierarchy_falls_back_for_memory_only(tmp_path):
    root = v1_tree(tmp_path / "cgroup")
    (root / "memory" / cgroups.CGROUP_PARENT).write_text("a file where a directory goes")
    group = cgroups.ResourceGroup(LIMITS, root=root)
    assert group.active == {"pids", "cpu"}
    assert fallback_rlimits(group) == {"RLIMIT_AS"}


def test_a_limit_that_does_not_read_back_is_not_active(tmp_path, monkeypatch):
    """The kernel may refuse a value or clamp it: a controller counts only when it reads back."""
    write = cgroups._write

    def clamping(path, value):
        read = write(path, value)
        return "9223372036854771712" if path.name == "memory.limit_in_bytes" else read

    monkeypatch.setattr(cgroups, "_write", clamping)
    group = cgroups.ResourceGroup(LIMITS, root=v1_tree(tmp_path / "cgroup"))
    assert group.active == {"pids", "cpu"}
    assert fallback_rlimits(group) == {"RLIMIT_AS"}
    assert any("reads back" in note for note in group.notes)


def test_no_cgroup_hierarchy_at_all(tmp_path, capsys):
    group = cgroups.ResourceGroup(LIMITS, root=tmp_path)
    assert group.layout is None and group.active == set()
    assert fallback_rlimits(group) == {"RLIMIT_AS", "RLIMIT_NPROC"}
    assert "no cgroup hierarchy" in capsys.readouterr().err


def test_the_mechanisms_line_is_said_once_per_process(tmp_path, capsys):
    root = v1_tree(tmp_path / "cgroup")
    for _ in range(3):
        cgroups.ResourceGroup(LIMITS, root=root)
    assert capsys.readouterr().err.count("[sandbox] memory:") == 1


def test_leftovers_of_a_grader_that_died_are_swept_and_a_running_graders_are_kept(
        tmp_path, monkeypatch):
    """Scratch folders and empty groups carry their grader's pid: the next grading run removes
    those whose grader no longer runs (it died before cleaning up), never a running one's."""
    import os

    root = v1_tree(tmp_path / "cgroup")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead, alive = NO_SUCH_PID, os.getpid()
    for pid in (dead, alive):
        (tmp / f"autograder-{pid}-kernel-scratch-abc" / "sub").mkdir(parents=True)
        (tmp / f"autograder-{pid}-kernel-scratch-abc" / "sub" / "big").write_bytes(b"x" * 100)
        for controller in ("memory", "pids", "cpu"):
            (root / controller / cgroups.CGROUP_PARENT / f"{pid}-0123456789ab").mkdir(
                parents=True)
    (tmp / "unrelated-folder").mkdir()
    removed = files.sweep_leftovers(tmp=tmp, cgroup_root=root, force=True)
    assert sorted(p.name for p in tmp.iterdir()) == [f"autograder-{alive}-kernel-scratch-abc",
                                                     "unrelated-folder"]
    for controller in ("memory", "pids", "cpu"):
        assert [p.name for p in (root / controller / cgroups.CGROUP_PARENT).iterdir()] == \
            [f"{alive}-0123456789ab"]
    assert len(removed) == 4
