"""The web UI as a person uses it, in headless Chromium: sign in, upload (picker, drag and
drop, a big file through tus that survives a dropped connection), find, open, preview,
download, share, change, delete; errors as readable pages; no CSP violation anywhere."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Route, expect
from tests.conftest import ServerProcess
from tests.harness.origin import Origin
from tests.harness.receiver import Receiver
from tests.ui.conftest import Problems, sign_in

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
MIB = 1024 * 1024


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def test_the_page_is_served_safely(ui_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=ui_server.url) as http:
        browser_like = await http.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        assert (browser_like.status_code, browser_like.headers["location"]) == (303, "/ui/")
        api_like = await http.get("/", headers={"Accept": "application/json"})
        assert api_like.json()["links"]["ui"] == "/ui/"
        page = await http.get("/ui/")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script" in page.text
        assert "<script>" not in page.text  # nothing inline
        assert (await http.get("/ui/static/js/app.js")).status_code == 200


async def test_sign_in_upload_find_open_download_share(
    browser: Browser, ui_server: ServerProcess, tmp_path: Path
) -> None:
    page = await browser.new_page()
    problems = Problems(page)
    await page.goto(ui_server.url + "/")
    assert page.url.endswith("/ui/#/signin") or page.url.endswith("/ui/")
    await page.fill("input[name=token]", "wrong-token-000")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".error")
    assert "401" in await page.inner_text(".error")
    await page.fill("input[name=token]", ui_server.token("alice"))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#artifacts")
    assert "alice" in await page.inner_text("#whoami")

    files = {
        "notes.txt": b"hello from the browser\n",
        "table.csv": b'name,size\nalpha,1\n"be,ta",2\n',
        "dot.png": PNG,
        "data.json": b'{"b": [1, 2], "a": "x"}',
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    await page.click("text=Upload")
    await page.set_input_files("#files", [str(tmp_path / name) for name in files])
    await expect(page.locator("a.done")).to_have_count(4)
    assert "4 done" in await page.inner_text("#total-text")

    await page.click("nav >> text=Artifacts")
    await page.wait_for_selector("#artifacts a")
    listed = await page.locator("#artifacts tbody a").all_inner_texts()
    assert set(files) <= set(listed)
    await page.fill("input[name=name]", "*.csv")
    await page.click("button:has-text('Search')")
    await expect(page.locator("#artifacts tbody a")).to_have_count(1)
    await page.click("#artifacts tbody a")
    await page.wait_for_selector("#preview-csv")
    cells = await page.locator("#preview-csv tbody td").all_inner_texts()
    assert cells == ["alpha", "1", "be,ta", "2"]

    async with page.expect_download() as waiting:
        await page.click("#download")
    saved = tmp_path / "downloaded.csv"
    await (await waiting.value).save_as(saved)
    assert _sha256(saved.read_bytes()) == _sha256(files["table.csv"])

    await page.select_option("select[name=expires]", "900")
    await page.click("#presign")
    await expect(page.locator("#presigned")).to_have_value(re.compile("^http"))
    link = await page.input_value("#presigned")
    async with httpx.AsyncClient() as http:  # anyone holding the link, no token
        fetched = await http.get(link)
    assert fetched.content == files["table.csv"]

    for name, selector in (("notes.txt", "#preview-text"), ("data.json", "#preview-text")):
        await page.goto(ui_server.url + "/ui/#/artifacts?name=" + name)
        await page.click(f"#artifacts tbody a:has-text('{name}')")
        await page.wait_for_selector(selector)
    assert '"b": [' in await page.inner_text("#preview-text")  # indented JSON
    await page.goto(ui_server.url + "/ui/#/artifacts?name=dot.png")
    await page.click("#artifacts tbody a:has-text('dot.png')")
    await page.wait_for_selector("#preview-image")
    width = await page.eval_on_selector("#preview-image", "img => img.naturalWidth")
    assert width == 1
    assert problems.unexpected("status of 401") == []  # (the wrong token, on purpose)


async def test_drag_and_drop_edit_and_delete(browser: Browser, ui_server: ServerProcess) -> None:
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    await page.goto(ui_server.url + "/ui/#/upload")
    await page.wait_for_selector("#drop")
    transfer = await page.evaluate_handle(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File(["dropped one"], "dropped-1.txt", {type: "text/plain"}));
            dt.items.add(new File(["dropped two"], "dropped-2.txt", {type: "text/plain"}));
            return dt;
        }"""
    )
    await page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    await expect(page.locator("a.done")).to_have_count(2)
    await page.click("tr[data-name='dropped-1.txt'] a.done")
    await page.wait_for_selector("#preview-text")
    assert await page.inner_text("#preview-text") == "dropped one"

    await page.fill("#edit input[name=summary]", "a dropped file")
    await page.fill("#edit textarea[name=meta]", '{"run": 7}')
    await page.fill("#edit input[name=ttl]", "3600")
    await page.click("#edit button[type=submit]")
    await expect(page.locator("#custom")).to_contain_text('"run": 7')
    details = await page.inner_text("#details")
    assert "a dropped file" in details
    assert "never" not in details.split("Expires")[1].split("\n")[1]
    ident = page.url.rsplit("/", 1)[-1]
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        assert (await http.get(f"/v1/artifacts/{ident}")).json()["meta"] == {"run": 7}

    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#delete")
    await page.wait_for_selector("#artifacts")
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        assert (await http.get(f"/v1/artifacts/{ident}")).status_code == 404
    assert problems.unexpected() == []


async def test_a_big_upload_resumes_after_a_dropped_connection(
    browser: Browser, ui_server: ServerProcess, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (40 * 1024 + 17)  # ~10 MiB: above the tus threshold
    (tmp_path / "big.bin").write_bytes(data)
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    seen: list[str] = []

    async def drop_the_second_piece(route: Route) -> None:
        seen.append(route.request.method)
        if route.request.method == "PATCH" and seen.count("PATCH") == 2:
            await route.abort("connectionreset")
            return
        await route.continue_()

    await page.route("**/v1/tus/**", drop_the_second_piece)
    await page.goto(ui_server.url + "/ui/#/upload")
    await page.set_input_files("#files", str(tmp_path / "big.bin"))
    await page.wait_for_selector("a.done", timeout=60_000)
    assert "HEAD" in seen  # it asked where the upload stood, then went on from there
    assert seen.count("PATCH") >= 4
    ident = (await page.get_attribute("a.done", "href") or "").rsplit("/", 1)[-1]
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        meta = (await http.get(f"/v1/artifacts/{ident}")).json()
    assert (meta["bytes"], meta["sha256"]) == (len(data), _sha256(data))
    assert problems.unexpected("net::ERR_CONNECTION_RESET") == []


async def test_errors_are_readable_pages(browser: Browser, ui_server: ServerProcess) -> None:
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        made = await http.post(
            "/v1/artifacts", params={"filename": "private.txt", "scope": "user"}, content=b"x"
        )
        ident = made.json()["artifact_id"]
    page = await browser.new_page()
    await sign_in(page, ui_server, "bob")
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{ident}")
    await page.wait_for_selector(".error")
    text = await page.inner_text(".error")
    assert "You may not do that" in text
    assert "403" in text
    await page.goto(f"{ui_server.url}/ui/#/artifacts/no-such-artifact")
    await expect(page.locator(".error h1")).to_have_text("Not found")
    await page.goto(f"{ui_server.url}/ui/#/nowhere")
    await expect(page.locator(".error p").first).to_contain_text("/nowhere")
    await page.click("#signout")
    await page.wait_for_selector("input[name=token]")
    assert await page.evaluate("sessionStorage.getItem('satchel.token')") is None


async def test_packages_and_legal_holds(browser: Browser, ui_server: ServerProcess) -> None:
    admin = ui_server.headers("admin")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=admin) as http:
        made = await http.post(
            "/v1/packages",
            json={
                "name": "evidence",
                "producer": "ci",
                "subject": "run-9",
                "retention_class": "transient",
            },
        )
        package_id = made.json()["package_id"]
        put = await http.put(f"/v1/packages/{package_id}/files/logs/a.txt", content=b"log line\n")
        assert put.status_code in (200, 201), put.text
        assert (await http.post(f"/v1/packages/{package_id}/finalize", json={})).status_code == 200
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "admin")
    await page.click("nav >> text=Packages")
    await page.click("#packages a:has-text('evidence')")
    await expect(page.locator("#files")).to_contain_text("logs/a.txt")
    await expect(page.locator("#package")).to_contain_text("finalized")
    await page.fill("input[name=hold_name]", "case-42")
    await page.fill("input[name=hold_reason]", "litigation")
    await page.click("#apply-hold button")
    await expect(page.locator("#holds li")).to_contain_text("case-42")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=admin) as http:
        holds = (await http.get(f"/v1/packages/{package_id}/holds")).json()["items"]
        assert [(h["name"], h["reason"]) for h in holds] == [("case-42", "litigation")]
        refused = await http.delete(f"/v1/packages/{package_id}")
        assert refused.status_code == 409  # held
    await page.fill("input[name=release_reason]", "settled")
    await page.click("form.release button")
    await expect(page.locator("#holds li")).to_contain_text("released")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=admin) as http:
        assert (await http.get(f"/v1/packages/{package_id}/holds")).json()["items"] == []
    await expect(page.locator("#history")).to_contain_text("v1.package.finalized")
    assert problems.unexpected() == []

    viewer = await browser.new_page()  # a user sees the holds, and cannot apply one
    await sign_in(viewer, ui_server, "alice")
    await viewer.goto(f"{ui_server.url}/ui/#/packages/{package_id}")
    await expect(viewer.locator("#holds")).to_contain_text("Admins apply and release holds")
    assert await viewer.locator("#apply-hold").count() == 0


async def test_the_event_feed_is_live(browser: Browser, ui_server: ServerProcess) -> None:
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    await page.click("nav >> text=Events")
    await expect(page.locator("#feed-status")).to_contain_text("Live")
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        made = await http.post(
            "/v1/artifacts", params={"filename": "live.txt", "scope": "user"}, content=b"now"
        )
        ident = made.json()["artifact_id"]
    newest = page.locator("#feed li").first
    await expect(newest).to_contain_text("v1.artifact.stored", timeout=15_000)
    await expect(newest).to_contain_text(ident)
    await page.click("nav >> text=Artifacts")  # leaving the page ends the long poll
    await page.wait_for_selector("#artifacts")
    assert problems.unexpected() == []


async def test_api_keys_and_the_dashboard(browser: Browser, ui_server: ServerProcess) -> None:
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "admin")
    await page.click("nav >> text=API keys")
    await page.fill("input[name=key_user]", "carol")
    await page.fill("input[name=key_name]", "carol's laptop")
    await page.click("#create-key button[type=submit]")
    await expect(page.locator("#token-once")).to_have_value(re.compile("^satk_"))
    token = await page.input_value("#token-once")
    async with httpx.AsyncClient(base_url=ui_server.url) as http:
        who = await http.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.json()["user_id"] == "carol"
        row = page.locator("#keys tr", has_text="carol's laptop")
        await expect(row).to_have_count(1)
        page.once("dialog", lambda dialog: dialog.accept())
        await row.locator("button").click()
        await expect(page.locator("#keys tr", has_text="carol's laptop")).to_have_count(0)
        refused = await http.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401  # revoked at once

    await page.click("nav >> text=Dashboard")
    await expect(page.locator("#health")).to_contain_text("Status: ok")
    await expect(page.locator("#by-scope")).to_contain_text("user")
    assert problems.unexpected() == []

    user = await browser.new_page()  # a user: no keys page in the menu, and a 403 if forced
    await sign_in(user, ui_server, "alice")
    assert await user.locator("#nav a[href='#/keys']").is_hidden()
    await user.goto(f"{ui_server.url}/ui/#/keys")
    await expect(user.locator(".error")).to_contain_text("403")


async def test_the_pull_through_cache(browser: Browser, launch_server: Any, tmp_path: Path) -> None:
    origin = Origin()
    origin.files["tools/v1/tool.tar.gz"] = b"\x1f\x8b tool bytes"
    remotes = tmp_path / "remotes.yaml"
    remotes.write_text(
        f'remotes:\n  mirror:\n    base_url: {origin.url}\n    include_patterns: ["tools/.*"]\n'
    )
    try:
        server = launch_server(SATCHEL_REMOTES_FILE=str(remotes))
        page = await browser.new_page()
        problems = Problems(page)
        await sign_in(page, server, "admin")
        await page.click("nav >> text=Cache")
        await expect(page.locator("#remotes")).to_contain_text("mirror")
        await expect(page.locator("#cached")).to_contain_text("Nothing cached yet")
        await page.fill("input[name=prefetch_path]", "tools/v1/tool.tar.gz")
        await page.click("#prefetch button")
        await expect(page.locator("#cached")).to_contain_text("tools/v1/tool.tar.gz")
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers("alice")) as http:
            hit = await http.get("/api/mirror/tools/v1/tool.tar.gz")
            assert hit.headers["x-artifact-source"] == "cache"
        await page.reload()
        await expect(page.locator("#remotes")).to_contain_text("50 %")  # the prefetch, then a hit
        await page.click("#cached tr[data-path='tools/v1/tool.tar.gz'] button")
        await expect(page.locator("#cached")).to_contain_text("Nothing cached yet")
        assert problems.unexpected() == []
    finally:
        origin.stop()


async def test_webhooks_test_and_redeliver(browser: Browser, launch_server: Any) -> None:
    receiver = Receiver("whsec_ui-tests-0123456789")
    try:
        server = launch_server(SATCHEL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32")
        receiver.status = 500
        admin = server.headers("admin")
        async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:
            made = await http.post(
                "/v1/admin/webhooks",
                json={
                    "url": receiver.url,
                    "types": ["v1.artifact.stored"],
                    "secret": receiver.secret,
                    "max_attempts": 1,
                },
            )
            webhook_id = made.json()["webhook_id"]
            await http.post(
                "/v1/artifacts", params={"filename": "hook.txt", "scope": "sandbox"}, content=b"h"
            )
            for _ in range(100):  # the service delivers on its own; the receiver refuses
                letters = await http.get(f"/v1/admin/webhooks/{webhook_id}/dead-letters")
                if letters.json()["dead_letters"]:
                    break
                await asyncio.sleep(0.1)
        page = await browser.new_page()
        problems = Problems(page)
        await sign_in(page, server, "admin")
        await page.click("nav >> text=Webhooks")
        hook = page.locator(f"section[data-webhook='{webhook_id}']")
        await expect(hook.locator(".letters li")).to_have_count(1)
        await hook.locator("button.test").click()
        await expect(hook.locator(".test-result")).to_contain_text("failed")
        receiver.status = 204
        await hook.locator("button.test").click()
        await expect(hook.locator(".test-result")).to_contain_text("delivered (HTTP 204)")
        await hook.locator("button.redeliver").click()
        await expect(
            page.locator(f"section[data-webhook='{webhook_id}'] .letters")
        ).to_contain_text("None.")
        delivered = [r["event"]["type"] for r in receiver.requests if r["code"] == 204]
        assert delivered == ["v1.webhook.test", "v1.artifact.stored"]
        assert all(r["signed"] for r in receiver.requests)
        assert problems.unexpected() == []
    finally:
        receiver.stop()


async def test_search_by_metadata_and_an_artifacts_provenance(
    browser: Browser, ui_server: ServerProcess
) -> None:
    alice = ui_server.headers("alice")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=alice) as http:
        ids = []
        for run in (7, 8):
            made = await http.post(
                "/v1/artifacts",
                params={"filename": f"run-{run}.txt", "scope": "user", "meta": f'{{"run": {run}}}'},
                content=f"run {run}".encode(),
            )
            assert made.status_code == 201, made.text
            ids.append(made.json()["artifact_id"])
        for entity, schema in ((ids[1], "produced-by"), (ids[0], "used-by")):
            aspect = await http.post(
                "/v1/aspects",
                json={
                    "entity": entity,
                    "schema": f"urn:satchel:schema:{schema}.1",
                    "content": {"job": "urn:job:train-1"},
                },
            )
            assert aspect.status_code == 201, aspect.text
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    await page.fill("input[name=meta]", '{"run": 8}')
    await page.click("button:has-text('Search')")
    await expect(page.locator("#artifacts tbody a")).to_have_text(["run-8.txt"])
    await page.fill("input[name=meta]", "{nope")
    await page.click("button:has-text('Search')")
    await expect(page.locator("#count .error")).to_contain_text("JSON object")
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{ids[1]}")
    await expect(page.locator("#lineage")).to_contain_text("urn:job:train-1")
    await expect(page.locator("#lineage a")).to_have_text([ids[0]])  # made from run 7
    await expect(page.locator("#aspects")).to_contain_text("produced-by")
    await expect(page.locator("#artifact-holds")).to_contain_text("None.")
    await page.click(f"#lineage a:has-text('{ids[0]}')")
    await expect(page.locator("#title")).to_have_text("run-7.txt")
    assert problems.unexpected() == []


async def test_expired_and_changed_meanwhile_read_as_such(
    browser: Browser, ui_server: ServerProcess
) -> None:
    alice = ui_server.headers("alice")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=alice) as http:
        short = await http.post(
            "/v1/artifacts",
            params={"filename": "brief.txt", "scope": "user", "ttl": "1"},
            content=b"b",
        )
        edited = await http.post(
            "/v1/artifacts", params={"filename": "edited.txt", "scope": "user"}, content=b"e"
        )
    page = await browser.new_page()
    await sign_in(page, ui_server, "alice")
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{edited.json()['artifact_id']}")
    await page.wait_for_selector("#edit")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=alice) as http:  # meanwhile
        await http.patch(
            f"/v1/artifacts/{edited.json()['artifact_id']}", json={"summary": "theirs"}
        )
    await page.fill("#edit input[name=summary]", "mine")
    await page.click("#edit button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("It changed meanwhile")
    await expect(page.locator(".error")).to_contain_text("412")
    await asyncio.sleep(1.5)
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{short.json()['artifact_id']}")
    await expect(page.locator(".error")).to_contain_text("That has expired")
    await expect(page.locator(".error")).to_contain_text("410")


async def test_copy_rename_and_last_verification(
    browser: Browser, ui_server: ServerProcess
) -> None:
    admin = ui_server.headers("admin")
    async with httpx.AsyncClient(base_url=ui_server.url, headers=admin) as http:
        made = await http.post(
            "/v1/artifacts", params={"filename": "checked.txt", "scope": "sandbox"}, content=b"c"
        )
        ident = made.json()["artifact_id"]
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "admin")
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{ident}")
    await expect(page.locator("#verified")).to_have_text(re.compile("never|intact"))
    async with httpx.AsyncClient(base_url=ui_server.url, headers=admin) as http:
        verify = await http.post("/v1/admin/storage/verify")
        assert verify.status_code == 200, verify.text
    await page.reload()
    await expect(page.locator("#verified")).to_contain_text("intact")
    await page.fill("input[name=new_filename]", "checked-copy.txt")
    await page.click("#copy")
    await expect(page.locator("#title")).to_have_text("checked-copy.txt")
    assert page.url.rsplit("/", 1)[-1] != ident
    await page.fill("input[name=new_filename]", "renamed.txt")
    await page.click("#move")
    await expect(page.locator("#title")).to_have_text("renamed.txt")
    assert problems.unexpected() == []


async def test_make_public_and_add_to_a_collection(
    browser: Browser, ui_server: ServerProcess
) -> None:
    async with httpx.AsyncClient(
        base_url=ui_server.url, headers=ui_server.headers("alice")
    ) as http:
        made = await http.post(
            "/v1/artifacts", params={"filename": "open.txt", "scope": "user"}, content=b"open"
        )
        ident = made.json()["artifact_id"]
    page = await browser.new_page()
    problems = Problems(page)
    await sign_in(page, ui_server, "alice")
    await page.goto(f"{ui_server.url}/ui/#/artifacts/{ident}")
    await expect(page.locator("#policy")).to_contain_text("Private")
    await expect(page.locator("#collections")).to_have_text("none")
    await page.click("#toggle-policy")
    await expect(page.locator("#policy")).to_contain_text("Public")
    async with httpx.AsyncClient(base_url=ui_server.url) as anonymous:  # no token
        assert (await anonymous.get(f"/v1/artifacts/{ident}/content")).content == b"open"
    await page.fill("input[name=collection]", "reef")
    await page.click("#add-collection")
    await expect(page.locator("#collections")).to_have_text("reef")
    await page.click("#presign")
    await expect(page.locator("#presigned")).to_have_value(
        f"{ui_server.url}/v1/artifacts/{ident}/content"
    )
    await page.click("#toggle-policy")
    await expect(page.locator("#policy")).to_contain_text("Private")
    async with httpx.AsyncClient(base_url=ui_server.url) as anonymous:
        assert (await anonymous.get(f"/v1/artifacts/{ident}/content")).status_code == 401
    assert problems.unexpected() == []
