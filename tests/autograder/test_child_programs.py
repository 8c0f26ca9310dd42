"""The interpreter of graph programs (autograder.checks.backprop_interpreter), the adapter the child
runs it as: how a class is graded by what it does."""

import pytest

from autograder import channel
from autograder.checks import backprop_interpreter
from autograder.checks.backprop_interpreter import run_graph_program
from autograder.sandbox.runner import CHILD_SCRIPT
from solutions.backprop import Value
from tests.autograder.sandboxed_scripts import sandboxed_script

ADAPTER = {"__callable__": "backprop_interpreter.run_graph_program"}


@pytest.fixture
def child(tmp_path):
    """The child script as the sandbox runs it, its `_call` called directly, with the helper
    module it loads for these calls."""
    with sandboxed_script(tmp_path, CHILD_SCRIPT,
                          [channel.__file__, backprop_interpreter.__file__]) as module:
        yield module, module.load_helpers(["backprop_interpreter"])


def test_the_lecture_graph_gives_the_lecture_numbers():
    # J = 1/2 (w x + b - y)^2 at w = 2, b = 8, x = -2, y = 2
    program = [["value", 2.0], ["value", 8.0], ["mul_number", 0, -2.0], ["add", 2, 1],
               ["sub_number", 3, 2.0], ["pow", 4, 2], ["number_mul", 0.5, 5], ["backward", 6]]
    result = run_graph_program(Value, program)
    assert result == {"data": [2.0, 8.0, -4.0, 4.0, 2.0, 4.0, 2.0],
                      "grad": [-4.0, 2.0, 2.0, 2.0, 2.0, 0.5, 1.0]}
    assert all(type(x) is float for x in result["data"] + result["grad"])


def test_every_step_kind_builds_the_operation_it_names():
    program = [["value", 6.0], ["value", 2.0],
               ["add", 0, 1], ["sub", 0, 1], ["mul", 0, 1], ["div", 0, 1],
               ["add_number", 0, 1], ["sub_number", 0, 1], ["mul_number", 0, 3],
               ["div_number", 0, 4], ["number_add", 1, 0], ["number_sub", 1, 0],
               ["number_mul", 3, 0], ["number_div", 3, 0], ["pow", 1, 3], ["relu", 0],
               ["backward", 15]]
    data = run_graph_program(Value, program)["data"]
    assert data == pytest.approx([6, 2, 8, 4, 12, 3, 7, 5, 18, 1.5, 7, -5, 18, 0.5, 8, 6])


def test_only_the_nodes_the_root_depends_on_have_their_grad_read():
    program = [["value", 1.0], ["value", 2.0], ["mul", 0, 0], ["add", 1, 1], ["backward", 2]]
    assert run_graph_program(Value, program)["grad"] == [2.0, None, 1.0, None]


def test_a_node_that_lies_about_its_number_is_an_error():
    class Liar(Value):
        def __init__(self, data):
            super().__init__(data)
            self.data = type("NotANumber", (), {"__float__": lambda self: "three"})()

    with pytest.raises(TypeError, match="node 0: .data is not a number"):
        run_graph_program(Liar, [["value", 3.0], ["backward", 0]])


def test_a_float_subclass_comes_back_as_a_plain_float():
    class Loud(float):
        def __repr__(self):
            return "loud"

    class LoudValue(Value):
        def __init__(self, data):
            super().__init__(Loud(data))

    result = run_graph_program(LoudValue, [["value", 3.0], ["backward", 0]])
    assert type(result["data"][0]) is float and result["data"][0] == 3.0


@pytest.mark.parametrize("program", [
    [], "value", [["value", "3"]], [["value", True]], [["add", 0, 1]],
    [["value", 1.0], ["pow", 1, 2]],
    [["value", 1.0], ["backward", 0], ["value", 2.0]], [["value", 1.0], ["exec", 0]],
    [["value", 1.0], [["add"], 0, 0]], [["value", 1.0], ["relu", 0, 1]],
])
def test_a_malformed_program_is_refused(program):
    with pytest.raises(ValueError):
        run_graph_program(Value, program)


def test_the_child_runs_a_program_instead_of_calling_the_class(child):
    module, helpers = child
    namespace = {"Value": Value}
    call = {"name": "Value", "args": [[["value", 3.0], ["pow", 0, 2], ["backward", 1]]],
            "kwargs": {"__dict__": []}, "adapter": ADAPTER}
    result = module._call(namespace, call, helpers)
    assert result["ok"] is True and result["warnings"] == []
    assert result["value"] == {"__dict__": [["data", [3.0, 9.0]], ["grad", [6.0, 1.0]]]}


def test_an_error_of_the_students_class_is_the_calls_error(child):
    module, helpers = child

    class NoRmul(Value):
        __rmul__ = None

    namespace = {"Value": NoRmul}
    call = {"name": "Value", "args": [[["value", 3.0], ["number_mul", 2, 0], ["backward", 1]]],
            "kwargs": {"__dict__": []}, "adapter": ADAPTER}
    result = module._call(namespace, call, helpers)
    assert result["ok"] is False and "TypeError" in result["error"]
    assert module._call({}, call, helpers)["missing"] is True
