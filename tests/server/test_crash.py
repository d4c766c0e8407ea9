"""`satchel serve` killed with SIGKILL at random points of a PUT, a multipart completion, a tus
PATCH and a garbage collection run. After each restart:

- the storage check is clean (the restarted server repairs what the kill left on its own),
- no partial artifact is visible: everything listed reads back whole, with its sha256,
- every acknowledged write reads back with its sha256, and an interrupted one can be retried.

``CRASH_ITERATIONS`` (default 2) sets the kills per operation: ``make crash-stress`` runs 20.
Each test prints its random seed; ``CRASH_SEED=…`` replays it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess

ITERATIONS = int(os.environ.get("CRASH_ITERATIONS", "2"))
MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get("CRASH_SEED", str(time.time_ns())))
    print(f"CRASH_SEED={seed}")
    return random.Random(seed)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _admin(server: ServerProcess) -> httpx.Client:
    return server.client("admin")


def _settled(server: ServerProcess) -> dict[str, Any]:
    """The storage check once the restarted server has finished its crash recovery."""
    deadline = time.monotonic() + 60
    with _admin(server) as admin:
        while True:
            report: dict[str, Any] = admin.post("/v1/admin/storage/check").json()
            if report["clean"] or time.monotonic() > deadline:
                return report
            time.sleep(0.2)


def _everything_reads_back(server: ServerProcess, acknowledged: dict[str, str]) -> None:
    """No partial artifact is listed, and every acknowledged write is there, whole."""
    seen: dict[str, str] = {}
    with _admin(server) as admin:
        cursor = None
        while True:
            params: dict[str, Any] = {"view": "search", "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = admin.get("/v1/artifacts", params=params).json()
            for item in page["items"]:
                seen[item["artifact_id"]] = item["sha256"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        for artifact_id, digest in seen.items():
            content = admin.get(f"/v1/artifacts/{artifact_id}/content")
            assert content.status_code == 200, content.text
            assert _sha(content.content) == digest, f"{artifact_id} reads back partial"
    for artifact_id, digest in acknowledged.items():
        assert seen.get(artifact_id) == digest, f"acknowledged {artifact_id} lost"


def _after_the_kill(server: ServerProcess, acknowledged: dict[str, str]) -> None:
    report = _settled(server)
    assert report["clean"], report["problems"]
    _everything_reads_back(server, acknowledged)


def _kill_during(server: ServerProcess, work: Callable[[], None], delay: float) -> None:
    """Run *work* in a thread, SIGKILL the server after *delay* s, start it again."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    time.sleep(delay)
    server.restart()
    thread.join(60)
    assert not thread.is_alive()


def test_kills_during_puts(launch_server: Callable[..., ServerProcess], rng: random.Random) -> None:
    server = launch_server()
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    for iteration in range(ITERATIONS):

        def writers(iteration: int = iteration) -> None:
            def one_writer(n: int) -> None:
                with server.client("alice") as alice:
                    for i in range(1000):
                        data = rng.randbytes(rng.choice([0, 100, 64 * 1024, MIB, 3 * MIB]))
                        try:
                            answer = alice.post(
                                "/v1/artifacts",
                                params={"filename": f"p{iteration}-{n}-{i}", "scope": "user"},
                                content=data,
                            )
                        except httpx.HTTPError:
                            return  # the server is gone: this write was not acknowledged
                        if answer.status_code != 201:
                            return
                        with lock:
                            acknowledged[answer.json()["artifact_id"]] = _sha(data)

            threads = [threading.Thread(target=one_writer, args=(n,)) for n in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        _kill_during(server, writers, rng.uniform(0.3, 1.5))
        _after_the_kill(server, acknowledged)
    assert acknowledged  # the kills landed among completed writes


def _multipart(alice: httpx.Client, rng: random.Random) -> tuple[dict[str, Any], bytes, list[Any]]:
    upload = alice.post("/v1/uploads", json={"filename": "mp.bin", "scope": "user"}).json()
    parts, data = [], b""
    for number in range(1, 5):
        chunk = rng.randbytes(2 * MIB)
        answer = alice.put(f"/v1/uploads/{upload['upload_id']}/parts/{number}", content=chunk)
        assert answer.status_code == 200, answer.text
        parts.append({"PartNumber": number, "ETag": answer.json()["etag"]})
        data += chunk
    return upload, data, parts


def test_kills_during_multipart_completion(
    launch_server: Callable[..., ServerProcess], rng: random.Random
) -> None:
    server = launch_server()
    acknowledged: dict[str, str] = {}
    for _ in range(ITERATIONS):
        with server.client("alice") as alice:
            upload, data, parts = _multipart(alice, rng)
        upload_id = upload["upload_id"]
        answers: list[httpx.Response] = []

        def complete(
            upload_id: str = upload_id, parts: list[Any] = parts, answers: list[Any] = answers
        ) -> None:
            with server.client("alice") as alice, contextlib.suppress(httpx.HTTPError):
                body = {"parts": parts}
                answers.append(alice.post(f"/v1/uploads/{upload_id}/complete", json=body))

        _kill_during(server, complete, rng.uniform(0.0, 0.15))
        _after_the_kill(server, acknowledged)
        with server.client("alice") as alice:
            if not answers or answers[0].status_code != 201:
                # not acknowledged: completing again finishes it, or says it was done
                again = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
                assert again.status_code in (201, 404, 409), again.text
            done = alice.get(f"/v1/artifacts/{upload['artifact_id']}").json()
        assert done["sha256"] == _sha(data)
        acknowledged[done["artifact_id"]] = _sha(data)
        _everything_reads_back(server, acknowledged)


def test_kills_during_a_tus_patch_resume_at_once(
    launch_server: Callable[..., ServerProcess], rng: random.Random
) -> None:
    server = launch_server(SATCHEL_TUS_CHECKPOINT_BYTES=str(512 * 1024))
    acknowledged: dict[str, str] = {}
    headers = {**server.headers("alice"), **TUS}
    for _ in range(ITERATIONS):
        data = rng.randbytes(8 * MIB)
        created = httpx.post(
            f"{server.url}/v1/tus/", headers={**headers, "Upload-Length": str(len(data))}
        )
        assert created.status_code == 201, created.text
        url = created.headers["location"]

        def body(data: bytes = data) -> Iterator[bytes]:
            for start in range(0, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]
                time.sleep(0.02)

        def patch(url: str = url, body: Callable[[], Iterator[bytes]] = body) -> None:
            patch_headers = {
                **headers,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            }
            with contextlib.suppress(httpx.HTTPError):
                httpx.patch(url, headers=patch_headers, content=body(), timeout=60)

        _kill_during(server, patch, rng.uniform(0.1, 0.9))
        head = httpx.head(url, headers=headers)
        assert head.status_code == 200
        offset = int(head.headers["upload-offset"])
        if offset < len(data):  # resume right away: no lease of the dead server in the way
            resumed = httpx.patch(
                url,
                headers={
                    **headers,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                content=data[offset:],
            )
            assert resumed.status_code == 204, resumed.text
        artifact_id = httpx.head(url, headers=headers).headers["satchel-artifact-id"]
        acknowledged[artifact_id] = _sha(data)
        _after_the_kill(server, acknowledged)


def test_kills_during_garbage_collection(
    launch_server: Callable[..., ServerProcess], rng: random.Random
) -> None:
    server = launch_server(SATCHEL_GC_GRACE_SECONDS="1")
    acknowledged: dict[str, str] = {}
    for iteration in range(ITERATIONS):
        with server.client("alice") as alice:
            doomed = []
            for i in range(150):
                data = rng.randbytes(rng.choice([10, 4096, 100_000]))
                answer = alice.post(
                    "/v1/artifacts",
                    params={"filename": f"g{iteration}-{i}", "scope": "user"},
                    content=data,
                )
                assert answer.status_code == 201
                if i % 5 == 0:
                    acknowledged[answer.json()["artifact_id"]] = _sha(data)
                else:
                    doomed.append(answer.json()["artifact_id"])
            for artifact_id in doomed:
                assert alice.delete(f"/v1/artifacts/{artifact_id}").status_code == 204
        time.sleep(1.2)  # past the grace period: all of them are collectable

        def collect() -> None:
            with _admin(server) as admin, contextlib.suppress(httpx.HTTPError):
                admin.post("/v1/admin/gc")

        _kill_during(server, collect, rng.uniform(0.0, 0.1))
        _after_the_kill(server, acknowledged)
        with _admin(server) as admin:
            assert admin.post("/v1/admin/gc").status_code == 200
            stats = admin.get("/v1/admin/stats").json()
        assert stats["unique_blobs"] == len(set(acknowledged.values()))
        _everything_reads_back(server, acknowledged)


def _packages_are_whole(server: ServerProcess) -> dict[str, str]:
    """Every package is open (no manifest) or finalized with a manifest that is its address
    and lists exactly its files, each of which reads back with its sha256. Returns the state
    of each package."""
    states: dict[str, str] = {}
    with _admin(server) as admin:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = admin.get("/v1/packages", params=params).json()
            for package in page["items"]:
                package_id = package["package_id"]
                states[package_id] = package["state"]
                files = admin.get(f"/v1/packages/{package_id}/files").json()["items"]
                assert package["file_count"] == len(files)
                for entry in files:
                    body = admin.get(f"/v1/packages/{package_id}/files/{entry['relative_path']}")
                    assert _sha(body.content) == entry["sha256"], f"{package_id} reads partial"
                manifest = admin.get(f"/v1/packages/{package_id}/manifest")
                if package["state"] == "open":
                    assert manifest.status_code == 409
                    assert package["manifest_address"] is None
                    continue
                assert _sha(manifest.content) == package["manifest_address"]
                listed = {(f["relative_path"], f["sha256"]) for f in manifest.json()["files"]}
                assert listed == {(f["relative_path"], f["sha256"]) for f in files}
            cursor = page["next_cursor"]
            if not cursor:
                return states


def _open_packages(server: ServerProcess, rng: random.Random, count: int, tag: str) -> list[str]:
    made = []
    with server.client("alice") as alice:
        for n in range(count):
            answer = alice.post(
                "/v1/packages",
                json={
                    "name": f"{tag}-{n}",
                    "producer": "ci",
                    "subject": tag,
                    "retention_class": "instant",
                },
            )
            package_id = answer.json()["package_id"]
            for i in range(rng.randint(1, 12)):
                alice.put(
                    f"/v1/packages/{package_id}/files/d{i % 3}/f{i}.bin",
                    content=rng.randbytes(rng.choice([0, 10, 5000])),
                )
            made.append(package_id)
    return made


@pytest.fixture
def retention_file(tmp_path: Any) -> str:
    path = tmp_path / "retention.toml"
    path.write_text("[retention_classes.instant]\ndefault_duration_seconds = 0\n")
    return str(path)


def test_kills_during_finalize(
    launch_server: Callable[..., ServerProcess], rng: random.Random, retention_file: str
) -> None:
    """Nothing half-finalized is ever visible: each package is open or finalized whole, and an
    open one finalizes after the restart."""
    server = launch_server(SATCHEL_RETENTION_CONFIG_PATH=retention_file)
    for iteration in range(ITERATIONS):
        made = _open_packages(server, rng, 40, f"fin{iteration}")

        def finalize_all(made: list[str] = made) -> None:
            with server.client("alice") as alice:
                for package_id in made:
                    try:
                        alice.post(f"/v1/packages/{package_id}/finalize")
                    except httpx.HTTPError:
                        return

        _kill_during(server, finalize_all, rng.uniform(0.05, 0.4))
        assert _settled(server)["clean"]
        states = _packages_are_whole(server)
        with server.client("alice") as alice:
            for package_id in made:
                if states[package_id] == "open":
                    assert alice.post(f"/v1/packages/{package_id}/finalize").status_code == 200
        assert set(_packages_are_whole(server).values()) == {"finalized"}


def test_kills_during_package_gc(
    launch_server: Callable[..., ServerProcess], rng: random.Random, retention_file: str
) -> None:
    """gc killed mid-run: what it deleted is gone whole, what it did not is whole; the storage
    check is clean; running it again finishes the job."""
    server = launch_server(
        SATCHEL_RETENTION_CONFIG_PATH=retention_file, SATCHEL_GC_GRACE_SECONDS="0"
    )
    for iteration in range(ITERATIONS):
        doomed = _open_packages(server, rng, 30, f"gc{iteration}")
        with server.client("alice") as alice:
            for package_id in doomed:
                assert alice.post(f"/v1/packages/{package_id}/finalize").status_code == 200
            kept = alice.post(
                "/v1/packages",
                json={"name": "kept", "producer": "ci", "subject": f"k{iteration}",
                      "retention_class": "raw-evidence"},
            ).json()["package_id"]  # fmt: skip
            alice.put(f"/v1/packages/{kept}/files/keep.txt", content=b"kept " * 100)
            alice.post(f"/v1/packages/{kept}/finalize")
        with _admin(server) as admin:
            assert admin.post("/v1/retention/sweep").status_code == 200

        def collect() -> None:
            with _admin(server) as admin, contextlib.suppress(httpx.HTTPError):
                admin.post("/v1/retention/gc")

        _kill_during(server, collect, rng.uniform(0.0, 0.2))
        assert _settled(server)["clean"]
        _packages_are_whole(server)
        with _admin(server) as admin:
            assert admin.post("/v1/retention/gc").status_code == 200
        states = _packages_are_whole(server)
        assert not set(doomed) & set(states)
        assert states[kept] == "finalized"
