"""``/ui``: the web UI (satchel/ui/static), its files under ``/ui/static``, and browsers sent
from ``/`` to it. The page is public; everything it shows comes from the API with the
visitor's token. Its content security policy allows scripts, styles and connections from
this origin only, and no inline script or style."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from satchel.server.deps import Access, GuardedRoute, access
from satchel.ui import STATIC

__all__ = ["CSP", "mount_ui_assets", "router", "wants_html"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; frame-src blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def wants_html(request: Request) -> bool:
    """A browser navigating (it asks for HTML first), not an API client."""
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html") or "text/html" in accept.split(",")[0]


def mount_ui_assets(app: FastAPI) -> None:
    """Serve the UI's scripts and styles under ``/ui/static`` (installed with the package:
    nothing is fetched from elsewhere)."""
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="ui-static")


@router.get("/ui")
@access(Access.PUBLIC)
async def ui_root(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/")
@access(Access.PUBLIC)
async def ui_page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)
