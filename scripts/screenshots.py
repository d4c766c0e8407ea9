"""Regenerate the web UI's screenshots in docs/screenshots (``make screenshots``).

Starts ``satchel serve`` on a free loopback port with a scratch data directory, stores a few
artifacts and a held package through the API, then photographs the main pages in Debian's
Chromium (Playwright). Usage: ``python scripts/screenshots.py [OUTPUT_DIRECTORY]``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
ADMIN, ALICE = "screens-admin-0001", "screens-alice-0001"
PAGES = (
    ("artifacts", "#/artifacts", "#artifacts a"),
    ("artifact", None, "#preview-csv"),
    ("upload", "#/upload", "#drop"),
    ("package", None, "#files td"),
    ("events", "#/events", "#feed li"),
    ("dashboard", "#/dashboard", "#by-scope"),
)
CHROMIUM = next(p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATCHEL_", "ARTIFACT"))}
    env.update(
        SATCHEL_DATA_DIR=str(data),
        SATCHEL_PORT=str(port),
        SATCHEL_HOST="127.0.0.1",
        SATCHEL_AUTH_TOKENS=f"{ADMIN}=ops:admin,{ALICE}=alice",
    )
    command = [sys.executable, "-m", "satchel", "serve", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _seed(url: str) -> tuple[str, str]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ALICE}"}) as alice:
        for name, body in (
            (
                "reports/2026/q3-summary.csv",
                b"region,revenue,growth\nnorth,1200,4%\nsouth,980,2%\n",
            ),
            ("reports/2026/q3-notes.md", b"# Q3\n\nRevenue grew in both regions.\n"),
            ("models/run-42/metrics.json", b'{"accuracy": 0.93, "loss": 0.21, "epochs": 12}'),
            ("datasets/train.parquet", os.urandom(300_000)),
        ):
            made = alice.post(
                "/v1/artifacts", params={"filename": name, "scope": "user"}, content=body
            )
            made.raise_for_status()
        csv_id = alice.get("/v1/artifacts", params={"filename_glob": "*.csv"}).json()["items"][0]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        package = admin.post(
            "/v1/packages",
            json={
                "name": "release-evidence",
                "version": "1.4.0",
                "producer": "ci",
                "subject": "build-913",
                "retention_class": "release-evidence",
            },
        ).json()["package_id"]
        for name, body in (("sbom.json", b'{"components": []}'), ("logs/build.txt", b"ok\n")):
            admin.put(f"/v1/packages/{package}/files/{name}", content=body).raise_for_status()
        admin.post(f"/v1/packages/{package}/finalize", json={}).raise_for_status()
        admin.post(
            f"/v1/packages/{package}/holds", json={"name": "audit-2026", "reason": "annual audit"}
        ).raise_for_status()
    return csv_id["artifact_id"], package


async def _shoot(url: str, out: Path, csv_id: str, package: str) -> list[Path]:
    made = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page: Page = await browser.new_page(viewport={"width": 1180, "height": 760})
        await page.goto(url + "/ui/")
        await page.fill("input[name=token]", ADMIN)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#artifacts")
        for name, route, ready in PAGES:
            target = route or (
                f"#/artifacts/{csv_id}" if name == "artifact" else f"#/packages/{package}"
            )
            await page.goto(f"{url}/ui/{target}")
            await page.wait_for_selector(ready)
            await page.wait_for_timeout(300)
            path = out / f"{name}.png"
            await page.screenshot(path=str(path))
            made.append(path)
        await page.set_viewport_size({"width": 390, "height": 760})
        await page.emulate_media(color_scheme="dark")
        await page.goto(f"{url}/ui/#/artifacts/{csv_id}")
        await page.wait_for_selector("#preview-csv")
        path = out / "phone-dark.png"
        await page.screenshot(path=str(path))
        made.append(path)
        await browser.close()
    return made


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        server = _serve(Path(scratch), port)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("satchel serve did not start")
                time.sleep(0.2)
            csv_id, package = _seed(url)
            return asyncio.run(_shoot(url, out, csv_id, package))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    written = main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    for path in written:
        print(path)
