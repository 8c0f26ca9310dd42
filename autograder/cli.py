"""The command line: `list` the exercises, `check ID FILE` one of them, `catalog` for the book,
`doctor` to test the grading sandbox's promises on this machine, `grade` a cohort's submissions
and `report` on them."""

import argparse
import sys

from autograder import catalog
from autograder.checks import all_checks
from autograder.checks.base import run_checks
from autograder.sandbox.runner import Reason
from autograder.sources import SourceError, load_code_cells

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def cmd_list(args):
    for _, check, points in catalog.exercises():
        unit = "point" if points == 1 else "points"
        print(f"{check.exercise_id:45s} {check.signature:60s} {points} {unit}")
    return EXIT_ACCEPTED


def cmd_catalog(args):
    print(catalog.markdown(), end="")
    return EXIT_ACCEPTED


def cmd_check(args):
    checks = all_checks()
    if args.exercise_id not in checks:
        print(f"error: unknown exercise id {args.exercise_id!r}; "
              f"`python -m autograder list` shows them all", file=sys.stderr)
        return EXIT_USAGE
    check = checks[args.exercise_id]
    try:
        cells = load_code_cells(args.file)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdicts, report = run_checks([check], cells, seed=args.seed)
    verdict = verdicts[check.exercise_id]
    if verdict.reasons == {Reason.MISSING}:
        print(f"error: {args.file} does not define `{check.name}`", file=sys.stderr)
        for err in report.cell_errors[:3]:
            print(f"  cell {err['cell']}: {err['error']}", file=sys.stderr)
        return EXIT_USAGE
    if verdict.reasons == {Reason.NOT_LOADED}:
        print(f"error: {args.file} could not be loaded: {verdict.failures[0].message}",
              file=sys.stderr)
        return EXIT_USAGE
    for line in report.log:
        print(f"note: {line}", file=sys.stderr)
    print(verdict.feedback(max_failures=args.max_failures))
    return EXIT_ACCEPTED if verdict.accepted else EXIT_REJECTED


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print every exercise id with its signature and points")
    sub.add_parser("catalog", help="print the book's 'All exercises' page (Markdown)")
    sub.add_parser("doctor", add_help=False,
                   help="test on this machine every promise the grading sandbox makes")
    sub.add_parser("grade", add_help=False,
                   help="grade every submission of a chapter on every core or a Dask cluster")
    sub.add_parser("report", add_help=False,
                   help="write the instructor's report of graded chapters (HTML)")
    check = sub.add_parser("check", help="check one exercise in FILE (.py or .ipynb)")
    check.add_argument("exercise_id", metavar="ID", help="e.g. softmax.softmax")
    check.add_argument("file", metavar="FILE", help="a .py file or an .ipynb notebook")
    check.add_argument("--seed", type=int, default=None,
                       help="seed of the random cases (default: fresh at every run)")
    check.add_argument("--max-failures", type=int, default=3,
                       help="how many failing cases to describe")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["doctor"]:   # its options are its own: autograder/sandbox/doctor.py
        from autograder.sandbox import doctor
        return doctor.main(argv[1:])
    if argv[:1] == ["grade"]:    # autograder/grading/cohort.py
        from autograder.grading import cohort
        return cohort.main(argv[1:])
    if argv[:1] == ["report"]:   # autograder/report.py
        from autograder import report
        return report.main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # argparse exits 2 on usage errors already; keep 0 for --help
        return int(exc.code or 0)
    return {"list": cmd_list, "catalog": cmd_catalog, "check": cmd_check}[args.command](args)
