"""`python -m autograder report`: write the instructor's report of the graded chapters.

The course id, the gradebook and the autograded folder are nbgrader's own settings, read from the
course's nbgrader_config.py (autograder/report/gather.py: `course_directory`); --root and --db
override the file's. A warning (no verdict record found where the settings say) goes to stderr as
well as into the page.
"""

import argparse
import sys
from pathlib import Path

from autograder.course import ROOT

NAME = "report"


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        NAME, help="write the instructor's report of graded chapters (HTML)",
        description="Write the instructor's grading report: one offline HTML page. The course "
                    "id, the gradebook and the autograded folder come from nbgrader_config.py "
                    "(CourseDirectory.course_id, .db_url, .root, .autograded_directory).")
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER",
                        help="chapters to report on (default: every one)")
    parser.add_argument("--root", type=Path, default=None,
                        help=f"the course root, holding nbgrader_config.py (default: {ROOT}); "
                             f"overrides its CourseDirectory.root")
    parser.add_argument("--db", default=None,
                        help="the gradebook's URL (default: CourseDirectory.db_url of "
                             "nbgrader_config.py: $NBGRADER_DB_URL, else sqlite:///ROOT/gradebook.db)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the page to write (default: ROOT/exports/report.html)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from autograder.report.gather import course_directory, gather
    from autograder.report.render import render

    directory = course_directory(args.root, args.db)
    root = Path(directory.root)
    out = args.out or root / "exports" / "report.html"
    try:
        report = gather(directory, args.chapters)
    except SQLAlchemyError as exc:
        shown = make_url(directory.db_url).render_as_string(hide_password=True)
        print(f"error: cannot read the gradebook {shown}: {exc.__class__.__name__}: "
              f"{getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    print(out)
    return 0
