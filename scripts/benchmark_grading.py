"""Plain nbgrader against the course's grading command, side by side: whole commands timed.

    .venv/bin/python scripts/benchmark_grading.py [--sizes 8,32,128] [--no-stages] [--json PATH]
                                                  [CHAPTER ...]

For each chapter (default: all, in course order) and each size N (default 8 and 32) it makes N
submissions from the sample students (3/8 correct, 3/8 partial, 1/8 untouched, 1/8 tamper: wrong
answers plus a cell that makes every test pass in the student's own kernel) and grades them three
ways, each in a fresh scratch copy of the course, each ONE WHOLE COMMAND in its own process, timed
as an instructor waits for it (imports, the cluster's start and the sandbox checks included):

- plain: `nbgrader autograde CHAPTER --force` with nbgrader's default preprocessors, so the tests
  run in the student's own, unsandboxed kernel (a minimal config written here);
- serial: `python -m autograder grade CHAPTER --force --workers 1`;
- all cores: `python -m autograder grade CHAPTER --force`, the command's default worker count
  (printed: the count the command says it started).

It prints the three times in seconds, serial/plain and all/plain (time ratios: <= 1.00 is no
slower than plain nbgrader) and all cores' throughput gain over plain (plain s / all-cores s);
the targets of issue 22, met or NOT MET (the default command / plain <= 1.2 below 32 notebooks
and <= 1.0 from 32; a Keras chapter's serial / plain <= 1.0 from 32; a NumPy chapter on all
cores >= 1.8x plain's throughput at the largest size run); and whether the scores agree: every
submission that does not tamper must get its expected score from plain nbgrader and from both
course commands (read from the gradebooks); for the tampering ones it shows what each gave.

Unless --no-stages, it also shows where the course's time goes (kernel start, TensorFlow import,
the notebook's cells, the trusted verdict, nbgrader's bookkeeping), from one extra in-process
serial run per chapter at the smallest size (the cohort engine on a one-worker cluster, whose
start is shown as its own figure). That table is not part of the whole-command ratios.

It exits 0 unless something crashed; targets not met do not fail it. It measures wall-clock
time: run it on a quiet machine. `--json PATH` also writes every figure as JSON.
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
SMALL_TARGET, LARGE_TARGET, LARGE_FROM = 1.2, 1.0, 32   # all cores / plain, time ratio
KERAS_SERIAL_TARGET, NUMPY_GAIN_TARGET = 1.0, 1.8
IMPORTS_TF = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras)\b", re.MULTILINE)
STARTED = re.compile(r"Starting (\d+) local worker")
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
    return {f"bench-{kind}-{i:03d}": kind
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


def default_worker_count():
    """The course's default worker count, computed as its cluster does (when the command does
    not say)."""
    from autograder.grading.cohort import cluster

    sized = getattr(cluster, "default_workers", None)
    return sized() if sized else os.cpu_count() or 1


# ----------------------------------------------------------------------------------------------
# The scratch courses and the commands, each timed whole.

def plain_nbgrader(course, *args):
    """`nbgrader ARGS` in the plain course; its wall-clock seconds."""
    env = nbgrader_env()
    env.pop("PYTHONPATH", None)         # nothing of the course is importable
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=7200)
    if result.returncode:
        raise RuntimeError(f"plain nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return time.perf_counter() - start


def course_grade(course, chapter, *args):
    """`python -m autograder grade CHAPTER --force ARGS` in the course copy, as an instructor runs
    it there: (wall-clock seconds, the number of workers it started)."""
    env = nbgrader_env()
    env["PYTHONPATH"] = str(course)     # the copy's own autograder package
    command = [sys.executable, "-m", "autograder", "grade", chapter, "--force", *args]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True,
                            timeout=7200)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):             # 1: graded, but not every submission
        raise RuntimeError(f"{' '.join(command[1:])} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    if result.returncode == 1:
        print(f"    not every submission graded:\n{result.stdout[-2000:]}", flush=True)
    started = STARTED.search(result.stderr)
    return seconds, int(started.group(1)) if started else default_worker_count()


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


def compare_scores(students, expected, plain, serial, every):
    rows, disagreements = {}, []
    for student, kind in students.items():
        got = {"expected": expected[f"sample-{kind}"], "plain": plain.get(student),
               "course_serial": serial.get(student), "course_all": every.get(student)}
        rows[student] = got
        if kind != "tamper" and len(set(got.values())) != 1:
            disagreements.append(student)
        if kind == "tamper" and {got["course_serial"], got["course_all"]} != {got["expected"]}:
            disagreements.append(student)     # the course must not be fooled
    return rows, disagreements


def whole_commands(chapters, n, tmp):
    """{chapter: figures} for N submissions per chapter, three scratch courses under tmp."""
    students = make_students(n)
    plain, serial, every = (Path(tmp) / name for name in ("plain", "serial", "all"))
    kinds = ", ".join(f"{c} {k}" for k, c in kind_counts(n).items())
    print(f"\n{n} submissions per chapter ({kinds}), scratch courses in {tmp}", flush=True)
    prepare_plain(plain, chapters, students)
    prepare_course(serial, chapters, students)
    shutil.copytree(serial, every)
    results = {}
    for ch in chapters:
        p = plain_nbgrader(plain, "autograde", ch, "--force")
        s, _ = course_grade(serial, ch, "--workers", "1")
        a, workers = course_grade(every, ch)
        expected = importlib.import_module(f"samples.answers.{ch}").EXPECTED_SCORES
        rows, bad = compare_scores(students, expected, gradebook_scores(plain, ch),
                                   gradebook_scores(serial, ch), gradebook_scores(every, ch))
        results[ch] = {"plain": p, "serial": s, "all": a, "workers": workers,
                       "serial_over_plain": s / p, "all_over_plain": a / p, "all_gain": p / a,
                       "students": students, "scores": rows, "disagreements": bad}
        print(f"  {ch:20s} plain {p:6.1f} s, serial {s:6.1f} s, all cores ({workers} workers) "
              f"{a:6.1f} s", flush=True)
    return results


# ----------------------------------------------------------------------------------------------
# Where the course's time goes: one in-process serial run (not part of the ratios).

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


def waited(o):
    """The verdict's time on the notebook's path: StartTrustedVerdict runs it alongside the
    kernel, TrustedVerdict waits for what is left."""
    return o.stages.get("StartTrustedVerdict", 0.0) + o.stages.get("TrustedVerdict", 0.0)


def stage_run(chapters, n, tmp):
    """(fixed costs, {chapter: seconds per notebook of each stage}) of the cohort engine on a
    one-worker cluster in this process, its start timed apart."""
    from jupyter_client.manager import AsyncKernelManager

    from autograder.grading.cohort.cluster import Cluster
    from autograder.grading.cohort.progress import Status
    from autograder.grading.cohort.run import grade
    from autograder.grading.kernel import SandboxedKernelManager

    print(f"\nWhere the time goes: one in-process serial run, {n} submissions per chapter",
          flush=True)
    fixed = {"tf_import": tf_import_seconds(),
             "kernel_start_plain": kernel_start_seconds(AsyncKernelManager),
             "kernel_start_sandboxed": kernel_start_seconds(SandboxedKernelManager)}
    course = Path(tmp) / "stages"
    prepare_course(course, chapters, make_students(n))
    quiet, stages = io.StringIO(), {}
    with Cluster(workers=1) as cluster:
        start = time.perf_counter()
        cluster.client(quiet)          # its worker warms up before it offers itself
        fixed["cluster_start"] = time.perf_counter() - start
        for ch in chapters:
            run = grade(ch, cluster, root=course, force=True, stream=quiet, tty=False)
            done = [o for o in run.results if o.status == Status.GRADED]

            def mean(value, done=done):
                return statistics.fmean(value(o) for o in done) if done else float("nan")

            execute = mean(lambda o: o.stages.get("SandboxedExecute", 0.0))
            wait, worker = mean(waited), mean(lambda o: o.seconds)
            tf_seconds = fixed["tf_import"] if uses_tensorflow(ch) else 0.0
            stages[ch] = {
                "kernel_start": fixed["kernel_start_sandboxed"], "tf_import": tf_seconds,
                "cells": execute - fixed["kernel_start_sandboxed"] - tf_seconds,
                "verdict": mean(lambda o: o.stages.get("verdict process", waited(o))),
                "verdict_wait": wait, "nbgrader": worker - execute - wait, "worker": worker,
                "dispatch": run.seconds / max(len(run.results), 1) - worker}
            print(f"  {ch:20s} {run.seconds:6.1f} s in the engine", flush=True)
    return fixed, stages


# ----------------------------------------------------------------------------------------------
# Figures.

def targets(chapters, sizes, results):
    """The issue's targets, each {chapter, size, what, value, limit, met}."""
    found = []

    def check(ch, n, what, value, limit, at_most=True):
        found.append({"chapter": ch, "size": n, "what": what, "value": value, "limit": limit,
                      "met": value <= limit if at_most else value >= limit})

    for ch in chapters:
        keras = uses_tensorflow(ch)
        for n in sizes:
            r = results[n][ch]
            check(ch, n, "all/plain", r["all_over_plain"],
                  LARGE_TARGET if n >= LARGE_FROM else SMALL_TARGET)
            if keras and n >= LARGE_FROM:
                check(ch, n, "serial/plain", r["serial_over_plain"], KERAS_SERIAL_TARGET)
        if not keras:
            check(ch, sizes[-1], "all gain", results[sizes[-1]][ch]["all_gain"],
                  NUMPY_GAIN_TARGET, at_most=False)
    return found


def report(chapters, sizes, results, goals, fixed, stages):
    print("\nWhole commands, wall-clock seconds (serial = `--workers 1`, all = the default "
          "worker count;\nratios: time / plain's time, <= 1.00 is no slower; gain = plain s / "
          "all s, throughput over plain)")
    print(f"{'chapter':20s} {'TF':>3s} {'n':>4s} {'plain':>7s} {'serial':>7s} {'all':>7s} "
          f"{'wkrs':>4s} {'serial/plain':>12s} {'all/plain':>9s} {'all gain':>8s}")
    for ch in chapters:
        for n in sizes:
            r = results[n][ch]
            print(f"{ch:20s} {'yes' if uses_tensorflow(ch) else 'no':>3s} {n:4d} "
                  f"{r['plain']:7.1f} {r['serial']:7.1f} {r['all']:7.1f} {r['workers']:4d} "
                  f"{r['serial_over_plain']:12.2f} {r['all_over_plain']:9.2f} "
                  f"{r['all_gain']:7.2f}x")

    print(f"\nTargets (issue 22): all/plain <= {SMALL_TARGET} below {LARGE_FROM} notebooks and "
          f"<= {LARGE_TARGET} from {LARGE_FROM};\nKeras serial/plain <= {KERAS_SERIAL_TARGET} "
          f"from {LARGE_FROM}; NumPy all gain >= {NUMPY_GAIN_TARGET}x at the largest size run")
    for g in goals:
        sign = ">=" if g["what"] == "all gain" else "<="
        print(f"  {g['chapter']:20s} n={g['size']:<4d} {g['what']:12s} {g['value']:5.2f} {sign} "
              f"{g['limit']:4.2f}  {'met' if g['met'] else 'NOT MET'}")

    print("\nScores (plain nbgrader, course serial / all cores, expected):")
    for ch in chapters:
        for n in sizes:
            r = results[n][ch]
            students, rows, bad = r["students"], r["scores"], r["disagreements"]
            fair = sum(students[s] != "tamper" for s in rows)
            print(f"  {ch:20s} n={n:<4d} " + (f"{len(bad)} DISAGREE (listed)" if bad else
                                              f"all agree with the expected score on the {fair} "
                                              f"submissions that do not tamper"))
            for student in bad:
                got = rows[student]
                print(f"    {student:20s} plain {got['plain']}, course {got['course_serial']} / "
                      f"{got['course_all']}, expected {got['expected']}")
            tampered = [rows[s] for s in rows if students[s] == "tamper" and s not in bad]
            if tampered:
                fooled = sum(got["plain"] != got["expected"] for got in tampered)
                print(f"    {len(tampered)} tampering: the course gave each the expected "
                      f"{tampered[0]['expected']}; plain nbgrader was fooled by {fooled} "
                      f"(gave {sorted({got['plain'] for got in tampered})})")
    if not stages:
        return
    print(f"\nWhere the course's time goes, NOT part of the ratios above: one in-process serial "
          f"run at n={sizes[0]},\nseconds per notebook; its cluster started in "
          f"{fixed['cluster_start']:.1f} s (sandbox self-test, imports).\nMeasured once: "
          f"TensorFlow import {fixed['tf_import']:.2f} s, kernel start "
          f"{fixed['kernel_start_sandboxed']:.2f} s sandboxed ({fixed['kernel_start_plain']:.2f}"
          f" s plain).")
    print(f"{'chapter':20s} {'kernel':>7s} {'TF imp':>7s} {'cells':>7s} {'verdict':>8s} "
          f"{'v. wait':>8s} {'nbgrader':>9s} {'worker':>7s} {'dispatch':>9s}")
    for ch in chapters:
        s = stages[ch]
        print(f"{ch:20s} {s['kernel_start']:7.2f} {s['tf_import']:7.2f} {s['cells']:7.2f} "
              f"{s['verdict']:8.2f} {s['verdict_wait']:8.2f} {s['nbgrader']:9.2f} "
              f"{s['worker']:7.2f} {s['dispatch']:9.2f}")
    print("  kernel + TF imp + cells = SandboxedExecute, the student's kernel (TF imp assumes "
          "every notebook of\n  a Keras chapter imports TensorFlow there: an untouched one does "
          "not; cells include Keras training).\n  verdict = the verdict process (the student's "
          "code reloaded, its TF import, the checks, Keras training\n  in the judge); v. wait = "
          "what it adds to the notebook's time (less when it runs alongside the kernel).\n  "
          "nbgrader = the other preprocessors and the worker's scratch course; worker = kernel + "
          "TF imp + cells\n  + v. wait + nbgrader. dispatch = Dask, reading submissions, writing "
          "the gradebook.")


def host_proof():
    """`python -m autograder doctor --cached`, as `make grade` runs it before grading: the
    sandbox's proof of this host, kept for every later command (proven here if none is kept
    yet). Its seconds are once per host, boot and code version, not per command: reported apart.
    """
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "doctor", "--cached"], cwd=ROOT,
                          env={**nbgrader_env(), "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=600)
    seconds = time.perf_counter() - start
    kept = "kept proof" in done.stdout
    print(f"Sandbox proof of this host: {'kept, checked' if kept else 'proven'} in "
          f"{seconds:.1f} s (once per host, boot and code version; exit {done.returncode})",
          flush=True)
    return {"seconds": seconds, "kept": kept, "exit": done.returncode}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every chapter")
    parser.add_argument("--sizes", default="8,32",
                        help="submissions per chapter, comma-separated (default 8,32)")
    parser.add_argument("--n", type=int, help="one size: the same as --sizes N")
    parser.add_argument("--no-stages", action="store_true",
                        help="skip the in-process run that shows where the course's time goes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    chapters = [ch for ch in CHAPTERS if ch in args.chapters] if args.chapters else CHAPTERS
    unknown = set(args.chapters) - set(CHAPTERS)
    try:
        sizes = sorted({args.n} if args.n is not None else
                       {int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        sizes = []
    if unknown or not sizes or sizes[0] < 1:
        parser.error(f"unknown chapter(s) {sorted(unknown)}" if unknown else
                     "--sizes takes whole numbers of at least 1, e.g. 8,32,128")
    os.environ["PATH"] = f"{BIN}:{os.environ['PATH']}"      # nbgrader runs `alembic`

    results, size_seconds, fixed, stages = {}, {}, {}, {}
    proof = host_proof()
    for n in sizes:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"bench-grading-{n}-") as tmp:
            results[n] = whole_commands(chapters, n, tmp)
        size_seconds[n] = time.perf_counter() - start
        print(f"  n={n}: {size_seconds[n]:.0f} s in all (preparation and three commands per "
              f"chapter)", flush=True)
    if not args.no_stages:
        with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
            fixed, stages = stage_run(chapters, sizes[0], tmp)
    goals = targets(chapters, sizes, results)
    report(chapters, sizes, results, goals, fixed, stages)
    if args.json:
        args.json.write_text(json.dumps({
            "sizes": sizes, "cpu_count": os.cpu_count(), "seconds_per_size": size_seconds,
            "host_proof": proof,
            "kinds": {n: kind_counts(n) for n in sizes},
            "whole_commands": {ch: {n: {k: v for k, v in results[n][ch].items()
                                        if k != "students"} for n in sizes} for ch in chapters},
            "targets": goals, "stages_fixed_seconds": fixed, "stages_per_notebook": stages,
            "units": "whole commands: wall-clock seconds per command; stages: seconds per "
                     "notebook"}, indent=2) + "\n")
        print(f"\nFigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
