"""The attack suite, graded for real: every attack gets exactly its score and nothing leaks or
breaks."""

import csv
import hashlib
import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from autograder.sandbox import bwrap
from samples.answers import attacks as ATTACKS
from tests.course import copy_course, nbgrader
from tests.leaks import leaks_in, secrets_of

TRAP_PORT = 47811      # the attack tries this loopback port, among others
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")]


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Trap:
    """A loopback service on the grading machine that no graded code may reach."""

    def __init__(self, port):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(8)
        self.server.settimeout(0.5)
        self.connections = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
                self.connections.append(conn.recv(100))
                conn.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("course"), extra=("samples",))
    chapter = ATTACKS.CHAPTER
    shutil.copytree(course / "samples" / "attacks", course / "submitted")
    shutil.copytree(course / "samples/submitted/sample-correct" / chapter,
                    course / "submitted/sample-correct" / chapter)
    def run(*args, check=True):
        return nbgrader(course, *args, check=check)

    run("generate_assignment", chapter, "--force")
    protected = {p: digest(p) for p in [
        course / "nbgrader_config.py", course / "gradebook.db",
        course / "submitted/sample-correct" / chapter / "exercises.ipynb"]}
    trap = Trap(TRAP_PORT)
    try:
        # A hanging cell costs Execute.timeout in the kernel; keep it short for the suite.
        grading = run("autograde", chapter, "--force", "--Execute.timeout=20", check=False)
    finally:
        trap.close()
    run("generate_feedback", chapter, "--force", check=False)
    run("export", "--to", "grades.csv")
    with open(course / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return {"course": course, "log": grading.stderr, "scores": scores, "trap": trap,
            "protected": protected, "chapter": chapter}


@pytest.mark.parametrize("attack", sorted(ATTACKS.SAMPLES))
def test_attack_gets_exactly_its_score(graded, attack):
    assert graded["scores"].get(attack) == ATTACKS.EXPECTED_SCORES[attack], graded["scores"]


def test_other_submissions_are_unaffected(graded):
    assert graded["scores"]["sample-correct"] == 10.0


@pytest.mark.parametrize("attack", sorted(ATTACKS.STOPPED_BY))
def test_the_log_says_what_was_stopped(graded, attack):
    lines = [line for line in graded["log"].splitlines() if attack in line]
    phrase = ATTACKS.STOPPED_BY[attack]
    assert any(phrase in line for line in lines), f"no '{phrase}' for {attack} in the log"


def own_code(course, attack, chapter):
    """The code of the notebook the attack submitted."""
    nb = json.loads((course / "submitted" / attack / chapter / "exercises.ipynb").read_text())
    return "\n".join("".join(cell["source"]) if isinstance(cell["source"], list)
                     else cell["source"] for cell in nb["cells"])


def test_no_hidden_test_or_solution_in_feedback_or_outputs(graded):
    """An attack that prints files or the grader's internals must not get the secrets out."""
    course, chapter = graded["course"], graded["chapter"]
    secrets = secrets_of(course / "source" / chapter / "exercises.ipynb")
    hidden = [line for line in secrets if "expect_close" in line or "assert" in line]
    reference = [line for line in secrets if line not in hidden]
    assert hidden and reference, "looks for both hidden tests and solution lines"
    for attack in ATTACKS.SAMPLES:
        # A student may see their own code, and several attacks submit the reference answers
        # (RIGHT in samples/answers/attacks.py), one printing its cells back: for them the
        # solution lines they wrote are not secret. Hidden tests are secret for everyone.
        own = own_code(course, attack, chapter)
        theirs = hidden + [line for line in reference if line not in own]
        # Every attack is graded (a notebook nbgrader refused would prove nothing here).
        feedback = course / "feedback" / attack
        assert feedback.is_dir(), f"{attack} has no feedback: it was not graded"
        assert leaks_in([feedback], theirs) == [], attack
        autograded = course / "autograded" / attack / chapter / "exercises.ipynb"
        nb = json.loads(autograded.read_text())
        outputs = course / f"outputs-{attack}.json"
        outputs.write_text(json.dumps([c.get("outputs", []) for c in nb["cells"]]))
        assert leaks_in([outputs], theirs) == [], attack


def test_no_connection_reached_the_loopback_service(graded):
    assert graded["trap"].connections == []


def test_course_files_and_other_submissions_are_untouched(graded):
    for path, before in graded["protected"].items():
        if path.name == "gradebook.db":
            continue   # grading writes it; below we check no attack text got in
        assert digest(path) == before, path
    assert b"pwned" not in (graded["course"] / "gradebook.db").read_bytes()
    assert not Path("/tmp/pwned").exists()


def test_no_process_outlives_grading(graded):
    leftovers = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"course-attack-leftover" in (proc / "cmdline").read_bytes():
                    leftovers.append(proc.name)
            except OSError:
                pass
    assert leftovers == []
