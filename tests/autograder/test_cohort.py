"""Cohort grading (`python -m autograder grade`) against plain `nbgrader autograde`, for real.

Every test runs the real command in a scratch copy of the course: a Dask LocalCluster of worker
processes, or a real `dask scheduler` and `dask worker` processes started here on 127.0.0.1,
the real sandbox and the real trusted verdict, on the sample submissions of `stability` (the
cheapest chapter) and on submissions made to fail in known ways.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from samples.answers.stability import EXPECTED_SCORES
from tests.course import BIN, ROOT, copy_course, nbgrader, nbgrader_env
from tests.postgres import postgres_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow
CHAPTER = "stability"
SAMPLES = ROOT / "samples" / "submitted"


def new_course(tmp_path, students=None, db_url=None):
    """A course copy with the chapter generated and the samples (renamed by `students`:
    {new name: sample name}) submitted."""
    course = copy_course(tmp_path)
    nbgrader(course, "generate_assignment", CHAPTER, "--force", db_url=db_url)
    students = students or {s: s for s in EXPECTED_SCORES}
    for name, sample in students.items():
        shutil.copytree(SAMPLES / sample / CHAPTER, course / "submitted" / name / CHAPTER)
    return course


def grade_command(course, *args, db_url=None):
    cmd = [str(BIN / "python"), "-m", "autograder", "grade", CHAPTER, *args]
    env = nbgrader_env()
    if db_url is not None:
        env["NBGRADER_DB_URL"] = db_url
    return cmd, env


def grade(course, *args, db_url=None, timeout=900):
    cmd, env = grade_command(course, *args, db_url=db_url)
    return subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True,
                          timeout=timeout)


def gradebook_rows(db_url, students=None):
    """Every grade, comment and notebook row of the chapter, as plain tuples."""
    rows = []
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(CHAPTER):
            if students is not None and sub.student_id not in students:
                continue
            for nb in sub.notebooks:
                rows.append(("notebook", sub.student_id, nb.name, nb.score,
                             nb.late_submission_penalty, nb.needs_manual_grade))
                rows += [("grade", sub.student_id, g.name, g.auto_score, g.manual_score,
                          g.needs_manual_grade) for g in nb.grades]
                rows += [("comment", sub.student_id, c.name, c.auto_comment)
                         for c in nb.comments]
    return sorted(rows, key=repr)


def scores(db_url):
    with Gradebook(db_url) as gb:
        return {sub.student_id: sub.score for sub in gb.assignment_submissions(CHAPTER)}


def sqlite(course):
    return f"sqlite:///{course / 'gradebook.db'}"


def verdicts(notebook_path):
    """(grade id, accepted) of each test cell: what the trusted verdict decided."""
    nb = nbformat.read(notebook_path, as_version=4)
    return [(c.metadata["nbgrader"]["grade_id"], c.metadata["autograder"]["accepted"])
            for c in nb.cells if "autograder" in c.metadata]


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory):
    """The same submissions graded by `nbgrader autograde` and by the cohort command, plus a
    submission holding a link (refused) and one that is not a notebook (fails)."""
    runs = {}
    for how in ("nbgrader", "cohort"):
        course = new_course(tmp_path_factory.mktemp(how))
        linked = course / "submitted" / "linked-student" / CHAPTER
        linked.mkdir(parents=True)
        (linked / "exercises.ipynb").symlink_to(course / "source" / CHAPTER / "exercises.ipynb")
        broken = course / "submitted" / "broken-student" / CHAPTER
        broken.mkdir(parents=True)
        (broken / "exercises.ipynb").write_text("this is not a notebook")
        if how == "nbgrader":
            result = nbgrader(course, "autograde", CHAPTER, "--force", check=False)
        else:
            result = grade(course, "--workers", "2")
        runs[how] = (course, result)
    return runs


def test_cohort_grades_write_the_same_gradebook_rows_as_nbgrader(side_by_side):
    (plain, _), (cohort, _) = side_by_side["nbgrader"], side_by_side["cohort"]
    students = {*EXPECTED_SCORES, "linked-student"}
    expected = gradebook_rows(sqlite(plain), students)
    assert len(expected) > 4 * 8
    assert gradebook_rows(sqlite(cohort), students) == expected
    got = scores(sqlite(cohort))
    assert {s: got[s] for s in EXPECTED_SCORES} == EXPECTED_SCORES
    assert got["linked-student"] == 0


def test_cohort_autograded_notebooks_carry_the_same_verdicts(side_by_side):
    (plain, _), (cohort, _) = side_by_side["nbgrader"], side_by_side["cohort"]
    for student in EXPECTED_SCORES:
        path = Path("autograded", student, CHAPTER, "exercises.ipynb")
        assert verdicts(cohort / path) == verdicts(plain / path)
        assert verdicts(cohort / path), "the verdict records are in the notebook"
        marker = json.loads((cohort / path.parent / ".autograder-graded.json").read_text())
        assert len(marker["fingerprint"]) == 64
    for student in ("linked-student", "broken-student"):
        assert not (cohort / "autograded" / student).exists() or \
            not any((cohort / "autograded" / student).iterdir())


def test_cohort_reports_progress_failures_and_exit_status(side_by_side):
    _, result = side_by_side["cohort"]
    out = result.stdout + result.stderr
    assert result.returncode == 1, out                    # not everything could be graded
    total = len(EXPECTED_SCORES) + 2
    for student, score in EXPECTED_SCORES.items():
        assert f"{student}: graded {score:g}/10 on tcp://" in out, out
    assert f"[{total}/{total}]" in out
    assert "stability: 4 graded, 0 already up to date, 1 refused, 1 failed" in out
    assert "REFUSED  linked-student: exercises.ipynb is a symbolic link" in out
    assert "FAILED   broken-student: " in out
    assert "run the command again to retry them" in out
    cohort, _ = side_by_side["cohort"]
    log = (cohort / "logs" / "grade" / CHAPTER / "sample-tamper.log").read_text()
    assert "[trusted verdict] sample-tamper/stability" in log and "graded on tcp://" in log
    assert (cohort / "logs" / "grade" / CHAPTER / "broken-student.log").read_text().strip()


def test_feedback_and_export_work_on_cohort_grades(side_by_side):
    cohort, _ = side_by_side["cohort"]
    nbgrader(cohort, "generate_feedback", CHAPTER, "--force", check=False)
    html = (cohort / "feedback" / "sample-correct" / CHAPTER / "exercises.html").read_text()
    assert "accepted" in html and "rejected" not in html
    assert ".autograder-graded.json" not in html
    assert not (cohort / "feedback" / "sample-correct" / CHAPTER / ".autograder-graded.json") \
        .exists()
    nbgrader(cohort, "export", "--to", "grades.csv")
    text = (cohort / "grades.csv").read_text()
    assert "sample-correct" in text and "linked-student" in text


def test_a_second_run_grades_only_what_changed(side_by_side):
    cohort, _ = side_by_side["cohort"]
    shutil.rmtree(cohort / "submitted" / "broken-student")
    shutil.rmtree(cohort / "submitted" / "linked-student")
    again = grade(cohort, "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "stability: 0 graded, 4 already up to date" in again.stdout

    path = cohort / "submitted" / "sample-partial" / CHAPTER / "exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note the student added."))
    nbformat.write(nb, path)
    changed = grade(cohort, "--workers", "1")
    assert changed.returncode == 0, changed.stderr
    assert "stability: 1 graded, 3 already up to date" in changed.stdout
    assert f"sample-partial: graded {EXPECTED_SCORES['sample-partial']}/10" in changed.stderr

    forced = grade(cohort, "--workers", "1", "--force")
    assert "stability: 4 graded, 0 already up to date" in forced.stdout, forced.stderr


def test_an_interrupted_run_loses_nothing_and_the_next_run_finishes(tmp_path):
    students = {f"student-{i}": sample for i, sample in enumerate(sorted(EXPECTED_SCORES) * 2)}
    course = new_course(tmp_path, students)
    cmd, env = grade_command(course, "--workers", "1")
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if ": graded " in line:           # one submission written: stop the run (Ctrl-C)
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=300)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out
    assert "interrupted: every submission graded so far is kept" in out
    done = sum(1 for s in students
               if (course / "autograded" / s / CHAPTER / ".autograder-graded.json").exists())
    assert 1 <= done < len(students)
    assert not list((course / "autograded").glob("*/.stability.*")), "no staging left behind"

    finish = grade(course, "--workers", "2")
    assert finish.returncode == 0, finish.stderr
    assert f"stability: {len(students) - done} graded, {done} already up to date" in finish.stdout
    got = scores(sqlite(course))
    assert got == {s: EXPECTED_SCORES[sample] for s, sample in students.items()}


def test_a_refused_submission_still_gets_its_zero_and_others_are_graded(tmp_path):
    course = new_course(tmp_path, {"ok-student": "sample-correct"})
    fifo_folder = course / "submitted" / "fifo-student" / CHAPTER
    shutil.copytree(SAMPLES / "sample-correct" / CHAPTER, fifo_folder)
    os.mkfifo(fifo_folder / "data.bin")
    result = grade(course, "--workers", "1")
    assert result.returncode == 1
    assert "REFUSED  fifo-student: data.bin is a named pipe (FIFO)" in result.stdout
    assert scores(sqlite(course)) == {"ok-student": 10.0, "fifo-student": 0.0}


def test_a_hanging_notebook_holds_only_its_own_worker(tmp_path):
    course = new_course(tmp_path)
    # Shorter limits than the course's (30 s a cell, 120 s to load): the same mechanism, faster,
    # and still longer than the four others take together.
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.Execute.timeout = 20\nc.TrustedVerdict.load_timeout = 25\n")
    hanging = course / "submitted" / "a-hanging-student" / CHAPTER
    shutil.copytree(SAMPLES / "sample-correct" / CHAPTER, hanging)
    nb = nbformat.read(hanging / "exercises.ipynb", as_version=4)
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    solution.source = "import time\ntime.sleep(10_000)\n" + solution.source
    nbformat.write(nb, hanging / "exercises.ipynb")
    result = grade(course, "--workers", "2")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if ": graded " in line]
    assert len(lines) == 5
    assert "a-hanging-student" in lines[-1], "the others were graded while it hung"
    workers = [line.split(" on ")[-1].split(" ")[0] for line in lines]
    assert len(set(workers[:-1])) == 1 and workers[-1] not in workers[:-1], lines
    got = scores(sqlite(course))
    assert {s: got[s] for s in EXPECTED_SCORES} == EXPECTED_SCORES
    assert got["a-hanging-student"] < 10


def test_no_assignment_in_the_gradebook_is_a_clear_error(tmp_path):
    course = copy_course(tmp_path)
    result = grade(course, "--workers", "1")
    assert result.returncode == 2
    assert "run `nbgrader generate_assignment stability` first" in result.stderr


def test_cohort_grades_in_parallel_into_postgresql(tmp_path, postgres_url):  # noqa: F811
    students = {f"pg-{i}": sample for i, sample in enumerate(sorted(EXPECTED_SCORES) * 2)}
    course = new_course(tmp_path, students, db_url=postgres_url)
    result = grade(course, "--workers", "2", db_url=postgres_url)
    assert result.returncode == 0, result.stderr
    assert f"stability: {len(students)} graded" in result.stdout
    assert not (course / "gradebook.db").exists()
    assert scores(postgres_url) == {s: EXPECTED_SCORES[sample] for s, sample in students.items()}
    again = grade(course, "--workers", "1", db_url=postgres_url)
    assert f"stability: 0 graded, {len(students)} already up to date" in again.stdout
    nbgrader(course, "export", "--to", "grades.csv", db_url=postgres_url)
    assert (course / "grades.csv").read_text().count("\nstability,") == len(students)


# ----------------------------------------------------------------------------------------------
# A real Dask cluster: a scheduler and worker processes started here, one killed mid-run.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    def __init__(self, course, tmp_path):
        self.course, self.tmp = course, tmp_path
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs = {}
        self.env = dict(nbgrader_env(), PYTHONPATH=str(course))

    def start_scheduler(self):
        self._start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                  "--port", str(self.port), "--no-dashboard"])

    def start_worker(self, name, **env):
        self._start(name, [str(BIN / "dask"), "worker", self.address, "--nthreads", "1",
                           "--no-nanny", "--host", "127.0.0.1", "--no-dashboard",
                           "--name", name], env)

    def _start(self, name, cmd, env=None):
        log = open(self.tmp / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(cmd, cwd=self.course, env={**self.env, **(env or {})},
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_for_workers(self, n, timeout=120):
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill(self, name):
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def log(self, name):
        return (self.tmp / f"{name}.log").read_text()


def test_a_real_dask_cluster_grades_everything_when_a_worker_dies(tmp_path):
    students = {f"s{i:02d}": sample for i, sample in enumerate(sorted(EXPECTED_SCORES) * 2)}
    course = new_course(tmp_path / "course", students)
    cluster = DaskCluster(course, tmp_path)
    try:
        cluster.start_scheduler()
        cluster.start_worker("steady")
        cluster.start_worker("doomed")
        # A worker whose sandbox self-test fails (no bubblewrap on its PATH) takes no work.
        cluster.start_worker("unconfined", PATH="/nonexistent")
        cluster.wait_for_workers(3)
        cmd, env = grade_command(course, "--scheduler", cluster.address)
        proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        killed = kill_when_busy(cluster, "doomed")
        out, _ = proc.communicate(timeout=900)
    finally:
        cluster.stop()
    assert killed, "the doomed worker never took a submission"
    assert proc.returncode == 0, out
    assert "worker tcp://" in out and "refuses work: the sandbox self-test failed" in out
    assert f"stability: {len(students)} graded, 0 already up to date, 0 refused, 0 failed" in out
    graded_on = [line for line in out.splitlines() if ": graded " in line]
    assert len(graded_on) == len(students)
    assert not any("unconfined" in line for line in graded_on)
    assert scores(sqlite(course)) == {s: EXPECTED_SCORES[sample] for s, sample in
                                      students.items()}
    with Gradebook(sqlite(course)) as gb:
        subs = gb.assignment_submissions(CHAPTER)
        assert len(subs) == len(students)                     # no duplicate rows
        assert sum(len(nb.grades) for sub in subs for nb in sub.notebooks) == \
            len(students) * len(gb.find_assignment(CHAPTER).notebooks[0].grade_cells)


def kill_when_busy(cluster, name, timeout=300):
    """SIGKILL worker `name` once it is grading a submission; whether that happened."""
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(cluster.address, timeout="60s") as client:
        while time.monotonic() < deadline:
            info = client.scheduler_info()["workers"]
            busy = [addr for addr, w in info.items()
                    if w.get("name") == name and client.processing([addr]).get(addr)]
            if busy:
                time.sleep(1.0)            # well into its submission
                cluster.kill(name)
                return True
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
