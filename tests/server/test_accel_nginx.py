"""A real nginx in front of a real ``satchel serve``, configured with docs/operations.md's site
(its addresses and blob path filled in): with ``SATCHEL_ACCEL_REDIRECT_PREFIX`` set nginx sends
the files Satchel names, with Satchel's headers and the client's range, and nothing else
changes for clients; the internal location cannot be asked for; refusals are Satchel's.
Without the setting, the same site proxies Satchel's own streams."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.conftest import ServerProcess
from tests.harness.nginx import NginxServer, start_nginx
from tests.harness.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/_satchel_blobs/"
DATA = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000))  # 3 MiB
# the headers a client sees whoever sends the bytes (ETag & co. name the version)
SAME = (
    "content-type",
    "content-disposition",
    "cache-control",
    "accept-ranges",
    "etag",
    "repr-digest",
    "satchel-artifact-id",
    "x-content-type-options",
)


def documented_site() -> str:
    """The one nginx example of the docs (docs/operations.md)."""
    found = []
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found += re.findall(r"^```nginx\n(.*?)^```$", document.read_text(), re.S | re.M)
    assert len(found) == 1, "one nginx example, the one this test runs"
    return found[0]


def _filled(site: str, *, listen: int, upstream: int, blobs: Path) -> str:
    for documented, ours in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("alias /srv/satchel/blobs/;", f"alias {blobs}/;"),
        (f"location {PREFIX} {{", f"location {PREFIX} {{"),  # the prefix the server is given
    ):
        assert site.count(documented) == 1, documented
        site = site.replace(documented, ours)
    return site


class Front:
    """nginx (the documented site) in front of a ``satchel serve`` of its own."""

    def __init__(self, base: Path, *, accel: bool) -> None:
        self.base = base
        data_dir = base / "data"
        data_dir.mkdir()
        blobs = data_dir / "blobs"
        upstream = free_port()
        site = documented_site()
        self.nginx: NginxServer = start_nginx(
            base / "nginx",
            lambda port: _filled(site, listen=port, upstream=upstream, blobs=blobs),
        )
        env = {"SATCHEL_PUBLIC_URL": self.nginx.url, "SATCHEL_FS_ROOT": str(blobs)}
        if accel:
            env["SATCHEL_ACCEL_REDIRECT_PREFIX"] = PREFIX
        self.satchel = ServerProcess(data_dir=data_dir, port=upstream, extra_env=env)
        try:
            self.satchel.start()
        except BaseException:
            self.nginx.stop()
            raise

    @property
    def url(self) -> str:
        return self.nginx.url

    def client(self, who: str | None = "alice", direct: bool = False) -> httpx.Client:
        """A client of nginx (or, *direct*, of Satchel behind it) as *who*."""
        headers = self.satchel.headers(who) if who else {}
        url = self.satchel.url if direct else self.url
        return httpx.Client(base_url=url, headers=headers, timeout=60)

    def upload(self, data: bytes = DATA, **params: str) -> str:
        params = {"mime": "application/x-tar", "filename": "build/ünï 1.tar", **params}
        with self.client() as http:
            created = http.post("/v1/artifacts", content=data, params=params)
        assert created.status_code == 201, created.text
        artifact_id: str = created.json()["artifact_id"]
        return artifact_id

    def stop(self) -> None:
        self.satchel.stop()
        self.nginx.stop()


@pytest.fixture(scope="module")
def fronts() -> Iterator[dict[bool, Front]]:
    """``{True: with the setting, False: without}``, each behind its own nginx."""
    made: dict[bool, Front] = {}
    base = Path(tempfile.mkdtemp(prefix="satchel-nginx-"))
    try:
        for accel in (True, False):
            (base / str(accel)).mkdir()
            try:
                made[accel] = Front(base / str(accel), accel=accel)
            except Exception as exc:
                pytest.fail(f"could not start nginx and Satchel: {exc}", pytrace=False)
        yield made
    finally:
        for front in made.values():
            front.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def front(fronts: dict[bool, Front]) -> Front:
    return fronts[True]


def _blob_file(data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


def test_nginx_sends_the_file_with_satchels_headers(front: Front) -> None:
    artifact_id = front.upload()
    url = f"/v1/artifacts/{artifact_id}/content"
    with front.client() as http, front.client(direct=True) as satchel:
        answer = http.get(url)
        described = http.head(url)  # HEAD: answered by Satchel, through nginx
        named = satchel.get(url)  # what Satchel itself answers nginx
    assert answer.status_code == 200
    assert answer.content == DATA
    assert answer.headers["content-length"] == str(len(DATA))
    assert described.headers["content-length"] == str(len(DATA))
    for name in SAME:
        assert answer.headers.get_list(name) == described.headers.get_list(name), name
    assert answer.headers["content-type"] == "application/x-tar"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert len(answer.headers.get_list("x-request-id")) == 1  # Satchel's, put back by nginx
    assert "x-accel-redirect" not in answer.headers  # nginx consumes it
    assert "last-modified" not in answer.headers  # the file's time is not the version's
    # nginx sent the bytes: Satchel's own answer was the name of the file, and no byte
    assert (named.status_code, named.content) == (200, b"")
    assert named.headers["x-accel-redirect"] == PREFIX + _blob_file(DATA)
    assert named.headers["etag"] == answer.headers["etag"]


def test_nginx_applies_a_range(front: Front) -> None:
    artifact_id = front.upload()
    url = f"/v1/artifacts/{artifact_id}/content"
    size = len(DATA)
    with front.client() as http:
        described = http.head(url)
        etag = described.headers["etag"]
        middle = http.get(url, headers={"Range": "bytes=1000000-1999999"})
        tail = http.get(url, headers={"Range": "bytes=-10"})
        beyond = http.get(url, headers={"Range": f"bytes={size}-"})
        resumed = http.get(url, headers={"Range": "bytes=5-9", "If-Range": etag})  # Satchel's
        stale = http.get(url, headers={"Range": "bytes=5-9", "If-Range": '"old"'})
    assert (middle.status_code, middle.content) == (206, DATA[1_000_000:2_000_000])
    assert middle.headers["content-range"] == f"bytes 1000000-1999999/{size}"
    assert middle.headers["content-length"] == "1000000"
    for name in SAME:
        assert middle.headers.get_list(name) == described.headers.get_list(name), name
    assert (tail.status_code, tail.content) == (206, DATA[-10:])
    assert tail.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
    assert beyond.status_code == 416
    assert beyond.json()["error"] == "range_not_satisfiable"
    assert (resumed.status_code, resumed.content) == (206, DATA[5:10])
    assert (stale.status_code, stale.content) == (200, DATA)


def test_conditions_stay_satchels(front: Front) -> None:
    artifact_id = front.upload()
    url = f"/v1/artifacts/{artifact_id}/content"
    with front.client() as http:
        etag = http.head(url).headers["etag"]
        unchanged = http.get(url, headers={"If-None-Match": etag})
        changed = http.get(url, headers={"If-None-Match": '"old"'})
        matching = http.get(url, headers={"If-Match": etag})
        stale = http.get(url, headers={"If-Match": '"old"'})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert (changed.status_code, changed.content) == (200, DATA)
    assert (matching.status_code, matching.content) == (200, DATA)
    assert stale.status_code == 412


def test_refusals_are_satchels_json_and_no_bytes(front: Front) -> None:
    artifact_id = front.upload()
    url = f"/v1/artifacts/{artifact_id}/content"
    with front.client("bob") as bob, front.client(None) as anonymous:
        foreign = bob.get(url)
        nobody = anonymous.get(url)
        forged = anonymous.get("/v1/signed/not-a-token")
    assert foreign.status_code == 403
    assert nobody.status_code == 401
    assert forged.status_code in (401, 403)
    for answer in (foreign, nobody, forged):
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"]
        assert len(answer.content) < 1000  # an error, not the content
        assert "etag" not in answer.headers


def test_the_internal_location_cannot_be_asked_for(front: Front) -> None:
    front.upload()
    path = PREFIX + _blob_file(DATA)
    assert (front.satchel.data_dir / "blobs" / _blob_file(DATA)).is_file()
    with front.client() as http:
        for asked in (path, PREFIX, PREFIX + "tmp/", f"/x/..{PREFIX}{_blob_file(DATA)}"):
            answer = http.get(asked)
            assert answer.status_code == 404, asked
            assert DATA[:64] not in answer.content


def test_presigned_urls_and_package_files_through_nginx(front: Front) -> None:
    artifact_id = front.upload()
    with front.client() as http:
        presigned = http.post(f"/v1/artifacts/{artifact_id}/presign", json={"expires": 60})
        url = presigned.json()["url"]
        assert url.startswith(f"{front.url}/v1/signed/")
        with httpx.Client(timeout=60) as anyone:
            whole = anyone.get(url)
            part = anyone.get(url, headers={"Range": "bytes=100-199"})
            described = anyone.head(url)
        assert (whole.status_code, whole.content) == (200, DATA)
        assert (part.status_code, part.content) == (206, DATA[100:200])
        for name in SAME:
            assert whole.headers.get_list(name) == described.headers.get_list(name), name

        attributes = {"name": "e", "producer": "ci", "subject": "b"}
        package = http.post("/v1/packages", json={**attributes, "retention_class": "raw-evidence"})
        assert package.status_code == 201, package.text
        file_url = f"/v1/packages/{package.json()['package_id']}/files/{quote('logs/run 1.txt')}"
        body = b"line of a log\n" * 10_000
        assert http.put(file_url, content=body).status_code == 201
        read = http.get(file_url)
    assert (read.status_code, read.content) == (200, body)
    assert read.headers["content-type"].startswith("text/plain")
    assert read.headers["etag"] == '"' + hashlib.sha256(body).hexdigest() + '"'


def test_without_the_setting_nothing_changes(fronts: dict[bool, Front]) -> None:
    answers: dict[bool, dict[str, Any]] = {}
    for accel, front in fronts.items():
        artifact_id = front.upload()
        url = f"/v1/artifacts/{artifact_id}/content"
        with front.client() as http, front.client(direct=True) as satchel:
            answers[accel] = {
                "whole": http.get(url),
                "range": http.get(url, headers={"Range": "bytes=10-19"}),
                "direct": satchel.get(url),
            }
    for accel in (True, False):
        whole, ranged = answers[accel]["whole"], answers[accel]["range"]
        assert (whole.status_code, whole.content) == (200, DATA)
        assert (ranged.status_code, ranged.content) == (206, DATA[10:20])
        assert ranged.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
    on, off = answers[True]["whole"], answers[False]["whole"]
    for name in ("content-type", "content-disposition", "cache-control", "accept-ranges"):
        assert on.headers.get_list(name) == off.headers.get_list(name), name
    assert set(on.headers) - {"last-modified"} == set(off.headers)
    direct = answers[False]["direct"]  # Satchel streams the bytes itself
    assert (direct.content, "x-accel-redirect" in direct.headers) == (DATA, False)
    assert answers[True]["direct"].content == b""
