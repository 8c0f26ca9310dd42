"""Rebuild the sample submissions from the student release and samples/answers/<chapter>.py.

Run after `make release` whenever a source notebook changes:
    .venv/bin/python samples/build_samples.py CHAPTER [CHAPTER ...] [attacks]
Each answers module maps a sample student id to (answers, extra_cells): answers maps a solution
cell's grade_id to the code the "student" wrote ("REFERENCE" takes the source notebook's solution),
extra_cells maps a grade_id to a code cell the student added after that cell ("KERNEL_TAMPERING"
for the standard tampering cell below). EXPECTED_SCORES maps each sample to its score.
"""

import copy
import importlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The cell a tampering student adds: it makes every test cell "pass" in the student's own kernel
# (errors swallowed, numpy's comparisons and the notebook's test helper neutered). An answers
# module asks for it with the string "KERNEL_TAMPERING" as an extra cell.
KERNEL_TAMPERING = '''# Make every test cell "pass" in this kernel: swallow all errors and neuter
# the checks.
import numpy as np
def _swallow(lines):
    body = "".join("    " + line for line in lines) or "    pass\\n"
    return ["try:\\n"] + [body] + ["except BaseException:\\n", "    print('passed')\\n"]
get_ipython().input_transformers_post.append(_swallow)
np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
def expect_close(*args, **kwargs):
    print("passed")
'''


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def reference_answer(source_cell):
    """The source notebook's solution, without nbgrader's markers."""
    source = _text(source_cell["source"])
    return re.sub(r"[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", "", source).rstrip() + "\n"


def build(release_nb, source_nb, answers, extra_cells=None, edit=None):
    nb = copy.deepcopy(release_nb)
    source_cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c
                    for c in source_nb["cells"]}
    cells = []
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in answers:
            answer = answers[grade_id]
            cell["source"] = reference_answer(source_cells[grade_id]) if answer == "REFERENCE" \
                else answer
        cells.append(cell)
        if extra_cells and grade_id in extra_cells:
            extra = extra_cells[grade_id]
            cells.append({"cell_type": "code", "execution_count": None, "metadata": {},
                          "outputs": [], "source": KERNEL_TAMPERING if extra == "KERNEL_TAMPERING"
                          else extra})
    nb["cells"] = cells
    return edit(nb) if edit else nb


def main(names):
    """Build the samples of each answers module named (a chapter, or `attacks`)."""
    for name in names:
        answers_module = importlib.import_module(f"samples.answers.{name}")
        chapter = getattr(answers_module, "CHAPTER", name)
        output = ROOT / getattr(answers_module, "OUTPUT", "samples/submitted")
        release = json.loads((ROOT / "release" / chapter / "exercises.ipynb").read_text())
        source = json.loads((ROOT / "source" / chapter / "exercises.ipynb").read_text())
        for student, (answers, extra_cells, *edit) in answers_module.SAMPLES.items():
            out = output / student / chapter / "exercises.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            nb = build(release, source, answers, extra_cells, edit[0] if edit else None)
            out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    # Run as a script, Python puts samples/ on the path, not the root the package lives in.
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])
