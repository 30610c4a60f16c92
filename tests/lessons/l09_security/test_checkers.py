"""The 09-security checkers attack the student's app: fixed apps pass, each still-vulnerable or
broken app gets its own hint, malformed answers a plain message, placeholders "not attempted".

The wrong answers below are the notebook's deliberately vulnerable demo apps in miniature, so
these tests also show that every vulnerable version is exploitable and every fixed one is not.
"""

import html
import logging

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from labsupport import servers
from labsupport.lessons.l09_security.checkers import (
    PRODUCTS,
    USERS,
    check_greeting_app,
    check_search_app,
    exercise_engine,
)

BOUND = "SELECT name, price FROM products WHERE name LIKE '%' || :q || '%'"


def search_app(query):
    """An app builder whose search runs query(conn, q) -> rows."""

    def make_search_app(engine):
        app = FastAPI()

        @app.get("/search")
        def search(q: str):
            with engine.connect() as conn:
                return [dict(row._mapping) for row in query(conn, q)]

        return app

    return make_search_app


fixed_search = search_app(lambda conn, q: conn.execute(text(BOUND), {"q": q}))
# Deliberately vulnerable: the term is pasted into the SQL.
vulnerable_search = search_app(
    lambda conn, q: conn.execute(text(f"SELECT name, price FROM products WHERE name LIKE '%{q}%'"))
)


def greeting_app(render, policy=None):
    def make_greeting_app():
        app = FastAPI()

        @app.get("/greet", response_class=HTMLResponse)
        def greet(name: str):
            page = HTMLResponse(render(name))
            if policy:
                page.headers["Content-Security-Policy"] = policy
            return page

        return app

    return make_greeting_app


fixed_greeting = greeting_app(lambda name: f"<p>Hello, {html.escape(name)}!</p>", "default-src 'self'")


@pytest.fixture(autouse=True)
def no_servers_left():
    yield
    assert not [s for s in servers.running_servers() if s.name.startswith("check-")]
    servers.stop_all()


def test_exercise_engine_has_products_and_secret_users():
    engine = exercise_engine()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM products").scalar() == len(PRODUCTS)
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM users").scalar() == len(USERS)
    engine.dispose()


def test_search_fixed_app_passes():
    result = check_search_app(fixed_search)
    assert result.passed, result
    assert "injection attacks fail" in result.message


def test_search_vulnerable_app_is_exploited_and_named():
    result = check_search_app(vulnerable_search)
    assert result.status == "failed"
    assert "UNION SELECT email, password_hash" in result.message
    assert "leaks the users table" in result.message


def test_search_that_only_crashes_on_a_quote_is_still_injectable(caplog):
    # Escaping "UNION" but still pasting: a quote breaks the SQL (500).
    crashy = search_app(
        lambda conn, q: conn.execute(
            text(f"SELECT name, price FROM products WHERE name LIKE '%{q.replace('UNION', '')}%'")
        )
    )
    result = check_search_app(crashy)
    assert result.status == "failed"
    assert "makes the server fail (500)" in result.message
    # The hint says it: uvicorn's traceback of the crash is not shown as well.
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]
    assert not logging.getLogger("uvicorn.error").filters[1:]  # the checker removed its filter


def test_search_returning_everything_is_named():
    everything = search_app(
        lambda conn, q: conn.execute(
            text(
                "SELECT name, price FROM products WHERE name LIKE '%mug%'"
                if q == "mug"
                else "SELECT name, price FROM products"
            )
        )
    )
    result = check_search_app(everything)
    assert result.status == "failed"
    assert "still lists every product" in result.message


def test_search_without_wildcards_breaks_the_honest_search():
    exact = search_app(lambda conn, q: conn.execute(text("SELECT name, price FROM products WHERE name = :q"), {"q": q}))
    result = check_search_app(exact)
    assert result.status == "failed"
    assert "Searching 'mug' should find" in result.message


def test_search_without_route_says_so():
    result = check_search_app(lambda engine: FastAPI())
    assert result.status == "failed"
    assert "add the route @app.get('/search')" in result.message


def test_search_placeholders_and_malformed_answers():
    assert check_search_app(...).status == "not attempted"

    def stub(engine): ...

    assert check_search_app(stub).status == "not attempted"

    def returns_none(engine):
        FastAPI()

    assert check_search_app(returns_none).status == "not attempted"
    wrong_type = check_search_app(42)
    assert wrong_type.status == "failed" and "Pass your function" in wrong_type.message
    not_app = check_search_app(lambda engine: "app")
    assert not_app.status == "failed" and "should return the FastAPI app" in not_app.message

    def crashes(engine):
        raise ValueError("oops")

    crashed = check_search_app(crashes)
    assert crashed.status == "failed" and "ValueError: oops" in crashed.message
    assert "Traceback" not in crashed.message


def test_greeting_fixed_app_passes():
    result = check_greeting_app(fixed_greeting)
    assert result.passed, result


def test_greeting_vulnerable_app_is_exploited():
    # Deliberately vulnerable: the name is pasted into the HTML.
    result = check_greeting_app(greeting_app(lambda name: f"<p>Hello, {name}!</p>", "default-src 'self'"))
    assert result.status == "failed"
    assert "<script>alert(1)</script>" in result.message and "html.escape" in result.message


def test_greeting_that_filters_only_script_tags_is_exploited():
    filtered = greeting_app(lambda name: f"<p>Hello, {name.replace('<script>', '')}!</p>", "default-src 'self'")
    result = check_greeting_app(filtered)
    assert result.status == "failed" and "live HTML" in result.message


def test_greeting_that_drops_the_name_gets_its_hint():
    dropped = greeting_app(
        lambda name: "<p>Hello!</p>" if "<" in name else f"<p>Hello, {name}!</p>", "default-src 'self'"
    )
    result = check_greeting_app(dropped)
    assert result.status == "failed" and "disappeared" in result.message


@pytest.mark.parametrize(
    ("policy", "hint"),
    [
        (None, "add a Content-Security-Policy header"),
        ("frame-ancestors 'none'", "does not restrict scripts"),
        ("default-src 'self' 'unsafe-inline'", "still allows inline"),
        ("script-src *", "still allows inline"),
    ],
)
def test_greeting_policies_get_specific_hints(policy, hint):
    result = check_greeting_app(greeting_app(lambda name: f"<p>Hello, {html.escape(name)}!</p>", policy))
    assert result.status == "failed"
    assert hint in result.message


def test_greeting_not_html_or_missing_route():
    def json_app():
        app = FastAPI()

        @app.get("/greet")
        def greet(name: str):
            return {"hello": name}

        return app

    assert "HTMLResponse" in check_greeting_app(json_app).message
    assert "add the route" in check_greeting_app(lambda: FastAPI()).message
    assert check_greeting_app(...).status == "not attempted"
