"""explain(): SQLite plans read from a real database, PostgreSQL plans from canned EXPLAIN output
(no PostgreSQL server is available here), and btree_shape()."""

import json

import pytest
import sqlalchemy as sa

from labsupport.databases import sql_engine
from labsupport.datagen import load_bookshop
from labsupport.lessons.l07_indexing.plans import BTreeShape, Plan, PlanStep, btree_shape, explain
from labsupport.schema import orders


@pytest.fixture(scope="module")
def shop() -> sa.Engine:
    engine = sql_engine()
    load_bookshop(engine, 500)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_orders_customer_date ON orders (customer_id, ordered_on)")
    return engine


# --- SQLite, on a real database ----------------------------------------------------------------


def test_full_scan(shop):
    plan = explain(shop, "SELECT * FROM orders WHERE status = :status", {"status": "paid"})
    assert str(plan) == "QUERY PLAN\n`--SCAN orders"
    assert plan.dialect == "sqlite"
    assert plan.is_full_scan and not plan.uses_index() and not plan.is_covering
    assert plan.steps == (PlanStep("SCAN orders", access="scan", table="orders"),)
    assert plan.indexes == []


def test_index_search(shop):
    sql = "SELECT * FROM orders WHERE customer_id = :c AND ordered_on >= :d"
    plan = explain(shop, sql, {"c": 4, "d": "2024-01-01"})
    [step] = plan.steps
    assert step.detail == "SEARCH orders USING INDEX ix_orders_customer_date (customer_id=? AND ordered_on>?)"
    assert (step.access, step.table, step.index) == ("search", "orders", "ix_orders_customer_date")
    assert step.condition == "customer_id=? AND ordered_on>?"
    assert plan.uses_index() and plan.uses_index("ix_orders_customer_date")
    assert plan.uses_index("IX_ORDERS_CUSTOMER_DATE"), "index names are case-insensitive in SQL"
    assert not plan.uses_index("ix_other")
    assert not plan.is_full_scan and not plan.is_covering
    assert plan.indexes == ["ix_orders_customer_date"]


def test_covering_index_search(shop):
    plan = explain(shop, "SELECT ordered_on FROM orders WHERE customer_id = 4")
    assert plan.is_covering and plan.uses_index("ix_orders_customer_date")
    assert "USING COVERING INDEX ix_orders_customer_date" in str(plan)


def test_a_whole_index_scan_is_covering_but_not_a_search(shop):
    plan = explain(shop, "SELECT count(*) FROM customers")
    assert str(plan) == "QUERY PLAN\n`--SCAN customers USING COVERING INDEX sqlite_autoindex_customers_1"
    assert plan.is_full_scan and plan.is_covering
    assert not plan.uses_index()
    assert plan.indexes == ["sqlite_autoindex_customers_1"]


def test_primary_key_lookup_counts_as_an_index(shop):
    plan = explain(shop, "SELECT * FROM orders WHERE id = 7")
    assert plan.uses_index("PRIMARY KEY") and plan.indexes == ["PRIMARY KEY"]
    assert plan.steps[0].condition == "rowid=?"


def test_automatic_index_is_detected_and_not_counted_as_an_index(shop):
    plan = explain(shop, "SELECT * FROM books b JOIN order_lines l ON l.unit_price_cents = b.price_cents")
    assert plan.uses_automatic_index
    assert not plan.uses_index() and not plan.is_covering
    assert plan.indexes == []
    assert plan.is_full_scan  # the other side of the join is scanned


def test_nested_steps_are_drawn_as_a_tree(shop):
    plan = explain(
        shop,
        "SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE city = 'Lyon') "
        "ORDER BY ordered_on",
    )
    lines = plan.lines()
    assert lines[0] == "QUERY PLAN"
    assert "|--LIST SUBQUERY 1" in lines
    assert "|  `--SCAN customers" in lines
    assert lines[-1] == "`--USE TEMP B-TREE FOR ORDER BY"
    assert [s.detail for s in plan.walk()].index("SCAN customers") > 0
    assert repr(plan) == str(plan)


def test_sqlalchemy_statements_and_text_clauses(shop):
    select = explain(shop, sa.select(orders).where(orders.c.customer_id == 3))
    assert select.uses_index("ix_orders_customer_date")
    text = explain(shop, sa.text("SELECT * FROM orders WHERE status = :s"), {"s": "paid"})
    assert text.is_full_scan


def test_a_connection_is_used_as_it_is(shop):
    with shop.connect() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_orders_status ON orders (status)")
        assert explain(conn, "SELECT * FROM orders WHERE status = 'paid'").uses_index("ix_orders_status")
        conn.exec_driver_sql("DROP INDEX ix_orders_status")
        assert explain(conn, "SELECT * FROM orders WHERE status = 'paid'").is_full_scan
        assert not conn.closed, "explain() must not close a connection it was given"


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("SELEC * FROM orders", None, 'sqlite could not plan this query: near "SELEC": syntax error'),
        ("SELECT * FROM nowhere", None, "no such table: nowhere"),
        ("SELECT * FROM orders WHERE id = :id", None, "A value is required for bind parameter 'id'"),
    ],
)
def test_bad_queries_give_plain_messages(shop, sql, params, message):
    with pytest.raises(ValueError, match="could not plan") as error:
        explain(shop, sql, params)
    assert message in str(error.value)
    assert "Background" not in str(error.value) and "sqlalche.me" not in str(error.value)


def test_wrong_arguments(shop):
    with pytest.raises(TypeError, match="Engine or Connection"):
        explain("sqlite://", "SELECT 1")
    with pytest.raises(TypeError, match="SQL query as text"):
        explain(shop, 42)
    with pytest.raises(TypeError, match="SQL query as text"):
        explain(shop, "   ")


def test_other_dialects_are_refused(shop, monkeypatch):
    engine = sa.create_engine("sqlite://")
    monkeypatch.setattr(engine.dialect, "name", "oracle")
    with pytest.raises(ValueError, match="knows SQLite and PostgreSQL, not 'oracle'"):
        explain(engine, "SELECT 1")


@pytest.mark.parametrize(
    ("detail", "access", "table", "index", "covering", "automatic"),
    [
        ("SCAN TABLE orders", "scan", "orders", None, False, False),  # SQLite before 3.36
        ("SEARCH TABLE orders USING INDEX ix (customer_id=?)", "search", "orders", "ix", False, False),
        ("SCAN orders USING INDEX ix", "scan", "orders", "ix", False, False),  # read for its order
        ("SEARCH l USING AUTOMATIC PARTIAL COVERING INDEX (order_id=?)", "search", "l", "AUTOMATIC", True, True),
        ("SEARCH t USING PRIMARY KEY (id=?)", "search", "t", "PRIMARY KEY", False, False),
        ("SCAN CONSTANT ROW", "other", None, None, False, False),
        ("USE TEMP B-TREE FOR ORDER BY", "other", None, None, False, False),
        ("BLOOM FILTER ON l (order_id=?)", "other", None, None, False, False),
    ],
)
def test_sqlite_plan_lines(detail, access, table, index, covering, automatic):
    [step] = Plan.from_sqlite([(2, 0, 0, detail)]).steps
    assert (step.access, step.table, step.index, step.covering, step.automatic) == (
        access, table, index, covering, automatic,
    )


# --- PostgreSQL, from canned EXPLAIN (FORMAT JSON) output ----------------------------------------

# Recorded from PostgreSQL 16 on the bookshop schema (costs kept to show what is ignored).
PG_SEQ_SCAN = [
    {
        "Plan": {
            "Node Type": "Seq Scan", "Parallel Aware": False, "Relation Name": "orders",
            "Alias": "orders", "Startup Cost": 0.0, "Total Cost": 1887.0, "Plan Rows": 10,
            "Plan Width": 24, "Filter": "(customer_id = 42)",
        }
    }
]
PG_INDEX_SCAN = [
    {
        "Plan": {
            "Node Type": "Index Scan", "Scan Direction": "Forward", "Index Name": "ix_orders_customer",
            "Relation Name": "orders", "Alias": "orders", "Total Cost": 44.47, "Plan Rows": 10,
            "Index Cond": "(customer_id = 42)",
        }
    }
]
PG_INDEX_ONLY_SCAN = [
    {
        "Plan": {
            "Node Type": "Index Only Scan", "Index Name": "ix_orders_customer_date",
            "Relation Name": "orders", "Index Cond": "(customer_id = 42)",
        }
    }
]
PG_BITMAP = [
    {
        "Plan": {
            "Node Type": "Bitmap Heap Scan", "Relation Name": "orders", "Recheck Cond": "(status = 'paid')",
            "Plans": [
                {
                    "Node Type": "Bitmap Index Scan", "Parent Relationship": "Outer",
                    "Index Name": "ix_orders_status", "Index Cond": "(status = 'paid')",
                }
            ],
        }
    }
]
PG_FULL_INDEX_SCAN = [  # ORDER BY customer_id: the index is read end to end, for its order
    {"Plan": {"Node Type": "Index Scan", "Index Name": "ix_orders_customer", "Relation Name": "orders"}}
]
PG_JOIN = [
    {
        "Plan": {
            "Node Type": "Nested Loop", "Join Type": "Inner",
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "customers", "Filter": "(city = 'Lyon')"},
                {
                    "Node Type": "Index Scan", "Index Name": "ix_orders_customer",
                    "Relation Name": "orders", "Index Cond": "(customer_id = customers.id)",
                },
            ],
        }
    }
]


def test_postgres_seq_scan():
    plan = Plan.from_postgres(PG_SEQ_SCAN)
    assert plan.dialect == "postgresql"
    assert str(plan) == "QUERY PLAN\n`--Seq Scan on orders (customer_id = 42)"
    assert plan.is_full_scan and not plan.uses_index() and not plan.is_covering
    assert plan.steps[0].condition is None  # a filter is tested on each row, it searches nothing


def test_postgres_index_scan():
    plan = Plan.from_postgres(PG_INDEX_SCAN)
    assert str(plan) == "QUERY PLAN\n`--Index Scan using ix_orders_customer on orders (customer_id = 42)"
    assert plan.uses_index("ix_orders_customer") and not plan.is_full_scan and not plan.is_covering
    assert plan.steps[0].condition == "(customer_id = 42)"


def test_postgres_index_only_scan_is_covering():
    plan = Plan.from_postgres(PG_INDEX_ONLY_SCAN)
    assert plan.is_covering and plan.uses_index("ix_orders_customer_date")


def test_postgres_bitmap_scan():
    plan = Plan.from_postgres(PG_BITMAP)
    assert plan.lines() == [
        "QUERY PLAN",
        "`--Bitmap Heap Scan on orders",
        "   `--Bitmap Index Scan on ix_orders_status (status = 'paid')",
    ]
    assert plan.uses_index("ix_orders_status") and not plan.is_full_scan


def test_postgres_index_read_without_condition_is_a_scan():
    plan = Plan.from_postgres(PG_FULL_INDEX_SCAN)
    assert plan.is_full_scan and not plan.uses_index()
    assert plan.indexes == ["ix_orders_customer"]


def test_postgres_join_tree():
    plan = Plan.from_postgres(PG_JOIN)
    assert plan.lines() == [
        "QUERY PLAN",
        "`--Nested Loop",
        "   |--Seq Scan on customers (city = 'Lyon')",
        "   `--Index Scan using ix_orders_customer on orders (customer_id = customers.id)",
    ]
    assert plan.is_full_scan and plan.uses_index("ix_orders_customer")


def test_postgres_accepts_json_text_list_or_dict():
    assert Plan.from_postgres(json.dumps(PG_INDEX_SCAN)).steps == Plan.from_postgres(PG_INDEX_SCAN).steps
    assert Plan.from_postgres(PG_INDEX_SCAN[0]).uses_index()


@pytest.mark.parametrize("document", ["[]", [], {"plan": {}}, [{"Plan": "Seq Scan"}], "42"])
def test_postgres_malformed_output(document):
    with pytest.raises(ValueError, match="EXPLAIN"):
        Plan.from_postgres(document)


def test_explain_on_postgres_sends_explain_json(monkeypatch):
    """The whole PostgreSQL path of explain(), with SQLite standing in for the server: the
    statement it sends is checked, then replaced by one returning canned JSON text."""
    engine = sa.create_engine("sqlite://")
    monkeypatch.setattr(engine.dialect, "name", "postgresql")
    sent = []

    @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
    def answer_like_postgres(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))
        return "SELECT ?", (json.dumps(PG_INDEX_SCAN),)

    plan = explain(engine, "SELECT * FROM orders WHERE customer_id = :customer", {"customer": 42})
    assert sent == [("EXPLAIN (FORMAT JSON) SELECT * FROM orders WHERE customer_id = ?", (42,))]
    assert plan.dialect == "postgresql" and plan.uses_index("ix_orders_customer")
    assert plan.sql == "SELECT * FROM orders WHERE customer_id = :customer"


# --- btree_shape --------------------------------------------------------------------------------


def test_btree_shape(shop):
    table = btree_shape(shop, "orders")
    index = btree_shape(shop, "ix_orders_customer_date")
    assert isinstance(table, BTreeShape) and table.name == "orders"
    assert table.pages > index.pages >= 1  # the index holds two columns, the table four
    assert 1 <= index.depth <= table.depth <= 3
    with shop.connect() as conn:
        assert btree_shape(conn, "orders") == table


def test_btree_shape_errors(shop, monkeypatch):
    with pytest.raises(ValueError, match="no table or index named 'nope'"):
        btree_shape(shop, "nope")
    engine = sa.create_engine("sqlite://")
    monkeypatch.setattr(engine.dialect, "name", "mysql")
    with pytest.raises(ValueError, match="knows SQLite and PostgreSQL, not 'mysql'"):
        btree_shape(engine, "orders")


def test_btree_shape_without_dbstat(monkeypatch):
    engine = sa.create_engine("sqlite://")

    @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
    def as_if_not_compiled_in(conn, cursor, statement, parameters, context, executemany):
        return statement.replace("dbstat", "no_dbstat_here"), parameters

    with pytest.raises(ValueError, match="built without the dbstat table"):
        btree_shape(engine, "orders")


# --- plans on pooled connections whose cached schema is stale ----------------------------------


def test_a_plan_sees_an_index_another_connection_just_changed(tmp_path):
    """07-indexing once printed plans one CREATE INDEX late: a pooled connection caches the
    schema and EXPLAIN QUERY PLAN does not read the file. Mutation: drop the refresh in
    explain() and this fails in about half of the rounds."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
    first, second = engine.connect(), engine.connect()
    wrong = []
    for round_ in range(40):
        writer, reader = (first, second) if round_ % 2 else (second, first)
        explain(reader, "SELECT * FROM t WHERE a = 2")  # the reader caches the schema it knows
        writer.exec_driver_sql("DROP INDEX IF EXISTS ix_a")
        indexed = round_ % 3 != 0
        if indexed:
            writer.exec_driver_sql("CREATE INDEX ix_a ON t (a)")
        writer.commit()
        if explain(reader, "SELECT * FROM t WHERE a = 2").uses_index("ix_a") != indexed:
            wrong.append(round_)
        if btree_shape(reader, "t").pages < 1 or (indexed and btree_shape(reader, "ix_a").pages < 1):
            wrong.append(round_)
        reader.rollback()
    first.close(), second.close()
    engine.dispose()
    assert wrong == []
