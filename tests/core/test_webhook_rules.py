"""Webhook rules without I/O: which addresses a webhook may reach (IPv6 forms that carry an IPv4
address included), which URLs are accepted, and the signature a receiver checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from satchel.core.errors import InvalidRequestError
from satchel.core.webhooks import (
    address_allowed,
    backoff,
    check_webhook_url,
    parse_networks,
    sign,
)

REFUSED = [
    "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fec0::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of the cloud metadata address
    "64:ff9b:1::1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]  # fmt: skip
ALLOWED = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_loopback_and_embedded_private_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address, ())


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address, ())


def test_an_allowed_network_lets_its_addresses_through() -> None:
    networks = parse_networks("127.0.0.1/32, 10.0.0.0/8")
    assert address_allowed("127.0.0.1", networks)
    assert address_allowed("10.9.8.7", networks)
    assert not address_allowed("127.0.0.2", networks)
    with pytest.raises(ValueError, match="not a network"):
        parse_networks("10.0.0.0/8,nonsense")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
        "/relative",
        "http://",
        "http://example.com:0/x",
        "http://example.com:99999/x",
        "http://exa mple.com/x",
        "http://example.com/\x00",
        "http://" + "a" * 64 + ".com/",  # a label longer than 63
        "http://" + "a." * 130 + "com/",  # a name longer than 253
        "http://ä..example/",
        "http://example.com/" + "x" * 3000,
        5,
        None,
    ],
)
def test_bad_urls_are_refused(url: object) -> None:
    with pytest.raises(InvalidRequestError):
        check_webhook_url(url)


def test_good_urls_pass() -> None:
    for url in (
        "https://example.com/hook",
        "http://bücher.example:8080/x?y=1",
        "http://[2001:db8::1]/",
    ):
        assert check_webhook_url(url) == url


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"seq":1}'
    expected = hmac.new(b"secret-0123456789", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("secret-0123456789", 1700000000, body) == "v1=" + expected


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (12, 60.0)]:
        delays = [backoff(attempt, base=1.0, cap=60.0) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 10  # jittered, not fixed
