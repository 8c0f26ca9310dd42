"""Every source notebook runs clean: its solutions pass its own tests, hidden ones included."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.checks import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]


def grade_ids(nb, kind):
    """The grade ids of the cells nbgrader marks as `kind` ("grade" tests, "solution" answers)."""
    return [cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get(kind)]


@pytest.mark.slow    # a fresh kernel per chapter; the Keras exercises train a model
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_reference_passes_every_test_cell(chapter, tmp_path, monkeypatch):
    # The solution cells are the reference answers, and the hidden tests are left in: a test
    # whose expected value is wrong fails here, before any student's submission meets it.
    nb = nbformat.read(ROOT / "source" / chapter / "exercises.ipynb", as_version=4)
    assert any("### BEGIN HIDDEN TESTS" in cell.source for cell in nb.cells), chapter
    # The kernel inherits the environment: TensorFlow quiet from its first import.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    client = NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{chapter}: a cell of the source notebook fails with its own solution:\n"
                    f"{error}")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            errors = [out for out in cell.outputs if out.output_type == "error"]
            assert errors == [], (chapter, cell.metadata["nbgrader"]["grade_id"])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_solution_cell_has_its_test_cell_in_the_same_order(chapter):
    nb = nbformat.read(ROOT / "source" / chapter / "exercises.ipynb", as_version=4)
    tests = grade_ids(nb, "grade")
    assert tests == [f"test_{name}" for name in grade_ids(nb, "solution")]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_heading_shows_its_points(chapter):
    nb = nbformat.read(ROOT / "source" / chapter / "exercises.ipynb", as_version=4)
    headings = [line for cell in nb.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")]
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if not grading.get("grade"):
            continue
        name, points = grading["grade_id"].removeprefix("test_"), grading["points"]
        shown = f"({points:g} point{'' if points == 1 else 's'})"
        heading = [line for line in headings if f"`{name}(" in line]
        assert len(heading) == 1 and heading[0].endswith(shown), (chapter, name, shown, heading)
