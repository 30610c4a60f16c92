"""The bookshop as documents, and a counter of round trips and documents read.

Introduced in 05-nosql. `to_documents` turns the rows of `labsupport.datagen` into MongoDB-style
documents (an order with its lines embedded, or with the lines in a collection of their own) and
`to_rows` turns them back, so a lesson can hold the same data as tables and as documents and
check that nothing was lost. `CountingDatabase` wraps a pymongo or mongomock database and counts
what is true on any engine: how many times the application talked to the database (round trips)
and how many documents came back. Counting rather than timing, because mongomock, the default,
scans every document in Python and says nothing about how fast a real MongoDB would be.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import bson

from labsupport.datagen import Bookshop

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "to_documents",
    "to_rows",
    "load_documents",
    "document_size",
    "Counts",
    "CountingDatabase",
    "CountingCollection",
]

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # MongoDB refuses to store a larger document (BSON size)

Layout = Literal["embed", "reference"]


def to_documents(shop: Bookshop, *, lines: Layout = "embed") -> dict[str, list[dict]]:
    """The bookshop as collections of documents: ``{collection name: documents}``.

    ``customers`` and ``books`` get one document per row (the row id becomes ``_id``). Each order
    references its customer by ``customer_id``. With ``lines="embed"`` an order carries its
    lines in a ``lines`` array, each with a copy of the book's title and genre (as the SQL
    table already copies the price), so showing an order needs no other collection. With
    ``lines="reference"`` the lines go to an ``order_lines`` collection that points back with
    ``order_id``, as in the tables.
    """
    if not isinstance(shop, Bookshop):
        raise TypeError(f"to_documents() needs a Bookshop from bookshop_rows(), not {type(shop).__name__}")
    if lines not in ("embed", "reference"):
        raise ValueError(f"lines must be 'embed' or 'reference', not {lines!r}")
    customers = [{"_id": i, "name": n, "email": e, "city": c} for i, n, e, c in shop.customers]
    books = [
        {"_id": i, "title": t, "author": a, "genre": g, "price_cents": p, "stock": s} for i, t, a, g, p, s in shop.books
    ]
    orders = [{"_id": i, "customer_id": c, "ordered_on": d, "status": s} for i, c, d, s in shop.orders]
    collections = {"customers": customers, "books": books, "orders": orders}
    if lines == "reference":
        collections["order_lines"] = [
            {"_id": i, "order_id": o, "book_id": b, "quantity": q, "unit_price_cents": p}
            for i, o, b, q, p in shop.order_lines
        ]
        return collections
    book_by_id = {book["_id"]: book for book in books}
    by_order: dict[int, list[dict]] = {order["_id"]: [] for order in orders}
    for _, order_id, book_id, quantity, price in shop.order_lines:
        book = book_by_id[book_id]
        by_order[order_id].append(
            {
                "book_id": book_id,
                "title": book["title"],
                "genre": book["genre"],
                "quantity": quantity,
                "unit_price_cents": price,
            }
        )
    for order in orders:
        order["lines"] = by_order[order["_id"]]
    return collections


def to_rows(collections: Mapping[str, Iterable[Mapping[str, Any]]]) -> Bookshop:
    """Turn `to_documents` output (either layout) back into the four tables' rows.

    Embedded lines have no id of their own: they are numbered 1, 2, 3, ... in order of their
    orders, which is how `labsupport.datagen` numbers them, so a round trip gives the same rows.
    The copied titles and genres are dropped (the books collection holds the originals).
    """
    try:
        customers = [(d["_id"], d["name"], d["email"], d["city"]) for d in collections["customers"]]
        books = [
            (d["_id"], d["title"], d["author"], d["genre"], d["price_cents"], d["stock"]) for d in collections["books"]
        ]
        orders_docs = list(collections["orders"])
        orders = [(d["_id"], d["customer_id"], d["ordered_on"], d["status"]) for d in orders_docs]
        if "order_lines" in collections:
            lines = [
                (d["_id"], d["order_id"], d["book_id"], d["quantity"], d["unit_price_cents"])
                for d in collections["order_lines"]
            ]
        else:
            numbers = itertools.count(1)
            lines = [
                (next(numbers), order["_id"], line["book_id"], line["quantity"], line["unit_price_cents"])
                for order in orders_docs
                for line in order.get("lines", [])
            ]
    except KeyError as missing:
        raise ValueError(f"a document lacks the field {missing}; expected to_documents() output") from None
    return Bookshop(customers, books, orders, lines)


def load_documents(database: Any, shop: Bookshop, *, lines: Layout = "embed") -> dict[str, int]:
    """Insert `to_documents(shop, lines=lines)` into ``database``; return documents per collection.

    Refuses collections that already hold documents (the ids would clash): start from a fresh
    ``mongo_client()`` or drop the database first.
    """
    collections = to_documents(shop, lines=lines)
    for name in collections:
        if database[name].count_documents({}, limit=1):
            raise ValueError(
                f"collection {name!r} already holds documents; use a fresh database "
                "(client.drop_database(name) first) instead of mixing two datasets"
            )
    for name, documents in collections.items():
        if documents:
            database[name].insert_many(documents)
    return {name: len(documents) for name, documents in collections.items()}


def document_size(document: Mapping[str, Any]) -> int:
    """The size in bytes of ``document`` encoded as BSON, what MongoDB stores and limits to 16 MB."""
    return len(bson.encode(document))


@dataclass
class Counts:
    """What a `CountingDatabase` saw: calls to the database and documents that moved.

    ``documents_read`` counts documents returned to the application, plus the documents that an
    aggregation's ``$lookup`` stages pulled from another collection (those its ``as`` field holds
    in each result: after an ``$unwind`` the parent is counted once per result, an
    overestimate). ``documents_written``
    counts documents inserted, modified, replaced or deleted (as the server reports them).
    """

    round_trips: int = 0
    documents_read: int = 0
    documents_written: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "round_trips": self.round_trips,
            "documents_read": self.documents_read,
            "documents_written": self.documents_written,
        }


class CountingDatabase:
    """A thin wrapper around a pymongo or mongomock ``Database`` that counts round trips.

    ``counted = CountingDatabase(db)``; then ``counted.orders.find_one(...)`` (or
    ``counted["orders"]``) works like the real collection and adds to ``counted.counts``. One
    call is one round trip; a ``find`` cursor's follow-up batches are not counted (at the lab's
    sizes a result fits in the first batch). Works the same whatever engine is underneath.
    """

    def __init__(self, database: Any) -> None:
        self.database = database
        self.counts = Counts()

    def __getattr__(self, name: str) -> CountingCollection:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> CountingCollection:
        return CountingCollection(self.database[name], self.counts)

    def reset(self) -> Counts:
        """Start counting from zero; return what was counted so far."""
        counted, self.counts = self.counts, Counts()
        return counted

    def __repr__(self) -> str:
        return f"CountingDatabase({self.database.name!r}, {self.counts})"


class CountingCollection:
    """One collection seen through a `CountingDatabase`: the usual CRUD calls, counted.

    Only the calls listed here are available, so that nothing talks to the database uncounted;
    ``.collection`` is the unwrapped collection for anything else.
    """

    def __init__(self, collection: Any, counts: Counts) -> None:
        self.collection = collection
        self.counts = counts

    @property
    def name(self) -> str:
        return self.collection.name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(
            f"a counting collection has no {name!r}; it counts find, find_one, aggregate, "
            "count_documents, insert_one/many, update_one/many, replace_one and delete_one/many. "
            f"Use .collection.{name} to call the real collection uncounted."
        )

    # --- reads ---------------------------------------------------------------------------

    def _returned(self, documents: Iterable[Any], lookups: tuple[str, ...] = ()) -> Iterator[Any]:
        for document in documents:
            self.counts.documents_read += 1
            for field in lookups:
                joined = document.get(field) if isinstance(document, Mapping) else None
                if isinstance(joined, list):
                    self.counts.documents_read += len(joined)
                elif isinstance(joined, Mapping):  # after an $unwind
                    self.counts.documents_read += 1
            yield document

    def find(self, *args: Any, **kwargs: Any) -> list[dict]:
        """Like pymongo's ``find`` (pass ``sort=``, ``limit=`` as arguments) but returns a list."""
        self.counts.round_trips += 1
        return list(self._returned(self.collection.find(*args, **kwargs)))

    def find_one(self, *args: Any, **kwargs: Any) -> dict | None:
        self.counts.round_trips += 1
        document = self.collection.find_one(*args, **kwargs)
        if document is not None:
            self.counts.documents_read += 1
        return document

    def aggregate(self, pipeline: list[dict], *args: Any, **kwargs: Any) -> list[dict]:
        """Like pymongo's ``aggregate`` but returns a list; ``$lookup`` results count as read."""
        self.counts.round_trips += 1
        lookups = tuple(
            stage["$lookup"]["as"]
            for stage in pipeline
            if isinstance(stage, Mapping) and isinstance(stage.get("$lookup"), Mapping) and "as" in stage["$lookup"]
        )
        return list(self._returned(self.collection.aggregate(pipeline, *args, **kwargs), lookups))

    def count_documents(self, *args: Any, **kwargs: Any) -> int:
        self.counts.round_trips += 1
        return self.collection.count_documents(*args, **kwargs)

    # --- writes --------------------------------------------------------------------------

    def insert_one(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        result = self.collection.insert_one(*args, **kwargs)
        self.counts.documents_written += 1
        return result

    def insert_many(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        result = self.collection.insert_many(*args, **kwargs)
        self.counts.documents_written += len(result.inserted_ids)
        return result

    def _updated(self, result: Any) -> Any:
        self.counts.documents_written += result.modified_count + (result.upserted_id is not None)
        return result

    def update_one(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        return self._updated(self.collection.update_one(*args, **kwargs))

    def update_many(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        return self._updated(self.collection.update_many(*args, **kwargs))

    def replace_one(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        return self._updated(self.collection.replace_one(*args, **kwargs))

    def delete_one(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        result = self.collection.delete_one(*args, **kwargs)
        self.counts.documents_written += result.deleted_count
        return result

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.round_trips += 1
        result = self.collection.delete_many(*args, **kwargs)
        self.counts.documents_written += result.deleted_count
        return result

    def __repr__(self) -> str:
        return f"CountingCollection({self.name!r})"
