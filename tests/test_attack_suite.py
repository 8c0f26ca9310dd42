"""The attack suite, graded for real: every attack gets exactly its score and nothing leaks or breaks."""

import csv
import hashlib
import importlib.util
import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from autograder import sandbox
from tests.course import copy_course, nbgrader
from tests.leaks import leaks_in, secrets_of

ROOT = Path(__file__).resolve().parents[1]
TRAP_PORT = 47811      # the attack tries this loopback port, among others
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox.bwrap_path(), reason="bubblewrap is not installed")]


def load_attacks():
    spec = importlib.util.spec_from_file_location("attacks", ROOT / "samples/answers/attacks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ATTACKS = load_attacks()


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
    protected = {p: digest(p) for p in [course / "nbgrader_config.py", course / "gradebook.db",
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


def test_no_hidden_test_or_solution_in_feedback_or_outputs(graded):
    course, chapter = graded["course"], graded["chapter"]
    secrets = secrets_of(course / "source" / chapter / "exercises.ipynb")
    hidden = [line for line in secrets if "expect_close" in line or "assert" in line]
    reference = [line for line in secrets if line not in hidden]
    for attack in ATTACKS.SAMPLES:
        feedback = course / "feedback" / attack
        if feedback.exists():
            assert leaks_in([feedback], hidden) == [], attack
        autograded = course / "autograded" / attack / chapter / "exercises.ipynb"
        if autograded.exists():
            nb = json.loads(autograded.read_text())
            outputs = course / f"outputs-{attack}.json"
            outputs.write_text(json.dumps([c.get("outputs", []) for c in nb["cells"]]))
            assert leaks_in([outputs], secrets) == [], attack
            if "RIGHT" not in attack:
                assert leaks_in([outputs], reference) == [], attack


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
