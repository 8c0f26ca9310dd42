"""`StartTrustedVerdict`: start the trusted verdict before the kernel runs, so the two overlap.

The verdict re-runs the student's code cells in a process of its own; it does not need the
kernel's outputs. Placed before `SandboxedExecute`, this preprocessor starts that process on the
notebook's code cells at once, in a thread, and leaves the pending result in nbconvert's
resources; `TrustedVerdict`, after the kernel, takes it when the code cells are still the same
(execution changes outputs only) and judges anew otherwise. A notebook then costs the longer of
the kernel's run and the verdict's, not their sum (a Keras notebook imports TensorFlow and
trains in both). The notebook's verdict_timeout counts from here, and covers the judges of its
Keras models too (see TrustedVerdict): the kernel runs beside them meanwhile, which is why the
judges' training budgets count their own CPU time, not the wall clock.

A Keras notebook's judge starts here too, on standby (keras_models.KerasModelCheck.prepared,
entered by run_checks before the student's process): its import of TensorFlow overlaps the
student's process instead of following it, so the verdict is no longer one TensorFlow import
longer than the kernel. It holds no student data until the model's config arrives, and is
stopped with the verdict whether or not a model came.
"""

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nbformat import NotebookNode

from autograder.checks import CHAPTERS
from autograder.checks.base import Check
from autograder.grading.preprocessors.trusted_verdict import (
    EARLY_KEY,
    Judgement,
    TrustedVerdict,
    plan,
)
from autograder.sources import notebook_code_cells

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trusted-verdict")


class StartTrustedVerdict(TrustedVerdict):
    """Start TrustedVerdict's judgement (configured by c.TrustedVerdict) before the kernel."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        assignment = resources["nbgrader"]["assignment"]
        if assignment in CHAPTERS:
            _, _, wanted = plan(nb, assignment)
            cells = notebook_code_cells(nb)
            resources[EARLY_KEY] = (cells, _POOL.submit(self._timed, wanted, cells))
        return nb, resources

    def _timed(self, wanted: Sequence[Check], cells: Sequence[str]) -> tuple[Judgement, float]:
        start = time.perf_counter()
        result = self.verdicts_of(wanted, cells)
        return result, time.perf_counter() - start
