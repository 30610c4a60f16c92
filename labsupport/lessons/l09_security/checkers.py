"""Checkers for the exercises of 09-security: each one attacks the student's answer as an attacker would.

0. ``check_mass_assignment_prediction`` — section 1's "predict, then run": the status and the
   ``is_admin`` that a valid body with an extra ``is_admin`` field gets from the vulnerable route,
   found by sending that request to the notebook's running users API again.
1. ``steal_admin_hash(client)`` — the attack first: against `make_vulnerable_search_app` over a
   database whose hashes are new for every check, the returned string must be the admin's hash.
2. ``make_search_app(engine)`` — the fix: honest searches (quotes and SQL words in product names
   included) must work; UNION extraction, boolean-blind and error-based oracles, stacked queries
   and comment/case/whitespace variants must not; and the database must never receive the
   search term inside the SQL text (so escaping quotes by hand does not pass).
3. ``make_greeting_app()`` — the name lands in an element and in an attribute: the parsed page
   must keep its shape for every payload and show the name as typed; the Content-Security-Policy
   is parsed (see `webparse`) and must stop inline and foreign scripts.
4. ``issue_token`` and ``accept`` — a CSRF defence for `make_settings_app`: cross-origin forms,
   another session's token, an empty or missing token, look-alike and missing Origin headers
   must all be refused, and the honest same-origin form must still work.
5. ``apply_changes(account, body)`` — no mass assignment: extra fields in many spellings must not
   change anything, a legitimate partial update must change exactly what it names.
"""

from __future__ import annotations

import contextlib
import copy
import html
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import sqlalchemy as sa

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.lessons.l09_security.labapps import (
    PRODUCTS,
    USERS,
    make_settings_app,
    make_vulnerable_search_app,
    password_hashes,
    shop_engine,
)
from labsupport.lessons.l09_security.webparse import PageShape, page_shape, script_policy_problem
from labsupport.servers import Server, ServerError, serve

__all__ = [
    "BLIND_ATTACKS",
    "GREETING_ATTACKS",
    "HONEST_NAMES",
    "HONEST_SEARCHES",
    "SQL_ATTACKS",
    "MASS_ASSIGNMENT_BODY",
    "MASS_ASSIGNMENT_PATH",
    "check_account_update",
    "check_csrf_defence",
    "check_greeting_app",
    "check_mass_assignment_prediction",
    "check_search_app",
    "check_stolen_hash",
]

_ADMIN_EMAIL = next(email for _, email, role in USERS if role == "admin")


# ---------------------------------------------------------------------------------------------
# Serving the student's app quietly


class _QuietCrashes(logging.Filter):
    """Drop the tracebacks uvicorn logs when an attack crashes the checked app: the hint says it."""

    def __init__(self, server_name: str) -> None:
        super().__init__()
        self.server_name = server_name

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").endswith("-" + self.server_name)


@contextlib.contextmanager
def _served(app: Any, name: str) -> Iterator[Server]:
    """Serve `app` under `name`, with its crash tracebacks kept out of the cell; stop it afterwards."""
    try:
        server = serve(app, name=name)
    except ServerError as exc:
        raise Hint(f"Your app did not start: {exc}") from None
    quiet = _QuietCrashes(server.name)
    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(quiet)
    try:
        yield server
    finally:
        server.stop()
        logger.removeFilter(quiet)


def _student_app(builder: Any, *args: Any, what: str) -> Any:
    if not callable(builder):
        raise Hint(f"Pass your function {what} itself (without calling it), not a {type(builder).__name__}.")
    app = builder(*args)
    if app is None or app is ...:
        raise NotAttempted(f"Your {what} returns {app!r}: build the app and return it.")
    if getattr(app, "routes", None) is None:
        raise Hint(f"Your {what} should return the FastAPI app, not a {type(app).__name__}.")
    return app


# ---------------------------------------------------------------------------------------------
# Section 1, predict then run: a valid body that sets is_admin

# The request the notebook sends in section 1: Ada's own, valid name and e-mail, plus a field
# the profile form never shows. (A test checks that the notebook's demo sends this very body.)
MASS_ASSIGNMENT_PATH = "/vulnerable/users/1"
MASS_ASSIGNMENT_BODY = {"name": "Ada", "email": "ada@example.com", "is_admin": True}

_WHY_VALID = (
    "every field of the body passes UserRecord's rules (a name of 1–50 characters, an address with one @), "
    "and is_admin is one of the model's own fields, a bool: nothing in it is invalid. Validation checks "
    "that each value has the right shape; it does not decide who may change which field"
)
_WHY_ADMIN = (
    "the route copies every field of the validated model into the row "
    "(USERS[user_id].update(changes.model_dump())), is_admin included: the row is the input model. "
    "This is mass assignment"
)


@checker(
    "Predict, then run: a valid body that sets is_admin",
    expects="predicted_status as a number (such as 404) and predicted_admin as True or False",
)
def check_mass_assignment_prediction(predicted_status: int, predicted_admin: bool, server: Server) -> str:
    """Send section 1's request to the notebook's users API again, and compare with the prediction.

    The truth is what the running route answers now (its status, and ``is_admin`` in the record
    it returns), never a stored constant. The request changes Ada's row exactly as the notebook's
    next cell does.
    """
    status = expect_type(predicted_status, int, "predicted_status as a status code, a number such as 404")
    admin = expect_type(predicted_admin, bool, "predicted_admin as True or False")
    try:
        response = server.client.patch(MASS_ASSIGNMENT_PATH, json=MASS_ASSIGNMENT_BODY)
    except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: the lab client of a stopped server
        raise Hint(
            f"Could not reach the users API ({type(exc).__name__}: {str(exc)[:160]}). "
            "Run section 1's cells above, in order, then this one."
        ) from None
    try:
        record = response.json()
    except ValueError:
        record = None
    if response.status_code != 200 or not isinstance(record, dict) or "is_admin" not in record:
        raise Hint(
            f"The users API answered {response.status_code} {response.text[:120]} instead of Ada's record: "
            "run section 1's cells above in order, then this one."
        )
    if record["is_admin"] is not True:  # a route that ignores is_admin: not section 1's, nothing to predict
        raise Hint(
            f"The users API answered {record}: that is not section 1's deliberately vulnerable route. "
            "Run section 1's cells above in order, then this one."
        )
    real_status, real_admin = response.status_code, True
    reasons = []
    if status != real_status and status in (401, 403):
        reasons.append(f"a {status} needs code that asks who the client is, and this route has none; {_WHY_VALID}")
    elif status != real_status:
        reasons.append(_WHY_VALID)
    if admin != real_admin:
        reasons.append(_WHY_ADMIN)
    if reasons:
        said = f"PATCH {MASS_ASSIGNMENT_PATH} answered {real_status}, and Ada's is_admin is now {record['is_admin']!r}"
        raise Hint(f"{said}. Why: " + ". And ".join(reasons) + ".")
    return (
        f"Right, sent again just now: {real_status}, and Ada is an administrator. The body is valid, so "
        "validation lets it through, and the route writes every field of the model into the row. "
        "Validation says a value is well-formed, not that this client may set it."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 1: the attack


@checker(
    "Exercise 1: steal the admin's password hash",
    expects="a function steal_admin_hash(client) that returns the hash as a string",
)
def check_stolen_hash(steal_admin_hash: Callable[[httpx.Client], str]) -> str:
    if not callable(steal_admin_hash):
        raise Hint(f"Pass your function steal_admin_hash itself, not a {type(steal_admin_hash).__name__}.")
    engine = shop_engine()
    try:
        hashes = password_hashes(engine)
        with _served(make_vulnerable_search_app(engine), "check-vulnerable-search") as server:
            answers: list[httpx.Response] = []
            server.client.event_hooks["response"].append(answers.append)
            try:
                answer: object = steal_admin_hash(server.client)
            except Exception as exc:  # say what the app answered last: that is what the student must read
                last = answers[-1] if answers else None
                said = f" The app's last answer was {last.status_code} {last.read().decode()[:160]}." if last else ""
                raise Hint(f"Your steal_admin_hash raised {type(exc).__name__}: {str(exc)[:120]}.{said}") from None
    finally:
        engine.dispose()
    if answer is None or answer is ...:
        raise NotAttempted("Your steal_admin_hash returns nothing yet: return the hash you extracted.")
    stolen = expect_type(answer, str, "the hash as a string (such as '$2b$12$...')").strip()
    admin_hash = hashes[_ADMIN_EMAIL]
    if stolen == admin_hash:
        carrier = next((response for response in answers if admin_hash in response.text), None)
        if carrier is None:
            how = "each request asked the database one yes/no question about the hash (a blind injection)"
        elif carrier.status_code >= 500:
            how = "the database's error message, which the app shows, named the value it could not convert"
        else:
            how = "UNION appended rows of the users table, with as many columns as the search selects"
        return (
            f"You read the admin's hash through a product search, in {len(answers)} request(s): your quote "
            f"ended the string literal, and {how}. The hashes are new for every check, so it was no guess."
        )
    for email, other in hashes.items():
        if stolen == other:
            raise Hint(f"That is the hash of {email}, who is not the admin: pick the user whose role is 'admin'.")
    if admin_hash in stolen:
        raise Hint("Your answer contains the admin's hash and more: return just the hash string.")
    raise Hint(
        f"{stolen[:40]!r} is not the admin's hash. The hashes are new for every check, so the value must "
        "come from the app, through the client your function is given. Look at the JSON the search returns: "
        "a UNION must select as many columns as the search does (the error message tells you when it "
        "does not), each of a type its column takes (PostgreSQL refuses text under the number price; NULL "
        "fits any column), and take password_hash from users WHERE role = 'admin'."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2: the search that cannot be injected

# Honest terms and what they must find: a quote, and SQL words, belong in honest searches too.
HONEST_SEARCHES = (
    ("mug", ["Blue mug", "Red mug"]),
    ("O'Brien", ["O'Brien's teapot"]),
    ("Union Jack", ["Union Jack apron"]),
    ("Select", ["Select tea sampler"]),
)


def _union(columns: int, *, template: str = "zzz' UNION SELECT {} FROM users --") -> tuple[str, ...]:
    """One term per column that could carry the secret: it goes in that column, NULL in the others.

    NULL fits a column of any type. SQLite would take the secret under a number too, but PostgreSQL
    refuses a UNION that puts text under a numeric column ("UNION types double precision and text
    cannot be matched"), so the attack tries each column in turn, as an attacker does.
    """
    secret = "email || password_hash"
    return tuple(
        template.format(", ".join(secret if column == at else "NULL" for column in range(columns)))
        for at in range(columns)
    )


def _unions(what: str, counts: tuple[int, ...], **template: str) -> tuple[tuple[str, str], ...]:
    return tuple((what.format(n=n), term) for n in counts for term in _union(n, **template))


# (what the attack is, the search term). A safe app finds nothing for any of them.
SQL_ATTACKS = (
    *_unions("UNION with {n} column(s)", (1, 2, 3, 4)),
    *_unions("UNION in lower case, {n} columns", (2, 3), template="zzz' union select {} from users --"),
    *(
        (what, term.replace(" ", "/**/"))
        for what, term in _unions("UNION with comments for spaces, {n} columns", (2, 3))
    ),
    *(
        (what, term.replace(" ", "\t").replace("SELECT\t", "SELECT\n"))
        for what, term in _unions("UNION with tabs and newlines, {n} columns", (2, 3))
    ),
    *_unions(
        "UNION ALL without a comment, {n} columns", (2, 3), template="zzz%' UNION ALL SELECT {} FROM users WHERE '%'='"
    ),
    *_unions("UNION in double-quoted SQL, {n} columns", (2, 3), template='zzz" UNION SELECT {} FROM users --'),
    *_unions(
        "UNION with both kinds of quote, {n} columns", (2, 3), template="zzz' UNION SELECT {} FROM users -- \""
    ),
    *_unions("UNION behind a decoy quote, {n} columns", (2, 3), template="zzz' ' UNION SELECT {} FROM users --"),
    (
        # PostgreSQL names the value it could not convert, so its error message carries the hash
        # (SQLite converts the text to 0 without a word: there this finds nothing).
        "error-based extraction (a failed conversion shows the value in the error message)",
        "zzz' AND 1 = CAST((SELECT password_hash FROM users WHERE role = 'admin') AS INTEGER) --",
    ),
    ("a tautology", "' OR 1=1 --"),
    ("a tautology without a comment", "%' OR '1%'='1"),
    ("a comment that cuts the query", "mug'--"),
    ("a stacked query", "zzz'; UPDATE users SET password_hash = 'pwned'; --"),
    ("a stray quote", "mug'"),
    ("a stray double quote", 'mug"'),
)

# (what the attack is, a term whose condition is true, the same with a false condition). When the
# two answers differ the app is an oracle: an attacker asks yes/no questions about the database.
BLIND_ATTACKS = (
    ("boolean-blind", "mug' AND 1=1 --", "mug' AND 1=2 --"),
    (
        "boolean-blind on the admin's hash",
        "mug' AND (SELECT substr(password_hash, 1, 1) FROM users WHERE role = 'admin') = '$' --",
        "mug' AND (SELECT substr(password_hash, 1, 1) FROM users WHERE role = 'admin') = '#' --",
    ),
    ("boolean-blind, lower case, comments for spaces", "mug'/**/and/**/1=1/**/--", "mug'/**/and/**/1=2/**/--"),
    ("boolean-blind without a comment", "mug%' AND '1%'='1", "mug%' AND '1%'='2"),
    ("boolean-blind in double-quoted SQL", 'mug" AND 1=1 --', 'mug" AND 1=2 --'),
    ("boolean-blind inside instr(...)", "mug') > 0 AND 1=1 --", "mug') > 0 AND 1=2 --"),
    (
        "error-based (an integer overflow only when the condition is true)",
        "mug' AND 1 = CASE WHEN 1=1 THEN abs(-9223372036854775808) ELSE 1 END --",
        "mug' AND 1 = CASE WHEN 1=2 THEN abs(-9223372036854775808) ELSE 1 END --",
    ),
)

# Parts of the honest and attack terms that never occur in SQL an app writes itself.
_TERM_MARKERS = ("Brien", "zzz", "Union Jack")
_BIND = "Send the term as a bound parameter: text(\"... LIKE '%' || :q || '%'\") with {'q': q}."


def _sentence(what: str) -> str:
    return what[:1].upper() + what[1:]


def _names(response: httpx.Response) -> list[str] | None:
    """The sorted product names of a search answer, or None if it is not a list of objects with a name."""
    try:
        rows = response.json()
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, dict) and "name" in row for row in rows):
        return None
    return sorted(str(row["name"]) for row in rows)


def _search(client: httpx.Client, term: str) -> httpx.Response:
    return client.get("/search", params={"q": term})


def _check_search_shape(client: httpx.Client) -> None:
    term, expected = HONEST_SEARCHES[0]
    response = _search(client, term)
    if response.status_code == 404:
        raise Hint(f"GET /search?q={term} answered 404: add the route @app.get('/search').")
    found = _names(response) if response.status_code == 200 else None
    if found != expected:
        raise Hint(
            f"Searching {term!r} should answer 200 with a list of objects with a 'name' — {expected} — but got "
            f"{response.status_code} {response.text[:120]}. Keep the wildcards in the SQL: "
            "LIKE '%' || :q || '%' finds the names that contain q."
        )


def _check_honest_searches(client: httpx.Client) -> None:
    for term, expected in HONEST_SEARCHES[1:]:
        response = _search(client, term)
        if response.status_code >= 500:
            raise Hint(
                f"The honest search q={term!r} crashed your app ({response.status_code}): the quote ended a "
                f"string in your SQL, so the term is still pasted into it. {_BIND}"
            )
        found = _names(response) if response.status_code == 200 else None
        if found == expected:
            continue
        why = (
            "a quote is part of honest names: don't strip, refuse or hide it (a try/except that swallows the error)"
            if "'" in term
            else "a deny-list of SQL words refuses honest searches, and attackers get round it (lower case, comments)"
        )
        raise Hint(
            f"Searching {term!r} should find {expected}, got {response.status_code} {response.text[:100]}: "
            f"{why}. {_BIND}"
        )


def _check_attacks(client: httpx.Client, engine: sa.Engine, hashes: dict[str, str]) -> None:
    """The worst first: leaks and writes, then yes/no oracles, then broken honest searches, crashes, extra rows."""
    secrets_ = [*hashes, *(hashed[7:20] for hashed in hashes.values())]  # e-mails, and a piece of each hash
    answers = [(what, term, _search(client, term)) for what, term in SQL_ATTACKS]
    for what, term, response in answers:
        if any(secret in response.text for secret in secrets_):
            raise Hint(
                f"{_sentence(what)} still leaks the users table: q={term!r} returned e-mails or password "
                f"hashes. The term still changes your SQL. {_BIND}"
            )
    if password_hashes(engine) != hashes:
        raise Hint(
            "An attack changed the users table: your app ran a second statement (a stacked query) that the "
            f"term smuggled in. {_BIND}"
        )
    for what, true_term, false_term in BLIND_ATTACKS:
        true_answer, false_answer = _search(client, true_term), _search(client, false_term)
        if (true_answer.status_code, true_answer.text) != (false_answer.status_code, false_answer.text):
            raise Hint(
                f"A {what} injection still works: q={true_term!r} (a true condition) and q={false_term!r} (a "
                f"false one) get different answers ({true_answer.status_code} vs {false_answer.status_code}, "
                f"{true_answer.text[:40]!r} vs {false_answer.text[:40]!r}). One yes/no question per request is "
                f"enough to read the admin's hash one character at a time. {_BIND}"
            )
    _check_honest_searches(client)
    for what, term, response in answers:
        if response.status_code >= 500:
            raise Hint(
                f"{_sentence(what)} makes your server fail ({response.status_code}) with q={term!r}: the "
                f"quote still ends a string in your SQL, so the term is still pasted in. {_BIND}"
            )
        found = _names(response) if response.status_code == 200 else []
        if found:
            everything = " — every product" if len(found) == len(PRODUCTS) else ""
            raise Hint(
                f"{_sentence(what)} still works: q={term!r} returned {len(found)} product(s){everything}, "
                f"although no product name contains that text. The term is still part of your SQL. {_BIND}"
            )


def _pasted(statements: list[str]) -> str | None:
    for statement in statements:
        for marker in _TERM_MARKERS:
            at = statement.find(marker)
            if at >= 0:
                return statement[max(0, at - 30) : at + 30]
    return None


@checker(
    "Exercise 2: a search that cannot be injected",
    expects="a function make_search_app(engine) returning a FastAPI app",
)
def check_search_app(make_search_app: Callable[[sa.Engine], Any]) -> str:
    statements: list[str] = []
    engine = shop_engine(record=statements)
    try:
        hashes = password_hashes(engine)
        app = _student_app(make_search_app, engine, what="make_search_app")
        with _served(app, "check-make_search_app") as server:
            _check_search_shape(server.client)
            _check_attacks(server.client, engine, hashes)
        pasted = _pasted(statements)
        if pasted is not None:
            raise Hint(
                f"No attack got through, but the database received the search term inside the SQL text "
                f"(…{pasted}…): it is still pasted into the query. Escaping or stripping quotes by hand and "
                f"blocking words each fail on some case an attacker finds (another quote character, another "
                f"database, an encoding). {_BIND}"
            )
    finally:
        engine.dispose()
    attacks = len(SQL_ATTACKS) + 2 * len(BLIND_ATTACKS)
    return (
        f"Honest searches with quotes and SQL words work, and all {attacks} attack requests (UNION, blind, "
        "error-based, stacked) find nothing: the term reaches the database as a bound value, never as SQL, "
        "so no character in it can change the query."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 3: the greeting page without XSS

# Element context, attribute context (double-, single- and un-quoted), and filter bypasses.
GREETING_ATTACKS = (
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '"><svg onload=alert(1)>',
    '" autofocus onfocus="alert(1)',
    "' autofocus onfocus='alert(1)",
    "x autofocus onfocus=alert(1)",
)
# Honest names with the characters an escape must keep: they must come back exactly as typed.
HONEST_NAMES = ("O'Brien", 'Ada "the Countess" Lovelace', "Tom & Jerry", "&lt;b&gt; is how you write <b>")

_ESCAPE = 'Escape the name with html.escape(name) everywhere you put it, in the text and in the value="..."'


def _added(page: PageShape, honest: PageShape) -> tuple[list[str], list[str]]:
    """The elements and the attributes that `page` has and the honest page has not."""
    new_tags = Counter(tag for tag, _ in page.tags) - Counter(tag for tag, _ in honest.tags)
    new_attrs = Counter(n for _, attrs in page.tags for n, _ in attrs) - Counter(
        n for _, attrs in honest.tags for n, _ in attrs
    )
    return [f"a <{tag}> element" for tag in new_tags], [f"an attribute {name}=" for name in new_attrs]


def _check_greeting_structure(name: str, response: httpx.Response, honest: PageShape) -> None:
    if response.status_code != 200:
        raise Hint(f"GET /greet?name={name!r} answered {response.status_code}: every name must get its page (200).")
    page = page_shape(response.text)
    if page.skeleton != honest.skeleton:
        elements, attributes = _added(page, honest)
        if elements:
            raise Hint(
                f"The name {name!r} comes back as live HTML: the page now has {', '.join(elements + attributes)}, "
                f"which a browser runs. {_ESCAPE}."
            )
        if attributes:
            raise Hint(
                f"The name {name!r} broke out of the value attribute and added {', '.join(attributes)}: "
                "in an attribute a quote (or, for an unquoted value, a space) ends the value. "
                'Write value="..." in double quotes and escape quotes as well as < > &: '
                "html.escape(name) does (quote=True is its default)."
            )
        raise Hint(
            f"The name {name!r} changed the structure of your page (tags or attributes went missing). {_ESCAPE}."
        )


def _check_greeting_content(name: str, response: httpx.Response, slots: list[int]) -> None:
    page = page_shape(response.text)
    if name not in "".join(page.text):
        raise Hint(
            f"The name {name!r} is not shown as typed: the page's text reads {''.join(page.text)[:80]!r}. Don't "
            "drop or filter characters — escape them, so the browser shows them as text (html.escape also "
            "turns & into &amp;, so a typed '&lt;' stays '&lt;')."
        )
    values = page.attribute_values()
    for slot in slots:
        if values[slot] != name:
            raise Hint(
                f"The form's value attribute should hold the name {name!r} as typed, but the browser reads "
                f"{values[slot]!r}. {_ESCAPE}."
            )


@checker(
    "Exercise 3: a greeting page without XSS",
    expects="a function make_greeting_app() returning a FastAPI app",
)
def check_greeting_app(make_greeting_app: Callable[[], Any]) -> str:
    app = _student_app(make_greeting_app, what="make_greeting_app")
    with _served(app, "check-make_greeting_app") as server:
        client = server.client
        first = client.get("/greet", params={"name": "Ada"})
        if first.status_code != 200:
            raise Hint(f"GET /greet?name=Ada answered {first.status_code}; add the route @app.get('/greet').")
        if not first.headers.get("content-type", "").startswith("text/html"):
            raise Hint("The page should be HTML: return an HTMLResponse.")
        honest = page_shape(first.text)
        if "Ada" not in "".join(honest.text):
            raise Hint("GET /greet?name=Ada should greet Ada in the page's text, e.g. <p>Hello, Ada!</p>.")
        slots = [index for index, value in enumerate(honest.attribute_values()) if value == "Ada"]
        if not slots:
            raise Hint(
                "The page should also hold a form to change the name, filled in with it: "
                '<input name="name" value="Ada">. The name goes into an attribute as well as into the text.'
            )
        responses = {name: client.get("/greet", params={"name": name}) for name in (*GREETING_ATTACKS, *HONEST_NAMES)}
    for name, response in responses.items():
        _check_greeting_structure(name, response, honest)
    for name, response in responses.items():
        _check_greeting_content(name, response, slots)
    for response in (first, *responses.values()):
        policies = response.headers.get_list("content-security-policy")
        if not policies and response.headers.get("content-security-policy-report-only"):
            raise Hint(
                "Content-Security-Policy-Report-Only only reports violations, it blocks nothing: send the policy "
                "in a Content-Security-Policy header."
            )
        problem = script_policy_problem(policies)
        if problem is not None:
            shown = "; ".join(policies) or "(none)"
            raise Hint(
                f"Escaping works; now the second line of defence. Your Content-Security-Policy {shown!r}: "
                f"{problem}. Use e.g. default-src 'self' (scripts only from your own site, never inline)."
            )
    return (
        f"All {len(GREETING_ATTACKS)} payloads and {len(HONEST_NAMES)} honest names come back as text in the "
        "paragraph and as the exact value of the attribute — the parsed page never gained a tag or an attribute — "
        "and the Content-Security-Policy would stop an inline script even if an escape were missed."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 4: CSRF

_EVIL = "http://evil.example"
_ATTACKER_EMAIL = "mallory@evil.example"


def _login(client: httpx.Client, user: str) -> str:
    session_id = client.post("/login", data={"user": user}).cookies["session"]
    client.cookies.clear()  # every request below names its session explicitly, like one browser each
    return session_id


def _form_token(client: httpx.Client, session_id: str) -> str:
    response = client.get("/settings", headers={"Cookie": f"session={session_id}"})
    if response.status_code != 200:
        raise Hint(f"GET /settings failed: {response.json().get('detail', response.text)[:200]}")
    match = re.search(r'name="csrf_token" value="([^"]*)"', response.text)
    return html.unescape(match.group(1)) if match else ""


def _post_email(
    client: httpx.Client, session_id: str, email: str, *, origin: str | None, token: str | None
) -> httpx.Response:
    """Post the form as a browser would: the Origin, and a Referer (the page) when there is an origin to name."""
    headers = {"Cookie": f"session={session_id}"}
    if origin is not None:
        headers["Origin"] = origin
        if origin != "null":
            headers["Referer"] = f"{origin}/settings"
    data = {"email": email} if token is None else {"email": email, "csrf_token": token}
    return client.post("/settings/email", data=data, headers=headers)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))[:200]
    except ValueError:
        return response.text[:200]


@checker(
    "Exercise 4: a form that other sites cannot submit",
    expects="two functions: issue_token(session_id) -> str and accept(request, session_id, token) -> bool",
)
def check_csrf_defence(issue_token: Callable[[str], str], accept: Callable[..., bool]) -> str:
    for fn, what in ((issue_token, "issue_token"), (accept, "accept")):
        if not callable(fn):
            raise Hint(f"Pass your function {what} itself (without calling it), not a {type(fn).__name__}.")
    app = make_settings_app(issue_token, accept)
    with _served(app, "check-csrf-settings") as server:
        client, own = server.client, server.url
        port = int(own.rsplit(":", 1)[1])
        sessions = {user: _login(client, user) for user in ("ada", "ben", "mallory")}
        for user in ("ada", "ben"):
            token = _form_token(client, sessions[user])
            if token and token == sessions[user]:
                raise Hint(
                    "Your token is the session id itself: the page now shows the cookie that HttpOnly was hiding. "
                    "Derive the token from the session id with a secret key (hmac), or store a random one per session."
                )
            honest = _post_email(client, sessions[user], f"{user}@new.example", origin=own, token=token)
            if honest.status_code != 200 or app.state.emails[user] != f"{user}@new.example":
                raise Hint(
                    f"{user}'s own form, submitted from the site itself (Origin: {own}) with the token of its page, "
                    f"was refused: {honest.status_code} {_detail(honest)}. accept must return True for it."
                )
        mallory_token = _form_token(client, sessions["mallory"])
        host = own.split("://", 1)[1]
        token_advice = (
            "the token must belong to this session (an hmac of the session id with a secret key, or a random "
            "token stored per session), be present, and be compared exactly (hmac.compare_digest)"
        )
        origin_advice = (
            "if you check the Origin header, compare it for equality with the site's own origin "
            "(str(request.base_url) without the final /) and refuse a request that has none"
        )
        attacks: tuple[tuple[str, str | None, str | None, str], ...] = (
            ("a form on another site, without a token", _EVIL, None, token_advice),
            ("a form on another site, with an empty token", _EVIL, "", token_advice),
            (
                "a form on another site, carrying the attacker's own token (from another session)",
                _EVIL,
                mallory_token,
                token_advice,
            ),
            (
                f"a form on another origin of the same host (port {port + 1})",
                f"http://127.0.0.1:{port + 1}",
                mallory_token,
                origin_advice,
            ),
            ("a form whose Origin starts with the site's origin", own + ".evil.example", mallory_token, origin_advice),
            ("a form whose Origin ends with the site's host", f"http://evil.{host}", mallory_token, origin_advice),
            ("a sandboxed page (Origin: null)", "null", mallory_token, origin_advice),
            (
                "a request without an Origin header (an old browser, or a proxy that drops it) and without a token",
                None,
                None,
                origin_advice,
            ),
            ("a request without an Origin header, with the attacker's token", None, mallory_token, origin_advice),
        )
        for what, attack_origin, attack_token, advice in attacks:
            before = app.state.emails["ada"]
            forged = _post_email(client, sessions["ada"], _ATTACKER_EMAIL, origin=attack_origin, token=attack_token)
            if forged.status_code >= 500:
                raise Hint(
                    f"Against {what}, your defence crashed instead of refusing ({_detail(forged)}): return False."
                )
            if app.state.emails["ada"] != before:
                raise Hint(f"Ada's e-mail was changed by {what}: {advice}.")
    return (
        f"All {len(attacks)} forged requests were refused and the honest forms went through: what the attacker's "
        "page cannot do is read the site's pages, so a per-session token (or the browser-set Origin) is "
        "something it cannot supply, while the cookie is something the browser adds by itself."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5: mass assignment

CUSTOMER = {
    "id": 7,
    "name": "Ada",
    "email": "ada@example.com",
    "newsletter": False,
    "role": "customer",
    "is_admin": False,
    "credit": 0,
}
ADMIN = {
    "id": 1,
    "name": "Root",
    "email": "root@example.com",
    "newsletter": True,
    "role": "admin",
    "is_admin": True,
    "credit": 100,
}
ALLOWED = ("name", "email", "newsletter")

_LEGITIMATE = (
    (CUSTOMER, {"name": "Ada L."}),
    (CUSTOMER, {"newsletter": True}),
    (CUSTOMER, {"email": "ada@new.example", "name": "Ada Lovelace"}),
    (ADMIN, {"name": "Root Admin"}),
    (ADMIN, {"newsletter": False}),
)
# Sent to the customer's account: none may change anything but an allowed field named exactly.
_SNEAKY = (
    {"is_admin": True},
    {"role": "admin"},
    {"id": 1},
    {"credit": 1_000_000},
    {"name": "Ada", "is_admin": True},
    {"name": "Ada", "role": "admin", "credit": 1_000_000, "id": 1},
    {"IS_ADMIN": True},
    {"Is_Admin": True},
    {"isAdmin": True},
    {"is-admin": True},
    {"is_admin ": True},
    {"ROLE": "admin"},
    {"Role": "admin"},
    {"profile": {"is_admin": True}},
    {"is_admin": "true"},
    {"newsletter": True, "__class__": "Admin", "is_admin": 1},
)
# Bad values for allowed fields: refused, or nothing changes.
_INVALID = ({"name": ""}, {"email": "not-an-email"}, {"newsletter": "maybe"}, {"name": "x" * 51})


def _apply(apply_changes: Callable, account: dict, body: dict) -> tuple[dict | None, dict, Exception | None]:
    """(what apply_changes returned, the account it was given afterwards, what it raised)."""
    given = copy.deepcopy(account)
    try:
        result = apply_changes(given, copy.deepcopy(body))
    except Exception as exc:  # refusing is a right answer for a sneaky body
        return None, given, exc
    if result is ...:
        raise NotAttempted("Your apply_changes returns ... : return the updated account.")
    if not isinstance(result, dict):
        raise Hint(f"apply_changes should return the updated account (a dict), not {type(result).__name__}.")
    return result, given, None


def _describe(error: Exception) -> str:
    """An exception in one line; a pydantic ValidationError as its list of (field: problem)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        with contextlib.suppress(Exception):
            problems = "; ".join(f"{problem['loc'][0]}: {problem['msg']}" for problem in errors())
            return f"{type(error).__name__} ({problems})"
    return f"{type(error).__name__}: {str(error)[:150]}"


def _changes(before: dict, after: dict) -> dict[str, tuple[Any, Any]]:
    keys = [*before, *(key for key in after if key not in before)]
    return {
        key: (before.get(key, "(absent)"), after.get(key, "(absent)"))
        for key in keys
        if before.get(key, ...) != after.get(key, ...)
    }


@checker(
    "Exercise 5: an update that cannot promote you",
    expects="a function apply_changes(account, body) returning the updated account",
)
def check_account_update(apply_changes: Callable[[dict, dict], dict]) -> str:
    if not callable(apply_changes):
        raise Hint(f"Pass your function apply_changes itself, not a {type(apply_changes).__name__}.")
    body: dict[str, Any]
    for account, body in _LEGITIMATE:
        result, _, error = _apply(apply_changes, account, body)
        if error is not None:
            raise Hint(
                f"The legitimate update {body} raised {_describe(error)}. A partial update "
                "names only some fields: make every field optional in the input model."
            )
        assert result is not None  # _apply returns a dict whenever nothing was raised
        wrong = _changes({**account, **body}, result)
        if wrong:
            key, (expected, got) = next(iter(wrong.items()))
            why = (
                "the fields the body did not name must keep their values: dump the model with exclude_unset=True "
                "(defaults, or None for fields not sent, would overwrite them)"
                if key not in body
                else "apply the value the body sent"
            )
            raise Hint(
                f"The legitimate update {body} of {account['name']}'s account left {key}={got!r} instead of "
                f"{expected!r}: {why}."
            )
    for body in (*_SNEAKY, *_INVALID):
        result, given, error = _apply(apply_changes, CUSTOMER, body)
        for after in (given, result) if result is not None else (given,):
            changed = _changes(CUSTOMER, after)
            bad = {key: values for key, values in changed.items() if key not in ALLOWED or key not in body}
            if bad:
                key, (old, new) = next(iter(bad.items()))
                if key in body or key not in CUSTOMER:
                    why = (
                        f"the client set {key} itself: list only the fields a user may change ({', '.join(ALLOWED)}) "
                        "in the input model, and refuse or drop the rest (extra='forbid' or 'ignore'); never copy "
                        "the body into the account as it is"
                    )
                else:
                    why = (
                        "a key that is not exactly that field's name reached it (matched case-insensitively or "
                        "after renaming): compare field names exactly, as a pydantic model does"
                    )
                raise Hint(f"The body {body} changed {key} from {old!r} to {new!r}: {why}.")
            if body in _INVALID and changed:
                key, (old, new) = next(iter(changed.items()))
                raise Hint(
                    f"The body {body} set {key} to {new!r}: validate the values too (name 1–50 characters, an "
                    "e-mail address, a boolean) — declare them in a pydantic model with Field(...) constraints."
                )
    return (
        f"{len(_SNEAKY)} bodies with extra fields in many spellings changed nothing they should not, and "
        f"{len(_LEGITIMATE)} partial updates changed exactly what they named: the input model lists what a "
        "client may set, so anything else cannot reach the account."
    )
