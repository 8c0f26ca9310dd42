"""A scratch copy of the course and the nbgrader command run in it, for the end-to-end tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COURSE_FILES = ("nbgrader_config.py", "autograder", "solutions", "source")


def copy_course(dest, extra=()):
    """The parts of the course grading needs (plus `extra`), copied into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*COURSE_FILES, *extra):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def nbgrader_env():
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    env.pop("NBGRADER_DB_URL", None)    # the copy's own gradebook, never the real one
    return env


def nbgrader(course, *args, check=True, db_url=None):
    """Run `nbgrader ARGS` in the course copy; fail the test with its log when check is set.

    The gradebook is the copy's own SQLite file, or the database at `db_url` (NBGRADER_DB_URL).
    """
    env = nbgrader_env()
    if db_url is not None:
        env["NBGRADER_DB_URL"] = db_url
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert not check or result.returncode == 0, \
        f"nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result
