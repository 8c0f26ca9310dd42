"""A real, throwaway PostgreSQL server for the tests, from Debian's binaries.

`PostgresServer` runs initdb and the server in a temporary directory under /tmp, as an
unprivileged user (initdb and postgres refuse root: when the tests run as root, the server runs
as the `postgres` system user, or `nobody`), listening on 127.0.0.1 only (a free port the OS
picks) and on a unix socket inside that directory, with `trust` authentication for those two and
nothing else, and fsync off. It creates one database and gives its SQLAlchemy URL; on exit it
stops the server (`pg_ctl stop -m fast`) and removes the directory.

Tests use one of its fixtures: `from tests.postgres import postgres_url` (the URL), or
`postgres` (the PostgresServer: its url, port, pid, uid, connect()).
Where Debian's postgresql is not installed (scripts/install-system-packages installs it) they
are skipped.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

HOST = "127.0.0.1"
SUPERUSER = "grader"        # the server's superuser role (trust: no password)
START_TIMEOUT = 60          # seconds for the server to accept connections
STOP_TIMEOUT = 30
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}


def find_bindir():
    """The bin/ of the newest PostgreSQL under /usr/lib/postgresql, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        version = bindir.parent.name
        if (bindir / "pg_ctl").is_file() and (bindir / "postgres").is_file():
            try:
                found.append((tuple(int(part) for part in version.split(".")), bindir))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _server_user():
    """(uid, gid, name) the server runs as: ours, or an unprivileged system user under root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_uid, os.getegid(), entry.pw_name
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry.pw_uid, entry.pw_gid, name
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` user exists to "
                       "run PostgreSQL as (initdb and postgres refuse root)")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server in a temporary directory, for `with PostgresServer() as server:`."""

    def __init__(self, database="gradebook", bindir=None):
        self.database = database
        self.bindir = Path(bindir) if bindir else find_bindir()
        if self.bindir is None:
            raise FileNotFoundError("no PostgreSQL server under /usr/lib/postgresql/*/bin "
                                    "(Debian's `postgresql`: scripts/install-system-packages)")
        self.uid, self.gid, self.user = _server_user()
        self.base = self.data = self.socket_dir = self.log = None
        self.port = None

    @property
    def url(self):
        """SQLAlchemy URL of the server's database, over TCP on 127.0.0.1.

        A plain `postgresql://` URL, as an instructor writes it: SQLAlchemy 2.1 reads it as
        psycopg 3, which the course installs (requirements.txt).
        """
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{self.database}"

    def connect(self, database=None):
        """A psycopg connection to the server (over TCP on 127.0.0.1)."""
        import psycopg

        return psycopg.connect(host=HOST, port=self.port, user=SUPERUSER,
                                dbname=database or self.database, connect_timeout=5)

    def pid(self):
        """The postmaster's process id, from its postmaster.pid."""
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def log_tail(self, lines=30):
        try:
            text = self.log.read_text(errors="replace")
        except (OSError, AttributeError):
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def _as_server_user(self, args):
        args = [str(arg) for arg in args]
        if os.geteuid() != 0:
            return args
        if shutil.which("setpriv", path=_ENV["PATH"]):
            return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                    "--", *args]
        return ["runuser", "-u", self.user, "--", *args]

    def _run(self, *args, timeout):
        return subprocess.run(self._as_server_user(args), cwd=self.base, env=_ENV,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def start(self):
        # Under /tmp, not pytest's tmp_path: /tmp/pytest-of-root is 0700, so the server's user
        # could not reach a directory inside it. This one is the server user's own, 0700; its
        # path stays short, as a unix socket's must (about 100 bytes).
        self.base = Path(tempfile.mkdtemp(prefix="course-postgres-", dir="/tmp"))
        try:
            os.chown(self.base, self.uid, self.gid)
            os.chmod(self.base, 0o700)
            self.data, self.socket_dir = self.base / "data", self.base / "socket"
            self.log = self.base / "server.log"
            self._initdb()
            self._start_server()
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self):
        result = self._run(self.bindir / "initdb", "-D", self.data, "-U", SUPERUSER,
                           "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
                           timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n"
                               f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        # Trust only connections from this machine: the unix socket and 127.0.0.1. No other
        # address is listed, so any other is refused even if it could reach the server.
        (self.data / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 trust\n"
            f"host    all       all   {HOST}/32  trust\n")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# tests/postgres.py: a throwaway server\n"
                       "include_if_exists 'course_test.conf'\n")

    def _start_server(self):
        started = False
        for _attempt in range(3):   # the free port can be taken between asking and listening
            self.port = free_port()
            (self.data / "course_test.conf").write_text(
                f"listen_addresses = '{HOST}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 50\n"
                "shared_buffers = 32MB\n")
            self.socket_dir.mkdir(exist_ok=True)
            for path in (self.socket_dir, self.data / "course_test.conf"):
                os.chown(path, self.uid, self.gid)
            result = self._run(self.bindir / "pg_ctl", "start", "-D", self.data, "-l", self.log,
                               "-w", "-t", START_TIMEOUT, timeout=START_TIMEOUT + 30)
            started = result.returncode == 0
            if started:
                break
            if "already in use" not in self.log_tail():
                break
        if not started:
            raise RuntimeError(f"PostgreSQL did not start ({self.bindir}):\n"
                               f"{result.stdout[-1000:]}{result.stderr[-1000:]}\n"
                               f"server log:\n{self.log_tail()}")
        self._wait_for_connections()

    def _wait_for_connections(self):
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.connect(database="postgres").close()
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL on {HOST}:{self.port} accepts no connection "
                                       f"after {START_TIMEOUT} s: {error}\n"
                                       f"server log:\n{self.log_tail()}") from error
                time.sleep(0.1)

    def _create_database(self):
        connection = self.connect(database="postgres")
        try:
            connection.autocommit = True    # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            connection.close()

    def _postmaster(self):
        """The pid of this server's running postmaster, or None (a stale pid file is ignored)."""
        try:
            pid = self.pid()
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, AttributeError, TypeError):
            return None
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        return pid if uid == self.uid and str(self.data).encode() in cmdline else None

    def stop(self):
        """Stop the server (fast: open sessions are ended) and remove its directory."""
        if self._postmaster() is not None:
            try:
                self._run(self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "fast",
                          "-w", "-t", STOP_TIMEOUT, timeout=STOP_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                pass
            for sig in (signal.SIGQUIT, signal.SIGKILL):    # only if pg_ctl could not stop it
                pid = self._postmaster()
                if pid is None:
                    break
                os.kill(pid, sig)
                time.sleep(2)
        if self.base is not None:
            shutil.rmtree(self.base)
            self.base = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def postgres_server(database="gradebook"):
    """A PostgresServer, started by `with`; skips the test where PostgreSQL is not installed."""
    if find_bindir() is None:
        pytest.skip("Debian's PostgreSQL server is not installed (no "
                    "/usr/lib/postgresql/*/bin/initdb): run scripts/install-system-packages")
    return PostgresServer(database=database)


# Two fixtures, each enough on its own (pytest finds a fixture's own fixtures only where the test
# module imported them too); a module that imports both gets two servers, so use one.

@pytest.fixture(scope="module")
def postgres():
    """A running PostgresServer for the test module, with an empty database `gradebook`."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def postgres_url():
    """SQLAlchemy URL of an empty database on a PostgreSQL server running for the test module:
    postgresql://grader@127.0.0.1:PORT/gradebook."""
    with postgres_server() as server:
        yield server.url
