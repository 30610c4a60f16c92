"""Tests for labsupport.lessons.l12_performance.orders: the shape of the generated orders (the traps the
exercise's checker relies on) and that filling twice starts over."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from labsupport.databases import sql_engine
from labsupport.lessons.l12_performance.orders import NAMES, fill_orders
from lessons.l12_performance.models import Base


@pytest.fixture
def engine():
    engine = sql_engine()
    yield engine
    engine.dispose()


def _scalar(engine, sql):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_counts_and_shape(engine):
    """Order i has i % 4 lines; half as many customers as orders.
    Mutation that failed this: `range(o % 4)` changed to `range(1 + o % 3)` (no order without lines)."""
    counts = fill_orders(engine, Base.metadata, 50)
    assert counts == {"customers": 25, "orders": 50, "order_lines": 75}
    assert _scalar(engine, "SELECT count(*) FROM order_lines") == 75
    empty = _scalar(engine, "SELECT count(*) FROM orders o WHERE NOT EXISTS "
                            "(SELECT 1 FROM order_lines l WHERE l.order_id = o.id)")
    assert empty == 12  # orders 4, 8, ..., 48: the trap for an inner join


def test_customers_share_names_and_have_several_orders(engine):
    """The traps for grouping by name and for a lazy order.customer.
    Mutation that failed this: customer names made unique (`f"{NAMES[...]} {c}"`)."""
    fill_orders(engine, Base.metadata, 24)
    assert _scalar(engine, "SELECT count(DISTINCT name) FROM customers") == len(NAMES) < 12
    assert _scalar(engine, "SELECT count(DISTINCT customer_id) FROM orders") == 12


def test_filling_again_starts_over(engine):
    """Mutation that failed this: `metadata.drop_all(engine)` removed (the second fill hit duplicate keys)."""
    fill_orders(engine, Base.metadata, 30)
    assert fill_orders(engine, Base.metadata, 8) == {"customers": 4, "orders": 8, "order_lines": 12}
    assert _scalar(engine, "SELECT count(*) FROM orders") == 8


def test_seed_changes_values_not_shape(engine):
    fill_orders(engine, Base.metadata, 20, seed=1)
    first = _scalar(engine, "SELECT sum(quantity * unit_price_cents) FROM order_lines")
    fill_orders(engine, Base.metadata, 20, seed=2)
    assert _scalar(engine, "SELECT count(*) FROM order_lines") == 30
    assert _scalar(engine, "SELECT sum(quantity * unit_price_cents) FROM order_lines") != first


@pytest.mark.parametrize("orders", [0, -3, True, 2.0, "10"])
def test_orders_must_be_a_positive_whole_number(engine, orders):
    with pytest.raises(ValueError, match="whole number"):
        fill_orders(engine, Base.metadata, orders)


def test_models_without_the_tables_are_refused(engine):
    with pytest.raises(ValueError, match="no table"):
        fill_orders(engine, sa.MetaData(), 5)
