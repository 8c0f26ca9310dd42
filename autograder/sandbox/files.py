"""The sandbox's folders on the grading machine: a private scratch folder for each sandboxed
process, removing what a sandbox wrote, what graders that died left behind, and copying a
student's folder without following anything planted in it.

`open_regular` is the one way the grader opens a file a student controls: a link or a FIFO put
in the file's place is refused, not opened.
"""

import fnmatch
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from autograder.sandbox import cgroups
from autograder.sandbox.process import running


class NotRegularFile(OSError):
    """What open_regular found is not a regular file (a directory, a FIFO, a device...)."""


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading, never following a link in its place, never blocking on
    a FIFO (O_RDONLY | O_NOFOLLOW | O_NONBLOCK), and checked to be a regular file once open
    (fstat: what is read is what was checked). Raises OSError (ELOOP for a link) or
    NotRegularFile; the caller closes it (`with`)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(f"not a regular file: {os.fspath(path)}")
    return open(fd, "rb")


SCRATCH_PREFIX = "autograder-"


def scratch_dir(kind: str, short: bool = False) -> str:
    """A new private folder in the temporary directory for one sandboxed process (what it is
    handed, its socket folder), named after this grader's pid: a later grading run removes the
    folders of graders that died (sweep_leftovers). `short`: for socket files, whose paths
    must stay under 108 bytes: in /tmp when the temporary directory's path is long."""
    sweep_leftovers()
    base = tempfile.gettempdir()
    if short and len(base) > 48 and os.path.isdir("/tmp"):
        base = "/tmp"
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-{kind}-", dir=base)


_swept: list[bool] = []


def sweep_leftovers(tmp: str | Path | None = None, cgroup_root: str | Path | None = None,
                    force: bool = False) -> list[str]:
    """Remove what graders that died left behind, once per process: folders
    autograder-<pid>-* in the temporary directory and empty cgroups <pid>-* under
    course-grading, where no process <pid> runs any more. Returns the paths removed."""
    if _swept and not force:
        return []
    _swept.append(True)
    removed: list[str] = []
    entries: list[Path] = []
    for folder in dict.fromkeys([tmp] if tmp else [tempfile.gettempdir(), "/tmp"]):
        try:
            entries += list(Path(folder).iterdir())
        except OSError:
            pass
    for path in entries:
        pid = _pid_in(path.name[len(SCRATCH_PREFIX):]) \
            if path.name.startswith(SCRATCH_PREFIX) else None
        if pid and not running(pid) and path.is_dir() and not path.is_symlink():
            remove_tree(path)
            removed.append(str(path))
    for parent in cgroups.cgroup_parents(Path(cgroup_root or cgroups.CGROUP_ROOT)):
        try:
            groups = list(parent.iterdir())
        except OSError:
            continue
        for group in groups:
            pid = _pid_in(group.name)
            if pid and group.is_dir() and not running(pid):
                try:
                    group.rmdir()            # refused while a process is still in it
                    removed.append(str(group))
                except OSError:
                    pass
    return removed


def _pid_in(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def remove_tree(path: str | Path) -> None:
    """Remove a tree the sandbox wrote, whatever modes it left on it."""
    def make_writable(function: Callable[[str], object], failed: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
            function(failed)
        except OSError:
            pass
    shutil.rmtree(path, onerror=make_writable)


def copy_plain_tree(source: str, target: str, skip: Iterable[str] = ()) -> list[str]:
    """Copy the directories and regular files under source into target, which exists; return
    the paths left out: links (never followed), devices, FIFOs, sockets, and names matching a
    pattern of `skip`."""
    skip = tuple(skip)
    left_out: list[str] = []
    with os.scandir(source) as entries:
        for entry in entries:
            if any(fnmatch.fnmatch(entry.name, pattern) for pattern in skip):
                continue
            dest = os.path.join(target, entry.name)
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(dest, 0o755)
                left_out += copy_plain_tree(entry.path, dest, skip)
            elif entry.is_file(follow_symlinks=False) and _copy_regular(entry.path, dest):
                pass
            else:
                left_out.append(entry.path)
    return left_out


def _copy_regular(source: str, dest: str) -> bool:
    # A link or a FIFO put in the file's place (after the scan saw a file) is refused, not opened.
    try:
        src = open_regular(source)
    except OSError:
        return False
    with src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    return True
