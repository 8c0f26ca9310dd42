"""The course on disk: its root folder and its nbgrader configuration, read as nbgrader reads it.

Every setting an instructor may change lives in `nbgrader_config.py` (nbgrader's own, and the
course's: the sandbox's limits, the report's folders); every command reads it from here."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # `check` and the sandbox run without Jupyter: traitlets only when read
    from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]     # the course folder this package belongs to
CONFIG_FILE = "nbgrader_config.py"


def load_config(root: str | Path = ROOT) -> "Config":
    """The course's nbgrader configuration (ROOT/nbgrader_config.py), as `nbgrader` loads it."""
    from traitlets.config.loader import PyFileConfigLoader

    with _sys_path_kept():   # the file puts the course on sys.path for nbgrader; undo that here
        return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


@contextmanager
def _sys_path_kept() -> Iterator[None]:
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved
