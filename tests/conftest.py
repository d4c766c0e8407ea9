"""A real `satchel serve` on an ephemeral loopback port, started by the test harness.

Shared by the server, client and CLI tests (fixtures start a server only when a test asks).

``server`` (module-scoped) runs the service in a process of its own with a fresh data
directory and static tokens: ``admin`` (admin role), ``alice`` and ``bob`` (users).
``ServerProcess.restart()`` kills it hard (SIGKILL) and starts it again on the same port and
data directory.

``server``, ``launch_server`` and ``server_pool`` fork their servers from a warm interpreter
(tests/harness/forkserver.py: ``satchel serve`` as ``python -m satchel serve`` runs it, without
its second of imports); ``fresh_server``, several workers (``SATCHEL_WORKERS``) and servers
started through a ``command_prefix`` are ``python -m satchel serve`` processes.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.harness.forkserver import ForkedProcess, ForkServer, shared_fork_server
from tests.harness.processes import free_port

from satchel.testing.env import is_configuration

# Servers the tests start on 127.0.0.1 (session-scoped, started on first use, never skipped).
pytest_plugins = [
    "tests.harness.postgres",
    "tests.harness.redis_server",
    "tests.harness.moto_server",
    "tests.harness.ceph_rgw",
    "tests.harness.s3_fixtures",
]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``-n N --dist loadgroup``) every test that talks to the Ceph RGW runs
    on one worker, so a run starts one cluster, not one per worker: those parametrised onto it
    (``[ceph]`` in the id) and those that take the ``ceph_rgw`` fixture, directly or through
    another fixture."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "ceph" in item.nodeid.lower() or "ceph_rgw" in fixtures:
            item.add_marker(pytest.mark.xdist_group("ceph"))


def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """Under ``--dist loadgroup``, stop the run when xdist could not group the tests: it marks a
    grouped test by its node id, and pytest 9.2 ignores that (pytest-dev/pytest-xdist#1386),
    so the tests would run ungrouped, with one Ceph cluster per worker."""
    ungrouped = [nodeid for nodeid in ids if "ceph" in nodeid.lower() and "@" not in nodeid]
    if ungrouped:
        pytest.exit(
            f"pytest-xdist did not group {ungrouped[0]} (and {len(ungrouped) - 1} more): this "
            "pytest and pytest-xdist do not work together under --dist loadgroup "
            "(see pyproject.toml)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


TOKENS = {
    "admin": "admin-token-0001",
    "alice": "alice-token-0001",
    "bob": "bob-token-00001",
}
_SPEC = f"{TOKENS['admin']}=ops:admin,{TOKENS['alice']}=alice,{TOKENS['bob']}=bob"


@dataclasses.dataclass
class ServerProcess:
    data_dir: Path
    port: int
    extra_env: dict[str, str]
    process: subprocess.Popen[bytes] | ForkedProcess | None = None
    #: runs the server through this (e.g. ``unshare`` into a mount namespace)
    command_prefix: list[str] = dataclasses.field(default_factory=list)
    #: forks the server from this warm interpreter instead of starting Python
    forks: ForkServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, who: str) -> str:
        return TOKENS[who]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}"}

    def client(self, who: str | None = None) -> httpx.Client:
        headers = self.headers(who) if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it to answer (see :meth:`wait_ready`)."""
        env = {key: value for key, value in os.environ.items() if not is_configuration(key)}
        env.update(
            {
                "SATCHEL_DATA_DIR": str(self.data_dir),
                "SATCHEL_PORT": str(self.port),
                "SATCHEL_HOST": "127.0.0.1",
                "SATCHEL_AUTH_TOKENS": _SPEC,
                "SATCHEL_MULTIPART_MIN_PART_BYTES": "1024",
                **self.extra_env,
            }
        )
        if self.forks is not None and not self.command_prefix:
            args = ["serve", "--log-level", "warning"]
            self.process = self.forks.spawn(args, env, Path.cwd(), stdout=self.log_path)
            return
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [
                    *self.command_prefix,
                    *(sys.executable, "-m", "satchel", "serve", "--log-level", "warning"),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.port}.log"

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"satchel serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("satchel serve did not come up within 30 s")

    def stop(self, *, hard: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop(hard=True)
        self.start()


def _launch(
    tmp: Path, extra_env: dict[str, str] | None = None, forks: ForkServer | None = None
) -> Iterator[ServerProcess]:
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True)
    server = ServerProcess(
        data_dir=data_dir, port=free_port(), extra_env=extra_env or {}, forks=forks
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server for a test module: filesystem blobs, with the catalog on SQLite (``[sqlite]``)
    and again on a fresh PostgreSQL database of its own (``[postgres]``), so the service's
    tests run on both catalogs."""
    if request.param == "sqlite":
        yield from _launch(tmp_path_factory.mktemp("server"), forks=shared_fork_server())
        return
    postgres = request.getfixturevalue("postgres_server")
    database = postgres.create_database(template=request.getfixturevalue("postgres_template"))
    try:
        env = {"SATCHEL_DATABASE_URL": postgres.url(database)}
        yield from _launch(tmp_path_factory.mktemp("server-pg"), env, shared_fork_server())
    finally:
        postgres.drop_database(database)


class ServerPool:
    """Fresh servers on demand, one kept warm per environment: taking a server starts its
    successor, so a test rarely waits for a start-up."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        self._tmp = tmp
        self._spares: dict[tuple[tuple[str, str], ...], ServerProcess] = {}
        self._taken: list[ServerProcess] = []

    def _launch(self, env: dict[str, str]) -> ServerProcess:
        data_dir = self._tmp.mktemp("pooled") / "data"
        data_dir.mkdir()
        forks = shared_fork_server()
        srv = ServerProcess(data_dir=data_dir, port=free_port(), extra_env=dict(env), forks=forks)
        srv.launch()
        return srv

    def take(self, **env: str) -> ServerProcess:
        """A server with this extra environment and an empty data directory, all yours."""
        key = tuple(sorted(env.items()))
        srv = self._spares.pop(key, None) or self._launch(env)
        self._spares[key] = self._launch(env)
        self._taken.append(srv)  # stopped at the end even if it never comes up
        srv.wait_ready()
        return srv

    def release(self, srv: ServerProcess) -> None:
        srv.stop(hard=True)  # its data directory is thrown away

    def close(self) -> None:
        for srv in [*self._taken, *self._spares.values()]:
            srv.stop(hard=True)


@pytest.fixture(scope="session")
def server_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """Fresh servers for tests that need an empty one each (see :class:`ServerPool`)."""
    pool = ServerPool(tmp_path_factory)
    yield pool
    pool.close()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, for tests that restart or reconfigure it."""
    yield from _launch(tmp_path)


@pytest.fixture
def launch_server(tmp_path: Path) -> Iterator[object]:
    """``launch_server(**env)`` starts a server with extra environment (e.g. anon read)."""
    started: list[ServerProcess] = []

    def launch(**env: str) -> ServerProcess:
        data_dir = tmp_path / f"data-{len(started)}"
        data_dir.mkdir()
        forks = None if "SATCHEL_WORKERS" in env else shared_fork_server()
        srv = ServerProcess(data_dir=data_dir, port=free_port(), extra_env=env, forks=forks)
        started.append(srv)  # stopped at teardown even if it never comes up
        srv.start()
        return srv

    yield launch
    for srv in started:
        srv.stop()
