"""Serve an ASGI app over HTTPS on 127.0.0.1 with a throwaway certificate authority.

Introduced in 09-security. `serve_tls(app, name=..., ca=trustme.CA())` works like
`servers.serve` but speaks TLS: the CA issues a certificate for ``127.0.0.1`` and ``localhost``,
written (key and chain in one PEM file) into a temporary directory that is removed on `stop()`;
uvicorn loads it. `.client` is a keep-alive httpx client that trusts exactly that CA, so
verification is real, not switched off. These servers are not in `servers.stop_all()`'s registry:
stop them yourself (the notebook's last cell does).
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from labsupport.servers import ServerError

__all__ = ["TLSServer", "serve_tls", "trusting_context"]

HOST = "127.0.0.1"


def trusting_context(ca: Any) -> ssl.SSLContext:
    """A client TLS context that trusts `ca` (a ``trustme.CA``) and nothing else."""
    # Not create_default_context(): that would trust the system's CAs as well.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
    ca.configure_trust(context)
    return context


class TLSServer:
    """A running HTTPS lab server: `.url`, `.port`, `.client`, `.stop()`. Made by `serve_tls()`."""

    def __init__(self, name: str, app: Callable[..., Any], ca: Any, sock: socket.socket, timeout: float) -> None:
        self.name = name
        self.app = app
        self.ca = ca
        self.port: int = sock.getsockname()[1]
        self.url = f"https://{HOST}:{self.port}"
        self._socket = sock
        self._certdir = tempfile.TemporaryDirectory(prefix="labsupport-tls-")
        certfile = Path(self._certdir.name) / "server.pem"
        ca.issue_cert(HOST, "localhost").private_key_and_cert_chain_pem.write_to_path(str(certfile))
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="error",  # a refused handshake is the lesson, not an error worth printing
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=1,
            ssl_certfile=str(certfile),
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"labsupport-tls-{name}", daemon=True)
        self.client = httpx.Client(base_url=self.url, verify=trusting_context(ca), timeout=timeout)

    def _run(self) -> None:
        try:
            self._uvicorn.run(sockets=[self._socket])
        except SystemExit:
            pass  # start-up failed; _start sees the thread end

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._uvicorn.started and not self._uvicorn.should_exit

    def _start(self, startup_timeout: float) -> None:
        self._thread.start()
        deadline = time.perf_counter() + startup_timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.perf_counter() > deadline:
                self.stop()
                raise ServerError(f"HTTPS server {self.name!r} failed to start within {startup_timeout} s")
            time.sleep(0.0005)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the client and delete the certificate files. Safe to call twice."""
        self.client.close()
        self._uvicorn.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._uvicorn.force_exit = True
            self._thread.join(1.0)
        self._socket.close()
        self._certdir.cleanup()

    def __enter__(self) -> TLSServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TLSServer {self.name!r} {self.url} {state}>"


def serve_tls(
    app: Callable[..., Any],
    name: str = "https",
    *,
    ca: Any,
    port: int = 0,
    timeout: float = 10.0,
    startup_timeout: float = 5.0,
) -> TLSServer:
    """Start `app` on https://127.0.0.1:<port> with a certificate issued by `ca` (a ``trustme.CA``).

    Unlike `serve`, there is no registry: keep the returned server and call `.stop()` on it.
    """
    if not callable(app):
        raise TypeError(f"serve_tls() needs an ASGI app such as FastAPI(), not {type(app).__name__}")
    if not hasattr(ca, "issue_cert"):
        raise TypeError(f"serve_tls() needs ca=trustme.CA(), not {type(ca).__name__}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {HOST}:{port}: {exc.strerror}. Use port=0 for a free port.") from None
    try:
        server = TLSServer(name, app, ca, sock, timeout)
    except BaseException:
        sock.close()
        raise
    server._start(startup_timeout)
    return server
