"""A full disk: `satchel serve` with its catalog and filesystem blobs on a small tmpfs (in a
mount namespace of its own). New content is refused with 507 and a clear body, nothing partial
is left, reads keep working, /health says why it is degraded, deletes and GC work even when
something else filled the disk to the last byte, and freeing space recovers without a restart.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import ServerProcess
from tests.harness.processes import free_port

MIB = 1024 * 1024
DISK = 24 * MIB
RESERVE = 4 * MIB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[ServerProcess]:
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace.append("--map-root-user")
    mount = f'mount -t tmpfs -o size={DISK},mode=0700 satchel-test "$0" && exec "$@"'
    server = ServerProcess(
        data_dir=mountpoint,
        port=free_port(),
        extra_env={"SATCHEL_DISK_RESERVE_BYTES": str(RESERVE), "SATCHEL_GC_GRACE_SECONDS": "0"},
        command_prefix=[*namespace, "sh", "-c", mount, str(mountpoint)],
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _inside(server: ServerProcess) -> Path:
    """The tmpfs as the test sees it (through the server's mount namespace)."""
    assert server.process is not None
    return Path(f"/proc/{server.process.pid}/root") / server.data_dir.relative_to("/")


def _free(server: ServerProcess) -> int:
    stat = os.statvfs(_inside(server))
    return stat.f_bavail * stat.f_frsize


def _leftovers(server: ServerProcess) -> list[str]:
    """Temporary or staged files: what a failed write must not leave behind."""
    root = _inside(server)
    found = []
    for path in root.rglob("*"):
        if path.is_file() and (".tmp" in path.name or ".part" in path.name):
            found.append(str(path.relative_to(root)))
    staging = root / "staging"
    if staging.exists():
        found += [f"staging/{p.name}" for p in staging.iterdir()]
    return found


def _fill_to_the_last_byte(path: Path) -> None:
    def fill() -> None:
        with path.open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    with pytest.raises(OSError, match="No space left") as caught:
        fill()
    assert caught.value.errno == errno.ENOSPC


def _assert_507(response: httpx.Response) -> None:
    assert response.status_code == 507, response.text
    body = response.json()
    assert body["error"] == "insufficient_storage"
    assert "disk is full" in body["message"]


def _fill_with_uploads(alice: httpx.Client) -> dict[str, str]:
    stored: dict[str, str] = {}
    for i in range(40):
        data = os.urandom(MIB)
        response = alice.post("/v1/artifacts", params={"filename": f"f{i}.bin"}, content=data)
        if response.status_code != 201:
            _assert_507(response)
            return stored
        stored[response.json()["artifact_id"]] = hashlib.sha256(data).hexdigest()
    raise AssertionError("40 MiB fitted on a 24 MiB disk")


def _reads_back(alice: httpx.Client, stored: dict[str, str]) -> None:
    for artifact_id, digest in stored.items():
        got = alice.get(f"/v1/artifacts/{artifact_id}/content")
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == digest
    listed = alice.get("/v1/artifacts", params={"limit": 100})
    assert listed.status_code == 200
    assert {item["artifact_id"] for item in listed.json()["items"]} >= set(stored)


def test_a_full_disk_refuses_new_content_and_everything_else_keeps_working(
    small_disk: ServerProcess,
) -> None:
    server = small_disk
    reserve = _inside(server) / "space.reserve"
    assert not reserve.exists()  # plenty of room (24 MiB): no reserve yet
    with server.client("alice") as alice, server.client("admin") as admin:
        stored = _fill_with_uploads(alice)
        assert reserve.stat().st_size == RESERVE  # made while there was room for it
        assert len(stored) >= 10
        assert _free(server) >= RESERVE // 2  # Satchel itself stops short of the reserve

        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["checks"]["disk"] == {
            "status": "full",
            "reason": "disk full: new content is refused until space is freed",
        }

        # Every way of adding content is refused the same way, and leaves nothing behind.
        tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "1000"}
        _assert_507(alice.post("/v1/tus/", headers=tus))
        upload = alice.post("/v1/uploads", json={"filename": "m.bin"})
        assert upload.status_code == 201
        part = f"/v1/uploads/{upload.json()['upload_id']}/parts/1"
        _assert_507(alice.put(part, content=b"p" * 2048))
        artifact = next(iter(stored))
        _assert_507(alice.put(f"/v1/artifacts/{artifact}/content", content=b"new"))
        batch = {"items": [{"filename": "b.txt", "data": "YQ=="}]}
        _assert_507(alice.post("/v1/batch", json=batch))
        assert _leftovers(server) == []
        _reads_back(alice, stored)

        # Something else takes the disk to its last byte: deletes, updates and GC still work.
        filler = _inside(server) / "filler"
        _fill_to_the_last_byte(filler)
        assert _free(server) < 65536
        assert admin.get("/health").json()["checks"]["disk"]["reserve"] == "held"
        first, second, *rest = stored
        changed = alice.patch(f"/v1/artifacts/{first}", json={"summary": "still writable"})
        assert changed.status_code == 200, changed.text
        assert alice.delete(f"/v1/artifacts/{second}").status_code == 204
        del stored[second]
        assert admin.post("/v1/admin/gc").status_code == 200
        assert admin.post("/v1/admin/purge").status_code == 200
        assert not reserve.exists()  # given up for the catalog writes above
        _reads_back(alice, stored)

        # Space is freed: new content is accepted again, without a restart.
        filler.unlink()
        for artifact_id in rest[:8]:
            assert alice.delete(f"/v1/artifacts/{artifact_id}").status_code == 204
            del stored[artifact_id]
        data = os.urandom(MIB)
        again = alice.post("/v1/artifacts", params={"filename": "again.bin"}, content=data)
        assert again.status_code == 201, again.text
        stored[again.json()["artifact_id"]] = hashlib.sha256(data).hexdigest()
        health = admin.get("/health")
        assert health.status_code == 200
        assert health.json()["checks"]["disk"]["reserve"] == "held"
        assert reserve.stat().st_size == RESERVE
        _reads_back(alice, stored)
        assert _leftovers(server) == []
        assert admin.get("/v1/admin/stats").json()["total_artifacts"] == len(stored)
    assert "Traceback" not in server.log_path.read_text()


def test_a_stream_that_runs_out_of_disk_is_507_and_leaves_nothing(
    small_disk: ServerProcess,
) -> None:
    server = small_disk
    free_before = _free(server)

    def body() -> Iterator[bytes]:  # chunked: the server cannot know the size up front
        for _ in range(DISK // MIB + 4):
            yield os.urandom(MIB)

    with server.client("alice") as alice, server.client("admin") as admin:
        _assert_507(alice.post("/v1/artifacts", params={"filename": "huge.bin"}, content=body()))
        assert _leftovers(server) == []
        assert admin.get("/v1/admin/stats").json()["total_artifacts"] == 0
        assert _free(server) >= free_before - MIB  # what the stream wrote was given back
        small = alice.post("/v1/artifacts", params={"filename": "s.txt"}, content=b"fits")
        assert small.status_code == 201
    assert "Traceback" not in server.log_path.read_text()
