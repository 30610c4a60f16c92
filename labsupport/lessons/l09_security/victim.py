"""The victim's browser for 09-security: real Chromium when this machine has one, else a simulated one.

`lab_browser()` returns a `RealBrowser` (the system's Chromium through `labsupport.browser`: scripts
really run, cookies are really kept from scripts and from cross-site requests) or, where no
Chromium or no playwright is installed, a `SimulatedBrowser`, which applies the same rules in
Python and says so in its repr. Both answer the notebook's questions with the same facts:

- `post(url, data)` — a form post made by the browser itself (logging in): its cookies are kept;
- `visit(url)` — open a page and let its scripts run; `Visit.stolen` is what the lab's XSS payload
  stored in the global ``stolen`` (``None`` when no script ran);
- `document_cookie(url)` — what a script on that page reads in ``document.cookie``;
- `open(url)` — open a page that submits its own form at once (the CSRF attack): the reply to the post;
- `submit_form(url, **fields)` — open a page, fill in its first form, submit it: the reply.

The simulated browser runs no JavaScript. It models what the lessons rely on: an inline
``<script>`` runs unless the page's Content-Security-Policy forbids inline scripts (then a violation
report is posted to its ``report-uri``, as Chromium does), and its one effect is the payload's —
reading ``document.cookie``; cookies follow Chromium's rules — ``HttpOnly`` ones are hidden from
scripts, a cookie without ``SameSite`` counts as ``Lax``, ``SameSite=None`` needs ``Secure``
(accepted over HTTPS or on 127.0.0.1 / localhost), and only ``SameSite=None`` cookies go with a
cross-site form post. A *site* is the scheme plus the registrable domain; ports do not count, so
``http://127.0.0.1:8001`` and ``http://127.0.0.1:8002`` are one site, ``http://localhost:8001`` another.

`collect_csp_reports(app)` gives a lab app the endpoint its policy's ``report-uri`` names.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import weakref
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from fastapi import FastAPI, Request, Response

from labsupport import browser as platform_browser
from labsupport.lessons.l09_security.webparse import page_shape, parse_policy

__all__ = [
    "CspReports",
    "RealBrowser",
    "Reply",
    "SimulatedBrowser",
    "Visit",
    "collect_csp_reports",
    "lab_browser",
    "same_site",
]

_TIMEOUT = 10.0
_READ_STOLEN = "() => (typeof stolen === 'undefined' ? null : String(stolen))"


@dataclass
class Reply:
    """What the browser received: status, headers (lower-case names) and body."""

    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Visit:
    """A page the browser opened: `stolen` is what the XSS payload stored in the global ``stolen``, or None."""

    url: str
    stolen: str | None

    @property
    def ran(self) -> bool:
        """Whether the page's injected script ran."""
        return self.stolen is not None


class CspReports(list):
    """The CSP violation reports a lab app received (the ``csp-report`` objects), oldest first."""

    def wait(self, count: int = 1, timeout: float = 5.0) -> CspReports:
        """Wait until at least `count` reports arrived (browsers send them in the background); self."""
        deadline = time.monotonic() + timeout
        while len(self) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self


def collect_csp_reports(app: FastAPI, path: str = "/csp-reports") -> CspReports:
    """Add ``POST path`` to `app`: the endpoint a policy's ``report-uri path`` sends violations to.

    Browsers post ``{"csp-report": {...}}`` as ``application/csp-report``; each report's inner
    object is appended to the list returned (answer: 204).
    """
    reports = CspReports()

    @app.post(path, include_in_schema=False)
    async def receive_csp_report(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        reports.append(body.get("csp-report", body))
        return Response(status_code=204)

    return reports


def _site(url: str) -> tuple[str, str]:
    """(scheme, registrable domain) — an IP address or ``localhost`` is its own site; ports never count."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    labels = host.split(".")
    if host.replace(".", "").isdigit() or len(labels) <= 2:
        return parts.scheme, host
    return parts.scheme, ".".join(labels[-2:])  # good enough for the lab's hosts (no public-suffix list)


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same site (scheme and registrable domain; the port does not count)."""
    return _site(url) == _site(other)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _trustworthy(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in platform_browser.LOOPBACK_HOSTS


@dataclass
class _Cookie:
    name: str
    value: str
    host: str
    http_only: bool
    secure: bool
    same_site: str  # "lax", "strict" or "none"


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


def _first_form(page: str, page_url: str) -> _Form:
    shape = page_shape(page)
    forms = [dict(attrs) for tag, attrs in shape.tags if tag == "form"]
    if not forms:
        raise ValueError(f"the page at {page_url} has no form")
    form = _Form(urljoin(page_url, forms[0].get("action", "")), forms[0].get("method", "get").upper())
    for tag, attrs in shape.tags:
        named = dict(attrs)
        if tag == "input" and "name" in named:
            form.fields[named["name"]] = named.get("value", "")
    return form


def _inline_scripts(page: str) -> int:
    return sum(1 for tag, attrs in page_shape(page).tags if tag == "script" and "src" not in dict(attrs))


def _inline_script_allowed(policy: str) -> tuple[bool, str | None]:
    """Whether one policy lets an inline ``<script>`` run, and its report-uri (CSP 3: script-src-elem,
    else script-src, else default-src; a nonce or hash makes 'unsafe-inline' ignored)."""
    directives = parse_policy(policy)
    reporting = [tokens for tokens in map(str.split, policy.split(";")) if tokens and tokens[0].lower() == "report-uri"]
    report_uri = reporting[0][1] if reporting and len(reporting[0]) > 1 else None  # as written: a path's case counts
    for name in ("script-src-elem", "script-src", "default-src"):
        if name in directives:
            sources = directives[name]
            strict = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
            return "'unsafe-inline'" in sources and not strict, report_uri
    return True, report_uri


class SimulatedBrowser:
    """A browser simulated with httpx and a cookie jar of its own; runs no JavaScript (see the module)."""

    kind = "simulated"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        self.cookies: list[_Cookie] = []
        # httpx's own jar keeps nothing (an empty allow-list of domains): this class decides what is sent.
        refuse_all = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._http = httpx.Client(timeout=_TIMEOUT, cookies=refuse_all)

    # --- cookies, by Chromium's rules -------------------------------------------------------
    def _store(self, url: str, response: httpx.Response) -> None:
        host = urlsplit(url).hostname or ""
        for header in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                same = (morsel["samesite"] or "lax").lower()
                secure = bool(morsel["secure"])
                if (same == "none" and not secure) or (secure and not _trustworthy(url)):
                    continue  # Chromium rejects both
                self.cookies = [c for c in self.cookies if (c.name, c.host) != (name, host)]
                self.cookies.append(_Cookie(name, morsel.value, host, bool(morsel["httponly"]), secure, same))

    def _cookie_header(self, url: str, initiator: str | None, method: str) -> str:
        host = urlsplit(url).hostname
        cross_site = initiator is not None and not same_site(initiator, url)
        sent = []
        for cookie in self.cookies:
            if cookie.host != host or (cookie.secure and not _trustworthy(url)):
                continue
            if cross_site and cookie.same_site == "strict":
                continue
            if cross_site and cookie.same_site == "lax" and method != "GET":  # Lax: top-level GET only
                continue
            sent.append(f"{cookie.name}={cookie.value}")
        return "; ".join(sent)

    def _request(self, method: str, url: str, *, initiator: str | None = None, data: Any = None) -> Reply:
        headers = {}
        cookie = self._cookie_header(url, initiator, method)
        if cookie:
            headers["Cookie"] = cookie
        if method != "GET":
            headers["Origin"] = _origin(initiator or url)
        response = self._http.request(method, url, data=data, headers=headers)
        self._store(url, response)
        return Reply(response.status_code, {k: ", ".join(response.headers.get_list(k)) for k in response.headers},
                     response.text)

    # --- what the notebook asks ----------------------------------------------------------------
    def post(self, url: str, data: dict[str, str] | None = None) -> Reply:
        """POST a form to `url` from the site itself (a login): the cookies it sets are kept."""
        return self._request("POST", url, initiator=url, data=data or {})

    def document_cookie(self, url: str) -> str:
        """``document.cookie`` on a page at `url`: the host's cookies minus the HttpOnly ones."""
        host = urlsplit(url).hostname
        return "; ".join(
            f"{c.name}={c.value}" for c in self.cookies
            if c.host == host and not c.http_only and (not c.secure or _trustworthy(url))
        )

    def visit(self, url: str) -> Visit:
        """Open `url`; an inline script runs unless the page's policy forbids it (then a report is posted)."""
        reply = self._request("GET", url)
        if not _inline_scripts(reply.text):
            return Visit(url, None)
        policies = [p for p in reply.headers.get("content-security-policy", "").split(",") if p.strip()]
        verdicts = [_inline_script_allowed(policy) for policy in policies]
        if all(allowed for allowed, _ in verdicts):
            return Visit(url, self.document_cookie(url))
        for policy, (allowed, report_uri) in zip(policies, verdicts):
            if not allowed and report_uri:
                report = {
                    "document-uri": url, "referrer": "", "violated-directive": "script-src-elem",
                    "effective-directive": "script-src-elem", "original-policy": policy.strip(),
                    "disposition": "enforce", "blocked-uri": "inline", "status-code": reply.status_code,
                }
                self._http.post(urljoin(url, report_uri), content=json.dumps({"csp-report": report}),
                                headers={"Content-Type": "application/csp-report"})
        return Visit(url, None)

    def open(self, url: str) -> Reply:
        """Open a page whose script submits its first form at once: the reply to that submission."""
        page = self._request("GET", url)
        if not _inline_scripts(page.text):
            raise ValueError(f"the page at {url} has no script to submit its form")
        form = _first_form(page.text, url)
        return self._request(form.method, form.action, initiator=url, data=form.fields)

    def submit_form(self, url: str, **fields: str) -> Reply:
        """Open `url`, fill its first form's fields with `fields`, submit it: the reply."""
        page = self._request("GET", url)
        form = _first_form(page.text, url)
        form.fields.update(fields)
        return self._request(form.method, form.action, initiator=url, data=form.fields)

    def clear_cookies(self) -> None:
        self.cookies.clear()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        why = f" — {self.reason}" if self.reason else ""
        return f"<simulated browser: httpx with a cookie jar, Chromium's rules applied in Python, no JavaScript{why}>"


def _context_closer(chromium: platform_browser.Chromium, context: Any) -> Any:
    """A function closing `context` on `chromium`'s thread (nothing to do once the browser is closed)."""

    def close() -> None:
        try:
            chromium.run(context.close)
        except platform_browser.BrowserUnavailable:
            pass  # closed with the browser already

    return close


class RealBrowser:
    """The system's Chromium (headless, offline, through playwright): the victim's real browser."""

    kind = "real"

    def __init__(self, chromium: platform_browser.Chromium | None = None) -> None:
        """Start Chromium — or use `chromium`, already running (tests share one): then `close` leaves it running."""
        self.chromium = chromium or platform_browser.Chromium(timeout=_TIMEOUT)
        self.version = self.chromium.version
        self._context: Any = self.chromium.run(self.chromium.new_context)
        self._page: Any = self.chromium.run(self._context.new_page)
        self._finalizer = weakref.finalize(
            self, self.chromium.close if chromium is None else _context_closer(self.chromium, self._context)
        )

    def _run(self, fn: Any, *args: Any) -> Any:
        return self.chromium.run(fn, *args)  # one call at a time: Chromium.run holds a lock

    @staticmethod
    def _reply(response: Any, text: str | None = None) -> Reply:
        headers: dict[str, str] = {}
        listed = response.headers_array  # a method on a page's responses, a property on API responses
        for header in listed() if callable(listed) else listed:
            name = header["name"].lower()
            headers[name] = f"{headers[name]}, {header['value']}" if name in headers else header["value"]
        return Reply(response.status, headers, response.text() if text is None else text)

    def post(self, url: str, data: dict[str, str] | None = None) -> Reply:
        """POST a form to `url` from the site itself (a login): the cookies it sets are kept."""
        return self._run(lambda: self._reply(self._context.request.post(url, form=data or {})))

    def document_cookie(self, url: str) -> str:
        """``document.cookie``, read by a script on the page at `url`."""

        def read() -> str:
            self._page.goto(url)
            return self._page.evaluate("document.cookie")

        return self._run(read)

    def visit(self, url: str) -> Visit:
        """Open `url` and let its scripts run: what the payload stored in ``stolen``, if it ran."""

        def go() -> Visit:
            self._page.goto(url)
            return Visit(url, self._page.evaluate(_READ_STOLEN))

        return self._run(go)

    def _submitted(self, start: Any) -> Reply:
        def is_post(response: Any) -> bool:
            return response.request.method == "POST" and response.request.resource_type == "document"

        with self._page.expect_response(is_post) as submitted:
            start()
        response = submitted.value
        return self._reply(response, response.text())

    def open(self, url: str) -> Reply:
        """Open a page whose script submits its first form at once: the reply to that submission."""
        return self._run(lambda: self._submitted(lambda: self._page.goto(url)))

    def submit_form(self, url: str, **fields: str) -> Reply:
        """Open `url`, fill its first form's fields with `fields`, submit it: the reply."""

        def fill_and_submit() -> Reply:
            self._page.goto(url)
            for name, value in fields.items():
                self._page.fill(f'form [name="{name}"]', value)
            return self._submitted(lambda: self._page.eval_on_selector("form", "form => form.requestSubmit()"))

        return self._run(fill_and_submit)

    def clear_cookies(self) -> None:
        self._run(self._context.clear_cookies)

    def close(self) -> None:
        self._finalizer()

    def __repr__(self) -> str:
        return f"<real browser: Chromium {self.version}, headless, offline, driven by playwright>"


def lab_browser() -> RealBrowser | SimulatedBrowser:
    """The system's Chromium when it can start here, else the simulated browser (its repr says why)."""
    reason = platform_browser.unavailable_reason()
    if reason is None:
        try:
            return RealBrowser()
        except Exception as exc:  # a Chromium that does not start: the lesson goes on, simulated
            reason = f"Chromium did not start: {type(exc).__name__}: {exc}"
    return SimulatedBrowser(reason)
