"""A JupyterHub for one class on this machine: real Unix accounts from a roster, PAM, one
JupyterLab per user from the course's environment, nbgrader's exchange, the instructor's course.

`make hub` runs `python -m hub.classroom`; tests/hub/test_classroom.py drives the same class:

    room = Classroom(state_dir, port, roster, exchange)
    room.setup()          # accounts, passwords (root-only file), homes, course copy, exchange
    url = room.start()    # JupyterHub + configurable-http-proxy on 127.0.0.1:port
    room.stop()           # the hub, its proxy and every single-user server, verified gone
    room.remove_accounts()

Runs as root: it makes accounts, and PAM checks their passwords only for a root hub.
"""

import argparse
import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HUB = Path(__file__).resolve().parent
ROOT = HUB.parent
BIN = Path(sys.executable).parent
PROXY = HUB / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = HUB / "jupyterhub_config.py"
# What the instructor's copy of the course holds: the grading parts, the chapters' sources and
# solutions, and the samples (for trying the verbs before a class).
COURSE_FILES = ("nbgrader_config.py", "autograder", "solutions", "source", "samples")
# The comment of every account the classroom makes: it changes or removes no other account.
MARK = "Training Neural Networks classroom account"
# nbgrader's documented exchange (world-writable with the sticky bit, as nbgrader documents).
EXCHANGE = Path("/srv/nbgrader/exchange")
# Students see Assignments (and Validate); the formgrader, course list and assignment creator
# are the instructor's (nbgrader's "Disabling extensions", per role).
STUDENT_LAB_OFF = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                   "@jupyter/nbgrader:create-assignment"]
STUDENT_SERVER_OFF = ["nbgrader.server_extensions.formgrader",
                      "nbgrader.server_extensions.course_list"]


def course_id():
    from autograder.course import load_config
    return load_config().CourseDirectory.course_id


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_roster(path):
    """[(username, role)] from a CSV with `username,role` (role: instructor or student)."""
    with open(path, newline="") as f:
        rows = [(r["username"].strip(), r["role"].strip()) for r in csv.DictReader(f)]
    roles = [role for _, role in rows]
    if roles.count("instructor") != 1 or set(roles) - {"instructor", "student"}:
        raise SystemExit(f"{path}: one instructor and students (role column), got {roles}")
    return rows


def run(*args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


@dataclass
class Classroom:
    state_dir: Path
    port: int = 8000
    roster: Path = HUB / "roster.csv"
    exchange: Path = EXCHANGE
    passwords: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    opened: list = field(default_factory=list)      # folders the class's group may traverse
    had_acl: dict = field(default_factory=dict)

    def __post_init__(self):
        self.state_dir = Path(self.state_dir).resolve()
        self.exchange = Path(self.exchange)
        self.users = read_roster(self.roster)
        self.instructor = next(name for name, role in self.users if role == "instructor")
        self.students = [name for name, role in self.users if role == "student"]
        self.course_id = course_id()

    @property
    def password_file(self):
        return self.state_dir / "passwords.csv"

    @staticmethod
    def account(user):
        try:
            return pwd.getpwnam(user)
        except KeyError:
            return None

    def home(self, user):
        return Path(pwd.getpwnam(user).pw_dir)

    @property
    def course_dir(self):
        return self.home(self.instructor) / "course"

    def as_user(self, user, *args, cwd=None, check=True, timeout=1800):
        """Run ARGS as `user` (runuser), in their home or `cwd`, with the course's environment
        and the account's own HOME: how the instructor or a student runs a command."""
        home = self.home(user)
        env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "USER": user, "LANG": "C.UTF-8",
               "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        result = subprocess.run([runuser, "-u", user, "--", *args], cwd=cwd or home, env=env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode:
            raise RuntimeError(f"as {user}: {' '.join(map(str, args))} failed "
                               f"({result.returncode}):\n{result.stdout[-3000:]}"
                               f"{result.stderr[-3000:]}")
        return result

    # ---- setup -------------------------------------------------------------------------------
    def setup(self):
        if os.geteuid() != 0:
            raise SystemExit("the classroom hub makes Unix accounts and checks passwords with "
                             "PAM: run it as root (sudo make hub)")
        if not PROXY.exists():
            raise SystemExit(f"{PROXY} is missing: `npm ci --prefix hub` (make hub runs it)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)        # the hub's database, cookie secret, passwords
        self.make_accounts()
        self.open_python()
        self.make_exchange()
        self.write_role_configs()
        for user, role in self.users:
            self.write_user_config(user, role)
        self.copy_course()

    def make_accounts(self):
        """Each roster account, with a home only it can read and a fresh random password (PAM
        checks it); the passwords go to a root-only file in the state folder, never elsewhere."""
        for user, _ in self.users:
            if self.account(user) is None:
                run("useradd", "--create-home", "--shell", "/bin/bash", "--comment", MARK, user)
            elif self.account(user).pw_gecos != MARK:
                raise SystemExit(f"{user} is an account of this machine that the classroom did "
                                 f"not make: rename it in {self.roster}")
            os.chmod(self.home(user), 0o700)
            self.passwords[user] = secrets.token_urlsafe(12)
        run("chpasswd", input="".join(f"{u}:{p}\n" for u, p in self.passwords.items()),
            text=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("username,role,password\n")
            f.writelines(f"{u},{r},{self.passwords[u]}\n" for u, r in self.users)

    @property
    def group(self):
        """The class's Unix group (every roster account): what the traversal grant names."""
        return self.instructor.split("-")[0] + "-class"

    def private_dirs(self):
        """Folders on the way to the course's Python (interpreter, standard library, .venv) that
        other accounts cannot enter: a Python built under /root (pyenv), for example."""
        targets = [Path(os.path.realpath(sys.executable)), Path(sys.base_prefix).resolve(),
                   BIN.resolve(), HUB]
        dirs = {d for t in targets for d in t.parents if not d.stat().st_mode & 0o001}
        return sorted(dirs)

    def open_python(self):
        """Let the class's accounts run the course's Python: where a folder on its way is
        private, an ACL lets the class's group through it (traverse only: no listing, no
        reading), and stop() takes it back. The alternative is a .venv built from a Python
        outside any private home (`PYTHON=/usr/bin/python3 make venv`)."""
        run("groupadd", "--force", self.group)
        for user, _ in self.users:
            run("usermod", "--append", "--groups", self.group, user)
        self.opened = self.private_dirs()
        if self.opened and not shutil.which("setfacl"):
            raise SystemExit(f"the class accounts cannot reach the course's Python through "
                             f"{', '.join(map(str, self.opened))}: install Debian's `acl` "
                             "(scripts/install-system-packages) or build .venv from a Python "
                             "outside a private home")
        for folder in self.opened:
            had_acl = run("getfacl", "--skip-base", "--absolute-names", str(folder),
                          capture_output=True, text=True).stdout.strip() != ""
            self.had_acl[folder] = had_acl
            run("setfacl", "--modify", f"g:{self.group}:x", str(folder))
        check = self.as_user(self.instructor, str(BIN / "python"), "-c", "import nbgrader",
                             check=False)
        if check.returncode:
            raise SystemExit(f"{self.instructor} cannot run {BIN / 'python'}:\n{check.stderr}")

    def close_python(self):
        """Takes back the grant: the folder's ACL as it was (none, if it had none)."""
        for folder in self.opened:
            how = ["--remove", f"g:{self.group}"] if self.had_acl.get(folder) else ["--remove-all"]
            subprocess.run(["setfacl", *how, str(folder)], capture_output=True)
        self.opened = []

    def make_exchange(self):
        self.exchange.mkdir(parents=True, exist_ok=True)
        os.chmod(self.exchange, 0o1777)

    def write_role_configs(self):
        """state/jupyter-<role>/: the Jupyter configuration folder each role's server reads first
        (JUPYTER_CONFIG_PATH, set by jupyterhub_config.py): root-owned, so a student cannot turn
        the formgrader back on for the hub's servers."""
        for role in ("student", "instructor"):
            folder = self.state_dir / f"jupyter-{role}"
            (folder / "labconfig").mkdir(parents=True, exist_ok=True)
            off = STUDENT_LAB_OFF if role == "student" else []
            (folder / "labconfig" / "page_config.json").write_text(json.dumps(
                {"disabledExtensions": {name: True for name in off}}, indent=1))
            server_off = STUDENT_SERVER_OFF if role == "student" else []
            (folder / "jupyter_server_config.json").write_text(json.dumps(
                {"ServerApp": {"jpserver_extensions": {n: False for n in server_off}},
                 # No news and no update checks: the servers reach nothing outside the machine.
                 "LabApp": {"news_url": None,
                            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}},
                indent=1))
            for path in [folder, *folder.rglob("*")]:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chmod(self.state_dir, 0o711)        # the servers traverse to their role folder only

    def write_user_config(self, user, role):
        """~/.jupyter/nbgrader_config.py, as nbgrader's JupyterHub guide puts it: the exchange
        and course for everyone, the course folder for the instructor. The same file serves the
        Assignments tab and the `nbgrader` command in a terminal."""
        lines = ["c = get_config()  # noqa: F821",
                 f"c.Exchange.root = {str(self.exchange)!r}",
                 f"c.CourseDirectory.course_id = {self.course_id!r}"]
        if role == "instructor":
            lines.append(f"c.CourseDirectory.root = {str(self.course_dir)!r}")
            # The formgrader reads this file, not the course's: the course's settings (gradebook,
            # preprocessors, sandbox limits) come with it.
            lines.append(f"load_subconfig({str(self.course_dir / 'nbgrader_config.py')!r})")
        folder = self.home(user) / ".jupyter"
        folder.mkdir(exist_ok=True)
        (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
        # JupyterLab's "news?" toast asks to fetch from jupyter.org: answered no, in advance.
        settings = folder / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        run("chown", "-R", f"{user}:{user}", str(folder))

    def copy_course(self):
        """The instructor's course folder: a copy of the course, owned by the instructor, with the
        course's nbgrader_config.py (its root is wherever the file is). Kept if it exists: it
        holds the class's gradebook."""
        dest = self.course_dir
        if dest.exists():
            return
        dest.mkdir()
        for name in COURSE_FILES:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            else:
                shutil.copy(src, dest / name)
        run("chown", "-R", f"{self.instructor}:{self.instructor}", str(dest))

    # ---- start / stop ------------------------------------------------------------------------
    def start(self, timeout=120):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update({
            "PATH": f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            "HUB_PORT": str(self.port),
            "TNN_HUB_STATE": str(self.state_dir),
            "TNN_HUB_ROLES": json.dumps(dict(self.users)),
            "TNN_HUB_PROXY": str(PROXY),
            "TNN_HUB_API_PORT": str(free_port()),
            "TNN_HUB_PROXY_API_PORT": str(free_port()),
        })
        self.log = self.state_dir / "jupyterhub.log"
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(CONFIG)], cwd=self.state_dir, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}hub/api/", timeout=5)
                return url
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"JupyterHub did not start:\n{self.tail()}") from None
                time.sleep(0.5)

    def tail(self, chars=4000):
        return self.log.read_text()[-chars:] if self.log.exists() else ""

    def leftovers(self):
        """Processes left of this class: any process of a roster account, or the proxy/hub."""
        users = {name for name, _ in self.users}
        found = []
        for p in psutil.process_iter(["username", "cmdline"]):
            cmd = " ".join(p.info["cmdline"] or [])
            if p.info["username"] in users or (str(self.state_dir) in cmd) or (
                    str(PROXY) in cmd and f"--port {self.port}" in cmd):
                if p.pid != os.getpid():
                    found.append(p)
        return found

    def stop(self, timeout=60):
        """SIGTERM to the hub: it stops every single-user server and the proxy (cleanup_servers).
        Then whatever is left of the class (a server in a session of its own, a kernel) is
        killed by process group, and checked gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        stray = self.leftovers()
        for p in stray:
            try:
                os.killpg(os.getpgid(p.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        gone, alive = psutil.wait_procs(stray, timeout=10)
        self.close_python()
        if alive:
            raise RuntimeError(f"processes of the class survived: {alive}")
        return [p.pid for p in stray]

    def remove_accounts(self):
        """The roster's accounts and their homes (the test's accounts; `make hub` keeps its)."""
        for user, _ in self.users:
            account = self.account(user)
            if account is not None and account.pw_gecos == MARK:     # never another account
                subprocess.run(["userdel", "--remove", user], capture_output=True)
        subprocess.run(["groupdel", self.group], capture_output=True)

    def describe(self, url):
        lines = [f"Classroom hub: {url}",
                 f"Passwords (root only): {self.password_file}",
                 f"Exchange: {self.exchange}   course_id: {self.course_id}",
                 f"Instructor's course folder: {self.course_dir}", "Accounts:"]
        lines += [f"  {user:24} {role}" for user, role in self.users]
        return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
    parser.add_argument("--state", type=Path, default=HUB / "state")
    parser.add_argument("--roster", type=Path, default=HUB / "roster.csv")
    parser.add_argument("--exchange", type=Path, default=EXCHANGE)
    args = parser.parse_args(argv)
    room = Classroom(args.state, args.port, args.roster, args.exchange)
    room.setup()
    url = room.start()
    print(room.describe(url), "\nCtrl-C stops the hub, its proxy and every server.", flush=True)
    try:
        # Ctrl-C stops the class even where the shell started this with SIGINT ignored (`&`).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while room.process.poll() is None:
            time.sleep(1)
        print(f"JupyterHub exited:\n{room.tail()}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stray = room.stop()
        print(f"Stopped: the hub, its proxy and the single-user servers "
              f"({len(stray)} stray processes ended).")


if __name__ == "__main__":
    main()
