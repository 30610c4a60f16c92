"""The bookshop's HTTP layer: URLs and methods in, status codes and JSON out.

Introduced in 00-start-here. Each route lets FastAPI validate the request against a model from
`schemas` (a 422 if it does not fit), makes one call to the `BookshopService`, and returns the
result, which FastAPI checks against the response model. Nothing here knows about SQL; the
service's domain errors become 404 and 409 responses in one place, `domain_error_response`.
Routes record their time under ``route`` for the request trace (`labsupport.tracing`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labsupport.apps.bookshop.schemas import (
    MAX_ID,
    Bestseller,
    Book,
    BookIn,
    BookQuery,
    Customer,
    CustomerIn,
    ErrorMessage,
    Health,
    Order,
    OrderIn,
)
from labsupport.apps.bookshop.services import BookshopError, BookshopService, NotFound
from labsupport.tracing import span

__all__ = [
    "router",
    "errors",
    "domain_error_response",
    "validation_error_response",
    "method_not_allowed_response",
]

router = APIRouter(prefix="/api")


def get_service(request: Request) -> BookshopService:
    return request.app.state.service


Service = Annotated[BookshopService, Depends(get_service)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

_ERRORS = {
    400: "The body is not readable text (JSON must be UTF-8)",
    404: "No such book, customer or order",
    409: "Conflicts with the current data",
}
LOCATION = {"description": "URL of the new resource", "schema": {"type": "string"}}
CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": {"Location": LOCATION}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route can give, for the OpenAPI schema (FastAPI adds 422 itself)."""
    return {status: {"model": ErrorMessage, "description": _ERRORS[status]} for status in statuses}


@router.get("/health", response_model=Health)
def health() -> dict:
    return {"status": "ok"}


@router.get("/books", response_model=list[Book])
@span("route")
def list_books(query: Annotated[BookQuery, Query()], service: Service) -> list[dict]:
    return service.list_books(**query.model_dump())


@router.get("/books/{book_id}", response_model=Book, responses=errors(404))
@span("route")
def get_book(book_id: PathId, service: Service) -> dict:
    return service.get_book(book_id)


@router.post("/books", status_code=201, response_model=Book, responses=CREATED | errors(400))
@span("route")
def add_book(book: BookIn, service: Service, response: Response) -> dict:
    created = service.add_book(book.model_dump())
    response.headers["Location"] = router.url_path_for("get_book", book_id=created["id"])
    return created


@router.put("/books/{book_id}", response_model=Book, responses=errors(400, 404))
@span("route")
def replace_book(book_id: PathId, book: BookIn, service: Service) -> dict:
    return service.replace_book(book_id, book.model_dump())


@router.delete("/books/{book_id}", status_code=204, responses=errors(404, 409))
@span("route")
def delete_book(book_id: PathId, service: Service) -> None:
    service.delete_book(book_id)


@router.get("/reports/bestsellers", response_model=list[Bestseller])
@span("route")
def bestsellers(service: Service, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict]:
    return service.bestsellers(limit)


@router.get("/customers/{customer_id}", response_model=Customer, responses=errors(404))
@span("route")
def get_customer(customer_id: PathId, service: Service) -> dict:
    return service.get_customer(customer_id)


@router.post(
    "/customers", status_code=201, response_model=Customer, responses=CREATED | errors(400, 409)
)
@span("route")
def add_customer(customer: CustomerIn, service: Service, response: Response) -> dict:
    created = service.add_customer(customer.model_dump())
    response.headers["Location"] = router.url_path_for("get_customer", customer_id=created["id"])
    return created


@router.post(
    "/orders", status_code=201, response_model=Order, responses=CREATED | errors(400, 404, 409)
)
@span("route")
def place_order(order: OrderIn, service: Service, response: Response) -> dict:
    placed = service.place_order(**order.model_dump())
    response.headers["Location"] = router.url_path_for("get_order", order_id=placed["id"])
    return placed


@router.get("/orders/{order_id}", response_model=Order, responses=errors(404))
@span("route")
def get_order(order_id: PathId, service: Service) -> dict:
    return service.get_order(order_id)


def domain_error_response(request: Request, error: BookshopError) -> Response:
    """A broken business rule as HTTP: 404 for what does not exist, 409 for a clash."""
    status = 404 if isinstance(error, NotFound) else 409
    return _json_response(status, {"detail": str(error)})


def validation_error_response(request: Request, error: RequestValidationError) -> Response:
    """A 422 listing each invalid field: where it is (``loc``), what is wrong (``msg``, ``type``).

    FastAPI's default handler also echoes the input back, which breaks (a 500) on a value JSON
    cannot carry back, such as a lone surrogate "\\ud800" or a number too big for a float.
    """
    detail = [{"type": e["type"], "loc": e["loc"], "msg": e["msg"]} for e in error.errors()]
    return _json_response(422, {"detail": detail})


def method_not_allowed_response(request: Request, error: HTTPException) -> Response:
    """A 405 whose ``Allow`` header lists every method of the path, as HTTP requires.

    Starlette keeps one route per path and method and names only the first one's methods:
    ``PATCH /api/books/1`` was told ``Allow: GET`` although PUT and DELETE work there too.
    """
    path = request.url.path
    routes = [route for route in router.routes if isinstance(route, APIRoute) and route.path_regex.match(path)]
    methods = {method for route in routes for method in route.methods or ()}
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET without the body (`HeadAsGet` in create_app)
    allow = ", ".join(sorted(methods)) if methods else (error.headers or {}).get("Allow", "")
    return _json_response(405, {"detail": error.detail}, headers={"Allow": allow})


def _json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    # json.dumps escapes every non-ASCII character, so any text a client sent can be sent back.
    return Response(json.dumps(body), status, headers, media_type="application/json")


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answered as ``GET`` without the body, wherever GET works.

    HTTP requires it (RFC 9110 §9.3.2: the same status and headers as GET, no content), and
    clients and caches use it to ask about a resource cheaply; FastAPI's routes answer only
    the methods they name.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
