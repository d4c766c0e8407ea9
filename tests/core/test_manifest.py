"""The manifest codec: canonical JSON (RFC 8785) and deterministic CBOR (RFC 8949 §4.2.1), the
same bytes for the same content whatever order it came in, strict decoding, and relative
paths checked at the door."""

from __future__ import annotations

import hashlib
import json

import pytest

from satchel.core.errors import InvalidRequestError
from satchel.manifest import FORMAT, Manifest, address_of, build, check_relative_path, decode
from satchel.manifest import encode as encode_manifest

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def _manifest(files: list[dict[str, object]] | None = None, **metadata: object) -> Manifest:
    return build(
        name="run-42",
        version="1",
        producer="ci",
        subject="example.org",
        retention_class="raw-evidence",
        metadata=metadata,
        files=files
        if files is not None
        else [
            {"relative_path": "b.txt", "size": 2, "media_type": "text/plain", "sha256": B},
            {"relative_path": "a.txt", "size": 1, "media_type": "text/plain", "sha256": A},
        ],
    )


def test_canonical_json_is_exactly_rfc_8785() -> None:
    manifest = _manifest(z=1e21, a=[1.5, None, True, "é\n"], ü=0.000001)
    expected = (
        '{"files":['
        f'{{"media_type":"text/plain","relative_path":"a.txt","sha256":"{A}","size":1}},'
        f'{{"media_type":"text/plain","relative_path":"b.txt","sha256":"{B}","size":2}}],'
        f'"format":"{FORMAT}",'
        '"metadata":{"a":[1.5,null,true,"é\\n"],"z":1e+21,"ü":0.000001},'
        '"name":"run-42","producer":"ci","retention_class":"raw-evidence",'
        '"subject":"example.org","version":"1"}'
    )
    encoded = encode_manifest(manifest, "json")
    assert encoded == expected.encode()
    assert address_of(manifest) == "sha256:" + hashlib.sha256(encoded).hexdigest()


def test_deterministic_cbor_orders_keys_by_their_encoding_and_uses_shortest_forms() -> None:
    encoded = encode_manifest(_manifest(aa=1, b=1.5, c=2**40), "cbor")
    # metadata: "b" (0x61 62) and "c" sort before "aa" (0x62 61 61); 1.5 is a half float
    # (f9 3e00), 2**40 an 8-byte integer, 1 a single byte
    assert bytes.fromhex("a36162f93e0061631b000001000000000062616101") in encoded
    assert encoded.startswith(bytes.fromhex("a8"))  # a definite map of the eight keys
    assert decode(encoded) == _manifest(aa=1, b=1.5, c=2**40)


def test_the_same_content_gives_the_same_bytes_whatever_its_order() -> None:
    first = _manifest(x=1, y={"k": [1, 2]})
    files = [
        {"sha256": A, "size": 1, "media_type": "text/plain", "relative_path": "a.txt"},
        {"media_type": "text/plain", "relative_path": "b.txt", "sha256": B, "size": 2},
    ]
    second = _manifest(files, y={"k": [1, 2]}, x=1)
    for format in ("json", "cbor"):
        assert encode_manifest(first, format) == encode_manifest(second, format)
        assert decode(encode_manifest(first, format)) == first
    assert [f.relative_path for f in first.files] == ["a.txt", "b.txt"]
    assert first.total_bytes == 3


def test_what_a_manifest_cannot_hold_exactly_is_refused() -> None:
    file = {"relative_path": "a", "size": 1, "media_type": "text/plain", "sha256": A}
    for bad in ({"n": 2**53}, {"n": float("nan")}, {"n": float("inf")}, {"b": b"x"}):
        with pytest.raises(InvalidRequestError, match="metadata"):
            _manifest([file], **bad)
    with pytest.raises(InvalidRequestError, match="two files"):
        _manifest([file, dict(file)])
    for key, value in (
        ("size", -1),
        ("size", True),
        ("sha256", "sha256:xyz"),
        ("media_type", "text/plain\r\nX: y"),
        ("relative_path", "../etc/passwd"),
        ("extra", 1),
    ):
        with pytest.raises(InvalidRequestError, match=r"files\[0\]|relative_path|sha256|media"):
            _manifest([{**file, key: value}])


def test_decode_takes_only_canonical_manifests() -> None:
    manifest = _manifest()
    text = encode_manifest(manifest, "json")
    assert decode(text) == manifest
    spaced = json.dumps(json.loads(text), indent=1).encode()
    for bad in (
        b"",
        b"{",
        b"\xff\x00",
        spaced,  # the same value, not its canonical bytes
        text.replace(FORMAT.encode(), b"other/1"),
        b"[" * 100_000,
        json.dumps({**json.loads(text), "more": 1}).encode(),
    ):
        with pytest.raises(InvalidRequestError):
            decode(bad)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("a.txt", "a.txt"),
        ("dir/sub/file.bin", "dir/sub/file.bin"),
        ("cafe\u0301.txt", "caf\u00e9.txt"),  # NFC
        ("..hidden/x", "..hidden/x"),
    ],
)
def test_relative_paths_are_kept_normalised(given: str, kept: str) -> None:
    assert check_relative_path(given) == kept


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/etc/passwd",
        "C:/x",
        "a/../b",
        "..",
        "./a",
        "a//b",
        "a/",
        "a\\b",
        "a\x00b",
        "a\nb",
        "x" * 256,
        "a/" * 600,
        None,
        7,
    ],
)
def test_relative_paths_that_escape_or_mislead_are_refused(bad: object) -> None:
    with pytest.raises(InvalidRequestError):
        check_relative_path(bad)


def test_whole_floats_that_json_writes_as_big_integers_are_refused() -> None:
    """RFC 8785 writes 1e16 as 10000000000000000 (an integer beyond 2**53 that no reader takes
    exactly) but 1e21 as 1e+21 (a float again): only the first kind is refused."""
    with pytest.raises(InvalidRequestError, match=r"metadata\.a"):
        _manifest(a=1e16)
    with pytest.raises(InvalidRequestError):
        _manifest(a=-9007199254740992.0)
    for fine in (1e21, 9007199254740991.0, 2.0, -0.0, 1.5e300):
        assert decode(encode_manifest(_manifest(a=fine), "cbor")) == decode(
            encode_manifest(_manifest(a=fine), "json")
        )
