"""The instructor's report after grading: one offline HTML page, per chapter, of the cohort's
score distribution, each exercise's acceptance rate, and the failing cases seen most often.

    python -m autograder.report [--db URL] [--root DIR] [--out PATH] [CHAPTER ...]

Scores come from the nbgrader gradebook (raw points, before any late penalty). The failing cases
come from the verdict record `TrustedVerdict` writes into each test cell of the autograded
notebooks (autograded/<student>/<chapter>/<notebook>.ipynb); a notebook graded before those
records were kept still counts in the scores, and is named as having no case data.
`gather` returns the report as plain data; `render` turns it into the page (plots are PNGs drawn
with matplotlib's Agg backend, inlined as data URIs; no script, no external resource).
"""

import argparse
import base64
import html
import io
import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from nbgrader.api import (
    Assignment,
    Grade,
    Gradebook,
    GradeCell,
    Notebook,
    SubmittedAssignment,
    SubmittedNotebook,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from autograder.checks import CHAPTERS
from autograder.grading.preprocessors.trusted_verdict import METADATA_KEY, TEST_PREFIX
from autograder.sources import is_test_cell

ROOT = Path(__file__).resolve().parents[2]
COURSE_ID = "training-neural-networks"    # as nbgrader_config.py sets it
TOP_CASES = 5                             # failing cases shown per exercise
LABEL_CHARS = 200                         # a longer label (untrusted text) is cut


# ----------------------------------------------------------------------------------------------
# The report as data.

@dataclass
class FailingCase:
    """A case label, and how many of an exercise's rejections with case data failed it."""

    label: str
    kind: str        # fixed | random | edge
    reason: str      # why it failed most often (a Reason value), in partly right rejections
    count: int       # rejected submissions that failed it (each counted once)
    share: float     # count / the exercise's rejections with case data
    partial: int     # of count, those that passed some other case (they missed this idea)


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
    failing_cases: list = field(default_factory=list)   # [FailingCase], most frequent first

    @property
    def name(self):
        return self.grade_id.removeprefix(TEST_PREFIX)

    @property
    def rejected(self):
        return self.graded - self.accepted

    @property
    def acceptance_rate(self):
        return self.accepted / self.graded if self.graded else None


@dataclass
class Submission:
    student: str
    score: float
    rejected: list               # exercise ids without full points
    case_data: bool              # every notebook of it holds verdict records


@dataclass
class Chapter:
    name: str
    max_score: float
    submissions: list            # [Submission], by student id
    exercises: list              # [Exercise], in notebook order

    @property
    def scores(self):
        return [s.score for s in self.submissions]

    @property
    def mean(self):
        return statistics.fmean(self.scores)

    @property
    def median(self):
        return statistics.median(self.scores)

    @property
    def without_case_data(self):
        return [s.student for s in self.submissions if not s.case_data]


@dataclass
class Report:
    chapters: list               # [Chapter] with at least one graded submission, course order
    not_graded: list             # chapter names with none yet
    gradebook: str               # the gradebook's URL, password hidden
    generated: str


def gather(db_url, root=ROOT, chapters=None):
    """The report's data, from the gradebook at db_url and root/autograded/.

    chapters: names to report on; by default every course chapter and every assignment of the
    gradebook. A SQLite gradebook that does not exist yet is read as empty (and not created)."""
    root = Path(root)
    url = make_url(db_url)
    shown = url.render_as_string(hide_password=True)
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    graded, known = [], []
    if _exists(url):
        with Gradebook(db_url, course_id=COURSE_ID) as gb:
            known = [a.name for a in gb.assignments]
            wanted = _course_order(chapters or [*CHAPTERS, *known])
            graded = [c for c in (_gather_chapter(gb, n, root) for n in wanted if n in known)
                      if c.submissions]
    names = {c.name for c in graded}
    not_graded = [n for n in _course_order(chapters or [*CHAPTERS, *known]) if n not in names]
    return Report(graded, not_graded, shown, generated)


def _exists(url):
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database).is_file()


def _course_order(names):
    names = list(dict.fromkeys(names))
    return [n for n in CHAPTERS if n in names] + sorted(n for n in names if n not in CHAPTERS)


def _gather_chapter(gb, name, root):
    assignment = gb.find_assignment(name)
    cells = {(nb.name, cell.name): cell.max_score
             for nb in assignment.notebooks for cell in nb.grade_cells}
    exercises = {key: Exercise(key[0], key[1], _exercise_id(name, key[1]), max_score)
                 for key, max_score in cells.items()}
    totals = {d["student"]: d for d in gb.submission_dicts(name)}
    grades = defaultdict(dict)           # student -> {(notebook, cell): score}
    for student, notebook, cell, score in _cell_scores(gb, name):
        grades[student][(notebook, cell)] = score
    # Per exercise and case: the rejected submissions that failed it, and why.
    failed = defaultdict(lambda: defaultdict(list))
    position = {}                        # (notebook, cell) -> the cell's index in the notebook
    submissions = []
    for student in sorted(totals):
        records, complete = {}, True
        for notebook in sorted({nb for nb, _ in cells}):
            found = _read_records(root, student, name, notebook, position)
            complete = complete and found is not None
            records.update(found or {})
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
            if record is None or record["accepted"]:   # no case data, or a grade set by hand
                continue
            exercise.with_cases += 1
            every = record["failures"] >= record["cases"] > 0
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
        submission.rejected.sort(key=rank.get)
    return Chapter(name, max_score, submissions, ordered)


def _exercise_id(chapter, grade_id):
    return f"{chapter}.{grade_id.removeprefix(TEST_PREFIX)}"


def _cell_scores(gb, assignment):
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


def _read_records(root, student, chapter, notebook, position):
    """{(notebook, grade id): verdict record} of one autograded notebook, read once; None when
    the notebook is missing, unreadable, or was graded before the records were kept. Fills
    `position` with the test cells' order."""
    if student in (".", "..") or "/" in student or os.sep in student:
        return None
    path = root / "autograded" / student / chapter / f"{notebook}.ipynb"
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        cells = nb["cells"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    records = {}
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        if not (isinstance(metadata, dict) and isinstance(metadata.get("nbgrader"), dict)
                and is_test_cell(cell)):
            continue
        key = (notebook, str(metadata["nbgrader"].get("grade_id", "")))
        position.setdefault(key, index)
        record = _valid_record(metadata.get(METADATA_KEY))
        if record is not None:
            records[key] = record
    return records or None


def _valid_record(record):
    """The verdict record if it has the shape TrustedVerdict writes, else None."""
    if not isinstance(record, dict) or not isinstance(record.get("accepted"), bool):
        return None
    cases, failures = record.get("cases"), record.get("failures")
    failed = record.get("failed_cases")
    if not (isinstance(cases, int) and isinstance(failures, int) and isinstance(failed, list)):
        return None
    return {"accepted": record["accepted"], "cases": cases, "failures": failures,
            "failed_cases": [c for c in failed if isinstance(c, dict)]}


def _failed_cases(record):
    """{(key, kind): (label, reason)} of one rejected test cell, each case once. A random case's
    label names its random sizes, so its key masks the numbers, to group it across submissions."""
    cases = {}
    for case in record["failed_cases"]:
        label = str(case.get("label", ""))[:LABEL_CHARS]
        kind, reason = str(case.get("kind", ""))[:20], str(case.get("reason", ""))[:20]
        if reason == "not_run":          # skipped after an earlier case stopped the process
            continue
        if reason == "missing":          # the function is not defined: not about any input
            label, kind = "(the function is not defined)", ""
        if reason == "not_loaded":
            label, kind = "(the code could not be loaded)", ""
        key = _NUMBER.sub("#", label) if kind == "random" else label
        cases.setdefault((key, kind), (label, reason))
    return cases


_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _top_cases(failed, rejections):
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


def _merged_label(labels):
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


# ----------------------------------------------------------------------------------------------
# The page.

GOOD, FAIR, POOR, TRACK, INK, BLUE = "#2f7d4f", "#c98a12", "#b83a3a", "#e8ecf1", "#1f2933", \
    "#3a6ea5"
REASONS = {"mismatch": "wrong value", "warning": "floating-point warning",
           "error": "raised an error", "timeout": "time limit", "crash": "process crashed",
           "mutated": "modified its input", "unreadable": "unreadable result",
           "unjudged": "could not be judged", "missing": "not defined",
           "not_loaded": "could not load"}

CSS = """
:root { --ink: #1f2933; --muted: #66788a; --line: #dde3ea; --bg: #f4f6f9; --card: #fff;
        --good: #2f7d4f; --fair: #c98a12; --poor: #b83a3a; --track: #e8ecf1; --accent: #3a6ea5; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; }
header { background: #1f3a5a; color: #fff; padding: 28px 0 22px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; }
header p { margin: 0; color: #c9d6e3; font-size: 14px; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
main { padding: 24px 0 40px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
               padding: 20px 24px 22px; margin-bottom: 22px; }
h2 { margin: 0 0 2px; font-size: 21px; }
h3 { margin: 22px 0 8px; font-size: 16px; }
h4 { margin: 16px 0 6px; font-size: 14px; font-weight: 600; }
.meta, .muted { color: var(--muted); font-size: 13px; }
.meta { margin: 0 0 14px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.stats { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0 16px; }
.stat { background: var(--bg); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.stat b { display: block; font-size: 20px; }
.stat span { color: var(--muted); font-size: 12px; text-transform: uppercase;
             letter-spacing: .04em; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
         gap: 16px; align-items: start; }
figure { margin: 0; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; text-align: center; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
         vertical-align: middle; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase;
     letter-spacing: .04em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
.bar { background: var(--track); border-radius: 3px; height: 10px; width: 160px;
       display: inline-block; vertical-align: middle; overflow: hidden; }
.bar i { display: block; height: 100%; }
.good { background: var(--good); } .fair { background: var(--fair); }
.poor { background: var(--poor); } .share { background: var(--accent); }
.tag { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 10px;
       background: var(--track); color: var(--ink); white-space: nowrap; }
.note { background: #fff8e6; border-left: 3px solid var(--fair); padding: 8px 12px;
        font-size: 13px; margin: 12px 0; }
.empty { text-align: center; padding: 48px 24px; }
.empty p { color: var(--muted); }
table.cases { table-layout: fixed; }
col.w-kind { width: 80px; } col.w-reason { width: 160px; } col.w-count { width: 100px; }
col.w-share { width: 64px; } col.w-bar { width: 150px; } col.w-partly { width: 110px; }
table.cases .bar { width: 100%; }
table.cases td:first-child { overflow-wrap: anywhere; }
details { margin-top: 18px; }
summary { cursor: pointer; font-weight: 600; font-size: 14px; }
details table { margin-top: 8px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 30px; }
"""


def esc(value):
    return html.escape(str(value), quote=True)


def num(value):
    """A score: 7.5, 10, 3.33."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def pct(rate):
    return "–" if rate is None else f"{100 * rate:.0f}%"


def render(report):
    """The report as one self-contained HTML page (a string)."""
    if report.chapters:
        body = _overview(report) + "".join(_chapter_section(c) for c in report.chapters)
    else:
        body = ('<section class="card empty"><h2>Nothing has been graded yet</h2>'
                '<p>The gradebook holds no graded submission. Run <code>nbgrader autograde '
                'CHAPTER</code>, then this report again.</p></section>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grading report - Training Neural Networks</title>
<style>{CSS}</style>
</head>
<body>
<header><div class="wrap"><h1>Grading report</h1>
<p>Training Neural Networks &middot; generated {esc(report.generated)} &middot; gradebook
<code>{esc(report.gradebook)}</code></p></div></header>
<main><div class="wrap">
{body}
</div></main>
<footer><div class="wrap">Scores are the gradebook's raw points, before any late penalty.
An exercise is accepted when it got full points. Failing cases come from the verdicts recorded
in the autograded notebooks; each rejected submission counts once per case.</div></footer>
</body>
</html>
"""


def _overview(report):
    rows = []
    for chapter in report.chapters:
        rated = [e for e in chapter.exercises if e.graded]
        hardest = min(rated, key=lambda e: e.acceptance_rate, default=None)
        hard = "" if hardest is None else \
            f'<code>{esc(hardest.name)}</code> <span class="muted">{pct(hardest.acceptance_rate)}' \
            f' accepted</span>'
        rows.append(f'<tr><td><a href="#{esc(_anchor(chapter.name))}">{esc(chapter.name)}</a></td>'
                    f'<td class="num">{len(chapter.submissions)}</td>'
                    f'<td class="num">{num(chapter.mean)} / {num(chapter.max_score)}</td>'
                    f'<td class="num">{num(chapter.median)}</td>'
                    f'<td class="num">{_full_marks(chapter)}</td><td>{hard}</td></tr>')
    pending = "" if not report.not_graded else \
        '<p class="muted">Not graded yet: ' + ", ".join(esc(n) for n in report.not_graded) + "</p>"
    return ('<section class="card"><h2>Overview</h2><p class="meta">Every graded chapter, in '
            'course order.</p><table><thead><tr><th>Chapter</th><th class="num">Submissions</th>'
            '<th class="num">Mean</th><th class="num">Median</th><th class="num">Full marks</th>'
            '<th>Hardest exercise</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>" + pending + "</section>")


def _full_marks(chapter):
    full = sum(s.score >= chapter.max_score for s in chapter.submissions)
    return pct(full / len(chapter.submissions))


def _anchor(name):
    return "chapter-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _chapter_section(chapter):
    n = len(chapter.submissions)
    stats = "".join(f'<div class="stat"><b>{value}</b><span>{label}</span></div>'
                    for value, label in [(n, "submissions"), (num(chapter.max_score), "max points"),
                                         (num(chapter.mean), "mean"), (num(chapter.median),
                                         "median"), (_full_marks(chapter), "full marks")])
    missing = chapter.without_case_data
    note = "" if not missing else (
        f'<p class="note">{len(missing)} of {n} submissions have no case data (graded before '
        f'verdicts were recorded, or their autograded notebook is missing): they count in the '
        f'scores and acceptance rates, not in the failing cases.</p>')
    return (f'<section class="card" id="{esc(_anchor(chapter.name))}">'
            f'<h2>{esc(chapter.name)}</h2><div class="stats">{stats}</div>{note}'
            f'<div class="plots">'
            f'{_figure(score_histogram(chapter), "Score distribution")}'
            f'{_figure(acceptance_plot(chapter), "Acceptance rate per exercise")}</div>'
            f'{_exercise_table(chapter)}{_failing_cases(chapter)}{_students(chapter)}</section>')


def _figure(fig, caption):
    return (f'<figure><img src="{_png(fig)}" alt="{esc(caption)}">'
            f'<figcaption>{esc(caption)}</figcaption></figure>')


def _bar(rate, css):
    width = 0 if rate is None else round(100 * rate, 1)
    return f'<span class="bar"><i class="{css}" style="width:{width}%"></i></span>'


def _grade(rate):
    return "poor" if rate is None or rate < 0.5 else "fair" if rate < 0.8 else "good"


def _exercise_table(chapter):
    rows = []
    for e in chapter.exercises:
        every = f' <span class="muted">({e.failed_every_case} failed every case)</span>' \
            if e.failed_every_case else ""
        rows.append(f'<tr><td><code>{esc(e.exercise_id)}</code></td>'
                    f'<td class="num">{num(e.max_score)}</td>'
                    f'<td class="num">{e.accepted} / {e.graded}</td>'
                    f'<td class="num">{pct(e.acceptance_rate)}</td>'
                    f'<td>{_bar(e.acceptance_rate, _grade(e.acceptance_rate))}</td>'
                    f'<td class="num">{e.rejected}{every}</td></tr>')
    return ('<h3>Exercises</h3><table><thead><tr><th>Exercise</th><th class="num">Points</th>'
            '<th class="num">Accepted</th><th class="num">Rate</th><th></th>'
            '<th class="num">Rejected</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _failing_cases(chapter):
    blocks = []
    for e in chapter.exercises:
        if not e.rejected:
            continue
        every = f", {e.failed_every_case} of them failed every case" if e.failed_every_case else ""
        head = f'<h4><code>{esc(e.exercise_id)}</code> <span class="muted">{e.rejected} ' \
               f'rejected, {e.with_cases} with case data{every}</span></h4>'
        if not e.failing_cases:
            blocks.append(head + '<p class="muted">No case data for its rejections.</p>')
            continue
        partly = e.with_cases - e.failed_every_case
        rows = "".join(
            f'<tr><td>{esc(c.label)}</td><td>{_tag(c.kind)}</td>'
            f'<td>{esc(REASONS.get(c.reason, c.reason))}</td>'
            f'<td class="num">{c.count} / {e.with_cases}</td><td class="num">{pct(c.share)}</td>'
            f'<td>{_bar(c.share, "share")}</td><td class="num">{c.partial} / {partly}</td></tr>'
            for c in e.failing_cases)
        blocks.append(head + '<table class="cases"><colgroup><col><col class="w-kind">'
                      '<col class="w-reason"><col class="w-count"><col class="w-share">'
                      '<col class="w-bar"><col class="w-partly"></colgroup><thead><tr>'
                      '<th>Failing case</th>'
                      '<th>Kind</th><th>Most often</th><th class="num">Rejections</th>'
                      '<th class="num">Share</th><th></th><th class="num" title="rejections that '
                      'passed some other case">Partly right</th></tr></thead><tbody>' + rows
                      + "</tbody></table>")
    if not blocks:
        return ""
    return ('<h3>Where rejected submissions fail</h3><p class="meta">The failing cases seen most '
            'often in each exercise\'s rejections; the share is of its rejections with case data. '
            'A rejection that failed every case (not attempted, or broken) counts in each of '
            'them; "partly right" counts only the rejections that passed some other case, the '
            'ones that missed this idea.</p>' + "".join(blocks))


def _tag(kind):
    return f'<span class="tag">{esc(kind)}</span>' if kind else ""


def _students(chapter):
    rows = "".join(
        f'<tr><td>{esc(s.student)}</td><td class="num">{num(s.score)} / {num(chapter.max_score)}'
        f'</td><td>{esc(", ".join(r.split(".", 1)[-1] for r in s.rejected))}</td>'
        f'<td class="muted">{"" if s.case_data else "no case data"}</td></tr>'
        for s in chapter.submissions)
    return (f'<details><summary>Scores by student ({len(chapter.submissions)})</summary><table>'
            '<thead><tr><th>Student</th><th class="num">Score</th><th>Rejected exercises</th>'
            '<th></th></tr></thead><tbody>' + rows + "</tbody></table></details>")


# Plots: matplotlib's Agg canvas, no pyplot (no global state), one PNG each.

def _new_figure(height):
    fig = Figure(figsize=(5.4, height), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors=INK, labelsize=9)
    for spine in ax.spines.values():
        spine.set_color("#aab4bf")
    return fig, ax


def score_histogram(chapter):
    scores = np.clip(chapter.scores, 0, chapter.max_score)
    top = chapter.max_score or 1.0
    if top <= 40 and all(float(s).is_integer() for s in scores) and float(top).is_integer():
        bins = np.arange(-0.5, top + 1.0, 1.0)
    else:
        bins = np.linspace(0, top, 21)
    fig, ax = _new_figure(3.0)
    counts, _, _ = ax.hist(scores, bins=bins, color=BLUE, edgecolor="white", rwidth=0.85)
    ax.axvline(chapter.mean, color=INK, linestyle="--", linewidth=1.3, zorder=3,
               label=f"mean {num(chapter.mean)}")
    ax.axvline(chapter.median, color=FAIR, linestyle=":", linewidth=2.2, zorder=3,
               label=f"median {num(chapter.median)}")
    ax.set_xlim(bins[0], bins[-1])
    ax.set_ylim(0, max(counts.max(), 1) * 1.12)
    ax.set_xlabel(f"score (out of {num(chapter.max_score)})", color=INK, fontsize=9)
    ax.set_ylabel("submissions", color=INK, fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=11))
    ax.grid(axis="y", color=TRACK)
    ax.set_axisbelow(True)
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="lower right", bbox_to_anchor=(1, 1),
              borderaxespad=0.2)
    return fig


def acceptance_plot(chapter):
    exercises = chapter.exercises
    rates = [100 * (e.acceptance_rate or 0) for e in exercises]
    y = np.arange(len(exercises))
    fig, ax = _new_figure(max(1.6, 0.5 * len(exercises) + 0.8))
    ax.barh(y, [100] * len(exercises), color=TRACK, height=0.6)
    ax.barh(y, rates, color=[{"good": GOOD, "fair": FAIR, "poor": POOR}[_grade(e.acceptance_rate)]
                             for e in exercises], height=0.6)
    ax.set_yticks(y, [e.name for e in exercises], parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("submissions with full points", color=INK, fontsize=9)
    right = ax.secondary_yaxis("right")
    right.set_yticks(y, [f"{pct(e.acceptance_rate)}  ({e.accepted}/{e.graded})"
                         for e in exercises], parse_math=False)
    right.tick_params(length=0, labelsize=9, colors=INK)
    right.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return fig


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=144, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ----------------------------------------------------------------------------------------------
# The command.

def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograder report",
        description="Write the instructor's grading report: one offline HTML page.")
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER",
                        help="chapters to report on (default: every one)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the course root, holding autograded/ (default: %(default)s)")
    parser.add_argument("--db", default=None,
                        help="the gradebook's URL (default: $NBGRADER_DB_URL, else "
                             "sqlite:///ROOT/gradebook.db, as nbgrader_config.py)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the page to write (default: ROOT/exports/report.html)")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:   # argparse exits 2 on usage errors; keep 0 for --help
        return int(exc.code or 0)
    root = args.root.resolve()
    db_url = args.db or os.environ.get("NBGRADER_DB_URL", f"sqlite:///{root / 'gradebook.db'}")
    out = args.out or root / "exports" / "report.html"
    try:
        report = gather(db_url, root, args.chapters)
    except SQLAlchemyError as exc:
        shown = make_url(db_url).render_as_string(hide_password=True)
        print(f"error: cannot read the gradebook {shown}: {exc.__class__.__name__}: "
              f"{getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
