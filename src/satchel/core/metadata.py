"""Custom metadata (``meta``): what a caller may store, and how what is stored is read back.

Checked at the door, so that nothing stored can later break a read, a listing or a response:
a JSON object of at most ``max_bytes`` as canonical JSON, nested at most :data:`MAX_META_DEPTH`
deep, with string keys of at most :data:`MAX_META_KEY_CHARS` characters, no NUL and no lone
surrogate anywhere (they cannot be written as UTF-8), and finite numbers. Rows stored before
these rules are read through :func:`readable_meta`, which never raises.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from satchel.core.errors import InvalidRequestError, TooLargeError

__all__ = [
    "MAX_META_DEPTH",
    "MAX_META_KEY_CHARS",
    "check_meta",
    "encode_meta",
    "meta_problem",
    "readable_meta",
]

MAX_META_DEPTH = 32
"""How deep objects and arrays may nest in ``meta`` (the document itself is level 1)."""

MAX_META_KEY_CHARS = 256

logger = logging.getLogger("satchel.metadata")


def encode_meta(meta: dict[str, Any]) -> str:
    """Canonical JSON text of a metadata document."""
    # allow_nan=False: NaN and Infinity are not JSON, and the catalog's JSON functions reject them.
    return json.dumps(
        meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not UTF-8)"
    return None


def meta_problem(value: object) -> str | None:
    """What makes *value* unfit as ``meta`` (structure and text; not its size), or None.

    Walks the document iteratively, so an absurdly deep one is refused, not a RecursionError.
    """
    if not isinstance(value, dict):
        return f"meta must be a dict, got {type(value).__name__}"
    pending: list[tuple[object, int, str]] = [(value, 1, "meta")]
    while pending:
        node, depth, where = pending.pop()
        if isinstance(node, dict | list):
            if depth > MAX_META_DEPTH:
                return f"meta nests deeper than {MAX_META_DEPTH} levels (at {where})"
            if isinstance(node, list):
                pending.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(node))
                continue
            for key, item in node.items():
                if not isinstance(key, str):
                    return f"meta keys must be strings, got {key!r} in {where}"
                if len(key) > MAX_META_KEY_CHARS:
                    return f"a meta key in {where} is longer than {MAX_META_KEY_CHARS} characters"
                problem = _text_problem(key)
                if problem:
                    return f"a meta key in {where} contains {problem}"
                pending.append((item, depth + 1, f"{where}.{key}"))
        elif isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                return f"{where} contains {problem}"
        elif isinstance(node, float):
            if node != node or node in (float("inf"), float("-inf")):
                return f"{where} is not a finite number"
        elif node is not None and not isinstance(node, bool | int):
            return f"{where} is a {type(node).__name__}, not a JSON value"
    return None


def check_meta(value: object, *, max_bytes: int) -> dict[str, Any]:
    """Validate custom metadata (see the module's rules) and return a canonical copy."""
    if value is None:
        return {}
    problem = meta_problem(value)
    if problem:
        raise InvalidRequestError(problem)
    assert isinstance(value, dict)
    text = encode_meta(value)
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise TooLargeError(f"meta is {size} bytes as JSON; the limit is {max_bytes}")
    result: dict[str, Any] = json.loads(text)
    return result


def readable_meta(value: object, *, artifact_id: str = "") -> dict[str, Any]:
    """A stored ``meta`` as something every reader can handle: the document itself when it
    follows the rules, else an empty one (logged), so one bad row never fails a listing."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value or "{}")
        except (ValueError, RecursionError):
            value = None
    if isinstance(value, dict) and meta_problem(value) is None:
        return value
    logger.warning("artifact %s has unreadable stored meta; it reads as {}", artifact_id)
    return {}
