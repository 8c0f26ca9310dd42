"""Nothing lost: malformed submissions get a clear error and a zero, the rest are graded, and a
grading run killed half-way and run again ends with the same gradebook."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox import bwrap
from autograder.sandbox.process import descendants
from samples.answers.stability import EXPECTED_SCORES
from tests.course import BIN, copy_course, nbgrader, nbgrader_env

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "stability"     # the scores below are samples/answers/stability.py's
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")]


def make_course(tmp_path):
    return copy_course(tmp_path / "course")


def scores(course):
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def submit(course, student, notebook_text):
    folder = course / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    if notebook_text is not None:
        (folder / "exercises.ipynb").write_text(notebook_text)


def correct_notebook(chapter=CHAPTER):
    return (ROOT / "samples/submitted/sample-correct" / chapter / "exercises.ipynb").read_text()


def without_cells(notebook_text, grade_ids):
    nb = json.loads(notebook_text)
    nb["cells"] = [c for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade_id") not in grade_ids]
    return json.dumps(nb)


def test_malformed_submissions_get_a_clear_error_and_a_zero(tmp_path):
    course = make_course(tmp_path)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    submit(course, "good", correct_notebook())
    submit(course, "invalid-json", '{"cells": [ this is not json')
    submit(course, "other-assignment", correct_notebook("softmax"))
    submit(course, "no-notebook", None)
    # A deleted test cell comes back and is graded (log_sum_exp, 2 points); a deleted solution
    # cell loses log_softmax (2) and the cross-entropy built on it (3): 10 - 5.
    submit(course, "deleted-cells", without_cells(correct_notebook(),
                                                  {"test_log_sum_exp", "log_softmax"}))
    result = nbgrader(course, "autograde", CHAPTER, "--force", check=False)
    got = scores(course)
    assert got["good"] == 10
    assert got.get("invalid-json", 0) == 0
    assert got["other-assignment"] == 0
    assert got.get("no-notebook", 0) == 0
    assert got["deleted-cells"] == 5
    assert "invalid-json" in result.stderr and "error" in result.stderr.lower()


def test_a_killed_run_rerun_gives_the_same_gradebook(tmp_path):
    course = make_course(tmp_path)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    for student in ("sample-correct", "sample-partial", "sample-untouched", "sample-tamper"):
        submit(course, student,
               (ROOT / "samples/submitted" / student / CHAPTER / "exercises.ipynb").read_text())
    run = subprocess.Popen([str(BIN / "nbgrader"), "autograde", CHAPTER, "--force"], cwd=course,
                           env=nbgrader_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (course / "autograded/sample-partial").exists():
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)     # like a machine restart: no chance to clean up
    run.wait()
    nbgrader(course, "autograde", CHAPTER, "--force")
    after_rerun = scores(course)
    assert after_rerun == EXPECTED_SCORES
    # One grade per test cell and student: nothing duplicated by the interrupted run.
    sys.path.insert(0, str(course))
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in after_rerun:
            submission = gb.find_submission_notebook("exercises", CHAPTER, student)
            ids = [grade.name for grade in submission.grades]
            assert len(ids) == len(set(ids)), (student, ids)


def with_code_before_solutions(notebook_text, codes):
    """The notebook with codes[i] put at the top of its i-th solution cell."""
    nb = json.loads(notebook_text)
    cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    for cell, code in zip(cells, codes):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = code + source
    return json.dumps(nb)


# 48 busy processes, each in a session of its own, in the student's sandbox (its kernel, and
# the verdict's process, which runs the same cells), busy until their grading is stopped.
CPU_HOG = ("import os, time\n"
           "end = time.monotonic() + 600\n"
           "for _ in range(48):\n"
           "    try:\n"
           "        if os.fork() == 0:\n"
           "            os.setsid()\n"
           "            while time.monotonic() < end:\n"
           "                pass\n"
           "            os._exit(0)\n"
           "    except OSError:\n"
           "        break\n"
           "time.sleep(20)\n")


def test_an_honest_notebook_graded_beside_a_cpu_hog_gets_its_full_score(tmp_path):
    """A verdict never depends on what else the machine grades: while 48 busy processes run in
    another student's sandbox (graded by another command on the same machine), an honest Keras
    notebook (logistic_regression, whose judge trains a model against a time budget) still gets
    10/10. Each sandbox gets its share of the CPU (a cgroup quota and weight), and the training
    budget counts the judge's own CPU time. Measured on 2 cores: the honest notebook is graded
    in about 21 s beside the hog (198 s before the CPU share, where the red team's run lost it
    3 points to the judge's wall-clock budget)."""
    chapter = "logistic_regression"
    correct = (ROOT / "samples/submitted/sample-correct" / chapter /
               "exercises.ipynb").read_text()
    courses = {}
    for student, text in (("hog", with_code_before_solutions(correct, [CPU_HOG])),
                          ("honest", correct)):
        course = courses[student] = copy_course(tmp_path / student)
        nbgrader(course, "generate_assignment", chapter, "--force")
        folder = course / "submitted" / student / chapter
        folder.mkdir(parents=True)
        (folder / "exercises.ipynb").write_text(text)
    hog = subprocess.Popen([str(BIN / "nbgrader"), "autograde", chapter, "--force"],
                           cwd=courses["hog"], env=nbgrader_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while len(descendants(hog.pid)) < 60 and time.monotonic() < deadline:
            time.sleep(0.5)      # its kernel and its verdict's process: 96 busy processes
        assert len(descendants(hog.pid)) >= 60, "the hog never got busy"
        start = time.monotonic()
        nbgrader(courses["honest"], "autograde", chapter, "--force")
        print(f"the honest notebook was graded in {time.monotonic() - start:.0f} s beside "
              f"{len(descendants(hog.pid))} processes of the hog's grading")
    finally:
        os.killpg(hog.pid, signal.SIGKILL)
        hog.wait()
    nbgrader(courses["honest"], "export", "--to", "grades.csv")
    with open(courses["honest"] / "grades.csv") as f:
        assert {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)} == \
            {"honest": 10.0}
