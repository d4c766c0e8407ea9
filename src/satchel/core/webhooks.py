"""Webhooks: subscriptions to the event feed, how their requests are signed, when a failed
delivery is retried, and which addresses a webhook may reach.

A subscription names a URL, the event types it wants (names or prefixes, as the feed takes
them) and optionally a subject prefix. Each matching event is POSTed to the URL as JSON, one per
request, in sequence order, with these headers:

``Satchel-Webhook-Id``   the subscription
``Satchel-Event-Seq``    the event's sequence number, also sent as ``Idempotency-Key``
``Satchel-Event-Type``   the event's type
``Satchel-Timestamp``    when the request was signed (Unix seconds)
``Satchel-Signature``    ``v1=`` and the hex HMAC-SHA256, keyed by the subscription's secret,
                         of ``{timestamp}.{body}`` (docs/webhooks.md has a receiver's check)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import random
import secrets
import urllib.parse
from collections.abc import Sequence
from typing import Any

from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_text

__all__ = [
    "MAX_ATTEMPTS",
    "Webhook",
    "address_allowed",
    "backoff",
    "check_max_attempts",
    "check_secret",
    "check_subject_prefix",
    "check_webhook_id",
    "check_webhook_url",
    "new_webhook_id",
    "new_webhook_secret",
    "parse_networks",
    "sign",
    "type_matches",
]

MAX_ATTEMPTS = 50
DEFAULT_ATTEMPTS = 8
MAX_URL_CHARS = 2048
_ID_PREFIX = "wh-"


@dataclasses.dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription (its secret is kept apart: it is shown once, when created)."""

    webhook_id: str
    sandbox_id: str
    url: str
    types: tuple[str, ...]
    subject_prefix: str | None
    description: str
    active: bool
    max_attempts: int
    created_at: float
    actor: str | None

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether *event* (a feed event) is one this subscription wants."""
        if self.types and not type_matches(self.types, event["type"]):
            return False
        return self.subject_prefix is None or event["subject"].startswith(self.subject_prefix)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["types"] = list(self.types)
        return values


def type_matches(types: Sequence[str], name: str) -> bool:
    """*name* is one of *types* or starts with one of its prefixes (``v1.package.`` / ``*``)."""
    for wanted in types:
        if wanted.endswith(("*", ".")):
            if name.startswith(wanted.rstrip("*")):
                return True
        elif name == wanted:
            return True
    return False


def new_webhook_id() -> str:
    return _ID_PREFIX + secrets.token_hex(12)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_webhook_id(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith(_ID_PREFIX)
        or len(value) != len(_ID_PREFIX) + 24
        or any(c not in "0123456789abcdef" for c in value[len(_ID_PREFIX) :])
    ):
        raise InvalidRequestError(f"invalid webhook id: {str(value)[:80]!r}")
    return value


def check_webhook_url(value: object) -> str:
    """An absolute http(s) URL with a host and no credentials (they would show in listings;
    receivers authenticate requests by their signature)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_CHARS:
        raise InvalidRequestError(f"url must be an http(s) URL of at most {MAX_URL_CHARS} chars")
    if any(ord(c) < 33 or ord(c) == 127 or not c.isprintable() for c in value):
        raise InvalidRequestError("url must not contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequestError(f"url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError("url must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequestError("url must not carry credentials (requests are signed)")
    try:
        host = parts.hostname.encode("idna")  # labels of 1-63 characters, a valid IDN
    except UnicodeError:
        raise InvalidRequestError("url has an invalid host name") from None
    if len(host) > 253:
        raise InvalidRequestError("url has a host name longer than 253 characters")
    if port == 0:
        raise InvalidRequestError("url has no valid port")
    return value


def check_secret(value: object) -> str:
    if not isinstance(value, str) or not 16 <= len(value) <= 256 or not value.isascii():
        raise InvalidRequestError("secret must be 16 to 256 ASCII characters")
    if not value.isprintable() or " " in value:
        raise InvalidRequestError("secret must be printable characters without spaces")
    return value


def check_subject_prefix(value: object) -> str | None:
    if value is None or value == "":
        return None
    return check_text("subject_prefix", value, max_chars=128)


def check_max_attempts(value: object) -> int:
    if value is None:
        return DEFAULT_ATTEMPTS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ATTEMPTS:
        raise InvalidRequestError(f"max_attempts must be an integer from 1 to {MAX_ATTEMPTS}")
    return value


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Satchel-Signature`` header of a request with *body* signed at *timestamp*."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number *attempt* (1, 2, …): exponential, capped, with
    jitter (between half and all of the exponential step) so that failed receivers are not
    hit by every replica at once when they come back."""
    step = min(cap, base * 2.0 ** max(0, attempt - 1))
    return step / 2 + (rng or random).uniform(0, step / 2)


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``127.0.0.1/32,10.0.0.0/8`` as networks (for the allow-list setting)."""
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"not a network: {item!r} ({exc})") from None
    return tuple(networks)


def address_allowed(
    address: str, allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    """Public unicast addresses are allowed; private, loopback, link-local, multicast and
    reserved ones only when an allowed network contains them."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in network for network in allowed):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local or any(ip in network for network in _REFUSED_V6):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:  # reaches an IPv4 address: that one decides
            return address_allowed(str(embedded), allowed)
    return ip.is_global and not ip.is_multicast


# IPv6 prefixes that carry an IPv4 address (the last 32 bits) a gateway or the host may route
# to: IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96; RFC 6052).
_EMBEDDING_V6 = tuple(
    ipaddress.IPv6Network(net) for net in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# Local-use NAT64 (RFC 8215): what it translates to is the operator's choice; refused outright.
_REFUSED_V6 = (ipaddress.IPv6Network("64:ff9b:1::/48"),)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:  # 2002::/16
        return ip.sixtofour
    if ip.teredo is not None:  # 2001::/32: the client's address is the one reached
        return ip.teredo[1]
    if any(ip in network for network in _EMBEDDING_V6):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
