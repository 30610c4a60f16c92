"""What a layer uses: packages resolved from the names its functions use, SQL text, the rules;
and the tangled endpoint the exercise starts from."""

from __future__ import annotations

import functools

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from sqlalchemy import text

from labsupport.databases import sql_engine
from labsupport.lessons.l11_architecture.layers import (
    layer_problems,
    layer_report,
    modules_used,
    sql_strings,
    tangled_quote_app,
)
from labsupport.schema import books, create_tables
from labsupport.servers import serve


class Repository:
    def __init__(self, engine):
        self.engine = engine

    def get(self, book_id):
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT * FROM books WHERE id = :id"), {"id": book_id}).first()


class Service:
    def __init__(self, repository):
        self.repository = repository

    def get(self, book_id):
        book = self.repository.get(book_id)
        if book is None:
            raise LookupError(book_id)
        return book


class LeakyService(Service):
    @property
    def count(self):
        return text("select count(*) from books")  # `text` imported by name, lower-case SQL

    @staticmethod
    def fail():
        raise HTTPException(404)


def make_routes(service):
    app = FastAPI()

    @app.get("/books/{book_id}")
    def show(book_id: int):  # a nested function: found through the outer one's code
        return service.get(book_id)

    return app


def make_leaky_routes(engine):
    app = FastAPI()

    @app.get("/count")
    def count():  # only the nested route touches the database
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM books")).scalar_one()

    return app


def test_modules_used_reads_methods_nested_functions_and_bases():
    """Mutation that failed this: not walking nested code objects (make_leaky_routes then used fastapi only)."""
    assert modules_used(make_leaky_routes) == {"fastapi", "sqlalchemy"}
    assert sql_strings(make_leaky_routes) == ["SELECT count(*) FROM books"]
    assert modules_used(Repository) == {"sqlalchemy"}
    assert modules_used(Service) == set()
    assert modules_used(LeakyService) == {"sqlalchemy", "fastapi"}  # property, staticmethod, inherited
    assert modules_used(make_routes) == {"fastapi"}
    assert modules_used(functools.wraps(make_routes)(lambda s: make_routes(s))) == {"fastapi"}


def test_sql_strings_and_layer_problems():
    """Mutation that failed this: the SQL pattern made case-sensitive (lower-case SQL slipped through)."""
    assert sql_strings(Repository) == ["SELECT * FROM books WHERE id = :id"]
    assert sql_strings(LeakyService) == ["select count(*) from books"]
    assert layer_problems("repository", Repository) == []
    assert layer_problems("service", Service) == []
    assert layer_problems("service", LeakyService) == ["fastapi", "sqlalchemy", "SQL text"]
    assert layer_problems("route", Repository) == ["sqlalchemy", "SQL text"]
    with pytest.raises(ValueError):
        layer_problems("controller", Service)


def test_layer_report_rows():
    rows = layer_report({"Repository": ("repository", Repository), "LeakyService": ("service", LeakyService)})
    assert rows == [
        {"code": "Repository", "layer": "repository", "uses": "sqlalchemy, SQL text", "breaks the rules with": "-"},
        {
            "code": "LeakyService",
            "layer": "service",
            "uses": "fastapi, sqlalchemy, SQL text",
            "breaks the rules with": "fastapi, sqlalchemy, SQL text",
        },
    ]


@pytest.mark.usefixtures("stop_servers")
def test_tangled_quote_app_answers_as_its_docstring_says():
    """Mutation that failed this: the discount from 4 copies (`quantity > 3`)."""
    engine = sql_engine()
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(
            books.insert(), [{"id": 1, "title": "T", "author": "A", "genre": "g", "price_cents": 1997, "stock": 4}]
        )
    with serve(tangled_quote_app(engine), name="tangled") as server:
        answers = {q: server.client.get(f"/books/1/quote?quantity={q}") for q in (2, 3, 5, 0, 21)}
        assert answers[2].json()["total_cents"] == 3994
        assert answers[3].json()["total_cents"] == 5391  # 5991 less 10 %, rounded down
        assert {q: r.status_code for q, r in answers.items()} == {2: 200, 3: 200, 5: 409, 0: 422, 21: 422}
        assert server.client.get("/books/9/quote?quantity=0").status_code == 404  # the book is checked first
