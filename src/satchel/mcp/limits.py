"""How much of what a caller sent an answer may quote."""

from __future__ import annotations

__all__ = ["MAX_MESSAGE", "clip"]

MAX_MESSAGE = 2000
"""The longest error message a result carries (a message may quote what the caller sent)."""


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
