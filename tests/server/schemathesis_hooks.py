"""Schemathesis hooks for Satchel's API (loaded with ``SCHEMATHESIS_HOOKS``): tus bodies are
raw bytes of their own media type."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
