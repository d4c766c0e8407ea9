"""A blob whose stored bytes were cut short behind the store's back (a torn write, a bad
restore) never reads as a complete answer over HTTP: the response stops short of its declared
Content-Length and the connection is dropped, so a client cannot take it for the artifact. On
a real server, for bytes kept in the catalog (small blobs) and in files alike, through the
content fast path and through the routed endpoint (a conditional GET), and a range within what
is left still reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.harness.stored import shorten_stored


@pytest.mark.parametrize("size", [1_000, 40_000], ids=["kept-in-catalog", "file"])
def test_a_shortened_blob_never_reads_whole(launch_server: Any, size: int) -> None:
    srv = launch_server()
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    with srv.client("alice") as http:
        created = http.post("/v1/artifacts", content=data, params={"mime": "text/plain"})
        assert created.status_code == 201, created.text
        meta = created.json()
        url = f"/v1/artifacts/{meta['artifact_id']}/content"
        assert http.get(url).content == data
    shorten_stored(srv.data_dir, meta["sha256"], size // 2)
    with srv.client("alice") as http:
        for headers in ({}, {"If-None-Match": '"another-version"'}):  # fast path, routed
            with pytest.raises(httpx.RemoteProtocolError):
                http.get(url, headers=headers)
        head = http.get(url, headers={"Range": "bytes=0-99"})
        assert head.status_code == 206
        assert head.content == data[:100]
