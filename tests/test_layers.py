"""The package's shape is its trust boundary, so imports may only run one way (read from the
source, not by importing it):

    cli -> report -> grading -> checks -> sandbox -> channel, course, sources, data, safe_text

and what runs inside the sandbox imports nothing of the package: the scripts of
autograder/sandboxed/ and their companion files (autograder/channel.py and the helper modules a
check hands to the child or the judge) travel as single files into a sandbox that has no
`autograder` package, and nothing on the grader's side imports those scripts as a library.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autograder"

# Each part of the package, lowest first: a module may import from its own part and those before.
LAYERS = [
    {"channel", "course", "sources", "data", "safe_text"},
    {"sandbox"},
    {"checks"},
    {"grading"},
    {"report"},
    {"catalog", "exercise_commands", "cli", "__main__", "__init__"},
]
# Files that are copied into a sandbox as companions: standard library and NumPy only.
COMPANIONS = ["channel.py", "checks/adapters.py", "checks/elementary_functions.py",
              "checks/adam_functions.py", "checks/backprop_functions.py",
              "checks/backprop_interpreter.py", "checks/keras_protocol.py"]


def part(module):
    """'autograder.sandbox.spawn' -> 'sandbox'; 'autograder.channel' -> 'channel'."""
    return module.split(".")[1] if module.count(".") else "__init__"


def rank(name):
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def imported(path):
    """Every `autograder...` module the file imports, wherever in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "autograder":
                found |= {f"autograder.{alias.name}" for alias in node.names}
            elif node.module.startswith("autograder."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("autograder")}
    return found


def module_of(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


GRADER_SIDE = sorted(p for p in PACKAGE.rglob("*.py") if "sandboxed" not in p.parts)


@pytest.mark.parametrize("path", GRADER_SIDE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    mine = part(module_of(path))
    upward = sorted(m for m in imported(path)
                    if part(m) != "sandboxed" and rank(part(m)) > rank(mine))
    assert not upward, f"{path.relative_to(ROOT)} ({mine}) imports from a higher part: {upward}"


@pytest.mark.parametrize("path", GRADER_SIDE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_a_sandboxed_script(path):
    scripts = sorted(m for m in imported(path) if part(m) == "sandboxed")
    assert not scripts, (f"{path.relative_to(ROOT)} imports {scripts}: the sandboxed scripts run "
                         f"as files in the sandbox, never as the grader's library")


@pytest.mark.parametrize("name", sorted(
    [str(p.relative_to(PACKAGE)) for p in (PACKAGE / "sandboxed").glob("*.py")] + COMPANIONS))
def test_what_runs_in_the_sandbox_imports_nothing_of_the_package(name):
    assert not imported(PACKAGE / name), \
        f"autograder/{name} runs in the sandbox, where the autograder package is not"


def test_every_part_is_placed():
    """A new top-level module or folder must be given its place in LAYERS."""
    names = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    placed = set().union(*LAYERS) | {"sandboxed"}
    assert names <= placed, f"not in LAYERS: {sorted(names - placed)}"
