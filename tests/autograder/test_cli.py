"""`python -m autograder`: list and check, with the exit codes students and instructors rely on."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.checks import CHAPTERS, all_checks

ROOT = Path(__file__).resolve().parents[2]
SHARED_EXERCISES = ROOT.parent / "shared" / "exercises.md"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_list_prints_every_exercise_with_its_signature():
    result = cli("list")
    assert result.returncode == 0
    for exercise_id, check in all_checks().items():
        assert re.search(rf"^{re.escape(exercise_id)}\s+{re.escape(check.signature)}\s+\d+ "
                         rf"points?$", result.stdout, re.M), exercise_id


def test_ids_and_signatures_match_the_course_interface():
    if not SHARED_EXERCISES.exists():
        pytest.skip("the shared exercise list is not beside this checkout")
    table = dict(re.findall(r"^\| `([a-z_]+\.[A-Za-z_]+)` \| `([^`]+)` \|",
                            SHARED_EXERCISES.read_text(), re.M))
    checks = all_checks()
    for exercise_id, signature in table.items():
        if exercise_id.split(".")[0] in CHAPTERS:
            assert exercise_id in checks, f"{exercise_id} has no check"
            assert checks[exercise_id].signature == signature


def test_check_accepts_correct_code(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text("import numpy as np\nfrom scipy.special import softmax as s\n"
                 "def softmax(z):\n    return s(np.asarray(z, dtype=float), axis=-1)\n")
    result = cli("check", "softmax.softmax", str(f))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepted" in result.stdout


def test_check_rejects_wrong_code_and_says_why(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text("import numpy as np\ndef softmax(z):\n    e = np.exp(z)\n    return e / e.sum()\n")
    result = cli("check", "softmax.softmax", str(f))
    assert result.returncode == 1
    assert "rejected" in result.stdout and "expected:" in result.stdout


def test_check_reads_notebooks_without_running_their_test_cells(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "import numpy as np\n", "outputs": []},
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade": False}},
         "source": ["def softmax(z):\n", "    z = np.asarray(z, dtype=float)\n",
                    "    e = np.exp(z - z.max(-1, keepdims=True))\n",
                    "    return e / e.sum(-1, keepdims=True)\n"], "outputs": []},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "solution": False}},
         "source": "import os\nos._exit(3)\n", "outputs": []},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    f = tmp_path / "mine.ipynb"
    f.write_text(json.dumps(nb))
    result = cli("check", "softmax.softmax", str(f))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("setup, args", [
    ("missing file", ("softmax.softmax", "does-not-exist.py")),
    ("unknown id", ("softmax.nope", "FILE")),
    ("invalid notebook JSON", ("softmax.softmax", "BADNB")),
    ("syntax error", ("softmax.softmax", "BADPY")),
    ("function not defined", ("softmax.softmax", "EMPTY")),
    ("no arguments", ()),
])
def test_usage_errors_exit_2(tmp_path, setup, args):
    files = {"FILE": "x = 1\n", "BADNB": "{not json", "BADPY": "def f(:\n", "EMPTY": "x = 1\n"}
    real = []
    for a in args:
        if a in files:
            path = tmp_path / ("bad.ipynb" if a == "BADNB" else f"{a.lower()}.py")
            path.write_text(files[a])
            real.append(str(path))
        else:
            real.append(a)
    result = cli("check", *real) if args else cli()
    assert result.returncode == 2, (setup, result.stdout, result.stderr)
    assert result.stderr.strip()


def test_a_file_whose_code_ends_the_process_cannot_be_loaded(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text("import os\nos._exit(0)\ndef softmax(z):\n    return z\n")
    result = cli("check", "softmax.softmax", str(f))
    assert result.returncode == 2 and "could not be loaded" in result.stderr


def test_one_entry_lists_every_command_and_each_prints_its_own_help(capsys):
    from autograder import cli

    assert cli.main(["--help"]) == 0
    top = capsys.readouterr().out
    for command in ("list", "catalog", "check", "doctor", "grade", "report"):
        assert re.search(rf"^    {command}\s+\S", top, re.M), (command, top)
        assert cli.main([command, "--help"]) == 0
        own = capsys.readouterr().out
        assert own.startswith(f"usage: python -m autograder {command}"), own


@pytest.mark.parametrize("args", [
    ("nope",), ("grade",), ("grade", "stability", "--workers", "0"),
    ("grade", "stability", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"),
    ("doctor", "--no-such-option"), ("report", "--no-such-option"),
])
def test_a_usage_error_of_any_command_exits_2(capsys, args):
    from autograder import cli

    assert cli.main(list(args)) == 2
    assert "error:" in capsys.readouterr().err
