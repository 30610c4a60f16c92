"""Deterministic synthetic bookshop data at any size, and a fast loader for it.

Introduced in 02-rest-api; 04-sql to 07-indexing load it at sizes from a hundred orders to a
million rows. The same ``(orders, seed)`` gives the same rows in
every process (numpy's ``default_rng(seed)``, never ``hash()``), so a notebook's numbers and
query plans are reproducible on a student's machine.

Sizes follow the number of orders::

    customers    = max(1, orders // 10)
    books        = max(10, orders // 20)
    order_lines  = 1 to 4 per order (2.5 on average), never the same book twice in one order

so one order brings 3.65 rows on average: ``orders=300_000`` gives about 1.1 million rows
(`benchmark_load` works back from a target total). Rows are tuples in the column order of
`labsupport.schema`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from labsupport import schema
from labsupport.databases import sql_engine
from labsupport.measurement import gc_paused

__all__ = [
    "Bookshop",
    "bookshop_rows",
    "insert_bookshop",
    "load_bookshop",
    "benchmark_load",
]

FIRST_NAMES = (
    "Ada", "Alan", "Amira", "Ben", "Chloe", "Daniel", "Elena", "Farah", "Grace", "Hugo",
    "Ines", "Jonas", "Kai", "Lena", "Marta", "Noah", "Olga", "Pablo", "Quinn", "Rosa",
    "Sami", "Tara", "Umar", "Vera", "Wei", "Yara", "Zoe", "Liam", "Mei", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jansen",
    "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Silva",
    "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Novak", "Berg", "Khan", "Reyes",
)  # fmt: skip
CITIES = (
    "Lisbon", "Berlin", "Lyon", "Leeds", "Porto", "Krakow", "Osaka", "Nairobi", "Austin",
    "Toronto", "Milan", "Ghent", "Utrecht", "Malmo", "Seville", "Dublin", "Lagos", "Pune",
)  # fmt: skip
TITLE_ADJECTIVES = (
    "Silent", "Hidden", "Last", "Broken", "Golden", "Quiet", "Distant", "Burning", "Lost",
    "Secret", "Wild", "Endless", "Paper", "Glass", "Midnight", "Northern", "Little", "Iron",
)  # fmt: skip
TITLE_NOUNS = (
    "River", "Garden", "Empire", "Harbour", "Library", "Signal", "Orchard", "Winter", "Map",
    "Kingdom", "Lantern", "Island", "Archive", "Bridge", "Compass", "Forest", "Machine", "Tide",
)  # fmt: skip
GENRES = ("fiction", "mystery", "science", "history", "fantasy", "biography", "poetry", "cooking")
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
STATUS_WEIGHTS = (0.05, 0.10, 0.15, 0.62, 0.08)
FIRST_DAY = dt.date(2023, 1, 1)
DAYS = 731  # 2023-01-01 .. 2024-12-31
MAX_LINES_PER_ORDER = 4
MIN_BOOKS = 10
ROWS_PER_ORDER = 1 + (1 + MAX_LINES_PER_ORDER) / 2 + 1 / 10 + 1 / 20  # 3.65


@dataclass(frozen=True)
class Bookshop:
    """The four tables of a generated bookshop, as lists of tuples in schema column order."""

    customers: list[tuple]
    books: list[tuple]
    orders: list[tuple]
    order_lines: list[tuple]

    def tables(self) -> dict[str, list[tuple]]:
        """``{table name: rows}``, parents before children (the order inserts must follow)."""
        return {
            "customers": self.customers,
            "books": self.books,
            "orders": self.orders,
            "order_lines": self.order_lines,
        }

    @property
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(rows) for name, rows in self.tables().items()}

    def dataframes(self) -> dict[str, pd.DataFrame]:
        """The same rows as pandas DataFrames with the schema's column names (no database)."""
        return {
            name: pd.DataFrame(rows, columns=schema.metadata.tables[name].columns.keys())
            for name, rows in self.tables().items()
        }


def _whole_number(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more, not {value!r}")
    return int(value)


def bookshop_rows(orders: int, seed: int = 0) -> Bookshop:
    """Generate a bookshop with ``orders`` orders; the same arguments give the same rows.

    Orders are numbered in date order (a larger id was placed later); names, titles and cities
    come from small word lists; emails are unique (``ada.costa17@example.com``); prices are
    integer cents ending in 99, and each order line copies its book's price.
    """
    n_orders = _whole_number(orders, "orders")
    rng = np.random.default_rng(_whole_number(seed, "seed"))
    n_customers = max(1, n_orders // 10)
    n_books = max(MIN_BOOKS, n_orders // 20)
    # A million new tuples trigger dozens of full collections that find nothing (tuples of
    # ints and strings form no cycles); pausing the collector halves generation time.
    with gc_paused():
        customers = _customers(rng, n_customers)
        books, prices = _books(rng, n_books)
        orders_rows = _orders(rng, n_orders, n_customers)
        order_lines = _order_lines(rng, n_orders, prices)
    return Bookshop(customers, books, orders_rows, order_lines)


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> list[str]:
    return np.array(words)[rng.integers(len(words), size=n)].tolist()


def _customers(rng: np.random.Generator, n: int) -> list[tuple]:
    first, last, city = _pick(rng, FIRST_NAMES, n), _pick(rng, LAST_NAMES, n), _pick(rng, CITIES, n)
    # The id in the email keeps emails unique (the column is UNIQUE) however many Ada Costas exist.
    return [
        (i, f"{fn} {ln}", f"{fn.lower()}.{ln.lower()}{i}@example.com", c)
        for i, fn, ln, c in zip(range(1, n + 1), first, last, city)
    ]


def _books(rng: np.random.Generator, n: int) -> tuple[list[tuple], np.ndarray]:
    adjective, noun = _pick(rng, TITLE_ADJECTIVES, n), _pick(rng, TITLE_NOUNS, n)
    first, last = _pick(rng, FIRST_NAMES, n), _pick(rng, LAST_NAMES, n)
    genre = _pick(rng, GENRES, n)
    prices = rng.integers(5, 60, size=n) * 100 - 1  # 4.99 .. 58.99
    stock = rng.integers(0, 250, size=n).tolist()  # some books are out of stock
    rows = [
        (i, f"The {a} {b}", f"{fn} {ln}", g, p, s)
        for i, a, b, fn, ln, g, p, s in zip(
            range(1, n + 1), adjective, noun, first, last, genre, prices.tolist(), stock
        )
    ]
    return rows, prices


def _orders(rng: np.random.Generator, n: int, n_customers: int) -> list[tuple]:
    day_names = np.array([(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(DAYS)])
    ordered_on = day_names[np.sort(rng.integers(DAYS, size=n))].tolist()  # ids grow with time
    customer_id = rng.integers(1, n_customers + 1, size=n).tolist()
    status = np.array(STATUSES)[rng.choice(len(STATUSES), size=n, p=STATUS_WEIGHTS)].tolist()
    return list(zip(range(1, n + 1), customer_id, ordered_on, status))


def _order_lines(rng: np.random.Generator, n_orders: int, prices: np.ndarray) -> list[tuple]:
    n_books = len(prices)
    per_order = rng.integers(1, MAX_LINES_PER_ORDER + 1, size=n_orders)
    n_lines = int(per_order.sum())
    first_line = np.cumsum(per_order) - per_order  # index of each order's first line
    # An order's first book is drawn with a mild popularity skew (a few bestsellers); each
    # further line steps 1..(n_books-1)//3 books forward, so the at most 3 steps of an order
    # add up to less than n_books and never come back to a book already in that order.
    popularity = 1.0 / np.arange(10, n_books + 10)
    step = rng.integers(1, (n_books - 1) // (MAX_LINES_PER_ORDER - 1) + 1, size=n_lines)
    step[first_line] = rng.choice(n_books, size=n_orders, p=popularity / popularity.sum())
    position = np.cumsum(step)
    position -= np.repeat(position[first_line] - step[first_line], per_order)  # per-order sums
    book_index = position % n_books
    quantity = rng.choice([1, 2, 3], size=n_lines, p=[0.8, 0.15, 0.05])
    return list(
        zip(
            range(1, n_lines + 1),
            np.repeat(np.arange(1, n_orders + 1), per_order).tolist(),
            (book_index + 1).tolist(),
            quantity.tolist(),
            prices[book_index].tolist(),
        )
    )


@contextmanager
def _sqlite_bulk_mode(conn: sa.Connection) -> Iterator[None]:
    # The bulk-loader's trick (07-indexing teaches its cousin, "load first, index after"):
    # checking each child row's parent one insert at a time doubles the load time, so switch
    # the per-row checks off, check all rows at once before commit, and switch them back on.
    # A larger page cache (64 MB) keeps the key B-trees in memory during the load. SQLite only
    # changes foreign_keys outside a transaction, hence the commits.
    foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
    cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.exec_driver_sql("PRAGMA cache_size=-65536")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA foreign_keys={int(foreign_keys)}")
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
        conn.commit()


def _insert_rows(conn: sa.Connection, shop: Bookshop) -> None:
    # Tuples straight to the driver's executemany: about 5x faster (CONTRIBUTING.md, "SQLite")
    # than SQLAlchemy Core with one dict per row.
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(conn.dialect.paramstyle)
    for name, rows in shop.tables().items():
        table = schema.metadata.tables[name]
        if conn.execute(sa.select(1).select_from(table).limit(1)).first() is not None:
            raise ValueError(
                f"table {name!r} already holds rows; load into a fresh database "
                "(labsupport.sql_engine()) instead of mixing two datasets"
            )
        if not rows:
            continue
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, name, table.columns.keys(), rows)
        elif marker is None:  # a driver with named parameters: let SQLAlchemy bind the values
            conn.execute(table.insert(), [dict(zip(table.columns.keys(), row)) for row in rows])
        else:
            columns = ", ".join(table.columns.keys())
            values = ", ".join([marker] * len(table.columns))
            conn.exec_driver_sql(f"INSERT INTO {name} ({columns}) VALUES ({values})", rows)


def _copy_rows(conn: sa.Connection, name: str, columns: list[str], rows: list[tuple]) -> None:
    # PostgreSQL's COPY streams the rows in one command: an executemany of INSERTs costs a round
    # trip per row (2.4x slower for 20,000 orders here). Same transaction: the raw connection is ours.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_bookshop(engine: sa.Engine, shop: Bookshop) -> dict[str, int]:
    """Create the bookshop tables if missing and insert ``shop`` in one transaction.

    Use it to put the same generated rows into several databases (07-indexing loads one copy
    per index variant); `load_bookshop` generates and inserts in one call. Returns the row count
    per table. Refuses tables that already hold rows (ids would clash), and rolls everything
    back if a row points at a missing parent.
    """
    schema.create_tables(engine)
    dialect = engine.dialect.name
    with engine.connect() as conn:
        with _sqlite_bulk_mode(conn) if dialect == "sqlite" else nullcontext(), conn.begin():
            _insert_rows(conn, shop)
            if dialect == "sqlite":
                orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if orphans:
                    table, rowid, parent, _ = orphans[0]
                    raise ValueError(
                        f"{len(orphans)} row(s) point at missing parents, e.g. {table} id {rowid} "
                        f"-> {parent}; nothing was loaded"
                    )
            if dialect == "postgresql":
                # Explicit ids do not advance PostgreSQL's id sequences; move them past the
                # data so that the app's own inserts get fresh ids.
                for name in shop.tables():
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE(MAX(id), 0) + 1, false) FROM {name}"
                    )
    return shop.counts


def load_bookshop(engine: sa.Engine, orders: int, *, seed: int = 0) -> dict[str, int]:
    """Fill ``engine`` with ``bookshop_rows(orders, seed)``; return the row count per table.

    Creates the tables if missing and loads everything in one transaction (`insert_bookshop`).
    About a million rows (``orders=274_000``) take a few seconds on SQLite.
    """
    return insert_bookshop(engine, bookshop_rows(orders, seed))


def _orders_for_total(total_rows: int) -> int:
    """How many orders give about ``total_rows`` rows across the four tables (3.65 per order)."""
    return round(_whole_number(total_rows, "total_rows") / ROWS_PER_ORDER)


def benchmark_load(total_rows: int = 1_000_000, *, seed: int = 0) -> dict[str, int | float]:
    """Time generating and loading about ``total_rows`` rows into a fresh `sql_engine()`.

    One run, not a median: it takes seconds and writes a file. Returns ``orders``, ``rows`` (the
    actual total), ``generate_s``, ``load_s`` (create tables, insert, check, commit), ``total_s``.
    """
    n_orders = _orders_for_total(total_rows)
    engine = sql_engine()
    try:
        start = time.perf_counter()
        shop = bookshop_rows(n_orders, seed)
        generated = time.perf_counter()
        counts = insert_bookshop(engine, shop)
        loaded = time.perf_counter()
    finally:
        engine.dispose()
    return {
        "orders": n_orders,
        "rows": sum(counts.values()),
        "generate_s": generated - start,
        "load_s": loaded - generated,
        "total_s": loaded - start,
    }
