"""The cohort command's parts that need no cluster: progress, reading and fingerprinting."""

import io
import os

import pytest

from autograder.grading.cohort.bundle import Bundle, TooLarge, fingerprint, read_submission
from autograder.grading.cohort.progress import Progress, Status, SubmissionResult
from autograder.grading.gradebook import safe_relative


def bundle(definition="v1"):
    return Bundle("stability", "course", "", b"", {}, definition)


def test_progress_writes_a_line_per_submission_off_a_terminal():
    out = io.StringIO()
    progress = Progress(3, out, tty=False)
    progress.update(SubmissionResult("ann", Status.GRADED, score=7.0, max_score=10.0, worker="tcp://w1"))
    progress.update(SubmissionResult("bob", Status.REFUSED, "exercises.ipynb is a symbolic link"))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/3] ann: graded 7/10 on tcp://w1 (")
    assert "refused 0, failed 0" in lines[0]
    assert lines[1].startswith("[2/3] bob: refused: exercises.ipynb is a symbolic link")
    assert lines[1].endswith("refused 1, failed 0)")


def test_progress_draws_one_bar_on_a_terminal():
    out = io.StringIO()
    progress = Progress(2, out, tty=True)
    progress.update(SubmissionResult("ann", Status.UP_TO_DATE))
    progress.restart_clock()          # the cluster started: the rate counts from here
    progress.update(SubmissionResult("bob", Status.FAILED, "no notebook"))
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "] 2/2 " in text and "refused 0, failed 1" in text
    assert "[" + "#" * 14 + "." * 14 + "] 1/2" in text


def test_a_submission_is_read_whole_and_its_fingerprint_follows_its_files(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "exercises.ipynb").write_bytes(b"{}")
    (tmp_path / "data" / "x.csv").write_bytes(b"1,2")
    files = read_submission(tmp_path, 1 << 20)
    assert files == {"exercises.ipynb": b"{}", os.path.join("data", "x.csv"): b"1,2"}
    same = fingerprint(files, bundle())
    assert fingerprint(dict(files), bundle()) == same
    assert fingerprint({**files, "exercises.ipynb": b"{ }"}, bundle()) != same
    assert fingerprint(files, bundle("v2")) != same            # the assignment changed


def test_a_submission_over_the_limit_is_not_read(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    with pytest.raises(TooLarge):
        read_submission(tmp_path, 1024)


def test_a_link_that_appears_after_the_check_is_not_followed(tmp_path):
    (tmp_path / "exercises.ipynb").symlink_to("/etc/passwd")
    with pytest.raises(OSError):
        read_submission(tmp_path, 1 << 20)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", ""])
def test_a_file_name_from_a_worker_stays_inside_its_folder(name):
    with pytest.raises(ValueError):
        safe_relative(name)


def test_the_seed_gradebook_takes_the_course_gradebooks_schema_stamp(tmp_path, monkeypatch):
    """The bundle's seed gradebook is stamped with the course's schema version, not by nbgrader's
    `alembic heads` process (seconds per command): the stamp is the course's, and no process
    starts."""
    import sqlite3

    import nbgrader.api
    from nbgrader.api import Gradebook

    from autograder.grading.cohort.bundle import copy_definition

    course = f"sqlite:///{tmp_path / 'course.db'}"
    with Gradebook(course) as gb:           # a new gradebook: nbgrader stamps it itself
        gb.update_or_create_assignment("stability")
        gb.update_or_create_notebook("exercises", "stability")
        gb.update_or_create_grade_cell("test_log_sum_exp", "exercises", "stability",
                                       max_score=2, cell_type="code")
    stamp = "SELECT version_num FROM alembic_version"
    expected = sqlite3.connect(tmp_path / "course.db").execute(stamp).fetchall()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(nbgrader.api.sp, "check_output", no_process)
    copy_definition(course, f"sqlite:///{tmp_path / 'seed.db'}", "stability")
    assert sqlite3.connect(tmp_path / "seed.db").execute(stamp).fetchall() == expected
    with Gradebook(f"sqlite:///{tmp_path / 'seed.db'}") as seed:
        cell = seed.find_grade_cell("test_log_sum_exp", "exercises", "stability")
        assert cell.max_score == 2
