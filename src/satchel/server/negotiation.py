"""Choosing between JSON and CBOR answers (manifests, the event feed)."""

from __future__ import annotations

from fastapi import Request

from satchel.core.errors import InvalidRequestError

__all__ = ["CBOR", "wants_cbor"]

CBOR = "application/cbor"


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in accept.split(","):
        kind, *params = (piece.strip().lower() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[kind] = max(weights.get(kind, 0.0), quality)
    return weights


def wants_cbor(request: Request, format: str | None, *, default: str = "json") -> bool:
    """CBOR when ``format=cbor``; JSON when ``format=json``; else by ``Accept`` q-values, the
    *default* form winning ties (and a missing or ``*/*`` Accept)."""
    if format is not None:
        if format not in ("json", "cbor"):
            raise InvalidRequestError("format must be json or cbor")
        return format == "cbor"
    weights = _weights(request.headers.get("accept", ""))
    anything = weights.get("*/*", 0.0)
    cbor = max(weights.get(CBOR, 0.0), anything)
    json = max(weights.get("application/json", 0.0), anything)
    if default == "cbor":
        return cbor >= json
    return cbor > json
