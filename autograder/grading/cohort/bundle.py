"""Here, on the grading machine: the assignment and each submission as data a worker can grade.

The bundle holds the assignment (its definition, config and non-notebook files: no student's
data, no solution); a submission is read into memory without following anything; both are
fingerprinted so that a later run grades only what changed.
"""

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox.files import open_regular

DEFAULT_MAX_MB = 100        # the largest submission sent to a worker, unless the command says


@dataclass
class Bundle:
    """Everything a worker needs besides the submission: no student's data, no solution.
    Sent to the workers (pickled by Dask), so only plain data."""

    chapter: str
    course_id: str
    config_text: str
    seed_db: bytes                   # SQLite gradebook with the assignment's definition only
    source_files: dict[str, bytes]   # non-notebook files of source/<chapter>/ (relative -> bytes)
    definition: str                  # hash of the above: a change regrades every submission


def copy_definition(db_url: str, seed_url: str, chapter: str) -> None:
    """Copy the assignment's definition (notebooks, cells, points, checksums) to another
    gradebook. Raises nbgrader's MissingEntry when the assignment was never generated."""
    from nbgrader.api import Gradebook
    from sqlalchemy import text

    with Gradebook(db_url) as src:
        assignment = src.find_assignment(chapter)
        version = src.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
        _stamp(seed_url, str(version))
        with Gradebook(seed_url) as dst:
            _copy_assignment(dst, chapter, assignment)


def _stamp(sqlite_url: str, version: str) -> None:
    """Stamp a new SQLite gradebook with the course gradebook's schema version. nbgrader stamps
    a new one itself by running `alembic heads` in a process of its own, which costs seconds on
    every command; the seed's schema is the course's, so its stamp is too."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (version,))
        db.commit()


def _copy_assignment(dst: Any, chapter: str, assignment: Any) -> None:
    """The assignment's notebooks and cells (nbgrader's `Assignment`) into the gradebook `dst`."""
    dst.update_or_create_assignment(chapter, duedate=assignment.duedate)
    for nb in assignment.notebooks:
        dst.update_or_create_notebook(nb.name, chapter, kernelspec=nb.kernelspec)
        for cell in nb.grade_cells:
            dst.update_or_create_grade_cell(cell.name, nb.name, chapter,
                                            max_score=cell.max_score,
                                            cell_type=cell.cell_type)
        for cell in nb.solution_cells:
            dst.update_or_create_solution_cell(cell.name, nb.name, chapter)
        for cell in nb.task_cells:
            dst.update_or_create_task_cell(cell.name, nb.name, chapter,
                                           max_score=cell.max_score,
                                           cell_type=cell.cell_type)
        for cell in nb.source_cells:
            dst.update_or_create_source_cell(cell.name, nb.name, chapter,
                                             cell_type=cell.cell_type, locked=cell.locked,
                                             source=cell.source, checksum=cell.checksum)


def make_bundle(root: str | os.PathLike[str], config: Any, chapter: str) -> Bundle:
    """The bundle of `chapter` in the course at `root` (its loaded nbgrader `config`)."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import find_all_files

    coursedir = CourseDirectory(config=config)
    with tempfile.TemporaryDirectory(prefix="autograder-seed-") as tmp:
        seed = Path(tmp) / "gradebook.db"
        copy_definition(coursedir.db_url, f"sqlite:///{seed}", chapter)
        seed_db = seed.read_bytes()
    source = Path(coursedir.format_path(coursedir.source_directory, ".", chapter))
    source_files = {}
    for path in sorted(find_all_files(str(source), coursedir.ignore + ["*.ipynb"])):
        source_files[os.path.relpath(path, source)] = Path(path).read_bytes()
    config_text = (Path(root) / "nbgrader_config.py").read_text()
    digest = hashlib.sha256()
    parts: list[str | bytes] = [chapter, config_text, _definition_rows(coursedir.db_url, chapter),
                                *sorted(source_files),
                                *(source_files[k] for k in sorted(source_files))]
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return Bundle(chapter, coursedir.course_id, config_text, seed_db, source_files,
                  digest.hexdigest())


def _definition_rows(db_url: str, chapter: str) -> str:
    """The assignment's definition as text (the seed file's bytes vary from run to run)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        assignment = gb.find_assignment(chapter)
        rows = [str(assignment.duedate)]
        for nb in sorted(assignment.notebooks, key=lambda n: n.name):
            rows.append(f"notebook {nb.name}")
            rows += sorted(f"grade {c.name} {c.max_score} {c.cell_type}" for c in nb.grade_cells)
            rows += sorted(f"source {c.name} {c.checksum} {c.locked}" for c in nb.source_cells)
            rows += sorted(f"task {c.name} {c.max_score}" for c in nb.task_cells)
        return "\n".join(rows)


# ----------------------------------------------------------------------------------------------
# One submission, read here without following anything.

class TooLarge(Exception):
    """A submission bigger than the limit on what is sent to a worker."""


def students_of(coursedir: Any, chapter: str) -> list[str]:
    """The students with a submitted/<student>/<chapter> entry (a link is listed, then refused)."""
    top = Path(coursedir.root) / coursedir.submitted_directory
    if not top.is_dir():
        return []
    return sorted(entry.name for entry in os.scandir(top)
                  if os.path.lexists(os.path.join(entry.path, chapter)))


def read_submission(folder: str | os.PathLike[str], max_bytes: int) -> dict[str, bytes]:
    """The regular files under `folder` as {relative path: bytes}. The folder was checked by
    `submission_problems` first; each file is opened without following a link and must still be
    a regular file once open (`open_regular`)."""
    files: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            with open_regular(path) as handle:
                total += os.fstat(handle.fileno()).st_size
                if total > max_bytes:
                    raise TooLarge(f"over {max_bytes >> 20} MB")
                files[os.path.relpath(path, folder)] = handle.read(max_bytes + 1)
    return files


def fingerprint(files: dict[str, bytes], bundle: Bundle) -> str:
    """What a submission was graded from: its files and the assignment's definition."""
    digest = hashlib.sha256(bundle.definition.encode())
    for name in sorted(files):
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()
