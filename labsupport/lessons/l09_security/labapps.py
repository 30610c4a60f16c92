"""The lab's targets for 09-security: a shop database with secret hashes, and the apps attacked.

- `shop_engine` — a fresh shop database whose users' password hashes are random for every
  call, so a check can tell whether an attack really read them (nobody can know them in advance);
- `make_vulnerable_search_app` — a product search that is **deliberately vulnerable** to SQL
  injection: the attack-first exercise's target;
- `make_settings_app` — a small site with a cookie session and a "change my e-mail" form that
  calls the student's CSRF defence (the CSRF exercise).

Every app here is served by the lab on 127.0.0.1 only.
"""

from __future__ import annotations

import html
import secrets
import sqlite3
import string
import weakref
from collections.abc import Callable
from typing import Any, Self

import sqlalchemy as sa
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from labsupport.databases import sql_engine

__all__ = [
    "PRODUCTS",
    "USERS",
    "shop_engine",
    "make_settings_app",
    "make_vulnerable_search_app",
    "password_hashes",
]

# Honest names with a quote and with SQL keywords in them: a deny-list or quote-stripping breaks them.
PRODUCTS = (
    (1, "Blue mug", 8.5),
    (2, "Red mug", 9.0),
    (3, "Teapot", 24.0),
    (4, "Tea towel", 6.5),
    (5, "O'Brien's teapot", 31.0),
    (6, "Union Jack apron", 12.0),
    (7, "Select tea sampler", 15.0),
)
# (id, email, role); the password hashes are made fresh by `shop_engine`. The admin is not the first row.
USERS = ((1, "ada@example.com", "customer"), (2, "root@example.com", "admin"), (3, "ben@example.com", "customer"))

_BCRYPT_ALPHABET = "./" + string.ascii_letters + string.digits


def _random_bcrypt_like_hash() -> str:
    """A string shaped like a bcrypt hash (``$2b$12$`` + 53 characters), random each time."""
    return "$2b$12$" + "".join(secrets.choice(_BCRYPT_ALPHABET) for _ in range(53))


_SHOP = sa.MetaData()
_PRODUCTS = sa.Table(
    "products",
    _SHOP,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("price", sa.Float),  # a number: PostgreSQL refuses a UNION that puts text under it
)
_USERS = sa.Table(
    "users",
    _SHOP,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
)


class _RecordingCursor(sqlite3.Cursor):
    """Notes every SQL text it runs in ``connection.statements`` (the bound values are not part of it)."""

    def _note(self, sql: str) -> None:
        connection = self.connection
        assert isinstance(connection, _RecordingConnection), "only a _RecordingConnection makes these cursors"
        connection.statements.append(sql)

    def execute(self, sql: str, *args: Any) -> Self:
        self._note(sql)
        return super().execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Self:
        self._note(sql)
        return super().executemany(sql, *args)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        self._note(sql)
        return super().executescript(sql)


class _RecordingConnection(sqlite3.Connection):
    """A sqlite3 connection whose cursors note the SQL they run — SQLAlchemy's and raw ones alike."""

    statements: list[str]

    def cursor(self, factory: Any = _RecordingCursor) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self.cursor().execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, *args)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        return self.cursor().executescript(sql)


def _recording(engine: sa.Engine, statements: list[str]) -> sa.Engine:
    """An engine on the same database whose every SQL text is appended to `statements`."""
    if engine.dialect.name == "postgresql":
        return _recording_postgres(engine, statements)
    factory = type("Recording", (_RecordingConnection,), {"statements": statements})
    recorder = sa.create_engine(engine.url, connect_args={"factory": factory})
    sa.event.listen(
        recorder, "connect", lambda dbapi_connection, _record: dbapi_connection.execute("PRAGMA foreign_keys=ON")
    )
    weakref.finalize(recorder, engine.dispose)  # keeps the first engine, and so its temporary file, alive
    return recorder


def _recording_postgres(engine: sa.Engine, statements: list[str]) -> sa.Engine:
    """`engine` itself, its psycopg connections' cursors noting the SQL they run — SQLAlchemy's and raw ones alike."""
    import psycopg

    class RecordingCursor(psycopg.Cursor):
        def execute(self, query: Any, params: Any = None, **options: Any) -> Self:
            statements.append(query.decode() if isinstance(query, bytes) else str(query))
            return super().execute(query, params, **options)

        def executemany(self, query: Any, params_seq: Any, **options: Any) -> None:
            statements.append(query.decode() if isinstance(query, bytes) else str(query))
            return super().executemany(query, params_seq, **options)

    def record_on(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor_factory = RecordingCursor  # psycopg's connection.execute() uses it too

    engine.dispose()  # the connections made from now on record
    sa.event.listen(engine, "connect", record_on)
    return engine


def shop_engine(*, record: list[str] | None = None) -> sa.Engine:
    """A fresh database: ``products(id, name, price)`` and ``users(id, email, password_hash, role)``.

    The hashes are random for every call: an attack that returns them really read them. With
    `record`, every SQL text sent to the database is appended to that list (raw driver cursors
    included): a check can see whether a search term was pasted into the SQL. The tables are
    SQLAlchemy Core, so they are the same on SQLite and PostgreSQL (`sql_engine` picks which).
    """
    engine = sql_engine()
    _SHOP.create_all(engine)
    with engine.begin() as conn:
        conn.execute(_PRODUCTS.insert(), [{"id": i, "name": name, "price": price} for i, name, price in PRODUCTS])
        rows = [
            {"id": user_id, "email": email, "password_hash": _random_bcrypt_like_hash(), "role": role}
            for user_id, email, role in USERS
        ]
        conn.execute(_USERS.insert(), rows)
    return engine if record is None else _recording(engine, record)


def password_hashes(engine: sa.Engine) -> dict[str, str]:
    """The users' hashes by e-mail, read by the checker (never shown to the student)."""
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT email, password_hash FROM users ORDER BY id").all())


def make_vulnerable_search_app(engine: sa.Engine) -> FastAPI:
    """Deliberately vulnerable to SQL injection — a lab target, never a model to copy.

    ``GET /search?q=`` pastes `q` into ``... WHERE name LIKE '%<q>%'`` and answers the rows as
    ``[{"id": ..., "name": ..., "price": ...}]``. Like many real apps in debug mode, it answers
    a failing query with the database's error message (500), which helps an attacker.
    """
    app = FastAPI(title="shop search — deliberately vulnerable to SQL injection")

    @app.get("/search")
    def search(q: str) -> list[dict]:
        sql = f"SELECT id, name, price FROM products WHERE name LIKE '%{q}%'"  # the vulnerability
        try:
            with engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(sa.text(sql))]
        except sa.exc.DBAPIError as exc:
            raise HTTPException(500, f"database error: {exc.orig}") from exc

    return app


def make_settings_app(issue_token: Callable[[str], str], accept: Callable[[Request, str, str], bool]) -> FastAPI:
    """A site with a session cookie and a form that changes the user's e-mail, guarded by your CSRF defence.

    - ``POST /login`` (form field ``user``) starts a session: cookie ``session``;
    - ``GET /settings`` shows the form, with a hidden field ``csrf_token`` = ``issue_token(session_id)``;
    - ``POST /settings/email`` (form fields ``email``, ``csrf_token``) changes the e-mail when
      ``accept(request, session_id, csrf_token)`` is true, else answers 403.

    ``app.state.emails`` maps each user to their e-mail. An exception in your functions becomes a
    500 whose detail names it.
    """
    app = FastAPI(title="account settings — protected by your CSRF defence")
    app.state.emails = {}
    sessions: dict[str, str] = {}  # session id -> user

    def user_of(request: Request) -> tuple[str, str]:
        session_id = request.cookies.get("session", "")
        if session_id not in sessions:
            raise HTTPException(401, "not logged in")
        return session_id, sessions[session_id]

    def call(what: str, fn: Callable, *args):
        try:
            return fn(*args)
        except Exception as exc:  # the student's function: say what it raised, as a 500
            raise HTTPException(500, f"your {what} raised {type(exc).__name__}: {exc}") from None

    @app.post("/login")
    def login(user: str = Form()) -> HTMLResponse:
        session_id = secrets.token_urlsafe(16)
        sessions[session_id] = user
        app.state.emails.setdefault(user, f"{user}@example.com")
        page = HTMLResponse("logged in")
        page.set_cookie("session", session_id, httponly=True, samesite="lax")
        return page

    @app.get("/settings", response_class=HTMLResponse)
    def settings_form(request: Request) -> str:
        session_id, user = user_of(request)
        token = call("issue_token(session_id)", issue_token, session_id)
        return (
            f"<p>Signed in as {html.escape(user)}</p>"
            '<form method="post" action="/settings/email">'
            f'<input type="hidden" name="csrf_token" value="{html.escape(str(token))}">'
            '<input name="email" value=""></form>'
        )

    @app.post("/settings/email")
    def change_email(request: Request, email: str = Form(), csrf_token: str = Form("")) -> dict:
        session_id, user = user_of(request)
        if not call("accept(request, session_id, token)", accept, request, session_id, csrf_token):
            raise HTTPException(403, "refused: failed the CSRF check")
        app.state.emails[user] = email
        return {"user": user, "email": email}

    return app
