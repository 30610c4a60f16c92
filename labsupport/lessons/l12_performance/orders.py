"""Orders with their lines, generated into the notebook's ORM tables at any size.

Introduced in 12-performance-and-caching. The notebook declares the models (``customers``,
``orders``, ``order_lines``: the lesson is in them); this module only fills their tables, by
table name through SQLAlchemy Core, so the notebook's N+1 sweep, its prediction and the
exercise's checker all get the same kind of data on SQLite and on PostgreSQL.

The data has the traps a report over it must survive: some orders have no lines (an inner
join drops them), customers share names (grouping by name merges them), and there are half as
many customers as orders (so a lazy ``order.customer`` also costs a query per customer).
"""

from __future__ import annotations

import random

import sqlalchemy as sa

__all__ = ["NAMES", "fill_orders"]

NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
_TITLES = ("Dune", "Emma", "Ulysses", "Beloved", "Middlemarch", "Solaris", "Kindred", "Persuasion")


def fill_orders(engine: sa.Engine, metadata: sa.MetaData, orders: int, *, seed: int = 0) -> dict[str, int]:
    """Drop and recreate the tables of `metadata`, then insert `orders` orders; return the row counts.

    Order ``i`` has ``i % 4`` lines (so every fourth order has none) and belongs to one of
    ``max(1, orders // 2)`` customers, whose names repeat every five customers. `seed` changes
    quantities, prices and titles, never the shape.
    """
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 1:
        raise ValueError(f"orders must be a whole number >= 1, not {orders!r}")
    tables = metadata.tables
    missing = {"customers", "orders", "order_lines"} - set(tables)
    if missing:
        raise ValueError(f"the models have no table(s) {sorted(missing)}")
    rng = random.Random(seed)
    n_customers = max(1, orders // 2)
    customers = [{"id": c, "name": NAMES[(c - 1) % len(NAMES)]} for c in range(1, n_customers + 1)]
    order_rows = [{"id": o, "customer_id": (o * 7) % n_customers + 1} for o in range(1, orders + 1)]
    lines = [
        {
            "order_id": o,
            "title": rng.choice(_TITLES),
            "quantity": rng.randint(1, 5),
            "unit_price_cents": rng.randrange(500, 4000, 5),
        }
        for o in range(1, orders + 1)
        for _ in range(o % 4)
    ]
    for number, line in enumerate(lines, start=1):
        line["id"] = number
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(tables["customers"]), customers)
        conn.execute(sa.insert(tables["orders"]), order_rows)
        if lines:
            conn.execute(sa.insert(tables["order_lines"]), lines)
    return {"customers": len(customers), "orders": len(order_rows), "order_lines": len(lines)}
