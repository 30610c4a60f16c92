"""The bookshop's tables, shared by `datagen` (which fills them) and `apps.bookshop` (which serves them).

Introduced in 04-sql. One `MetaData` so every notebook talks about the same four tables:

    customers 1──* orders 1──* order_lines *──1 books

Money is stored in integer cents (floats cannot hold 0.10 exactly); dates are ISO strings
``YYYY-MM-DD`` so that bulk loads can pass plain tuples to the driver.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "customers", "books", "orders", "order_lines", "create_tables"]

metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("city", sa.String(100), nullable=False),
)

books = sa.Table(
    "books",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("genre", sa.String(50), nullable=False),
    sa.Column("price_cents", sa.Integer, sa.CheckConstraint("price_cents >= 0"), nullable=False),
    sa.Column("stock", sa.Integer, sa.CheckConstraint("stock >= 0"), nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("ordered_on", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("book_id", sa.Integer, sa.ForeignKey("books.id"), nullable=False),
    sa.Column("quantity", sa.Integer, sa.CheckConstraint("quantity > 0"), nullable=False),
    sa.Column("unit_price_cents", sa.Integer, nullable=False),
)


def create_tables(engine: sa.Engine) -> None:
    """Create the four bookshop tables (no indexes beyond keys: 07-indexing adds its own)."""
    metadata.create_all(engine)
