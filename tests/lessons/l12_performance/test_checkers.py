"""Tests for labsupport.lessons.l12_performance.checkers: each checker against its corpus of wrong answers
(what students write, and what gets past a careless check: each must fail with the hint for that mistake)
and of right answers (each must pass), plus malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload
from starlette.concurrency import run_in_threadpool

from labsupport.databases import redis_client, sql_engine
from labsupport.lessons.l12_performance.checkers import (
    check_book_cache,
    check_concurrent_endpoint,
    check_order_report,
    check_query_count_prediction,
)
from labsupport.lessons.l12_performance.orders import fill_orders
from labsupport.servers import running_servers
from lessons.corpus import assert_hint, ids
from lessons.l12_performance.models import Base, Order

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]


# --- predict: the statements of a lazy loop ----------------------------------------------------------


def test_prediction_right_answer_passes():
    """Mutation that failed this: the truth counted without the first SELECT (`queries.count - 1`)."""
    result = check_query_count_prediction(51, Order)
    assert result.passed, result
    assert "1 + 50" in result.message and "N+1" in result.message


WRONG_PREDICTIONS = [
    ("one join", 1, r"sent 51 statements, not 1: the ORM does not join"),
    ("what selectinload sends", 2, r"Two is what `selectinload` sends"),
    ("one per order, forgetting the first", 50, r"one per order, plus the first SELECT"),
    ("one per line", 75, r"not one per line \(75 lines\)"),
    ("one per line plus one", 76, r"not one per line"),
    ("zero: the session caches", 0, r"sent 51 statements\. One SELECT"),
    ("two per order", 101, r"sent 51 statements\. One SELECT"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), WRONG_PREDICTIONS, ids=ids(WRONG_PREDICTIONS))
def test_prediction_wrong_answers_get_their_hint(name, predicted, hint):
    assert_hint(check_query_count_prediction(predicted, Order), hint)


def test_prediction_finds_the_truth_by_running_it():
    """The count comes from running the loop, so 10 orders make 11 the right answer."""
    assert check_query_count_prediction(11, Order, orders=10).passed
    assert_hint(check_query_count_prediction(51, Order, orders=10), r"sent 11 statements")


@pytest.mark.parametrize("predicted", ["51", 51.0, True, None])
def test_prediction_wrong_type_gets_a_plain_hint(predicted):
    assert_hint(check_query_count_prediction(predicted, Order), r"Expected a whole number of SQL statements")


def test_prediction_placeholder_is_not_attempted():
    assert check_query_count_prediction(..., Order).status == "not attempted"


@pytest.mark.parametrize("order", ["Order", Base, 42])
def test_prediction_needs_the_order_class(order):
    assert_hint(check_query_count_prediction(51, order), r"Order")


# --- exercise 1: a report without an N+1 ---------------------------------------------------------------


def _row(order, customer, lines):
    return {"order": order.id if hasattr(order, "id") else order, "customer": customer,
            "items": sum(line.quantity for line in lines),
            "total_cents": sum(line.quantity * line.unit_price_cents for line in lines)}


def report_with(*options, unique=False):
    def order_report(session):
        result = session.scalars(sa.select(Order).options(*options).order_by(Order.id))
        orders = result.unique() if unique else result
        return [_row(order, order.customer.name, order.lines) for order in orders]

    return order_report


REPORT_SQL = sa.text(
    "SELECT o.id AS order_id, c.name AS customer, COALESCE(SUM(l.quantity), 0) AS items, "
    "COALESCE(SUM(l.quantity * l.unit_price_cents), 0) AS total FROM orders o "
    "JOIN customers c ON c.id = o.customer_id LEFT JOIN order_lines l ON l.order_id = o.id "
    "GROUP BY o.id, c.name ORDER BY o.id"
)


def one_sql_query(session):
    return [{"order": r.order_id, "customer": r.customer, "items": r.items, "total_cents": r.total}
            for r in session.execute(REPORT_SQL)]


def two_core_queries(session):
    tables = Base.metadata.tables
    orders = session.execute(
        sa.select(tables["orders"].c.id, tables["customers"].c.name)
        .join(tables["customers"]).order_by(tables["orders"].c.id)
    ).all()
    lines: dict[int, list] = {}
    for line in session.execute(sa.select(tables["order_lines"])):
        lines.setdefault(line.order_id, []).append(line)
    return [_row(order_id, name, lines.get(order_id, [])) for order_id, name in orders]


RIGHT_REPORTS = [
    ("selectinload lines, joinedload customer", report_with(selectinload(Order.lines), joinedload(Order.customer))),
    ("selectinload both", report_with(selectinload(Order.lines), selectinload(Order.customer))),
    ("joinedload both, with unique()", report_with(joinedload(Order.lines), joinedload(Order.customer), unique=True)),
    ("subqueryload lines", report_with(subqueryload(Order.lines), joinedload(Order.customer))),
    ("one SQL query, LEFT JOIN and GROUP BY", one_sql_query),
    ("two Core queries, put together in Python", two_core_queries),
]


@pytest.mark.parametrize(("name", "order_report"), RIGHT_REPORTS, ids=ids(RIGHT_REPORTS))
def test_order_report_right_answers_pass(name, order_report):
    """Mutation that failed this: MAX_REPORT_STATEMENTS set to 1 (the two-query answers failed)."""
    result = check_order_report(order_report, Order)
    assert result.passed, result
    assert "Why it worked" in result.message


def inner_join_sql(session):
    rows = session.execute(sa.text(
        "SELECT o.id, c.name, SUM(l.quantity) AS items, SUM(l.quantity * l.unit_price_cents) AS total FROM orders o "
        "JOIN customers c ON c.id = o.customer_id JOIN order_lines l ON l.order_id = o.id GROUP BY o.id, c.name "
        "ORDER BY o.id"))
    return [{"order": r.id, "customer": r.name, "items": r.items, "total_cents": r.total} for r in rows]


def flat_left_join(session):
    rows = session.execute(sa.text(
        "SELECT o.id, c.name, COALESCE(l.quantity, 0) AS q, COALESCE(l.unit_price_cents, 0) AS p FROM orders o "
        "JOIN customers c ON c.id = o.customer_id LEFT JOIN order_lines l ON l.order_id = o.id ORDER BY o.id"))
    return [{"order": r.id, "customer": r.name, "items": r.q, "total_cents": r.q * r.p} for r in rows]


def customer_id_not_name(session):
    query = sa.select(Order).options(selectinload(Order.lines)).order_by(Order.id)
    return [{**_row(order, order.customer_id, order.lines)} for order in session.scalars(query)]


def items_counts_lines(session):
    query = sa.select(Order).options(selectinload(Order.lines), joinedload(Order.customer)).order_by(Order.id)
    return [{**_row(order, order.customer.name, order.lines), "items": len(order.lines)}
            for order in session.scalars(query)]


def total_without_quantity(session):
    query = sa.select(Order).options(selectinload(Order.lines), joinedload(Order.customer)).order_by(Order.id)
    return [{**_row(order, order.customer.name, order.lines),
             "total_cents": sum(line.unit_price_cents for line in order.lines)} for order in session.scalars(query)]


def ordered_by_customer(session):
    query = sa.select(Order).options(selectinload(Order.lines), joinedload(Order.customer)).order_by(Order.customer_id)
    return [_row(order, order.customer.name, order.lines) for order in session.scalars(query)]


_MEMO: dict[str, list] = {}


def memoised(session):
    """Computes once, then answers every later call from memory (fast, and wrong on new data)."""
    if "report" not in _MEMO:
        _MEMO["report"] = report_with(selectinload(Order.lines), joinedload(Order.customer))(session)
    return _MEMO["report"]


_OTHER = {}


def own_session(session):
    """Ignores the session it is given and reads another database (the notebook's, say)."""
    if "engine" not in _OTHER:
        _OTHER["engine"] = sql_engine()
        fill_orders(_OTHER["engine"], Base.metadata, 8, seed=99)
    with Session(_OTHER["engine"]) as mine:
        return report_with(selectinload(Order.lines), joinedload(Order.customer))(mine)


def orm_objects(session):
    return list(session.scalars(sa.select(Order).options(selectinload(Order.lines)).order_by(Order.id)))


def a_generator(session):
    query = sa.select(Order).options(selectinload(Order.lines), joinedload(Order.customer)).order_by(Order.id)
    return (_row(order, order.customer.name, order.lines) for order in session.scalars(query))


def renamed_keys(session):
    query = sa.select(Order).options(selectinload(Order.lines), joinedload(Order.customer)).order_by(Order.id)
    return [{"id": r["order"], "customer": r["customer"], "items": r["items"], "total": r["total_cents"]}
            for r in (_row(order, order.customer.name, order.lines) for order in session.scalars(query))]


def raw_cursor_n_plus_one(session):
    """An N+1 through a DB-API cursor, out of SQLAlchemy's sight."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    rows = []
    for order_id, name in cursor.execute(
            "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id").fetchall():
        lines = cursor.execute(f"SELECT quantity, unit_price_cents FROM order_lines WHERE order_id = {mark}",
                               (order_id,)).fetchall()
        rows.append({"order": order_id, "customer": name, "items": sum(q for q, _ in lines),
                     "total_cents": sum(q * p for q, p in lines)})
    return rows


WRONG_REPORTS = [
    ("the slow report as given", report_with(), r"grows with the orders.*order\.lines and order\.customer"),
    ("selectinload lines, customer lazy", report_with(selectinload(Order.lines)), r"at a time: order\.customer\."),
    ("joinedload customer, lines still lazy", report_with(joinedload(Order.customer)), r"at a time: order\.lines\."),
    ("selectinload on the customer only", report_with(selectinload(Order.customer)), r"order\.lines\."),
    ("joinedload of lines without unique()", report_with(joinedload(Order.lines), joinedload(Order.customer)),
     r"call \.unique\(\)"),
    ("inner join drops orders without lines", inner_join_sql, r"no lines.*LEFT JOIN"),
    ("left join without grouping: a row per line", flat_left_join, r"appears more than once"),
    ("customer id instead of name", customer_id_not_name, r"customer should be"),
    ("items counts the lines, not the copies", items_counts_lines, r"items should be .*sum of the lines' quantities"),
    ("total forgets the quantity", total_without_quantity, r"total_cents should be .*quantity × unit_price_cents"),
    ("ordered by customer", ordered_by_customer, r"ordered by order id"),
    ("memoised across calls", memoised, r"For 24 orders, order_report sent no SQL.*kept from an earlier call"),
    ("reads another database", own_session, r"no SQL through the session it was given"),
    ("ORM objects instead of dicts", orm_objects, r"should be a dict"),
    ("a generator instead of a list", a_generator, r"should return a list"),
    ("other key names", renamed_keys, r"exactly the keys"),
    ("an N+1 through a raw cursor, out of the counter's sight", raw_cursor_n_plus_one, r"bypasses it"),
]


@pytest.mark.parametrize(("name", "order_report", "hint"), WRONG_REPORTS, ids=ids(WRONG_REPORTS))
def test_order_report_wrong_answers_get_their_hint(name, order_report, hint):
    """Mutation that failed this: the check for statements out of SQLAlchemy's sight removed (`if False:`):
    the raw-cursor N+1 passed."""
    _MEMO.clear()
    assert_hint(check_order_report(order_report, Order), hint)


def test_order_report_placeholder_and_malformed():
    def order_report(session):
        """Student build."""
        return ...

    assert check_order_report(order_report, Order).status == "not attempted"
    assert_hint(check_order_report("report", Order), r"should be a function")
    assert_hint(check_order_report(one_sql_query, "Order"), r"Pass the mapped class")


# --- exercise 2: cache-aside with invalidation ------------------------------------------------------


def query_price(engine, book_id):
    time.sleep(0.02)
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT price_cents FROM books WHERE id = :id"), {"id": book_id}).scalar_one()


def update_price(engine, book_id, cents):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE books SET price_cents = :cents WHERE id = :id"), {"cents": cents, "id": book_id})


class Solution:
    """The notebook's solution: delete after the committed write."""

    def __init__(self, engine, cache):
        self.engine, self.cache = engine, cache

    def key(self, book_id):
        return f"book:{book_id}:price"

    def price(self, book_id):
        stored = self.cache.get(self.key(book_id))
        if stored is not None:
            return int(stored)
        price = query_price(self.engine, book_id)
        self.cache.set(self.key(book_id), price, ex=60)
        return price

    def set_price(self, book_id, cents):
        update_price(self.engine, book_id, cents)
        self.cache.delete(self.key(book_id))


class JsonValues(Solution):
    def price(self, book_id):
        stored = self.cache.get(f"price:{book_id}")
        if stored is not None:
            return json.loads(stored)["cents"]
        price = query_price(self.engine, book_id)
        self.cache.set(f"price:{book_id}", json.dumps({"cents": price}), ex=30)
        return price

    def set_price(self, book_id, cents):
        update_price(self.engine, book_id, cents)
        self.cache.delete(f"price:{book_id}")


class WriteThroughAfterCommit(Solution):
    def set_price(self, book_id, cents):
        update_price(self.engine, book_id, cents)
        self.cache.set(self.key(book_id), cents, ex=60)


class DeleteTwice(Solution):
    def set_price(self, book_id, cents):
        self.cache.delete(self.key(book_id))
        update_price(self.engine, book_id, cents)
        self.cache.delete(self.key(book_id))


class OwnTransaction(Solution):
    def set_price(self, book_id, cents):
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE books SET price_cents = :c WHERE id = :id"), {"c": cents, "id": book_id})
        self.cache.delete(self.key(book_id))


RIGHT_CACHES = [
    ("the notebook's solution", Solution),
    ("JSON values, another key, a TTL of 30 s", JsonValues),
    ("write-through after the commit", WriteThroughAfterCommit),
    ("delete before and after", DeleteTwice),
    ("own transaction, delete after the block", OwnTransaction),
]


@pytest.mark.parametrize(("name", "cache_class"), RIGHT_CACHES, ids=ids(RIGHT_CACHES))
def test_book_cache_right_answers_pass(name, cache_class):
    """Mutation that failed this: MIN_TTL_MS raised to 40 s (the answer with a 30 s TTL failed)."""
    result = check_book_cache(cache_class)
    assert result.passed, result
    assert "Why it worked" in result.message


class NoCache(Solution):
    def price(self, book_id):
        return query_price(self.engine, book_id)


class HiddenQueries(Solution):
    """No cache at all, its reads hidden from the statement counter (a DB-API cursor); keys written for show."""

    def price(self, book_id):
        raw = self.engine.raw_connection()
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        try:
            price = raw.cursor().execute(f"SELECT price_cents FROM books WHERE id = {mark}", (book_id,)).fetchone()[0]
        finally:
            raw.close()
        self.cache.set(self.key(book_id), price, ex=60)
        return price


class NoTTL(Solution):
    def price(self, book_id):
        stored = self.cache.get(self.key(book_id))
        if stored is not None:
            return int(stored)
        price = query_price(self.engine, book_id)
        self.cache.set(self.key(book_id), price)
        return price


def with_ttl(**expiry):
    class WithTTL(Solution):
        def price(self, book_id):
            stored = self.cache.get(self.key(book_id))
            if stored is not None:
                return int(stored)
            price = query_price(self.engine, book_id)
            self.cache.set(self.key(book_id), price, **expiry)
            return price

    return WithTTL


class OneKeyForAll(Solution):
    def key(self, book_id):
        return "price"


class ReturnsText(Solution):
    def price(self, book_id):
        stored = self.cache.get(self.key(book_id))
        if stored is not None:
            return stored
        price = query_price(self.engine, book_id)
        self.cache.set(self.key(book_id), price, ex=60)
        return price


class NoInvalidation(Solution):
    def set_price(self, book_id, cents):
        update_price(self.engine, book_id, cents)


class DeleteFirst(Solution):
    def set_price(self, book_id, cents):
        self.cache.delete(self.key(book_id))
        update_price(self.engine, book_id, cents)


class DeleteInsideTransaction(Solution):
    def set_price(self, book_id, cents):
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE books SET price_cents = :c WHERE id = :id"), {"c": cents, "id": book_id})
            self.cache.delete(self.key(book_id))  # before the commit at the end of the block


class FlushAll(Solution):
    def set_price(self, book_id, cents):
        update_price(self.engine, book_id, cents)
        self.cache.flushdb()


class CacheOnly(Solution):
    def set_price(self, book_id, cents):
        self.cache.set(self.key(book_id), cents, ex=60)


class WrongInit:
    def __init__(self, cache):
        self.cache = cache

    def price(self, book_id):
        return 1

    def set_price(self, book_id, cents):
        self.cache.delete(book_id)


WRONG_CACHES = [
    ("no cache at all", NoCache, r"did not use the cache"),
    ("no cache, its queries hidden from the counter", HiddenQueries, r"did not answer from the cache"),
    ("no TTL", NoTTL, r"has no TTL"),
    ("a TTL of an hour", with_ttl(ex=3600), r"lives 3600 s; keep the TTL at most 60 s"),
    ("a TTL of 300 ms", with_ttl(px=300), r"lives only \d+ ms"),
    ("one key for every book", OneKeyForAll, r"must name the book"),
    ("the cached text returned", ReturnsText, r"Redis stores and returns strings"),
    ("no invalidation", NoInvalidation, r"Stale read: after set_price"),
    ("delete before the write", DeleteFirst, r"Stale read after a race.*after the write is committed"),
    ("delete inside the transaction", DeleteInsideTransaction, r"Stale read after a race"),
    ("flush the whole cache", FlushAll, r"emptied more than the changed book's key"),
    ("update only the cache", CacheOnly, r"database still says the old price"),
    ("a different __init__", WrongInit, r"BookCache\(engine, cache\) failed"),
]


@pytest.mark.parametrize(("name", "cache_class", "hint"), WRONG_CACHES, ids=ids(WRONG_CACHES))
def test_book_cache_wrong_answers_get_their_hint(name, cache_class, hint):
    """Mutations that failed this: the reader at commit time never armed (`hook["armed"] = False`): deleting
    before the write, or inside its transaction, then passed; the price changed behind the cache's back not
    checked (`if False:`): no cache with hidden queries passed."""
    assert_hint(check_book_cache(cache_class), hint)


def test_book_cache_leaves_no_keys_behind(monkeypatch):
    """A check on a shared Redis (LAB_REDIS_URL) must not leave its keys there: here one client stands for
    that server, given to the checker and read by the test.
    Mutation that failed this: the cleanup's `cache.delete(*created)` removed."""
    cache = redis_client()
    cache.set("someone-else's-key", "kept")
    monkeypatch.setattr("labsupport.lessons.l12_performance.checkers.redis_client", lambda: cache)
    before = set(cache.scan_iter())
    assert check_book_cache(Solution).passed
    assert set(cache.scan_iter()) == before and cache.get("someone-else's-key") == "kept"


def test_book_cache_placeholders():
    class Student:
        def __init__(self, engine, cache):
            self.engine, self.cache = engine, cache

        def price(self, book_id):
            """Student build."""
            return ...

        def set_price(self, book_id, cents):
            """Student build."""
            return ...

    class Half(Solution):
        def set_price(self, book_id, cents):
            """Student build."""
            return ...

    assert check_book_cache(Student).status == "not attempted"
    assert check_book_cache(...).status == "not attempted"
    assert_hint(check_book_cache(Half), r"set_price is still empty")
    assert_hint(check_book_cache("BookCache"), r"Pass the class itself")


# --- exercise 3: a blocking call that does not block the server --------------------------------------------


def app_with(endpoint, path="/books/{book_id}"):
    def make_app(lookup):
        app = FastAPI()
        app.get(path)(endpoint(lookup))
        return app

    return make_app


def to_thread(lookup):
    async def book(book_id: int):
        return await asyncio.to_thread(lookup, book_id)

    return book


def threadpool(lookup):
    async def book(book_id: int):
        return await run_in_threadpool(lookup, book_id)

    return book


def executor(lookup):
    async def book(book_id: int):
        return await asyncio.get_running_loop().run_in_executor(None, lookup, book_id)

    return book


def anyio_thread(lookup):
    async def book(book_id: int):
        return await anyio.to_thread.run_sync(lookup, book_id)

    return book


_BIG_POOL = ThreadPoolExecutor(16)


def own_big_pool(lookup):
    async def book(book_id: int):
        return await asyncio.get_running_loop().run_in_executor(_BIG_POOL, lookup, book_id)

    return book


RIGHT_APPS = [
    ("asyncio.to_thread", app_with(to_thread)),
    ("starlette's run_in_threadpool", app_with(threadpool)),
    ("run_in_executor on the default pool", app_with(executor)),
    ("anyio.to_thread.run_sync", app_with(anyio_thread)),
    ("an executor of its own, 16 threads", app_with(own_big_pool)),
]


@pytest.mark.parametrize(("name", "make_app"), RIGHT_APPS, ids=ids(RIGHT_APPS))
def test_concurrent_endpoint_right_answers_pass(name, make_app):
    """Mutation that failed this: MIN_OVERLAP raised to 8 (asyncio's default pool has 6 threads on 2 cores)."""
    result = check_concurrent_endpoint(make_app)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def still_blocking(lookup):
    async def book(book_id: int):
        return lookup(book_id)

    return book


def sleep_zero_first(lookup):
    async def book(book_id: int):
        await asyncio.sleep(0)  # "now it awaits"
        return lookup(book_id)

    return book


def plain_def(lookup):
    def book(book_id: int):
        return lookup(book_id)

    return book


def called_too_early(lookup):
    async def book(book_id: int):
        return await asyncio.to_thread(lookup(book_id))

    return book


_LOCK = threading.Lock()


def serialised_by_a_lock(lookup):
    def locked(book_id):
        with _LOCK:
            return lookup(book_id)

    async def book(book_id: int):
        return await asyncio.to_thread(locked, book_id)

    return book


_ONE_THREAD = ThreadPoolExecutor(1)


def one_worker(lookup):
    async def book(book_id: int):
        return await asyncio.get_running_loop().run_in_executor(_ONE_THREAD, lookup, book_id)

    return book


def made_up_answer(lookup):
    async def book(book_id: int):
        return {"id": book_id, "title": f"Book {book_id}"}

    return book


def calls_twice(lookup):
    async def book(book_id: int):
        await asyncio.to_thread(lookup, book_id)  # "warm it up"
        return await asyncio.to_thread(lookup, book_id)

    return book


def forgets_to_return_the_app(lookup):
    app = FastAPI()
    app.get("/books/{book_id}")(to_thread(lookup))


WRONG_APPS = [
    ("the blocking call left in async def", app_with(still_blocking), r"one after another.*holds the event loop"),
    ("await asyncio.sleep(0) before the blocking call", app_with(sleep_zero_first), r"one after another"),
    ("a plain def endpoint", app_with(plain_def), r"keeps the endpoint `async def`"),
    ("to_thread(lookup(book_id))", app_with(called_too_early), r"Pass the function and its argument"),
    ("a lock around the call", app_with(serialised_by_a_lock), r"one after another"),
    ("an executor with one thread", app_with(one_worker), r"one after another"),
    ("an answer made up without lookup", app_with(made_up_answer), r"return exactly what lookup"),
    ("lookup called twice", app_with(calls_twice), r"lookup ran 60 times for 30 requests"),
    ("another path", app_with(to_thread, "/book/{book_id}"), r"needs the route GET /books/\{book_id\}"),
    ("the app not returned", forgets_to_return_the_app, r"should return the FastAPI app"),
]


@pytest.mark.parametrize(("name", "make_app", "hint"), WRONG_APPS, ids=ids(WRONG_APPS))
def test_concurrent_endpoint_wrong_answers_get_their_hint(name, make_app, hint):
    """Mutation that failed this: the overlap test weakened to `lookup.peak < 1` (the blocking endpoint then got
    the 'something else is serialising' hint, not the one that names the event loop)."""
    assert_hint(check_concurrent_endpoint(make_app), hint)
    assert running_servers() == []


def test_concurrent_endpoint_placeholders():
    def make_app(lookup):
        """Student build."""
        return ...

    assert check_concurrent_endpoint(make_app).status == "not attempted"
    assert_hint(check_concurrent_endpoint("app"), r"should be a function")
