"""Seed 000's README examples, transcribed with only the import changed to ``satchel``.

Each test keeps the seed's code as written (prints included) and adds assertions after it.
Where the seed leaves a name undefined (``data``, ``pdf_bytes``, ``session_id``…) the test
defines it first. Presigned and multipart URLs need the HTTP service, which this version does
not ship: those calls raise NotSupportedError, asserted on their own.
"""

# The seed's streaming examples open files with blocking calls inside coroutines; they are
# transcribed as written.
# ruff: noqa: ASYNC230, ASYNC240

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import types
from pathlib import Path
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    InvalidRequestError,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    NotSupportedError,
    ProviderError,
    StreamDownloadRequest,
    StreamUploadRequest,
)

logger = logging.getLogger(__name__)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No configuration leaks in: no SATCHEL_/ARTIFACT_/SESSION_ variables, cwd in tmp_path."""
    for name in list(os.environ):
        if name.startswith(("SATCHEL_", "ARTIFACT_", "SESSION_", "SANDBOX_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


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


async def test_quick_start_presign_short_is_not_supported_in_this_version() -> None:
    async with ArtifactStore() as store:
        file_id = await store.store(
            data=b"Hello, world!",
            mime="text/plain",
            summary="greeting",
            filename="hello.txt",
            user_id="alice",
            ttl=900,
        )
        # Generate secure download URL (15 minutes)
        with pytest.raises(NotSupportedError, match="HTTP service") as caught:
            await store.presign_short(file_id)
        assert caught.value.status_code == 501
        for presign in (store.presign_medium, store.presign_long):
            with pytest.raises(NotSupportedError):
                await presign(file_id)
        with pytest.raises(NotSupportedError):
            await store.presign(file_id, expires=3600)
        # Access control runs first: an unknown artifact is not found, not "unsupported".
        with pytest.raises(ArtifactNotFoundError):
            await store.presign_short("0" * 32)
        with pytest.raises(AccessDeniedError):
            await store.presign_short(file_id, user_id="bob")
        # The store is still usable afterwards.
        assert await store.read_file(file_id, as_text=True) == "Hello, world!"


async def test_presigned_uploads_and_multipart_are_not_supported_in_this_version() -> None:
    async with ArtifactStore() as store:
        session_id = "user_alice"
        with pytest.raises(NotSupportedError):
            url, artifact_id = await store.presign_upload(  # noqa: RUF059
                session_id=session_id,
                filename="photo.jpg",
                mime_type="image/jpeg",
                expires=1800,  # 30 minutes
            )
        with pytest.raises(NotSupportedError):
            await store.register_uploaded_artifact(
                "0" * 32, mime="image/jpeg", summary="Profile pic", filename="photo.jpg"
            )
        init_request = MultipartUploadInitRequest(
            filename="large_video.mp4",
            mime_type="video/mp4",
            user_id="alice",
            scope="user",
            ttl=3600,  # 1 hour
            meta={"project": "Q4-demo", "resolution": "4K"},
        )
        with pytest.raises(NotSupportedError):
            await store.initiate_multipart_upload(init_request)
        with pytest.raises(NotSupportedError):
            await store.get_part_upload_url(upload_id="u", part_number=1, expires=3600)
        parts = [MultipartUploadPart(PartNumber=n, ETag=f"etag-part-{n}") for n in (1, 2, 3)]
        complete_request = MultipartUploadCompleteRequest(
            upload_id="u", parts=parts, summary="4K video upload (multipart)"
        )
        with pytest.raises(NotSupportedError):
            await store.complete_multipart_upload(complete_request)
        with pytest.raises(NotSupportedError):
            await store.abort_multipart_upload("u")


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


# -- Storage scopes ----------------------------------------------------------------------------


async def test_session_scoped_storage() -> None:
    async with ArtifactStore() as store:
        # Default behavior - no changes needed
        file_id = await store.store(
            data=b"Temporary work file",
            mime="text/plain",
            summary="Work in progress",
            user_id="alice",
            # scope="session" is default
            ttl=900,  # 15 minutes
        )
        session_id = (await store.metadata(file_id)).session_id

        # Access requires same session
        data = await store.retrieve(file_id, session_id=session_id)

        assert data == b"Temporary work file"
        meta = await store.metadata(file_id)
        assert meta.scope == "session"
        assert meta.expires_at is not None
        with pytest.raises(AccessDeniedError):
            await store.retrieve(file_id, session_id="another-session")


async def test_user_scoped_storage() -> None:
    pdf_bytes = b"%PDF-1.7 Q4 sales"
    async with ArtifactStore() as store:
        # Store persistently for user
        document_id = await store.store(
            data=pdf_bytes,
            mime="application/pdf",
            summary="Q4 Sales Report",
            user_id="alice",
            scope="user",  # Persists across sessions!
            ttl=86400 * 365,  # 1 year (or None for unlimited)
        )

        # Retrieve from any session - just need user_id
        data = await store.retrieve(document_id, user_id="alice")

        # Search all user's artifacts
        alice_files = await store.search(user_id="alice", scope="user")

        # Filter by MIME type
        alice_pdfs = await store.search(
            user_id="alice", scope="user", mime_prefix="application/pdf"
        )

        # Filter by custom metadata
        q4_docs = await store.search(user_id="alice", scope="user", meta_filter={"quarter": "Q4"})

        assert data == pdf_bytes
        assert [f.artifact_id for f in alice_files] == [document_id]
        assert [f.artifact_id for f in alice_pdfs] == [document_id]
        assert list(q4_docs) == []  # the report carries no "quarter" yet
        await store.update_metadata(document_id, meta={"quarter": "Q4"}, user_id="alice")
        q4_docs = await store.search(user_id="alice", scope="user", meta_filter={"quarter": "Q4"})
        assert [f.artifact_id for f in q4_docs] == [document_id]
        assert list(await store.search(user_id="alice", scope="user", mime_prefix="image/")) == []
        assert list(await store.search(user_id="bob", scope="user")) == []

        # From another of alice's sessions.
        other_session = await store.create_session(user_id="alice")
        assert await store.retrieve(document_id, session_id=other_session) == pdf_bytes


async def test_sandbox_scoped_storage() -> None:
    template_bytes = b"\x89PNG logo"
    async with ArtifactStore() as store:
        # Store shared template (admin operation)
        template_id = await store.store(
            data=template_bytes,
            mime="image/png",
            summary="Company logo",
            scope="sandbox",
            ttl=None,  # No expiry
        )

        # Anyone in sandbox can read
        logo_data = await store.retrieve(template_id)  # No user/session needed

        # Search shared resources
        templates = await store.search(scope="sandbox")

        assert logo_data == template_bytes
        assert [t.artifact_id for t in templates] == [template_id]
        assert await store.retrieve(template_id, user_id="bob") == template_bytes
        # Read-only for regular users.
        with pytest.raises(AccessDeniedError):
            await store.update_metadata(template_id, summary="x", user_id="bob")
        with pytest.raises(AccessDeniedError):
            await store.delete(template_id, user_id="bob")
        with pytest.raises(AccessDeniedError):
            await store.store(b"x", mime="text/plain", scope="sandbox", user_id="bob")


async def test_access_control(capsys: pytest.CaptureFixture[str]) -> None:
    async with ArtifactStore() as store:
        # Alice stores a private document
        doc_id = await store.store(
            data=b"Private data",
            mime="text/plain",
            summary="Alice's private doc",
            user_id="alice",
            scope="user",
        )

        # Alice can access it ✅
        data = await store.retrieve(doc_id, user_id="alice")

        # Bob cannot access it ❌
        try:
            data = await store.retrieve(doc_id, user_id="bob")
        except AccessDeniedError:
            print("Access denied!")

        assert data == b"Private data"
    assert "Access denied!" in capsys.readouterr().out


async def test_mcp_server_example_with_persistent_storage() -> None:
    pptx_bytes = b"PK\x03\x04 deck"
    rendered: list[bytes] = []

    class RemotionServer:
        async def render(self, deck: bytes) -> str:
            rendered.append(deck)
            return "video-1"

    remotion_server = RemotionServer()

    store = ArtifactStore()

    # Session 1: User creates a presentation
    deck_id = await store.store(
        data=pptx_bytes,
        mime="application/vnd.ms-powerpoint",
        summary="Q4 Sales Deck",
        user_id="alice",
        scope="user",  # Persists beyond session!
        ttl=None,  # No expiry
    )

    # Session 2: Different MCP server retrieves and processes
    # (works because it's user-scoped, not session-scoped!)
    deck_data = await store.retrieve(deck_id, user_id="alice")
    video_id = await remotion_server.render(deck_data)

    # Session 3: User finds all their work across all sessions
    artifacts = await store.search(user_id="alice", scope="user")
    print(f"Found {len(artifacts)} files")

    assert video_id == "video-1"
    assert rendered == [pptx_bytes]
    assert len(artifacts) == 1
    assert (await store.metadata(deck_id)).expires_at is None
    await store.close()


async def test_migration_from_session_only_storage() -> None:
    data = b"some data"
    async with ArtifactStore() as store:
        # Before (session-scoped, ephemeral)
        file_id = await store.store(data, mime="text/plain", user_id="alice")

        before = await store.metadata(file_id)

        # After (user-scoped, persistent)
        file_id = await store.store(
            data,
            mime="text/plain",
            user_id="alice",
            scope="user",  # Add this line
            ttl=None,  # Optional: no expiry
        )

        after = await store.metadata(file_id)
        assert (before.scope, before.ttl) == ("session", 900)
        assert before.expires_at is not None
        assert (after.scope, after.ttl, after.expires_at) == ("user", None, None)


# -- Common recipes ----------------------------------------------------------------------------


async def test_batch_store(capsys: pytest.CaptureFixture[str]) -> None:
    catalog_id = "spring"
    image1_bytes = b"\xff\xd8\xff jpeg"
    async with ArtifactStore() as store:
        # Create session for catalog
        session_id = f"catalog_{catalog_id}"

        files = [
            {
                "data": image1_bytes,
                "mime": "image/jpeg",
                "filename": f"products/img-{i}.jpg",
                "summary": f"Product image {i}",
                "meta": {"product_id": "LPT-001"},
            }
            for i in range(10)
        ]

        file_ids = await store.store_batch(files, session_id=session_id)
        print(f"Uploaded {len([id for id in file_ids if id])} images")

        assert len(file_ids) == len(set(file_ids)) == 10
        listed = await store.list_by_session(session_id)
        assert sorted(f.filename for f in listed) == sorted(
            f"products/img-{i}.jpg" for i in range(10)
        )
        assert all(f.meta == {"product_id": "LPT-001"} for f in listed)
    assert "Uploaded 10 images" in capsys.readouterr().out


async def test_directory_like_operations(capsys: pytest.CaptureFixture[str]) -> None:
    async with ArtifactStore() as store:
        doc_id = await store.store(
            b"# README", mime="text/markdown", filename="docs/README.md", session_id="session-123"
        )
        await store.store(
            b"guide", mime="text/plain", filename="docs/guide.txt", session_id="session-123"
        )
        await store.store(
            b"\x89PNG", mime="image/png", filename="images/logo.png", session_id="session-123"
        )

        # List files in a session
        files = await store.list_by_session("session-123")
        for f in files:
            print(f"{f.filename}: {f.bytes} bytes")

        # Get directory contents
        docs = await store.get_directory_contents("session-123", "docs/")
        images = await store.get_directory_contents("session-123", "images/")

        # Copy within same session (security enforced)
        backup_id = await store.copy_file(doc_id, new_filename="docs/README_backup.md")

        assert len(files) == 3
        assert sorted(f.filename for f in docs) == ["docs/README.md", "docs/guide.txt"]
        assert [f.filename for f in images] == ["images/logo.png"]
        backup = await store.metadata(backup_id)
        assert backup.session_id == "session-123"
        assert backup.filename == "docs/README_backup.md"
        assert await store.retrieve(backup_id) == b"# README"
        docs = await store.get_directory_contents("session-123", "docs/")
        assert len(docs) == 3
    assert "docs/README.md: 8 bytes" in capsys.readouterr().out


async def test_listing_fields_used_by_the_web_and_mcp_examples() -> None:
    async with ArtifactStore() as store:
        user_id = "7"
        session_id = f"user_{user_id}"
        content = b"uploaded"
        file_id = await store.store(
            data=content,
            mime="application/octet-stream",
            summary="Uploaded: a.bin",
            filename="a.bin",
            session_id=session_id,
        )
        files = await store.list_by_session(session_id)
        web = [
            {"id": f.artifact_id, "name": f.filename, "size": f.bytes, "created": f.stored_at}
            for f in files
        ]
        mcp = {
            "files": [
                {"id": f.artifact_id, "name": f.filename, "size": f.bytes, "type": f.mime}
                for f in files
            ]
        }
        assert web[0]["id"] == file_id
        assert web[0]["size"] == len(content)
        assert mcp["files"][0]["type"] == "application/octet-stream"
        # Their presign_medium step needs the HTTP service.
        with pytest.raises(NotSupportedError):
            await store.presign_medium(file_id)


# -- Streaming ---------------------------------------------------------------------------------


def _write_file(path: str, size: int) -> bytes:
    data = (hashlib.sha256(path.encode()).digest() * (size // 32 + 1))[:size]
    Path(path).write_bytes(data)
    return data


async def test_streaming_upload_download_and_hashing(capsys: pytest.CaptureFixture[str]) -> None:
    original = _write_file("large_video.mp4", 5 * 65536 + 123)

    async with ArtifactStore() as store:
        # Open file and create streaming generator
        async def file_chunks():
            with open("large_video.mp4", "rb") as f:
                while chunk := f.read(65536):  # 64KB chunks
                    yield chunk

        # Optional: Track upload progress
        def progress_callback(bytes_sent, total_bytes):
            if total_bytes:
                percent = (bytes_sent / total_bytes) * 100
                print(f"Upload progress: {percent:.1f}%")

        # Create streaming upload request
        request = StreamUploadRequest(
            data_stream=file_chunks(),
            mime="video/mp4",
            summary="Product demo video",
            filename="demo.mp4",
            user_id="alice",
            content_length=os.path.getsize("large_video.mp4"),  # Optional but recommended
            progress_callback=progress_callback,  # Optional
        )

        # Upload with streaming
        artifact_id = await store.stream_upload(request)
        print(f"Uploaded: {artifact_id}")

        upload_output = capsys.readouterr().out
        assert upload_output.count("Upload progress:") == 6
        assert "Upload progress: 100.0%" in upload_output

        # Optional: Track download progress
        def progress_callback(bytes_received, total_bytes):
            if total_bytes:
                percent = (bytes_received / total_bytes) * 100
                print(f"Download progress: {percent:.1f}%")

        # Create streaming download request
        request = StreamDownloadRequest(
            artifact_id=artifact_id,
            user_id="alice",  # For access control
            chunk_size=65536,  # 64KB chunks (default)
            progress_callback=progress_callback,  # Optional
        )

        # Stream download to file
        with open("downloaded.mp4", "wb") as f:
            async for chunk in store.stream_download(request):
                f.write(chunk)

        print("Download complete!")

        download_output = capsys.readouterr().out
        assert download_output.count("Download progress:") == 6
        assert "Download progress: 100.0%" in download_output
        assert Path("downloaded.mp4").read_bytes() == original

        # Memory-efficient processing: stream download and compute hash on-the-fly
        sha256 = hashlib.sha256()
        bytes_processed = 0

        request = StreamDownloadRequest(artifact_id=artifact_id)

        async for chunk in store.stream_download(request):
            sha256.update(chunk)
            bytes_processed += len(chunk)

        print(f"SHA256: {sha256.hexdigest()}")
        print(f"Processed {bytes_processed / 1024 / 1024:.1f} MB")

        meta = await store.metadata(artifact_id)
        assert meta.sha256 == f"sha256:{sha256.hexdigest()}"
        assert bytes_processed == meta.bytes == len(original)
        assert (meta.mime, meta.filename, meta.summary) == (
            "video/mp4",
            "demo.mp4",
            "Product demo video",
        )
        with pytest.raises(AccessDeniedError):
            async for _ in store.stream_download(
                StreamDownloadRequest(artifact_id=artifact_id, user_id="bob")
            ):
                pass


async def test_streaming_with_access_control() -> None:
    processed: list[bytes] = []

    def process_chunk(chunk: bytes) -> None:
        processed.append(chunk)

    async def data_generator():
        for part in (b"%PDF-", b"1.7 ", b"user document"):
            yield part

    async with ArtifactStore() as store:
        # User-scoped streaming upload (persistent)
        request = StreamUploadRequest(
            data_stream=data_generator(),
            mime="application/pdf",
            summary="User document",
            user_id="alice",
            scope="user",  # Persistent, user-owned
            ttl=None,  # No expiry
        )

        artifact_id = await store.stream_upload(request)

        # Only Alice can download (access control enforced)
        request = StreamDownloadRequest(
            artifact_id=artifact_id,
            user_id="alice",  # Required for user-scoped artifacts
        )

        async for chunk in store.stream_download(request):
            process_chunk(chunk)

        assert b"".join(processed) == b"%PDF-1.7 user document"
        meta = await store.metadata(artifact_id)
        assert (meta.scope, meta.owner_id, meta.expires_at) == ("user", "alice", None)
        with pytest.raises(AccessDeniedError):
            async for _ in store.stream_download(
                StreamDownloadRequest(artifact_id=artifact_id, user_id="bob")
            ):
                pass


async def test_concurrent_streaming(capsys: pytest.CaptureFixture[str]) -> None:
    contents = {
        name: _write_file(name, 100_000 + i)
        for i, name in enumerate(["file1.bin", "file2.bin", "file3.bin", "file4.bin", "file5.bin"])
    }

    async with ArtifactStore() as store:

        async def upload_file(file_path):
            async def file_chunks():
                with open(file_path, "rb") as f:
                    while chunk := f.read(65536):
                        yield chunk

            request = StreamUploadRequest(
                data_stream=file_chunks(),
                mime="application/octet-stream",
                summary=f"Upload: {file_path}",
                user_id="alice",
            )
            return await store.stream_upload(request)

        # Upload 5 files concurrently
        files = ["file1.bin", "file2.bin", "file3.bin", "file4.bin", "file5.bin"]
        artifact_ids = await asyncio.gather(*[upload_file(f) for f in files])

        print(f"Uploaded {len(artifact_ids)} files concurrently")

        for name, artifact_id in zip(files, artifact_ids, strict=True):
            assert await store.retrieve(artifact_id, user_id="alice") == contents[name]
    assert "Uploaded 5 files concurrently" in capsys.readouterr().out


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


# -- Configuration -----------------------------------------------------------------------------


async def test_zero_config_store() -> None:
    # Just works! Uses memory providers
    store = ArtifactStore()
    file_id = await store.store(b"zero", mime="text/plain")
    assert store.storage_provider == "memory"
    assert await store.retrieve(file_id) == b"zero"
    await store.close()
    assert not Path("var").exists()  # nothing written to disk


async def test_constructor_arguments(isolated: Path) -> None:
    store = ArtifactStore(
        storage_provider="filesystem", session_provider="memory", sandbox_id="myapp"
    )
    async with store:
        file_id = await store.store(b"on disk", mime="text/plain", user_id="alice")
        meta = await store.metadata(file_id)
        assert store.storage_provider == "filesystem"
        assert store.sandbox_id == "myapp"
        assert meta.key.startswith("grid/myapp/sessions/")
        assert meta.storage_provider == "filesystem"
        stats = await store.get_stats()
        assert stats["storage_provider"] == "filesystem"
        assert stats["session_provider"] == "memory"
        assert stats["sandbox_id"] == "myapp"
    blob = isolated / "var" / "blobs" / "sha256" / meta.sha256[7:9] / meta.sha256[9:11]
    assert (blob / meta.sha256[7:]).read_bytes() == b"on disk"
    assert (isolated / "var" / "satchel.db").is_file()


async def test_environment_configuration(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", "vfs-filesystem")
    monkeypatch.setenv("ARTIFACT_FS_ROOT", str(isolated / "my-artifacts"))
    monkeypatch.setenv("ARTIFACT_SANDBOX_ID", "prod-env")
    monkeypatch.setenv("ARTIFACT_BUCKET", "my-files")
    monkeypatch.setenv("SESSION_PROVIDER", "memory")

    async with ArtifactStore() as store:
        file_id = await store.store(b"configured by env", mime="text/plain", user_id="alice")
        meta = await store.metadata(file_id)
        stats = await store.get_stats()
        status = await store.validate_configuration()

    assert store.storage_provider == "filesystem"
    assert meta.key.startswith("grid/prod-env/sessions/")
    assert (stats["storage_provider"], stats["bucket"], stats["sandbox_id"]) == (
        "filesystem",
        "my-files",
        "prod-env",
    )
    assert status["storage"]["status"] == "ok"
    assert status["storage"]["root"] == str((isolated / "my-artifacts").resolve())
    hexdigest = meta.sha256.removeprefix("sha256:")
    blob = isolated / "my-artifacts" / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    assert blob.read_bytes() == b"configured by env"
    assert (isolated / "var" / "satchel.db").is_file()  # the catalog stays in the data dir


async def test_environment_configuration_vfs_sqlite(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", "vfs-sqlite")
    monkeypatch.setenv("ARTIFACT_SQLITE_PATH", "./artifacts.db")
    async with ArtifactStore() as store:
        file_id = await store.store(b"in sqlite", mime="text/plain")
        assert await store.retrieve(file_id) == b"in sqlite"
        assert store.storage_provider == "sqlite"
    assert (isolated / "artifacts.db").is_file()
    assert not (isolated / "var" / "blobs").exists()


ALIASES = {
    "memory": "memory",
    "vfs-memory": "memory",
    "filesystem": "filesystem",
    "vfs-filesystem": "filesystem",
    "vfs-sqlite": "sqlite",
}


@pytest.mark.parametrize(("alias", "backend"), ALIASES.items())
async def test_provider_alias_as_argument(alias: str, backend: str) -> None:
    async with ArtifactStore(storage_provider=alias) as store:
        file_id = await store.store(b"alias", mime="text/plain", user_id="alice")
        assert await store.retrieve(file_id, user_id="alice") == b"alias"
        assert store.storage_provider == backend
        assert (await store.metadata(file_id)).storage_provider == backend
        assert (await store.validate_configuration())["storage"]["status"] == "ok"


@pytest.mark.parametrize(("alias", "backend"), ALIASES.items())
async def test_provider_alias_from_environment(
    alias: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", alias)
    async with ArtifactStore() as store:
        file_id = await store.store(b"alias", mime="text/plain", user_id="alice")
        assert await store.retrieve(file_id, user_id="alice") == b"alias"
        assert (await store.get_stats())["storage_provider"] == backend


def test_unknown_provider_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidRequestError, match=r"unknown storage provider 'nope'.*known:"):
        ArtifactStore(storage_provider="nope")
    monkeypatch.setenv("ARTIFACT_PROVIDER", "azure")
    with pytest.raises(InvalidRequestError, match=r"unknown storage provider 'azure'.*vfs-sqlite"):
        ArtifactStore()


@pytest.mark.parametrize("alias", ["s3", "vfs-s3", "ibm_cos"])
async def test_s3_is_not_part_of_this_version(alias: str) -> None:
    store = ArtifactStore(storage_provider=alias)
    with pytest.raises(NotSupportedError, match="s3"):
        async with store:
            pass  # pragma: no cover
    with pytest.raises(NotSupportedError):
        await ArtifactStore(storage_provider=alias).store(b"x", mime="text/plain")


async def test_redis_sessions_are_not_part_of_this_version() -> None:
    with pytest.raises(NotSupportedError, match="memory"):
        async with ArtifactStore(session_provider="redis"):
            pass  # pragma: no cover
