"""A real HTTP proxy in front of an S3 server that answers as AWS does for a bucket in another
region: a request signed for any region but ``bucket_region`` gets a 301 ``PermanentRedirect``
naming the bucket's region in ``x-amz-bucket-region`` (what S3's global endpoint answers), or,
with ``mode="400"``, a 400 ``AuthorizationHeaderMalformed`` naming it in ``<Region>`` (what a
regional endpoint answers). Requests signed for the right region, or unsigned, are forwarded
unchanged to the server behind (moto does not check regions itself).

The region a request is signed for is read from its SigV4 credential scope: the
``Authorization`` header, or ``X-Amz-Credential`` of a presigned URL.
"""

from __future__ import annotations

import http.client
import http.server
import re
import threading
import urllib.parse
from typing import Any

from tests.harness.threaded import serve, shut

__all__ = ["RegionProxy"]

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/s3/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class RegionProxy:
    def __init__(self, upstream: str, bucket_region: str, *, mode: str = "301") -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.bucket_region = bucket_region
        self.mode = mode
        self.redirected: list[tuple[str, str, str]] = []  # (method, path, signed region)
        self.forwarded: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()
        self._server = serve(0, self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        shut(self._server)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    pieces = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(pieces)
                        pieces.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _signed_region(self) -> str | None:
                found = _SCOPE.search(self.headers.get("Authorization", ""))
                if found is None:
                    query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                    credential = query.get("X-Amz-Credential", [""])[0]
                    found = _SCOPE.search("Credential=" + credential)
                return found[1] if found else None

            def _handle(self) -> None:
                body = self._body()
                region = self._signed_region()
                if region is not None and region != proxy.bucket_region:
                    with proxy._lock:
                        proxy.redirected.append((self.command, self.path, region))
                    self._wrong_region(region)
                    return
                with proxy._lock:
                    proxy.forwarded.append((self.command, self.path, region))
                self._forward(body)

            def _wrong_region(self, region: str) -> None:
                bucket = urllib.parse.urlsplit(self.path).path.strip("/").split("/")[0]
                if proxy.mode == "301":
                    status, code = 301, "PermanentRedirect"
                    detail = (
                        "<Message>The bucket you are attempting to access must be addressed "
                        "using the specified endpoint.</Message>"
                        f"<Bucket>{bucket}</Bucket><Endpoint>{proxy.url[7:]}</Endpoint>"
                    )
                else:
                    status, code = 400, "AuthorizationHeaderMalformed"
                    detail = (
                        "<Message>The authorization header is malformed; the region "
                        f"'{region}' is wrong; expecting '{proxy.bucket_region}'</Message>"
                        f"<Region>{proxy.bucket_region}</Region>"
                    )
                payload = b"" if self.command == "HEAD" else (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"{detail}<RequestId>proxy</RequestId></Error>"
                ).encode()  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                if proxy.mode == "301" or (self.command == "HEAD" and "/" not in bucket):
                    # as S3 does: always on a redirect, and on any HeadBucket answer
                    self.send_header("x-amz-bucket-region", proxy.bucket_region)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _forward(self, body: bytes) -> None:
                up = proxy.upstream
                connection = http.client.HTTPConnection(up.hostname or "", up.port, timeout=60)
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
                }
                headers["Content-Length"] = str(len(body))
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                finally:
                    connection.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
