"""The OpenAPI document at ``/openapi.json``, made to tell the truth.

FastAPI's generated document knows only what route signatures declare. Satchel's routes read
raw and bounded bodies themselves and check ids, pages and JSON in the store, so the document is
refined here from the same constants the checks use:

- request bodies the routes read themselves are declared (raw bytes, tus bodies, the JSON of
  uploads, completions and batches);
- parameters carry their rules (id pattern and length, page and part ranges, scopes, views,
  digests; JSON parameters as ``application/json`` content);
- every operation lists the error statuses it can answer, each with the one error body, and
  FastAPI's 422 (never sent: a bad request is 400) is gone;
- content routes answer any media type; ``HEAD`` and ``204`` answers have no body;
- a bearer security scheme, required by routes for principals and admins and optional on
  reads (anonymous reads may be allowed), so the explorer at ``/docs`` has an Authorize button.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from satchel.core.errors import ArtifactStoreError
from satchel.core.requests import MAX_PARTS, MultipartUploadInitRequest
from satchel.core.validation import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    MAX_MIME_CHARS,
    MAX_PAGE,
    MAX_SUMMARY_CHARS,
    MIME_PATTERN,
)
from satchel.server.deps import ACCESS_ATTRIBUTE, Access, walk_routes
from satchel.server.routes.packages import ActorBody
from satchel.server.routes.uploads import CompleteRequest, PartUrlRequest

__all__ = ["install_openapi"]

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "description": "Every error answer: a code of the error tree, a message, the request id.",
    "required": ["error", "message", "request_id"],
    "properties": {
        "error": {"type": "string", "description": "the error's code, e.g. invalid_request"},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
    },
}
_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": ID_PATTERN,
}
_JSON_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
_PARAMETERS: dict[str, dict[str, Any]] = {
    "artifact_id": {"schema": _ID},
    "upload_id": {"schema": _ID},
    "session_id": {"schema": _ID},
    "user_id": {"schema": _ID},
    "key_id": {"schema": _ID},
    "package_id": {"schema": _ID},
    "target_id": {"schema": _ID},
    "hold_id": {"schema": _ID},
    "slug": {"schema": _ID},
    "state": {"schema": {"type": "string", "enum": ["open", "finalized"]}},
    "format": {"schema": {"type": "string", "enum": ["json", "cbor"]}},
    "part_number": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_PARTS}},
    "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}},
    "scope": {"schema": {"type": "string", "enum": ["session", "user", "sandbox"]}},
    "view": {"schema": {"type": "string", "enum": ["session", "directory", "search"]}},
    "sha256": {"schema": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}},
    "mime": {"schema": {"type": "string", "maxLength": MAX_MIME_CHARS, "pattern": MIME_PATTERN}},
    "mime_prefix": {"schema": {"type": "string", "maxLength": MAX_MIME_CHARS}},
    "summary": {"schema": {"type": "string", "maxLength": MAX_SUMMARY_CHARS}},
    "meta": _JSON_OBJECT,
    "meta_filter": _JSON_OBJECT,
    "ttl": {
        "schema": {"type": "string", "pattern": "^(none|null|[0-9]{1,19})$"},
        "description": "seconds, or `none` for no expiry",
    },
}
_BYTES = {"schema": {"type": "string", "format": "binary"}}
_RAW = {"required": True, "content": {"application/octet-stream": _BYTES}}
_TUS_BODY = {"content": {"application/offset+octet-stream": _BYTES}}


class _BatchItem(BaseModel):
    data: str
    mime: str | None = None
    summary: str = ""
    filename: str | None = None
    meta: dict[str, Any] | None = None
    ttl: int | None = None


class _Batch(BaseModel):
    items: list[_BatchItem]
    scope: str | None = None
    session_id: str | None = None


_PACKAGE_FILE = "/v1/packages/{package_id}/files/{relative_path}"


_PROXY_FILE = "/api/{remote}/{path}"
_PROXY_PATHS = (_PROXY_FILE, "/config", "/cache-artifact", "/artifacts/{remote}", "/v1/proxy/")


def _serves_bytes(path: str) -> bool:
    """Routes answering content (ranges, conditional GETs, any media type)."""
    return (
        path.endswith("/content")
        or path.startswith("/v1/signed/")
        or path in (_PACKAGE_FILE, _PROXY_FILE)
    )


def _json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": required, "content": {"application/json": {"schema": reference}}}


def _bodies() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("post", "/v1/artifacts"): _RAW,
        ("put", "/v1/artifacts/{artifact_id}/content"): _RAW,
        ("put", "/v1/signed/{token}"): _RAW,
        ("put", "/v1/uploads/{upload_id}/parts/{part_number}"): _RAW,
        ("post", "/v1/uploads"): _json_body(MultipartUploadInitRequest),
        ("post", "/v1/uploads/{upload_id}/parts/{part_number}/url"): _json_body(
            PartUrlRequest, required=False
        ),
        ("post", "/v1/uploads/{upload_id}/complete"): _json_body(CompleteRequest),
        ("post", "/v1/batch"): _json_body(_Batch),
        ("post", "/v1/packages/{package_id}/finalize"): _json_body(ActorBody, required=False),
        ("put", _PACKAGE_FILE): _RAW,
        ("put", _PROXY_FILE): _RAW,
        ("post", "/v1/tus/"): _TUS_BODY,
        ("patch", "/v1/tus/{upload_id}"): {**_TUS_BODY, "required": True},
    }


def _tus_headers(method: str) -> list[dict[str, Any]]:
    digits = {"type": "string", "pattern": "^[0-9]{1,19}$"}
    headers: list[tuple[str, bool, dict[str, Any]]] = [
        # optional (taken as 1.0.0); another version is 412, as tus requires
        ("Tus-Resumable", False, {"type": "string", "enum": ["1.0.0"]})
    ]
    if method == "post":
        headers += [("Upload-Length", True, digits), ("Upload-Metadata", False, {"type": "string"})]
    if method == "patch":
        headers += [("Upload-Offset", True, digits), ("Upload-Checksum", False, {"type": "string"})]
    return [{"name": n, "in": "header", "required": r, "schema": s} for n, r, s in headers]


def _statuses(method: str, path: str, rule: Access | None) -> set[int]:
    """The error statuses an operation can answer."""
    found = {400, 502, 503}
    if rule in (Access.READ, Access.ARTIFACT_READ, Access.PRINCIPAL, Access.ADMIN):
        found |= {401, 403}
    if rule is Access.SIGNED:
        found |= {403, 404, 410}
    if "{" in path:
        found |= {404, 410}
    if method in ("post", "put", "patch", "delete"):
        found |= {409, 412, 413, 415, 429, 507}
    if _serves_bytes(path):
        found |= {412, 416}
    if path.startswith("/v1/tus/"):
        found |= {409, 412, 413, 415, 460}
    if path.startswith("/v1/admin/s3/"):  # no S3 bucket configured
        found |= {409}
    if path.startswith(_PROXY_PATHS):  # an unknown remote; upstream failing, slow, blocked
        found |= {404, 502, 503, 504}
    if rule is Access.PUBLIC:
        found -= {401, 403}
    return found


def _refine_operation(
    method: str, path: str, operation: dict[str, Any], rule: Access | None, bodies: dict[Any, Any]
) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for parameter in operation.get("parameters", []):
        known = _PARAMETERS.get(parameter["name"])
        if known is not None and parameter["in"] in ("path", "query"):
            parameter.pop("schema", None)
            parameter.update(copy.deepcopy(known))
    if path.startswith("/v1/tus/") and method in ("post", "patch", "head", "delete"):
        operation["parameters"] = [*operation.get("parameters", []), *_tus_headers(method)]
    body = bodies.get((method, path))
    if body is not None:
        operation["requestBody"] = copy.deepcopy(body)
    for status, answer in responses.items():
        if method == "head" or status in ("204", "304") or path.startswith("/v1/tus/"):
            answer.pop("content", None)  # (tus answers in headers)
        elif method == "get" and _serves_bytes(path):
            answer["content"] = {"*/*": _BYTES}
        elif method == "get" and path.endswith("/manifest"):
            answer["content"] = {
                "application/json": {"schema": {"type": "object"}},
                "application/cbor": _BYTES,
            }
        elif path == "/metrics":
            answer["content"] = {"text/plain": {"schema": {"type": "string"}}}
    if _serves_bytes(path) and method != "put":
        responses.setdefault("206", {"description": "the requested byte range"})
        responses.setdefault("304", {"description": "not modified (If-None-Match)"})
        if method != "head":
            responses["206"]["content"] = {"*/*": _BYTES}
    if rule in (Access.PRINCIPAL, Access.ADMIN):
        operation["security"] = [{"bearer": []}]
    elif rule in (Access.READ, Access.ARTIFACT_READ):  # a token, or none where allowed
        operation["security"] = [{"bearer": []}, {}]
    for status in sorted(_statuses(method, path, rule)):
        responses.setdefault(
            str(status),
            {
                "description": _DESCRIPTIONS.get(status, "error"),
                "content": {} if method == "head" else {"application/json": {"schema": _ERROR_REF}},
            },
        )


def _descriptions() -> dict[int, str]:
    """Each status's meaning: the first line of the most general error class answering it."""
    found: dict[int, str] = {}
    level = [ArtifactStoreError]
    while level:
        for cls in level:
            found.setdefault(cls.status_code, (cls.__doc__ or cls.code).strip().splitlines()[0])
        level = [sub for parent in level for sub in parent.__subclasses__()]
    return found


_DESCRIPTIONS = _descriptions()


def refine(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    rules: dict[tuple[str, str], Access | None] = {}
    for path, route in walk_routes(app.routes):
        path = path.replace(":path}", "}")  # as the document names it
        if isinstance(route, APIRoute):
            rule = getattr(route.endpoint, ACCESS_ATTRIBUTE, None)
            for method in route.methods or ():
                rules[(method.lower(), path)] = rule
    bodies = _bodies()
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _refine_operation(method, path, operation, rules.get((method, path)), bodies)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = _ERROR_SCHEMA
    schema["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key (satchel keys create), a static token or the admin "
            "token of the data directory",
        }
    }
    for model in (MultipartUploadInitRequest, CompleteRequest, PartUrlRequest, _Batch, ActorBody):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = model_schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the refined document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = refine(schema, app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
