"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a
`satchel serve` the harness starts (tokens for admin, alice and bob)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from tests.conftest import ServerProcess
from tests.harness.processes import free_port

CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if Path(p).exists()),
    "",
)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(data_dir=tmp_path_factory.mktemp("ui-data"), port=free_port(), extra_env={})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM, "Debian's chromium is missing: run `make system-deps`"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


class Problems:
    """What the page complained about: console errors (a CSP violation is one) and
    uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("console", lambda m: self.seen.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.seen.append(str(e)))

    def unexpected(self, *allowed: str) -> list[str]:
        return [text for text in self.seen if not any(part in text for part in allowed)]


async def sign_in(page: Page, server: ServerProcess, who: str) -> None:
    await page.goto(server.url + "/")
    await page.fill("input[name=token]", server.token(who))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#artifacts")
