"""What makes the UI usable beyond its features: readable on a phone, light and dark, keyboard
navigable, no layout shift while lists load; and the screenshots command works."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import httpx
from playwright.async_api import Browser, expect
from tests.conftest import ServerProcess
from tests.ui.conftest import Problems, sign_in

ROOT = Path(__file__).resolve().parents[2]


async def _seed(server: ServerProcess, count: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers("alice")) as http:
        for number in range(count):
            name = f"quality/{number:03}-a-rather-long-file-name-that-must-wrap-or-scroll.csv"
            made = await http.post(
                "/v1/artifacts", params={"filename": name, "scope": "user"}, content=b"a,b\n"
            )
            assert made.status_code == 201


async def test_a_phone_sees_no_sideways_scroll(browser: Browser, ui_server: ServerProcess) -> None:
    await _seed(ui_server, 3)
    page = await browser.new_page(viewport={"width": 375, "height": 740})
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    for route, ready in (
        ("#/artifacts", "#artifacts a"),
        ("#/upload", "#drop"),
        ("#/dashboard", "#health"),
    ):
        await page.goto(f"{ui_server.url}/ui/{route}")
        await page.wait_for_selector(ready)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (route, overflow)
    assert problems.unexpected() == []


async def test_themes_and_the_keyboard(browser: Browser, ui_server: ServerProcess) -> None:
    await _seed(ui_server, 2)  # (tests of a module may run in different workers)
    page = await browser.new_page()
    await sign_in(page, ui_server, "alice")
    light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    await page.click("#theme")
    dark = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    await page.reload()
    await page.wait_for_selector("#artifacts")
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"  # kept

    # each page puts the focus on its content; the skip link is the page's first stop and
    # shows itself when focused
    assert await page.evaluate("document.activeElement.id") == "main"
    first = await page.evaluate(
        "[...document.querySelectorAll('a[href], button, input, select, textarea')]"
        ".find((e) => e.offsetParent !== null || e.className === 'skip').className"
    )
    assert first == "skip"
    await page.focus("a.skip")
    assert await page.evaluate("document.querySelector('a.skip').getBoundingClientRect().left") >= 0
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    visited = []
    for _ in range(30):  # the controls are reachable in order, and show their focus
        await page.keyboard.press("Tab")
        tag = await page.evaluate("document.activeElement.tagName")
        if tag == "BODY":  # past the last control: out of the page
            break
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", await page.evaluate("document.activeElement.outerHTML")
        visited.append(
            await page.evaluate("document.activeElement.name || document.activeElement.textContent")
        )
    expected = ["name", "mime", "scope", "meta", "session", "order", "folders", "Search"]
    assert visited[: len(expected)] == expected
    await page.goto(f"{ui_server.url}/ui/#/artifacts")
    await page.wait_for_selector("#artifacts a")
    await page.focus("#artifacts tbody a")
    await page.keyboard.press("Enter")  # a link opens with the keyboard
    await expect(page.locator("#details")).to_be_visible()


async def test_lists_do_not_shift_while_they_load(
    browser: Browser, ui_server: ServerProcess
) -> None:
    await _seed(ui_server, 30)
    page = await browser.new_page()
    await sign_in(page, ui_server, "alice")
    await page.goto(f"{ui_server.url}/ui/#/upload")
    await page.wait_for_selector("#drop")
    await page.evaluate(
        """() => {
            window.shifts = 0;
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) {
                    if (!entry.hadRecentInput) window.shifts += entry.value;
                }
            }).observe({type: "layout-shift", buffered: false});
        }"""
    )
    await page.click("nav >> text=Artifacts")
    await page.wait_for_selector("#artifacts tbody a")
    await page.wait_for_timeout(300)
    shift = await page.evaluate("window.shifts")
    assert shift < 0.1  # Google's "good" cumulative layout shift


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshots_are_regenerated_by_a_command(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    kept = sorted(p.name for p in (ROOT / "docs" / "screenshots").glob("*.png"))
    assert made == kept  # the pictures in docs/ are what the command makes
    assert _png_size(tmp_path / "artifacts.png") == (1180, 760)
    assert _png_size(tmp_path / "phone-dark.png") == (390, 760)
    readme = (ROOT / "README.md").read_text()
    assert all(f"docs/screenshots/{name}" in readme for name in ("artifacts.png", "artifact.png"))
