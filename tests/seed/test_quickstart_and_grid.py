"""Seed 000 README: Quick Start, Grid architecture, Sessions, Quick test and FAQ."""

from __future__ import annotations

import asyncio
import types

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
)

# -- Quick Start -------------------------------------------------------------------------------


async def test_quick_start() -> None:
    async with ArtifactStore() as store:
        # Store a file (session auto-created from user_id)
        file_id = await store.store(
            data=b"Hello, world!",
            mime="text/plain",
            summary="greeting",
            filename="hello.txt",
            user_id="alice",  # Auto-generates session like "sess-alice-123-abc"
            ttl=900,  # 15 minutes (omit to use default)
        )

        # (presign_short is asserted separately: it needs the HTTP service.)

        # Read file content
        text = await store.read_file(file_id, as_text=True)
        assert text == "Hello, world!"

        # Update the file
        await store.update_file(file_id, data=b"Hello, updated world!", summary="Updated greeting")

        assert await store.read_file(file_id, as_text=True) == "Hello, updated world!"
        meta = await store.metadata(file_id)
        assert meta.summary == "Updated greeting"
        assert meta.filename == "hello.txt"
        assert meta.session_id.startswith("sess-alice-")
        assert meta.ttl == 900
        assert meta.storage_provider == "memory"


async def test_quick_start_presign_short_returns_a_signed_url() -> None:
    async with ArtifactStore() as store:
        # The Quick Start's file (as stored in test_quick_start).
        file_id = await store.store(b"Hello, world!", mime="text/plain", user_id="alice", ttl=900)
        # Generate secure download URL (15 minutes)
        url = await store.presign_short(file_id)
        assert isinstance(url, str)
        assert url.startswith("http://127.0.0.1:8000/v1/signed/")
        assert url.rsplit(".", 1)[1] not in repr(url)  # the signature stays out of logs
        assert (await store.open_signed_content(url.rsplit("/", 1)[1])).artifact_id == file_id
        for presign in (store.presign_medium, store.presign_long):
            assert (await presign(file_id)).startswith("http://127.0.0.1:8000/v1/signed/")
        assert await store.presign(file_id, expires=3600) != url
        # Access control runs first.
        with pytest.raises(ArtifactNotFoundError):
            await store.presign_short("0" * 32)
        with pytest.raises(AccessDeniedError):
            await store.presign_short(file_id, user_id="bob")
        assert await store.read_file(file_id, as_text=True) == "Hello, world!"


# -- Grid architecture -------------------------------------------------------------------------


async def test_grid_paths(capsys: pytest.CaptureFixture[str]) -> None:
    data = b"grid example"
    async with ArtifactStore() as store:
        # Grid paths are generated automatically
        session_id = "example-session"
        file_id = await store.store(data, mime="text/plain", summary="Test", session_id=session_id)

        # Inspect the grid path
        metadata = await store.metadata(file_id)
        print(metadata.key)  # grid/my-app/session-abc123/artifact-def456

        # Parse any grid path
        parsed = store.parse_grid_key(metadata.key)
        print(f"Sandbox: {parsed.sandbox_id}")
        print(f"Session: {parsed.session_id}")
        print(f"Artifact: {parsed.artifact_id}")

        assert metadata.key == f"grid/{store.sandbox_id}/sessions/{session_id}/{file_id}"
        assert parsed.sandbox_id == store.sandbox_id
        assert parsed.session_id == session_id
        assert parsed.artifact_id == file_id
        # The seed's short form parses too.
        short = store.parse_grid_key("grid/my-app/session-abc123/artifact-def456")
        assert short is not None
        assert (short.sandbox_id, short.session_id, short.artifact_id) == (
            "my-app",
            "session-abc123",
            "artifact-def456",
        )
        assert store.parse_grid_key("not/a/grid/key") is None
    out = capsys.readouterr().out
    assert f"Session: {session_id}" in out


# -- Sessions ----------------------------------------------------------------------------------


async def test_session_options_a_and_b() -> None:
    user = types.SimpleNamespace(id="42")
    async with ArtifactStore() as store:
        # Option A: pass user_id → gets auto-generated session like "sess-alice-123-abc"
        file_a = await store.store(
            data=b"Alice's private data",
            mime="text/plain",
            summary="Private file",
            user_id="alice",  # Session auto-created
        )

        # Option B: use your own session ID format
        session_id = f"user_{user.id}"  # Or any format you prefer

        file_b = await store.store(
            data=b"Alice's private data",
            mime="text/plain",
            summary="Private file",
            session_id=session_id,  # Custom ID used directly
        )

        assert (await store.metadata(file_a)).session_id.startswith("sess-alice-")
        assert (await store.metadata(file_b)).session_id == "user_42"


async def test_session_isolation(capsys: pytest.CaptureFixture[str]) -> None:
    async with ArtifactStore() as store:
        # Alice and Bob each get their own sessions
        alice_file = await store.store(
            data=b"Alice's private data",
            mime="text/plain",
            summary="Private file",
            user_id="alice",  # Separate session
        )

        bob_file = await store.store(
            data=b"Bob's private data",
            mime="text/plain",
            summary="Private file",
            user_id="bob",  # Different session
        )

        # Cross-session operations are blocked for security
        alice_meta = await store.metadata(alice_file)
        bob_meta = await store.metadata(bob_file)

        try:
            await store.copy_file(alice_file, target_session_id=bob_meta.session_id)
        except ArtifactStoreError:
            print("🔒 Cross-session access denied!")  # Security enforced

        assert alice_meta.session_id != bob_meta.session_id
        with pytest.raises(AccessDeniedError):
            await store.copy_file(alice_file, target_session_id=bob_meta.session_id)
        with pytest.raises(AccessDeniedError):
            await store.move_file(alice_file, new_session_id=bob_meta.session_id)
        with pytest.raises(AccessDeniedError):
            await store.retrieve(alice_file, session_id=bob_meta.session_id)
        with pytest.raises(AccessDeniedError):
            await store.retrieve(alice_file, user_id="bob")
        assert [m.artifact_id for m in await store.list_by_session(bob_meta.session_id)] == [
            bob_file
        ]
    assert "Cross-session access denied!" in capsys.readouterr().out


# -- Quick test --------------------------------------------------------------------------------


async def test_basic():
    async with ArtifactStore() as store:
        # Store (session auto-created from user_id)
        file_id = await store.store(
            data=b"test",
            mime="text/plain",
            summary="Test",
            user_id="test",  # Session auto-generated
        )

        # Verify
        assert await store.exists(file_id)
        content = await store.read_file(file_id)
        assert content == b"test"

        print("✅ Tests passed!")


def test_quick_test_with_asyncio_run(capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(test_basic())
    assert "✅ Tests passed!" in capsys.readouterr().out


# -- FAQ ---------------------------------------------------------------------------------------


async def test_faq_session_mapping_and_ttl() -> None:
    user = types.SimpleNamespace(id="u1")
    data = b"faq"
    async with ArtifactStore() as store:
        # Pass user_id → session auto-created like "sess-alice-123-abc"
        auto = await store.store(data, mime="text/plain", user_id=user.id)

        # Define your own session ID format
        session_id = f"user_{user.id}"  # Or any format

        # Pass it directly
        custom = await store.store(data, mime="text/plain", session_id=session_id)

        # Set TTL when storing (default: 900s / 15 minutes)
        hour = await store.store(data, mime="text/plain", ttl=3600)  # 1 hour

        assert (await store.metadata(auto)).session_id.startswith("sess-u1-")
        assert (await store.metadata(custom)).session_id == "user_u1"
        assert (await store.metadata(auto)).ttl == 900
        assert (await store.metadata(hour)).ttl == 3600
