"""nbgrader end to end on a copy of the course: release, autograde the samples, feedback, export."""

import csv
import importlib
import shutil

import pytest

from autograder.checks import CHAPTERS
from tests.course import copy_course, nbgrader
from tests.leaks import leaks_in, secrets_of

pytestmark = pytest.mark.slow


def expected_scores(chapter):
    return importlib.import_module(f"samples.answers.{chapter}").EXPECTED_SCORES


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course, its release generated and the samples graded with feedback."""
    course = copy_course(tmp_path_factory.mktemp("course"), extra=("samples",))
    shutil.copytree(course / "samples" / "submitted", course / "submitted")
    logs = {}
    for chapter in CHAPTERS:
        nbgrader(course, "generate_assignment", chapter, "--force")
        logs[chapter] = nbgrader(course, "autograde", chapter, "--force").stderr
        nbgrader(course, "generate_feedback", chapter, "--force")
    nbgrader(course, "export", "--to", "grades.csv")
    return course, logs


def test_every_sample_gets_its_expected_score(course):
    course, _ = course
    with open(course / "grades.csv") as f:
        got = {(row["assignment"], row["student_id"]): float(row["score"])
               for row in csv.DictReader(f)}
    for chapter in CHAPTERS:
        for student, score in expected_scores(chapter).items():
            assert got.get((chapter, student)) == score, (
                chapter, student, got.get((chapter, student)))


def test_the_gradebook_is_sqlite_at_an_absolute_path(course):
    course, _ = course
    assert (course / "gradebook.db").is_file()


def test_release_and_feedback_show_no_solution_or_hidden_test(course):
    course, _ = course
    secrets = [line for chapter in CHAPTERS
               for line in secrets_of(course / "source" / chapter / "exercises.ipynb")]
    assert secrets, "the source notebooks should have solution and hidden-test lines to look for"
    # The correct sample legitimately contains the reference solution: it is the student's own
    # work. Its feedback must still not show the hidden tests.
    hidden = [line for line in secrets if "expect_close" in line or "assert" in line]
    assert leaks_in([course / "release"], secrets) == []
    assert leaks_in([course / "feedback"], hidden) == []


def test_feedback_carries_the_trusted_verdict(course):
    course, _ = course
    for chapter in CHAPTERS:
        html = (course / "feedback" / "sample-tamper" / chapter / "exercises.html").read_text()
        assert "rejected" in html
        html = (course / "feedback" / "sample-correct" / chapter / "exercises.html").read_text()
        assert "accepted" in html and "rejected" not in html


def test_the_grading_log_names_each_verdict(course):
    _, logs = course
    for chapter in CHAPTERS:
        assert "[trusted verdict] sample-tamper/" in logs[chapter]
