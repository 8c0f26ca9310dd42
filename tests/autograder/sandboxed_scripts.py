"""A script of autograder/sandboxed/ loaded as the sandbox runs it: copied, with its companion
files, into a folder of its own, and imported from there (to test its functions directly)."""

import contextlib
import importlib.util
import shutil
import sys
from pathlib import Path


@contextlib.contextmanager
def sandboxed_script(folder, script, companions):
    """The module of `script`, loaded from `folder` beside copies of `companions`; the
    companions' modules are forgotten again afterwards."""
    folder = Path(folder)
    for path in (script, *companions):
        shutil.copy(path, folder / Path(path).name)
    names = [Path(path).stem for path in companions]
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location(f"sandboxed_{Path(script).stem}",
                                                  folder / Path(script).name)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = saved
        for name in names:
            sys.modules.pop(name, None)
