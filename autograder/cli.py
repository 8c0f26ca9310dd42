"""The command line: `list` the exercises, `check ID FILE` one of them, `catalog` for the book,
`doctor` to test the grading sandbox's promises on this machine, `grade` a cohort's submissions
and `report` on them.

Each command module registers its own subcommand: `add_parser(subparsers)` adds it, with its
arguments and `run(args) -> exit status` as its default. They import cheaply (what a command
needs is imported when it runs), so `check` works where Jupyter is not installed.
"""

import argparse
from collections.abc import Sequence

from autograder import exercise_commands
from autograder.grading.cohort import command as grade_command
from autograder.report import command as report_command
from autograder.sandbox import doctor

COMMANDS = (exercise_commands, doctor, grade_command, report_command)
DESCRIPTION = (__doc__ or "").split("\n\n")[0]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command `argv` (default: this process's arguments); return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # argparse exits 2 on usage errors already; keep 0 for --help
        return int(exc.code or 0)
    status: int = args.run(args)
    return status
