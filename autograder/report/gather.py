"""Gathering the instructor's report: the nbgrader gradebook's scores and the verdict records of
the autograded notebooks, as the report's dataclasses (plain data; `render` draws the page).

Where to read comes from nbgrader's own settings as the course's nbgrader_config.py sets them
(`CourseDirectory.course_id`, `.db_url`, `.root`, `.autograded_directory`, `.directory_structure`),
so a course that moved its folders gets its report. Scores come from the gradebook (raw points,
before any late penalty). The failing cases come from the verdict record `TrustedVerdict` writes
into each test cell of the autograded notebooks; a notebook graded before those records were kept
still counts in the scores, and is named as having no case data. When the gradebook holds graded
submissions but not one record is found where the settings say, the report says so (`warnings`).
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nbgrader.api import (
    Assignment,
    Grade,
    Gradebook,
    GradeCell,
    Notebook,
    SubmittedAssignment,
    SubmittedNotebook,
)
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.engine import URL, make_url
from traitlets.config import Config
from traitlets.config.loader import ConfigFileNotFound

from autograder import course
from autograder.checks import CHAPTERS
from autograder.grading.verdict_record import METADATA_KEY, BadRecord, VerdictRecord
from autograder.sandbox.runner import Reason
from autograder.sources import exercise_name, is_test_cell

TOP_CASES = 5                             # failing cases shown per exercise
Records = dict[tuple[str, str], VerdictRecord]   # (notebook, grade id) -> its verdict record


@dataclass
class FailingCase:
    """A case label, and how many of an exercise's rejections with case data failed it."""

    label: str
    kind: str              # fixed | random | edge
    reason: Reason | str   # why it failed most often, in partly right rejections
    count: int             # rejected submissions that failed it (each counted once)
    share: float           # count / the exercise's rejections with case data
    partial: int           # of count, those that passed some other case (they missed this idea)


@dataclass
class Exercise:
    notebook: str
    grade_id: str                # the test cell's nbgrader grade id: test_<function>
    exercise_id: str             # <chapter>.<function>
    max_score: float
    graded: int = 0              # submissions with a grade for it
    accepted: int = 0            # of those, with full points
    with_cases: int = 0          # rejections whose notebook holds the verdict record
    failed_every_case: int = 0   # of those, how many failed every case (not attempted, broken)
    failing_cases: list[FailingCase] = field(default_factory=list)   # most frequent first

    @property
    def name(self) -> str:
        return exercise_name(self.grade_id)

    @property
    def rejected(self) -> int:
        return self.graded - self.accepted

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.graded if self.graded else None


@dataclass
class Submission:
    student: str
    score: float
    rejected: list[str]          # exercise ids without full points
    case_data: bool              # every notebook of it holds verdict records


@dataclass
class Chapter:
    name: str
    max_score: float
    submissions: list[Submission]   # by student id
    exercises: list[Exercise]       # in notebook order

    @property
    def scores(self) -> list[float]:
        return [s.score for s in self.submissions]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores)

    @property
    def median(self) -> float:
        return statistics.median(self.scores)

    @property
    def without_case_data(self) -> list[str]:
        return [s.student for s in self.submissions if not s.case_data]


@dataclass
class Report:
    chapters: list[Chapter]      # with at least one graded submission, in course order
    not_graded: list[str]        # chapter names with none yet
    gradebook: str               # the gradebook's URL, password hidden
    generated: str
    warnings: list[str] = field(default_factory=list)   # what the instructor must know first


# ----------------------------------------------------------------------------------------------
# Where to read: the course's nbgrader settings.

def course_directory(root: str | Path | None = None, db_url: str | None = None) -> CourseDirectory:
    """nbgrader's `CourseDirectory` settings as the nbgrader_config.py in root (by default the
    course this package belongs to) sets them. root and db_url, when given, override the file's
    `CourseDirectory.root` and `.db_url`; a root without the file gets nbgrader's defaults, as the
    `nbgrader` command run there would."""
    folder = Path(course.ROOT if root is None else root).resolve()
    try:
        config = course.load_config(folder)
    except ConfigFileNotFound:
        config = Config()
    directory = CourseDirectory(config=config)
    if root is not None or "root" not in config.CourseDirectory:
        directory.root = str(folder)
    if db_url is not None:
        directory.db_url = db_url
    return directory


def autograded_folder(directory: CourseDirectory) -> str:
    """Where the autograded notebooks are, as a person reads it: ROOT/autograded/<student>/<chapter>
    (nbgrader's `directory_structure`)."""
    return str(directory.format_path(directory.autograded_directory, "<student>", "<chapter>"))


# ----------------------------------------------------------------------------------------------
# Gathering.

def gather(directory: CourseDirectory, chapters: Sequence[str] | None = None) -> Report:
    """The report's data, from the gradebook and the autograded notebooks `directory` names.

    chapters: names to report on; by default every course chapter and every assignment of the
    gradebook. A SQLite gradebook that does not exist yet is read as empty (and not created)."""
    url = make_url(directory.db_url)
    shown = url.render_as_string(hide_password=True)
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    graded: list[Chapter] = []
    known: list[str] = []
    found: Counter[str] = Counter()      # autograded notebooks read, and those with records
    if _exists(url):
        with Gradebook(directory.db_url, course_id=directory.course_id) as gb:
            known = [a.name for a in gb.assignments]
            wanted = _course_order(chapters or [*CHAPTERS, *known])
            graded = [c for c in (_gather_chapter(gb, n, directory, found)
                                  for n in wanted if n in known)
                      if c.submissions]
    names = {c.name for c in graded}
    not_graded = [n for n in _course_order(chapters or [*CHAPTERS, *known]) if n not in names]
    return Report(graded, not_graded, shown, generated, _warnings(graded, found, directory))


def _warnings(graded: list[Chapter], found: Counter[str], directory: CourseDirectory) -> list[str]:
    """A word when no verdict record was found at all: the autograded folder is likely not where
    the settings say (a report without failing cases would otherwise look like a clean one)."""
    submissions = sum(len(c.submissions) for c in graded)
    if not submissions or found["records"]:
        return []
    where = autograded_folder(directory)
    holds = f"The gradebook holds {submissions} graded submission{'s' * (submissions != 1)}"
    if not found["notebooks"]:
        return [f"{holds}, but no autograded "
                f"notebook of them is in {where} (CourseDirectory.autograded_directory and "
                f".root in nbgrader_config.py): the report has no failing cases."]
    return [f"{holds}, but their autograded "
            f"notebooks in {where} hold no verdict record (graded before the records were "
            f"kept?): the report has no failing cases."]


def _exists(url: URL) -> bool:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database).is_file()


def _course_order(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    return [n for n in CHAPTERS if n in names] + sorted(n for n in names if n not in CHAPTERS)


def _gather_chapter(gb: Gradebook, name: str, directory: CourseDirectory,
                    found: Counter[str]) -> Chapter:
    assignment = gb.find_assignment(name)
    cells = {(nb.name, cell.name): cell.max_score
             for nb in assignment.notebooks for cell in nb.grade_cells}
    exercises = {key: Exercise(key[0], key[1], _exercise_id(name, key[1]), max_score)
                 for key, max_score in cells.items()}
    totals = {d["student"]: d for d in gb.submission_dicts(name)}
    grades: defaultdict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for student, notebook, cell, score in _cell_scores(gb, name):
        grades[student][(notebook, cell)] = score
    # Per exercise and case: the rejected submissions that failed it, and why.
    failed: defaultdict[tuple[str, str], defaultdict[tuple[str, str], list[Any]]] = \
        defaultdict(lambda: defaultdict(list))
    position: dict[tuple[str, str], int] = {}   # (notebook, cell) -> the cell's index in it
    submissions = []
    for student in sorted(totals):
        records: Records = {}
        complete = True
        for notebook in sorted({nb for nb, _ in cells}):
            read = _read_records(directory, student, name, notebook, position)
            found["notebooks"] += read is not None
            found["records"] += bool(read)
            complete = complete and bool(read)
            records.update(read or {})
        rejected = []
        for key, score in grades[student].items():
            exercise = exercises.get(key)
            if exercise is None:
                continue
            exercise.graded += 1
            if score >= exercise.max_score:
                exercise.accepted += 1
                continue
            rejected.append(exercise.exercise_id)
            record = records.get(key)
            if record is None or record.accepted:   # no case data, or a grade set by hand
                continue
            exercise.with_cases += 1
            every = record.failures >= record.cases > 0
            exercise.failed_every_case += int(every)
            for case_key, (label, reason) in _failed_cases(record).items():
                failed[key][case_key].append((label, reason, not every))
        submissions.append(Submission(student, float(totals[student]["score"]), rejected,
                                      complete))
    for key, exercise in exercises.items():
        exercise.failing_cases = _top_cases(failed[key], exercise.with_cases)
    max_score = next((float(d["max_score"]) for d in totals.values()), sum(cells.values()))
    ordered = [exercises[key] for key in
               sorted(exercises, key=lambda key: (key[0], position.get(key, 1e9), key[1]))]
    rank = {e.exercise_id: i for i, e in enumerate(ordered)}
    for submission in submissions:
        submission.rejected.sort(key=rank.__getitem__)
    return Chapter(name, max_score, submissions, ordered)


def _exercise_id(chapter: str, grade_id: str) -> str:
    return f"{chapter}.{exercise_name(grade_id)}"


def _cell_scores(gb: Gradebook, assignment: str) -> list[Any]:
    """(student, notebook, grade cell, score) of every grade of the assignment, in one query
    (walking the ORM's relations would ask the database once per grade)."""
    return (gb.db.query(SubmittedAssignment.student_id, Notebook.name, GradeCell.name, Grade.score)
            .select_from(Grade)
            .join(GradeCell, Grade.cell_id == GradeCell.id)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .filter(Assignment.name == assignment)
            .all())


def _read_records(directory: CourseDirectory, student: str, chapter: str, notebook: str,
                  position: dict[tuple[str, str], int]) -> Records | None:
    """{(notebook, grade id): verdict record} of one autograded notebook, read once: empty when
    it was graded before the records were kept, None when it is missing or unreadable. Fills
    `position` with the test cells' order."""
    if student in (".", "..") or "/" in student or os.sep in student:
        return None
    path = Path(directory.format_path(directory.autograded_directory, student, chapter),
                f"{notebook}.ipynb")
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        cells = nb["cells"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    records: Records = {}
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        if not (isinstance(metadata, dict) and isinstance(metadata.get("nbgrader"), dict)
                and is_test_cell(cell)):
            continue
        key = (notebook, str(metadata["nbgrader"].get("grade_id", "")))
        position.setdefault(key, index)
        try:
            records[key] = VerdictRecord.from_json(metadata.get(METADATA_KEY))
        except BadRecord:     # missing or garbled: this cell has no case data
            continue
    return records


def _failed_cases(record: VerdictRecord) -> dict[tuple[str, str], tuple[str, Reason | str]]:
    """{(key, kind): (label, reason)} of one rejected test cell, each case once. A random case's
    label names its random sizes, so its key masks the numbers, to group it across submissions."""
    cases: dict[tuple[str, str], tuple[str, Reason | str]] = {}
    for case in record.failed_cases:
        label, kind, reason = case.label, case.kind, case.reason
        if reason == Reason.NOT_RUN:     # skipped after an earlier case stopped the process
            continue
        if reason == Reason.MISSING:     # the function is not defined: not about any input
            label, kind = "(the function is not defined)", ""
        if reason == Reason.NOT_LOADED:
            label, kind = "(the code could not be loaded)", ""
        key = _NUMBER.sub("#", label) if kind == "random" else label
        cases.setdefault((key, kind), (label, reason))
    return cases


_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _top_cases(failed: dict[tuple[str, str], list[Any]], rejections: int) -> list[FailingCase]:
    """The most frequent failing cases, with their shares: ties go to the case more partly right
    rejections failed, then to the case seen first. Its reason is the most frequent among the
    partly right rejections, if any (the others say little: "not implemented", say).
    failed: {(key, kind): [(label, reason, partly right) per rejected submission]}."""
    ranked = sorted(failed.items(),
                    key=lambda item: (-len(item[1]), -sum(p for _, _, p in item[1])))
    cases = []
    for (_, kind), seen in ranked[:TOP_CASES]:
        partly = [reason for _, reason, p in seen if p]
        reason = Counter(partly or [reason for _, reason, _ in seen]).most_common(1)[0][0]
        cases.append(FailingCase(_merged_label([label for label, _, _ in seen]), kind, reason,
                                 len(seen), len(seen) / rejections, len(partly)))
    return cases


def _merged_label(labels: list[str]) -> str:
    """One label for a random case's labels: the numbers they all share kept, the others `N`
    ("random logits, 9 examples x 5 classes" and "..., 6 examples x 5 classes" give
    "random logits, N examples x 5 classes")."""
    if len(set(labels)) == 1:
        return labels[0]
    parts = [_NUMBER.split(label) for label in labels]
    numbers = [_NUMBER.findall(label) for label in labels]
    merged = parts[0][0]
    for i, text in enumerate(parts[0][1:]):
        values = {n[i] for n in numbers}
        merged += (values.pop() if len(values) == 1 else "N") + text
    return merged
