"""Presigned single uploads (seed 000): a URL the client PUTs a file to, then register.

On a backend that hands out its own URLs (S3 without SSE-C) the URL is the backend's and the
bytes go straight there (verified through sha256 on register); otherwise it is Satchel's own
signed URL and the bytes wait in the staging area.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterable
from typing import Any

from satchel._process import named_for_this_process
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ConflictError,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, Scope
from satchel.core.signing import PresignedURL
from satchel.core.unset import UNSET, Unset
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.core.validation import check_id
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.direct import direct_transfers, direct_upload_of
from satchel.store.gate import AccessGate
from satchel.store.signing import Signer
from satchel.store.uploads import ACCEPTED_BODY, Uploads

__all__ = ["PresignedUploadService", "direct_lifetime"]


def direct_lifetime(context: StoreContext, upload: UploadRecord, seconds: int) -> int:
    """A backend URL's lifetime: what was asked, but never past the upload's expiry."""
    return max(1, min(seconds, int(upload.expires_at - context.now())))


class PresignedUploadService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        creator: ArtifactCreator,
        uploads: Uploads,
        signer: Signer,
    ) -> None:
        self.context = context
        self.gate = gate
        self.creator = creator
        self.uploads = uploads
        self.signer = signer

    async def presign_upload(
        self,
        session_id: str | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> tuple[PresignedURL, str]:
        seconds = self.signer.check_expires(expires)
        await self.context.ensure_open()
        spec = self.creator.spec(
            mime=mime_type,
            summary="",
            meta=None,
            filename=filename,
            ttl=UNSET,
            scope=scope,
            user_id=user_id,
            session_id=session_id,
        )
        upload = await self.uploads.start(UploadKind.PRESIGNED, spec)
        transfers = direct_transfers(self.context.blob_backend())
        if transfers is not None:
            direct = await self.uploads.attach_direct(upload, multipart=False)
            lifetime = direct_lifetime(self.context, upload, seconds)
            url = await transfers.presign_put(direct, lifetime)
            return PresignedURL(url, self.context.now() + lifetime), upload.artifact_id
        expires_at = min(self.context.now() + seconds, upload.expires_at)
        grant = self.signer.grant("PUT", "upload", expires_at, upload_id=upload.upload_id)
        return self.signer.url(grant), upload.artifact_id

    async def receive(
        self,
        upload_id: str,
        data: bytes | AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> int:
        """Accept the body PUT to a presigned upload URL; return its size.

        A URL accepts one complete body: each attempt is staged under a key of its own and
        accepted (size and sha256 recorded) only once it arrived whole and matched what it
        declared; a failed attempt leaves an accepted body untouched, and once one is
        accepted later PUTs are refused (409).
        """
        upload = await self.uploads.open(upload_id, None, states=(UploadState.OPEN,))
        # named for this process, so a crash's half-staged attempt is known as abandoned
        attempt = named_for_this_process(secrets.token_hex(6))
        size, digest = await self.uploads.stage_body(
            attempt,
            data,
            max_bytes=self.context.settings.max_upload_bytes,
            length=length,
            sha256=sha256,
        )

        def accepted(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN:
                raise ConflictError(
                    f"upload {current.upload_id} already accepted a body; register it"
                )
            body = {"key": attempt, "size": size, "sha256": digest}
            parts = {**current.parts, ACCEPTED_BODY: body}
            return dataclasses.replace(
                current, state=UploadState.UPLOADED, offset=size, parts=parts
            )

        try:
            await self.uploads.change(upload.upload_id, accepted, event="v1.upload.received")
        except BaseException:
            await self.context.staging.delete(attempt)
            raise
        return size

    async def register_uploaded_artifact(
        self,
        artifact_id: str,
        *,
        mime: str | None = None,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | Unset | None = UNSET,
    ) -> bool:
        check_id("artifact_id", artifact_id)
        caller = await self.gate.caller(user_id, session_id)
        found = await self.uploads.find_by_artifact(artifact_id)
        if found is None or found.kind is not UploadKind.PRESIGNED:
            raise ArtifactNotFoundError(f"no presigned upload reserved artifact {artifact_id}")
        if found.state is UploadState.COMPLETED:
            raise ConflictError(f"artifact {artifact_id} is registered already")
        direct = direct_upload_of(self.context.blob_backend(), found)
        live = not found.is_expired(self.context.now())
        if direct is None and found.state is UploadState.OPEN and live:
            raise ConflictError(f"nothing has been uploaded for artifact {artifact_id} yet")
        states = (UploadState.OPEN,) if direct is not None else (UploadState.UPLOADED,)
        upload = await self.uploads.open(found.upload_id, caller, states=states)
        if session_id is not None and session_id != upload.session_id:
            raise AccessDeniedError("the upload belongs to another session")
        spec = self.creator.spec(
            mime=mime if mime is not None else upload.mime,
            summary=summary,
            meta=meta,
            filename=filename if filename is not None else upload.filename,
            ttl=ttl if ttl is not UNSET else (upload.ttl if upload.ttl else UNSET),
            scope=upload.scope,
            user_id=upload.actor_id,
            session_id=upload.session_id,
        )
        overrides = {
            "mime": spec.mime,
            "summary": spec.summary,
            "meta": spec.meta,
            "filename": spec.filename,
            "ttl": spec.ttl,
        }
        if direct is not None:
            await self.uploads.finish_direct(
                upload, direct, expected_states=states, overrides=overrides
            )
        else:
            body = upload.parts[ACCEPTED_BODY]
            await self.uploads.finish(
                upload,
                self.context.staging.read(str(body["key"])),
                expected_states=states,
                overrides=overrides,
                expected_digest=str(body["sha256"]),
            )
        await self.uploads.drop_staged(upload)
        return True
