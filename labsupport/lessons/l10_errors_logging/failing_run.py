"""Exercise 2's material: the log file of a failing run of a small bookshop, and what really happened.

Introduced in 10-errors-and-logging. `failing_run(folder)` serves a bookshop with the notebook's
layers (routes → service → repository, over `sql_engine()`) and its logging (JSON lines, a request
id in every line), sends it a morning's worth of requests, and returns the path of the log file.
One request fails with a 500: the repository builds its search query by pasting the title in, and
a title with an apostrophe breaks the SQL. Around it are requests that end in 404, 409, 422 and a
slow dependency (a WARNING), which are the app working as designed, not bugs.

The student reads the file alone; the truth of the run (which request failed, in which layer,
why) is kept here, keyed by the file's path, for `check_log_diagnosis`.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pythonjsonlogger.json import JsonFormatter

from labsupport.databases import sql_engine
from labsupport.servers import serve

__all__ = ["CAUSES", "LAYERS", "Diagnosis", "failing_run", "truth_of"]

LAYERS = ("http", "route", "service", "repository")
"""The layers a log line can come from; each logs as ``shop.<layer>``."""

CAUSES = {
    "database-down": "the database could not be reached",
    "missing-book": "the client asked for a book that does not exist",
    "out-of-stock": "a book was sold out",
    "invalid-body": "the client sent a body that failed validation",
    "slow-dependency": "the courier service answered too slowly",
    "quote-in-sql": "a title with an apostrophe broke an SQL statement built by pasting the title in",
}
"""The causes exercise 2 chooses from: one is the bug, the others happen in the run as designed."""

_FAILING_TITLE = "The Hitchhiker's Guide to the Galaxy"


@dataclass(frozen=True)
class Diagnosis:
    """What really happened in a failing run: the failed request, its layer and its cause."""

    request_id: str
    layer: str
    cause: str
    statuses: dict[str, int]  # every request id of the run -> the status it got


_RUNS: dict[Path, Diagnosis] = {}
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("failing_run_request_id", default="-")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class _Purchase(BaseModel):
    book_id: int
    quantity: int = Field(gt=0, le=10)


def _shop(engine: sa.Engine) -> FastAPI:
    """The buggy shop: the same layers and log lines as the notebook's, one careless query."""
    http, routes = logging.getLogger("shop.http"), logging.getLogger("shop.route")
    service, repository = logging.getLogger("shop.service"), logging.getLogger("shop.repository")
    app = FastAPI()

    def find_by_id(book_id: int) -> dict[str, Any] | None:
        repository.debug("SELECT id, title, stock FROM books WHERE id = :id", extra={"params": {"id": book_id}})
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT id, title, stock FROM books WHERE id = :id"), {"id": book_id})
            found = row.mappings().first()
        return dict(found) if found else None

    def find_by_title(title: str) -> list[dict[str, Any]]:
        statement = f"SELECT id, title, stock FROM books WHERE title = '{title}'"  # the bug
        repository.debug(statement)
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(sa.text(statement)).mappings()]

    def take_from_stock(book_id: int, quantity: int) -> bool:
        repository.debug("UPDATE books SET stock = stock - :q WHERE id = :id AND stock >= :q",
                         extra={"params": {"id": book_id, "q": quantity}})
        with engine.begin() as conn:
            result = conn.execute(
                sa.text("UPDATE books SET stock = stock - :q WHERE id = :id AND stock >= :q"),
                {"id": book_id, "q": quantity},
            )
        return result.rowcount == 1

    def search(title: str) -> list[dict[str, Any]]:
        service.debug("search", extra={"title": title})
        return find_by_title(title)

    def buy(book_id: int, quantity: int) -> dict[str, Any]:
        book = find_by_id(book_id)
        if book is None:
            service.info("no such book", extra={"book_id": book_id})
            raise HTTPException(404, f"There is no book {book_id}.")
        if not take_from_stock(book_id, quantity):
            service.info("out of stock", extra={"book_id": book_id, "wanted": quantity})
            raise HTTPException(409, f"{book['title']} is sold out.")
        service.info("order placed", extra={"book_id": book_id, "quantity": quantity})
        return {"book_id": book_id, "quantity": quantity}

    def delivery(book_id: int, slow: bool) -> dict[str, Any]:
        if slow:
            service.warning("courier did not answer within 0.3 s; using the standard estimate",
                            extra={"book_id": book_id})
        return {"book_id": book_id, "days": 3 if slow else 2}

    @app.get("/api/books")
    def search_books(title: str) -> list[dict[str, Any]]:
        routes.debug("search_books", extra={"title": title})
        return search(title)

    @app.post("/api/orders", status_code=201)
    def place_order(purchase: _Purchase) -> dict[str, Any]:
        routes.debug("place_order", extra={"book_id": purchase.book_id})
        return buy(purchase.book_id, purchase.quantity)

    @app.get("/api/books/{book_id}/delivery")
    def delivery_estimate(book_id: int, slow: bool = False) -> dict[str, Any]:
        routes.debug("delivery_estimate", extra={"book_id": book_id})
        return delivery(book_id, slow)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Any) -> Any:
        token = _request_id.set(uuid.uuid4().hex[:12])
        started, status = time.perf_counter(), 500
        try:
            response = await call_next(request)
            status = response.status_code
        except Exception:
            http.exception("unhandled error")
            response = JSONResponse({"title": "Internal Server Error", "status": 500}, status_code=500)
        response.headers["X-Request-ID"] = _request_id.get()
        http.info("request finished", extra={"method": request.method, "path": request.url.path,
                                             "status": status, "ms": round((time.perf_counter() - started) * 1000, 1)})
        _request_id.reset(token)
        return response

    return app


_REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/books?title=Dune", None),
    ("POST", "/api/orders", {"book_id": 1, "quantity": 1}),
    ("GET", "/api/books?title=Emma", None),
    ("POST", "/api/orders", {"book_id": 2, "quantity": 1}),  # Emma: sold out, 409
    ("GET", "/api/books/1/delivery", None),
    ("POST", "/api/orders", {"book_id": 9, "quantity": 1}),  # no such book, 404
    ("GET", "/api/books/3/delivery?slow=true", None),  # WARNING, still 200
    ("POST", "/api/orders", {"book_id": 3, "quantity": 0}),  # invalid body, 422
    ("GET", "/api/books?title=" + _FAILING_TITLE.replace(" ", "%20"), None),  # the bug, 500
    ("GET", "/api/books?title=Ulysses", None),  # the database is fine: the next query works
    ("POST", "/api/orders", {"book_id": 3, "quantity": 2}),
    ("GET", "/api/books/2/delivery", None),
]


def failing_run(folder: Path | str) -> Path:
    """Run the buggy shop for a dozen requests; return the path of its JSON-lines log file in `folder`."""
    path = Path(folder) / "failing-run.jsonl"
    engine = sql_engine()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE books (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL, "
                             "stock INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO books (id, title, stock) VALUES (:id, :title, :stock)"), [
            {"id": 1, "title": "Dune", "stock": 5}, {"id": 2, "title": "Emma", "stock": 0},
            {"id": 3, "title": "Ulysses", "stock": 4}, {"id": 4, "title": _FAILING_TITLE, "stock": 2},
        ])
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{request_id}{message}", style="{"))
    handler.addFilter(_RequestIdFilter())
    shop = logging.getLogger("shop")
    saved = (shop.handlers[:], shop.level, shop.propagate)
    shop.handlers, shop.propagate = [handler], False
    shop.setLevel(logging.DEBUG)
    statuses: dict[str, int] = {}
    try:
        with serve(_shop(engine), name="failing-run") as server:
            for method, url, body in _REQUESTS:
                response = server.client.request(method, url, json=body)
                statuses[response.headers["X-Request-ID"]] = response.status_code
    finally:
        shop.handlers, shop.propagate = saved[0], saved[2]
        shop.setLevel(saved[1])
        handler.close()
        engine.dispose()
    failed = [request_id for request_id, status in statuses.items() if status >= 500]
    assert len(failed) == 1, statuses  # the run is deterministic: one request hits the bug
    _RUNS[path.resolve()] = Diagnosis(failed[0], "repository", "quote-in-sql", statuses)
    return path


def truth_of(path: Path | str) -> Diagnosis | None:
    """What really happened in the run that wrote `path` (None if no run in this process wrote it)."""
    return _RUNS.get(Path(path).resolve())
