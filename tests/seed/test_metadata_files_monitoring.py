"""Seed 000 README: Advanced features (metadata, file operations, monitoring, TTL) and errors."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    ProviderError,
)

logger = logging.getLogger(__name__)


# -- Advanced features -------------------------------------------------------------------------


async def test_rich_metadata() -> None:
    image_bytes = b"\xff\xd8\xff laptop"
    async with ArtifactStore() as store:
        session_id = "catalog-session"
        file_id = await store.store(
            data=image_bytes,
            mime="image/jpeg",
            summary="Product photo",
            filename="products/laptop-pro.jpg",
            session_id=session_id,
            meta={
                "product_id": "LPT-001",
                "tags": ["laptop", "professional"],
                "dimensions": {"width": 1920, "height": 1080},
            },
        )

        # Update metadata without changing content
        await store.update_metadata(
            file_id,
            summary="Updated product photo",
            meta={"tags": ["laptop", "professional", "workspace"]},
            merge=True,
        )

        meta = await store.metadata(file_id)
        assert meta.summary == "Updated product photo"
        assert meta.meta == {
            "product_id": "LPT-001",
            "tags": ["laptop", "professional", "workspace"],
            "dimensions": {"width": 1920, "height": 1080},
        }
        assert meta.version == 2
        assert await store.retrieve(file_id) == image_bytes
        assert meta.sha256 == "sha256:" + hashlib.sha256(image_bytes).hexdigest()


async def test_file_operations(capsys: pytest.CaptureFixture[str]) -> None:
    new_content = b"new content"
    async with ArtifactStore() as store:
        file_id = await store.store(
            b"old content", mime="text/plain", filename="notes.txt", session_id="files-session"
        )

        # Update file content
        await store.update_file(file_id, data=new_content)

        # Copy (same session only)
        copy_id = await store.copy_file(file_id, new_filename="backup.txt")

        # Move/rename
        moved = await store.move_file(file_id, new_filename="renamed.txt")

        # Check existence
        if await store.exists(file_id):
            print("File exists!")

        # Delete
        deleted = await store.delete(file_id)

        assert "File exists!" in capsys.readouterr().out
        assert deleted is True
        assert not await store.exists(file_id)
        assert moved.filename == "renamed.txt"
        assert moved.artifact_id == file_id
        copy = await store.metadata(copy_id)
        assert (copy.filename, copy.session_id) == ("backup.txt", "files-session")
        assert await store.retrieve(copy_id) == new_content  # the copy outlives the original
        with pytest.raises(ArtifactNotFoundError):
            await store.retrieve(file_id)


async def test_monitoring(capsys: pytest.CaptureFixture[str]) -> None:
    async with ArtifactStore() as store:
        await store.store(b"x", mime="text/plain", user_id="alice")

        # Validate configuration
        status = await store.validate_configuration()
        print(f"Storage: {status['storage']['status']}")
        print(f"Sessions: {status['session']['status']}")

        # Get statistics
        stats = await store.get_stats()
        print(f"Provider: {stats['storage_provider']}")
        print(f"Bucket: {stats['bucket']}")

        # Cleanup expired sessions
        cleaned = await store.cleanup_expired_sessions()

        assert status["storage"]["status"] == "ok"
        assert status["session"]["status"] == "ok"
        assert stats["storage_provider"] == "memory"
        assert stats["bucket"] == "artifacts"
        assert isinstance(cleaned, int)
        assert cleaned == 0
    out = capsys.readouterr().out
    assert "Storage: ok" in out
    assert "Provider: memory" in out


async def test_cleanup_expired_sessions_purges_expired_artifacts() -> None:
    async with ArtifactStore() as store:
        # Set TTL when storing
        file_id = await store.store(b"short-lived", mime="text/plain", user_id="alice", ttl=1)
        keeper = await store.store(b"keeper", mime="text/plain", user_id="alice", ttl=3600)
        await asyncio.sleep(1.2)
        with pytest.raises(ArtifactExpiredError):
            await store.retrieve(file_id, user_id="alice")

        # Manual cleanup
        expired = await store.cleanup_expired_sessions()

        assert expired >= 1
        with pytest.raises(ArtifactNotFoundError):
            await store.retrieve(file_id, user_id="alice")
        assert await store.retrieve(keeper, user_id="alice") == b"keeper"


# -- Error handling ----------------------------------------------------------------------------


async def _handler(store: ArtifactStore, file_id: str) -> tuple[Any, int]:
    """Seed 000's error-handling example, as the body of a request handler."""
    try:
        data = await store.retrieve(file_id, user_id="alice")
    except ArtifactNotFoundError:
        return {"error": "File not found"}, 404
    except ArtifactExpiredError:
        return {"error": "File has expired"}, 410
    except AccessDeniedError:
        return {"error": "Access denied"}, 403
    except ProviderError as e:
        logger.error(f"Storage error: {e}")
        return {"error": "Storage unavailable"}, 502
    except ArtifactStoreError:
        return {"error": "Bad request"}, 400
    return data, 200


async def test_error_handling() -> None:
    async with ArtifactStore() as store:
        mine = await store.store(b"mine", mime="text/plain", user_id="alice", scope="user")
        bobs = await store.store(b"bob's", mime="text/plain", user_id="bob", scope="user")
        brief = await store.store(b"brief", mime="text/plain", user_id="alice", ttl=1)
        await asyncio.sleep(1.2)

        assert await _handler(store, mine) == (b"mine", 200)
        assert await _handler(store, "0" * 32) == ({"error": "File not found"}, 404)
        assert await _handler(store, brief) == ({"error": "File has expired"}, 410)
        assert await _handler(store, bobs) == ({"error": "Access denied"}, 403)
        assert await _handler(store, "../etc/passwd") == ({"error": "Bad request"}, 400)
