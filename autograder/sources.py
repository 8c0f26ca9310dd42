"""Read the student's code out of a .py file or a notebook, leaving the course's test cells out."""

import json
from pathlib import Path


class SourceError(Exception):
    """The file cannot be read as code."""


def is_test_cell(cell):
    """An nbgrader autograder-test cell: graded, not a solution. Its verdict comes from us."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def notebook_code_cells(nb):
    """Sources of the code cells a student's code lives in (every code cell but the tests)."""
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        source = cell.get("source", "")
        cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def load_code_cells(path):
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
