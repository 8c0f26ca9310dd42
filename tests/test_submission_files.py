"""Nothing in submitted/ is followed: links, devices, FIFOs, sockets and hard links to files
outside a submission get it refused (a log line naming the student, a zero) before nbgrader reads
or copies it, and nothing of their targets reaches autograded/ or feedback/."""

import csv
import html
import json
import os
import re
import resource
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from autograder.grading.submissions import submission_problems
from autograder.sandbox import bwrap
from tests.course import BIN, copy_course, nbgrader_env

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "stability"
SAMPLES = ROOT / "samples/submitted"
NOTEBOOK = "exercises.ipynb"


# --- the scan itself, on a tmp folder (no nbgrader) -----------------------------------------

def scan(folder, top=None, seconds=10):
    """submission_problems(folder), failing (not hanging) if it blocks on a special file."""
    result = []
    worker = threading.Thread(target=lambda: result.append(submission_problems(folder, top)),
                              daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, "the scan blocked: it opened a special file"
    return result[0]


def test_the_scan_refuses_what_must_not_be_followed_and_nothing_else(tmp_path):
    outside = tmp_path / "course.py"
    outside.write_text("REFERENCE = 1\n")
    sub = tmp_path / "submitted/student/ch"
    (sub / "data/deeper").mkdir(parents=True)
    (sub / NOTEBOOK).write_text("{}")
    (sub / "data/deeper/table.csv").write_text("x\n1\n")
    os.link(sub / "data/deeper/table.csv", sub / "data/same.csv")   # both names in it: kept
    top = tmp_path / "submitted"
    assert scan(sub, top) == []

    (sub / "link.py").symlink_to(outside)
    (sub / "data/deeper/zero").symlink_to("/dev/zero")
    (sub / "data/dir").symlink_to(tmp_path)
    (sub / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(sub / "pipe")
    os.link(outside, sub / "data/notes.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sub / "sock"))
    try:
        os.mknod(sub / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        device = True
    except OSError:                     # no CAP_MKNOD here: the other cases still run
        device = False

    problems = "\n".join(scan(sub, top))
    assert f"link.py is a symbolic link to {outside}" in problems
    assert "data/deeper/zero is a symbolic link to /dev/zero" in problems
    assert f"data/dir is a symbolic link to {tmp_path}" in problems
    assert "dangling is a symbolic link" in problems
    assert "pipe is a named pipe (FIFO)" in problems
    assert "sock is a socket" in problems
    assert "data/notes.txt is a hard link to a file outside the submission" in problems
    assert not device or "dev is a character device" in problems
    assert "table.csv" not in problems and "same.csv" not in problems and NOTEBOOK not in problems
    assert os.path.getsize(outside) == len("REFERENCE = 1\n")  # nothing was written through


def test_the_student_and_assignment_folders_must_not_be_links(tmp_path):
    top = tmp_path / "submitted"
    (top / "good/ch").mkdir(parents=True)
    (top / "good/ch" / NOTEBOOK).write_text("{}")
    (top / "copier").mkdir()
    (top / "copier/ch").symlink_to("../good/ch")
    (top / "whole").symlink_to(top / "good")
    assert scan(top / "good/ch", top) == []
    assert scan(top / "copier/ch", top) == ["copier/ch is a symbolic link to ../good/ch"]
    assert scan(top / "whole/ch", top) == [f"whole is a symbolic link to {top / 'good'}"]


def test_names_in_the_reasons_cannot_forge_log_lines(tmp_path):
    (tmp_path / "a\nb").symlink_to("x\r[submission] other/ch: accepted")
    [problem] = scan(tmp_path)
    assert "\n" not in problem and "\r" not in problem


# --- real grading runs ----------------------------------------------------------------------

# student -> what their submission holds besides (or instead of) a correct notebook, and the
# reason the log must give when refusing it.
REFUSED = {
    "link-source": "exercises.ipynb is a symbolic link to",
    "link-other-student": "exercises.ipynb is a symbolic link to ../../good/stability/",
    "link-reference": "helpers.py is a symbolic link to",
    "link-dev-zero": "data.bin is a symbolic link to /dev/zero",
    "fifo": "pipe is a named pipe (FIFO)",
    "hard-link": "notes.py is a hard link to a file outside the submission",
    "linked-folder": "linked-folder/stability is a symbolic link to ../good/stability",
    "nested-link": "extra/deeper/source.txt is a symbolic link to",
}


def make_submissions(course):
    correct = (SAMPLES / "sample-correct" / CHAPTER / NOTEBOOK).read_text()
    submitted = course / "submitted"

    def folder(student, with_correct_notebook=True):
        path = submitted / student / CHAPTER
        path.mkdir(parents=True)
        if with_correct_notebook:
            (path / NOTEBOOK).write_text(correct)
        return path

    source_nb = course / "source" / CHAPTER / NOTEBOOK
    reference = course / "solutions" / f"{CHAPTER}.py"
    folder("good")
    (folder("link-source", False) / NOTEBOOK).symlink_to(source_nb)
    (folder("link-other-student", False) / NOTEBOOK).symlink_to(f"../../good/{CHAPTER}/{NOTEBOOK}")
    (folder("link-reference") / "helpers.py").symlink_to(reference)
    (folder("link-dev-zero") / "data.bin").symlink_to("/dev/zero")
    os.mkfifo(folder("fifo") / "pipe")
    os.link(reference, folder("hard-link") / "notes.py")
    (submitted / "linked-folder").mkdir()
    (submitted / "linked-folder" / CHAPTER).symlink_to(f"../good/{CHAPTER}")
    nested = folder("nested-link")
    (nested / "extra/deeper").mkdir(parents=True)
    (nested / "extra/deeper/source.txt").symlink_to(source_nb)
    (nested / "extra/solutions").symlink_to(course / "solutions")


def run_nbgrader(course, *args):
    """`nbgrader ARGS` in the course copy, any file it writes bounded: a regression that copies
    /dev/zero is stopped at 256 MiB (only the soft limit: the sandbox sets its own below it)."""
    def bound_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024 ** 2, resource.RLIM_INFINITY))
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=900, preexec_fn=bound_files)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One autograde run of a correct submission and every refused one, then feedback and export."""
    if not bwrap.bwrap_path():
        pytest.skip("bubblewrap is not installed")
    course = copy_course(tmp_path_factory.mktemp("links") / "course")
    assignment = run_nbgrader(course, "generate_assignment", CHAPTER, "--force")
    assert assignment.returncode == 0, assignment.stderr[-4000:]
    make_submissions(course)
    autograde = run_nbgrader(course, "autograde", CHAPTER, "--force")
    feedback = run_nbgrader(course, "generate_feedback", CHAPTER, "--force")
    export = run_nbgrader(course, "export", "--to", "grades.csv")
    scores = {}
    if (course / "grades.csv").exists():
        with open(course / "grades.csv") as f:
            scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return course, autograde, feedback, export, scores


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(REFUSED))
def test_a_submission_holding_what_must_not_be_followed_is_refused_with_a_zero(graded, student):
    course, autograde, _, export, scores = graded
    lines = [line for line in autograde.stderr.splitlines()
             if f"[submission] {student}/{CHAPTER}: refused: " in line]
    assert lines, f"no refusal of {student} in the log:\n{autograde.stderr[-6000:]}"
    assert REFUSED[student] in lines[0]
    assert export.returncode == 0, export.stderr[-4000:]
    assert scores.get(student) == 0, scores      # a row in the export, with 0 points
    assert autograde.returncode != 0             # like any submission nbgrader cannot grade
    # ... while the correct submission of the same run is graded as usual.
    assert scores.get("good") == 10, autograde.stderr[-6000:]
    assert "[submission] good/" not in autograde.stderr
    assert (course / "feedback/good" / CHAPTER / "exercises.html").is_file()


def _text(path):
    text = path.read_bytes()[:20_000_000].decode("utf-8", "replace")
    if path.suffix == ".html":                  # highlighted code: tags between the tokens
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def _hidden_test_lines():
    """Lines only the source notebook's hidden tests hold (not the student's release)."""
    source = json.loads((ROOT / "source" / CHAPTER / NOTEBOOK).read_text())
    released = (SAMPLES / "sample-correct" / CHAPTER / NOTEBOOK).read_text()
    lines = []
    for cell in source["cells"]:
        hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                            "".join(cell["source"]), re.S)
        lines += [line.strip() for block in hidden for line in block.splitlines()
                  if len(line.strip()) > 30 and '"' not in line and line.strip() not in released]
    return lines


def _reference_lines():
    """Lines of the reference module no notebook holds (its docstrings and comments)."""
    notebooks = (ROOT / "source" / CHAPTER / NOTEBOOK).read_text() + \
        (SAMPLES / "sample-correct" / CHAPTER / NOTEBOOK).read_text()
    return [line.strip() for line in (ROOT / "solutions" / f"{CHAPTER}.py").read_text().splitlines()
            if len(line.strip()) > 30 and '"' not in line and line.strip() not in notebooks]


@pytest.mark.slow
def test_nothing_of_the_link_targets_reaches_autograded_or_feedback(graded):
    course = graded[0]
    hidden, reference = _hidden_test_lines(), _reference_lines()
    assert len(hidden) >= 5 and len(reference) >= 5
    leaks = []
    for top in ("autograded", "feedback"):
        for path in sorted((course / top).rglob("*")):
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                leaks.append(f"{path}: not a regular file or folder")
            if path.is_symlink() or not path.is_file():
                continue
            if path.stat().st_size > 5_000_000:
                leaks.append(f"{path}: {path.stat().st_size} bytes")
                continue
            text = _text(path)
            found = [line for line in reference if line in text]
            student = path.relative_to(course / top).parts[0]
            if top == "feedback" or student in REFUSED:
                found += [line for line in hidden if line in text]
            if found:
                leaks.append(f"{path}: {found[:2]}")
    for student in REFUSED:
        for top in ("autograded", "feedback"):
            if (course / top / student / CHAPTER).exists():
                leaks.append(f"{top}/{student}/{CHAPTER} exists")
    assert not leaks, "\n".join(leaks)
