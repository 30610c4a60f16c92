"""A real browser for the lab: the system's Chromium, headless, driven by playwright, offline.

What a simulated browser cannot show — a script that really runs, a cookie really hidden from
JavaScript, a SameSite rule really enforced, Swagger UI really rendering — needs a browser. The lab
uses the Chromium that the system's package manager installs (``apt-get install chromium``), never
playwright's own download (``playwright install`` fetches browsers from the internet):

- `find_chromium` — the executable: ``LAB_CHROMIUM`` when set (a path or a command name; set to
  something that does not exist, it hides the system's Chromium), else ``chromium``,
  ``chromium-browser`` or ``google-chrome`` on the PATH;
- `unavailable_reason` — why no real browser can start here (``None`` when one can), worded as
  what to do about it;
- `Chromium` — one headless Chromium with playwright's sync API on a thread of its own (a
  Jupyter kernel runs an asyncio loop, where playwright's sync API refuses to run), so the same
  code works in a notebook and in a test. Its contexts are **offline**: every request to a host
  other than ``127.0.0.1`` or ``localhost`` is aborted and noted in ``blocked``.

Chromium is launched with ``--no-sandbox`` (it refuses to start as root otherwise; containers and
CI run as root) and with its background services switched off (updates, sync, metrics: on a
machine without internet they would only retry). Playwright gives each launch a fresh, empty
profile in a temporary folder and removes it when the browser closes.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "CHROMIUM_FLAGS",
    "CHROMIUM_NAMES",
    "LOOPBACK_HOSTS",
    "BrowserUnavailable",
    "Chromium",
    "find_chromium",
    "unavailable_reason",
]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--no-sandbox",  # required as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no update checks, no metrics: the network may be closed
    "--disable-component-update",
    "--disable-sync",
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
T = TypeVar("T")


class BrowserUnavailable(RuntimeError):
    """No real browser can start here; the message says why and what to install."""


def find_chromium() -> str | None:
    """The path of the Chromium to use, or None. ``LAB_CHROMIUM`` (path or command name) wins when set."""
    override = os.environ.get("LAB_CHROMIUM")
    candidates = (override,) if override is not None else CHROMIUM_NAMES
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def unavailable_reason() -> str | None:
    """Why `Chromium` cannot start on this machine (what to install), or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "no playwright: pip install -e '.[browser]' (make test-browser installs it)"
    if find_chromium() is None:
        if os.environ.get("LAB_CHROMIUM") is not None:
            return f"no Chromium: LAB_CHROMIUM={os.environ['LAB_CHROMIUM']!r} is not an executable"
        return "no Chromium: apt-get install chromium"
    return None


def _is_loopback(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme in ("data", "blob", "about") or urlsplit(url).hostname in LOOPBACK_HOSTS


class Chromium:
    """One headless Chromium, its playwright calls made on a thread of its own.

    Playwright's objects belong to the thread that made them: do everything with the browser inside
    a function given to `run`, which calls it on that thread and returns its result::

        with Chromium() as chromium:
            title = chromium.run(lambda: chromium.new_page().goto(url) and ...)

    `new_context` / `new_page` (to be called inside `run`) make offline contexts: requests to any
    host but 127.0.0.1 and localhost are aborted and their URLs appended to `blocked`.
    """

    def __init__(self, *, timeout: float = 30.0) -> None:
        reason = unavailable_reason()
        if reason:
            raise BrowserUnavailable(reason)
        self.executable = find_chromium()
        self.timeout = timeout
        self.blocked: list[str] = []
        # A daemon thread of its own, not an executor: executors are shut down at interpreter exit
        # before atexit hooks run, and a kernel that exits without close() must still close Chromium.
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve_jobs, name="lab-chromium", daemon=True)
        self._thread.start()
        self._lock = threading.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        try:
            self._call(self._start)
        except BaseException:
            self.close()
            raise

    def _serve_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, future = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the caller, on its thread
                    future.set_exception(exc)

    def _call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        if not self._thread.is_alive():
            raise BrowserUnavailable("this Chromium is closed")
        future: Future = Future()
        self._jobs.put((fn, args, future))
        return future.result(timeout=timeout or self.timeout * 4)

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.executable,
            args=list(CHROMIUM_FLAGS),
            timeout=self.timeout * 1000,
        )

    @property
    def version(self) -> str:
        """Chromium's version, such as ``150.0.7871.100``."""
        return self.run(lambda: self._browser.version)

    def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """`fn(*args)` called on the browser's thread (where playwright's objects may be used); its result.

        Waits `timeout` seconds at most (by default 4 × the browser's timeout, which bounds each
        playwright call within `fn`) and then raises TimeoutError.
        """
        if self._browser is None:
            raise BrowserUnavailable("this Chromium is closed")
        if threading.current_thread() is self._thread:
            return fn(*args)  # already on the browser's thread
        with self._lock:
            return self._call(fn, *args, timeout=timeout)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if _is_loopback(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def new_context(self, **options: Any) -> Any:
        """A fresh offline browser context (its own cookies); call inside `run`. Options go to playwright."""
        context = self._browser.new_context(**options)
        context.set_default_timeout(self.timeout * 1000)
        context.route("**/*", self._route)
        return context

    def new_page(self, **options: Any) -> Any:
        """A page in a fresh offline context (closed with the browser); call inside `run`."""
        return self.new_context(**options).new_page()

    def close(self) -> None:
        """Close the browser (its profile folder goes with it), stop playwright and its thread. Safe to call twice."""

        def stop() -> None:
            try:
                if self._browser is not None:
                    self._browser.close()
            finally:
                self._browser = None
                if self._playwright is not None:
                    self._playwright.stop()
                    self._playwright = None

        try:
            if self._browser is not None or self._playwright is not None:
                self._call(stop)
        finally:
            if self._thread.is_alive():
                self._jobs.put(None)
                self._thread.join(timeout=self.timeout)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._browser is None else "running"
        return f"<Chromium {self.executable} headless, offline, {state}>"
