"""``/v1/artifacts…`` and ``/v1/presign-upload``: artifact CRUD, listings, content, copies,
moves and presigned URLs. Each route translates HTTP into one store call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.core.errors import InvalidRequestError
from satchel.core.headers import quote_etag
from satchel.core.mime import FORM_MIMES
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import StreamUploadRequest
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import parse_json
from satchel.server.bodies import declared_length, request_body
from satchel.server.content import content_response, read_conditions, wants_file
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["artifacts"])


# -- helpers -------------------------------------------------------------------------------


def metadata_response(meta: ArtifactMetadata, status_code: int = 200) -> JSONResponse:
    """``ArtifactMetadata`` as JSON with its ``ETag``."""
    return JSONResponse(
        meta.to_dict(), status_code=status_code, headers={"ETag": quote_etag(meta.etag)}
    )


def json_query(name: str, raw: str | None) -> dict[str, Any] | None:
    """A JSON-object query parameter (400 on bad JSON or a non-object)."""
    if raw is None:
        return None
    value = parse_json(raw, name)
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{name} must be a JSON object")
    return value


def ttl_query(raw: str | None) -> int | Unset | None:
    """``ttl`` query: absent → UNSET (the scope's default), ``none`` → no expiry, else seconds."""
    if raw is None:
        return UNSET
    if raw in ("none", "null"):
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise InvalidRequestError(f"ttl must be whole seconds or 'none', not {raw!r}")
    return int(raw)


def if_match(request: Request) -> str | None:
    """The ``If-Match`` header, for the store to decide (``*`` admits any version; a weak tag
    never matches, as RFC 9110 compares If-Match strongly)."""
    raw = request.headers.get("if-match")
    return None if raw is None else raw.strip()


def body_mime(request: Request, mime: str | None) -> str | None:
    """The ``mime`` query parameter when given (even empty: the store refuses that), else the
    body's ``Content-Type`` unless it is a form type an HTTP client sends by default (curl's
    ``--data-binary``); None leaves the type to the store (guessed from the filename, or kept
    on an update)."""
    return mime_for(request.headers.get("content-type"), mime)


def mime_for(content_type: str | None, mime: str | None) -> str | None:
    """:func:`body_mime` from the body's ``Content-Type`` value (None when absent)."""
    if mime is not None:
        return mime
    if not content_type or content_type.split(";")[0].strip().lower() in FORM_MIMES:
        return None
    return content_type


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "60" is not a number of seconds


class PatchBody(_Body):
    summary: str | None = None
    meta: dict[str, Any] | None = None
    merge: bool = True
    filename: str | None = None
    mime: str | None = None
    ttl: int | None = None


class CopyBody(_Body):
    new_filename: str | None = None
    target_session_id: str | None = None
    new_meta: dict[str, Any] | None = None
    summary: str | None = None


class MoveBody(_Body):
    new_filename: str | None = None
    new_session_id: str | None = None
    new_meta: dict[str, Any] | None = None


class ExtendTtlBody(_Body):
    additional_seconds: int


class PresignBody(_Body):
    expires: int = DEFAULT_PRESIGN_EXPIRES
    policy: str = "auto"
    """auto, public or presigned (the URL flavor: see ``get_url``)."""


class PresignUploadBody(_Body):
    session_id: str | None = None
    filename: str | None = None
    mime_type: str | None = None
    expires: int = DEFAULT_PRESIGN_EXPIRES
    scope: str = "session"


class RegisterBody(_Body):
    mime: str | None = None
    summary: str = ""
    meta: dict[str, Any] | None = None
    filename: str | None = None
    session_id: str | None = None
    ttl: int | None = None


# -- routes --------------------------------------------------------------------------------


@router.post(
    "/v1/artifacts",
    status_code=201,
    summary="Upload an artifact (raw body, streamed)",
    response_class=JSONResponse,
)
@access(Access.PRINCIPAL)
async def upload_artifact(
    request: Request,
    filename: str | None = None,
    mime: str | None = None,
    summary: str = "",
    scope: str = "session",
    session_id: str | None = None,
    user_id: str | None = None,
    ttl: str | None = None,
    meta: str | None = None,
) -> JSONResponse:
    store = get_store(request)
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    fields: dict[str, Any] = {
        "data_stream": request_body(request),
        "mime": body_mime(request, mime),
        "summary": summary,
        "filename": filename,
        "meta": json_query("meta", meta),
        "scope": scope,
        "content_length": declared_length(request),
        **ids,
    }
    ttl_value = ttl_query(ttl)
    if ttl_value is not UNSET:
        fields["ttl"] = ttl_value
    artifact_id = await store.stream_upload(StreamUploadRequest(**fields))
    return created_response(artifact_id, await store.metadata(artifact_id, **ids))


def created_response(artifact_id: str, created: ArtifactMetadata) -> JSONResponse:
    """The answer to an upload: the new artifact's metadata, 201, with its ``Location``."""
    response = metadata_response(created, 201)
    response.headers["Location"] = f"/v1/artifacts/{artifact_id}"
    return response


# The optional parameters each view reads; any other one given is refused, never ignored.
_VIEW_TAKES = {
    "session": ("cursor", "order"),
    "directory": ("prefix",),
    "search": (
        "scope",
        "mime_prefix",
        "meta_filter",
        "cursor",
        "sha256",
        "filename_glob",
        "order",
        "collection",
    ),
}


@router.get("/v1/artifacts", summary="List a session's artifacts, or search")
@access(Access.READ)
async def list_artifacts(
    request: Request,
    session_id: str | None = None,
    prefix: str | None = None,
    user_id: str | None = None,
    scope: str | None = None,
    mime_prefix: str | None = None,
    meta_filter: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    view: str | None = None,
    sha256: str | None = None,
    filename_glob: str | None = None,
    order: str | None = None,
    collection: str | None = None,
) -> JSONResponse:
    """``view=session`` lists a session, ``view=directory`` a session's filename prefix,
    ``view=search`` searches; without ``view`` the parameters given choose. A search takes
    ``order`` (``stored_at``, default, ``filename``, ``bytes``; ``-`` reverses) and
    ``filename_glob`` (a shell glob of the whole filename) and ``collection`` (its members)."""
    store = get_store(request)
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    if view is None:
        filters = (scope, mime_prefix, meta_filter, sha256, filename_glob, collection)
        searching = any(value is not None for value in filters)
        if session_id is None or searching:
            view = "search"
        else:
            view = "session" if prefix is None else "directory"
    if view in ("session", "directory") and session_id is None:
        raise InvalidRequestError(f"view={view} needs a session_id")
    given = {
        "prefix": prefix,
        "scope": scope,
        "mime_prefix": mime_prefix,
        "meta_filter": meta_filter,
        "cursor": cursor,
        "sha256": sha256,
        "filename_glob": filename_glob,
        "order": order,
        "collection": collection,
    }
    unused = sorted(
        k for k, v in given.items() if v is not None and k not in _VIEW_TAKES.get(view, ())
    )
    if view in _VIEW_TAKES and unused:  # (an unknown view is refused below)
        raise InvalidRequestError(f"view={view} does not take {', '.join(unused)}")
    if view == "directory":
        page = await store.get_directory_contents(
            str(session_id), prefix or "", limit, user_id=ids["user_id"]
        )
    elif view == "session":
        page = await store.list_by_session(
            str(session_id),
            limit,
            cursor=cursor,
            user_id=ids["user_id"],
            order=order or "stored_at",
        )
    elif view != "search":
        raise InvalidRequestError("view must be session, directory or search")
    else:
        if get_principal(request).anonymous and scope is None:
            scope = "sandbox"  # all an anonymous reader may see: search that, not their own
        page = await store.search(
            user_id=ids["user_id"],
            scope=scope,
            mime_prefix=mime_prefix,
            meta_filter=json_query("meta_filter", meta_filter),
            limit=limit,
            session_id=ids["session_id"],
            cursor=cursor,
            sha256=sha256,
            filename_glob=filename_glob,
            order=order or "stored_at",
            collection=collection,
        )
    return JSONResponse(
        {"items": [item.to_dict() for item in page], "next_cursor": page.next_cursor}
    )


@router.get("/v1/artifacts/{artifact_id}", summary="An artifact's metadata")
@access(Access.ARTIFACT_READ)
async def get_metadata(
    request: Request,
    artifact_id: str,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    return metadata_response(await get_store(request).metadata(artifact_id, **ids))


@router.patch("/v1/artifacts/{artifact_id}", summary="Change an artifact's metadata")
@access(Access.PRINCIPAL)
async def patch_metadata(
    request: Request,
    artifact_id: str,
    body: PatchBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    updated = await get_store(request).update_metadata(
        artifact_id,
        summary=body.summary,
        meta=body.meta,
        merge=body.merge,
        filename=body.filename,
        mime=body.mime,
        ttl=body.ttl if "ttl" in body.model_fields_set else UNSET,
        if_match=if_match(request),
        **ids,
    )
    return metadata_response(updated)


@router.delete(
    "/v1/artifacts/{artifact_id}",
    status_code=204,
    summary="Delete an artifact",
    response_class=Response,
)
@access(Access.PRINCIPAL)
async def delete_artifact(
    request: Request,
    artifact_id: str,
    user_id: str | None = None,
    session_id: str | None = None,
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    await get_store(request).delete(artifact_id, if_match=if_match(request), **ids)
    return Response(status_code=204)


@router.get(
    "/v1/artifacts/{artifact_id}/content",
    summary="An artifact's bytes (Range, ETag, If-None-Match, If-Range)",
    response_class=Response,
)
@router.head(
    "/v1/artifacts/{artifact_id}/content",
    summary="An artifact's content headers",
    response_class=Response,
)
@access(Access.ARTIFACT_READ)
async def get_content(
    request: Request,
    artifact_id: str,
    user_id: str | None = None,
    session_id: str | None = None,
) -> Response:
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    content = await get_store(request).open_content(
        artifact_id,
        if_match=if_match(request),
        **read_conditions(request),
        local_file=wants_file(request),
        user_id=ids["user_id"],
        session_id=ids["session_id"],
    )
    return content_response(request, content)


@router.put("/v1/artifacts/{artifact_id}/content", summary="Replace an artifact's content")
@access(Access.PRINCIPAL)
async def put_content(
    request: Request,
    artifact_id: str,
    mime: str | None = None,
    meta: str | None = None,
    filename: str | None = None,
    summary: str | None = None,
    ttl: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    """The body becomes the new content; the query may change metadata in the same version."""
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    updated = await get_store(request).update_file_stream(
        artifact_id,
        request_body(request),
        meta=json_query("meta", meta),
        filename=filename,
        summary=summary,
        mime=body_mime(request, mime),
        ttl=ttl_query(ttl),
        if_match=if_match(request),
        **ids,
    )
    return metadata_response(updated)


@router.post(
    "/v1/artifacts/{artifact_id}/copy",
    status_code=201,
    summary="Copy an artifact within its session",
)
@access(Access.PRINCIPAL)
async def copy_artifact(
    request: Request,
    artifact_id: str,
    body: CopyBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    store = get_store(request)
    new_id = await store.copy_file(
        artifact_id,
        new_filename=body.new_filename,
        target_session_id=body.target_session_id,
        new_meta=body.new_meta,
        summary=body.summary,
        **ids,
    )
    return metadata_response(await store.metadata(new_id, **ids), 201)


@router.post("/v1/artifacts/{artifact_id}/move", summary="Rename an artifact within its session")
@access(Access.PRINCIPAL)
async def move_artifact(
    request: Request,
    artifact_id: str,
    body: MoveBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    moved = await get_store(request).move_file(
        artifact_id,
        new_filename=body.new_filename,
        new_session_id=body.new_session_id,
        new_meta=body.new_meta,
        if_match=if_match(request),
        **ids,
    )
    return metadata_response(moved)


@router.post("/v1/artifacts/{artifact_id}/extend-ttl", summary="Push an artifact's expiry out")
@access(Access.PRINCIPAL)
async def extend_ttl(
    request: Request,
    artifact_id: str,
    body: ExtendTtlBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    extended = await get_store(request).extend_ttl(artifact_id, body.additional_seconds, **ids)
    return metadata_response(extended)


@router.post("/v1/artifacts/{artifact_id}/presign", summary="A presigned download URL")
@access(Access.READ)
async def presign_artifact(
    request: Request,
    artifact_id: str,
    body: PresignBody | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    given = body or PresignBody()
    url = await get_store(request).get_url(artifact_id, given.expires, policy=given.policy, **ids)
    public = url.expires_at is None  # a public artifact's permanent URL
    return JSONResponse(
        {
            "url": url.url,
            "expires_in": None if public else given.expires,
            "expires_at": url.expires_at,
            "public": public,
        }
    )


def _one_session_id(in_query: str | None, in_body: str | None) -> str | None:
    """The session a request names in its query or its body; both is 400 unless they agree
    (a value the route would ignore is never left unchecked)."""
    if in_query is not None and in_body is not None and in_query != in_body:
        raise InvalidRequestError("session_id is given in the query and the body, differently")
    return in_body if in_body is not None else in_query


@router.post("/v1/presign-upload", summary="A presigned upload URL and the artifact id it gets")
@access(Access.PRINCIPAL)
async def presign_upload(
    request: Request,
    body: PresignUploadBody | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    body = body or PresignUploadBody()
    ids = caller_ids(
        request,
        get_principal(request),
        user_id=user_id,
        session_id=_one_session_id(session_id, body.session_id),
    )
    url, artifact_id = await get_store(request).presign_upload(
        ids["session_id"],
        body.filename,
        body.mime_type,
        body.expires,
        user_id=ids["user_id"],
        scope=body.scope,
    )
    return JSONResponse(
        {"upload_url": url.url, "artifact_id": artifact_id, "expires_at": url.expires_at}
    )


@router.post(
    "/v1/artifacts/{artifact_id}/register",
    status_code=201,
    summary="Register the bytes PUT to a presigned upload URL",
)
@access(Access.PRINCIPAL)
async def register_artifact(
    request: Request,
    artifact_id: str,
    body: RegisterBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(
        request,
        get_principal(request),
        user_id=user_id,
        session_id=_one_session_id(session_id, body.session_id),
    )
    store = get_store(request)
    await store.register_uploaded_artifact(
        artifact_id,
        mime=body.mime,
        summary=body.summary,
        meta=body.meta,
        filename=body.filename,
        ttl=body.ttl if "ttl" in body.model_fields_set else UNSET,
        **ids,
    )
    return metadata_response(await store.metadata(artifact_id, **ids), 201)
