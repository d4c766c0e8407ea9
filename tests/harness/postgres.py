"""A throwaway PostgreSQL for the tests, started from Debian's binaries in a temporary directory.

``postgres_server`` (session-scoped) runs ``initdb`` and ``postgres`` as the ``postgres`` system
user (PostgreSQL refuses to run as root) listening on 127.0.0.1 at a free port, with its unix
socket in the temporary directory and durability switched off (fsync, synchronous commit: a
test database need not survive a crash). It stops the postmaster by its own PID at the end.

``postgres_template`` is a database migrated to the catalog's head once per run;
``postgres_url`` is a fresh database copied from it for one test (``CREATE DATABASE ... TEMPLATE``
takes tens of milliseconds), as a ``postgresql+asyncpg://`` URL.

If the server cannot start the fixture fails with the server's log: these tests never skip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import itertools
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.processes import free_port, launch_on_a_free_port, session_server

__all__ = [
    "PostgresServer",
    "postgres_database",
    "postgres_server",
    "postgres_template",
    "postgres_url",
    "start_postgres",
]

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
TEMPLATE = "satchel_template"
_START_TIMEOUT = 60
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (scripts/system-deps.sh installs it)."""
    versions = sorted(
        (p for p in POSTGRES_ROOT.glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(
            f"no PostgreSQL under {POSTGRES_ROOT}: run `make system-deps` "
            "(scripts/system-deps.sh installs the Debian package)"
        )
    return versions[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    """Run *argv* as the postgres system user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SYSTEM_USER, "--", *argv]
    return argv


@dataclasses.dataclass
class PostgresServer:
    """A running throwaway cluster; ``url(dbname)`` is how Satchel reaches a database in it."""

    bin_dir: Path
    base: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "run"

    @property
    def log_path(self) -> Path:
        return self.base / "postgres.log"

    @property
    def version(self) -> str:
        return self.bin_dir.parent.name

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The same database as a plain libpq / asyncpg DSN."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle ---------------------------------------------------------------------------

    def init(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SYSTEM_USER)
            for path in (self.base, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        initdb = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]
        done = subprocess.run(_as_postgres(initdb), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stdout}{done.stderr}")

    def launch(self) -> None:
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        argv += ["-k", str(self.socket_dir)]
        for name, value in _SETTINGS.items():
            argv += ["-c", f"{name}={value}"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                _as_postgres(argv), stdout=log, stderr=subprocess.STDOUT, cwd=self.base
            )

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited ({self.process.returncode}): {self.log_tail()}"
                )
            probe = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"postgres did not accept connections in {_START_TIMEOUT} s: {self.log_tail()}"
        )

    def postmaster_pid(self) -> int | None:
        """The server's own PID (``runuser`` forks it), from its ``postmaster.pid``."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.strip().isdigit() else None

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), then wait for it and for ``runuser``."""
        if self.process is None or self.process.poll() is not None:
            return
        pid = self.postmaster_pid()
        target = pid if pid is not None else self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            if pid is not None:
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown
            self.process.wait(timeout=30)

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    # -- databases ---------------------------------------------------------------------------

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run *sql* through ``psql`` as the superuser; raise with its output when it fails."""
        argv = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database]
        done = subprocess.run([*argv, "-c", sql], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, template: str | None = None, prefix: str = "satchel") -> str:
        """A new, empty (or *template*-copied) database; returns its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.psql(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_postgres(base: Path, attempts: int = 3) -> PostgresServer:
    """Initialise and start a cluster under *base* (retrying if its port was taken meanwhile)."""
    bin_dir = find_bin_dir()
    server = PostgresServer(bin_dir=bin_dir, base=base, port=free_port())
    server.init()
    return launch_on_a_free_port(server, in_use="already in use", attempts=attempts)


def _migrate(url: str) -> None:
    """Migrate the database at *url* to head (in a thread: the caller may be on an event loop)."""
    from satchel.catalog import Catalog

    async def main() -> None:
        catalog = Catalog(url)
        try:
            await catalog.migrate()
        finally:
            await catalog.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(main())).result()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole run (fails, never skips, when it cannot start)."""
    yield from session_server("PostgreSQL", "satchel-pg-", start_postgres)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a database migrated to the catalog's head, to copy per test."""
    postgres_server.psql(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    postgres_server.psql(f"CREATE DATABASE {TEMPLATE}")
    _migrate(postgres_server.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh migrated database for one test (its name); dropped afterwards."""
    name = postgres_server.create_database(template=postgres_template)
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_database: str) -> str:
    """``postgresql+asyncpg://`` URL of a fresh migrated database of this test's own."""
    return postgres_server.url(postgres_database)
