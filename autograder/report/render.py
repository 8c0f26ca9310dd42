"""Rendering the instructor's report: one offline HTML page, per chapter, of the cohort's score
distribution, each exercise's acceptance rate, and the failing cases seen most often.

The page is self-contained: plots are PNGs drawn with matplotlib's Agg backend, inlined as data
URIs; no script, no external resource. Every text that came from a student or a notebook
(student ids, case labels, chapter names) is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from autograder.sandbox.runner import Reason

if TYPE_CHECKING:    # the page needs the report's data, not the gradebook's libraries
    from autograder.report.gather import Chapter, Report

GOOD, FAIR, POOR, TRACK, INK, BLUE = "#2f7d4f", "#c98a12", "#b83a3a", "#e8ecf1", "#1f2933", \
    "#3a6ea5"
REASONS: dict[str, str] = {Reason.MISMATCH: "wrong value", Reason.WARNING: "floating-point warning",
           Reason.ERROR: "raised an error", Reason.TIMEOUT: "time limit",
           Reason.CRASH: "process crashed", Reason.MUTATED: "modified its input",
           Reason.UNREADABLE: "unreadable result", Reason.UNJUDGED: "could not be judged",
           Reason.MISSING: "not defined", Reason.NOT_LOADED: "could not load"}

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
.warning { border-left: 4px solid var(--poor); }
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


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def num(value: float) -> str:
    """A score: 7.5, 10, 3.33."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def pct(rate: float | None) -> str:
    return "–" if rate is None else f"{100 * rate:.0f}%"


def render(report: Report) -> str:
    """The report as one self-contained HTML page (a string)."""
    if report.chapters:
        body = _overview(report) + "".join(_chapter_section(c) for c in report.chapters)
    else:
        body = ('<section class="card empty"><h2>Nothing has been graded yet</h2>'
                '<p>The gradebook holds no graded submission. Run <code>nbgrader autograde '
                'CHAPTER</code>, then this report again.</p></section>')
    body = "".join(f'<section class="card warning"><h2>Warning</h2><p>{esc(w)}</p></section>'
                   for w in report.warnings) + body
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


def _overview(report: Report) -> str:
    rows = []
    for chapter in report.chapters:
        rated = [e for e in chapter.exercises if e.graded]
        hardest = min(rated, key=lambda e: e.accepted / e.graded, default=None)
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


def _full_marks(chapter: Chapter) -> str:
    full = sum(s.score >= chapter.max_score for s in chapter.submissions)
    return pct(full / len(chapter.submissions))


def _anchor(name: str) -> str:
    return "chapter-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _chapter_section(chapter: Chapter) -> str:
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


def _figure(fig: Figure, caption: str) -> str:
    return (f'<figure><img src="{_png(fig)}" alt="{esc(caption)}">'
            f'<figcaption>{esc(caption)}</figcaption></figure>')


def _bar(rate: float | None, css: str) -> str:
    width = 0 if rate is None else round(100 * rate, 1)
    return f'<span class="bar"><i class="{css}" style="width:{width}%"></i></span>'


def _grade(rate: float | None) -> str:
    return "poor" if rate is None or rate < 0.5 else "fair" if rate < 0.8 else "good"


def _exercise_table(chapter: Chapter) -> str:
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


def _failing_cases(chapter: Chapter) -> str:
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


def _tag(kind: str) -> str:
    return f'<span class="tag">{esc(kind)}</span>' if kind else ""


def _students(chapter: Chapter) -> str:
    rows = "".join(
        f'<tr><td>{esc(s.student)}</td><td class="num">{num(s.score)} / {num(chapter.max_score)}'
        f'</td><td>{esc(", ".join(r.split(".", 1)[-1] for r in s.rejected))}</td>'
        f'<td class="muted">{"" if s.case_data else "no case data"}</td></tr>'
        for s in chapter.submissions)
    return (f'<details><summary>Scores by student ({len(chapter.submissions)})</summary><table>'
            '<thead><tr><th>Student</th><th class="num">Score</th><th>Rejected exercises</th>'
            '<th></th></tr></thead><tbody>' + rows + "</tbody></table></details>")


# Plots: matplotlib's Agg canvas, no pyplot (no global state), one PNG each.

def _new_figure(height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(5.4, height), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors=INK, labelsize=9)
    for spine in ax.spines.values():
        spine.set_color("#aab4bf")
    return fig, ax


def score_histogram(chapter: Chapter) -> Figure:
    scores = np.clip(chapter.scores, 0, chapter.max_score)
    top = chapter.max_score or 1.0
    if top <= 40 and all(float(s).is_integer() for s in scores) and float(top).is_integer():
        bins = np.arange(-0.5, top + 1.0, 1.0).tolist()
    else:
        bins = np.linspace(0, top, 21).tolist()
    fig, ax = _new_figure(3.0)
    counts, _, _ = ax.hist(scores, bins=bins, color=BLUE, edgecolor="white", rwidth=0.85)
    ax.axvline(chapter.mean, color=INK, linestyle="--", linewidth=1.3, zorder=3,
               label=f"mean {num(chapter.mean)}")
    ax.axvline(chapter.median, color=FAIR, linestyle=":", linewidth=2.2, zorder=3,
               label=f"median {num(chapter.median)}")
    ax.set_xlim(bins[0], bins[-1])
    ax.set_ylim(0, max(np.max(counts), 1) * 1.12)
    ax.set_xlabel(f"score (out of {num(chapter.max_score)})", color=INK, fontsize=9)
    ax.set_ylabel("submissions", color=INK, fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=11))
    ax.grid(axis="y", color=TRACK)
    ax.set_axisbelow(True)
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="lower right", bbox_to_anchor=(1, 1),
              borderaxespad=0.2)
    return fig


def acceptance_plot(chapter: Chapter) -> Figure:
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


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=144, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
