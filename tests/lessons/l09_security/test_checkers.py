"""The 09-security checkers, tried as a student who wants the tick and as an attacker would.

Each checker has a corpus: WRONG answers — what students really write (a fix that blocks the demo
payload but not a variant, a hand-written escape, a deny-list) — each of which must fail with the
hint for that mistake, and RIGHT answers written differently from the notebook's solution, each of
which must pass. The wrong answers are deliberately vulnerable code, served on 127.0.0.1 only.
"""

import ast
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
from urllib.parse import urlsplit

import jinja2
import pytest
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from markupsafe import escape as markup_escape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from labsupport import checkout_path, servers
from labsupport.lessons.l09_security.checkers import (
    BLIND_ATTACKS,
    MASS_ASSIGNMENT_BODY,
    MASS_ASSIGNMENT_PATH,
    SQL_ATTACKS,
    check_account_update,
    check_csrf_defence,
    check_greeting_app,
    check_mass_assignment_prediction,
    check_search_app,
    check_stolen_hash,
)
from labsupport.lessons.l09_security.labapps import (
    PRODUCTS,
)
from lessons.corpus import assert_hint, ids


@pytest.fixture(autouse=True)
def no_servers_left():
    yield
    assert not [s for s in servers.running_servers() if s.name.startswith("check-")]
    servers.stop_all()


def expect_failure(result, hint):
    assert result.status == "failed", result
    assert re.search(hint, result.message, re.DOTALL), result.message
    assert "Could not check" not in result.message, result.message  # a hint, not a crash report


# ---------------------------------------------------------------------------------------------
# The lab database and the deliberately vulnerable target


# ---------------------------------------------------------------------------------------------
# Exercise 1: steal the admin's hash


def steal_by_union(client):
    q = "zzz' UNION SELECT id, email, password_hash FROM users WHERE role = 'admin' --"
    return client.get("/search", params={"q": q}).json()[0]["price"]


def steal_by_reading_roles(client):
    q = "x' UNION SELECT id, role, password_hash FROM users --"
    return next(row["price"] for row in client.get("/search", params={"q": q}).json() if row["name"] == "admin")


def steal_by_boolean_blind(client, char_code="unicode"):
    """One yes/no question per request: is the hash's i-th character greater than c? (binary search).
    `char_code` is the engine's character-code function: SQLite's unicode(), PostgreSQL's ascii()."""

    def true(condition):
        q = f"Blue mug' AND ({condition}) --"
        return bool(client.get("/search", params={"q": q}).json())

    admin = "(SELECT password_hash FROM users WHERE role = 'admin')"
    length = next(n for n in range(1, 100) if true(f"length({admin}) = {n}"))
    found = ""
    for i in range(1, length + 1):
        low, high = 32, 126
        while low < high:
            middle = (low + high) // 2
            if true(f"{char_code}(substr({admin}, {i}, 1)) > {middle}"):
                low = middle + 1
            else:
                high = middle
        found += chr(low)
    return found


STEAL_RIGHT = [steal_by_union, steal_by_reading_roles, steal_by_boolean_blind]


@pytest.mark.parametrize("steal", STEAL_RIGHT, ids=lambda f: f.__name__)
def test_stolen_hash_right_answers_pass(steal):
    result = check_stolen_hash(steal)
    assert result.passed, result
    assert "new for every check" in result.message
    assert ("blind injection" in result.message) == (steal is steal_by_boolean_blind)


def steal_first_users_hash(client):
    q = "zzz' UNION SELECT id, email, password_hash FROM users --"
    return client.get("/search", params={"q": q}).json()[0]["price"]


def steal_with_the_demos_two_columns(client):
    q = "zzz' UNION SELECT email, password_hash FROM users WHERE role = 'admin' --"
    return client.get("/search", params={"q": q}).json()[0]["price"]


def steal_hard_coded(client):
    return "$2b$12$NotTheRealOneNotTheRealOneNotTheRealOneNotTheRealOne1"


def steal_whole_row(client):
    q = "zzz' UNION SELECT id, email, password_hash FROM users WHERE role = 'admin' --"
    return client.get("/search", params={"q": q}).json()[0]


def steal_email_and_hash(client):
    row = steal_whole_row(client)
    return f"{row['name']}:{row['price']}"


def steal_from_a_products_search(client):
    return client.get("/search", params={"q": "mug"}).json()[0]["name"]


STEAL_WRONG = [
    (steal_first_users_hash, r"hash of ada@example\.com, who is not the admin"),
    (steal_with_the_demos_two_columns, r"raised KeyError.*last answer was 500 .*number of result columns"),
    (steal_hard_coded, r"is not the admin's hash\. The hashes are new for every check"),
    (steal_whole_row, r"Expected the hash as a string"),
    (steal_email_and_hash, r"contains the admin's hash and more"),
    (steal_from_a_products_search, r"'Blue mug' is not the admin's hash"),
]


@pytest.mark.parametrize(("steal", "hint"), STEAL_WRONG, ids=[f.__name__ for f, _ in STEAL_WRONG])
def test_stolen_hash_wrong_answers_get_their_hint(steal, hint):
    expect_failure(check_stolen_hash(steal), hint)


def test_stolen_hash_placeholders():
    def stub(client): ...

    def returns_none(client):
        client.get("/search", params={"q": "mug"})

    assert check_stolen_hash(...).status == "not attempted"
    assert check_stolen_hash(stub).status == "not attempted"
    assert check_stolen_hash(returns_none).status == "not attempted"
    expect_failure(check_stolen_hash("$2b$12$..."), r"Pass your function steal_admin_hash itself")


# ---------------------------------------------------------------------------------------------
# Exercise 2: the search that cannot be injected


def search_app(query, *, columns=("name", "price")):
    """An app builder whose GET /search answers query(engine, q) -> rows (mappings)."""

    def make_search_app(engine):
        app = FastAPI()

        @app.get("/search")
        def search(q: str):
            return [{key: row[key] for key in columns if key in row} for row in query(engine, q)]

        return app

    return make_search_app


def run(sql, params=None, *, catch=False):
    """Run `sql` as the student's search does; with catch, a failing query is answered as 'nothing found'."""

    def query(engine, q):
        try:
            with engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(text(sql(q)), params(q) if params else {})]
        except sa.exc.DBAPIError:
            if catch:
                return []
            raise

    return query


def pasted(template, transform=lambda q: q, *, catch=False):
    return run(lambda q: template.format(q=transform(q)), catch=catch)


def deny_list(words, inner, *, upper=False, status=None):
    """Refuse terms holding a listed word (answer [] or `status`), else run `inner`."""

    def query(engine, q):
        seen = q.upper() if upper else q
        if any(word in seen for word in words):
            if status:
                raise HTTPException(status, "forbidden characters")
            return []
        return inner(engine, q)

    return query


def raw_sqlite_doubled(engine, q):
    connection = engine.raw_connection()
    try:
        term = q.replace("'", "''")
        rows = connection.cursor().execute(f"SELECT name, price FROM products WHERE name LIKE '%{term}%'").fetchall()
    finally:
        connection.close()
    return [{"name": name, "price": price} for name, price in rows]


LIKE = "SELECT name, price FROM products WHERE name LIKE '%{q}%'"
WORDS = ("UNION", "SELECT", "--", ";", "/*")

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
        "pasted, one column",
        search_app(pasted("SELECT name FROM products WHERE name LIKE '%{q}%'"), columns=("name",)),
        r"^UNION with 1 column\(s\) still leaks",
    ),
    ("pasted, errors hidden", search_app(pasted(LIKE, catch=True)), r"^UNION with 2 column\(s\) still leaks"),
    (
        "pasted in double quotes",
        search_app(pasted('SELECT name, price FROM products WHERE name LIKE "%{q}%"')),
        r"^UNION in double-quoted SQL, 2 columns still leaks",
    ),
    (
        "pasted into instr(), errors hidden",
        search_app(pasted("SELECT name, price FROM products WHERE instr(name, '{q}') > 0", catch=True)),
        r"boolean-blind inside instr\(\.\.\.\) injection still works",
    ),
    (
        "quotes doubled by hand",
        search_app(pasted(LIKE, lambda q: q.replace("'", "''"))),
        r"^No attack got through, but the database received the search term inside the SQL text",
    ),
    (
        "quotes doubled by hand, raw sqlite3 cursor",
        search_app(raw_sqlite_doubled),
        r"received the search term inside the SQL text",
    ),
    (
        "quotes doubled by hand, but the SQL quotes with double quotes",
        search_app(pasted('SELECT name, price FROM products WHERE name LIKE "%{q}%"', lambda q: q.replace("'", "''"))),
        r"double-quoted SQL, 2 columns still leaks",
    ),
    (
        "quotes escaped with a backslash (a MySQL habit)",
        search_app(pasted(LIKE, lambda q: q.replace("'", "\\'"))),
        r"^UNION with 2 column\(s\) still leaks",
    ),
    (
        "only the first quote doubled",
        search_app(pasted(LIKE, lambda q: q.replace("'", "''", 1), catch=True)),
        r"^UNION behind a decoy quote, 2 columns still leaks",
    ),
    (
        "quoted with json.dumps",
        search_app(run(lambda q: f"SELECT name, price FROM products WHERE name LIKE {json.dumps('%' + q + '%')}")),
        r"double-quoted SQL, 2 columns still leaks",
    ),
    (
        "quoted with repr",
        search_app(run(lambda q: f"SELECT name, price FROM products WHERE name LIKE {'%' + q + '%'!r}")),
        r"^UNION with both kinds of quote, 2 columns still leaks",
    ),
    (
        "quotes stripped",
        search_app(pasted(LIKE, lambda q: q.replace("'", "").replace('"', ""))),
        r"Searching \"O'Brien\" should find \[\"O'Brien's teapot\"\].*a quote is part of honest names",
    ),
    (
        "quotes refused with 400",
        search_app(deny_list(("'",), pasted(LIKE), status=400)),
        r"Searching \"O'Brien\" should find .*got 400.*a quote is part of honest names",
    ),
    (
        "case-sensitive keyword deny-list",
        search_app(deny_list(("UNION", "SELECT"), pasted(LIKE))),
        r"^UNION in lower case, 2 columns still leaks",
    ),
    (
        "keyword deny-list in upper case, errors hidden",
        search_app(deny_list(WORDS, pasted(LIKE, catch=True), upper=True)),
        r"boolean-blind without a comment injection still works",
    ),
    (
        "keyword removal",
        search_app(pasted(LIKE, lambda q: re.sub("union|select", "", q, flags=re.IGNORECASE))),
        r"^A boolean-blind injection still works: q=\"mug' AND 1=1 --\"",
    ),
    (
        "thorough deny-list (words, comments, quotes of both kinds after AND/OR)",
        search_app(deny_list((*WORDS, " OR ", " AND ", "'", '"'), pasted(LIKE, catch=True), upper=True)),
        r"Searching \"O'Brien\" should find",
    ),
    (
        "deny-list of SQL words with bound parameters",
        search_app(
            deny_list(
                ("UNION", "SELECT", "AND", "OR", "--"),
                run(lambda q: "SELECT name, price FROM products WHERE name LIKE '%' || :q || '%'", lambda q: {"q": q}),
                upper=True,
            )
        ),
        r"Searching 'Union Jack' should find .*deny-list of SQL words refuses honest searches",
    ),
    (
        "LIKE :q where 'contains' was asked",
        search_app(run(lambda q: "SELECT name, price FROM products WHERE name LIKE :q", lambda q: {"q": q})),
        r"Searching 'mug' should answer 200 .*Keep the wildcards",
    ),
    (
        "equality where 'contains' was asked",
        search_app(run(lambda q: "SELECT name, price FROM products WHERE name = :q", lambda q: {"q": q})),
        r"Searching 'mug' should answer 200",
    ),
    (
        "bound, but everything listed for an unknown term",
        search_app(
            lambda engine, q: (
                run(lambda q: "SELECT name, price FROM products WHERE name LIKE '%' || :q || '%'", lambda q: {"q": q})(
                    engine, q
                )
                or run(lambda q: "SELECT name, price FROM products")(engine, q)
            )
        ),
        r"still works: q=.* returned 7 product\(s\) — every product",
    ),
]

BOUND = "SELECT name, price FROM products WHERE name LIKE '%' || :q || '%'"


def core_contains(engine, q, **options):
    products = sa.Table("products", sa.MetaData(), autoload_with=engine)
    query = sa.select(products.c.name, products.c.price).where(products.c.name.contains(q, **options))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def filtered_in_python(engine, q):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, price FROM products")).mappings().all()
    return [dict(row) for row in rows if q in row["name"]]


def raw_sqlite_bound(engine, q):
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        rows = cursor.execute("SELECT name, price FROM products WHERE name LIKE ?", (f"%{q}%",)).fetchall()
    finally:
        connection.close()
    return [{"name": name, "price": price} for name, price in rows]


SEARCH_RIGHT = [
    ("bound concatenation", search_app(run(lambda q: BOUND, lambda q: {"q": q}))),
    (
        "pattern built in Python, bound",
        search_app(
            run(lambda q: "SELECT name, price FROM products WHERE name LIKE :pattern", lambda q: {"pattern": f"%{q}%"})
        ),
    ),
    (
        "instr, bound, with the id",
        search_app(
            run(lambda q: "SELECT id, name, price FROM products WHERE instr(name, :q) > 0", lambda q: {"q": q}),
            columns=("id", "name", "price"),
        ),
    ),
    (
        "case-insensitive, bound",
        search_app(
            run(
                lambda q: "SELECT name, price FROM products WHERE lower(name) LIKE '%' || lower(:q) || '%'",
                lambda q: {"q": q},
            )
        ),
    ),
    ("SQLAlchemy Core contains()", search_app(core_contains)),
    ("Core contains(autoescape=True)", search_app(lambda engine, q: core_contains(engine, q, autoescape=True))),
    ("filtered in Python", search_app(filtered_in_python)),
    ("raw sqlite3 with ?", search_app(raw_sqlite_bound)),
]


@pytest.mark.parametrize(("builder", "hint"), [c[1:] for c in SEARCH_WRONG], ids=[c[0] for c in SEARCH_WRONG])
def test_search_wrong_answers_get_their_hint(builder, hint):
    """Mutations that failed this: skipping the pasted-SQL check (quotes doubled by hand passed); skipping the
    true/false comparison of BLIND_ATTACKS (keyword removal, instr and deny-list answers passed)."""
    expect_failure(check_search_app(builder), hint)


@pytest.mark.parametrize("builder", [c[1] for c in SEARCH_RIGHT], ids=[c[0] for c in SEARCH_RIGHT])
def test_search_right_answers_pass(builder):
    result = check_search_app(builder)
    assert result.passed, result
    assert "bound value, never as SQL" in result.message


def test_search_attacks_hold_no_product_text():
    """A safe app must find nothing for every attack: no product name contains any of them."""
    terms = [term for _, term in SQL_ATTACKS] + [t for _, *pair in BLIND_ATTACKS for t in pair]
    assert not [term for term in terms for _, name, _ in PRODUCTS if term.lower() in name.lower()]


def test_search_crash_tracebacks_stay_out_of_the_cell(caplog):
    result = check_search_app(search_app(pasted(LIKE)))
    assert result.status == "failed"
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]
    # the checker removed its filter
    assert not [f for f in logging.getLogger("uvicorn.error").filters if type(f).__name__ == "_QuietCrashes"]


def test_search_stacked_query_that_ran_is_named():
    """An app that runs every statement it is given (executescript): the users table changed.

    Mutation that failed this: dropping the password_hashes(engine) != hashes comparison.
    """

    def script(engine, q):
        connection = engine.raw_connection()
        try:
            connection.executescript(f"SELECT 1 WHERE 'x' LIKE '%{q}%';")
            connection.commit()
        finally:
            connection.close()
        return run(lambda q: BOUND, lambda q: {"q": q})(engine, q)

    expect_failure(check_search_app(search_app(script)), r"An attack changed the users table.*stacked query")


def test_search_placeholders_and_malformed_answers():
    assert check_search_app(...).status == "not attempted"

    def stub(engine): ...

    def returns_none(engine):
        FastAPI()

    def crashes(engine):
        raise ValueError("oops")

    assert check_search_app(stub).status == "not attempted"
    assert check_search_app(returns_none).status == "not attempted"
    expect_failure(check_search_app(42), r"Pass your function make_search_app itself")
    expect_failure(check_search_app(lambda engine: "app"), r"should return the FastAPI app")
    expect_failure(check_search_app(lambda engine: FastAPI()), r"add the route @app.get\('/search'\)")
    crashed = check_search_app(crashes)
    assert crashed.status == "failed" and "ValueError: oops" in crashed.message


# ---------------------------------------------------------------------------------------------
# Exercise 3: the greeting page without XSS

STRICT = "default-src 'self'"


def greeting_app(text_escape, attr_escape=None, *, policy=STRICT, quote='"', headers=None):
    """A greeting page: the name escaped by text_escape in <p>, by attr_escape in value=..., with `policy`."""
    attr_escape = attr_escape or text_escape

    def make_greeting_app():
        app = FastAPI()

        @app.get("/greet", response_class=HTMLResponse)
        def greet(name: str):
            value = f"{quote}{attr_escape(name)}{quote}"
            page = HTMLResponse(
                f"<h1>Welcome</h1><p>Hello, {text_escape(name)}!</p>"
                f'<form method="get" action="/greet"><input name="name" value={value}></form>'
            )
            if policy:
                page.headers["Content-Security-Policy"] = policy
            for key, header in (headers or {}).items():
                page.headers.append(key, header)
            return page

        return app

    return make_greeting_app


def raw(name):
    return name


def lt_gt_only(name):
    return name.replace("<", "&lt;").replace(">", "&gt;")


def no_ampersand(name):
    return name.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;")


GREETING_WRONG = [
    ("not escaped", greeting_app(raw), r"comes back as live HTML: the page now has a <script> element"),
    (
        "escaped in the attribute only",
        greeting_app(raw, html.escape),
        r"'<script>alert\(1\)</script>' comes back as live",
    ),
    (
        "escaped in the text only",
        greeting_app(html.escape, raw),
        r"'\"><svg onload=alert\(1\)>' comes back as live HTML",
    ),
    (
        "script tags removed",
        greeting_app(lambda n: n.replace("<script>", "").replace("</script>", "")),
        r"'<ScRiPt>alert\(1\)</sCrIpT>' comes back as live HTML",
    ),
    (
        "script tags removed, any case",
        greeting_app(lambda n: re.sub(r"</?script>", "", n, flags=re.IGNORECASE)),
        r"'<scr<script>ipt>alert\(1\)</script>' comes back as live HTML",
    ),
    (
        "only < and > escaped",
        greeting_app(lt_gt_only),
        r"'\"><svg onload=alert\(1\)>' broke out of the value attribute and added .*an attribute onload=",
    ),
    (
        "html.escape(quote=False)",
        greeting_app(lambda n: html.escape(n, quote=False)),
        r"broke out of the value attribute",
    ),
    (
        "single-quoted attribute, quote=False",
        greeting_app(lambda n: html.escape(n, quote=False), quote="'"),
        r"\"' autofocus onfocus='alert\(1\)\" broke out of the value attribute",
    ),
    (
        "unquoted attribute",
        greeting_app(html.escape, quote=""),
        r"'<img src=x onerror=alert\(1\)>' broke out of the value attribute .*onerror=.*double quotes",
    ),
    ("& not escaped", greeting_app(no_ampersand), r"'&lt;b&gt; is how you write <b>' is not shown as typed"),
    (
        "suspicious names dropped",
        greeting_app(lambda n: "" if re.search(r"[<>\"']", n) else n),
        r"'<script>alert\(1\)</script>' is not shown as typed",
    ),
    (
        "tags stripped, then escaped",
        greeting_app(lambda n: html.escape(re.sub(r"<[^>]*>", "", n))),
        r"'<script>alert\(1\)</script>' is not shown as typed",
    ),
    ("escaped twice", greeting_app(lambda n: html.escape(html.escape(n))), r"is not shown as typed"),
    (
        "attribute escaped twice",
        greeting_app(html.escape, lambda n: html.escape(html.escape(n))),
        r"value attribute should hold the name .* as typed",
    ),
    ("no CSP", greeting_app(html.escape, policy=None), r"there is no Content-Security-Policy header"),
    ("CSP without script rules", greeting_app(html.escape, policy="frame-ancestors 'none'"), r"neither script-src"),
    (
        "directive name only inside a URL",
        greeting_app(html.escape, policy="report-uri /default-src-violations"),
        r"neither script-src nor default-src",
    ),
    (
        "script-src-attr only",
        greeting_app(html.escape, policy="script-src-attr 'none'"),
        r"neither script-src nor default-src",
    ),
    (
        "unsafe-inline",
        greeting_app(html.escape, policy="default-src 'self' 'unsafe-inline'"),
        r"allows 'unsafe-inline'",
    ),
    (
        "unsafe-inline in capitals",
        greeting_app(html.escape, policy="default-src 'self'; SCRIPT-SRC 'self' 'UNSAFE-INLINE'"),
        r"script-src allows 'unsafe-inline'",
    ),
    ("script-src *", greeting_app(html.escape, policy="script-src *"), r"script-src allows \*: a script from any host"),
    ("https: scheme", greeting_app(html.escape, policy="default-src https:"), r"scheme source https:"),
    (
        "data: scheme",
        greeting_app(html.escape, policy="default-src 'self'; script-src 'self' data:"),
        r"scheme source data:",
    ),
    (
        "https://* host",
        greeting_app(html.escape, policy="script-src 'self' https://*"),
        r"script-src allows https://\*",
    ),
    (
        "loose script-src-elem",
        greeting_app(html.escape, policy="default-src 'self'; script-src-elem 'self' https:"),
        r"script-src-elem allows the scheme source https:",
    ),
    (
        "loose script-src-attr",
        greeting_app(html.escape, policy="default-src 'self'; script-src-attr 'unsafe-inline'"),
        r"script-src-attr allows 'unsafe-inline'",
    ),
    (
        "repeated directive: the first wins",
        greeting_app(html.escape, policy="script-src 'unsafe-inline'; script-src 'self'"),
        r"allows 'unsafe-inline'",
    ),
    (
        "report-only",
        greeting_app(html.escape, policy=None, headers={"Content-Security-Policy-Report-Only": STRICT}),
        r"Report-Only only reports",
    ),
]


def jinja_greeting():
    template = jinja2.Environment(autoescape=True).from_string(
        "<p>Hello, {{ name }}!</p><form><input name='name' value='{{ name }}'></form>"
    )
    app = FastAPI()

    @app.get("/greet", response_class=HTMLResponse)
    def greet(name: str):
        return HTMLResponse(template.render(name=name), headers={"Content-Security-Policy": "script-src 'self'"})

    return app


GREETING_RIGHT = [
    ("html.escape", greeting_app(html.escape)),
    ("markupsafe", greeting_app(lambda n: str(markup_escape(n)))),
    ("single-quoted attribute with html.escape", greeting_app(html.escape, quote="'")),
    ("jinja2 autoescape", jinja_greeting),
    ("default-src 'none'", greeting_app(html.escape, policy="default-src 'none'; script-src 'self'")),
    ("inline styles only", greeting_app(html.escape, policy="default-src 'self' 'unsafe-inline'; script-src 'self'")),
    (
        "nonce makes unsafe-inline ignored",
        greeting_app(html.escape, policy="script-src 'nonce-r4nd0m' 'unsafe-inline'"),
    ),
    (
        "strict-dynamic",
        greeting_app(html.escape, policy="script-src 'nonce-r4nd0m' 'strict-dynamic' https: 'unsafe-inline'"),
    ),
    (
        "two policies, one strict",
        greeting_app(html.escape, policy="default-src *", headers={"Content-Security-Policy": STRICT}),
    ),
    ("two policies in one header", greeting_app(html.escape, policy="default-src *, script-src 'self'")),
    ("upper-case directive", greeting_app(html.escape, policy="SCRIPT-SRC 'SELF'")),
]


@pytest.mark.parametrize(("builder", "hint"), [c[1:] for c in GREETING_WRONG], ids=[c[0] for c in GREETING_WRONG])
def test_greeting_wrong_answers_get_their_hint(builder, hint):
    """Mutations that failed this: no script-src-elem/-attr lookup (loose script-src-elem/-attr passed); no
    'unsafe-inline' rule; the last repeated directive winning; no check of the attribute's value (escaped twice)."""
    expect_failure(check_greeting_app(builder), hint)


@pytest.mark.parametrize("builder", [c[1] for c in GREETING_RIGHT], ids=[c[0] for c in GREETING_RIGHT])
def test_greeting_right_answers_pass(builder):
    result = check_greeting_app(builder)
    assert result.passed, result
    assert "never gained a tag or an attribute" in result.message


def test_greeting_shape_mistakes():
    def json_app():
        app = FastAPI()

        @app.get("/greet")
        def greet(name: str):
            return {"hello": name}

        return app

    def text_only():
        app = FastAPI()

        @app.get("/greet", response_class=HTMLResponse)
        def greet(name: str):
            return HTMLResponse(f"<p>Hello, {html.escape(name)}!</p>", headers={"Content-Security-Policy": STRICT})

        return app

    expect_failure(check_greeting_app(json_app), r"return an HTMLResponse")
    expect_failure(check_greeting_app(text_only), r"should also hold a form to change the name")
    expect_failure(check_greeting_app(lambda: FastAPI()), r"add the route")
    assert check_greeting_app(...).status == "not attempted"


# ---------------------------------------------------------------------------------------------
# Exercise 4: CSRF

SECRET = secrets.token_bytes(32)


def hmac_token(session_id):
    return hmac.new(SECRET, session_id.encode(), hashlib.sha256).hexdigest()


def accept_hmac(request, session_id, token):
    return hmac.compare_digest(token, hmac_token(session_id))


def own_origin(request):
    return str(request.base_url).rstrip("/")


def accept_exact_origin(request, session_id, token):
    return request.headers.get("origin") == own_origin(request)


STORED: dict[str, str] = {}


def stored_token(session_id):
    return STORED.setdefault(session_id, secrets.token_urlsafe(24))


def accept_stored(request, session_id, token):
    return session_id in STORED and hmac.compare_digest(token, STORED[session_id])


SITE_TOKEN = secrets.token_hex(16)

CSRF_WRONG = [
    ("no check", hmac_token, lambda r, s, t: True, r"changed by a form on another site, without a token"),
    (
        "one token for the whole site",
        lambda s: SITE_TOKEN,
        lambda r, s, t: t == SITE_TOKEN,
        r"carrying the attacker's own token.*belong to this session",
    ),
    (
        "token checked only when sent",
        hmac_token,
        lambda r, s, t: not t or hmac.compare_digest(t, hmac_token(s)),
        r"changed by a form on another site, without a token",
    ),
    ("token compared as a substring", hmac_token, lambda r, s, t: t in hmac_token(s), r"without a token"),
    ("token is the session id", lambda s: s, lambda r, s, t: t == s, r"token is the session id itself"),
    (
        "random token, never stored",
        lambda s: secrets.token_hex(16),
        lambda r, s, t: len(t) == 32,
        r"attacker's own token",
    ),
    (
        "Origin checked only when present",
        lambda s: "",
        lambda r, s, t: r.headers.get("origin") in (None, own_origin(r)),
        r"without an Origin header .* and without a token: if you check the Origin header",
    ),
    (
        "Origin compared by prefix",
        lambda s: "",
        lambda r, s, t: r.headers.get("origin", "").startswith(own_origin(r)),
        r"Origin starts with the site's origin",
    ),
    (
        "Origin compared by suffix",
        lambda s: "",
        lambda r, s, t: r.headers.get("origin", "").endswith(r.url.netloc),
        r"Origin ends with the site's host",
    ),
    (
        "Origin host compared, port ignored",
        lambda s: "",
        lambda r, s, t: urlsplit(r.headers.get("origin", "")).hostname == r.url.hostname,
        r"another origin of the same host",
    ),
    (
        "Origin null allowed",
        lambda s: "",
        lambda r, s, t: r.headers.get("origin") in (own_origin(r), "null"),
        r"Origin: null",
    ),
    (
        "Origin read with [] (crashes without one)",
        lambda s: "",
        lambda r, s, t: r.headers["origin"] == own_origin(r),
        r"crashed instead of refusing .*KeyError.*return False",
    ),
    (
        "Referer compared by prefix",
        lambda s: "",
        lambda r, s, t: r.headers.get("referer", "").startswith(own_origin(r)),
        r"Origin starts with the site's origin",
    ),
    ("everything refused", hmac_token, lambda r, s, t: False, r"ada's own form, .* was refused: 403"),
    ("token checked against another session's", hmac_token, lambda r, s, t: t == hmac_token("x"), r"own form"),
]

CSRF_RIGHT = [
    (
        "Referer on this site",
        lambda s: "",
        lambda r, s, t: r.headers.get("referer", "").startswith(own_origin(r) + "/"),
    ),
    ("hmac of the session id", hmac_token, accept_hmac),
    ("random token stored per session", stored_token, accept_stored),
    ("exact Origin", lambda s: "", accept_exact_origin),
    (
        "Origin built from scheme and netloc, plus the token",
        hmac_token,
        lambda r, s, t: r.headers.get("origin") == f"{r.url.scheme}://{r.url.netloc}" and t == hmac_token(s),
    ),
]


@pytest.mark.parametrize(("issue", "accept", "hint"), [c[1:] for c in CSRF_WRONG], ids=[c[0] for c in CSRF_WRONG])
def test_csrf_wrong_answers_get_their_hint(issue, accept, hint):
    """Mutation that failed this: dropping the 'Origin: null' attack (the null-allowing check passed)."""
    expect_failure(check_csrf_defence(issue, accept), hint)


@pytest.mark.parametrize(("issue", "accept"), [c[1:] for c in CSRF_RIGHT], ids=[c[0] for c in CSRF_RIGHT])
def test_csrf_right_answers_pass(issue, accept):
    result = check_csrf_defence(issue, accept)
    assert result.passed, result
    assert "forged requests were refused" in result.message


def test_csrf_placeholders_and_malformed_answers():
    def issue_stub(session_id): ...

    def accept_stub(request, session_id, token): ...

    assert check_csrf_defence(..., ...).status == "not attempted"
    assert check_csrf_defence(issue_stub, accept_stub).status == "not attempted"
    expect_failure(check_csrf_defence("token", accept_hmac), r"Pass your function issue_token itself")
    expect_failure(
        check_csrf_defence(lambda s: 1 / 0, accept_hmac), r"GET /settings failed: your issue_token.*ZeroDivisionError"
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5: mass assignment

ALLOWED = ("name", "email", "newsletter")
FORBIDDEN = ("is_admin", "role", "id", "credit")


class Changes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=50)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    newsletter: bool | None = None


class IgnoringChanges(Changes):
    model_config = ConfigDict(extra="ignore")


class AllowingChanges(Changes):
    model_config = ConfigDict(extra="allow")


class WholeRecord(Changes):
    model_config = ConfigDict(extra="ignore")
    role: str | None = None
    is_admin: bool | None = None
    id: int | None = None
    credit: int | None = None


class WithId(Changes):
    id: int | None = None


class SafeDefaults(Changes):
    is_admin: bool = False  # "so nobody becomes admin"


class Required(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    newsletter: bool = False


def merge(model, **dump):
    return lambda account, body: {**account, **model.model_validate(body).model_dump(**dump)}


def lowercased_deny_list(account, body):
    return {**account, **{k.lower(): v for k, v in body.items() if k not in FORBIDDEN}}


def exact_deny_list(account, body):
    return {**account, **{k: v for k, v in body.items() if k not in FORBIDDEN}}


def deep_merge(account, body):
    merged = dict(account)
    for key, value in body.items():
        if key in ALLOWED or isinstance(value, dict):
            merged[key] = value
    return merged


def in_place_returns_none(account, body):
    account.update(Changes.model_validate(body).model_dump(exclude_unset=True))


def truthy_only(account, body):
    return {**account, **{k: v for k, v in Changes.model_validate(body).model_dump().items() if v}}


MASS_WRONG = [
    (
        "body copied as it is",
        lambda a, b: {**a, **b},
        r"The body \{'is_admin': True\} changed is_admin .*set is_admin itself",
    ),
    ("the whole record as the model", merge(WholeRecord, exclude_unset=True), r"changed is_admin from False to True"),
    ("extra='allow'", merge(AllowingChanges, exclude_unset=True), r"\{'is_admin': True\} changed is_admin"),
    ("id allowed because the form posts it", merge(WithId, exclude_unset=True), r"\{'id': 1\} changed id from 7 to 1"),
    ("exact deny-list", exact_deny_list, r"\{'IS_ADMIN': True\} changed IS_ADMIN from '\(absent\)' to True"),
    (
        "deny-list, then keys lowered",
        lowercased_deny_list,
        r"\{'IS_ADMIN': True\} changed is_admin from False to True: a key that is not exactly that field's name",
    ),
    ("nested objects merged", deep_merge, r"\{'profile': \{'is_admin': True\}\} changed profile"),
    (
        "model_dump() without exclude_unset",
        merge(Changes),
        r"update \{'name': 'Ada L\.'\} of Ada's account left email=None .*exclude_unset=True",
    ),
    (
        "is_admin kept in the model 'to force it False'",
        merge(SafeDefaults, exclude_none=True),
        r"update \{'name': 'Root Admin'\} of Root's account left is_admin=False instead of True",
    ),
    (
        "every field required",
        merge(Required),
        r"update \{'name': 'Ada L\.'\} raised ValidationError \(email: Field required\)\. .*optional",
    ),
    (
        "False values dropped",
        truthy_only,
        r"update \{'newsletter': False\} of Root's account left newsletter=True instead of False: apply the value",
    ),
    (
        "allow-list without validation",
        lambda a, b: {**a, **{k: v for k, v in b.items() if k in ALLOWED}},
        r"\{'name': ''\} set name to '': validate the values too",
    ),
    (
        "updated in place, nothing returned",
        in_place_returns_none,
        r"should return the updated account \(a dict\), not NoneType",
    ),
]


def checked_by_hand(account, body):
    if set(body) - set(ALLOWED):
        raise ValueError(f"not allowed: {sorted(set(body) - set(ALLOWED))}")
    if "name" in body and not (isinstance(body["name"], str) and 1 <= len(body["name"]) <= 50):
        raise ValueError("bad name")
    if "email" in body and not re.fullmatch(r"[^@\s]+@[^@\s]+", str(body["email"])):
        raise ValueError("bad email")
    if "newsletter" in body and not isinstance(body["newsletter"], bool):
        raise ValueError("bad newsletter")
    return {**account, **body}


def in_place(account, body):
    account.update(IgnoringChanges.model_validate(body).model_dump(exclude_unset=True))
    return account


MASS_RIGHT = [
    ("extra='forbid', exclude_unset", merge(Changes, exclude_unset=True)),
    ("extra='ignore', exclude_unset", merge(IgnoringChanges, exclude_unset=True)),
    ("exclude_none", merge(Changes, exclude_none=True)),
    ("updated in place and returned", in_place),
    ("checked by hand", checked_by_hand),
]


@pytest.mark.parametrize(("apply", "hint"), [c[1:] for c in MASS_WRONG], ids=[c[0] for c in MASS_WRONG])
def test_account_update_wrong_answers_get_their_hint(apply, hint):
    """Mutation that failed this: one hint for every changed key (the lowered deny-list got the wrong hint)."""
    expect_failure(check_account_update(apply), hint)


@pytest.mark.parametrize("apply", [c[1] for c in MASS_RIGHT], ids=[c[0] for c in MASS_RIGHT])
def test_account_update_right_answers_pass(apply):
    result = check_account_update(apply)
    assert result.passed, result
    assert "changed exactly what they named" in result.message


def test_account_update_placeholders():
    def stub(account, body): ...

    assert check_account_update(...).status == "not attempted"
    assert check_account_update(stub).status == "not attempted"
    assert check_account_update(lambda account, body: ...).status == "not attempted"
    expect_failure(check_account_update({"name": "Ada"}), r"Pass your function apply_changes itself")


# ---------------------------------------------------------------------------------------------
# Section 1, predict then run: what a valid body with is_admin gets from the vulnerable route


class UserRecord(BaseModel):
    """The notebook's model: mirrors a row of the users table, is_admin included."""

    name: str = Field(min_length=1, max_length=50)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    is_admin: bool = False


def users_api(model=UserRecord):
    """The notebook's deliberately vulnerable users API, with `model` as the route's input model."""
    users = {1: {"id": 1, "name": "Ada", "email": "ada@example.com", "is_admin": False}}
    app = FastAPI()

    @app.patch("/vulnerable/users/{user_id}")
    def update_user_vulnerable(user_id: int, changes: model):
        users[user_id].update(changes.model_dump())
        return users[user_id]

    return app


@pytest.fixture
def users():
    return servers.serve(users_api(), name="users-prediction")


def test_mass_assignment_prediction_right_answer_passes(users):
    """The truth comes from the running route: 200, and is_admin True in the record it returns.
    (Mutation that failed this: `status != real_status` flipped to `==` in the checker.)"""
    result = check_mass_assignment_prediction(200, True, users)
    assert result.passed, result
    assert "sent again just now: 200" in result.message


MASS_PREDICTION_WRONG = [
    ("validation-rejects-it", 422, False, r"answered 200, and Ada's is_admin is now True\. Why: every field of the "
     r"body passes UserRecord's rules.*is_admin is one of the model's own fields.*And the route copies every field"),
    ("rejected-but-admin", 422, True, r"Why: every field of the body passes.*who may change which field\.$"),
    ("forbidden", 403, False, r"a 403 needs code that asks who the client is, and this route has none.*mass "
     r"assignment"),
    ("unauthorized", 401, True, r"a 401 needs code that asks who the client is"),
    ("server-error", 500, False, r"answered 200.*Why: every field of the body passes"),
    ("accepted-but-ignored", 200, False, r"answered 200, and Ada's is_admin is now True\. Why: the route copies every "
     r"field of the validated model into the row.*mass assignment\.$"),
]


@pytest.mark.parametrize(("name", "status", "admin", "hint"), MASS_PREDICTION_WRONG, ids=ids(MASS_PREDICTION_WRONG))
def test_mass_assignment_prediction_wrong_answers_get_their_hint(users, name, status, admin, hint):
    """(Mutation that failed this: the `admin != real_admin` reason dropped — accepted-but-ignored passed.)"""
    assert_hint(check_mass_assignment_prediction(status, admin, users), hint)


def test_mass_assignment_prediction_judges_the_running_route():
    """A narrow model (extra='forbid') makes the same request a 422: the checker says it cannot read
    Ada's record rather than judging against a stored answer."""

    class Narrow(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        email: str

    server = servers.serve(users_api(Narrow), name="users-prediction")
    result = check_mass_assignment_prediction(200, True, server)
    assert_hint(result, r"answered 422 .*run section 1's cells above in order")


def test_mass_assignment_prediction_refuses_a_route_that_ignores_is_admin():
    """A model without is_admin (extra fields ignored) answers 200 and leaves Ada alone: a right
    prediction for that route would be (200, False), but the prose explains section 1's route, so the
    checker says the route is not that one rather than praising (200, False) with the wrong reason.
    (Mutation that failed this: the `is not True` check dropped — (200, False) passed.)"""

    class Ignoring(BaseModel):
        name: str
        email: str

    server = servers.serve(users_api(Ignoring), name="users-prediction")
    for prediction in [(200, False), (200, True)]:
        assert_hint(check_mass_assignment_prediction(*prediction, server), r"not section 1's deliberately vulnerable")


def test_mass_assignment_prediction_wrong_types_and_placeholders(users):
    assert_hint(check_mass_assignment_prediction("200", True, users), r"predicted_status as a status code, a number")
    assert_hint(check_mass_assignment_prediction(True, True, users), r"predicted_status as a status code")
    assert_hint(check_mass_assignment_prediction(200, "yes", users), r"predicted_admin as True or False")
    assert check_mass_assignment_prediction(..., True, users).status == "not attempted"
    assert check_mass_assignment_prediction(200, ..., users).status == "not attempted"


def test_mass_assignment_prediction_without_a_server_says_so(users):
    users.stop()
    assert_hint(check_mass_assignment_prediction(200, True, users), r"Could not reach the users API.*was stopped")


def test_the_notebook_sends_the_request_the_prediction_checker_judges():
    """The demo cell after the prediction must send MASS_ASSIGNMENT_BODY to MASS_ASSIGNMENT_PATH, or the
    checker would judge another request than the one the student watches.
    (Mutation that failed this: the notebook's demo body without "is_admin".)"""
    cells = json.loads((checkout_path("notebooks") / "09-security.ipynb").read_text(encoding="utf-8"))["cells"]
    sent = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "patch" and node.args:
                path = ast.literal_eval(node.args[0]) if isinstance(node.args[0], ast.Constant) else None
                body = next((ast.literal_eval(k.value) for k in node.keywords if k.arg == "json"), None)
                if path == MASS_ASSIGNMENT_PATH:
                    sent.append(body)
    assert MASS_ASSIGNMENT_BODY in sent, sent
