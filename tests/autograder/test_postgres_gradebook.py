"""The gradebook on a real PostgreSQL server (NBGRADER_DB_URL): nbgrader's verbs and the
formgrader's reads work unchanged with the course's configuration, and give what the default
SQLite gradebook gives for the same submissions."""

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from samples.answers.stability import EXPECTED_SCORES
from tests.course import BIN, ROOT, copy_course, nbgrader, nbgrader_env
from tests.postgres import postgres  # noqa: F401 - the fixture: a server for the module

CHAPTER = "stability"       # the cheapest chapter to grade: no Keras
slow = pytest.mark.slow     # runs nbgrader, as tests/test_nbgrader_pipeline.py does

# What the formgrader's pages ask of NbGraderAPI, asked the way its handlers do: the course's
# nbgrader_config.py loaded in the course folder (so NBGRADER_DB_URL chooses the gradebook).
FORMGRADER_READS = """
import json, sys
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(CourseDirectory(config=config), config=config)
chapter = sys.argv[1]
students = sorted(student["id"] for student in api.get_students())
print(json.dumps({
    "db_url": api.coursedir.db_url,
    "assignments": api.get_assignments(),
    "notebooks": api.get_notebooks(chapter),
    "submissions": api.get_submissions(chapter),
    "notebook_submissions": api.get_notebook_submissions(chapter, "exercises"),
    "students": api.get_students(),
    "student_submissions": {s: api.get_student_submissions(s) for s in students},
    "student_notebooks": {s: api.get_student_notebook_submissions(s, chapter) for s in students},
}, default=str))
"""


def grade_samples(course, db_url=None):
    """Release the chapter, grade its four sample submissions, write feedback and grades.csv."""
    nbgrader(course, "generate_assignment", CHAPTER, "--force", db_url=db_url)
    for student in EXPECTED_SCORES:
        shutil.copytree(ROOT / "samples" / "submitted" / student / CHAPTER,
                        course / "submitted" / student / CHAPTER)
    log = nbgrader(course, "autograde", CHAPTER, "--force", db_url=db_url).stderr
    nbgrader(course, "generate_feedback", CHAPTER, "--force", db_url=db_url)
    nbgrader(course, "export", "--to", "grades.csv", db_url=db_url)
    return log


@pytest.fixture(scope="module")
def courses(tmp_path_factory, postgres):  # noqa: F811 - the fixture
    """Two copies of the course with the same samples graded: SQLite's and PostgreSQL's."""
    courses = {}
    for name, db_url in (("sqlite", None), ("postgres", postgres.url)):
        course = copy_course(tmp_path_factory.mktemp(name))
        courses[name] = course, db_url, grade_samples(course, db_url)
    return courses


def exported(course):
    """grades.csv of a course copy, {student: row}, without the export's timestamp column."""
    with open(course / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the export is empty"
    return {row["student_id"]: {key: value for key, value in row.items() if key != "timestamp"}
            for row in rows if row["assignment"] == CHAPTER}


def formgrader_reads(course, db_url):
    env = nbgrader_env()
    if db_url is not None:
        env["NBGRADER_DB_URL"] = db_url
    result = subprocess.run([str(BIN / "python"), "-c", FORMGRADER_READS, CHAPTER], cwd=course,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def comparable(data):
    """The API's answer without what differs between two gradebooks of the same grades: the row
    ids (random uuids), the order of lists (the API sorts some by those ids) and the formgrader's
    `index` (a submission's place in the database's row order, for its next/previous links)."""
    if isinstance(data, dict):
        return {key: comparable(value) for key, value in data.items()
                if key not in ("id", "index")}
    if isinstance(data, list):
        return sorted((comparable(value) for value in data), key=json.dumps)
    return data


def test_the_server_runs_unprivileged_and_listens_only_on_loopback(postgres):  # noqa: F811
    pid = postgres.pid()
    uids = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("Uid:")).split()[1:]
    assert uids and all(int(uid) == postgres.uid != 0 for uid in uids), uids

    connection = postgres.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW listen_addresses")
            assert cursor.fetchone() == ("127.0.0.1",)
            cursor.execute("SHOW unix_socket_directories")
            assert cursor.fetchone() == (str(postgres.socket_dir),)
            cursor.execute("SELECT type, address, auth_method FROM pg_hba_file_rules")
            assert sorted(cursor.fetchall(), key=str) == [
                ("host", "127.0.0.1", "trust"), ("local", None, "trust")]
    finally:
        connection.close()

    # What the kernel says the postmaster listens on: exactly 127.0.0.1:PORT, no IPv6.
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = Path(fd).readlink().name if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    listening = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:     # LISTEN, one of its sockets
                address, port = fields[1].split(":")
                listening.add((table, address, int(port, 16)))
    # /proc/net/tcp writes 127.0.0.1 as the little-endian hex of its 32 bits.
    assert listening == {("tcp", "0100007F", postgres.port)}, listening


@slow
def test_postgres_gives_the_grades_sqlite_gives(courses):
    sqlite, postgres_ = exported(courses["sqlite"][0]), exported(courses["postgres"][0])
    assert postgres_ == sqlite
    assert {student: float(row["score"]) for student, row in postgres_.items()} == \
        EXPECTED_SCORES


@slow
def test_the_grades_are_in_postgres_not_in_a_sqlite_file(courses, postgres):  # noqa: F811
    course, _, log = courses["postgres"]
    assert not (course / "gradebook.db").exists()
    assert (courses["sqlite"][0] / "gradebook.db").is_file()
    assert "[trusted verdict] sample-tamper/" in log
    connection = postgres.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.student_id, sum(g.auto_score) FROM grade g "
                "JOIN submitted_notebook n ON g.notebook_id = n.id "
                "JOIN submitted_assignment s ON n.assignment_id = s.id "
                "JOIN assignment a ON s.assignment_id = a.id "
                "WHERE a.name = %s GROUP BY s.student_id", (CHAPTER,))
            scores = dict(cursor.fetchall())
    finally:
        connection.close()
    assert {student: float(score) for student, score in scores.items()} == EXPECTED_SCORES


@slow
def test_feedback_from_the_postgres_gradebook_carries_the_verdict(courses):
    course = courses["postgres"][0]
    for student in EXPECTED_SCORES:
        assert (course / "feedback" / student / CHAPTER / "exercises.html").is_file(), student
    html = (course / "feedback" / "sample-tamper" / CHAPTER / "exercises.html").read_text()
    assert "rejected" in html
    html = (course / "feedback" / "sample-correct" / CHAPTER / "exercises.html").read_text()
    assert "accepted" in html and "rejected" not in html


@slow
def test_the_formgrader_reads_the_postgres_gradebook(courses):
    reads = {name: formgrader_reads(course, db_url)
             for name, (course, db_url, _) in courses.items()}
    assert reads["postgres"].pop("db_url") == courses["postgres"][1]
    assert reads["sqlite"].pop("db_url").startswith("sqlite:///")
    # The formgrader's next/previous links walk the notebook's submissions by their index.
    indices = [nb["index"] for nb in reads["postgres"]["notebook_submissions"]]
    assert sorted(indices) == list(range(len(EXPECTED_SCORES)))
    postgres_ = comparable(reads["postgres"])
    assert postgres_ == comparable(reads["sqlite"])
    assert {nb["student"]: nb["score"] for nb in postgres_["notebook_submissions"]} == \
        EXPECTED_SCORES
    chapter, = (a for a in postgres_["assignments"] if a["name"] == CHAPTER)
    assert (chapter["num_submissions"], chapter["max_score"], chapter["average_score"]) == \
        (len(EXPECTED_SCORES), 10, sum(EXPECTED_SCORES.values()) / len(EXPECTED_SCORES))
