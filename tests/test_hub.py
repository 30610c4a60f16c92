"""Links a student's browser can open (labsupport.hub): the link, the prefix, the Jupyter credentials.

The last test starts a real Jupyter server with jupyter-server-proxy, as JupyterHub runs one.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from labsupport.docs_offline import ASSET_PATH, ASSETS
from labsupport.hub import ProxyPrefix, browser_base, jupyter_server_info, relative_reference, scoped_cookie
from labsupport.servers import running_servers, serve, stop_all

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]

SECRET_COOKIES = "_xsrf=XSRF-SECRET; jupyterhub-session-id=HUB-SECRET; username-127-0-0-1-8888=LOGIN-SECRET"
SECRETS = ("XSRF-SECRET", "HUB-SECRET", "LOGIN-SECRET", "TOKEN-SECRET")


def make_app() -> FastAPI:
    app = FastAPI(title="Hub test")

    @app.get("/books/{book_id}")
    def show(book_id: int):
        return {"id": book_id}

    @app.get("/headers")
    def headers(request: Request):  # what a student writes to look at a request
        return dict(request.headers)

    @app.get("/where")
    def where(request: Request):
        return {"url": str(request.url), "root_path": request.scope.get("root_path", "")}

    @app.get("/old")
    def old():
        return RedirectResponse("/books/1")

    @app.get("/shelf/")
    def shelf():
        return []

    @app.post("/login")
    def login(response: Response):
        response.set_cookie("session", "lab-session", path="/", httponly=True, samesite="lax")
        response.set_cookie("theme", "dark", path=None)  # no Path: the browser scopes it to the request's folder
        return {"ok": True}

    return app


# --- the link -------------------------------------------------------------------------------


def write_server_info(tmp_path, pid: int, **info) -> str:
    (tmp_path / f"jpserver-{pid}.json").write_text(json.dumps({"pid": pid, **info}))
    return str(tmp_path)


def test_local_link_is_loopback(tmp_path):
    assert browser_base(8123, environ={}, runtime_dir=str(tmp_path)) == "http://127.0.0.1:8123/"


def test_jupyterhub_link_is_the_service_prefix_and_proxy(tmp_path):
    """Mutation that failed this: dropping the `proxy/` segment from browser_base."""
    env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/student/"}
    assert browser_base(8123, environ=env) == "/user/student/proxy/8123/"
    assert browser_base(8123, environ={"JUPYTERHUB_SERVICE_PREFIX": "/user/student"}) == "/user/student/proxy/8123/"
    public = {**env, "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/"}
    assert browser_base(8123, environ=public) == "https://hub.example.org/user/student/proxy/8123/"
    hostile = {**env, "JUPYTERHUB_PUBLIC_URL": "javascript:alert(1)"}
    assert browser_base(8123, environ=hostile) == "/user/student/proxy/8123/"


def test_a_remote_jupyter_server_that_launched_the_kernel_gives_its_base_url(tmp_path):
    """Mutation that failed this: `not in _LOOPBACK` flipped to `in _LOOPBACK`."""
    runtime = write_server_info(tmp_path, 4242, hostname="0.0.0.0", base_url="/lab-a/", port=8888)
    env = {"JPY_PARENT_PID": "4242"}
    assert jupyter_server_info(env, runtime)["base_url"] == "/lab-a/"
    assert browser_base(8123, environ=env, runtime_dir=runtime) == "/lab-a/proxy/8123/"
    write_server_info(tmp_path, 4343, hostname="localhost", base_url="/", port=8888)
    local = {"JPY_PARENT_PID": "4343"}
    assert browser_base(8123, environ=local, runtime_dir=runtime) == "http://127.0.0.1:8123/"
    write_server_info(tmp_path, 4444, hostname="127.0.0.1", base_url="/behind/a/proxy/", port=8888)
    proxied = {"JPY_PARENT_PID": "4444"}
    assert browser_base(8123, environ=proxied, runtime_dir=runtime) == "/behind/a/proxy/proxy/8123/"
    # Another server's file, or none, is not this kernel's server.
    assert browser_base(8123, environ={"JPY_PARENT_PID": "999"}, runtime_dir=runtime) == "http://127.0.0.1:8123/"
    (tmp_path / "jpserver-555.json").write_text(json.dumps({"pid": 4242, "hostname": "0.0.0.0"}))
    assert jupyter_server_info({"JPY_PARENT_PID": "555"}, runtime) is None


def test_server_browser_url_follows_the_environment(monkeypatch):
    server = serve(make_app(), name="link")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    assert server.browser_url == f"http://127.0.0.1:{server.port}/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/student/")
    assert server.browser_url == f"/user/student/proxy/{server.port}/"
    assert server.url == f"http://127.0.0.1:{server.port}"  # code in the kernel keeps the direct address


def test_stop_all_can_keep_a_server_running_for_the_browser(capsys, monkeypatch):
    """Mutation that failed this: `server.name not in names` flipped to `in` in stop_all."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/student/")
    shop, other, third = (serve(make_app(), name=name) for name in ("shop", "other", "third"))
    stop_all(keep=shop)
    assert shop.running and not other.running and not third.running
    assert running_servers() == [shop]
    said = capsys.readouterr().out
    assert said == f"still running: 'shop' at /user/student/proxy/{shop.port}/ (stop it with stop_all())\n"
    assert shop.client.get("/books/1").json() == {"id": 1}
    again = serve(make_app(), name="again")
    stop_all(keep=["shop", again])
    assert shop.running and again.running
    stop_all()
    assert running_servers() == [] and capsys.readouterr().out.count("still running") == 2


def test_stop_all_refuses_to_keep_what_is_not_running():
    serve(make_app(), name="kept")
    with pytest.raises(ValueError, match="'typo'"):
        stop_all(keep="typo")
    with pytest.raises(TypeError, match="int"):
        stop_all(keep=[3])
    assert [server.name for server in running_servers()] == ["kept"]  # nothing stopped on a wrong call


# --- requests through the proxy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "base", "expected"),
    [
        ("/p/docs", "/p/docs/", "../docs"),
        ("/p/shelf/", "/p/shelf", "shelf/"),
        ("/p/books/1", "/p/old", "books/1"),
        ("/p/", "/p/a/b", "../"),
        ("/p/a:b", "/p/x", "./a:b"),
    ],
)
def test_relative_reference_resolves_back_to_the_target(target, base, expected):
    reference = relative_reference(target, base)
    assert reference == expected
    assert str(httpx.URL("http://h" + base).join(reference).path) == target


def proxied(server, **headers) -> dict[str, str]:
    return {"X-Forwarded-Prefix": f"/user/student/proxy/{server.port}", **headers}


def test_a_proxied_request_sees_its_prefix_and_a_direct_one_does_not():
    """Mutation that failed this: `"root_path": ""` in ProxyPrefix's scope."""
    server = serve(make_app(), name="prefix")
    prefix = f"/user/student/proxy/{server.port}"
    assert server.client.get("/where").json() == {"url": f"{server.url}/where", "root_path": ""}
    seen = server.client.get("/where", headers=proxied(server)).json()
    assert seen == {"url": f"{server.url}{prefix}/where", "root_path": prefix}
    assert server.client.get("/books/3", headers=proxied(server)).json() == {"id": 3}


def test_a_prefix_that_is_not_a_plain_path_is_ignored():
    server = serve(make_app(), name="hostile")
    for prefix in ("/x'</script><script>alert(1)//", "javascript:alert(1)", "/a b"):
        page = server.client.get("/docs", headers={"X-Forwarded-Prefix": prefix}).text
        assert "alert" not in page and " b/" not in page
        assert f"'{'/openapi.json'}'" in page


def test_redirects_through_the_proxy_keep_the_prefix():
    """An absolute Location (FastAPI's trailing-slash redirect) or a bare path would leave the proxy.

    Mutation that failed this: returning `location` unchanged from _relative_location.
    """
    server = serve(make_app(), name="redirects")
    base = f"http://127.0.0.1:{server.port}/user/student/proxy/{server.port}"
    for path, target in (("/old", "/books/1"), ("/shelf", "/shelf/")):
        response = server.client.get(path, headers=proxied(server))
        assert response.status_code in (302, 307)
        location = response.headers["location"]
        assert not location.startswith(("/", "http")), location
        assert httpx.URL(base + path).join(location) == httpx.URL(base + target)
    # A direct call is redirected exactly as before.
    assert server.client.get("/shelf").headers["location"] == f"{server.url}/shelf/"


@pytest.mark.parametrize(
    ("set_cookie", "expected"),
    [
        ("s=1; Path=/; HttpOnly", "s=1; Path=/p/proxy/9/; HttpOnly"),
        ("s=1; path=/books", "s=1; Path=/p/proxy/9/books"),
        ("s=1; HttpOnly", "s=1; HttpOnly"),  # no Path: the browser's default is under the prefix already
        ("s=1; Path=/p/proxy/9/x", "s=1; Path=/p/proxy/9/x"),  # already under it
        ("s=1; Path=relative", "s=1; Path=relative"),  # not a path: browsers ignore it
        ("s=/x; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "s=/x; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
    ],
)
def test_a_cookie_path_moves_under_the_prefix(set_cookie, expected):
    """Mutation that failed this: `scoped_cookie` returning its input."""
    assert scoped_cookie(set_cookie, "/p/proxy/9") == expected


def test_cookies_set_through_the_proxy_stay_behind_it():
    """Through the proxy `Path=/` would reach every page of the hub's site. (Mutation that failed
    this: ProxyPrefix not rewriting set-cookie.)"""
    server = serve(make_app(), name="cookies")
    prefix = f"/user/student/proxy/{server.port}"
    proxied_cookies = server.client.post("/login", headers=proxied(server)).headers.get_list("set-cookie")
    assert any(c.startswith("session=") and f"Path={prefix}/;" in c for c in proxied_cookies), proxied_cookies
    assert any(c.startswith("theme=") and "Path=" not in c for c in proxied_cookies), proxied_cookies
    direct = server.client.post("/login").headers.get_list("set-cookie")
    assert any(c.startswith("session=") and "Path=/;" in c for c in direct), direct


def test_an_app_that_echoes_headers_cannot_show_the_jupyter_sessions_credentials():
    """Through the proxy a lab app receives the browser's Jupyter cookies and token.

    Mutation that failed this: `continue` on the Authorization line replaced by `pass`; the cookie
    filter's `not` dropped.
    """
    server = serve(make_app(), name="echo")
    headers = proxied(server, Cookie=f"{SECRET_COOKIES}; session=lab-own", Authorization="token TOKEN-SECRET")
    response = server.client.get("/headers", headers=headers)
    echoed = json.dumps(response.json())
    assert response.status_code == 200
    for secret in SECRETS:
        assert secret not in echoed
    assert response.json()["cookie"] == "session=lab-own"  # the lab app's own cookie still arrives
    bearer = server.client.get("/headers", headers=proxied(server, Authorization="Bearer lab-token")).json()
    assert bearer["authorization"] == "Bearer lab-token"  # and its own tokens (08-auth via /docs)
    only_jupyter = server.client.get("/headers", headers=proxied(server, Cookie=SECRET_COOKIES)).json()
    assert "cookie" not in only_jupyter


def lab_apps():
    """Every app the lab itself serves to students (the notebooks' own apps are in their cells)."""
    import bcrypt

    from labsupport.apps.bookshop import create_app
    from labsupport.lessons.l08_auth.authserver import create_authorization_server
    from labsupport.lessons.l09_security.labapps import make_settings_app, make_vulnerable_search_app, shop_engine
    from labsupport.lessons.l11_architecture.layers import tangled_quote_app

    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4))
    yield "bookshop", create_app(orders=5)
    yield "l08 authorization server", create_authorization_server(
        clients={"printco": ["http://127.0.0.1:1/callback"]}, users={"alice": hashed}, audience="orders-api"
    )
    yield "l09 search", make_vulnerable_search_app(shop_engine())
    yield "l09 settings", make_settings_app(lambda session: "token", lambda request, session, token: True)
    yield "l11 tangled quote", tangled_quote_app(shop_engine())


def test_no_lab_app_sends_back_a_cookie_or_an_authorization_header():
    """Each route of each lab app, called with a Cookie and an Authorization header, directly and
    through the proxy: neither value comes back, in the body or a header.

    Mutation that failed this: a route `@app.get("/api/echo")` returning `dict(request.headers)`
    added to the bookshop's create_app.
    """
    cookie, token = "session=COOKIE-MARKER", "Bearer TOKEN-MARKER"
    called = 0
    for label, app in lab_apps():
        server = serve(app, name="sweep")
        # app.routes holds an included router as one entry (FastAPI >= 0.13x): the schema lists its routes.
        paths = {route.path for route in app.routes if hasattr(route, "methods")} | set(app.openapi()["paths"])
        assert len(paths) > 1, label
        for path in sorted(paths):
            url = re.sub(r"\{[^}]+\}", "1", path)
            for headers in ({}, proxied(server)):
                for method in ("GET", "POST"):
                    sent = {**headers, "Cookie": cookie, "Authorization": token}
                    response = server.client.request(method, url, headers=sent)
                    answer = response.text + json.dumps(list(response.headers.items()))
                    assert "COOKIE-MARKER" not in answer and "TOKEN-MARKER" not in answer, (label, method, url)
                    called += 1
        server.stop()
    assert called > 40  # the sweep reached the apps' routes


def test_prefix_wrapper_passes_other_scopes_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)

    import asyncio

    scope = {"type": "lifespan"}
    asyncio.run(ProxyPrefix(app)(scope, None, None))
    assert seen == [scope]


# --- a real Jupyter server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    """`jupyter server` on 127.0.0.1 under /user/student/ with jupyter-server-proxy, as on a hub.

    Yields (its URL, its token, its pid, its runtime directory). One per module: it takes seconds.
    """
    tmp_path = tmp_path_factory.mktemp("jupyter")
    token = "test-token-" + os.urandom(8).hex()
    port = free_port()
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_server_proxy": True}}})
    )
    env = {
        **os.environ,
        "JUPYTERHUB_SERVICE_PREFIX": "/user/student/",
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.base_url=/user/student/", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail("jupyter server exited: " + (tmp_path / "server.log").read_text()[-2000:])
            try:
                status = httpx.get(f"{base}/user/student/api/status", params={"token": token}, timeout=2)
                if status.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("jupyter server did not answer in 60 s: " + (tmp_path / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base, token, process.pid, env["JUPYTER_RUNTIME_DIR"]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


@pytest.mark.timeout(120)
def test_through_a_real_jupyter_server_proxy_the_api_docs_and_schema_answer(jupyter_server, monkeypatch):
    """The student's browser on a hub: every URL /docs loads, through jupyter-server-proxy.

    Mutation that failed this: OfflineDocs's `root` replaced by "" (the page asks the hub's
    root for its assets: 404).
    """
    base, token, _, _ = jupyter_server
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/student/")
    server = serve(make_app(), name="behind-hub")
    link = server.browser_url
    assert link == f"/user/student/proxy/{server.port}/"
    browser = httpx.Client(
        base_url=base, timeout=20, headers={"Authorization": f"token {token}"}, cookies={"_xsrf": "XSRF-SECRET"}
    )
    with browser:
        assert browser.get(link + "books/5").json() == {"id": 5}
        for page in ("docs", "docs/", "redoc"):
            response = browser.get(link + page)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
            assert not re.search(r"https?://", response.text)
            urls = re.findall(r"""(?:href|src|spec-url)=["']([^"']+)["']|\burl:\s*'([^']+)'""", response.text)
            urls = [first or second for first, second in urls]
            assert link + "openapi.json" in urls, urls
            for url in urls:
                assert url.startswith(link), url
                asset = browser.get(url)
                assert asset.status_code == 200, url
        for name, media_type in ASSETS.items():
            asset = browser.get(f"{link}{ASSET_PATH.lstrip('/')}/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(media_type.split(";")[0])
        schema = browser.get(link + "openapi.json")
        assert schema.status_code == 200 and "/books/{book_id}" in schema.json()["paths"]
        # "Try it out" sends its request to the schema's server URL, through the proxy too.
        assert browser.get(schema.json()["servers"][0]["url"] + "/books/9").json() == {"id": 9}
        # A cookie the app sets stays behind the proxy (jupyter-server-proxy passes it on as it is).
        cookie = browser.post(link + "login").headers["set-cookie"]
        assert f"Path={link};" in cookie, cookie
        # A redirect keeps the student behind the proxy.
        moved = browser.get(link + "shelf", follow_redirects=True)
        assert moved.status_code == 200 and moved.url.path == f"{link}shelf/"
        # What the lab app received: no Jupyter token, no Jupyter cookie.
        echoed = json.dumps(browser.get(link + "headers").json())
        assert token not in echoed and "XSRF-SECRET" not in echoed
    # Code in the kernel keeps calling the server directly, as before.
    assert server.client.get("/books/2").json() == {"id": 2}


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads a kernel's environment from /proc (Linux)")
def test_a_kernel_of_a_real_jupyter_server_finds_that_servers_base_url(jupyter_server):
    """Without JUPYTERHUB_SERVICE_PREFIX, the kernel's JPY_PARENT_PID leads to the server's info file.

    Mutation that failed this: `parent = str(os.getppid())` in jupyter_server_info, i.e. a pid
    other than the one the server gave its kernel (here the test's parent, not the server).
    """
    base, token, pid, runtime = jupyter_server
    api = httpx.Client(base_url=f"{base}/user/student/api", headers={"Authorization": f"token {token}"}, timeout=30)
    with api:
        kernel = api.post("/kernels", json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        try:
            deadline = time.monotonic() + 30
            environ: dict[str, str] = {}
            while not environ.get("JPY_PARENT_PID") and time.monotonic() < deadline:
                for child in _children(pid):
                    raw = Path(f"/proc/{child}/environ").read_bytes()
                    found = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
                    if "ipykernel" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                        environ = found
                time.sleep(0.1)
        finally:
            api.delete(f"/kernels/{kernel.json()['id']}")
    assert environ.get("JPY_PARENT_PID") == str(pid)
    environ.pop("JUPYTERHUB_SERVICE_PREFIX")  # a plain Jupyter server, not a hub's
    assert jupyter_server_info(environ, runtime)["base_url"] == "/user/student/"
    assert browser_base(8123, environ=environ, runtime_dir=runtime) == "/user/student/proxy/8123/"
