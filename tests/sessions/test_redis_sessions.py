"""Sessions in Redis (the harness's throwaway redis-server): records, key expiry equal to session
expiry, replicas sharing sessions, ``SESSION_PROVIDER=redis`` stores, and a clear error when
Redis cannot be reached."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from satchel import ArtifactStore, Settings
from satchel.core.errors import AccessDeniedError, NotSupportedError, ProviderUnavailableError
from satchel.core.models import SessionRecord
from satchel.sessions import create_session_provider
from satchel.sessions.redis import RedisSessionProvider


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("SATCHEL_", "ARTIFACT_", "SESSION_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def provider(redis_url: str) -> AsyncIterator[RedisSessionProvider]:
    made = create_session_provider("redis", redis_url=redis_url)
    assert isinstance(made, RedisSessionProvider)
    yield made
    await made.close()


def _record(
    session_id: str, expires_in: float | None, user_id: str | None = "alice"
) -> SessionRecord:
    now = time.time()
    expires_at = None if expires_in is None else now + expires_in
    return SessionRecord(session_id, "default", user_id, created_at=now, expires_at=expires_at)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


# -- the provider ---------------------------------------------------------------------------------


async def test_put_get_delete(provider: RedisSessionProvider) -> None:
    record = _record("sess-1", 3600)
    assert await provider.get("sess-1") is None
    await provider.put(record)
    assert await provider.get("sess-1") == record
    await provider.delete("sess-1")
    assert await provider.get("sess-1") is None
    assert (await provider.check())["status"] == "ok"


async def test_key_expires_with_the_session(
    provider: RedisSessionProvider, redis_client: aioredis.Redis
) -> None:
    await provider.put(_record("hour", 3600))
    ttl = await redis_client.ttl(provider.key("hour"))
    assert 3590 <= ttl <= 3600

    await provider.put(_record("forever", None))
    assert await redis_client.ttl(provider.key("forever")) == -1  # a key without expiry

    await provider.put(_record("past", -1))
    assert await redis_client.exists(provider.key("past")) == 0  # never written

    await provider.put(_record("brief", 0.3))
    assert 0 < await redis_client.pttl(provider.key("brief")) <= 300
    await asyncio.sleep(0.4)
    assert await redis_client.exists(provider.key("brief")) == 0  # Redis itself dropped it
    assert await provider.get("brief") is None


async def test_two_providers_on_one_redis_share_sessions(redis_url: str) -> None:
    first = create_session_provider("redis", redis_url=redis_url)
    second = create_session_provider("redis", redis_url=redis_url)
    other_sandbox = create_session_provider("redis", redis_url=redis_url, namespace="elsewhere")
    try:
        record = _record("shared", 600)
        await first.put(record)
        assert await second.get("shared") == record
        assert await other_sandbox.get("shared") is None  # another sandbox's keys
        await second.delete("shared")
        assert await first.get("shared") is None
    finally:
        for provider in (first, second, other_sandbox):
            await provider.close()


async def test_unreachable_redis_is_provider_unavailable() -> None:
    provider = create_session_provider("redis", redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        with pytest.raises(ProviderUnavailableError, match="session store unavailable"):
            await provider.get("anything")
        with pytest.raises(ProviderUnavailableError):
            await provider.put(_record("s", 60))
        check = await provider.check()
        assert check["status"] == "error"
    finally:
        await provider.close()


def test_redis_py_missing_is_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "satchel.sessions.redis", None)  # import fails
    with pytest.raises(NotSupportedError, match=r"satchel\[redis\]"):
        create_session_provider("redis", redis_url="redis://127.0.0.1:6379/0")


def test_unknown_provider_is_not_supported() -> None:
    with pytest.raises(NotSupportedError, match="memory"):
        create_session_provider("memcached")


def test_nothing_imports_redis_unless_asked() -> None:
    code = (
        "import asyncio, sys, satchel\n"
        "async def main():\n"
        "    async with satchel.ArtifactStore() as store:\n"
        "        await store.store(b'x', mime='text/plain')\n"
        "asyncio.run(main())\n"
        "assert not [m for m in sys.modules if m == 'redis' or m.startswith('redis.')]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATCHEL_", "SESSION_"))}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_password_is_not_shown() -> None:
    provider = RedisSessionProvider("redis://user:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in repr(asyncio.run(provider.check()))
    asyncio.run(provider.close())


# -- stores with SESSION_PROVIDER=redis -----------------------------------------------------------


def _store(tmp_path: Path, name: str, redis_url: str, **settings: Any) -> ArtifactStore:
    return ArtifactStore(
        settings=Settings(data_dir=tmp_path / name, redis_url=redis_url, **settings),
        storage_provider="filesystem",
        session_provider="redis",
    )


async def test_environment_selects_redis(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, redis_client: aioredis.Redis
) -> None:
    monkeypatch.setenv("SESSION_PROVIDER", "redis")
    monkeypatch.setenv("SESSION_REDIS_URL", redis_url)
    async with ArtifactStore() as store:
        artifact_id = await store.store(b"x", mime="text/plain", user_id="alice")
        meta = await store.metadata(artifact_id)
        assert meta.session_provider == "redis"
        ttl = await redis_client.ttl(f"satchel:session:default:{meta.session_id}")
        assert 0 < ttl <= 24 * 3600  # the default session lifetime
        assert (await store.validate_configuration())["session"]["status"] == "ok"


async def test_stores_sharing_redis_see_each_others_sessions(
    redis_url: str, tmp_path: Path
) -> None:
    """Two stores with separate catalogs: only Redis connects them."""
    first = _store(tmp_path, "a", redis_url)
    second = _store(tmp_path, "b", redis_url)
    async with first, second:
        session_id = await first.create_session(user_id="alice", ttl_hours=1)
        assert await second.validate_session(session_id)
        info = await second.get_session_info(session_id)
        assert info is not None
        assert info["user_id"] == "alice"
        assert not await second.validate_session("never-created")


async def test_session_expiry_reaches_every_store(redis_url: str, tmp_path: Path) -> None:
    first = _store(tmp_path, "a", redis_url)
    second = _store(tmp_path, "b", redis_url)
    async with first, second:
        session_id = await first.create_session(user_id="alice", ttl_hours=0.5 / 3600)
        assert await second.validate_session(session_id)
        await asyncio.sleep(0.7)
        assert not await second.validate_session(session_id)  # gone from Redis
        assert not await first.validate_session(session_id)  # expired in its catalog


async def test_store_with_unreachable_redis_fails_clearly(tmp_path: Path) -> None:
    store = _store(tmp_path, "a", f"redis://127.0.0.1:{_closed_port()}/0")
    async with store:
        with pytest.raises(ProviderUnavailableError, match="session store unavailable"):
            await store.store(b"x", mime="text/plain", session_id="s1", user_id="alice")
        status = await store.validate_configuration()
        assert status["session"]["status"] == "error"
        assert status["catalog"]["status"] == "ok"


async def test_store_on_postgres_and_redis(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    """The shared deployment shape: replicas on one PostgreSQL catalog and one Redis."""
    replicas = [
        _store(tmp_path, f"r{n}", redis_url, database_url=postgres_url, fs_root=tmp_path / "blobs")
        for n in range(2)
    ]
    async with replicas[0], replicas[1]:
        artifact_id = await replicas[0].store(
            b"shared", mime="text/plain", user_id="alice", session_id="alice-s"
        )
        assert await replicas[1].retrieve(artifact_id, user_id="alice") == b"shared"
        assert await replicas[1].validate_session("alice-s")
        with pytest.raises(AccessDeniedError, match="another user"):
            await replicas[1].store(b"x", mime="text/plain", user_id="bob", session_id="alice-s")
