"""What the bookshop API accepts and returns: pydantic models, one per JSON shape.

Part of the bookshop that 00-start-here introduces. Every field is
bounded (lengths, ranges, allowed characters) so that bad input is refused with a 422 that says
which field is wrong, before any code of ours runs, and the OpenAPI schema that FastAPI builds
from these models tells clients exactly what is accepted. Request models are strict (``true``
or ``"12"`` is not a number) and forbid unknown fields, so a client cannot slip in an ``id`` it
should not set (mass assignment).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "MAX_ID",
    "BookIn",
    "Bestseller",
    "Book",
    "BookQuery",
    "CustomerIn",
    "Customer",
    "OrderLineIn",
    "OrderIn",
    "OrderLine",
    "Order",
    "ErrorMessage",
    "Health",
]

MAX_ID = 2**31 - 1  # the largest id we accept: a 32-bit integer column everywhere
# No NUL, newline or other control character (C0, DEL, C1). Classes spelled out rather than \s,
# which means different things to different regex engines (clients generate from this pattern).
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"

Title = Annotated[str, Field(min_length=1, max_length=200, pattern=_PRINTABLE)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=_PRINTABLE)]
Genre = Annotated[str, Field(min_length=1, max_length=50, pattern=_PRINTABLE)]
Email = Annotated[
    str, Field(max_length=200, pattern=r"^[^@ \x00-\x1f\x7f-\x9f]+@[^@ \x00-\x1f\x7f-\x9f]+$")
]


def _json_integer(value: object) -> object:
    # JSON has one kind of number, so 3.0 is the integer 3 (JSON Schema agrees); request
    # models are strict, so `true` and "3" still are not.
    return int(value) if isinstance(value, float) and value.is_integer() else value


_integer = BeforeValidator(_json_integer)  # after Field(...), or the schema loses min/max
Id = Annotated[int, Field(ge=1, le=MAX_ID), _integer]
Cents = Annotated[int, Field(ge=0, le=10**8, description="Money in cents: 1299 is 12.99"), _integer]
Stock = Annotated[int, Field(ge=0, le=1_000_000), _integer]
Quantity = Annotated[int, Field(ge=1, le=1000), _integer]
BookSort = Literal["id", "-id", "title", "-title", "author", "-author", "price", "-price"]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class BookIn(_Request):
    """A book as a client sends it to create (POST) or replace (PUT) one; the server picks ids."""

    title: Title
    author: Name
    genre: Genre
    price_cents: Cents
    stock: Stock


class Book(BaseModel):
    """A book as the server returns it (fields repeated so that the id comes first)."""

    id: Id
    title: Title
    author: Name
    genre: Genre
    price_cents: Cents
    stock: Stock


class Bestseller(BaseModel):
    """One line of the bestseller report."""

    id: Id
    title: Title
    author: Name
    copies_sold: int


class BookQuery(BaseModel):
    """The query string of ``GET /api/books``: filters, sort order ("-" descends) and page."""

    genre: Genre | None = None
    author: Name | None = None
    sort: BookSort = "id"
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_ID)


class CustomerIn(_Request):
    name: Name
    email: Email
    city: Name


class Customer(BaseModel):
    id: Id
    name: Name
    email: Email
    city: Name


class OrderLineIn(_Request):
    book_id: Id
    quantity: Quantity


class OrderIn(_Request):
    customer_id: Id
    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)


class OrderLine(BaseModel):
    book_id: Id
    quantity: Quantity
    unit_price_cents: Cents = Field(description="The book's price when the order was placed")


class Order(BaseModel):
    id: Id
    customer_id: Id
    ordered_on: dt.date
    status: str
    lines: list[OrderLine]
    total_cents: int = Field(ge=0, description="Sum of quantity × unit price over the lines")


class ErrorMessage(BaseModel):
    """The body of every error response but 422: what went wrong, in words."""

    detail: str = Field(examples=["book 42 not found"])


class Health(BaseModel):
    status: Literal["ok"]
