"""`/docs` and `/redoc` that load nothing from the internet, for every FastAPI app `serve()` runs.

Introduced in 02-rest-api (the interactive docs page); `serve()` applies it to every app, so the
student keeps writing plain ``FastAPI(...)``. FastAPI's own pages load Swagger UI, ReDoc, their
CSS and the favicon from jsDelivr and fastapi.tiangolo.com: offline, or on a hub whose students
have no internet, the pages stay blank. `OfflineDocs` wraps the app (it is not modified): it
answers the app's ``docs_url`` and ``redoc_url`` (with or without a trailing slash) itself, with
FastAPI's own HTML builders pointed at copies served under `ASSET_PATH`; every other request goes
to the app unchanged.

Where the copies come from: the `fastapi-offline` wheel (MIT, 2.8 MB, depends on fastapi only)
ships exactly the four files FastAPI's pages need: Swagger UI 5's ``swagger-ui-bundle.js`` and
``swagger-ui.css``, ReDoc 2's ``redoc.standalone.js`` and FastAPI's ``favicon.png``. Compared
with `pip download`: `swagger-ui-bundle` 1.1.0 is 8.6 MB (source maps), holds Swagger UI 4.15
(FastAPI's pages are written for 5) and no ReDoc. Only the files are used, not its
``FastAPIOffline`` class, which would have to replace the student's ``FastAPI(...)``.

Behind a proxy (JupyterHub, see `labsupport.hub`) the request's ``root_path`` is the proxy's
prefix, and every URL the pages hold starts with it, as FastAPI's own pages do.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import Response

__all__ = ["ASSET_PATH", "ASSETS", "OfflineDocs", "find_fastapi"]

ASSET_PATH = "/_lab/docs-assets"  # below the app's root path; unlikely to meet a lesson's route
# file name -> content type
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}


# ReDoc's sidebar shows "API docs by Redocly" with a logo it always fetches from its CDN (seen in
# Chromium: the one request /redoc made beyond the lab server). A transparent pixel instead.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_PIXEL = b"data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@functools.cache
def _asset(name: str) -> bytes:
    data = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
    return data.replace(_REDOC_LOGO, _PIXEL) if name == "redoc.standalone.js" else data


def find_fastapi(app: Any, depth: int = 8) -> FastAPI | None:
    """The FastAPI app inside `app`: itself, or reached through ASGI wrappers' ``.app``."""
    for _ in range(depth):
        if isinstance(app, FastAPI):
            return app
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _swagger_page(app: FastAPI, root: str) -> Response:
    assert app.openapi_url is not None  # checked by the caller
    redirect = app.swagger_ui_oauth2_redirect_url
    # The online validator badge would send the schema's URL to validator.swagger.io.
    parameters = {"validatorUrl": None, **(app.swagger_ui_parameters or {})}
    return get_swagger_ui_html(
        openapi_url=root + app.openapi_url,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSET_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSET_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
        oauth2_redirect_url=root + redirect if redirect else None,
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=parameters,
    )


def _redoc_page(app: FastAPI, root: str) -> Response:
    assert app.openapi_url is not None
    return get_redoc_html(
        openapi_url=root + app.openapi_url,
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSET_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSET_PATH}/favicon.png",
        with_google_fonts=False,  # fonts.googleapis.com: the page falls back to the browser's fonts
    )


class OfflineDocs:
    """ASGI wrapper: the wrapped FastAPI app's docs pages and their assets, served from here."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        # In an environment installed before fastapi-offline was a dependency, FastAPI's own
        # pages (from the CDN) are better than a 500: `python -m labsupport doctor` says what to do.
        self._fastapi = find_fastapi(app) if importlib.util.find_spec("fastapi_offline") else None

    def _page(self, path: str, root: str) -> Response | None:
        api = self._fastapi
        if api is None or not api.openapi_url:
            return None
        if path.startswith(ASSET_PATH + "/"):
            name = path.removeprefix(ASSET_PATH + "/")
            if name in ASSETS and (api.docs_url or api.redoc_url):
                headers = {"Cache-Control": "public, max-age=3600"}
                return Response(_asset(name), media_type=ASSETS[name], headers=headers)
            return None
        # "/docs/" too: the app would redirect it to "/docs" with an absolute URL that a proxy
        # in front may not rewrite.
        if api.docs_url and path in (api.docs_url, api.docs_url + "/"):
            return _swagger_page(api, root)
        if api.redoc_url and path in (api.redoc_url, api.redoc_url + "/"):
            return _redoc_page(api, root)
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and self._fastapi is not None:
            root = scope.get("root_path", "").rstrip("/")
            path = scope["path"]
            if root and path.startswith(root + "/"):
                path = path[len(root) :]  # ASGI: `path` includes `root_path`
            page = self._page(path, root)
            if page is not None:
                await page(scope, receive, send)
                return
        await self.app(scope, receive, send)
