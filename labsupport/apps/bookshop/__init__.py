"""The reference bookshop app: routes → services → repositories over SQLAlchemy.

Introduced in 00-start-here as the example of a back end in three layers, each in its own module:

- `routes` — HTTP: URLs, request and response models (`schemas`), status codes;
- `services` — business rules and domain errors, with no HTTP and no SQL;
- `repositories` — SQL on the `labsupport.schema` tables, one transaction per unit of work.

``create_app()`` wires them together; ``serve(create_app(), name="bookshop")`` runs it.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from labsupport.apps.bookshop.repositories import Store
from labsupport.apps.bookshop.routes import (
    HeadAsGet,
    domain_error_response,
    method_not_allowed_response,
    router,
    validation_error_response,
)
from labsupport.apps.bookshop.services import BookshopError, BookshopService
from labsupport.databases import sql_engine
from labsupport.datagen import load_bookshop
from labsupport.schema import create_tables
from labsupport.tracing import ServerTimingMiddleware, instrument_engine

__all__ = ["create_app"]


def create_app(engine: sa.Engine | None = None, *, orders: int = 200, seed: int = 0) -> FastAPI:
    """The bookshop API on `engine`, or on a fresh SQLite database filled with generated data.

    Without an engine it makes one with `sql_engine()` and loads
    ``load_bookshop(engine, orders=orders, seed=seed)`` into it; a given engine is used as it is
    (tables are created if missing, nothing is loaded). The engine is kept on
    ``app.state.engine``. Every response carries a `Server-Timing` header (`labsupport.tracing`).
    """
    if engine is None:
        engine = sql_engine()
        load_bookshop(engine, orders=orders, seed=seed)
    else:
        create_tables(engine)
    app = FastAPI(
        title="Bookshop API",
        version="1.0.0",
        description="The reference app of backend-lab: books, customers and orders.",
    )
    app.state.engine = instrument_engine(engine)
    app.state.service = BookshopService(Store(engine))
    app.include_router(router)
    # Starlette types a handler as taking any Exception, not the class it is registered for
    # (its issue #2417), so a handler that takes that class needs the ignore.
    app.add_exception_handler(BookshopError, domain_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(405, method_not_allowed_response)  # type: ignore[arg-type]
    app.add_middleware(ServerTimingMiddleware)
    app.add_middleware(HeadAsGet)
    return app
