"""`list` the exercises, `catalog` them for the book, `check ID FILE` one of them: the commands
a student or an author runs on one exercise, without nbgrader or a gradebook."""

import argparse
import sys

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    subparsers.add_parser(
        "list", help="print every exercise id with its signature and points",
        description="Print every exercise id with its signature and points.",
    ).set_defaults(run=run_list)
    subparsers.add_parser(
        "catalog", help="print the book's 'All exercises' page (Markdown)",
        description="Print the book's 'All exercises' page (Markdown).",
    ).set_defaults(run=run_catalog)
    check = subparsers.add_parser(
        "check", help="check one exercise in FILE (.py or .ipynb)",
        description="Check one exercise in FILE (.py or .ipynb): exit 0 when accepted, 1 when "
                    "rejected, 2 when FILE cannot be checked.")
    check.add_argument("exercise_id", metavar="ID", help="e.g. softmax.softmax")
    check.add_argument("file", metavar="FILE", help="a .py file or an .ipynb notebook")
    check.add_argument("--seed", type=int, default=None,
                       help="seed of the random cases (default: fresh at every run)")
    check.add_argument("--max-failures", type=int, default=3,
                       help="how many failing cases to describe")
    check.set_defaults(run=run_check)


def run_list(args: argparse.Namespace) -> int:
    from autograder import catalog

    rows = [(check.exercise_id, check.signature, points)
            for _, check, points in catalog.exercises()]
    # Columns as wide as their longest entry, so that the points line up.
    id_width = max(len(exercise_id) for exercise_id, _, _ in rows)
    signature_width = max(len(signature) for _, signature, _ in rows)
    for exercise_id, signature, points in rows:
        unit = "point" if points == 1 else "points"
        print(f"{exercise_id:{id_width}s}  {signature:{signature_width}s}  {points} {unit}")
    return EXIT_ACCEPTED


def run_catalog(args: argparse.Namespace) -> int:
    from autograder import catalog

    print(catalog.markdown(), end="")
    return EXIT_ACCEPTED


def run_check(args: argparse.Namespace) -> int:
    from autograder.checks import all_checks
    from autograder.checks.base import run_checks
    from autograder.sandbox.runner import Reason
    from autograder.sources import SourceError, load_code_cells

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
