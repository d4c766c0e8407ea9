"""Seed 000 README: presigned and multipart uploads, and the Common recipes.

Batch store, directory-like operations, and the listings of the web and MCP examples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from satchel import (
    ArtifactNotFoundError,
    ArtifactStore,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    Settings,
)


async def _body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_presigned_upload_recipe() -> None:
    async with ArtifactStore() as store:
        session_id = "user_alice"
        url, artifact_id = await store.presign_upload(
            session_id=session_id,
            filename="photo.jpg",
            mime_type="image/jpeg",
            expires=1800,  # 30 minutes
        )
        # The client's HTTP PUT, delivered as `satchel serve` delivers it (the HTTP tests curl it).
        stored = await store.signed_put(url.rsplit("/", 1)[1], _body(b"\xff\xd8jpeg"))
        assert stored.size == 6
        await store.register_uploaded_artifact(
            artifact_id, mime="image/jpeg", summary="Profile pic", filename="photo.jpg"
        )
        meta = await store.metadata(artifact_id)
        assert (meta.bytes, meta.filename, meta.session_id) == (6, "photo.jpg", session_id)


async def test_multipart_recipe() -> None:
    async with ArtifactStore(settings=Settings(multipart_min_part_bytes=4)) as store:
        init_request = MultipartUploadInitRequest(
            filename="large_video.mp4",
            mime_type="video/mp4",
            user_id="alice",
            scope="user",
            ttl=3600,  # 1 hour
            meta={"project": "Q4-demo", "resolution": "4K"},
        )
        result = await store.initiate_multipart_upload(init_request)
        upload_id = result["upload_id"]
        artifact_id = result["artifact_id"]
        parts = []
        for part_num, data in ((1, b"part-one"), (2, b"part-two"), (3, b"end")):
            presigned_url = await store.get_part_upload_url(
                upload_id=upload_id, part_number=part_num, expires=3600, user_id="alice"
            )
            token = presigned_url.rsplit("/", 1)[1]
            etag = (await store.signed_put(token, _body(data))).etag
            assert etag is not None
            parts.append(MultipartUploadPart(PartNumber=part_num, ETag=etag))
        complete_request = MultipartUploadCompleteRequest(
            upload_id=upload_id, parts=parts, summary="4K video upload (multipart)"
        )
        final_artifact_id = await store.complete_multipart_upload(complete_request)
        assert final_artifact_id == artifact_id
        metadata = await store.metadata(final_artifact_id, user_id="alice")
        assert metadata.bytes == len(b"part-onepart-twoend")
        assert metadata.scope == "user"
        assert metadata.meta == {"project": "Q4-demo", "resolution": "4K"}
        # Aborting a fresh upload cleans it up; its parts can no longer be sent.
        other = await store.initiate_multipart_upload(
            MultipartUploadInitRequest(filename="large_file.mp4", mime_type="video/mp4")
        )
        url = await store.get_part_upload_url(other["upload_id"], 1)
        assert await store.abort_multipart_upload(other["upload_id"]) is True
        with pytest.raises(ArtifactNotFoundError):
            await store.signed_put(url.rsplit("/", 1)[1], _body(b"late"))


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
        # Their presign_medium step: a URL served by `satchel serve`.
        download_url = await store.presign_medium(file_id)
        assert download_url.startswith("http://127.0.0.1:8000/v1/signed/")
