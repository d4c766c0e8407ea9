"""Seed 000 README: Streaming uploads and downloads."""

# The seed's streaming examples open files with blocking calls inside coroutines; they are
# transcribed as written.
# ruff: noqa: ASYNC230, ASYNC240

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from satchel import AccessDeniedError, ArtifactStore, StreamDownloadRequest, StreamUploadRequest

# -- Streaming ---------------------------------------------------------------------------------


async def test_streaming_upload_download_and_hashing(
    capsys: pytest.CaptureFixture[str], write_file: Callable[[str, int], bytes]
) -> None:
    original = write_file("large_video.mp4", 5 * 65536 + 123)

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


async def test_concurrent_streaming(
    capsys: pytest.CaptureFixture[str], write_file: Callable[[str, int], bytes]
) -> None:
    contents = {
        name: write_file(name, 100_000 + i)
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
