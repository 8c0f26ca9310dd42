"""Read the student's code out of a .py file or a notebook, leaving the course's test cells out.

Also the one place of the test-cell vocabulary: which cell is a test cell, and how its grade id
names the exercise's function (`test_<function>`, as the source notebooks write it)."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEST_PREFIX = "test_"    # a test cell's grade id is TEST_PREFIX + the function's name


class SourceError(Exception):
    """The file cannot be read as code."""


def is_test_cell(cell: Mapping[str, Any]) -> bool:
    """An nbgrader autograder-test cell: graded, not a solution. Its verdict comes from us."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def exercise_name(grade_id: str) -> str:
    """The function a test cell's grade id names: `test_softmax` -> `softmax`."""
    return grade_id.removeprefix(TEST_PREFIX)


def grade_id_of(name: str) -> str:
    """The grade id of the test cell of the function `name`: `softmax` -> `test_softmax`."""
    return f"{TEST_PREFIX}{name}"


def notebook_code_cells(nb: Mapping[str, Any]) -> list[str]:
    """Sources of the code cells a student's code lives in (every code cell but the tests)."""
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        source = cell.get("source", "")
        cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def load_code_cells(path: str | Path) -> list[str]:
    """[code, ...] from a .py file (one cell) or an .ipynb notebook (its code cells)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from None
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"{path}: not a valid notebook (invalid JSON: {exc})") from None
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise SourceError(f"{path}: not a valid notebook (no list of cells)")
        return notebook_code_cells(nb)
    if path.suffix == ".py":
        try:
            compile(text, str(path), "exec")
        except SyntaxError as exc:
            raise SourceError(f"{path}: syntax error on line {exc.lineno}: {exc.msg}") from None
        return [text]
    raise SourceError(f"{path}: expected a .py file or an .ipynb notebook")
