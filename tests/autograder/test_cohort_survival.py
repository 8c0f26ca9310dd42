"""The cohort survives any one submission: a submission whose grading kills its Dask worker is
graded once more, then recorded as failed, and every other submission is graded (issue 18).

A student's notebook can kill the worker grading it (the red team flooded the grader's memory
from the kernel). These tests play that student from outside, with no hook in the grader: the
cluster's TMPDIR is a folder of the test's, and when the scratch course of a chosen student
appears there (`autograder-<worker pid>-cohort-*/submitted/<student>`), the test SIGKILLs the
worker process named in the folder's name. Everything else is real: the command, its
LocalCluster (whose nanny restarts a killed worker), or `dask scheduler` and `dask worker`
processes, the sandbox, nbgrader.
"""

import os
import re
import signal
import subprocess
import threading
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.sandbox import bwrap
from samples.answers.stability import EXPECTED_SCORES
from tests.autograder.test_cohort import (
    CHAPTER,
    DaskCluster,
    grade_command,
    new_course,
    scores,
    sqlite,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap.bwrap_path(), reason="needs bubblewrap")]

SCRATCH = re.compile(r"autograder-(\d+)-cohort-")


class Killer:
    """Watches `tmp` for the scratch courses of the workers; SIGKILLs the worker grading
    `student` on each of its first `times` attempts. Records every attempt it saw (the worker's
    pid, per student) and when each sandbox self-test ran (its scratch folders)."""

    def __init__(self, tmp, student, times, second_after=0.0):
        self.tmp, self.student, self.times = tmp, student, times
        self.second_after = second_after     # seconds from the first kill to the second, at least
        self.attempts = {}           # student -> [worker pid, ...], in the order seen
        self.kills = []              # (monotonic time, pid)
        self.started = []            # (monotonic time, student, pid): a grading seen starting
        self.self_tests = []         # monotonic times a sandbox self-test folder was seen
        self._seen = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _watch(self):
        while not self._stop.is_set():
            for entry in os.scandir(self.tmp):
                if "doctor" in entry.name and entry.name not in self._seen:
                    self._seen.add(entry.name)
                    self.self_tests.append(time.monotonic())
                match = SCRATCH.match(entry.name)
                if not match:
                    continue
                for path in submitted_folders(entry.path):
                    if path in self._seen:
                        continue
                    self._seen.add(path)
                    student, pid = os.path.basename(path), int(match.group(1))
                    self.attempts.setdefault(student, []).append(pid)
                    self.started.append((time.monotonic(), student, pid))
                    if student == self.student and len(self.kills) < self.times:
                        if len(self.kills) == 1:
                            time.sleep(max(0.0, self.kills[0][0] + self.second_after
                                           - time.monotonic()))
                        kill(pid)
                        self.kills.append((time.monotonic(), pid))
            time.sleep(0.05)


def submitted_folders(folder):
    """The submitted/<student> folders of one scratch course (gone already: none)."""
    with_submitted = os.path.join(folder, "submitted")
    try:
        return [os.path.join(with_submitted, name) for name in os.listdir(with_submitted)]
    except OSError:
        return []


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_command(cmd, env, course, timeout=300):
    """Run the grade command: (exit status, output). One that runs past `timeout` is killed with
    its workers, and its status is None."""
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out
    return proc.returncode, out


def graded_rows(course):
    """(submissions, grade rows) of the chapter in the gradebook: each written once."""
    with Gradebook(sqlite(course)) as gb:
        subs = gb.assignment_submissions(CHAPTER)
        return (sorted(s.student_id for s in subs),
                sum(len(nb.grades) for s in subs for nb in s.notebooks),
                len(gb.find_assignment(CHAPTER).notebooks[0].grade_cells))


def slow_down(course, student, seconds):
    """Make `student`'s notebook sleep in its first solution cell (under the course's per-cell
    limit): its grading lasts at least that long."""
    path = course / "submitted" / student / CHAPTER / "exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = f"import time\ntime.sleep({seconds})\n" + cell.source
    nbformat.write(nb, path)


def local_run(tmp_path, students, killed, times, second_after=0.0, slow=0):
    course = new_course(tmp_path / "course", students)
    if slow:
        slow_down(course, killed, slow)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    cmd, env = grade_command(course, "--workers", "1")
    env["TMPDIR"] = str(tmp)
    start = time.monotonic()
    with Killer(tmp, killed, times, second_after) as killer:
        code, out = run_command(cmd, env, course)
    return course, code, out, killer, time.monotonic() - start


def test_a_submission_that_kills_its_worker_fails_after_two_attempts_and_the_rest_are_graded(
        tmp_path):
    students = {"a-first": "sample-correct", "b-killer": "sample-correct",
                "c-last": "sample-partial"}
    # The second kill comes 14.7 s after the first (if the second grading has started by then):
    # Dask's SpecCluster closes a nanny for good when its worker is not back 15 s after it was
    # lost, and the worker the nanny starts after this kill is not back yet at that moment.
    course, code, out, killer, seconds = local_run(tmp_path, students, "b-killer", times=10,
                                                   second_after=14.7, slow=20)
    print(f"one worker, a submission killing it twice: {seconds:.0f} s")
    assert killer.attempts.get("b-killer") and len(killer.attempts["b-killer"]) == 2, \
        (killer.attempts, out)
    assert len(killer.kills) == 2
    assert code == 1, out
    assert "stability: 2 graded, 0 already up to date, 0 refused, 1 failed" in out, out
    assert re.search(r"FAILED +b-killer: its grading killed the worker twice", out), out
    assert scores(sqlite(course)) == {"a-first": 10.0,
                                      "c-last": float(EXPECTED_SCORES["sample-partial"])}
    assert graded_rows(course)[:2] == (["a-first", "c-last"], 2 * graded_rows(course)[2])
    log = (course / "logs" / "grade" / CHAPTER / "b-killer.log").read_text()
    assert "killed the worker twice" in log
    assert not (course / "autograded" / "b-killer").exists() or \
        not any((course / "autograded" / "b-killer").iterdir())
    # The scratch courses the killed workers left (a student's submission in each) were swept
    # by the next worker's grading.
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if SCRATCH.match(p.name)]
    # Each worker the nanny started again ran the sandbox self-test before it took a submission.
    for killed_at, _ in killer.kills:
        after = [t for t, _, _ in killer.started if t > killed_at]
        assert after, "no submission was graded after the worker was killed"
        assert any(killed_at < t < after[0] for t in killer.self_tests), \
            "the restarted worker graded before its sandbox self-test"


def test_a_worker_killed_once_under_an_honest_submission_regrades_it(tmp_path):
    students = {"a-first": "sample-partial", "b-victim": "sample-correct",
                "c-last": "sample-untouched"}
    course, code, out, killer, seconds = local_run(tmp_path, students, "b-victim", times=1)
    print(f"one worker, killed once: {seconds:.0f} s")
    assert len(killer.kills) == 1
    assert len(killer.attempts["b-victim"]) == 2, killer.attempts
    assert code == 0, out
    assert "stability: 3 graded, 0 already up to date, 0 refused, 0 failed" in out, out
    assert scores(sqlite(course)) == {s: float(EXPECTED_SCORES[sample])
                                      for s, sample in students.items()}
    assert graded_rows(course)[:2] == (sorted(students), 3 * graded_rows(course)[2])


def test_on_an_existing_cluster_a_killer_is_graded_twice_even_with_a_free_worker(tmp_path):
    """`dask worker --no-nanny` processes are not restarted: the killer kills one worker, then
    a second; a third worker, free all along, refuses to grade it a third time and grades the
    others. The scheduler's allowed-failures is 0 (Dask gives up on every submission on a
    worker that dies at once): the count is the command's, across its resubmissions."""
    students = {"a-killer": "sample-correct", "b-honest": "sample-partial"}
    course = new_course(tmp_path / "course", students)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    cluster = DaskCluster(course, tmp_path)
    cluster.env.update(TMPDIR=str(tmp), DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    start = time.monotonic()
    try:
        cluster.start_scheduler()
        for name in ("w1", "w2", "w3"):
            cluster.start_worker(name)
        cluster.wait_for_workers(3)
        cmd, env = grade_command(course, "--scheduler", cluster.address)
        with Killer(tmp, "a-killer", times=10) as killer:
            code, out = run_command(cmd, env, course)
    finally:
        cluster.stop()
    print(f"three dask workers, a submission killing two: {time.monotonic() - start:.0f} s")
    assert len(killer.attempts["a-killer"]) == 2, (killer.attempts, out)
    assert len(set(killer.attempts["a-killer"])) == 2, "two different workers died"
    assert code == 1, out
    assert re.search(r"FAILED +a-killer: its grading killed the worker twice", out), out
    assert f"b-honest: graded {EXPECTED_SCORES['sample-partial']}/10" in out
    assert scores(sqlite(course)) == {"b-honest": float(EXPECTED_SCORES["sample-partial"])}
    assert graded_rows(course)[:2] == (["b-honest"], graded_rows(course)[2])


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-v", "-s"]))
