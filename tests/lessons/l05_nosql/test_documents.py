"""Tests for labsupport.lessons.l05_nosql.documents: rows ↔ documents both ways, loading, BSON sizes, and the
counting wrapper's round trips and documents read/written."""

from __future__ import annotations

import mongomock
import pymongo
import pytest

from labsupport.databases import mongo_client
from labsupport.datagen import bookshop_rows
from labsupport.lessons.l05_nosql.documents import (
    MAX_DOCUMENT_BYTES,
    CountingDatabase,
    Counts,
    document_size,
    load_documents,
    to_documents,
    to_rows,
)


@pytest.fixture(scope="module")
def shop():
    return bookshop_rows(60, seed=3)


@pytest.fixture
def db():
    return mongomock.MongoClient().lab


# --- conversion ------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", ["embed", "reference"])
def test_rows_to_documents_and_back_is_lossless(shop, lines):
    assert to_rows(to_documents(shop, lines=lines)) == shop


def test_embedded_order_carries_its_lines_with_title_and_genre(shop):
    collections = to_documents(shop)
    assert set(collections) == {"customers", "books", "orders"}
    order = collections["orders"][0]
    lines = [line for line in shop.order_lines if line[1] == order["_id"]]
    assert len(order["lines"]) == len(lines)
    book = next(b for b in shop.books if b[0] == lines[0][2])
    assert order["lines"][0] == {
        "book_id": book[0],
        "title": book[1],
        "genre": book[3],
        "quantity": lines[0][3],
        "unit_price_cents": lines[0][4],
    }
    assert order["customer_id"] == shop.orders[0][1]  # the customer stays a reference


def test_referenced_layout_has_an_order_lines_collection(shop):
    collections = to_documents(shop, lines="reference")
    assert "lines" not in collections["orders"][0]
    assert len(collections["order_lines"]) == len(shop.order_lines)
    assert collections["order_lines"][0]["order_id"] == shop.order_lines[0][1]


def test_to_documents_rejects_bad_input(shop):
    with pytest.raises(TypeError, match="bookshop_rows"):
        to_documents(shop.tables())
    with pytest.raises(ValueError, match="'embed' or 'reference'"):
        to_documents(shop, lines="nested")


def test_to_rows_names_a_missing_field(shop):
    collections = to_documents(shop)
    del collections["orders"][0]["status"]
    with pytest.raises(ValueError, match="'status'"):
        to_rows(collections)


def test_load_documents_inserts_and_refuses_a_second_load(shop, db):
    counts = load_documents(db, shop)
    assert counts == {"customers": len(shop.customers), "books": len(shop.books), "orders": len(shop.orders)}
    assert db.orders.count_documents({}) == len(shop.orders)
    with pytest.raises(ValueError, match="already holds documents"):
        load_documents(db, shop)


def test_document_size_is_the_bson_size():
    assert document_size({}) == 5  # int32 length + terminating byte
    assert document_size({"a": "xy"}) == 5 + 1 + 2 + 4 + 3  # type, key\0, length, "xy\0"
    assert MAX_DOCUMENT_BYTES == 16 * 1024 * 1024


# --- counting --------------------------------------------------------------------------------


def test_counts_reads_round_trips_and_documents(shop, db):
    load_documents(db, shop, lines="reference")
    counted = CountingDatabase(db)
    order = counted.orders.find_one({"_id": 1})
    lines = counted.order_lines.find({"order_id": 1}, sort=[("_id", 1)])
    assert counted.counts == Counts(round_trips=2, documents_read=1 + len(lines))
    assert counted.orders.find_one({"_id": -1}) is None
    assert counted.counts.round_trips == 3 and counted.counts.documents_read == 1 + len(lines)
    assert order["_id"] == 1 and lines == list(db.order_lines.find({"order_id": 1}, sort=[("_id", 1)]))


def test_lookup_results_count_as_documents_read(shop, db):
    load_documents(db, shop, lines="reference")
    counted = CountingDatabase(db)
    (order,) = counted.orders.aggregate([
        {"$match": {"_id": 1}},
        {"$lookup": {"from": "order_lines", "localField": "_id", "foreignField": "order_id", "as": "lines"}},
    ])
    assert counted.counts.round_trips == 1
    assert counted.counts.documents_read == 1 + len(order["lines"])
    unwound = counted.orders.aggregate([
        {"$match": {"_id": 1}},
        {"$lookup": {"from": "order_lines", "localField": "_id", "foreignField": "order_id", "as": "lines"}},
        {"$unwind": "$lines"},
    ])
    # each unwound result is a document returned and holds one looked-up document
    assert counted.counts.documents_read == (1 + len(order["lines"])) + 2 * len(order["lines"])
    assert len(unwound) == len(order["lines"])


def test_counts_writes_as_the_server_reports_them(db):
    counted = CountingDatabase(db)
    counted.posts.insert_one({"_id": 1, "tags": []})
    counted.posts.insert_many([{"_id": 2}, {"_id": 3}])
    counted.posts.update_one({"_id": 1}, {"$push": {"tags": "a"}})
    counted.posts.update_many({}, {"$set": {"seen": True}})
    counted.posts.update_one({"_id": 9}, {"$set": {"seen": False}}, upsert=True)
    counted.posts.update_one({"_id": 99}, {"$set": {"seen": False}})  # matches nothing
    counted.posts.replace_one({"_id": 2}, {"title": "two"})
    counted.posts.delete_one({"_id": 3})
    counted.posts.delete_many({})
    written = 1 + 2 + 1 + 3 + 1 + 1 + 1 + 3  # the unmatched update writes nothing
    assert counted.counts.as_dict() == {"round_trips": 9, "documents_read": 0, "documents_written": written}
    assert counted.posts.count_documents({}) == 0
    assert counted.counts.round_trips == 10


def test_reset_returns_the_counts_and_starts_from_zero(db):
    counted = CountingDatabase(db)
    counted["posts"].insert_one({"_id": 1})
    assert counted.reset() == Counts(round_trips=1, documents_written=1)
    assert counted.counts == Counts()
    assert "posts" in repr(counted.posts) and "lab" in repr(counted)


def test_uncounted_calls_are_refused_with_the_way_out(db):
    counted = CountingDatabase(db)
    with pytest.raises(AttributeError, match=r"\.collection\.drop"):
        counted.posts.drop()
    counted.posts.collection.create_index("title")  # the real collection is one attribute away
    assert counted.counts == Counts()
    assert counted.posts.name == "posts"


def test_counting_wraps_a_real_pymongo_database_without_connecting(monkeypatch):
    """LAB_MONGO_URL gives pymongo; the wrapper only holds its collections (nothing is sent)."""
    monkeypatch.setenv("LAB_MONGO_URL", "mongodb://127.0.0.1:1/?connect=false")
    client = mongo_client()
    try:
        assert isinstance(client, pymongo.MongoClient)
        counted = CountingDatabase(client.lab05)
        assert isinstance(counted.orders.collection, pymongo.collection.Collection)
        assert counted.orders.collection.full_name == "lab05.orders"
        assert counted.counts == Counts()
    finally:
        client.close()
