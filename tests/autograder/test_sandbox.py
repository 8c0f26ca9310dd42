"""The sandbox around student code: what it hides, what it stops, and what it leaves behind."""

import csv
import json
import os
import resource
import socket
import threading
import time
from pathlib import Path

import pytest

from autograder.sandbox import bwrap, spawn
from autograder.sandbox.files import copy_plain_tree
from autograder.sandbox.limits import Limits, grading_limits
from autograder.sandbox.process import descendants
from autograder.sandbox.rlimits import apply_rlimits, rlimits
from autograder.sandbox.runner import Call, run_calls
from tests.course import copy_course, nbgrader

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")


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
    assert (uid, usr, etc) == (bwrap.NOBODY, "refused", "refused")
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
    code = ("def f(x):\n    blocks = []\n    while True:\n"
            "        blocks.append(bytearray(256 * 1024 * 1024))\n")
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
    assert outcome.value[0] == "bounded" and outcome.value[1] < grading_limits().max_processes


def test_background_process_is_gone_when_grading_ends(tmp_path):
    marker = f"grading-leftover-{os.getpid()}-{time.time_ns()}"
    # argv[0] set by Python: Debian's /bin/sh (dash) has no `exec -a`.
    code = f"""
import subprocess
def f(x):
    subprocess.Popen(["/bin/sleep", "300"], executable="/bin/sleep", start_new_session=True)
    subprocess.Popen(["{marker}", "300"], executable="/bin/sleep", start_new_session=True)
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
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    monkeypatch.delenv(spawn.OPT_OUT_VARIABLE, raising=False)
    with pytest.raises(spawn.SandboxUnavailable):
        run_calls(["def f(x):\n    return x\n"], [Call("k", "f", args=(1,))])
    monkeypatch.setenv(spawn.OPT_OUT_VARIABLE, spawn.OPT_OUT_VALUE)
    report = run_calls(["def f(x):\n    return x\n"], [Call("k", "f", args=(1,))])
    assert report.outcomes["k"].value == 1


def test_the_limits_come_from_the_nbgrader_config(tmp_path, monkeypatch):
    """c.SandboxLimits in the course's nbgrader_config.py is what a sandboxed process runs under:
    smaller file-size and CPU-time limits set there are the rlimits the student's code reads
    inside. The course's own file sets today's values."""
    assert grading_limits() == Limits()
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.SandboxLimits.file_bytes = 3 * 1024 ** 2\n"
        "c.SandboxLimits.cpu_seconds = 77\n")
    monkeypatch.setattr("autograder.course.ROOT", tmp_path)
    assert grading_limits() == Limits(file_bytes=3 << 20, cpu_seconds=77)
    outcome, _ = call("import resource\ndef f(x):\n"
                      "    return list(resource.getrlimit(resource.RLIMIT_FSIZE))\n")
    assert outcome.value == [3 << 20, 3 << 20], outcome
    outcome, _ = call("import resource\ndef f(x):\n"
                      "    return list(resource.getrlimit(resource.RLIMIT_CPU))\n")
    assert outcome.value == [77, 82], outcome


def test_the_sandboxed_process_is_not_root_on_the_host():
    """Seen from outside, in /proc/<pid>/status: uid 65534 when grading runs as root."""
    code = """
import time
def f(x):
    print("sandboxed-uid-probe", flush=True)
    time.sleep(3)
    return 1
"""
    seen = []

    def look():
        deadline = time.time() + 30
        while time.time() < deadline and not seen:
            for pid in descendants(os.getpid()):
                proc = Path(f"/proc/{pid}")
                try:
                    argv = (proc / "cmdline").read_bytes().split(b"\0")
                    if argv[2:3] and argv[2].endswith(b"/child.py"):   # not bwrap, setpriv
                        status = (proc / "status").read_text()
                        seen.append(next(line.split()[1:] for line in status.splitlines()
                                         if line.startswith("Uid:")))
                except OSError:
                    continue
            time.sleep(0.1)

    watcher = threading.Thread(target=look)
    watcher.start()
    outcome, _ = call(code)
    watcher.join()
    assert outcome.value == 1 and seen
    expected = str(bwrap.NOBODY) if os.geteuid() == 0 else str(os.getuid())
    assert set(seen[0]) == {expected}


def test_one_environment_for_every_sandboxed_process():
    env = bwrap.child_env(grading_limits(), MPLBACKEND="module://matplotlib_inline.backend_inline")
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3" and env["OMP_NUM_THREADS"] == "1"
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert not {"HOME", "PYTHONPATH", "VIRTUAL_ENV"} & set(env)
    outcome, _ = call("import os\ndef f(x):\n    return dict(os.environ)\n")
    inside = outcome.value
    for key, value in bwrap.child_env(grading_limits()).items():
        assert inside[key] == value, key
    assert inside["TMPDIR"] == "/tmp" and inside["HOME"].startswith(("/tmp/", "/var/"))


def test_rlimits_are_written_once():
    """apply_rlimits sets exactly the list rlimits() returns, the only place limits are."""
    limits = Limits(memory_bytes=1 << 30, max_processes=10, file_bytes=1 << 20,
                            cpu_seconds=7)
    with_cgroups = dict((n, (s, h)) for n, s, h in rlimits(limits, {"memory", "pids"}))
    assert with_cgroups == {"RLIMIT_FSIZE": (1 << 20, 1 << 20), "RLIMIT_CPU": (7, 12),
                            "RLIMIT_CORE": (0, 0)}
    without = dict((n, (s, h)) for n, s, h in rlimits(limits, set()))
    assert without["RLIMIT_AS"] == (4 << 30, 4 << 30)
    assert without["RLIMIT_NPROC"][0] >= 10
    assert "RLIMIT_AS" not in dict((n, s) for n, s, _ in
                                   rlimits(limits, set(), fallback=False))
    read_fd, write_fd = os.pipe()
    if os.fork() == 0:      # apply them in a child, report what the kernel holds
        apply_rlimits(limits, {"memory", "pids"})
        got = {n: resource.getrlimit(getattr(resource, n)) for n in with_cgroups}
        os.write(write_fd, json.dumps(got).encode())
        os._exit(0)
    os.close(write_fd)
    got = json.loads(os.read(read_fd, 10000))
    os.close(read_fd)
    os.wait()
    assert {n: tuple(v) for n, v in got.items()} == with_cgroups


def test_the_kernel_folder_copy_holds_only_regular_files_and_directories(tmp_path):
    source, target = tmp_path / "submitted", tmp_path / "scratch"
    (source / "data").mkdir(parents=True)
    target.mkdir()
    (source / "data" / "x.csv").write_text("1,2\n")
    (source / "exercises.ipynb").write_text("{}")
    (source / "secret-link").symlink_to("/etc/hostname")
    (source / "dir-link").symlink_to(source / "data")
    os.mkfifo(source / "fifo")
    left_out = copy_plain_tree(source, target, skip=("*.ipynb",))
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == \
        ["data", "data/x.csv"]
    assert sorted(Path(p).name for p in left_out) == ["dir-link", "fifo", "secret-link"]


def first_solution_starting_with(notebook_text, code):
    nb = json.loads(notebook_text)
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = code + source
    return json.dumps(nb)


@pytest.mark.slow
def test_grading_leaves_nothing_behind_even_when_a_kernel_dies(tmp_path, monkeypatch):
    """Each kernel used to leave a kernel-ipc-* or kernel-scratch-* folder in /tmp: nbclient
    cleans up a dead kernel through a name AsyncKernelManager binds past the override."""
    chapter = "stability"
    course = copy_course(tmp_path / "course")
    nbgrader(course, "generate_assignment", chapter, "--force")
    correct = (ROOT / "samples/submitted/sample-correct" / chapter / "exercises.ipynb").read_text()
    students = {
        "good": correct,
        "killed": first_solution_starting_with(correct, "import os\nos.kill(os.getpid(), 9)\n"),
        "exits": first_solution_starting_with(correct, "import os\nos._exit(1)\n"),
    }
    for student, text in students.items():
        folder = course / "submitted" / student / chapter
        folder.mkdir(parents=True)
        (folder / "exercises.ipynb").write_text(text)
    # Grading's own temporary directory, so that other gradings on this machine cannot blur
    # the comparison; the kernel-* folders of /tmp are compared too.
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    in_tmp = _grading_folders_in_tmp()
    nbgrader(course, "autograde", chapter, "--force", check=False)
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"good": 10, "killed": 0, "exits": 0}
    # The good notebook really ran in its sandboxed kernel (over the IPC sockets, as uid 65534).
    graded = json.loads((course / "autograded/good" / chapter / "exercises.ipynb").read_text())
    assert all(c.get("execution_count") for c in graded["cells"] if c["cell_type"] == "code")
    assert sorted(p.name for p in private_tmp.iterdir()) == []
    assert _grading_folders_in_tmp() <= in_tmp | _kernels_of_others()


def _grading_folders_in_tmp():
    """The folders gradings make in /tmp (socket folders go there when TMPDIR is long)."""
    return {p.name for pattern in ("kernel-*", "autograder-*") for p in Path("/tmp").glob(pattern)}


def _kernels_of_others():
    """Grading folders in /tmp that other gradings, running now, are using."""
    return {name for name in _grading_folders_in_tmp()
            if time.time() - (Path("/tmp") / name).stat().st_mtime < 120}


def test_a_loop_that_never_ends_costs_seconds_not_minutes():
    """NumPy cells get Execute.timeout; cells that use Keras get keras_timeout."""
    from nbformat.v4 import new_code_cell

    from autograder.grading.preprocessors import SandboxedExecute

    execute = SandboxedExecute(timeout=30, keras_timeout=300)
    execute._keras_names = set()
    budgets = [execute.cell_timeout(new_code_cell(source)) for source in (
        "def softmax(z):\n    while True:\n        pass\n",
        "def build_model():\n    import keras\n    return keras.Sequential()\n",
        "model = build_model()\n",
        "model.fit(x, y)\n",
        "expect_close(softmax([1.0]), [1.0])\n",
    )]
    assert budgets == [30, 300, 300, 300, 30]
    assert execute.timeout_func == execute.cell_timeout


def test_an_interrupted_cell_stops_and_a_second_timeout_ends_the_notebook(tmp_path):
    """The first cell out of time is interrupted inside the sandbox (the kernel lives on); a
    kernel that ignores the interrupt is stopped at the next timeout, not left to run."""
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.grading.preprocessors import SandboxedExecute

    nb = new_notebook(cells=[new_code_cell(source) for source in (
        "while True:\n    pass\n",
        "print('after the interrupt')\n",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
        "print('never')\n",
    )])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    execute = SandboxedExecute(timeout=3, startup_timeout=120)
    start = time.monotonic()
    nb, _ = execute.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    texts = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells]
    assert texts[1] == "after the interrupt\n"
    assert texts[3] == "" and "second cell" in execute._stopped
    assert time.monotonic() - start < 60


def test_semaphores_work_inside():
    """multiprocessing needs a writable /dev/shm: without one joblib (under scikit-learn) warns,
    and the Keras exercise's check rejects a model whose training warned."""
    outcome, _ = call("import multiprocessing\ndef f(x):\n    with multiprocessing.Lock():\n"
                      "        return 1\n")
    assert outcome.value == 1, outcome.error


def test_a_sandboxed_process_plots_with_the_font_list_it_was_given():
    """matplotlib finds the font list seeded in its home: it does not build one (which runs
    fc-list, and prints fontconfig errors, in every sandboxed process that plots)."""
    code = """
import os
import time
def f(x):
    started = time.time()
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [1, 0])
    plt.title("a title needs a font")
    plt.savefig(os.path.join(os.environ["HOME"], "plot.png"))
    folder = matplotlib.get_cachedir()
    listed = sorted(n for n in os.listdir(folder) if n.startswith("fontlist"))
    written = [os.stat(os.path.join(folder, n)).st_mtime for n in listed]
    return [folder.startswith(os.environ["HOME"]), listed,
            len(font_manager.fontManager.ttflist) > 0, all(t < started for t in written)]
"""
    outcome, report = call(code)
    assert outcome.ok, outcome.error
    in_home, listed, fonts, given = outcome.value
    assert in_home and fonts and len(listed) == 1
    assert given, "matplotlib built its own font list instead of reading the one it was given"
    assert not any("Fontconfig" in line or "Matplotlib is building the font cache" in line
                   for line in report.log), report.log


def test_an_environment_reached_through_a_symbolic_link_runs_sandboxed(tmp_path):
    """A `.venv` that is a link (to a bigger disk, say): the grader's sys.executable names the
    link, so the sandbox shows the environment at that path too, not only where it really is
    (sandboxed processes used to exit 127: no such file)."""
    import subprocess
    import sys

    link = tmp_path / "linked-venv"
    link.symlink_to(Path(sys.prefix).resolve())
    program = ("import sys; from autograder.sandbox.runner import Call, run_calls; "
               "report = run_calls(['def f():\\n    return 41 + 1\\n'], [Call('k', 'f')]); "
               "print(sys.executable, report.outcomes['k'].value, report.log)")
    done = subprocess.run([str(link / "bin" / "python"), "-c", program], capture_output=True,
                          text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    executable, value = done.stdout.split()[:2]
    assert executable.startswith(str(link)) and value == "42", done.stdout


def test_kernel_stderr_reaches_the_log_escaped_and_bounded_never_the_graders_stderr(tmp_path):
    """A kernel's fd 2 used to be the grading command's own stderr: forged 'graded' lines,
    terminal escape sequences and 200 MB reached the instructor's terminal."""
    import logging

    import nbformat
    from nbclient import NotebookClient

    from autograder.grading.kernel import SandboxedKernelManager

    forged = ("import os\n"
              "chunk = b'x' * (1 << 20) + b'\\n'\n"
              "for _ in range(20):\n"
              "    os.write(2, chunk)\n"
              "os.write(2, b'\\x1b[2J\\x1b[H[1/1] alice: graded 10/10\\n' * 3)\n"
              "os.write(2, b'the end\\x07\\n')\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(forged)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    from traitlets.config import Application

    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    # The kernel manager logs to traitlets' logger outside an app, and to the app's own logger
    # once a test earlier in this process has started an nbgrader app.
    logs = {logging.getLogger("traitlets")}
    if Application.initialized():
        logs.add(Application.instance().log)
    levels = {log: log.level for log in logs}
    for log in logs:
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    stderr_before = os.fstat(2).st_size if os.path.isfile("/proc/self/fd/2") else None
    client = NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    finally:
        for log, level in levels.items():
            log.removeHandler(handler)
            log.setLevel(level)
    quoted = "\n".join(m for m in records if "kernel stderr |" in m)
    assert "kernel stderr | \\x1b[2J\\x1b[H[1/1] alice: graded 10/10" in quoted
    assert "the end\\x07" in quoted and "\x1b" not in quoted and "\x07" not in quoted
    assert len(quoted) < 10_000
    assert any("the kernel wrote 20971" in m for m in records)    # 20 MB, counted not quoted
    if stderr_before is not None:      # pytest captures fd 2 into a file: nothing reached it
        assert os.fstat(2).st_size - stderr_before < 100_000


def test_an_ordinary_user_gets_a_user_namespace_and_no_setpriv(tmp_path, monkeypatch):
    """setpriv only as root (an ordinary user could not change uid anyway): a grader that is
    not root runs bubblewrap with a user namespace (uid 65534 inside), as its own user on the
    host, and hands nothing over (the scratch folder is already its own). tests/autograder/
    test_non_root.py runs the doctor and grading as a real ordinary user."""
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    monkeypatch.setattr(os, "getuid", lambda: 4242)
    assert bwrap.sandbox_user()[0] == 4242 and "own user" in bwrap.sandbox_user()[2]
    argv = bwrap.bwrap_command(["/bin/true"], tmp_path, grading_limits())
    assert "--unshare-all" in argv and argv[argv.index("--uid") + 1] == "65534"
    assert not any("setpriv" in arg for arg in argv) and "--cap-add" not in argv
