"""A throwaway ``redis-server`` for the tests: 127.0.0.1 at a free port, no persistence.

``redis_server`` (session-scoped) starts it once per run and stops it by its own PID at the end;
``redis_url`` hands each test a database number of its own, flushed before the test. If the
server cannot start the fixture fails with its log: these tests never skip.
"""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.processes import free_port, launch_on_a_free_port, session_server

__all__ = ["RedisServer", "redis_server", "redis_url", "start_redis"]

_START_TIMEOUT = 30
DATABASES = 16


@dataclasses.dataclass
class RedisServer:
    executable: str
    base: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    _databases: Iterator[int] = dataclasses.field(
        default_factory=lambda: itertools.cycle(range(1, DATABASES))
    )

    @property
    def log_path(self) -> Path:
        return self.base / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def launch(self) -> None:
        argv = [
            self.executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--databases", str(DATABASES),
            "--dir", str(self.base),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited ({self.process.returncode}): {self.log_tail()}"
                )
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer in {_START_TIMEOUT} s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def fresh_database(self) -> int:
        """A database number (1..15, 0 is left alone) emptied for the caller."""
        db = next(self._databases)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
            reply = b""
            while reply.count(b"\r\n") < 2:
                chunk = sock.recv(64)
                if not chunk:
                    break
                reply += chunk
        if reply != b"+OK\r\n+OK\r\n":
            raise RuntimeError(f"redis FLUSHDB {db} failed: {reply!r}")
        return db


def start_redis(base: Path, attempts: int = 3) -> RedisServer:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        raise RuntimeError(
            "redis-server is not installed: run `make system-deps` (scripts/system-deps.sh)"
        )
    server = RedisServer(executable=executable, base=base, port=free_port())
    return launch_on_a_free_port(server, in_use="in use", attempts=attempts)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the whole run (fails, never skips, when it cannot start)."""
    yield from session_server("Redis", "satchel-redis-", start_redis)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://`` URL of a database of this test's own (emptied first)."""
    return redis_server.url(redis_server.fresh_database())
