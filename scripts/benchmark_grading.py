"""Plain nbgrader against the course's grading, side by side: seconds per notebook, and why.

    .venv/bin/python scripts/benchmark_grading.py [--n N] [--workers W] [--json PATH] [CHAPTER ...]

For each chapter (default: all, in course order) it makes N submissions from the sample students
(3/8 correct, 3/8 partial, 1/8 untouched, 1/8 tamper: wrong answers plus a cell that makes every
test pass in the student's own kernel; default N=8) and grades them, in one run per chapter, three
ways, each in a fresh scratch copy of the course:

- plain nbgrader: `nbgrader autograde` with nbgrader's default preprocessors, so the visible and
  hidden tests run in the student's own, unsandboxed kernel (a minimal config written here);
- the course, serial: the cohort engine (`autograder.grading.cohort.run.grade`, what
  `python -m autograder grade` runs) on a LocalCluster of one worker;
- the course on W workers (default: one per core).

It prints seconds per notebook and their ratios, where the course's time goes (kernel start,
TensorFlow import, the notebook's cells, the trusted verdict, nbgrader's bookkeeping), and whether
the scores agree: every submission that does not tamper must get its expected score from plain
nbgrader and from the course; for the tampering ones it shows what each gave. The targets (serial:
no slower per notebook than plain nbgrader; W workers: at least 1.8x the serial throughput) are
reported met or not met per chapter; they do not fail the run, which exits 0 unless something
crashed. It measures wall-clock time: run it on a quiet machine. `--json PATH` also writes the
figures as JSON.
"""

import argparse
import asyncio
import importlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from autograder.checks import CHAPTERS  # noqa: E402
from tests.course import BIN, copy_course, nbgrader, nbgrader_env  # noqa: E402

SAMPLES = ROOT / "samples" / "submitted"
KINDS = {"correct": 3 / 8, "partial": 3 / 8, "untouched": 1 / 8, "tamper": 1 / 8}
SERIAL_TARGET, PARALLEL_TARGET = 1.00, 1.8
IMPORTS_TF = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras)\b", re.MULTILINE)
PLAIN_CONFIG = """# Plain nbgrader: its default preprocessors, tests in the student's kernel.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "training-neural-networks"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
c.CourseDirectory.ignore = {ignore!r}
c.ClearSolutions.code_stub = {code_stub!r}
c.Execute.timeout = 300   # Keras training cells
"""


def kind_counts(n):
    """How many submissions of each kind: the known proportions, each kind at least once from 4."""
    counts = dict.fromkeys(KINDS, 1 if n >= 4 else 0)
    for _ in range(n - sum(counts.values())):
        kind = max(KINDS, key=lambda k: KINDS[k] * n - counts[k])
        counts[kind] += 1
    return counts


def make_students(n):
    return {f"bench-{kind}-{i:02d}": kind
            for kind, count in kind_counts(n).items() for i in range(1, count + 1)}


def submit(course, chapters, students):
    for chapter in chapters:
        for student, kind in students.items():
            shutil.copytree(SAMPLES / f"sample-{kind}" / chapter,
                            course / "submitted" / student / chapter)


def uses_tensorflow(chapter):
    """Whether a code cell of the source notebook imports TensorFlow (Keras)."""
    nb = json.loads((ROOT / "source" / chapter / "exercises.ipynb").read_text())
    return any(IMPORTS_TF.search("".join(cell["source"]))
               for cell in nb["cells"] if cell["cell_type"] == "code")


def gradebook_scores(course, chapter):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student_id: s.score for s in gb.assignment_submissions(chapter)}


# ----------------------------------------------------------------------------------------------
# Fixed costs, measured once.

def tf_import_seconds(repeat=3):
    code = "import time; t = time.perf_counter(); import tensorflow; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout.split()[-1]) for _ in range(repeat)]
    return statistics.median(times)


def kernel_start_seconds(manager_class, repeat=3):
    """Start a python3 kernel in an empty folder until it answers, as nbclient does; median."""
    async def once():
        with tempfile.TemporaryDirectory(prefix="bench-kernel-") as cwd:
            km = manager_class(kernel_name="python3")
            start = time.perf_counter()
            await km.start_kernel(cwd=cwd, stderr=subprocess.DEVNULL)
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=120)
                return time.perf_counter() - start
            finally:
                kc.stop_channels()
                await km.shutdown_kernel(now=True)
                getattr(km, "release", lambda: None)()

    return statistics.median(asyncio.run(once()) for _ in range(repeat))


# ----------------------------------------------------------------------------------------------
# The three ways of grading.

def plain_nbgrader(course, *args):
    env = nbgrader_env()
    env.pop("PYTHONPATH", None)         # nothing of the course is importable
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=7200)
    if result.returncode:
        raise RuntimeError(f"plain nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}")


def prepare_plain(course, chapters, students):
    from autograder.course import load_config

    config = load_config(ROOT)
    course.mkdir(parents=True)
    for chapter in chapters:
        shutil.copytree(ROOT / "source" / chapter, course / "source" / chapter)
    (course / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(
        root=str(course), db_url=f"sqlite:///{course / 'gradebook.db'}",
        ignore=list(config.CourseDirectory.ignore),
        code_stub=dict(config.ClearSolutions.code_stub)))
    for chapter in chapters:
        plain_nbgrader(course, "generate_assignment", chapter, "--force")
    submit(course, chapters, students)


def prepare_course(course, chapters, students):
    copy_course(course)
    for chapter in chapters:
        nbgrader(course, "generate_assignment", chapter, "--force")
    submit(course, chapters, students)


def grade_plain(course, chapters, n):
    seconds = {}
    for chapter in chapters:
        start = time.perf_counter()
        plain_nbgrader(course, "autograde", chapter, "--force")
        seconds[chapter] = time.perf_counter() - start
        print(f"  plain nbgrader   {chapter:20s} {seconds[chapter]:7.1f} s "
              f"({seconds[chapter] / n:.2f} s/nb)", flush=True)
    return seconds


def warm_up():
    """On a worker: import what its first submission would, so no chapter's figure holds it."""
    import nbgrader.apps.autogradeapp  # noqa: F401

    import autograder.grading.preprocessors  # noqa: F401
    from autograder.checks import all_checks

    all_checks()


def grade_course(course, chapters, workers, n):
    """(cluster start seconds, {chapter: ChapterGrading}) of the cohort engine on `workers`
    workers."""
    from autograder.grading.cohort.cluster import Cluster
    from autograder.grading.cohort.progress import summary
    from autograder.grading.cohort.run import grade

    quiet = io.StringIO()
    label = f"course, {workers} wkr"
    with Cluster(workers=workers) as cluster:
        start = time.perf_counter()
        cluster.client(quiet).run(warm_up)
        startup = time.perf_counter() - start
        print(f"  {label:16s} cluster started in {startup:.1f} s (each worker's sandbox "
              f"self-test and imports)", flush=True)
        runs = {}
        for chapter in chapters:
            run = runs[chapter] = grade(chapter, cluster, root=course, force=True, stream=quiet,
                                        tty=False)
            print(f"  {label:16s} {chapter:20s} {run.seconds:7.1f} s "
                  f"({run.seconds / n:.2f} s/nb)", flush=True)
            if not run.all_graded:
                print("    " + summary(run).replace("\n", "\n    "), flush=True)
    return startup, runs


# ----------------------------------------------------------------------------------------------
# Figures.

def stages(serial, parallel, kernel_start, tf_import, tf):
    """Seconds per notebook of each stage of the course's pipeline (serial run, on the worker)."""
    from autograder.grading.cohort.progress import Status

    def mean(run, value):
        done = [o for o in run.results if o.status == Status.GRADED]
        return statistics.fmean(value(o) for o in done) if done else float("nan")

    def waited(o):
        """The verdict's time on the notebook's path: StartTrustedVerdict, when the pipeline has
        it, runs the verdict alongside the kernel, and TrustedVerdict waits for what is left."""
        return o.stages.get("StartTrustedVerdict", 0.0) + o.stages.get("TrustedVerdict", 0.0)

    execute = mean(serial, lambda o: o.stages.get("SandboxedExecute", 0.0))
    wait = mean(serial, waited)
    verdict = mean(serial, lambda o: o.stages.get("verdict process", waited(o)))
    worker = mean(serial, lambda o: o.seconds)
    tf_seconds = tf_import if tf else 0.0
    return {"kernel_start": kernel_start, "tf_import": tf_seconds,
            "cells": execute - kernel_start - tf_seconds, "verdict": verdict,
            "verdict_wait": wait, "nbgrader": worker - execute - wait, "worker": worker,
            "dispatch": serial.seconds / len(serial.results) - worker,
            "worker_parallel": mean(parallel, lambda o: o.seconds)}


def compare_scores(students, expected, plain, serial, parallel):
    rows, disagreements = {}, []
    for student, kind in students.items():
        got = {"expected": expected[f"sample-{kind}"], "plain": plain.get(student),
               "course_serial": serial.get(student), "course_parallel": parallel.get(student)}
        rows[student] = got
        if kind != "tamper" and len(set(got.values())) != 1:
            disagreements.append(student)
        if kind == "tamper" and {got["course_serial"], got["course_parallel"]} != \
                {got["expected"]}:
            disagreements.append(student)     # the course must not be fooled
    return rows, disagreements


def report(chapters, students, workers, fixed, results):
    w = f"{workers}w"
    print(f"\nSeconds per notebook, {len(students)} submissions per chapter "
          f"({', '.join(f'{c} {k}' for k, c in kind_counts(len(students)).items())}); "
          f"1w = course serial, {w} = course on {workers} workers")
    print(f"{'chapter':20s} {'plain':>7s} {'1w':>7s} {w:>7s} {'1w/plain':>9s} "
          f"{w + ' gain':>8s} {w + '/plain':>9s}")
    for ch in chapters:
        r = results[ch]
        print(f"{ch:20s} {r['plain']:7.2f} {r['serial']:7.2f} {r['parallel']:7.2f} "
              f"{r['serial_over_plain']:9.2f} {r['parallel_gain']:7.2f}x "
              f"{r['parallel_over_plain']:8.2f}x")
    print(f"plain includes its command's start (one `nbgrader autograde` per chapter); the "
          f"course's cluster start,\nonce per command, is not included: "
          f"{fixed['cluster_start_serial']:.1f} s with 1 worker, "
          f"{fixed['cluster_start_parallel']:.1f} s with {workers} (sandbox self-test, imports).")

    print(f"\nWhere the course's time goes, serial, seconds per notebook. Measured once: "
          f"TensorFlow import {fixed['tf_import']:.2f} s, kernel start "
          f"{fixed['kernel_start_sandboxed']:.2f} s sandboxed ({fixed['kernel_start_plain']:.2f}"
          f" s plain).")
    print(f"{'chapter':20s} {'TF':>3s} {'kernel':>7s} {'TF imp':>7s} {'cells':>7s} "
          f"{'verdict':>8s} {'v. wait':>8s} {'nbgrader':>9s} {'worker':>7s} {'dispatch':>9s} "
          f"{w + ' wkr':>7s}")
    for ch in chapters:
        s = results[ch]["stages"]
        print(f"{ch:20s} {'yes' if results[ch]['tensorflow'] else 'no':>3s} "
              f"{s['kernel_start']:7.2f} {s['tf_import']:7.2f} {s['cells']:7.2f} "
              f"{s['verdict']:8.2f} {s['verdict_wait']:8.2f} {s['nbgrader']:9.2f} "
              f"{s['worker']:7.2f} {s['dispatch']:9.2f} {s['worker_parallel']:7.2f}")
    print("  kernel + TF imp + cells = SandboxedExecute, the student's kernel (TF imp assumes "
          "every notebook of\n  a Keras chapter imports TensorFlow there: an untouched one does "
          "not; cells include Keras training).\n  verdict = the verdict process (the student's "
          "code reloaded, its TF import, the checks, Keras training\n  in the judge); v. wait = "
          "what it adds to the notebook's time (less when it runs alongside the kernel).\n  "
          "nbgrader = the other preprocessors and the worker's scratch course; worker = kernel + "
          "TF imp + cells\n  + v. wait + nbgrader. dispatch = here: Dask, reading submissions, "
          f"writing the gradebook. {w} wkr = worker\n  total with {workers} workers.")

    print("\nScores (plain nbgrader, course serial, course parallel, expected):")
    for ch in chapters:
        rows, bad = results[ch]["scores"], results[ch]["disagreements"]
        fair = sum(students[s] != "tamper" for s in rows)
        print(f"  {ch:20s} " + (f"{len(bad)} DISAGREE (listed)" if bad else
                                f"all agree with the expected score on the {fair} "
                                f"submissions that do not tamper"))
        for student in rows:
            got = rows[student]
            if student in bad or students[student] == "tamper":
                fooled = " (plain nbgrader fooled)" if students[student] == "tamper" and \
                    got["plain"] != got["expected"] else ""
                print(f"    {student:20s} plain {got['plain']}, course {got['course_serial']} / "
                      f"{got['course_parallel']}, expected {got['expected']}{fooled}")

    print(f"\nTargets: serial, the course's s/nb <= {SERIAL_TARGET:.2f} x plain nbgrader's; "
          f"{workers} workers, >= {PARALLEL_TARGET}x the serial throughput")
    for ch in chapters:
        r, met = results[ch], results[ch]["targets"]
        print(f"  {ch:20s} serial {r['serial_over_plain']:5.2f}  "
              f"{'met' if met['serial'] else 'NOT MET':8s} {workers} workers "
              f"{r['parallel_gain']:5.2f}x {'met' if met['parallel'] else 'NOT MET'}")


def projection(chapters, workers, results, students=5000, cluster=100):
    """Hours to grade `students` x the chapters on `cluster` one-core workers, from the measured
    parallel run (each of its `workers` workers had one core of this machine: a notebook costs
    workers x its seconds per notebook in worker-seconds), beside plain nbgrader on one core."""
    worker_seconds = sum(workers * results[ch]["parallel"] for ch in chapters) * students
    plain_seconds = sum(results[ch]["plain"] for ch in chapters) * students
    hours = {"cluster": worker_seconds / cluster / 3600, "plain": plain_seconds / 3600,
             "this_machine": worker_seconds / workers / 3600}
    print(f"\nProjection: {students:,} students x {len(chapters)} chapter(s) = "
          f"{students * len(chapters):,} notebooks. Course on {cluster} one-core workers: "
          f"{hours['cluster']:.1f} h; on this machine ({workers} workers): "
          f"{hours['this_machine']:.1f} h; plain nbgrader (one process, one core): "
          f"{hours['plain']:.1f} h.")
    return hours


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every chapter")
    parser.add_argument("--n", type=int, default=8, help="submissions per chapter (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="workers of the parallel run (default: one per core)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    chapters = [ch for ch in CHAPTERS if ch in args.chapters] if args.chapters else CHAPTERS
    unknown = set(args.chapters) - set(CHAPTERS)
    if unknown or args.n < 1 or args.workers < 1:
        parser.error(f"unknown chapter(s) {sorted(unknown)}" if unknown else
                     "--n and --workers must be at least 1")
    students = make_students(args.n)
    os.environ["PATH"] = f"{BIN}:{os.environ['PATH']}"      # nbgrader runs `alembic`

    from jupyter_client.manager import AsyncKernelManager

    from autograder.grading.kernel import SandboxedKernelManager

    print("Measuring TensorFlow's import and a kernel's start...", flush=True)
    fixed = {"tf_import": tf_import_seconds(),
             "kernel_start_plain": kernel_start_seconds(AsyncKernelManager),
             "kernel_start_sandboxed": kernel_start_seconds(SandboxedKernelManager)}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        plain, serial, parallel = (Path(tmp) / name for name in ("plain", "serial", "parallel"))
        print(f"Preparing {len(chapters)} chapter(s) x {args.n} submissions in {tmp}", flush=True)
        prepare_plain(plain, chapters, students)
        prepare_course(serial, chapters, students)
        shutil.copytree(serial, parallel)
        plain_seconds = grade_plain(plain, chapters, args.n)
        fixed["cluster_start_serial"], serial_runs = grade_course(serial, chapters, 1, args.n)
        fixed["cluster_start_parallel"], parallel_runs = grade_course(parallel, chapters,
                                                                      args.workers, args.n)
        results = {}
        for ch in chapters:
            p, s1 = plain_seconds[ch] / args.n, serial_runs[ch].seconds / args.n
            sw = parallel_runs[ch].seconds / args.n
            expected = importlib.import_module(f"samples.answers.{ch}").EXPECTED_SCORES
            rows, bad = compare_scores(students, expected, gradebook_scores(plain, ch),
                                       gradebook_scores(serial, ch), gradebook_scores(parallel, ch))
            tf = uses_tensorflow(ch)
            results[ch] = {
                "plain": p, "serial": s1, "parallel": sw, "serial_over_plain": s1 / p,
                "parallel_gain": s1 / sw, "parallel_over_plain": p / sw, "tensorflow": tf,
                "stages": stages(serial_runs[ch], parallel_runs[ch],
                                 fixed["kernel_start_sandboxed"], fixed["tf_import"], tf),
                "scores": rows, "disagreements": bad,
                "targets": {"serial": s1 / p <= SERIAL_TARGET,
                            "parallel": s1 / sw >= PARALLEL_TARGET}}
    report(chapters, students, args.workers, fixed, results)
    hours = projection(chapters, args.workers, results)
    if args.json:
        args.json.write_text(json.dumps({
            "n": args.n, "workers": args.workers, "cpu_count": os.cpu_count(),
            "kinds": kind_counts(args.n), "fixed_seconds": fixed, "chapters": results,
            "projection_hours": hours,
            "units": "seconds per notebook, wall clock"}, indent=2) + "\n")
        print(f"\nFigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
