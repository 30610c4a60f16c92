"""Links to lab servers that the student's browser can open, on a laptop or behind JupyterHub.

Introduced in 02-rest-api (``server.browser_url``, the link to ``/docs``). A lab server listens
on 127.0.0.1 of the machine running the kernel, which on JupyterHub, Binder or any remote Jupyter
server is not the student's machine. There, jupyter-server-proxy (a dependency of the lab,
enabled by installing it) forwards ``{base_url}proxy/{port}/...`` of the Jupyter server to
``localhost:{port}/...``, through the student's own authenticated Jupyter session.

`browser_base(port)` picks the link:

- ``JUPYTERHUB_SERVICE_PREFIX`` is set (JupyterHub and Binder set it for the single-user server
  and its kernels): ``{prefix}proxy/{port}/``. A path without a host: the kernel cannot know the
  host name the browser used (the hub's internal URLs differ), and the path is what works when
  clicked in the notebook's page, which is on that host. ``JUPYTERHUB_PUBLIC_URL``, when the hub
  sets it, makes it a full URL.
- Else the Jupyter server that started this kernel, when it can be found: jupyter_client gives a
  kernel ``JPY_PARENT_PID`` (the server's pid; POSIX, kernels it launches itself), and every
  jupyter_server writes ``jpserver-<pid>.json`` (its ``base_url``, ``hostname``) in Jupyter's
  runtime directory. A server listening beyond loopback, or under a ``base_url`` other than
  ``/``, is remote or behind a proxy: ``{base_url}proxy/{port}/``.
- Else, and for a server on loopback at ``/``: ``http://127.0.0.1:{port}/``.

Not detected: kernels started by a gateway or remote provisioner, or whose server writes its
info file elsewhere (another ``JUPYTER_RUNTIME_DIR``), VS Code and Colab kernels (all get the
127.0.0.1 link); nor whether jupyter-server-proxy is enabled in a server running from another
environment than the kernel.

`ProxyPrefix` makes the app behind the link behave: jupyter-server-proxy strips the prefix and
names it in ``X-Forwarded-Prefix``, which becomes the request's ``root_path`` (FastAPI then puts
it in ``/docs``'s URLs and the schema's ``servers``); a redirect to the same host becomes a
relative URL, which keeps the prefix whatever the proxy does with ``Location``; a cookie's
``Path`` moves under the prefix (`scoped_cookie`), so it is not sent to the rest of the hub; and the Jupyter
session's credentials (its cookies, an ``Authorization: token ...``) are removed, so an app that
echoes request headers cannot show them. Requests without that header (every direct call to
``server.url``) pass through untouched.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ProxyPrefix", "browser_base", "jupyter_server_info", "scoped_cookie", "JUPYTER_COOKIE"]

# The cookies of a Jupyter session: jupyter_server's login cookie is "username-<host>-<port>",
# JupyterHub's "jupyterhub-user-<name>", "jupyterhub-session-id", ...; "_xsrf" is both's.
JUPYTER_COOKIE = re.compile(r"_xsrf|username-.*|jupyterhub-.*")
# A prefix goes into HTML and JavaScript strings: URL path characters only, no quotes or brackets.
_SAFE_PREFIX = re.compile(r"(/[A-Za-z0-9._~%!$&*+,;=:@-]+)+/?")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def jupyter_server_info(environ: dict[str, str] | None = None, runtime_dir: str | None = None) -> dict | None:
    """The ``jpserver-<pid>.json`` info of the Jupyter server that launched this kernel, or None."""
    environ = dict(os.environ) if environ is None else environ
    parent = environ.get("JPY_PARENT_PID", "").strip()
    if not parent.isdigit():
        return None
    if runtime_dir is None:
        try:
            from jupyter_core.paths import jupyter_runtime_dir
        except ImportError:
            return None
        runtime_dir = jupyter_runtime_dir()
    path = Path(runtime_dir) / f"jpserver-{parent}.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or str(info.get("pid")) != parent:
        return None
    return info


def browser_base(port: int, environ: dict[str, str] | None = None, runtime_dir: str | None = None) -> str:
    """The URL (ending in "/") at which a browser reaches the lab server on 127.0.0.1:`port`."""
    environ = dict(os.environ) if environ is None else environ
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if prefix:
        path = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        public = environ.get("JUPYTERHUB_PUBLIC_URL", "").strip().rstrip("/")
        scheme = urlsplit(public).scheme
        return f"{public if scheme in ('http', 'https') else ''}{path}proxy/{port}/"
    info = jupyter_server_info(environ, runtime_dir)
    if info is not None:
        base_url = str(info.get("base_url") or "/")
        base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
        if str(info.get("hostname", "localhost")) not in _LOOPBACK or base_url != "/":
            return f"{base_url}proxy/{port}/"
    return f"http://127.0.0.1:{port}/"


def _header(scope: Any, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _without_jupyter_credentials(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = []
    for key, value in headers:
        if key == b"cookie":
            pairs = [pair.strip() for pair in value.decode("latin-1").split(";")]
            pairs = [pair for pair in pairs if pair and not JUPYTER_COOKIE.fullmatch(pair.split("=", 1)[0].strip())]
            if not pairs:
                continue
            value = "; ".join(pairs).encode("latin-1")
        elif key == b"authorization" and value[:6].lower() == b"token ":
            continue  # Jupyter's API token; a lab app's own scheme is Bearer or Basic
        kept.append((key, value))
    return kept


def relative_reference(target: str, base: str) -> str:
    """A relative URL that a browser at path `base` resolves to path `target` (both start with "/")."""
    base_dir = base[: base.rfind("/") + 1]
    target_dir, _, name = target.rpartition("/")
    up = posixpath.relpath(target_dir or "/", base_dir)
    reference = name if up == "." else f"{up}/{name}"
    if not reference:
        return "./"
    if ":" in reference.split("/", 1)[0]:
        reference = "./" + reference  # "a:b" would read as a scheme
    return reference


def scoped_cookie(set_cookie: str, root: str) -> str:
    """`set_cookie` with its ``Path`` moved under the proxy's prefix `root`.

    Through the proxy the lab app shares the hub's site: ``Path=/`` would send its cookie to every
    page of the hub (Jupyter's, other users' servers). Without a ``Path`` the browser already
    scopes the cookie to the request's folder, which holds the prefix.
    """
    parts = set_cookie.split(";")
    for index, part in enumerate(parts[1:], start=1):
        name, _, value = part.strip().partition("=")
        if name.lower() == "path":
            value = value.strip()
            if value.startswith("/") and value != root and not value.startswith(root + "/"):
                parts[index] = f" Path={root}{value}"
    return ";".join(parts)


class ProxyPrefix:
    """ASGI wrapper for requests arriving through jupyter-server-proxy (see the module docstring)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        forwarded = _header(scope, b"x-forwarded-prefix")
        prefix = forwarded.decode("latin-1") if forwarded else ""
        if not prefix or not _SAFE_PREFIX.fullmatch(prefix):
            await self.app(scope, receive, send)
            return
        root = prefix.rstrip("/")
        path = root + scope["path"]
        scope = {
            **scope,
            "root_path": root,
            "path": path,
            "raw_path": root.encode() + (scope.get("raw_path") or scope["path"].encode()),
            "headers": _without_jupyter_credentials(list(scope["headers"])),
        }
        host = (_header(scope, b"host") or b"").decode("latin-1")

        async def through_the_proxy(message: Any) -> None:
            if message["type"] == "http.response.start":
                redirect = 300 <= message["status"] < 400
                headers = []
                for key, value in message.get("headers", []):
                    if redirect and key.lower() == b"location":
                        value = self._relative_location(value.decode("latin-1"), host, root, path).encode("latin-1")
                    elif key.lower() == b"set-cookie":
                        value = scoped_cookie(value.decode("latin-1"), root).encode("latin-1")
                    headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, through_the_proxy)

    @staticmethod
    def _relative_location(location: str, host: str, root: str, path: str) -> str:
        parts = urlsplit(location)
        if parts.netloc and parts.netloc != host:
            return location  # another site
        if not parts.path.startswith("/"):
            return location  # relative already
        target = parts.path
        if target != root and not target.startswith(root + "/"):
            target = root + target  # the app did not know its prefix
        reference = relative_reference(target, path)
        return reference + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
