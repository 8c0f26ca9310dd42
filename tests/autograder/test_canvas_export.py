"""Grades out to the LMS: the Canvas (and Moodle) CSV exporters, run by the real `nbgrader export
--exporter ...` on a gradebook that nbgrader filled by autograding the stability samples, and
checked against nbgrader's own CSV export of the same gradebook."""

import csv
import io
import shutil

import pytest

from autograder.report.canvas import (
    CANVAS_STUDENT_COLUMNS,
    Grades,
    StudentRecord,
    canvas_rows,
    format_score,
    moodle_rows,
    write_csv,
)
from autograder.sandbox import bwrap
from samples.answers.stability import EXPECTED_SCORES
from tests.course import copy_course, nbgrader
from tests.leaks import leaks_in, secrets_of

CHAPTER = "stability"
CANVAS = "autograder.report.canvas.CanvasExportPlugin"
MOODLE = "autograder.report.canvas.MoodleExportPlugin"
GRADED = ("sample-correct", "sample-partial", "sample-untouched")
# Names a CSV must quote (comma, double quote) or encode (non-ASCII), and one a spreadsheet
# would run as a formula; "absent" is enrolled but submitted nothing.
PEOPLE = {
    "sample-correct": ("Ada \"Countess\"", "Lovelace, Byron", "ada@example.org", "4242"),
    "sample-partial": ("Zoë", "Ødegård", "zoe@example.org", "4343"),
    "sample-untouched": ("Émile", "Noël", "emile@example.org", ""),
    "absent": ("Bobby", "=HYPERLINK(\"http://x\")", "bobby@example.org", "4545"),
}


def grading(test):
    """Marks a test that needs the graded course: slow, and bubblewrap for nbgrader."""
    test = pytest.mark.slow(test)
    return pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")(test)


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course: three stability samples autograded, the students' records filled
    in with `nbgrader db student add`, and the exports written."""
    course = copy_course(tmp_path_factory.mktemp("canvas") / "course", extra=("samples",))
    for student in GRADED:
        shutil.copytree(course / "samples" / "submitted" / student / CHAPTER,
                        course / "submitted" / student / CHAPTER)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    nbgrader(course, "autograde", CHAPTER, "--force")
    # nbgrader's own CSV, before the names: it joins fields with "," unquoted, so a name with a
    # comma would shift its columns (nbgrader 0.9.6).
    nbgrader(course, "db", "student", "add", "absent")
    nbgrader(course, "export", "--to", "nbgrader.csv")
    for student, (first, last, email, lms) in PEOPLE.items():
        nbgrader(course, "db", "student", "add", student, f"--first-name={first}",
                 f"--last-name={last}", f"--email={email}", f"--lms-user-id={lms}")
    nbgrader(course, "export", "--exporter", CANVAS, "--to", "canvas.csv")
    nbgrader(course, "export", "--exporter", CANVAS, "--to", "canvas_zero.csv",
             "--CanvasExportPlugin.missing=0", "--CanvasExportPlugin.section=A1",
             f"--CanvasExportPlugin.columns={CHAPTER}=Numerical stability (1234)")
    nbgrader(course, "export", "--exporter", MOODLE, "--to", "moodle.csv")
    nbgrader(course, "export", "--exporter", CANVAS, "--to", "two.csv",
             "--student=sample-partial", "--student=absent", f"--assignment={CHAPTER}")
    return course


@grading
def test_canvas_csv_has_canvas_layout_and_nbgraders_scores(course):
    rows = read(course / "canvas.csv")
    assert rows[0] == [*CANVAS_STUDENT_COLUMNS, CHAPTER]
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]
    with open(course / "nbgrader.csv", newline="") as f:
        theirs = {row["student_id"]: row for row in csv.DictReader(f)
                  if row["assignment"] == CHAPTER}
    assert set(theirs) == set(PEOPLE)
    by_login = {row[3]: row for row in rows[2:]}
    assert len(rows) == 2 + len(PEOPLE) and set(by_login) == set(PEOPLE)
    for student in GRADED:
        row = by_login[student]
        assert float(row[5]) == float(theirs[student]["score"]) == EXPECTED_SCORES[student]
        assert row[2] == "" and row[4] == ""
    # nbgrader's own export writes 0 for no submission; Canvas gets a blank: no grade.
    assert float(theirs["absent"]["score"]) == 0 and by_login["absent"][5] == ""
    assert by_login["sample-correct"][:2] == ['Lovelace, Byron, Ada "Countess"', "4242"]
    assert by_login["sample-partial"][:2] == ["Ødegård, Zoë", "4343"]
    assert by_login["sample-untouched"][:2] == ["Noël, Émile", ""]
    # A name a spreadsheet would run as a formula is made inert; the ids still match the row.
    assert by_login["absent"][:2] == ["'=HYPERLINK(\"http://x\"), Bobby", "4545"]
    raw = (course / "canvas.csv").read_text(encoding="utf-8-sig")
    assert '"Lovelace, Byron, Ada ""Countess"""' in raw   # quoted, inner quotes doubled


@grading
def test_canvas_options_from_the_command_line(course):
    rows = read(course / "canvas_zero.csv")
    assert rows[0][5] == "Numerical stability (1234)"
    students = {row[3]: row for row in rows[2:]}
    assert students["absent"][5] == "0"
    assert {row[4] for row in rows[2:]} == {"A1"}
    assert float(students["sample-partial"][5]) == EXPECTED_SCORES["sample-partial"]


@grading
def test_canvas_export_narrowed_to_students(course):
    rows = read(course / "two.csv")
    assert [row[3] for row in rows[2:]] == ["absent", "sample-partial"]
    assert rows[3][5] == "6"
    wrong = nbgrader(course, "export", "--exporter", CANVAS, "--to", "none.csv",
                     "--student=nobody", check=False)
    assert wrong.returncode != 0 and "no student ['nobody'] in the gradebook" in wrong.stderr
    assert not (course / "none.csv").exists()


@grading
def test_moodle_csv_is_identified_by_email(course):
    rows = read(course / "moodle.csv")
    assert rows[0] == ["email", CHAPTER]
    got = dict(rows[1:])
    assert got == {"ada@example.org": "10", "zoe@example.org": "6", "emile@example.org": "0",
                   "bobby@example.org": ""}


@grading
def test_exports_hold_nothing_hidden(course):
    secrets = secrets_of(course / "source" / CHAPTER / "exercises.ipynb")
    assert secrets, "the source notebook's solutions should give lines to look for"
    exports = [course / name for name in ("canvas.csv", "canvas_zero.csv", "moodle.csv")]
    assert leaks_in(exports, secrets) == []
    # Every cell is a header, a student's field or a number: no notebook text at all.
    known = {v for person in PEOPLE.values() for v in person} | set(PEOPLE) | {
        "", "A1", "Points Possible", CHAPTER, "email", "Numerical stability (1234)",
        *CANVAS_STUDENT_COLUMNS}
    for path in exports:
        for row in read(path):
            for cell in row:
                assert cell in known or "," in cell or _number(cell), (path.name, cell)


def _number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# Row building without nbgrader.

GRADES = Grades(
    assignments=[("softmax", 10.0), ("adam", 7.5)],
    students=[StudentRecord("u1", "Ann", "Lee, Jr.", "ann@x.org", "11"),
              StudentRecord("u2"),
              StudentRecord("u3", "", "+SUM(A1)", "c@x.org")],
    scores={("u1", "softmax"): 10.0, ("u1", "adam"): 1 / 3, ("u2", "adam"): 6.5},
)


def test_canvas_rows_by_hand(tmp_path):
    rows = canvas_rows(GRADES, sis_user_id="email", columns={"adam": "Adam (77)"})
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "softmax", "Adam (77)"],
        ["Points Possible", "", "", "", "", "10", "7.5"],
        ["Lee, Jr., Ann", "11", "ann@x.org", "u1", "", "10", "0.3333"],
        ["u2", "", "", "u2", "", "", "6.5"],
        ["'+SUM(A1)", "", "c@x.org", "u3", "", "", ""],
    ]
    write_csv(str(tmp_path / "g.csv"), rows)
    assert read(tmp_path / "g.csv") == rows
    assert (tmp_path / "g.csv").read_bytes().startswith(b"\xef\xbb\xbfStudent,ID,")
    assert canvas_rows(GRADES, points_possible=False, missing="0")[1][5:] == ["10", "0.3333"]


def test_moodle_rows_need_an_identifier():
    with pytest.raises(ValueError, match="'u2' has no email"):
        moodle_rows(GRADES)
    rows = moodle_rows(GRADES, identifier="id", identifier_header="username")
    assert rows == [["username", "softmax", "adam"], ["u1", "10", "0.3333"], ["u2", "", "6.5"],
                    ["u3", "", ""]]


@pytest.mark.parametrize("value, text", [(10.0, "10"), (6.5, "6.5"), (0.0, "0"), (-0.0, "0"),
                                         (2 / 3, "0.6667"), (1e-9, "0")])
def test_format_score(value, text):
    assert format_score(value) == text


def test_csv_quoting_round_trips():
    rows = canvas_rows(Grades([("a", 1.0)], [StudentRecord("x", 'Q"', "L,\nM")], {}))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == rows
