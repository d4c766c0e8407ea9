"""Secrets named by reference in configuration: ``env:NAME`` or ``file:PATH`` (S3 keys, a pull-
through cache remote's credentials), so the configuration itself never holds them."""

from __future__ import annotations

import os

from satchel.core.errors import InvalidRequestError

__all__ = ["check_reference", "resolve_reference"]


def check_reference(reference: object, what: str) -> str:
    """*reference* when it is ``env:NAME`` or ``file:PATH`` (InvalidRequestError otherwise)."""
    if isinstance(reference, str):
        scheme, _, target = reference.partition(":")
        if scheme in ("env", "file") and target:
            return reference
    raise InvalidRequestError(f"{what} must be env:NAME or file:PATH")


def resolve_reference(reference: str, what: str) -> str:
    """The value a ``env:NAME`` or ``file:PATH`` reference points at (stripped of whitespace).

    Raises:
        InvalidRequestError: the reference is malformed, or names nothing (unset variable,
            unreadable or empty file). The message names the reference, never a value.
    """
    scheme, _, target = reference.partition(":")
    if scheme == "env" and target:
        value = os.environ.get(target, "").strip()
        if not value:
            raise InvalidRequestError(f"{what}: environment variable {target} is not set")
        return value
    if scheme == "file" and target:
        try:
            with open(target, encoding="utf-8") as handle:
                value = handle.read().strip()
        except OSError as exc:
            raise InvalidRequestError(f"{what}: cannot read {target}: {exc.strerror}") from None
        if not value:
            raise InvalidRequestError(f"{what}: {target} is empty")
        return value
    raise InvalidRequestError(f"{what} must be env:NAME or file:PATH, not {reference!r}")
