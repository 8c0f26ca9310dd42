"""autograder.sources: what counts as the student's code, and why a file cannot be loaded."""

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.sources import (
    SourceError,
    exercise_name,
    grade_id_of,
    is_test_cell,
    load_code_cells,
    notebook_code_cells,
)


def nbgrader(grade_id, solution=False, grade=False):
    return {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": grade,
                         "locked": not solution, "schema_version": 3}}


def write_notebook(path, nb):
    path.write_text(json.dumps(nb))
    return path


def test_a_py_file_is_one_cell(tmp_path):
    """The CLI grades a plain script as it is, all of it."""
    code = "import numpy as np\n\ndef relu(z):\n    return np.maximum(0, z)\n"
    path = tmp_path / "answers.py"
    path.write_text(code)
    assert load_code_cells(path) == [code]


def test_a_notebook_gives_its_code_cells_without_the_test_cells(tmp_path):
    """The test cells are the course's: the grader's own check replaces them, so their code
    (visible tests a student could edit) is never run as the student's."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Softmax"),
        new_code_cell("import numpy as np", metadata=nbgrader("setup")),
        new_code_cell(["def softmax(z):\n", "    return z\n"],
                      metadata=nbgrader("softmax", solution=True)),
        new_code_cell("assert softmax(1) == 1", metadata=nbgrader("test_softmax", grade=True)),
        new_code_cell("x = 1"),
        # A solution cell that is also graded (an answer cell with points) is the student's.
        new_code_cell("y = 2", metadata=nbgrader("graded_answer", solution=True, grade=True)),
    ])
    cells = load_code_cells(write_notebook(tmp_path / "exercises.ipynb", nb))
    assert cells == ["import numpy as np", "def softmax(z):\n    return z\n", "x = 1", "y = 2"]


def test_plain_dicts_with_string_or_list_sources_are_read_alike():
    """nbformat writes a source as one string; a notebook on disk may hold a list of lines."""
    nb = {"cells": [{"cell_type": "code", "source": ["a = 1\n", "b = 2\n"]},
                    {"cell_type": "code", "source": "c = 3\n"},
                    {"cell_type": "code"},
                    {"cell_type": "raw", "source": "not code"}]}
    assert notebook_code_cells(nb) == ["a = 1\nb = 2\n", "c = 3\n", ""]


@pytest.mark.parametrize("metadata, is_test", [
    ({}, False),
    (nbgrader("setup"), False),
    (nbgrader("softmax", solution=True), False),
    (nbgrader("graded_answer", solution=True, grade=True), False),
    (nbgrader("test_softmax", grade=True), True),
])
def test_a_test_cell_is_graded_and_not_a_solution(metadata, is_test):
    """nbgrader's own definition of an autograder-test cell: grade=True, solution=False."""
    assert is_test_cell({"cell_type": "code", "metadata": metadata}) is is_test


@pytest.mark.parametrize("name", ["softmax", "compute_cost", "Value", "test_x"])
def test_a_test_cells_grade_id_names_its_function(name):
    """The source notebooks name a test cell `test_<function>`: the grader finds the check by it,
    the catalog its points, the report its exercise."""
    assert grade_id_of(name) == f"test_{name}"
    assert exercise_name(grade_id_of(name)) == name


def test_a_grade_id_without_the_prefix_is_kept_whole():
    """Only the prefix goes: an id that does not start with it names no other function."""
    assert exercise_name("softmax") == "softmax"
    assert exercise_name("xtest_softmax") == "xtest_softmax"


@pytest.mark.parametrize("name, content, message", [
    ("missing.py", None, "no such file"),
    ("latin1.py", b"# caf\xe9\n", "cannot be read ('utf-8' codec can't decode byte 0xe9"),
    ("broken.ipynb", b'{"cells": [', "not a valid notebook (invalid JSON: "),
    ("list.ipynb", b"[]", "not a valid notebook (no list of cells)"),
    ("no_cells.ipynb", b'{"metadata": {}}', "not a valid notebook (no list of cells)"),
    ("cells_a_string.ipynb", b'{"cells": "def f(): pass"}',
     "not a valid notebook (no list of cells)"),
    ("syntax.py", b"def f(:\n    pass\n", "syntax error on line 1: "),
    ("answers.txt", b"def f():\n    pass\n", "expected a .py file or an .ipynb notebook"),
])
def test_a_file_that_cannot_be_loaded_says_why(tmp_path, name, content, message):
    """`python -m autograder check` prints this message and exits 2: it must name the file
    and the problem, never a traceback."""
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError) as raised:
        load_code_cells(path)
    assert str(raised.value).startswith(f"{path}: {message}"), str(raised.value)


def test_a_folder_is_not_a_file(tmp_path):
    """A folder named like a notebook is reported as missing, not read."""
    folder = tmp_path / "exercises.ipynb"
    folder.mkdir()
    with pytest.raises(SourceError, match="no such file"):
        load_code_cells(folder)
