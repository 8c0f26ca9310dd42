"""The instructor's report: gathered from a real gradebook and real autograded notebooks (the
stability samples graded by nbgrader in a copy of the course), and rendered as one offline page."""

import base64
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import warnings
from collections import Counter

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from autograder import cli
from autograder.checks import chapter_checks
from autograder.grading.verdict_record import (
    LABEL_CHARS,
    METADATA_KEY,
    BadRecord,
    FailedCase,
    VerdictRecord,
)
from autograder.report import gather, render
from autograder.report.gather import course_directory
from autograder.sandbox import bwrap
from autograder.sandbox.runner import Reason
from samples.answers.stability import EXPECTED_SCORES
from tests.course import BIN, ROOT, copy_course, nbgrader, nbgrader_env

CHAPTER = "stability"
NOTEBOOK = "exercises.ipynb"
# A student id that is HTML (no "/": it is a folder name), graded as a copy of sample-partial.
HOSTILE = "<img src=x onerror=\"alert('x&y')\">"
SCORES = {**EXPECTED_SCORES, HOSTILE: EXPECTED_SCORES["sample-partial"]}
IMG = '<img src="data:image/png;base64,'
COURSE_ID = "training-neural-networks"   # as nbgrader_config.py sets it



def grading(test):
    """Marks a test that needs the graded course: slow, and bubblewrap for nbgrader."""
    test = pytest.mark.slow(test)
    return pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")(test)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with the stability samples (and HOSTILE) graded by nbgrader."""
    course = copy_course(tmp_path_factory.mktemp("report") / "course", extra=("samples",))
    for student in EXPECTED_SCORES:
        shutil.copytree(course / "samples" / "submitted" / student / CHAPTER,
                        course / "submitted" / student / CHAPTER)
    shutil.copytree(course / "submitted" / "sample-partial", course / "submitted" / HOSTILE)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    nbgrader(course, "autograde", CHAPTER, "--force")
    return course


def db_url(course):
    return f"sqlite:///{course / 'gradebook.db'}"


@pytest.fixture(scope="module")
def gathered(course):
    """The report's data, gathered once."""
    return gather.gather(course_directory(course, db_url(course)), [CHAPTER])


def records(course, student):
    """{exercise id: verdict record} of a student's autograded notebook, read directly."""
    nb = json.loads((course / "autograded" / student / CHAPTER / NOTEBOOK).read_text())
    return {cell["metadata"][METADATA_KEY]["exercise"]: cell["metadata"][METADATA_KEY]
            for cell in nb["cells"] if METADATA_KEY in cell["metadata"]}


def feedback_labels(course, student, exercise_id):
    """The failing case labels a student's feedback names for one exercise (the test cell's
    printed verdict: '- LABEL' or '- LABEL (edge case)' lines)."""
    nb = json.loads((course / "autograded" / student / CHAPTER / NOTEBOOK).read_text())
    for cell in nb["cells"]:
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
        if text.startswith(f"{exercise_id}: rejected"):
            return [re.sub(r" \((edge|random) case\)$", "", line[2:])
                    for line in text.splitlines()
                    if line.startswith("- ") and not line.startswith("- ... and")]
    raise AssertionError(f"no rejection of {exercise_id} in {student}'s notebook")


def exercise(chapter, exercise_id):
    return next(e for e in chapter.exercises if e.exercise_id == exercise_id)


# ----------------------------------------------------------------------------------------------
# The gathered data, from a real grading run.

@grading
def test_scores_are_the_gradebooks(course, gathered):
    [chapter] = gathered.chapters
    assert chapter.name == CHAPTER and chapter.max_score == 10
    settings = course_directory(course, db_url(course))
    with Gradebook(settings.db_url, course_id=settings.course_id) as gb:
        in_gradebook = {s.student_id: s.score for s in gb.find_assignment(CHAPTER).submissions}
    got = {s.student: s.score for s in chapter.submissions}
    assert got == in_gradebook == SCORES
    assert chapter.mean == pytest.approx(sum(SCORES.values()) / len(SCORES))
    assert chapter.median == statistics.median(SCORES.values())
    assert chapter.without_case_data == []
    assert gathered.not_graded == [] and gathered.warnings == []


@grading
def test_acceptance_rates_are_the_verdict_records(course, gathered):
    [chapter] = gathered.chapters
    assert [e.exercise_id for e in chapter.exercises] == \
        [check.exercise_id for check in chapter_checks(CHAPTER)]
    accepted = Counter(exercise_id for student in SCORES
                       for exercise_id, record in records(course, student).items()
                       if record["accepted"])
    for e in chapter.exercises:
        assert e.graded == len(SCORES)
        assert e.accepted == accepted[e.exercise_id], e.exercise_id
        assert e.acceptance_rate == accepted[e.exercise_id] / len(SCORES)
        assert e.with_cases == e.rejected
    # The correct sample passes everything; partial (and its copy) log_sum_exp, log_softmax and
    # log_sigmoid.
    assert exercise(chapter, "stability.log_sum_exp").acceptance_rate == 3 / 5
    assert exercise(chapter, "stability.log_sigmoid").acceptance_rate == 3 / 5
    assert exercise(chapter, "stability.binary_cross_entropy_with_logits").accepted == 1


@grading
@pytest.mark.parametrize("exercise_id", ["stability.binary_cross_entropy_with_logits",
                                         "stability.softmax_cross_entropy_with_logits"])
def test_top_failing_cases_are_the_ones_the_partial_samples_feedback_names(
        course, gathered, exercise_id):
    [chapter] = gathered.chapters
    e = exercise(chapter, exercise_id)
    named = feedback_labels(course, "sample-partial", exercise_id)
    assert named
    top = {case.label: case for case in e.failing_cases}
    for label in named:   # every rejection failed these: partial, its copy, tamper, untouched
        assert top[label].count == e.with_cases == 4, (label, e.failing_cases)
        assert top[label].share == 1.0
        assert top[label].partial == 2   # partial and its copy passed other cases
        assert top[label].reason == "mismatch"
    if exercise_id.endswith("binary_cross_entropy_with_logits"):
        # Partial fails exactly these three edge cases, which the feedback names: they lead.
        assert [c.label for c in e.failing_cases[:3]] == named
        assert all(c.count == 2 for c in e.failing_cases[3:])   # only tamper and untouched
    assert e.failed_every_case == 2                              # tamper and untouched


@grading
def test_a_random_case_counts_once_whatever_its_drawn_sizes(gathered):
    [chapter] = gathered.chapters
    e = exercise(chapter, "stability.softmax_cross_entropy_with_logits")
    random = [c for c in e.failing_cases if c.kind == "random"]
    assert len(random) == 1 and random[0].count == 4, e.failing_cases
    assert random[0].label.startswith("random logits, ")


# ----------------------------------------------------------------------------------------------
# The page.

@grading
def test_the_page_is_self_contained_and_escapes_student_ids(course, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert cli.main(["report", CHAPTER, "--db", db_url(course), "--root", str(course),
                     "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page = out.read_text()
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == page.count("<img") == 2   # the histogram and the acceptance plot
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert not re.search(r"https?://", page)
    assert "<script" not in page and HOSTILE not in page
    assert html.escape(HOSTILE, quote=True) in page
    for label in feedback_labels(course, "sample-partial",
                                 "stability.binary_cross_entropy_with_logits"):
        assert html.escape(label, quote=True) in page


@grading
def test_the_command_defaults_to_the_courses_gradebook_and_exports(course):
    """`python -m autograder report` in the course: the settings of its nbgrader_config.py
    (sqlite:///ROOT/gradebook.db without NBGRADER_DB_URL), every chapter, the page written to
    exports/report.html."""
    result = subprocess.run([sys.executable, "-m", "autograder", "report"], cwd=course,
                            env=nbgrader_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    out = course / "exports" / "report.html"
    assert result.stdout.strip() == str(out)
    page = out.read_text()
    assert page.count(IMG) == 2
    assert "Not graded yet: logistic_regression, activations, softmax, multilabel" in page


@grading
def test_notebooks_without_verdict_records_still_count_in_the_scores(course, tmp_path):
    """Graded before the records were kept, unreadable, or gone: no case data, no crash."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(course / "gradebook.db", root / "gradebook.db")
    shutil.copytree(course / "autograded", root / "autograded")
    notebooks = {student: root / "autograded" / student / CHAPTER / NOTEBOOK
                 for student in EXPECTED_SCORES}
    for path in notebooks.values():
        path.chmod(0o644)          # nbgrader leaves autograded notebooks read-only
    old = json.loads(notebooks["sample-partial"].read_text())
    for cell in old["cells"]:
        cell["metadata"].pop(METADATA_KEY, None)
    notebooks["sample-partial"].write_text(json.dumps(old))
    notebooks["sample-tamper"].write_text("{ not json")
    notebooks["sample-correct"].unlink()

    settings = course_directory(root, db_url(root))
    [chapter] = gather.gather(settings, [CHAPTER]).chapters
    assert {s.student: s.score for s in chapter.submissions} == SCORES
    assert sorted(chapter.without_case_data) == ["sample-correct", "sample-partial",
                                                 "sample-tamper"]
    e = exercise(chapter, "stability.binary_cross_entropy_with_logits")
    assert (e.accepted, e.rejected) == (1, 4)                 # from the gradebook
    assert e.with_cases == 2                                  # HOSTILE and untouched
    assert [c.count for c in e.failing_cases[:3]] == [2, 2, 2]
    page = render.render(gather.gather(settings))
    assert page.count(IMG) == 2 and "3 of 5 submissions have no case data" in page


# ----------------------------------------------------------------------------------------------
# No grading needed.

def test_the_report_reads_the_course_settings_nbgrader_config_sets(tmp_path):
    settings = course_directory()
    assert settings.course_id == COURSE_ID
    assert f'course_id = "{COURSE_ID}"' in (ROOT / "nbgrader_config.py").read_text()
    assert settings.root == str(ROOT)
    default_db = f"sqlite:///{ROOT / 'gradebook.db'}"
    assert settings.db_url == os.environ.get("NBGRADER_DB_URL", default_db)
    assert gather.autograded_folder(settings) == \
        str(ROOT / "autograded" / "<student>" / "<chapter>")
    # --root and --db override the file's (a folder without the file: nbgrader's defaults).
    bare = course_directory(tmp_path, "sqlite:///elsewhere.db")
    assert (bare.root, bare.db_url, bare.course_id) == (str(tmp_path), "sqlite:///elsewhere.db", "")


def test_an_empty_or_missing_gradebook_gives_a_page_saying_nothing_was_graded(
        tmp_path, capsys, monkeypatch):
    missing = tmp_path / "none" / "gradebook.db"
    out = tmp_path / "exports" / "report.html"
    assert cli.main(["report", "--db", f"sqlite:///{missing}", "--root", str(tmp_path),
                     "--out", str(out)]) == 0
    assert not missing.exists()                # reading the report creates no gradebook
    page = out.read_text()
    assert "Nothing has been graded yet" in page and "<img" not in page

    empty = tmp_path / "gradebook.db"          # assignments released, nothing submitted
    monkeypatch.setenv("PATH", f"{BIN}:{os.environ['PATH']}")   # a new gradebook runs alembic
    with Gradebook(f"sqlite:///{empty}", course_id=COURSE_ID) as gb:
        gb.add_assignment(CHAPTER)
    gathered = gather.gather(course_directory(tmp_path, f"sqlite:///{empty}"))
    assert gathered.chapters == [] and gathered.not_graded[:2] == ["logistic_regression",
                                                                   "activations"]
    assert cli.main(["report", "--db", f"sqlite:///{empty}", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(tmp_path / "exports" / "report.html")
    assert "Nothing has been graded yet" in (tmp_path / "exports" / "report.html").read_text()


def handmade_report(student, label):
    case = gather.FailingCase(label, "edge", Reason.MISMATCH, 1, 1.0, 1)
    exercise = gather.Exercise(NOTEBOOK[:-6], "test_f<b>", "ch<i>.f<b>", 2.0, graded=2,
                               accepted=1, with_cases=1, failing_cases=[case])
    chapter = gather.Chapter("ch<i>", 2.0, [gather.Submission(student, 0.0, ["ch<i>.f<b>"], True),
                                            gather.Submission("ok", 2.0, [], False)], [exercise])
    return gather.Report([chapter], ["later&<u>"], "sqlite:///<gb>", "now", ["in <i>x</i>"])


def test_the_page_escapes_every_untrusted_text():
    page = render.render(handmade_report("<script>x</script>", "<b onmouseover=\"x\">&'"))
    assert "<script" not in page and "<b " not in page and "<i>" not in page
    assert "in &lt;i&gt;x&lt;/i&gt;" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b onmouseover=&quot;x&quot;&gt;&amp;&#x27;" in page
    assert "later&amp;&lt;u&gt;" in page and "sqlite:///&lt;gb&gt;" in page
    assert page.count(IMG) == 2 and not re.search(r"https?://", page)


def test_random_case_labels_keep_the_numbers_they_share():
    assert gather._merged_label(["random logits, 9 examples x 5 classes",
                                 "random logits, 6 examples x 5 classes"]) == \
        "random logits, N examples x 5 classes"
    assert gather._merged_label(["a random 3x4 batch"]) == "a random 3x4 batch"


def test_a_verdict_record_of_the_wrong_shape_is_no_case_data():
    with pytest.raises(BadRecord):
        VerdictRecord.from_json({"accepted": "yes"})
    with pytest.raises(BadRecord):
        VerdictRecord.from_json({"accepted": False, "cases": 3, "failures": 1,
                                 "failed_cases": "all"})
    failed = [{"label": "x" * 999, "reason": "mismatch"}, "junk",
              {"label": "f", "reason": "missing"}]
    record = VerdictRecord.from_json({"accepted": False, "cases": 3, "failures": 2,
                                      "failed_cases": failed})
    assert gather._failed_cases(record) == {
        ("x" * LABEL_CHARS, ""): ("x" * LABEL_CHARS, "mismatch"),
        ("(the function is not defined)", ""): ("(the function is not defined)", "missing")}


def test_a_verdict_record_reads_back_as_written_with_its_reasons_as_the_enum():
    record = VerdictRecord("stability.log_softmax", False, 7, 2,
                           [FailedCase("large logits", "edge", Reason.MISMATCH),
                            FailedCase("random logits, 3 x 4", "random", Reason.WARNING)])
    assert VerdictRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    assert record.to_json()["failed_cases"][0] == {"label": "large logits", "kind": "edge",
                                                   "reason": "mismatch"}
    [case] = VerdictRecord.from_json({"accepted": False, "cases": 1, "failures": 1,
                                      "failed_cases": [{"reason": "r" * 99}]}).failed_cases
    assert case.reason == "r" * 20 and not isinstance(case.reason, Reason)   # kept, cut
    assert isinstance(record.failed_cases[0].reason, Reason)


# ----------------------------------------------------------------------------------------------
# A course whose nbgrader_config.py moved the autograded folder (a gradebook made by hand).

MOVED_CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "a-moved-course"
c.CourseDirectory.autograded_directory = "marked"
'''
LABEL = "large logits [1000, 1001, 1002]"


def moved_course(root, monkeypatch):
    """root: a course whose nbgrader_config.py keeps its autograded notebooks in marked/, with
    two graded submissions of log_softmax: "right" accepted; "wrong" rejected, its verdict record
    failing LABEL."""
    monkeypatch.setenv("PATH", f"{BIN}:{os.environ['PATH']}")   # a new gradebook runs alembic
    (root / "nbgrader_config.py").write_text(MOVED_CONFIG)
    scores = {"right": 2.0, "wrong": 0.0}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="a-moved-course") as gb:
        gb.add_assignment(CHAPTER)
        gb.add_notebook(NOTEBOOK[:-6], CHAPTER)
        gb.add_grade_cell("test_log_softmax", NOTEBOOK[:-6], CHAPTER, max_score=2.0,
                          cell_type="code")
        for student, score in scores.items():
            gb.add_student(student)
            with warnings.catch_warnings():   # nbgrader's own use of the ORM, as autograde's
                warnings.simplefilter("ignore", SAWarning)
                gb.add_submission(CHAPTER, student)
            gb.find_grade("test_log_softmax", NOTEBOOK[:-6], CHAPTER, student).auto_score = score
        gb.db.commit()
    for student, score in scores.items():
        failed = [] if score else [FailedCase(LABEL, "edge", Reason.MISMATCH)]
        record = VerdictRecord("stability.log_softmax", bool(score), 5, len(failed), failed)
        cell = {"cell_type": "code", "execution_count": None, "outputs": [], "source": "",
                "metadata": {"nbgrader": {"grade": True, "solution": False, "points": 2,
                                          "grade_id": "test_log_softmax"},
                             METADATA_KEY: record.to_json()}}
        path = root / "marked" / student / CHAPTER / NOTEBOOK
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}))


def test_a_course_that_moved_its_autograded_folder_gets_its_report(tmp_path, monkeypatch,
                                                                   capsys):
    moved_course(tmp_path, monkeypatch)
    settings = course_directory(tmp_path)
    assert (settings.course_id, settings.db_url) == ("a-moved-course",
                                                     f"sqlite:///{tmp_path / 'gradebook.db'}")
    [chapter] = gather.gather(settings).chapters
    [e] = chapter.exercises
    assert (e.graded, e.accepted, e.with_cases) == (2, 1, 1) and chapter.without_case_data == []
    assert [(c.label, c.reason, c.count) for c in e.failing_cases] == [(LABEL, "mismatch", 1)]
    assert cli.main(["report", "--root", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "exports" / "report.html")
    assert captured.err == ""
    page = (tmp_path / "exports" / "report.html").read_text()
    assert html.escape(LABEL) in page and "Warning" not in page


@pytest.mark.parametrize("where, says", [
    ("the default folder", "but no autograded notebook of them is in"),
    ("no records", "but their autograded notebooks in"),
])
def test_graded_submissions_without_verdict_records_where_the_config_says_get_a_warning(
        tmp_path, monkeypatch, capsys, where, says):
    """Not an empty report without a word: a warning on stderr and in the page."""
    moved_course(tmp_path, monkeypatch)
    if where == "the default folder":     # the notebooks are where the config does not say
        (tmp_path / "marked").rename(tmp_path / "autograded")
    else:                                 # graded before the records were kept
        for path in (tmp_path / "marked").glob(f"*/{CHAPTER}/{NOTEBOOK}"):
            nb = json.loads(path.read_text())
            del nb["cells"][0]["metadata"][METADATA_KEY]
            path.write_text(json.dumps(nb))
    assert cli.main(["report", "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    folder = str(tmp_path / "marked" / "<student>" / "<chapter>")
    assert err.startswith("warning: The gradebook holds 2 graded submissions, ") and says in err
    assert folder in err and "the report has no failing cases" in err
    page = (tmp_path / "exports" / "report.html").read_text()
    assert "Warning" in page and html.escape(says) in page and html.escape(folder) in page
    assert page.count(IMG) == 2                  # the scores are still reported
