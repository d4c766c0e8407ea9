"""moto's S3 server for the fast S3 tier: in this process, on 127.0.0.1 at an ephemeral port.

``moto_s3`` (session-scoped) starts one server for the whole run and stops it at the end; it
answers any credentials. Each test takes a fresh bucket (see ``tests/blobs/test_s3.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer
from tests.harness.s3 import S3Endpoint

__all__ = ["moto_s3"]


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[S3Endpoint]:
    """A moto S3 server for the whole run (fails, never skips, when it cannot start)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
        host, port = server.get_host_and_port()
    except Exception as exc:
        pytest.fail(f"could not start moto's S3 server: {exc}", pytrace=False)
    try:
        yield S3Endpoint(
            url=f"http://{host}:{port}",
            access_key="moto-access",
            secret_key="moto-secret",
            enforces=False,
            encryptions=frozenset({"AES256", "aws:kms"}),  # SSE-C is accepted but ignored
        )
    finally:
        server.stop()
