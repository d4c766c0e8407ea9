"""What every server the harness starts shares: a free loopback port, and a session fixture
body that starts the server in a temporary directory, fails the run loudly (never skips) when
it cannot start, and stops it (by its own PIDs) and removes the directory at the end."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

__all__ = ["free_port", "launch_on_a_free_port", "session_server"]


class _Stoppable(Protocol):
    def stop(self) -> None: ...


class _Launchable(Protocol):
    port: int

    def launch(self) -> None: ...
    def wait_ready(self) -> None: ...
    def stop(self) -> None: ...
    def log_tail(self) -> str: ...


_S = TypeVar("_S", bound=_Stoppable)
_L = TypeVar("_L", bound=_Launchable)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def session_server(name: str, prefix: str, start: Callable[[Path], _S]) -> Iterator[_S]:
    """Yield ``start(base)`` for a fresh temporary *base* (a short path: Ceph's admin sockets
    must fit in a unix socket address); ``pytest.fail`` naming *name* if it cannot start."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        server = start(base)
    except Exception as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start {name} for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def launch_on_a_free_port(server: _L, *, in_use: str, attempts: int = 3) -> _L:
    """Launch *server* and wait until it answers; if another process took its port meanwhile
    (its log says *in_use*), try again on another free port."""
    for attempt in range(attempts):
        server.launch()
        try:
            server.wait_ready()
            return server
        except RuntimeError:
            server.stop()
            if attempt == attempts - 1 or in_use not in server.log_tail():
                raise
            server.port = free_port()
    raise AssertionError("unreachable")
