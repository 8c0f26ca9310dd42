"""Submitted folders hold only regular files and folders: nothing in them is followed.

A submission arrives with its links kept (git, tar, `rsync -a`, `cp -r`). nbgrader reads and
copies submitted files as the grading user, before any sandbox, and follows links as it does:
`exercises.ipynb -> source/<chapter>/exercises.ipynb` would be graded as the student's work, a
link named like any extra file would hand its target (the reference module, the source notebook
with hidden tests) back with the feedback, and a link to /dev/zero is copied until the disk
fills. So before nbgrader touches a submission, `submission_problems` walks it without following
or opening anything (lstat only) and a submission with any of these is refused:

- a symbolic link, to a file or a folder, anywhere inside it (and the student's or the
  assignment's folder must not be one either);
- a device, a named pipe (FIFO), a socket, or anything else that is not a regular file or folder;
- a regular file with more than one name (st_nlink > 1) whose other names are not all in the
  same submission: a hard link cannot be told from its target, and its other name may be any
  file of this file system (the course's solutions, another student's notebook), which can also
  change it after the check. Hard links that stay inside one submission (`rsync -H`, tar) are
  kept: all their names are this submission's own files.

`CheckedAutograde` is nbgrader's `Autograde` with that check run first for each submission: a
refused one gets an error line naming the student and why, zero points in the gradebook, nothing
in autograded/ (so no feedback either; the zero is written by `gradebook.record_zero`), and the
other submissions are graded; like any submission nbgrader cannot grade, it makes the command
exit non-zero. `nbgrader_config.py` installs it with `use_checked_autograde()`.
"""

import os
import stat

from nbgrader.converters import Autograde

from autograder.grading.gradebook import record_zero

SHOWN_PROBLEMS = 5       # the log lists this many problems of one submission, then counts the rest
RULE = ("a submission may hold only regular files and folders: no links, devices, FIFOs or "
        "sockets, no hard links to files outside it")


class RefusedSubmission(Exception):
    """A submission holding something that grading must not follow or open."""


def _shown(text: str, limit: int = 200) -> str:
    """Student-chosen text (a file name, a link's target) made safe for one log line."""
    text = text if text.isprintable() else ascii(text)[1:-1]
    return text if len(text) <= limit else text[:limit] + "..."


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return f"not a regular file or folder (mode {stat.filemode(mode)})"


def _link_problem(path: str, name: str) -> str:
    try:
        return f"{_shown(name)} is a symbolic link to {_shown(os.readlink(path))}"
    except OSError:
        return f"{_shown(name)} is a symbolic link"


def _not_a_folder(path: str, name: str) -> str | None:
    """Why `path` (lstat, never followed) is not a plain folder, or None when it is one."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"{_shown(name)} cannot be read ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return _link_problem(path, name)
    if not stat.S_ISDIR(mode):
        return f"{_shown(name)} is {'a regular file' if stat.S_ISREG(mode) else _kind(mode)}, " \
               f"not a folder"
    return None


def submission_problems(folder: str | os.PathLike[str],
                        top: str | os.PathLike[str] | None = None) -> list[str]:
    """What in `folder` grading must not read: a list of reasons, empty when there is none.

    Nothing is followed or opened: every entry is looked at with lstat (os.scandir's
    follow_symlinks=False). When `top` (the submitted/ folder) is given, every folder from it
    down to `folder` (the student's, the assignment's) must be a plain folder too.
    """
    folder = os.path.abspath(folder)
    chain = [folder]
    if top is not None:
        top = os.path.abspath(top)
        if os.path.commonpath([top, folder]) == top and folder != top:
            parts = os.path.relpath(folder, top).split(os.sep)
            chain = [os.path.join(top, *parts[:i + 1]) for i in range(len(parts))]
    for path in chain:
        problem = _not_a_folder(path, os.path.relpath(path, top) if top else path)
        if problem:
            return [problem]

    problems: list[str] = []
    names_of: dict[tuple[int, int], tuple[int, list[str]]] = {}
    pending = [("", folder)]
    while pending:                      # iterative: a deep tree cannot exhaust the stack
        rel, path = pending.pop()
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{_shown(rel or '.')} cannot be listed ({exc.strerror})")
            continue
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(f"{_shown(name)} cannot be read ({exc.strerror})")
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(_link_problem(entry.path, name))
            elif stat.S_ISDIR(info.st_mode):
                pending.append((name, entry.path))
            elif stat.S_ISREG(info.st_mode):
                if info.st_nlink > 1:
                    names_of.setdefault((info.st_dev, info.st_ino), (info.st_nlink, []))[1] \
                        .append(name)
            else:
                problems.append(f"{_shown(name)} is {_kind(info.st_mode)}")
    for nlink, names in names_of.values():
        if len(names) < nlink:
            problems.append(f"{_shown(names[0])} is a hard link to a file outside the submission "
                            f"({nlink} names, {len(names)} of them in it)")
    return problems


def who(student_id: str, assignment_id: str) -> str:
    """A submission as the log names it: student/assignment, made safe for one log line."""
    return f"{_shown(student_id)}/{_shown(assignment_id)}"


def refusal(problems: list[str]) -> str:
    """The reasons of a refused submission, as one line."""
    shown = [*problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(f"and {len(problems) - SHOWN_PROBLEMS} more")
    return "; ".join(shown) + "; " + RULE


class CheckedAutograde(Autograde):
    """nbgrader's Autograde that refuses a submission holding anything it must not follow.

    The check runs in `init_destination`, the first thing nbgrader does with a submission once
    it has listed the submitted folders: before it reads `timestamp.txt`, copies the extra files
    (`init_assignment`), reads the notebooks or starts a kernel. A refusal is raised there, so
    nbgrader's own per-submission error handling takes over: it logs the error, removes any
    autograded/ copy left by an earlier run, grades the other submissions and exits non-zero.
    """

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        excluded = self.coursedir.student_id_exclude
        if excluded and student_id in excluded.split(","):
            return False
        source = self.coursedir.format_path(self.coursedir.submitted_directory, student_id,
                                            assignment_id)
        top = os.path.join(self.coursedir.root, self.coursedir.submitted_directory)
        problems = submission_problems(source, top=top)
        if problems:
            name = who(student_id, assignment_id)
            reason = refusal(problems)
            self.log.error("[submission] %s: refused: %s", name, reason)
            record_zero(self.coursedir.db_url, self.coursedir.course_id, assignment_id,
                        student_id, self.create_student, self.log, name)
            raise RefusedSubmission(f"{name}: refused: {reason}")
        return super().init_destination(assignment_id, student_id)


def use_checked_autograde() -> None:
    """Make `nbgrader autograde` (and the formgrader's autograde) use CheckedAutograde.

    nbgrader creates its converter from a class named in its app modules, with no setting to
    choose another, so the name is rebound there; nbgrader reads nbgrader_config.py (which calls
    this) before it creates the converter. `c.Autograde.*` settings apply to the subclass.
    """
    from nbgrader.apps import api, autogradeapp

    for module in (autogradeapp, api):
        if not issubclass(module.Autograde, Autograde):
            raise RuntimeError(f"{module.__name__}.Autograde is not nbgrader's Autograde")
        module.Autograde = CheckedAutograde
