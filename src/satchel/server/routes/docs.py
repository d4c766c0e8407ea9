"""``GET /docs``: the API explorer (Swagger UI) with its assets served by Satchel from the
installed ``swagger-ui-bundle`` package, so it works offline; the document it shows is
``/openapi.json`` (with the bearer scheme behind its Authorize button)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from satchel.server.deps import Access, GuardedRoute, access

__all__ = ["mount_docs_assets", "router"]

ASSETS = "/docs/assets"

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)


def mount_docs_assets(app: FastAPI) -> None:
    """Serve Swagger UI's files under ``/docs/assets``."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")


@router.get("/docs", summary="The API explorer", response_class=HTMLResponse)
@access(Access.PUBLIC)
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={"persistAuthorization": True},
    )
