"""/docs and /redoc of every served FastAPI app load nothing from the internet (labsupport.docs_offline)."""

import re

import pytest
from fastapi import FastAPI

from labsupport.docs_offline import ASSET_PATH, ASSETS, find_fastapi
from labsupport.servers import serve

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]

# Every URL a docs page references: attributes, Swagger UI's `url: '...'`, ReDoc's spec-url.
_REFERENCE = re.compile(r"""(?:href|src|spec-url)=["']([^"']+)["']|\burl:\s*'([^']+)'""")
_EXPECTED_TYPE = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


def make_app(**kwargs) -> FastAPI:
    app = FastAPI(title="Lab API", **kwargs)

    @app.get("/books/{book_id}")
    def show(book_id: int):
        return {"id": book_id}

    return app


def references(html: str) -> list[str]:
    return [first or second for first, second in _REFERENCE.findall(html)]


def assert_page_is_offline(client, page: str, prefix: str = "", headers: dict | None = None) -> list[str]:
    response = client.get(page, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://|//[a-z]", html), f"{page} names a URL outside the lab server"
    found = references(html)
    assert found, f"{page} references nothing: the pattern no longer matches FastAPI's HTML"
    for url in found:
        assert url.startswith(prefix + "/"), (page, url)
        asset = client.get(url.removeprefix(prefix), headers=headers)
        suffix = "." + url.rsplit(".", 1)[-1]
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(_EXPECTED_TYPE[suffix]), (url, asset.headers["content-type"])
        assert len(asset.content) > 500, url
    return found


def test_docs_and_redoc_reference_only_the_lab_server_and_every_asset_answers():
    """Mutation that failed this: with_google_fonts=True in _redoc_page (fonts.googleapis.com);
    "text/plain" as swagger-ui.css's content type."""
    server = serve(make_app(), name="docs")
    swagger = assert_page_is_offline(server.client, "/docs")
    redoc = assert_page_is_offline(server.client, "/redoc")
    assert {f"{ASSET_PATH}/{name}" for name in ASSETS} <= set(swagger) | set(redoc)
    assert "/openapi.json" in swagger and "/openapi.json" in redoc


def test_the_assets_are_swagger_ui_and_redoc():
    """Mutation that failed this: _asset returning the file unchanged (ReDoc's logo from its CDN)."""
    server = serve(make_app(), name="assets")
    assert b"SwaggerUIBundle" in server.client.get(f"{ASSET_PATH}/swagger-ui-bundle.js").content
    assert b".swagger-ui" in server.client.get(f"{ASSET_PATH}/swagger-ui.css").content
    assert b"Redoc" in server.client.get(f"{ASSET_PATH}/redoc.standalone.js").content
    assert server.client.get(f"{ASSET_PATH}/favicon.png").content.startswith(b"\x89PNG")
    # ReDoc's sidebar would fetch its logo from Redocly's CDN on every page view.
    assert b"cdn.redoc.ly" not in server.client.get(f"{ASSET_PATH}/redoc.standalone.js").content
    assert server.client.get(f"{ASSET_PATH}/secret.py").status_code == 404
    assert server.client.get(f"{ASSET_PATH}/../hub.py").status_code == 404


def test_behind_a_proxy_every_url_carries_the_prefix():
    """Mutation that failed this: `openapi_url=app.openapi_url` (no root) in _swagger_page."""
    server = serve(make_app(), name="prefixed")
    prefix = f"/user/student/proxy/{server.port}"
    headers = {"X-Forwarded-Prefix": prefix}
    for page in ("/docs", "/docs/", "/redoc", "/redoc/"):
        found = assert_page_is_offline(server.client, page, prefix, headers)
        assert prefix + "/openapi.json" in found
    schema = server.client.get("/openapi.json", headers=headers).json()
    assert schema["servers"] == [{"url": prefix}]  # "Try it out" sends its requests through the proxy


def test_a_trailing_slash_is_answered_not_redirected():
    """FastAPI would redirect /docs/ to an absolute http://host/docs that drops a proxy's prefix.

    Mutation that failed this: dropping `api.docs_url + "/"` from OfflineDocs._page.
    """
    server = serve(make_app(), name="slash")
    for page in ("/docs/", "/redoc/"):
        assert server.client.get(page).status_code == 200


def test_the_students_app_is_not_changed_and_its_own_settings_hold():
    app = make_app(docs_url="/api-docs", redoc_url=None, swagger_ui_parameters={"defaultModelsExpandDepth": -1})
    routes = list(app.routes)
    server = serve(app, name="settings")
    assert app.routes == routes
    page = server.client.get("/api-docs").text
    assert '"defaultModelsExpandDepth": -1' in page and ASSET_PATH in page
    assert server.client.get("/docs").status_code == 404
    assert server.client.get("/redoc").status_code == 404
    assert server.client.get("/books/7").json() == {"id": 7}


def test_an_app_without_docs_serves_no_docs_assets():
    server = serve(make_app(docs_url=None, redoc_url=None), name="nodocs")
    assert server.client.get("/docs").status_code == 404
    assert server.client.get(f"{ASSET_PATH}/swagger-ui.css").status_code == 404


def test_a_wrapped_fastapi_app_is_found():
    class Wrapper:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            await self.app(scope, receive, send)

    app = make_app()
    assert find_fastapi(Wrapper(Wrapper(app))) is app
    assert find_fastapi(object()) is None
    server = serve(Wrapper(app), name="wrapped")
    assert_page_is_offline(server.client, "/docs")


def test_without_the_fastapi_offline_package_the_apps_own_pages_are_served(monkeypatch):
    """A lab environment installed before the dependency existed: no 500, FastAPI's pages.

    Mutation that failed this: OfflineDocs.__init__ without its find_spec("fastapi_offline") test.
    """
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def find_spec(name):
        return None if name == "fastapi_offline" else real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    server = serve(make_app(), name="old-env")
    page = server.client.get("/docs")
    assert page.status_code == 200 and ASSET_PATH not in page.text and "swagger-ui" in page.text
    assert server.client.get(f"{ASSET_PATH}/swagger-ui.css").status_code == 404
