"""Schemathesis hooks for Satchel's API (loaded with ``SCHEMATHESIS_HOOKS``): tus bodies are
raw bytes of their own media type; the event feed's long polls are kept short."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))


@schemathesis.hook
def map_query(context: object, query: dict[str, object] | None) -> dict[str, object] | None:
    """A valid ``wait`` of the event feed (up to 30 s per request) becomes 0.1 s: still valid,
    and the run does not sit out long polls. Invalid values are left for negative tests."""
    if query and isinstance(query.get("wait"), (int, float)) and 0.1 < query["wait"] <= 30:
        return {**query, "wait": 0.1}
    return query
