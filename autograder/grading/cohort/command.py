"""`python -m autograder grade CHAPTER...`: the command line of cohort grading (`run.grade`)."""

import argparse
import logging
import signal
import sys
from types import FrameType

from autograder.grading.cohort.bundle import DEFAULT_MAX_MB

EXIT_ALL_GRADED, EXIT_NOT_ALL_GRADED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "grade", help="grade every submission of a chapter on every core or a Dask cluster",
        description="Grade every submitted/<student>/CHAPTER with nbgrader's autograde pipeline "
                    "and the course's config, on every core or on a Dask cluster.")
    parser.add_argument("chapters", nargs="+", metavar="CHAPTER")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per usable core)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="use an existing Dask cluster, e.g. tcp://HOST:8786")
    parser.add_argument("--force", action="store_true", help="regrade every submission")
    parser.add_argument("--student", action="append", default=None,
                        help="grade only this student (repeatable)")
    parser.add_argument("--max-submission-mb", type=int, default=DEFAULT_MAX_MB,
                        help=f"largest submission sent to a worker (default {DEFAULT_MAX_MB})")
    parser.add_argument("--root", default=".", help="the course folder (default: here)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        return _usage("--workers must be at least 1")
    if args.workers and args.scheduler:
        return _usage("--workers starts local workers; with --scheduler the cluster has its own")
    from autograder.grading.cohort.cluster import Cluster, GradingError
    from autograder.grading.cohort.progress import summary
    from autograder.grading.cohort.run import grade

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)     # a batch system's stop: close the cluster too
    status = EXIT_ALL_GRADED
    try:
        with Cluster(args.workers, args.scheduler) as cluster:
            cluster.start()       # the workers start while the submissions are read here
            for chapter in args.chapters:
                try:
                    grading = grade(chapter, cluster, root=args.root, force=args.force,
                                    max_mb=args.max_submission_mb, students=args.student)
                except GradingError as exc:
                    return _usage(str(exc))
                print(summary(grading), flush=True)
                if not grading.all_graded:
                    status = EXIT_NOT_ALL_GRADED
    except KeyboardInterrupt:
        print("\ninterrupted: every submission graded so far is kept; run the same command "
              "again to grade the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


def _usage(problem: str) -> int:
    print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
