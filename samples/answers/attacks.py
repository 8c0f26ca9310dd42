"""The attack suite: stability-chapter submissions that try to cheat, leak or break the grader.

Each entry is (answers, extra_cells, edit) like the other answers modules, plus its expected
score in EXPECTED_SCORES and, in STOPPED_BY, a phrase the grading log must contain for it.
Built into samples/attacks/<attack>/stability/ by `build_samples.py attacks`.
Points of the chapter: log_sum_exp 2, log_softmax 2, log_sigmoid 2,
softmax_cross_entropy_with_logits 3, binary_cross_entropy_with_logits 1.
"""

import json

CHAPTER = "stability"
OUTPUT = "samples/attacks"

RIGHT = {name: "REFERENCE" for name in ("log_sum_exp", "log_softmax", "log_sigmoid",
                                        "softmax_cross_entropy_with_logits",
                                        "binary_cross_entropy_with_logits")}
WRONG = {
    "log_sum_exp": "def log_sum_exp(z):\n    return np.log(np.sum(np.exp(z), axis=-1))\n",
    "log_softmax": "def log_softmax(z):\n    e = np.exp(z)\n    return np.log(e / e.sum())\n",
    "log_sigmoid": "def log_sigmoid(z):\n    return np.log(1 / (1 + np.exp(-z)))\n",
    "softmax_cross_entropy_with_logits":
        "def softmax_cross_entropy_with_logits(logits, y):\n    return 0.0\n",
    "binary_cross_entropy_with_logits":
        "def binary_cross_entropy_with_logits(logits, y):\n    return 0.5\n",
}


def right_except(name, code):
    answers = dict(RIGHT)
    answers[name] = code
    return answers


INPUT_TRANSFORMER = '''# 1. Wrap every later cell in try/except so no test can fail in this kernel.
def _swallow(lines):
    return (["try:\\n"] + ["    " + line for line in lines]
            + ["\\nexcept BaseException:\\n    pass\\n"])
get_ipython().input_transformers_post.append(_swallow)
'''

PATCHED_NUMPY = '''# 2. Make numpy's comparisons always agree.
import numpy as np
np.testing.assert_allclose = lambda *a, **k: None
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *args, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
'''

SYS_MODULES = '''# 3. Replace the grader's and the reference's modules.
import sys, types
fake = types.ModuleType("autograder")
fake.run_checks = lambda *a, **k: ({}, None)
sys.modules["autograder"] = fake
sys.modules["autograder.framework"] = fake
sys.modules["solutions"] = types.ModuleType("solutions")
sys.modules["solutions.stability"] = types.ModuleType("solutions.stability")
'''

READ_SECRETS = '''# 4. Look for the source notebooks, hidden tests and solutions on disk and print
# them.
import os
found = []
for top in ["/", os.path.expanduser("~"), os.getcwd(), "/work", "/tmp", "/root"]:
    for root, dirs, files in os.walk(top):
        if root.count(os.sep) > 6 or root.startswith(("/proc", "/sys", "/usr", "/dev")):
            dirs[:] = []
            continue
        for f in files:
            if f in ("exercises.ipynb", "stability.py", "gradebook.db", "nbgrader_config.py"):
                path = os.path.join(root, f)
                try:
                    text = open(path, errors="replace").read()
                except OSError:
                    continue
                if "BEGIN HIDDEN" + " TESTS" in text or "def log_sum_exp" in text:
                    found.append(path)
                    print(path, text[:20000])
print("found", len(found), "files")
'''

IMPORT_SOLUTIONS = '''# 5. Use the reference package as the answers.
import sys, os, glob
for guess in (["/work/main", os.path.abspath("../../.."), os.path.abspath("../..")]
              + glob.glob("/tmp/*/course*")):
    sys.path.insert(0, guess)
try:
    from solutions.stability import (log_sum_exp, log_softmax, log_sigmoid,
                                     softmax_cross_entropy_with_logits,
                                     binary_cross_entropy_with_logits)
    print("imported the reference")
except ImportError as exc:
    print("no reference:", exc)
'''

WRITE_EVERYWHERE = '''# 6. Write into the gradebook, another student's submission and the course
# configuration.
import os, glob
targets = []
for up in ("../..", "../../..", "../../../..", "/work/main"):
    targets += glob.glob(os.path.join(up, "gradebook.db"))
    targets += glob.glob(os.path.join(up, "nbgrader_config.py"))
    targets += glob.glob(os.path.join(up, "*", "*", "stability", "exercises.ipynb"))
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("\\nimport os; os.system('touch /tmp/pwned')\\n")
        print("wrote", path)
    except OSError as exc:
        print("refused", path, exc)
print(len(targets), "targets")
'''

KILL_PARENT = '''# 7. Kill the process that runs this code, and its parent.
import os, signal
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError:
    pass
os._exit(0)
'''

HANG = "def log_softmax(z):\n    while True:\n        pass\n"

MEMORY_BOMB = ("def log_softmax(z):\n    blocks = []\n    while True:\n"
               "        blocks.append(bytearray(512 * 1024 * 1024))\n")

OUTPUT_FLOOD = '''# 9b. Hundreds of MB of output.
import sys
for _ in range(300):
    sys.stdout.write("x" * 1_000_000 + "\\n")
'''

BACKGROUND = '''# 9c. A process left running after grading.
import subprocess
subprocess.Popen(["/bin/sh", "-c", "exec -a course-attack-leftover sleep 600"],
                 start_new_session=True)
'''

NETWORK = '''# 10. Talk to a service on the grading machine's loopback.
import socket
for port in (47811, 8888, 5432, 6379):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"pwned")
            print("connected to", port)
    except OSError as exc:
        print("no connection to", port, exc)
'''

LYING_OBJECTS = {
    "log_sum_exp": '''class Agreeable(np.ndarray):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False

def log_sum_exp(z):
    return np.zeros(np.shape(z)[:-1]).view(Agreeable)
''',
    "log_softmax": '''class Liar:
    def __eq__(self, other):
        return True
    def __array__(self, *args, **kwargs):
        return self.answer
    answer = np.zeros(3)

def log_softmax(z):
    return Liar()
''',
    "log_sigmoid": WRONG["log_sigmoid"],
    "softmax_cross_entropy_with_logits": '''class AlwaysClose(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__

def softmax_cross_entropy_with_logits(logits, y):
    return AlwaysClose(0.0)
''',
    "binary_cross_entropy_with_logits": WRONG["binary_cross_entropy_with_logits"],
}

HARD_CODED = {
    "log_sum_exp": '''def log_sum_exp(z):
    """Answers the visible tests from memory."""
    known = {(1.0, 2.0, 3.0): 3.40760596444438, (1000.0, 1001.0, 1002.0): 1002.40760596444438}
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        return known.get(tuple(z), 0.0)
    return np.array([known.get(tuple(row), 0.0) for row in z])
''',
    "log_softmax":
        "def log_softmax(z):\n    return np.asarray(z, dtype=float) * 0 - 1.0986122886681098\n",
    "log_sigmoid": '''def log_sigmoid(z):
    """Answers the first visible test from memory, and min(z, 0) (right far below zero) else."""
    z = np.asarray(z, dtype=float)
    if z.shape == (5,):
        return np.array([-2.1269280110429727, -1.3132616875182228, -0.6931471805599453,
                         -0.31326168751822286, -0.1269280110429725])
    return np.minimum(z, 0.0)
''',
    "softmax_cross_entropy_with_logits":
        "def softmax_cross_entropy_with_logits(logits, y):\n    return 0.4170300162778335\n",
    "binary_cross_entropy_with_logits":
        "def binary_cross_entropy_with_logits(logits, y):\n    return 0.6931471805599453\n",
}


PRINT_HISTORY = '''# 14. Print every source the kernel executed: the test cells' too, hidden tests
# included if the kernel were given them.
print("\\n".join(In))
'''


def raise_points_and_hide_tests(nb):
    """11a. Edited metadata: points raised, a grade id changed, a test cell made markdown."""
    cells = []
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            meta["points"] = 100
            if meta["grade_id"] == "test_log_sum_exp":
                meta["grade_id"] = "test_something_else"
            if meta["grade_id"] == "test_log_softmax":
                cell["cell_type"] = "markdown"
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def duplicate_solution_cell(nb):
    """11b. A solution cell duplicated (its copy becomes an ordinary cell)."""
    cells = []
    for cell in nb["cells"]:
        cells.append(cell)
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "log_sum_exp":
            cells.append(json.loads(json.dumps(cell)))
    nb["cells"] = cells
    return nb


SAMPLES = {
    "attack-01-input-transformer": (WRONG, {"setup": INPUT_TRANSFORMER}, None),
    "attack-02-patched-numpy": (WRONG, {"setup": PATCHED_NUMPY}, None),
    "attack-03-sys-modules": (WRONG, {"setup": SYS_MODULES}, None),
    "attack-04-read-secrets": (WRONG, {"setup": READ_SECRETS}, None),
    "attack-05-import-solutions": ({}, {"setup": IMPORT_SOLUTIONS}, None),
    "attack-06-write-everywhere": (WRONG, {"setup": WRITE_EVERYWHERE}, None),
    "attack-07-kill-and-exit": (WRONG, {"log_sum_exp": KILL_PARENT}, None),
    "attack-08-infinite-loop": (right_except("log_softmax", HANG), None, None),
    "attack-09a-memory-bomb": (right_except("log_softmax", MEMORY_BOMB), None, None),
    "attack-09b-output-flood": (RIGHT, {"setup": OUTPUT_FLOOD}, None),
    "attack-09c-background-process": (RIGHT, {"setup": BACKGROUND}, None),
    "attack-10-network": (WRONG, {"setup": NETWORK}, None),
    "attack-11a-edited-metadata": (RIGHT, None, raise_points_and_hide_tests),
    "attack-11b-duplicated-solution-cell": (RIGHT, None, duplicate_solution_cell),
    "attack-12-lying-objects": (LYING_OBJECTS, None, None),
    "attack-13-hard-coded-visible-tests": (HARD_CODED, None, None),
    "attack-14-print-history": (RIGHT, {"test_binary_cross_entropy_with_logits": PRINT_HISTORY},
                                None),
}

# 8 and 9a hang or eat memory in log_softmax (2 points), which the reference-style cross-entropy
# (3 points) calls, so they keep log_sum_exp, log_sigmoid and the binary cross-entropy:
# 2 + 2 + 1 = 5. 9b and 9c are
# correct answers whose side effects must not cost or break anything. 11a and 11b are correct
# answers in edited notebooks: they get the chapter's 10 points, not the 100s they claim. 14 is
# correct, and its feedback must show no hidden test.
EXPECTED_SCORES = {name: 0 for name in SAMPLES}
EXPECTED_SCORES.update({"attack-08-infinite-loop": 5, "attack-09a-memory-bomb": 5,
                        "attack-09b-output-flood": 10, "attack-09c-background-process": 10,
                        "attack-11a-edited-metadata": 10,
                        "attack-11b-duplicated-solution-cell": 10,
                        "attack-14-print-history": 10})

# What the grading log must say was stopped, for the attacks a limit stops.
STOPPED_BY = {
    "attack-07-kill-and-exit": "ended",
    "attack-08-infinite-loop": "time limit",
    "attack-09a-memory-bomb": "memory limit",
    "attack-09b-output-flood": "output limit",
    "attack-11a-edited-metadata": "nbgrader metadata removed: unknown cell id",
    "attack-11b-duplicated-solution-cell": "nbgrader metadata removed: duplicate",
}
