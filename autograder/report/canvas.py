"""Grades out to the LMS: nbgrader export plugins that write the CSV Canvas's gradebook import
reads, and the CSV Moodle's grade import reads.

    nbgrader export --exporter autograder.report.canvas.CanvasExportPlugin --to grades_canvas.csv
    nbgrader export --exporter autograder.report.canvas.MoodleExportPlugin --to grades_moodle.csv

(`--assignment` and `--student` narrow the export as they do for nbgrader's own CSV.)

Canvas's layout, as its gradebook importer reads it (canvas-lms, app/models/gradebook_importer.rb,
and Instructure's guide "How do I import grades in the Gradebook?"):

    Student,ID,SIS User ID,SIS Login ID,Section,softmax,stability
    Points Possible,,,,,10,10
    "Lovelace, Ada",4242,,ada,,10,6

- The header's first column matches "Student", the second "ID", and the student columns end with
  the one that matches "Section"; between them "SIS User ID" and "SIS Login ID" (both, or only
  "SIS Login ID"). Every later column is an assignment: "Title (123)" names Canvas's assignment
  123, a bare title matches an existing assignment of that title or creates a new one.
- A row whose first cell contains "Points Possible" gives each assignment its points (a new
  assignment takes them from there).
- A student row is matched by the Canvas user ID, else by SIS User ID, else by SIS Login ID, else
  by the name as Canvas shows it or sorts it ("Last, First").
- A blank cell is no grade: next to a blank gradebook cell it changes nothing. So a missing
  submission is written blank unless `missing` says otherwise (for example "0").

What a course adapts (in nbgrader_config.py, or `--CanvasExportPlugin.NAME=...`):
`canvas_id`, `sis_user_id`, `sis_login_id` name the nbgrader Student field (id, first_name,
last_name, email, lms_user_id) each Canvas column is filled from, or "" for blank; `section`;
`columns`, {nbgrader assignment: Canvas column}, to grade existing Canvas assignments by id
("stability": "Numerical stability (1234)"); `missing`. The defaults fit a hub whose user names
are the university's logins: the nbgrader student id goes to "SIS Login ID", and the Canvas user
id comes from `lms_user_id` where nbgrader has one (its LTI field).

Moodle's grade import ("Import grades from CSV", grade/import/csv): a header row, one column that
identifies the user (mapped at import to username, email, ID number...), and one column per grade
item, mapped at import to an existing item or a new one. `MoodleExportPlugin` writes the
identifier column (`identifier`, the nbgrader Student field; its header `identifier_header`) and
one column per assignment, named as in `columns`.

A score is nbgrader's total for the submission less its late penalty, never below 0 (as nbgrader's
own CSV export computes it). Only names, ids and scores are written: no notebook content. Fields
are quoted by the csv module (nbgrader 0.9.6's own CSV export joins them unquoted, so a name with
a comma shifts its columns), and a name starting like a spreadsheet formula gets a leading "'".
"""

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import ExportPlugin
from traitlets import Bool, Dict, Enum, Unicode

STUDENT_FIELDS = ("id", "first_name", "last_name", "email", "lms_user_id")
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class StudentRecord:
    """What the export needs of an nbgrader Student, so rows can be built without a gradebook."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    def field(self, name: str) -> str:
        """The value of one of STUDENT_FIELDS, or "" for no field."""
        return getattr(self, name) if name else ""

    @property
    def sortable_name(self) -> str:
        """The name as Canvas sorts it, "Last, First"; the nbgrader id when it has no name."""
        parts = [p for p in (self.last_name, self.first_name) if p]
        return ", ".join(parts) if parts else self.id


@dataclass(frozen=True)
class Grades:
    """The gradebook's content for an export: assignments in order with their points, students,
    and the score of each (student, assignment) that has a submission."""

    assignments: Sequence[tuple[str, float]]
    students: Sequence[StudentRecord]
    scores: Mapping[tuple[str, str], float]


def format_score(value: float) -> str:
    """A score as a short decimal: 10.0 -> "10", 6.5 -> "6.5", 1/3 -> "0.3333"."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def inert_name(name: str) -> str:
    """A display name that a spreadsheet opening the file on its way to the LMS will not run as
    a formula ("=HYPERLINK(...)"): such a name gets a leading apostrophe. Canvas matches the row
    by its ids first, so only a row with no id loses its match by name."""
    return "'" + name if name.startswith(FORMULA_STARTS) else name


def read_gradebook(gradebook: Gradebook, assignments: Iterable[str] = (),
                   students: Iterable[str] = ()) -> Grades:
    """The gradebook's assignments (by due date, then name), students and scores, narrowed to
    the given assignment names and student ids when those are not empty."""
    only_assignments = {str(a) for a in assignments}
    only_students = {str(s) for s in students}
    chosen = [a for a in gradebook.assignments
              if not only_assignments or a.name in only_assignments]
    unknown = only_assignments - {a.name for a in chosen}
    if unknown:
        raise ValueError(f"no assignment {sorted(unknown)} in the gradebook")
    records = [StudentRecord(s.id, s.first_name or "", s.last_name or "", s.email or "",
                             s.lms_user_id or "")
               for s in gradebook.students if not only_students or s.id in only_students]
    unknown = only_students - {s.id for s in records}
    if unknown:
        raise ValueError(f"no student {sorted(unknown)} in the gradebook")
    scores = {}
    for assignment in chosen:
        for student in records:
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                continue
            penalty = submission.late_submission_penalty or 0.0
            scores[student.id, assignment.name] = max(0.0, submission.score - penalty)
    return Grades([(a.name, a.max_score) for a in chosen], records, scores)


def canvas_rows(grades: Grades, *, canvas_id: str = "lms_user_id", sis_user_id: str = "",
                sis_login_id: str = "id", section: str = "",
                columns: Mapping[str, str] | None = None, missing: str = "",
                points_possible: bool = True) -> list[list[str]]:
    """Canvas's header, its Points Possible row, and one row per student."""
    columns = columns or {}
    header = [*CANVAS_STUDENT_COLUMNS, *(columns.get(name, name) for name, _ in grades.assignments)]
    rows = [header]
    if points_possible:
        rows.append([POINTS_POSSIBLE, "", "", "", "",
                     *(format_score(points) for _, points in grades.assignments)])
    for student in grades.students:
        rows.append([inert_name(student.sortable_name), student.field(canvas_id),
                     student.field(sis_user_id), student.field(sis_login_id), section,
                     *_scores(grades, student, missing)])
    return rows


def moodle_rows(grades: Grades, *, identifier: str = "email", identifier_header: str = "email",
                columns: Mapping[str, str] | None = None, missing: str = "") -> list[list[str]]:
    """Moodle's header (the identifier, then one column per grade item) and one row per student."""
    columns = columns or {}
    rows = [[identifier_header, *(columns.get(name, name) for name, _ in grades.assignments)]]
    for student in grades.students:
        if not student.field(identifier):
            raise ValueError(f"student {student.id!r} has no {identifier}: Moodle could not "
                             f"match the row (set MoodleExportPlugin.identifier, or add it with "
                             f"`nbgrader db student add`)")
        rows.append([student.field(identifier), *_scores(grades, student, missing)])
    return rows


def _scores(grades: Grades, student: StudentRecord, missing: str) -> list[str]:
    found = [grades.scores.get((student.id, name)) for name, _ in grades.assignments]
    return [missing if score is None else format_score(score) for score in found]


def write_csv(path: str, rows: list[list[str]]) -> None:
    """The rows as CSV, quoted where needed (commas, quotes, newlines), UTF-8 with a BOM so that
    a spreadsheet opening the file on its way to the LMS reads accented names right."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)


def _student_field(default: str, help: str) -> Enum:
    return Enum(("", *STUDENT_FIELDS), default_value=default, help=help).tag(config=True)


class CanvasExportPlugin(ExportPlugin):
    """Grades as a CSV that Canvas's gradebook import reads (see the module's docstring)."""

    canvas_id = _student_field("lms_user_id", "Student field that fills Canvas's 'ID' column "
                               "(the Canvas user id), or '' for blank")
    sis_user_id = _student_field("", "Student field that fills 'SIS User ID', or ''")
    sis_login_id = _student_field("id", "Student field that fills 'SIS Login ID', or ''")
    section = Unicode("", help="The 'Section' column of every row").tag(config=True)
    columns = Dict(Unicode(), default_value={}, help="{nbgrader assignment: Canvas column}, e.g. "
                   "'Title (123)' for Canvas's assignment 123").tag(config=True)
    missing = Unicode("", help="Written for a missing submission: '' is no grade in Canvas, "
                      "'0' a zero").tag(config=True)
    points_possible = Bool(True, help="Write the 'Points Possible' row").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades_canvas.csv"
        grades = read_gradebook(gradebook, self.assignment, self.student)
        rows = canvas_rows(grades, canvas_id=self.canvas_id, sis_user_id=self.sis_user_id,
                           sis_login_id=self.sis_login_id, section=self.section,
                           columns=self.columns, missing=self.missing,
                           points_possible=self.points_possible)
        write_csv(dest, rows)
        self.log.info("Canvas gradebook CSV: %d students, %d assignments, to %s",
                      len(grades.students), len(grades.assignments), dest)


class MoodleExportPlugin(ExportPlugin):
    """Grades as a CSV that Moodle's "Import grades from CSV" reads (see the module's
    docstring)."""

    identifier = _student_field("email", "Student field that identifies the user in Moodle")
    identifier_header = Unicode("email", help="Header of the identifier column").tag(config=True)
    columns = Dict(Unicode(), default_value={},
                   help="{nbgrader assignment: Moodle grade item column}").tag(config=True)
    missing = Unicode("", help="Written for a missing submission: '' leaves the grade "
                      "alone").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades_moodle.csv"
        grades = read_gradebook(gradebook, self.assignment, self.student)
        rows = moodle_rows(grades, identifier=self.identifier or "id",
                           identifier_header=self.identifier_header, columns=self.columns,
                           missing=self.missing)
        write_csv(dest, rows)
        self.log.info("Moodle grades CSV: %d students, %d assignments, to %s",
                      len(grades.students), len(grades.assignments), dest)
