"""nbgrader configuration of the course: the usual verbs, with the course's trusted verdict."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the `nbgrader` command does not put the course on sys.path

import nbgrader  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.grading.preprocessors import (  # noqa: E402
    FeedbackLayout,
    InertOutputs,
    SandboxedExecute,
    ScrubNbgraderMetadata,
    StartTrustedVerdict,
    TrustedVerdict,
)

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# Nothing in submitted/ is followed or opened before it is checked: a submission holding a link,
# a device, a FIFO, a socket or a hard link to a file outside it gets an error line and a zero,
# before nbgrader reads or copies anything of it (autograder/grading/submissions.py).
from autograder.grading.submissions import use_checked_autograde  # noqa: E402

use_checked_autograde()

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "training-neural-networks"
# An absolute path, so every nbgrader command finds the same gradebook wherever it runs from.
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL", f"sqlite:///{ROOT / 'gradebook.db'}")
# Source notebooks live in source/<chapter>/; only the notebooks are released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "*.md"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Per cell: NumPy code gets 30 s, so a loop that never ends costs seconds; a cell that uses
# Keras gets SandboxedExecute.keras_timeout (300 s) to import TensorFlow and train.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# The sandbox's limits (autograder/sandbox/settings.py), for each process that runs student code:
# the student's kernel, the verdict's process, each Keras judge. `python -m autograder doctor`
# prints them. Each holds for the process and everything it starts.
# Memory: TensorFlow and a small model fit in well under 4 GB (a memory cgroup; where the machine
# gives none, an address-space rlimit of 4x this stands in).
c.SandboxLimits.memory_bytes = 4 * 1024 ** 3
# Processes and threads: TensorFlow starts a few dozen; a fork bomb stops here.
c.SandboxLimits.max_processes = 64
# The largest file it may write, its captured output included: a print loop ends here.
c.SandboxLimits.file_bytes = 64 * 1024 ** 2
# CPU seconds: a backstop behind the wall-clock limits (Execute.timeout, the verdict's own).
c.SandboxLimits.cpu_seconds = 900
# Cores at most (a cgroup quota, the same weight as every other sandbox): one trains the
# exercises' models at full speed, and 48 busy processes in one sandbox take one core, not all.
c.SandboxLimits.cpu_cores = 1.0
# Its home, /tmp and /dev/shm are each a tmpfs of this size (memory, counted by the memory limit),
# gone when it ends: nothing it writes reaches the grading machine's disk.
c.SandboxLimits.scratch_bytes = 512 * 1024 ** 2

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
# executed the notebook and before SaveAutoGrades reads the test cells. So the kernel needs no
# hidden test, and gets none: ClearHiddenTests strips them before it runs, and a notebook that
# prints what its kernel executed (IPython's `In`) shows only the visible tests.
# StartTrustedVerdict starts the verdict's process before the kernel runs, so the two overlap
# (the verdict reads only the code cells, which execution does not change).
# InertOutputs, last before the notebook is stored, leaves of what the student wrote or printed
# only text and PNG/JPEG images, so no student script runs when the formgrader or the feedback
# page shows the autograded notebook (the course's own locked cells render as written).
c.Autograde.autograde_preprocessors = [
    ClearHiddenTests,
    StartTrustedVerdict,
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    TrustedVerdict,
    InertOutputs,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback shows the student's own notebook; hidden tests were stripped before execution, and
# ClearHiddenTests here keeps that true of a gradebook graded before that. InertOutputs likewise
# makes inert the notebooks graded before it existed. FeedbackLayout, last, puts a summary at the
# top, each exercise's verdict (points, first failing cases) before the student's code and the
# test cell, and the shared test helpers (the setup cell) at the end.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, InertOutputs,
                                    CSSHTMLHeaderPreprocessor, FeedbackLayout]

# The HTMLExporter renders both the feedback and the formgrader's view of a submission. There,
# InertOutputs covers notebooks graded before it existed (it is idempotent, so feedback running
# it twice changes nothing); sanitize_html makes the templates drop scripts and clean HTML as a
# second line; and a very large code cell is shown as plain text instead of highlighted (IPython's
# lexer takes minutes on some 100 KB cells): HighlightUnlessLarge.max_chars sets how large.
c.HTMLExporter.preprocessors = [InertOutputs]
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"highlight_code": "autograder.grading.highlight.HighlightUnlessLarge",
                          "course_mathjax": "autograder.grading.offline_math.course_mathjax"}
# Math with no network, in the feedback file and the formgrader's view: the course's template
# folder comes first, and its feedback/ and formgrade/ hold only mathjax.html.j2, which shadows
# nbconvert's CDN MathJax 2.7.7 macro with MathJax 3 inlined into the page (`course_mathjax`,
# autograder/grading/offline_math.py); everything else is nbgrader's own template. Set here, it
# holds for `nbgrader generate_feedback` and for the formgrader (which loads this file last).
c.HTMLExporter.extra_template_basedirs = [
    str(ROOT / "autograder" / "grading" / "templates"),
    str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
]
