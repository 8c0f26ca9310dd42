"""nbgrader configuration of the course: the usual verbs, with the course's trusted verdict."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the `nbgrader` command does not put the course on sys.path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds,
    GetGrades, IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

from autograder.preprocessors import (  # noqa: E402
    SandboxedExecute, ScrubNbgraderMetadata, TrustedVerdict)

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "training-neural-networks"
# An absolute path, so every nbgrader command finds the same gradebook wherever it runs from.
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL", f"sqlite:///{ROOT / 'gradebook.db'}")
# Source notebooks live in source/<chapter>/; only the notebooks are released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "*.md"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 300          # per cell: the Keras exercise imports TensorFlow and trains
c.Execute.interrupt_on_timeout = True

# Student-edited metadata is scrubbed before nbgrader reads it, and course cells the student
# deleted come back (so a deleted test cell is still graded).
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    ScrubNbgraderMetadata,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True

# The student's kernel runs sandboxed (no network, no course files, memory/process/time limits),
# and the verdict comes from TrustedVerdict, not from that kernel: it runs after the kernel has
# executed the notebook and before SaveAutoGrades reads the test cells.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    TrustedVerdict,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback shows the student's own notebook; hidden tests are stripped from the test cells.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
