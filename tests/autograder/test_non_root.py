"""Grading as an ordinary instructor account, not root: the doctor and grading as a real Unix
user made for the test, the course's cgroups delegated to it, and a host that refuses the
unprivileged user namespace bubblewrap then needs.

The real-user tests need root (useradd, setpriv) and remove the user at the end. Where the
course's Python lies under a folder other users cannot enter (a pyenv under /root, 0700), the
user runs in a private mount namespace in which only that Python is made reachable: the host's
folder is left as it is.
"""

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder import cli
from autograder.sandbox import bwrap, cgroups, spawn
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import send_signal
from autograder.sandbox.runner import Call, run_calls
from tests.course import ROOT, copy_course

HAS_TOOLS = all(shutil.which(tool) for tool in ("useradd", "userdel", "setpriv", "unshare"))
real_user = pytest.mark.skipif(
    os.geteuid() != 0 or not HAS_TOOLS or not bwrap.bwrap_path(),
    reason="making a real user needs root, useradd, setpriv, unshare and bubblewrap")
LIMITS = Limits(memory_bytes=1 << 30, max_processes=10, cpu_cores=1.5)
BIN = Path(sys.executable).parent


def _blocked_ancestor(path: Path) -> tuple[Path, Path] | None:
    """(a folder other users cannot enter, its child on the way to path), or None."""
    for folder in reversed(path.parents):          # from / down
        if folder != Path("/") and not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder, folder / path.relative_to(folder).parts[0]
    return None


# Runs argv as root of a new user namespace (the host's ids mapped as they are) in which no
# further user namespace may be made: max_user_namespaces is per user namespace, so the host's
# setting is left as it is. What an ordinary user's bubblewrap then meets is the kernel's own
# refusal ("Creating new namespace failed: ... max_*_namespaces exceeded").
WITHOUT_USERNS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
ready, mapped = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000) != 0:      # CLONE_NEWUSER
        os._exit(90)
    os.write(ready[1], b"x")
    os.read(mapped[0], 1)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.execvp(sys.argv[1], sys.argv[1:])
os.read(ready[0], 1)
for name in ("uid_map", "gid_map"):        # written from outside: root may map every id
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write("0 0 65536\\n")
os.write(mapped[1], b"x")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def as_user(user, argv, cwd, timeout=600, userns=True):
    """Run argv as `user` in cwd, with the course's Python reachable (see the module's doc);
    without `userns`, where no unprivileged user namespace can be made."""
    home = pwd.getpwnam(user).pw_dir
    env = ["env", "-i", f"HOME={home}", f"USER={user}", f"PATH={BIN}:/usr/bin:/bin",
           f"PYTHONPATH={cwd}", "TF_CPP_MIN_LOG_LEVEL=3", "TF_ENABLE_ONEDNN_OPTS=0"]
    script = ""
    for prefix in {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}:
        blocked = _blocked_ancestor(prefix)
        if blocked:
            folder, child = blocked
            hold = f"/run/tnn-{uuid.uuid4().hex[:8]}"
            # Keep the child, cover its 0700 parent with an empty tmpfs, put the child back.
            script += (f"mkdir -p {hold} && mount --bind {child} {hold} && "
                       f"mount -t tmpfs -o mode=755 tmpfs {folder} && mkdir -p {child} && "
                       f"mount --bind {hold} {child} && ")
    script += 'exec setpriv --reuid="$0" --regid="$0" --init-groups "$@"'
    command = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, user, *env, *argv]
    if not userns:
        command = [sys.executable, "-c", WITHOUT_USERNS, *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _processes_of(uid):
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


@pytest.fixture
def instructor(tmp_path):
    """A throwaway Unix user with the course copied into its home; removed with its home."""
    name = f"tnn-{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    try:
        entry = pwd.getpwnam(name)
        course = copy_course(Path(entry.pw_dir) / "course", extra=("samples",))
        subprocess.run(["chown", "-R", f"{name}:", str(course)], check=True)
        yield name, course
    finally:
        for pid in _processes_of(pwd.getpwnam(name).pw_uid):    # none should be left
            send_signal(pid, signal.SIGKILL)
        subprocess.run(["userdel", "-r", name], capture_output=True)


@pytest.fixture
def delegated_v1(instructor):
    """The host's v1 course-grading folders given to the instructor (as `doctor --delegate`
    gives them), and given back to their owner at the end: other graders on the host run as
    root, whom the ownership does not stop."""
    root = cgroups.CGROUP_ROOT
    folders = [root / c / cgroups.CGROUP_PARENT for c in cgroups.CONTROLLERS]
    if (root / "cgroup.controllers").is_file() or \
            not all((root / c / "cgroup.procs").is_file() for c in cgroups.CONTROLLERS):
        pytest.skip("delegation is tried for real on cgroup v1 (this machine is not)")
    owners = {f: (os.stat(f).st_uid, os.stat(f).st_gid) for f in folders if f.is_dir()}
    try:
        yield instructor
    finally:
        for folder in folders:
            uid, gid = owners.get(folder, (0, 0))
            for path in (folder, *[folder / n for n in ("cgroup.procs", "tasks",
                                                         "cgroup.clone_children")]):
                if path.exists():
                    os.chown(path, uid, gid)


def rows(output):
    from autograder.sandbox.promises import PROMISES
    found = {}
    for line in output.splitlines():
        for promise in PROMISES.values():
            if line.startswith(promise + " "):
                found[promise] = line[len(promise):].split()[0]
    return found


@real_user
def test_the_doctor_as_an_ordinary_user_then_with_the_cgroups_delegated(delegated_v1):
    """Without cgroups the user gets rlimits and `nice` (the CPU share is weak, grading goes
    on); after `doctor --delegate USER` (as root) the same user's doctor holds every promise
    with cgroups, its sandboxes running as its own uid with no capability."""
    user, course = delegated_v1
    uid = pwd.getpwnam(user).pw_uid
    before = as_user(user, [str(BIN / "python"), "-m", "autograder", "doctor"], course)
    assert before.returncode == 0, before.stdout[-3000:] + before.stderr[-2000:]
    said = before.stdout + before.stderr            # the grading log's line is on stderr
    assert "rlimit RLIMIT_NPROC" in said and "cgroup v1 memory: Permission denied" in said
    assert rows(before.stdout)["a busy sandbox gets its share of CPU, not the machine"] == \
        "weak"
    assert f"uid {uid} and no capabilities" in before.stdout

    done = subprocess.run([str(BIN / "python"), "-m", "autograder", "doctor", "--delegate",
                           user], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and f"Delegated to {user}" in done.stdout, done.stdout[-2000:]
    after = as_user(user, [str(BIN / "python"), "-m", "autograder", "doctor"], course)
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]
    assert set(rows(after.stdout).values()) == {"held"}, after.stdout
    for mechanism in ("cgroup v1 memory.limit_in_bytes", "cgroup v1 pids.max",
                      "cgroup v1 cpu.cfs_quota_us", f"{uid}, the grader's own user"):
        assert mechanism in after.stdout


@real_user
def test_grading_as_an_ordinary_user(instructor):
    """nbgrader and the cohort command, run as the user in its own course copy, grade the
    samples of one chapter with the scores root's grading gives them."""
    user, course = instructor
    sh = (f"{BIN}/nbgrader generate_assignment activations --force --log-level=WARN && "
          "mkdir -p submitted/sample-correct submitted/sample-partial && "
          "cp -r samples/submitted/sample-correct/activations submitted/sample-correct/ && "
          "cp -r samples/submitted/sample-partial/activations submitted/sample-partial/ && "
          f"{BIN}/python -m autograder grade activations")
    done = as_user(user, ["sh", "-c", sh], course)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "sample-correct: graded 10/10" in output and "sample-partial: graded 5/10" in output
    assert "the grader's own user" in output
    logs = course / "logs" / "grade" / "activations"
    assert logs.is_dir() and os.stat(logs).st_uid == pwd.getpwnam(user).pw_uid


@real_user
def test_where_the_kernel_refuses_the_namespace_the_user_cannot_grade(instructor):
    """For real: the user in a user namespace that may make no other (WITHOUT_USERNS). The
    doctor exits 1 naming user.max_user_namespaces = 0 and its sysctl, with no probe run; the
    cohort command grades nothing."""
    user, course = instructor
    doctor = as_user(user, [str(BIN / "python"), "-m", "autograder", "doctor"], course,
                     userns=False)
    assert doctor.returncode == 1, doctor.stdout[-3000:] + doctor.stderr[-2000:]
    assert "No promise holds" in doctor.stdout and "doctor [1/" not in doctor.stdout
    assert "user.max_user_namespaces = 0" in doctor.stdout
    assert "max_*_namespaces exceeded" in doctor.stdout
    assert "sysctl -w user.max_user_namespaces=15000" in doctor.stdout
    sh = (f"{BIN}/nbgrader generate_assignment activations --force --log-level=WARN && "
          "mkdir -p submitted/sample-correct && "
          "cp -r samples/submitted/sample-correct/activations submitted/sample-correct/ && "
          f"{BIN}/python -m autograder grade activations")
    graded = as_user(user, ["sh", "-c", sh], course, userns=False)
    output = graded.stdout + graded.stderr
    assert graded.returncode != 0, output[-4000:]
    assert "graded 10/10" not in output and "refuses unprivileged user namespaces" in output, \
        output[-4000:]


# A host that refuses the user namespace: bubblewrap's own failures, and the kernel's settings,
# read from a fake /proc/sys (no setting of this machine is changed).

def fake_bwrap(tmp_path, message):
    script = tmp_path / "bwrap"
    script.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def not_root(monkeypatch, tmp_path):
    """The grader as uid 1000, on a host whose /proc/sys is a fake tree the test fills."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(spawn, "_tried", {})
    monkeypatch.delenv(spawn.OPT_OUT_VARIABLE, raising=False)
    proc_sys = tmp_path / "proc-sys"
    monkeypatch.setattr(bwrap, "PROC_SYS", proc_sys)
    return proc_sys


def setting(proc_sys, name, value):
    (proc_sys / name).parent.mkdir(parents=True, exist_ok=True)
    (proc_sys / name).write_text(f"{value}\n")


@pytest.mark.parametrize("message", [
    "bwrap: setting up uid map: Permission denied",
    "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted"])
def test_apparmor_refusing_the_namespace_refuses_grading_and_says_what_to_do(
        tmp_path, monkeypatch, not_root, message, capsys):
    """Ubuntu 24.04: AppArmor lets the namespace be made but not used; bubblewrap says one of
    these. Grading refuses to start (the runner raises before any student code runs) and the
    doctor exits 1, each saying why and giving the AppArmor profile and the sysctl."""
    setting(not_root, "kernel/apparmor_restrict_unprivileged_userns", 1)
    setting(not_root, "user/max_user_namespaces", 63000)
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: fake_bwrap(tmp_path, message))
    with pytest.raises(spawn.SandboxUnavailable) as refused:
        run_calls(["def f(x):\n    return x\n"], [Call("k", "f", args=(1,))])
    text = str(refused.value)
    assert "refuses unprivileged user namespaces" in text
    assert "kernel.apparmor_restrict_unprivileged_userns = 1" in text and message in text
    assert "profile bwrap" in text and "userns," in text and "apparmor_parser -r" in text
    assert "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in text
    assert "grade as root" in text and "max_user_namespaces" not in text
    assert cli.main(["doctor"]) == 1
    output = capsys.readouterr().out
    assert "No promise holds" in output and "profile bwrap" in output
    assert "doctor [1/" not in output          # no probe runs without a sandbox


@pytest.mark.parametrize("name, value, command", [
    ("user/max_user_namespaces", 0, "sysctl -w user.max_user_namespaces=15000"),
    ("kernel/unprivileged_userns_clone", 0, "sysctl -w kernel.unprivileged_userns_clone=1")])
def test_a_kernel_without_unprivileged_namespaces_is_named_with_its_sysctl(
        tmp_path, monkeypatch, not_root, name, value, command):
    setting(not_root, name, value)
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: fake_bwrap(
        tmp_path, "bwrap: No permissions to create new namespace, likely because the kernel "
                  "does not allow non-privileged user namespaces."))
    text = spawn.sandbox_problem()
    assert f"{name.replace('/', '.')} = {value}" in text and command in text
    assert "profile bwrap" not in text and "refuses to start" in text


def test_a_failure_that_is_not_the_namespace_is_not_blamed_on_it(tmp_path, monkeypatch,
                                                                 not_root):
    """Other bubblewrap failures keep the plain refusal (no sysctl advice), and root is never
    told about user namespaces: its bubblewrap does not use one."""
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: fake_bwrap(
        tmp_path, "bwrap: Can't mount proc on /newroot/proc: Operation not permitted"))
    text = spawn.sandbox_problem()
    assert text.startswith("bubblewrap cannot build the sandbox") and "sysctl" not in text
    setting(not_root, "user/max_user_namespaces", 0)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert bwrap.userns_advice("bwrap: setting up uid map: Permission denied") == ""
    assert bwrap.userns_refused_by() == ["user/max_user_namespaces"]


# Delegation on cgroup v2, on a fake tree (this machine is v1).

def v2_tree(root, monkeypatch, own):
    root.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("\n")
    (root / "cgroup.procs").write_text("")
    proc_cgroup = root.parent / "proc-self-cgroup"
    proc_cgroup.write_text(f"0::{own}\n")
    monkeypatch.setattr(cgroups, "PROC_CGROUP", proc_cgroup)
    return root


def test_v2_delegation_gives_the_parent_and_a_leaf_for_the_grader(tmp_path, monkeypatch):
    """`doctor --delegate USER` on v2: course-grading at the top with the controllers enabled,
    it and a leaf grader-USER the user's. A grader running in that leaf (as that user: the
    kernel's common-ancestor rule is modelled by who owns cgroup.procs) gets every controller
    under it; one left in its login session falls back to rlimits and says why."""
    user = pwd.getpwuid(65534).pw_name
    root = v2_tree(tmp_path / "cgroup", monkeypatch, own="/user.slice/session-1.scope")
    parent = root / cgroups.CGROUP_PARENT
    leaf = parent / f"grader-{user}"
    for folder in (parent, leaf):        # the files the kernel makes with a cgroup's folder
        folder.mkdir()
        for name in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
            (folder / name).write_text("")
        (folder / "cgroup.controllers").write_text("cpu memory pids\n")
    made = cgroups.delegate(user, root)
    assert made == [parent, leaf]
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (parent / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    for path in (parent, parent / "cgroup.procs", parent / "cgroup.subtree_control", leaf):
        assert os.stat(path).st_uid == 65534, path
    assert os.stat(root / "cgroup.procs").st_uid == 0

    def owned(base):
        procs = base / "cgroup.procs"
        return procs.exists() and os.stat(procs).st_uid == 65534
    monkeypatch.setattr(cgroups, "_may_move_within", owned)
    (root / "user.slice" / "session-1.scope").mkdir(parents=True)
    (root / "user.slice" / "cgroup.procs").write_text("")        # root's
    outside = cgroups.ResourceGroup(LIMITS, root=root)
    assert outside.active == set()
    assert any("may not move processes" in note for note in outside.notes)

    cgroups.PROC_CGROUP.write_text(f"0::/{cgroups.CGROUP_PARENT}/grader-{user}\n")
    inside = cgroups.ResourceGroup(LIMITS, root=root)
    assert inside.active == {"memory", "pids", "cpu"}
    assert inside.dirs["memory"].parent == parent / cgroups.CGROUP_PARENT


def test_delegation_needs_root_and_a_real_user(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(ValueError, match="no user"):
        cgroups.delegate("no-such-user-" + uuid.uuid4().hex[:6], tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ValueError, match="only root"):
        cgroups.delegate("nobody", tmp_path)
