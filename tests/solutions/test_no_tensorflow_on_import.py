"""Importing a reference module does not import TensorFlow or Keras."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.checks import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_importing_the_module_does_not_import_tensorflow(chapter):
    """The grader imports every solutions module for its references: TensorFlow costs seconds
    and a few hundred MB, so only the Keras exercise may import it, inside its function."""
    code = (f"import json, sys, solutions.{chapter}\n"
            "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))")
    # A fresh interpreter: this one may have imported TensorFlow for other tests already.
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"solutions.{chapter} imports them at import time"
