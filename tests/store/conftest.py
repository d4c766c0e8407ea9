"""Fixtures of the ArtifactStore library tests: one store per blob backend, and the remote client.

Every test that takes ``store`` (or ``make_store``) runs once per backend: ``memory`` (with an
in-memory catalog), ``filesystem`` and ``sqlite`` (each with a SQLite catalog file under the
test's ``tmp_path``), ``postgres`` (filesystem blobs, catalog on the harness's PostgreSQL: a fresh
database per data directory, copied from a migrated template), and ``remote``: a
:class:`RemoteArtifactStore` with an admin token (which acts for whichever ``user_id`` /
``session_id`` a call names, as the embedded library does) against a real ``satchel serve`` on a
loopback port. Each remote store gets a server of its own with an empty data directory, taken
from ``server_pool`` (forked from a warm interpreter: tests/harness/forkserver.py).

A test marked ``@pytest.mark.satchel_urls("why")`` checks Satchel's own signed URLs (their
tokens, expiry, tampering, small parts); it is not generated for ``s3``, whose presign methods
return S3's URLs (covered in tests/blobs/test_s3_uploads.py and tests/server/test_replicas_s3.py).

A test marked ``@pytest.mark.not_on("memory", reason="why")`` is not generated for the named
backends (for a scenario that cannot exist there).

A test marked ``@pytest.mark.embedded_only("why")`` reaches into the embedded store (its catalog,
its blob store, its clock, its data directory); it is not generated for ``remote``. Embedded
stores run on the ``clock`` fixture (a :class:`~satchel.testing.ManualClock`): a test moves
time with ``clock.advance(seconds)``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.store.internals import InspectableRemote, blobs_of

from satchel import ArtifactStore, Settings
from satchel.testing import ManualClock
from satchel.testing.env import is_configuration

BACKENDS = {
    # fixture id -> (storage_provider argument, the store's normalised backend name)
    "memory": (None, "memory"),
    "filesystem": ("filesystem", "filesystem"),
    "sqlite": ("vfs-sqlite", "sqlite"),
    "postgres": ("filesystem", "filesystem"),  # the catalog on PostgreSQL (see catalog_dialect)
    "s3": ("s3", "s3"),  # blobs and upload staging in a bucket of the harness's moto server
}
POSTGRES = "postgres"
REMOTE = "remote"
REMOTE_ADMIN_TOKEN = "admin-token-0001"  # the harness's admin token (tests/conftest.py)


MakeStore = Callable[..., Awaitable[ArtifactStore]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    ids = sorted(BACKENDS)
    if metafunc.definition.get_closest_marker("satchel_urls") is not None:
        ids.remove("s3")  # its presigned URLs are S3's own (tests/server/test_replicas_s3.py)
    not_on = metafunc.definition.get_closest_marker("not_on")
    if not_on is not None:
        ids = [name for name in ids if name not in not_on.args]
    if metafunc.definition.get_closest_marker("embedded_only") is None:
        ids.append(REMOTE)
    metafunc.parametrize("backend", ids, indirect=True)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No configuration from the environment or a ./.env file reaches a test's store."""
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The blob backend under test (its normalised name), or ``remote``."""
    name: str = request.param
    return REMOTE if name == REMOTE else BACKENDS[name][1]


@pytest.fixture
def catalog_dialect(request: pytest.FixtureRequest) -> str:
    """The catalog database of the store under test: ``sqlite`` or ``postgresql``."""
    callspec = getattr(request.node, "callspec", None)
    name = callspec.params.get("backend") if callspec is not None else None
    return "postgresql" if name == POSTGRES else "sqlite"


@pytest.fixture
def provider(backend: str) -> str:
    """The storage provider the store under test reports (the server's, for ``remote``)."""
    return "filesystem" if backend == REMOTE else backend


def _server_env(overrides: dict[str, Any]) -> dict[str, str]:
    """Settings overrides as the ``SATCHEL_*`` environment of a server."""
    if "data_dir" in overrides or "clock" in overrides:
        raise pytest.UsageError(
            "a remote store has no data_dir or clock: mark the test embedded_only"
        )
    env = {
        "SATCHEL_GC_GRACE_SECONDS": "0",
        "SATCHEL_PURGE_INTERVAL_SECONDS": "0",  # tests purge when they mean to
        "SATCHEL_MULTIPART_MIN_PART_BYTES": str(
            Settings.model_fields["multipart_min_part_bytes"].default
        ),
    }
    for name, value in overrides.items():
        env[f"SATCHEL_{name.upper()}"] = str(value)
    return env


@pytest.fixture
def clock() -> ManualClock:
    """The clock of the test's embedded stores: real time, moved forward by ``advance``."""
    return ManualClock()


@pytest.fixture
async def make_store(
    backend: str, catalog_dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[MakeStore]:
    """A factory of opened stores on the backend under test: ``await make_store(**settings)``.

    Keyword arguments are Settings fields (``max_meta_bytes=1024``…) except ``sandbox_id`` and
    ``clock`` (default: the ``clock`` fixture), which go to the constructor (for ``remote``,
    settings become the server's environment). Every store is closed at teardown.
    """
    made: list[Any] = []
    if backend == REMOTE:
        pool = request.getfixturevalue("server_pool")
        servers = []

        async def remote_factory(**overrides: Any) -> Any:
            server = pool.take(**_server_env(overrides))
            servers.append(server)
            remote = InspectableRemote(server.url, REMOTE_ADMIN_TOKEN, timeout=60)
            remote.server_settings = Settings(data_dir=server.data_dir)
            made.append(remote)
            await remote.open()
            return remote

        yield remote_factory
        for remote in made:
            await remote.close()
        for server in servers:
            pool.release(server)
        return

    provider = next(p for p, name in BACKENDS.values() if name == backend)
    databases: dict[Path, str] = {}  # data directory -> its PostgreSQL database
    pg = request.getfixturevalue("postgres_server") if catalog_dialect == "postgresql" else None
    template = request.getfixturevalue("postgres_template") if pg is not None else None

    moto = request.getfixturevalue("moto_s3") if provider == "s3" else None
    buckets: dict[Path, str] = {}  # data directory -> its bucket
    if moto is not None:
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto.secret_key)

    async def factory(**overrides: Any) -> ArtifactStore:
        sandbox_id = overrides.pop("sandbox_id", None)
        clock = overrides.pop("clock", None) or request.getfixturevalue("clock")
        data_dir = overrides.pop("data_dir", tmp_path / f"data{len(made)}")
        if moto is not None:
            # Like a blob directory, a bucket belongs to one data directory.
            if data_dir not in buckets:
                buckets[data_dir] = moto.create_bucket()
            overrides.setdefault("bucket", buckets[data_dir])
            overrides.setdefault("s3_endpoint_url", moto.url)
            overrides.setdefault("s3_region", moto.region)
            overrides.setdefault("s3_addressing_style", "path")
        if pg is not None:
            # Like a SQLite catalog file, a database belongs to one data directory.
            if data_dir not in databases:
                databases[data_dir] = pg.create_database(template=template)
            overrides.setdefault("database_url", pg.url(databases[data_dir]))
        settings = Settings(data_dir=data_dir, **{"gc_grace_seconds": 0, **overrides})
        kwargs: dict[str, Any] = {"settings": settings, "sandbox_id": sandbox_id, "clock": clock}
        if provider is not None:
            kwargs["storage_provider"] = provider
        store = ArtifactStore(**kwargs)
        made.append(store)
        await store.open()
        return store

    yield factory
    for store in made:
        await store.close()
    if pg is not None:
        for database in databases.values():
            pg.drop_database(database)
    if moto is not None:
        for bucket in buckets.values():
            moto.destroy_bucket(bucket)


@pytest.fixture
async def store(make_store: MakeStore, provider: str) -> ArtifactStore:
    """An opened store with default settings on the backend under test."""
    opened = await make_store()
    assert opened.storage_provider == provider
    return opened


# -- helpers shared by the test modules (as fixtures) ----------------------------------------------


async def _snapshot(store: ArtifactStore) -> tuple[dict[str, Any], set[str]]:
    found: set[str] = set()
    cursor: str | None = None
    while True:
        page = await blobs_of(store).list_page(cursor=cursor, limit=1000)
        found.update(info.digest for info in page.blobs)
        cursor = page.next_cursor
        if cursor is None:
            return await store.get_stats(), found


Snapshot = Callable[[ArtifactStore], Awaitable[tuple[dict[str, Any], set[str]]]]


@pytest.fixture
def snapshot() -> Snapshot:
    """``await snapshot(store)``: catalog counts plus stored blobs; equal means nothing written."""
    return _snapshot


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def sha() -> Callable[[bytes], str]:
    """``sha(data)``: the ``sha256:<hex>`` digest a store reports for ``data``."""
    return _sha
