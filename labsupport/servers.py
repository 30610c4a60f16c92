"""Run an ASGI app on a real socket from inside a notebook: `serve(app, name=...)`.

Introduced in 00-start-here, used by every notebook. Facts this module is built on (CONTRIBUTING.md,
"uvicorn inside a Jupyter kernel"):

- The kernel already runs an event loop, so uvicorn runs in a daemon thread with its own loop.
- We bind the socket ourselves on 127.0.0.1: a port that is taken fails at once, in the caller's
  thread, with a plain message; port 0 lets the OS pick a free port.
- Start-up is polled on `server.started` *and* `thread.is_alive()`: when the app crashes at
  start-up uvicorn ends the thread, and waiting for `started` alone would spin forever.
- uvicorn logs from the server thread into whichever cell is running. Records are kept on the
  `Server` (`.log`); only errors after start-up (a crashing endpoint) are also let through.
- One keep-alive `httpx.Client` per server, with a timeout: a new client per call costs a TLS
  context each time (~20 ms), and a hung endpoint must not hang the cell.
- The app is served wrapped, not changed: `OfflineDocs` answers a FastAPI app's ``/docs`` and
  ``/redoc`` with pages whose assets come from the lab server (`labsupport.docs_offline`), and
  `ProxyPrefix` makes requests through JupyterHub's proxy see their prefix (`labsupport.hub`).
  ``server.browser_url`` is the link for the student's browser; ``server.url`` stays the address
  for code in the kernel.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import shutil
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from labsupport.docs_offline import OfflineDocs
from labsupport.hub import ProxyPrefix, browser_base
from labsupport.scratch import new_folder, sweep_folders_of_dead_processes

__all__ = ["Server", "ServerError", "serve", "stop_all", "running_servers", "trusting_context"]

HOST = "127.0.0.1"
_THREAD_PREFIX = "labsupport-server-"
_TLS_PREFIX = "labsupport-tls-"  # scratch folders holding an HTTPS server's key and certificate
_registry: dict[str, Server] = {}
_registry_lock = threading.Lock()
_serve_lock = threading.RLock()


class ServerError(RuntimeError):
    """A lab server could not start (port taken, app crashed or hung at start-up).

    `.log` holds everything uvicorn logged for it (tracebacks included), when there was any.
    """

    def __init__(self, message: str, log: list[str] | None = None) -> None:
        super().__init__(message)
        # Per error, not a class attribute: a list there would be shared by every ServerError.
        self.log: list[str] = list(log or [])


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx builds a fresh TLS context per client (~20 ms) even for plain http; share one.
    return ssl.create_default_context()


def trusting_context(ca: Any) -> ssl.SSLContext:
    """A client TLS context that trusts `ca` (a ``trustme.CA``) and nothing else (09-security)."""
    # Not create_default_context(): that would trust the system's CAs as well.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
    ca.configure_trust(context)
    return context


class _LabClient(httpx.Client):
    """An `httpx.Client` whose connection errors and timeouts name the server and the path."""

    def __init__(self, server_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._server_name = server_name

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError(
                f"server {self._server_name!r} was stopped, so its client is closed: "
                "run the cell that calls serve(...) again"
            )
        try:
            return super().send(request, **kwargs)
        except httpx.TimeoutException as exc:
            seconds = self.timeout.read if isinstance(exc, httpx.ReadTimeout) else self.timeout.connect
            message = (
                f"server {self._server_name!r} did not answer {request.method} {request.url.path} "
                f"within {seconds} s ({type(exc).__name__}). Is the endpoint stuck in a loop or a "
                "blocking call?"
            )
            raise type(exc)(message, request=request) from None
        except httpx.ConnectError:
            message = (
                f"cannot connect to server {self._server_name!r} at {request.url.host}:"
                f"{request.url.port} for {request.method} {request.url.path}: it is not running "
                "(stopped, or replaced by a newer server of that name?)"
            )
            raise httpx.ConnectError(message, request=request) from None


class _KeepAliveAfterCrash:
    """ASGI wrapper: an endpoint's exception is logged here instead of reaching uvicorn.

    Starlette answers 500 and re-raises; uvicorn then logs the exception and *closes* the
    keep-alive connection, so the client's very next request, sent on that connection before
    the close arrives, fails with ``ReadError`` (276 of 300 times here). The same log record
    is written here (`_RouteServerLogs` shows it in the cell) and, once the 500 has been sent
    whole, the connection stays open. A response cut off half way still closes it.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Any) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started and not finished:
                raise  # the client holds half a response: only closing the connection ends it
            logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=True)
            if not started:
                headers = [(b"content-type", b"text/plain; charset=utf-8")]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})


class _UvicornServer(uvicorn.Server):
    """uvicorn's server, woken at once by `Server.stop` instead of noticing on its next 0.1 s tick.

    uvicorn polls ``should_exit`` every 0.1 s; notebooks and checkers stop many servers, and the
    wait added up (a stop took 0.1–0.2 s, now 0.1 s: uvicorn's own pause while connections close).
    """

    tick = 0.1  # seconds between uvicorn's housekeeping calls (its Date header, once a second)
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), self.tick)
            except TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    def wake(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Make the main loop look at ``should_exit`` now (from any thread)."""
        if loop is not None and self._wake is not None:
            try:
                loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:
                pass  # the loop already closed: the server has stopped


class Server:
    """A running lab server: `.url` and `.client` for code, `.browser_url` for a browser, `.stop()`.

    Made by `serve()`.
    """

    def __init__(self, name: str, app: Callable[..., Any], sock: socket.socket, timeout: float, ca: Any = None) -> None:
        self.name = name
        self.app = app
        self.port: int = sock.getsockname()[1]
        self.url = f"{'http' if ca is None else 'https'}://{HOST}:{self.port}"
        self.log: list[str] = []  # what uvicorn logged for this server
        self._socket = sock
        certfile: str | None = None
        self._certdir: Path | None = None
        if ca is not None:  # HTTPS: `ca` issues a certificate, kept in a scratch folder until stop()
            sweep_folders_of_dead_processes(_TLS_PREFIX)  # what killed kernels left
            self._certdir = new_folder(_TLS_PREFIX)
            weakref.finalize(self, shutil.rmtree, self._certdir, True)
            certfile = str(self._certdir / "server.pem")
            ca.issue_cert(HOST, "localhost").private_key_and_cert_chain_pem.write_to_path(certfile)
        config = uvicorn.Config(
            _KeepAliveAfterCrash(ProxyPrefix(OfflineDocs(app))),
            log_config=None,  # leave the process's logging configuration alone
            log_level="warning",
            access_log=False,
            ws="none",  # no websockets here; avoids importing (and warnings from) that stack
            timeout_graceful_shutdown=1,  # in-flight requests get 1 s when the server stops
            ssl_certfile=certfile,  # None: plain HTTP
        )
        self._uvicorn = _UvicornServer(config)
        self._loop: asyncio.AbstractEventLoop | None = None  # set by the server thread
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, args=(sock,), name=_THREAD_PREFIX + name, daemon=True)
        verify = _tls_context() if ca is None else trusting_context(ca)
        self.client: httpx.Client = _LabClient(name, base_url=self.url, timeout=timeout, verify=verify)

    def _run(self, sock: socket.socket) -> None:
        # Like uvicorn.Server.run, but keeping the loop and task, so that a start-up that hangs
        # can be cancelled from the caller's thread (`_cancel`) instead of left spinning.
        async def serve() -> None:
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
            await self._uvicorn.serve(sockets=[sock])

        try:
            asyncio.run(serve())
        except (SystemExit, asyncio.CancelledError):
            pass  # start-up failed or was cancelled; `_start` sees the thread end and reports it
        except BaseException as exc:  # anything else would vanish into threading.excepthook
            self.log.append(f"the server thread ended: {type(exc).__name__}: {exc}")

    def _cancel(self) -> None:
        """Cancel the server's task from another thread: ends even a start-up stuck in the app."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # the loop already closed: nothing left to cancel

    @property
    def browser_url(self) -> str:
        """Where the student's browser opens this server, ending in "/": http://127.0.0.1:PORT/ on
        the student's own machine, ``/user/NAME/proxy/PORT/`` on JupyterHub (`labsupport.hub`)."""
        return browser_base(self.port)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._uvicorn.started and not self._uvicorn.should_exit

    def _start(self, startup_timeout: float) -> None:
        self._thread.start()
        deadline = time.perf_counter() + startup_timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                self._close_socket()
                # uvicorn logs whole tracebacks; the last line of each says what went wrong.
                said = [entry.strip().splitlines()[-1] for entry in self.log if entry.strip()]
                error = ServerError(
                    f"server {self.name!r} failed to start: " + (" / ".join(said) or "no message was logged"),
                    log=self.log,
                )
                raise error
            if time.perf_counter() > deadline:
                self._cancel()
                self.stop()
                raise ServerError(
                    f"server {self.name!r} did not finish starting within {startup_timeout} s: "
                    "does the app's start-up (lifespan) wait for something that never comes?"
                )
            time.sleep(0.0005)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and close the client. Safe to call twice."""
        self._request_stop()
        self._wait_stopped(timeout)

    def _request_stop(self) -> None:
        self.client.close()
        self._uvicorn.should_exit = True
        self._uvicorn.wake(self._loop)

    def _wait_stopped(self, timeout: float) -> None:
        # uvicorn, woken, waits 0.1 s for connections to close, then ends.
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._uvicorn.force_exit = True
            self._thread.join(1.0)
        self._close_socket()
        with _registry_lock:
            if _registry.get(self.name) is self:
                del _registry[self.name]

    def _close_socket(self) -> None:
        try:
            self._socket.close()
        except OSError:
            pass
        if self._certdir is not None:
            shutil.rmtree(self._certdir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Server {self.name!r} {self.url} {state}>"

    def _repr_html_(self) -> str:
        """In a notebook: the repr, and while running a link the student's browser can open (on a
        hub the 127.0.0.1 URL of the repr is the hub machine's, not theirs)."""
        shown = f"<code>{html.escape(repr(self))}</code>"
        if not self.running:
            return shown
        link = html.escape(self.browser_url, quote=True)
        return f'{shown} open it in your browser: <a href="{link}" target="_blank">{link}</a>'


class _RouteServerLogs(logging.Filter):
    """Keep uvicorn's records from lab server threads on their `Server`, out of cell output."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.threadName or not record.threadName.startswith(_THREAD_PREFIX):
            return True
        server = _registry.get(record.threadName.removeprefix(_THREAD_PREFIX))
        if server is None or server._thread.name != record.threadName:
            return True
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f"\n{type(exc).__name__}: {exc}"
        server.log.append(text)
        # Before start-up completes the error is raised as a ServerError instead, and while
        # stopping, cancelled requests are expected; in between, an error (an endpoint crashed)
        # is worth seeing where the student is working.
        return server.running and record.levelno >= logging.ERROR


_log_filter = _RouteServerLogs()


def _install_log_filter() -> None:
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        if _log_filter not in logger.filters:
            logger.addFilter(_log_filter)


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that say TCP,
    # and without it Nagle's algorithm meets the client's delayed ACK: +40 ms per response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {HOST}:{port}: {exc.strerror}. Use port=0 for a free port.") from None
    sock.set_inheritable(True)
    return sock


def serve(
    app: Callable[..., Any],
    name: str = "app",
    *,
    port: int = 0,
    timeout: float = 10.0,
    startup_timeout: float = 5.0,
    ca: Any = None,
) -> Server:
    """Start `app` on http://127.0.0.1:<port> in a background thread and return the running `Server`.

    Calling it again with the same `name` stops the earlier server first, so re-running a cell
    is safe. `timeout` (seconds) bounds every request made through `server.client`. With
    ``ca=trustme.CA()`` it serves HTTPS with a certificate that CA issues for 127.0.0.1, and
    `server.client` trusts that CA and nothing else (09-security).
    """
    if not callable(app):
        raise TypeError(f"serve() needs an ASGI app such as FastAPI(), not {type(app).__name__}")
    if ca is not None and not hasattr(ca, "issue_cert"):
        raise TypeError(f"ca must be a trustme.CA(), not {type(ca).__name__}")
    if not isinstance(name, str) or not name:
        raise ValueError("serve() needs a non-empty server name")
    _install_log_filter()
    # One serve() at a time: two threads serving one name at once would each stop "the
    # previous" server before either registered, and the one registered first would run on,
    # forgotten by stop_all(). Starting takes a few milliseconds.
    with _serve_lock:
        with _registry_lock:
            previous = _registry.pop(name, None)
        if previous is not None:
            previous.stop()
        sock = _bind(port)
        try:
            server = Server(name, app, sock, timeout, ca)
        except BaseException:
            sock.close()
            raise
        with _registry_lock:
            _registry[name] = server
        try:
            server._start(startup_timeout)
        except BaseException:
            with _registry_lock:
                if _registry.get(name) is server:
                    del _registry[name]
            raise
        return server


def running_servers() -> list[Server]:
    """The servers started by `serve()` that have not been stopped."""
    with _registry_lock:
        return list(_registry.values())


def stop_all(keep: Server | str | Iterable[Server | str] = ()) -> None:
    """Stop every server started by `serve()` but those in `keep` (servers or their names).

    The last cell of each notebook calls ``stop_all()``; ``stop_all(keep=shop)`` there leaves
    ``shop`` running, to explore it in the browser, and says where.
    """
    kept = [keep] if isinstance(keep, Server | str) else list(keep)
    names = set()
    for item in kept:
        if not isinstance(item, Server | str):
            raise TypeError(f"stop_all(keep=...) takes servers or their names, not {type(item).__name__}")
        names.add(item.name if isinstance(item, Server) else item)
    everything = running_servers()
    unknown = names - {server.name for server in everything}
    if unknown:
        raise ValueError(f"stop_all(keep=...): no running server is named {', '.join(map(repr, sorted(unknown)))}")
    servers = [server for server in everything if server.name not in names]
    for server in everything:
        if server.name in names:
            print(f"still running: {server.name!r} at {server.browser_url} (stop it with stop_all())")
    for server in servers:  # signal all first: each takes ~0.2 s to wind down, in parallel
        server._request_stop()
    for server in servers:
        server._wait_stopped(timeout=5.0)
