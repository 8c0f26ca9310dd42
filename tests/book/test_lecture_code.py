"""A student who copies a lecture page does not pass its exercises.

The lectures teach the idea; the exercises ask the student to use it. For every graded NumPy
exercise, every function (or class) a lecture page defines that a student would take for the
answer -- the same name, a name that contains it or nearly matches it, or the same parameter
names -- is run through the exercise's real check (sandboxed, as grading runs it), with the
page's imports, constants and other definitions beside it, and must be rejected.

The page's code is read from `book/<chapter>/lecture.md`, the source the built page is executed
from. A page that shows a graded function word for word fails here, naming the exercise and the
page's function.
"""

import ast
import difflib
import inspect
from pathlib import Path

import jupytext
import pytest

from autograder.checks import CHAPTERS, all_checks
from autograder.checks.keras_models import KerasModelCheck
from tests.conftest import run_check

ROOT = Path(__file__).resolve().parents[2]


def page_code(chapter):
    """(definitions, support): the page's top-level defs and classes {name: (params, source)},
    and the code every candidate runs beside it: imports, literal constants and every def."""
    notebook = jupytext.read(ROOT / "book" / chapter / "lecture.md")
    defs, support = {}, []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines()
                 if not line.lstrip().startswith(("%", "!"))]
        source = "\n".join(lines)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            text = ast.get_source_segment(source, node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if not any(alias.name.split(".")[0] in ("tensorflow", "keras", "matplotlib")
                           for alias in node.names) and not (
                        isinstance(node, ast.ImportFrom)
                        and (node.module or "").split(".")[0] in ("tensorflow", "keras",
                                                                  "matplotlib")):
                    support.append(text)
            elif (isinstance(node, ast.Assign) and _is_literal(node.value)
                  and all(isinstance(name, ast.Name) for target in node.targets
                          for name in (target.elts if isinstance(target, ast.Tuple)
                                       else [target]))):
                support.append(text)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                support.append(text)
                if isinstance(node, ast.FunctionDef):
                    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
                else:
                    init = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                                 and n.name == "__init__"), None)
                    params = tuple(a.arg for a in init.args.args[1:]) if init else ()
                defs[node.name] = params
    return defs, "\n\n".join(support)


def _is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def _squashed(name):
    return name.lower().replace("_", "")


def looks_like(page_name, page_params, exercise_name, exercise_params):
    """Whether a student would take the page's function for the exercise's answer."""
    a, b = _squashed(page_name), _squashed(exercise_name)
    if a == b or a in b or b in a:
        return True
    if difflib.SequenceMatcher(None, a, b).ratio() >= 0.75:
        return True
    return bool(exercise_params) and page_params == exercise_params


def numpy_checks():
    return [check for check in all_checks().values() if not isinstance(check, KerasModelCheck)]


def exercise_params(check):
    reference = check.reference
    target = reference.__init__ if inspect.isclass(reference) else reference
    names = list(inspect.signature(target).parameters)
    return tuple(n for n in names if n != "self")


def candidates():
    pairs = []
    for chapter in CHAPTERS:
        defs, support = page_code(chapter)
        for check in numpy_checks():
            wanted = exercise_params(check)
            for name, params in defs.items():
                if inspect.isclass(check.reference) != name[:1].isupper():
                    continue
                if looks_like(name, params, check.name, wanted):
                    pairs.append(pytest.param(chapter, name, check.exercise_id, support,
                                              id=f"{chapter}:{name}->{check.exercise_id}"))
    return pairs


CANDIDATES = candidates()


def test_the_pages_define_functions_a_student_would_copy():
    # The net is not empty: the pages do show code (the idea in another form), and this test
    # would find it if it were the graded function.
    assert len(CANDIDATES) >= 10


@pytest.mark.parametrize("chapter, name, exercise_id, support", CANDIDATES)
def test_copying_the_page_does_not_pass(chapter, name, exercise_id, support):
    function = exercise_id.split(".")[1]
    code = support + ("" if name == function else f"\n\n{function} = {name}\n")
    verdict = run_check(exercise_id, code, seed=0)
    assert not verdict.accepted, (
        f"book/{chapter}/lecture.md defines `{name}`, which passes the exercise {exercise_id} "
        "as it stands: show the idea in another form, or grade the sibling the page does not show")
