"""Grading time per notebook, per chapter, with the sandbox and without it (the baseline).

    .venv/bin/python scripts/benchmark_grading.py [CHAPTER ...]

For each chapter, grades the four sample submissions with `nbgrader autograde` on a fresh copy of
the course, once sandboxed and once with the sandbox turned off, and prints seconds per notebook
and the ratio. Run it on a quiet machine: it measures wall-clock time.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.checks import CHAPTERS  # noqa: E402
from autograder.sandbox import OPT_OUT_VALUE, OPT_OUT_VARIABLE  # noqa: E402

BIN = Path(sys.executable).parent


def grade_seconds(chapter, sandboxed):
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        course = Path(tmp)
        for name in ("nbgrader_config.py", "autograder", "solutions", "source"):
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, course / name)
        students = sorted(p.name for p in (ROOT / "samples/submitted").iterdir())
        for student in students:
            shutil.copytree(ROOT / "samples/submitted" / student / chapter,
                            course / "submitted" / student / chapter)
        env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
        env.pop("NBGRADER_DB_URL", None)
        if not sandboxed:
            env[OPT_OUT_VARIABLE] = OPT_OUT_VALUE
        run = lambda *args: subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,  # noqa: E731
                                           capture_output=True, text=True, check=True)
        run("generate_assignment", chapter, "--force")
        start = time.perf_counter()
        run("autograde", chapter, "--force")
        return (time.perf_counter() - start) / len(students)


def main(chapters):
    print(f"{'chapter':22s} {'baseline s/nb':>14s} {'sandboxed s/nb':>15s} {'ratio':>7s}")
    for chapter in chapters:
        print(f"{chapter:22s} ", end="", flush=True)
        baseline = grade_seconds(chapter, sandboxed=False)
        print(f"{baseline:14.1f} ", end="", flush=True)
        sandboxed = grade_seconds(chapter, sandboxed=True)
        print(f"{sandboxed:15.1f} {sandboxed / baseline:7.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or CHAPTERS)
