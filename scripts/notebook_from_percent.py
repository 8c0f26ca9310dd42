r"""Turn a jupytext percent file into an nbgrader source notebook (python3 kernel, no jupytext
metadata).

    jupytext --to py:percent source/CHAPTER/exercises.ipynb -o /tmp/exercises.py   # edit this
    .venv/bin/python scripts/notebook_from_percent.py /tmp/exercises.py \
        source/CHAPTER/exercises.ipynb
"""

import json
import subprocess
import sys
from pathlib import Path


def main(percent_file, notebook):
    jupytext = Path(sys.executable).parent / "jupytext"
    subprocess.run([str(jupytext), "--quiet", "--to", "ipynb", percent_file, "-o", notebook],
                   check=True)
    nb = json.loads(Path(notebook).read_text())
    nb["metadata"] = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                     "name": "python3"},
                      "language_info": {"name": "python"}}
    Path(notebook).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
