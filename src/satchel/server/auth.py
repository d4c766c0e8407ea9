"""Bearer tokens → principals. Static tokens come from ``SATCHEL_AUTH_TOKENS``
(``token=user[@sandbox][:admin],…``); an admin token is also kept in ``{data_dir}/admin.token``
(created on first start) so a fresh install is usable and still closed by default."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from satchel.core.apikeys import ApiKey
from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_id

__all__ = [
    "Principal",
    "TokenTable",
    "ensure_admin_token",
    "parse_shared_tokens",
    "parse_token_spec",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    user_id: str | None
    sandbox_id: str | None = None
    is_admin: bool = False
    name: str = ""
    key: ApiKey | None = None
    """The API key the request presented (None for a static token or anonymous)."""

    @property
    def anonymous(self) -> bool:
        return self.user_id is None and not self.is_admin


ANONYMOUS = Principal(user_id=None, name="anonymous")


def parse_token_spec(spec: str) -> dict[str, Principal]:
    """Parse ``token=user[@sandbox][:admin],…`` (comma or newline separated)."""
    table: dict[str, Principal] = {}
    for raw in spec.replace("\n", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        token, sep, who = item.partition("=")
        if not sep or len(token) < 8:
            raise InvalidRequestError(
                "SATCHEL_AUTH_TOKENS entries are token=user[@sandbox][:admin]"
            )
        if who.split("@")[0].split(":")[0] == "anonymous":
            raise InvalidRequestError("'anonymous' is reserved for anonymous readers")
        is_admin = who.endswith(":admin")
        who = who.removesuffix(":admin")
        user, _, sandbox = who.partition("@")
        table[token.strip()] = Principal(
            user_id=check_id("user_id", user),
            sandbox_id=check_id("sandbox_id", sandbox) if sandbox else None,
            is_admin=is_admin,
            name=user,
        )
    return table


def parse_shared_tokens(spec: str) -> list[str]:
    """Seed 001's ``ARTIFACTSTORE_AUTH_TOKENS``: bare shared secrets, comma or newline
    separated, each acting as an admin (as every token did there)."""
    tokens = [item.strip() for item in spec.replace("\n", ",").split(",") if item.strip()]
    for token in tokens:
        if len(token) < 16 or "=" in token:
            raise InvalidRequestError(
                "ARTIFACTSTORE_AUTH_TOKENS entries are bare secrets of at least 16 characters "
                "(for users and roles use SATCHEL_AUTH_TOKENS: token=user[@sandbox][:admin])"
            )
    return tokens


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenTable:
    """Looks tokens up by digest, in constant time per entry."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        self._entries = [(_digest(token), who) for token, who in principals.items()]

    def add(self, token: str, principal: Principal) -> None:
        self._entries.append((_digest(token), principal))

    def lookup(self, token: str) -> Principal | None:
        wanted = _digest(token)
        found = None
        for digest, principal in self._entries:
            if hmac.compare_digest(digest, wanted):
                found = principal
        return found


def ensure_admin_token(data_dir: Path) -> str:
    """The bootstrap admin token in ``{data_dir}/admin.token`` (mode 0600), created once."""
    path = data_dir / "admin.token"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = "sat_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, token.encode())
    finally:
        os.close(fd)
    return token
