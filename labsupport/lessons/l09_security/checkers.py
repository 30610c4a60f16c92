"""Checkers for the exercises of 09-security: each one attacks the student's fixed app.

Exercise 1: ``make_search_app(engine)`` returns an app whose ``GET /search?q=`` lists the products
whose name contains ``q``. The checker serves it over a fresh database that also holds a users
table, checks an honest search, then sends injection payloads (UNION extraction among them) and
names the first attack that still works.

Exercise 2: ``make_greeting_app()`` returns an app whose ``GET /greet?name=`` greets by name in
HTML. The checker sends script payloads and checks that each comes back escaped (still shown, as
text) and that a Content-Security-Policy forbids inline scripts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import sqlalchemy as sa

from labsupport.checks import Hint, NotAttempted, checker
from labsupport.databases import sql_engine
from labsupport.servers import Server, ServerError, serve

__all__ = [
    "PRODUCTS",
    "USERS",
    "SQL_ATTACKS",
    "XSS_ATTACKS",
    "exercise_engine",
    "check_search_app",
    "check_greeting_app",
]

PRODUCTS = ((1, "Blue mug", 8.5), (2, "Red mug", 9.0), (3, "Teapot", 24.0), (4, "Tea towel", 6.5))
# Stand-ins for password hashes: whatever leaks, the checker looks for these strings.
USERS = ((1, "ada@example.com", "hash-of-ada-7f3a9c"), (2, "root@example.com", "hash-of-root-c01d5e"))

# Each one leaks users, lists every product, or breaks the SQL when pasted between quotes.
SQL_ATTACKS = (
    "zzz' UNION SELECT email, password_hash FROM users --",
    "zzz%' UNION SELECT password_hash, id FROM users WHERE '%'='",
    "' OR '1'='1",
    "mug'",
)
XSS_ATTACKS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
)
_TAGS = ("<script", "<img", "<svg")


def exercise_engine() -> sa.Engine:
    """A fresh database with ``products(id, name, price)`` and ``users(id, email, password_hash)``."""
    engine = sql_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)")
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, password_hash TEXT)")
        conn.exec_driver_sql("INSERT INTO products VALUES (?, ?, ?)", list(PRODUCTS))
        conn.exec_driver_sql("INSERT INTO users VALUES (?, ?, ?)", list(USERS))
    return engine


class _QuietCrashes(logging.Filter):
    """Drop the tracebacks uvicorn logs when an attack crashes the checked app: the hint says it."""

    def __init__(self, server_name: str) -> None:
        super().__init__()
        self.server_name = server_name

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").endswith("-" + self.server_name)


@contextlib.contextmanager
def _attacked(builder: Callable[..., Any], *args: Any, what: str) -> Iterator[httpx.Client]:
    """Serve the app `builder(*args)` returns, yield its client, stop it afterwards."""
    server = _serve_student_app(builder, *args, what=what)
    quiet = _QuietCrashes(server.name)
    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(quiet)
    try:
        yield server.client
    finally:
        server.stop()
        logger.removeFilter(quiet)


def _serve_student_app(builder: Callable[..., Any], *args: Any, what: str) -> Server:
    if not callable(builder):
        raise Hint(f"Pass your function {what} itself (without calling it), not a {type(builder).__name__}.")
    app = builder(*args)
    if app is None or app is ...:
        raise NotAttempted(f"Your {what} returns {app!r}: build the app and return it.")
    routes = getattr(app, "routes", None)
    if routes is None:
        raise Hint(f"Your {what} should return the FastAPI app, not a {type(app).__name__}.")
    try:
        return serve(app, name=f"check-{what}")
    except ServerError as exc:
        raise Hint(f"Your app did not start: {exc}") from None


def _attack_search(client: httpx.Client) -> None:
    honest = client.get("/search", params={"q": "mug"})
    if honest.status_code == 404:
        raise Hint("GET /search?q=mug answered 404: add the route @app.get('/search').")
    if honest.status_code != 200:
        raise Hint(f"GET /search?q=mug answered {honest.status_code}; an honest search must work (200).")
    rows = honest.json()
    found = sorted(str(row.get("name")) for row in rows if isinstance(row, dict)) if isinstance(rows, list) else []
    if found != ["Blue mug", "Red mug"]:
        raise Hint(
            f"Searching 'mug' should find ['Blue mug', 'Red mug'] as a list of objects with a "
            f"'name', got {honest.text[:120]}. Keep the wildcards in the SQL: LIKE '%' || :q || '%'."
        )
    for attack in SQL_ATTACKS:
        response = client.get("/search", params={"q": attack})
        if any(secret in response.text for _, email, hashed in USERS for secret in (email, hashed)):
            raise Hint(
                f"The attack q={attack!r} still leaks the users table. Send the search term as a "
                "bound parameter (text('... :q ...') with {'q': q}) instead of formatting it into the SQL."
            )
        if response.status_code >= 500:
            raise Hint(
                f"The attack q={attack!r} makes the server fail ({response.status_code}): the quote "
                "still ends a string in your SQL, so the term is still pasted in. Use a bound parameter."
            )
        if response.status_code == 200 and len(response.json()) == len(PRODUCTS):
            raise Hint(f"The attack q={attack!r} still lists every product: the term is still part of the SQL.")


@checker(
    "Exercise 1: a search that cannot be injected", expects="a function make_search_app(engine) returning a FastAPI app"
)
def check_search_app(make_search_app: Callable[[sa.Engine], Any]) -> str:
    engine = exercise_engine()
    try:
        with _attacked(make_search_app, engine, what="make_search_app") as client:
            _attack_search(client)
    finally:
        engine.dispose()
    return f"An honest search works and all {len(SQL_ATTACKS)} injection attacks fail."


@checker("Exercise 2: a greeting page without XSS", expects="a function make_greeting_app() returning a FastAPI app")
def check_greeting_app(make_greeting_app: Callable[[], Any]) -> str:
    with _attacked(make_greeting_app, what="make_greeting_app") as client:
        honest = client.get("/greet", params={"name": "Ada"})
        if honest.status_code != 200:
            raise Hint(f"GET /greet?name=Ada answered {honest.status_code}; add the route @app.get('/greet').")
        if not honest.headers.get("content-type", "").startswith("text/html"):
            raise Hint("The page should be HTML: return an HTMLResponse.")
        if "Ada" not in honest.text:
            raise Hint("GET /greet?name=Ada should show the name Ada.")
        bodies = {attack: client.get("/greet", params={"name": attack}).text for attack in XSS_ATTACKS}
        for attack, body in bodies.items():
            if any(tag in body.lower() for tag in _TAGS):
                raise Hint(
                    f"The name {attack!r} comes back as live HTML: a browser would run it. "
                    "Escape it with html.escape(name) before putting it into the page."
                )
        for attack, body in bodies.items():
            if "&lt;" not in body:
                raise Hint(
                    f"The name {attack!r} disappeared from the page: show it, escaped "
                    "(html.escape turns < into &lt;), rather than dropping it."
                )
        policy = honest.headers.get("content-security-policy", "")
        if not policy:
            raise Hint("Escaping works; now add a Content-Security-Policy header as a second line of defence.")
        if "script-src" not in policy and "default-src" not in policy:
            raise Hint(f"Your policy {policy!r} does not restrict scripts: add default-src 'self' (or script-src).")
        if "'unsafe-inline'" in policy or "*" in policy:
            raise Hint(f"Your policy {policy!r} still allows inline or any-origin scripts: drop 'unsafe-inline' and *.")
    return f"Every one of {len(XSS_ATTACKS)} script payloads comes back as text, and a CSP forbids inline scripts."
