"""The bookshop's storage layer: the only code of the app that speaks SQL.

Introduced in 00-start-here. Each repository wraps one table (SQLAlchemy Core on
`labsupport.schema`) and returns plain dicts, so the layers above never see a connection, a row
object or a query. A `UnitOfWork` groups the repositories on one connection inside one
transaction: the service opens it with `Store.unit_of_work()`, calls as many repository methods
as a business operation needs, and either all of their writes are committed or none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from labsupport.schema import books, customers, order_lines, orders

__all__ = ["Store", "UnitOfWork", "BookRepository", "CustomerRepository", "OrderRepository"]

Row = dict[str, Any]

# The API's sort keys and the columns they mean ("price" hides the storage detail "cents").
_SORT_COLUMNS = {
    "id": books.c.id,
    "title": books.c.title,
    "author": books.c.author,
    "price": books.c.price_cents,
}


class _Repository:
    """Runs queries on the unit of work's connection and turns rows into plain dicts."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _one(self, query: sa.Executable) -> Row:
        return dict(self.connection.execute(query).one()._mapping)

    def _first(self, query: sa.Executable) -> Row | None:
        row = self.connection.execute(query).first()
        return None if row is None else dict(row._mapping)

    def _all(self, query: sa.Executable) -> list[Row]:
        return [dict(row._mapping) for row in self.connection.execute(query)]


class BookRepository(_Repository):
    def get(self, book_id: int) -> Row | None:
        return self._first(sa.select(books).where(books.c.id == book_id))

    def search(
        self, *, genre: str | None, author: str | None, sort: str, limit: int, offset: int
    ) -> list[Row]:
        """One page of books, filtered by exact genre and author; ``sort="-price"`` descends."""
        query = sa.select(books)
        if genre is not None:
            query = query.where(books.c.genre == genre)
        if author is not None:
            query = query.where(books.c.author == author)
        column = _SORT_COLUMNS[sort.removeprefix("-")]
        # The id breaks ties, so that pages never overlap or skip a book.
        query = query.order_by(column.desc() if sort.startswith("-") else column, books.c.id)
        return self._all(query.limit(limit).offset(offset))

    def add(self, values: Row) -> Row:
        return self._one(books.insert().values(values).returning(books))

    def replace(self, book_id: int, values: Row) -> Row | None:
        query = books.update().where(books.c.id == book_id).values(values).returning(books)
        return self._first(query)

    def delete(self, book_id: int) -> bool:
        return self.connection.execute(books.delete().where(books.c.id == book_id)).rowcount == 1

    def is_ordered(self, book_id: int) -> bool:
        """Whether any order line refers to the book (deleting it would orphan order history)."""
        query = sa.select(order_lines.c.id).where(order_lines.c.book_id == book_id).limit(1)
        return self._first(query) is not None

    def take_stock(self, book_id: int, quantity: int) -> bool:
        """Remove ``quantity`` copies from stock; False (and nothing changed) if fewer are left.

        Check and decrement are one statement, so two orders running at the same time can
        never both take the last copy.
        """
        query = (
            books.update()
            .where(books.c.id == book_id, books.c.stock >= quantity)
            .values(stock=books.c.stock - quantity)
        )
        return self.connection.execute(query).rowcount == 1


    def bestsellers(self, limit: int) -> list[Row]:
        """The `limit` books with the most copies sold: one pass over every order line."""
        sold = sa.func.sum(order_lines.c.quantity).label("copies_sold")
        query = (
            sa.select(books.c.id, books.c.title, books.c.author, sold)
            .join(order_lines, order_lines.c.book_id == books.c.id)
            .group_by(books.c.id)
            .order_by(sold.desc(), books.c.id)
            .limit(limit)
        )
        return self._all(query)


class CustomerRepository(_Repository):
    def get(self, customer_id: int) -> Row | None:
        return self._first(sa.select(customers).where(customers.c.id == customer_id))

    def find_by_email(self, email: str) -> Row | None:
        return self._first(sa.select(customers).where(customers.c.email == email))

    def add(self, values: Row) -> Row:
        return self._one(customers.insert().values(values).returning(customers))


class OrderRepository(_Repository):
    def get(self, order_id: int) -> Row | None:
        return self._first(sa.select(orders).where(orders.c.id == order_id))

    def lines(self, order_id: int) -> list[Row]:
        query = (
            sa.select(order_lines.c.book_id, order_lines.c.quantity, order_lines.c.unit_price_cents)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.id)
        )
        return self._all(query)

    def add(self, values: Row) -> Row:
        return self._one(orders.insert().values(values).returning(orders))

    def add_line(self, order_id: int, book_id: int, quantity: int, unit_price_cents: int) -> Row:
        line = {"book_id": book_id, "quantity": quantity, "unit_price_cents": unit_price_cents}
        self.connection.execute(order_lines.insert().values(order_id=order_id, **line))
        return line


@dataclass(frozen=True)
class UnitOfWork:
    """The repositories of one transaction, all on the same connection."""

    books: BookRepository
    customers: CustomerRepository
    orders: OrderRepository


class Store:
    """The bookshop's database, as the service sees it: a source of units of work."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def unit_of_work(self, *, write: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Pass ``write=True`` when the work will write. On SQLite the transaction then takes the
        database's write lock at once (``BEGIN IMMEDIATE``): Python's sqlite3 would otherwise
        begin only at the first write, and a check-then-act ("is this email free? then insert")
        could interleave with another request's and end in a constraint error, a 500.
        """
        with self.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # Straight to the driver, as sqlite3 sends its own BEGIN: transaction control,
                # not a query of the lesson's (the Server-Timing and N+1 counts leave it out).
                driver = connection.connection.driver_connection
                assert driver is not None, "a connection inside begin() is checked out, so it has one"
                driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield UnitOfWork(
                books=BookRepository(connection),
                customers=CustomerRepository(connection),
                orders=OrderRepository(connection),
            )
