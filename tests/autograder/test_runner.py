"""The separate process that runs student code: what it returns, and what it survives."""

import subprocess
import sys

import numpy as np

from autograder.sandbox.runner import Call, Reason, run_calls


def test_values_cross_as_plain_data():
    code = ("import numpy as np\ndef f(x):\n"
            "    return np.asarray(x) * 2, float('inf'), [1, 'a', None]\n")
    report = run_calls([code], [Call("k", "f", args=(np.array([[1.0, np.nan]]),))])
    out = report.outcomes["k"]
    assert out.ok, out.error
    arr, inf, lst = out.value
    assert isinstance(arr, np.ndarray) and arr.shape == (1, 2) and np.isnan(arr[0, 1])
    assert inf == float("inf") and lst == [1, "a", None]


def test_infinite_loop_is_stopped_and_later_calls_still_run():
    code = "def slow(x):\n    while True:\n        pass\ndef fast(x):\n    return x + 1\n"
    report = run_calls([code], [Call("a", "slow", args=(1,), timeout=1.0),
                                Call("b", "fast", args=(1,))])
    assert report.outcomes["a"].reason is Reason.TIMEOUT
    assert report.outcomes["b"].ok and report.outcomes["b"].value == 2
    assert any("time limit" in line for line in report.log)


def test_os_exit_in_a_call_is_a_crash_not_a_pass():
    code = "import os\ndef bye(x):\n    os._exit(0)\ndef ok(x):\n    return x\n"
    report = run_calls([code], [Call("a", "bye", args=(1,)), Call("b", "ok", args=(3,))])
    assert report.outcomes["a"].reason is Reason.CRASH
    assert report.outcomes["b"].value == 3


def test_os_exit_while_loading_fails_every_call():
    report = run_calls(["import os\nos._exit(0)\n"], [Call("a", "f"), Call("b", "g")])
    assert {out.reason for out in report.outcomes.values()} == {Reason.NOT_LOADED}


def test_broken_cells_do_not_stop_the_rest():
    cells = ["def f(x):\n    return x\n", "this is not python", "1/0", "%matplotlib inline",
             "def g(x):\n    return -x\n"]
    report = run_calls(cells, [Call("a", "f", args=(2,)), Call("b", "g", args=(2,))])
    assert report.outcomes["a"].value == 2 and report.outcomes["b"].value == -2
    assert [e["cell"] for e in report.cell_errors][:2] == [2, 3]


def test_missing_function_is_reported_as_missing():
    report = run_calls(["x = 1\n"], [Call("a", "softmax", args=(1,))])
    assert report.outcomes["a"].reason is Reason.MISSING


def test_lying_objects_are_refused():
    code = ("import numpy as np\n"
            "class Liar:\n    def __eq__(self, other):\n        return True\n"
            "    def __array__(self, *a, **k):\n        raise RuntimeError('no')\n"
            "class Sub(np.ndarray):\n    pass\n"
            "def liar(x):\n    return Liar()\n"
            "def sub(x):\n    return np.zeros(3).view(Sub)\n")
    report = run_calls([code], [Call("a", "liar", args=(1,)), Call("b", "sub", args=(1,))])
    assert report.outcomes["a"].reason is Reason.UNREADABLE and "Liar" in report.outcomes["a"].error
    assert report.outcomes["b"].type.endswith("Sub")
    assert type(report.outcomes["b"].value) is np.ndarray   # carried as a plain array


def test_mutation_and_warnings_are_reported():
    code = ("import numpy as np\n"
            "def f(x):\n    x *= 2\n    return np.exp(np.array([1000.0]))\n")
    report = run_calls([code], [Call("a", "f", args=(np.ones(3),))])
    out = report.outcomes["a"]
    assert out.mutated == [0]
    assert any("overflow" in w for w in out.warnings)


def test_student_code_cannot_reach_the_course_packages():
    code = ("def f(x):\n"
            "    try:\n        import solutions\n        return 'imported'\n"
            "    except ImportError:\n        return 'refused'\n")
    report = run_calls([code], [Call("a", "f", args=(0,))])
    assert report.outcomes["a"].value == "refused"


def test_output_flood_does_not_reach_the_result_channel():
    code = ("import sys\nprint('{\"event\": \"done\"}')\n"
            "def f(x):\n    print('x' * 10000)\n    return 5\n")
    report = run_calls([code], [Call("a", "f", args=(0,))])
    assert report.outcomes["a"].value == 5


def test_the_runner_and_the_cli_need_no_jupyter():
    """The checker's process side is the standard library and NumPy: `python -m autograder
    check` works where Jupyter is not installed (here: made unimportable)."""
    code = ("import sys\n"
            "for name in ('jupyter_client', 'nbformat', 'nbgrader', 'nbconvert', 'traitlets'):\n"
            "    sys.modules[name] = None\n"
            "import autograder.sandbox.runner, autograder.cli, autograder.sandbox\n"
            "print('imported')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr
