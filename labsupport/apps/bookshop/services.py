"""The bookshop's business rules: what may happen to books, customers and orders.

Introduced in 00-start-here. No HTTP here (the routes turn these results and errors into
responses) and no SQL (the repositories do that), so the rules read like the shop's policy and
can be tested or reused without a server: an order needs an existing customer and books in
stock, it takes stock and fixes the prices in one transaction, and a book that was ever ordered
stays in the catalogue. Rules that are broken raise the domain errors defined here.

Each public method records its time under ``service`` for the request trace (`labsupport.tracing`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from labsupport.apps.bookshop.repositories import Row, Store
from labsupport.tracing import span

__all__ = ["BookshopError", "NotFound", "Conflict", "OutOfStock", "BookshopService"]


class BookshopError(Exception):
    """Base class of the errors a client can cause; the message is written for the client."""


class NotFound(BookshopError):
    def __init__(self, kind: str, item_id: int) -> None:
        super().__init__(f"{kind} {item_id} not found")


class Conflict(BookshopError):
    """The request is valid but clashes with the current data (a taken email, an ordered book)."""


class OutOfStock(Conflict):
    def __init__(self, book_id: int, requested: int, available: int) -> None:
        super().__init__(f"book {book_id}: {requested} requested but only {available} in stock")


class BookshopService:
    """The operations of the shop, each one unit of work on the `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @span("service")
    def list_books(
        self,
        *,
        genre: str | None = None,
        author: str | None = None,
        sort: str = "id",
        limit: int = 20,
        offset: int = 0,
    ) -> list[Row]:
        """One page of books of exactly this genre and author (None: any), sorted by `sort`."""
        with self.store.unit_of_work() as uow:
            return uow.books.search(
                genre=genre, author=author, sort=sort, limit=limit, offset=offset
            )

    @span("service")
    def bestsellers(self, limit: int = 10) -> list[Row]:
        """The best-selling books, most copies first (a report over every order ever placed)."""
        with self.store.unit_of_work() as uow:
            return uow.books.bestsellers(limit)

    @span("service")
    def get_book(self, book_id: int) -> Row:
        with self.store.unit_of_work() as uow:
            return _found(uow.books.get(book_id), "book", book_id)

    @span("service")
    def add_book(self, book: Row) -> Row:
        with self.store.unit_of_work(write=True) as uow:
            return uow.books.add(book)

    @span("service")
    def replace_book(self, book_id: int, book: Row) -> Row:
        with self.store.unit_of_work(write=True) as uow:
            return _found(uow.books.replace(book_id, book), "book", book_id)

    @span("service")
    def delete_book(self, book_id: int) -> None:
        with self.store.unit_of_work(write=True) as uow:
            _found(uow.books.get(book_id), "book", book_id)
            if uow.books.is_ordered(book_id):
                raise Conflict(f"book {book_id} appears in orders, so it cannot be deleted")
            uow.books.delete(book_id)

    @span("service")
    def get_customer(self, customer_id: int) -> Row:
        with self.store.unit_of_work() as uow:
            return _found(uow.customers.get(customer_id), "customer", customer_id)

    @span("service")
    def add_customer(self, customer: Row) -> Row:
        with self.store.unit_of_work(write=True) as uow:
            if uow.customers.find_by_email(customer["email"]) is not None:
                raise Conflict(f"a customer with email {customer['email']!r} already exists")
            return uow.customers.add(customer)

    @span("service")
    def place_order(self, customer_id: int, lines: list[dict[str, Any]]) -> Row:
        """Check the customer and every book, take the stock, record the prices of today.

        All in one unit of work: if any line fails (unknown book, not enough stock), the
        exception rolls back the order and the stock taken for the lines before it.
        """
        with self.store.unit_of_work(write=True) as uow:
            _found(uow.customers.get(customer_id), "customer", customer_id)
            today = dt.date.today().isoformat()
            new_order = {"customer_id": customer_id, "ordered_on": today, "status": "pending"}
            order = uow.orders.add(new_order)
            placed = []
            for line in lines:
                book_id, quantity = line["book_id"], line["quantity"]
                book = _found(uow.books.get(book_id), "book", book_id)
                if not uow.books.take_stock(book_id, quantity):
                    raise OutOfStock(book_id, quantity, available=book["stock"])
                price = book["price_cents"]  # fixed now: later price changes leave orders alone
                placed.append(uow.orders.add_line(order["id"], book_id, quantity, price))
            return _with_total(order, placed)

    @span("service")
    def get_order(self, order_id: int) -> Row:
        with self.store.unit_of_work() as uow:
            order = _found(uow.orders.get(order_id), "order", order_id)
            return _with_total(order, uow.orders.lines(order_id))


def _found(row: Row | None, kind: str, item_id: int) -> Row:
    if row is None:
        raise NotFound(kind, item_id)
    return row


def _with_total(order: Row, lines: list[Row]) -> Row:
    total = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
    return {**order, "lines": lines, "total_cents": total}
