"""Seed 000 README: Storage scopes, Access control, the MCP server example and migration."""

from __future__ import annotations

import pytest

from satchel import AccessDeniedError, ArtifactStore

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

        # From another of alice's sessions: the user id is what grants user scope.
        other_session = await store.create_session(user_id="alice")
        data = await store.retrieve(document_id, user_id="alice", session_id=other_session)
        assert data == pdf_bytes
        with pytest.raises(AccessDeniedError):
            await store.retrieve(document_id, session_id=other_session)


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
