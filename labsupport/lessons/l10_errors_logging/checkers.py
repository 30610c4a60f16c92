"""Checkers for the exercises of 10-errors-and-logging.

- `check_debug_prediction`: how often an argument of ``logger.debug(...)`` is computed when DEBUG
  is off; the checker runs such a call itself and counts.
- `check_conflict_handler` (exercise 1): an exception handler that turns the shop's `OutOfStock`
  into a 409 problem details response. The checker registers it on a fresh app, serves it and
  buys sold-out books; it judges what a client receives (status, media type, the five members,
  a detail written for the client rather than the exception's internal message).
- `check_log_diagnosis` (exercise 2): the failed request, layer and cause read from the log of
  `failing_run`, compared with what really happened in that run.
- `check_redaction_filter` (exercise 3): a `logging.Filter` that masks secrets in log records.
  The checker logs records with secrets where they really turn up (a field named in another case,
  a field inside a request body, inside a list) through the notebook's JSON formatter, and reads
  the line that comes out; it also checks the filter leaves the caller's objects alone.
"""

from __future__ import annotations

import copy
import inspect
import io
import itertools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pythonjsonlogger.json import JsonFormatter

from labsupport.checks import Hint, NotAttempted, checker, expect_type, is_placeholder
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.lessons.l10_errors_logging.failing_run import CAUSES, LAYERS, truth_of
from labsupport.servers import serve

__all__ = ["check_conflict_handler", "check_debug_prediction", "check_log_diagnosis", "check_redaction_filter"]

PROBLEM_JSON = "application/problem+json"
_MEMBERS = ("type", "title", "status", "detail", "instance")
_names = itertools.count()


# --- predict, then run: is a DEBUG argument free when DEBUG is off? ----------------------------


def _summaries_computed(calls: int) -> int:
    """Log ``debug("...", summarize(rows))`` `calls` times on a logger at INFO; how often summarize ran."""
    logger = logging.getLogger(f"labsupport.check.debug.{next(_names)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.NullHandler())
    computed = 0

    def summarize(rows: list[int]) -> str:
        nonlocal computed
        computed += 1
        return ", ".join(map(str, rows))

    for _ in range(calls):
        logger.debug("rows: %s", summarize([1, 2, 3]))
    logging.Logger.manager.loggerDict.pop(logger.name, None)
    return computed


@checker("Predict: what does a DEBUG line cost when DEBUG is off?", expects="a whole number of calls")
def check_debug_prediction(predicted_calls: int, calls: int = 10) -> str:
    """Run `calls` ``logger.debug("rows: %s", summarize(rows))`` at level INFO; compare the count."""
    predicted = expect_type(predicted_calls, int, "a whole number, e.g. 3")
    truth = _summaries_computed(calls)
    why = (
        "Python computes a call's arguments before it makes the call: summarize(rows) runs, and only "
        "then does debug() look at the level and throw the line away."
    )
    if predicted == 0:
        raise Hint(
            f"summarize ran {truth} times, once per call, although no line was written. {why} The level "
            "check saves the formatting and the writing, not the work you do in the arguments."
        )
    if predicted == 1:
        raise Hint(f"summarize ran {truth} times, not once: nothing caches it between calls. {why}")
    if predicted != truth:
        raise Hint(f"summarize ran {truth} times: once for each of the {calls} calls. {why}")
    return (
        f"Right: {truth} times. The arguments are computed before debug() is called; only the formatting "
        "and the writing are skipped. Guard costly arguments with `if logger.isEnabledFor(logging.DEBUG):`."
    )


# --- exercise 1: OutOfStock -> 409 problem details ----------------------------------------------

_BOOKS = ((1, "Dune", 2), (2, "Emma", 5))


def _conflict_app(handler: Callable[..., Any], error: type[Exception], crashes: list[BaseException]) -> FastAPI:
    app = FastAPI()
    titles = {book_id: title for book_id, title, _ in _BOOKS}

    @app.post("/api/orders")
    def buy(order: dict[str, int]) -> dict[str, Any]:
        book_id, quantity = order["book_id"], order["quantity"]
        raise error(book_id, titles[book_id], quantity)

    app.add_exception_handler(error, handler)
    app.add_middleware(RecordCrashes, errors=crashes)
    return app


def _problem_of(response: httpx.Response, crashes: list[BaseException]) -> dict[str, Any]:
    """The response's body as a dict; Hint for every way a handler's response can be the wrong kind."""
    if crashes:
        raise Hint(f"Your handler raised {describe_exception(crashes[0])}. {_crash_advice(crashes[0])}".strip())
    status = response.status_code
    if status == 200:
        raise Hint(
            "The response was 200 OK: a JSONResponse's status_code is 200 unless you pass one. An order for a "
            "sold-out book conflicts with the book's state: pass status_code=409."
        )
    if status in (400, 422):
        raise Hint(
            f"The response was {status}, which says the request itself is malformed. It is not: it is a valid "
            "order that conflicts with the stock right now, and that is 409 Conflict."
        )
    if status != 409:
        raise Hint(f"The response was {status}; an order for a sold-out book should get 409 Conflict.")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != PROBLEM_JSON:
        raise Hint(
            f"The Content-Type was {media_type or 'missing'!r}. Problem details are sent as {PROBLEM_JSON!r} "
            f"(RFC 9457), so clients know the body's shape: JSONResponse(..., media_type={PROBLEM_JSON!r})."
        )
    try:
        body = response.json()
    except ValueError:
        raise Hint("The body is not JSON: return a JSONResponse with a dict of the problem's members.") from None
    if not isinstance(body, dict):
        raise Hint(f"The body should be a JSON object with {', '.join(_MEMBERS)}; it was a {type(body).__name__}.")
    missing = [member for member in _MEMBERS if member not in body]
    if missing:
        raise Hint(f"The problem details lack {', '.join(missing)}: send all five members, {', '.join(_MEMBERS)}.")
    return body


def _expect_no_leak(response: httpx.Response, internal: str) -> None:
    """The worst mistake first, whatever else is wrong: the exception's own message sent to the client."""
    text = response.text.replace("\\/", "/")  # JSON may escape slashes
    if (internal and internal in text) or (internal and json.dumps(internal)[1:-1] in text) or "Traceback" in text:
        raise Hint(
            "The response carries the exception's own message, which is written for the developer (here an "
            f"UPDATE statement: {internal[:50]!r}…) and tells a client how your database works. Keep it for "
            "the log; write the detail for the client from exc.title and exc.wanted."
        )


def _crash_advice(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and ("not callable" in text or "await" in text or "coroutine" in text):
        return "Return a response object, e.g. JSONResponse(body, status_code=..., media_type=...), not a dict."
    if isinstance(exc, AttributeError):
        return "Read the book from the exception's fields: exc.book_id, exc.title, exc.wanted."
    return "An exception handler must return a response; raising inside it turns the answer into a 500."


@checker(
    "Exercise 1: out of stock is a 409 problem",
    expects="an exception handler out_of_stock_handler(request, exc) and the OutOfStock class",
)
def check_conflict_handler(out_of_stock_handler: Callable[..., Any], error_class: type[Exception]) -> str:
    """Register the handler for `error_class` on a fresh app; order two sold-out books; read the answers."""
    if not callable(out_of_stock_handler):
        raise Hint("out_of_stock_handler should be a function: `async def out_of_stock_handler(request, exc): ...`.")
    if not (isinstance(error_class, type) and issubclass(error_class, Exception)):
        raise Hint("Pass the exception class itself as the second argument: OutOfStock.")
    try:
        parameters = list(inspect.signature(out_of_stock_handler).parameters)
    except (TypeError, ValueError):
        parameters = []
    if len(parameters) != 2:
        raise Hint("An exception handler takes exactly two arguments: (request, exc).")
    crashes: list[BaseException] = []
    bodies = []
    with serve(_conflict_app(out_of_stock_handler, error_class, crashes), name="check-conflict") as server:
        for book_id, title, wanted in _BOOKS:
            crashes.clear()
            response = server.client.post("/api/orders", json={"book_id": book_id, "quantity": wanted})
            _expect_no_leak(response, str(error_class(book_id, title, wanted)))
            bodies.append((title, _problem_of(response, crashes)))
    for title, body in bodies:
        if body["status"] != 409 or isinstance(body["status"], bool):
            raise Hint(
                f"The member status is {body['status']!r}; it must be the number 409, the same as the response's "
                "status code (a number, not a string)."
            )
        if not isinstance(body["detail"], str) or title not in body["detail"]:
            raise Hint(
                f"The detail for {title!r} was {body['detail']!r}. The detail explains *this* occurrence to the "
                "client: say which book is sold out (exc.title)."
            )
        for member in ("type", "title", "instance"):
            value = body[member]
            if not isinstance(value, str) or not value.strip() or (member != "title" and " " in value.strip()):
                raise Hint(
                    f"The member {member} should be a non-empty string (type and instance are URIs, without "
                    f"spaces); got {value!r}."
                )
        if body["type"] == "about:blank" and body["title"] != "Conflict":
            raise Hint(
                "With type 'about:blank' the title must be the status's own phrase, 'Conflict'. Better: a type of "
                "your own, such as 'https://bookshop.example/problems/out-of-stock', that a client can branch on."
            )
    (first_title, first), (_, second) = bodies
    if first["title"] != second["title"] or first["type"] != second["type"]:
        raise Hint(
            f"The type and title changed from one book to the next ({first['title']!r}, {second['title']!r}). They "
            "name the *kind* of problem, the same for every sold-out book; what varies goes in detail."
        )
    if first_title in first["title"]:
        raise Hint(
            "The title names the book: keep the title the same for every sold-out book, and name the book in detail."
        )
    return (
        "Right: 409 with application/problem+json, a type and title that name the kind of problem, and a detail "
        "written for the client. Why it worked: the exception carries the facts (exc.title) and the handler "
        "decides what a client may see, while str(exc), written for the developer, stays in the log."
    )


# --- exercise 2: a bug found from the logs alone --------------------------------------------------

_STATUS_ADVICE = {
    404: "404: the client asked for a book that does not exist, and the shop said so. That is not a bug.",
    409: "409: the book was sold out and the shop said so (an INFO line). That is the shop working as designed.",
    422: "422: the client's body failed validation. That is the client's mistake, answered correctly.",
}

_CAUSE_ADVICE = {
    "database-down": (
        "the database was reachable: the request just before and the one just after queried it fine, and the "
        "error says 'syntax error', not 'connection refused'"
    ),
    "missing-book": "a missing book gets a 404 with an INFO line; this request got 500",
    "out-of-stock": "a sold-out book gets a 409 with an INFO line; this request got 500",
    "invalid-body": "an invalid body gets a 422 before any of the shop's code runs; this request got 500",
    "slow-dependency": (
        "the slow courier was a WARNING on another request, which still got 200: the shop handled it"
    ),
}


@checker(
    "Exercise 2: a bug found from the logs alone",
    expects="a dict with the keys 'request_id', 'layer' and 'cause', and the log file's path",
)
def check_log_diagnosis(diagnosis: dict[str, str], log_path: Path | str) -> str:
    """Compare the student's request id, layer and cause with what really happened in the run."""
    answer = expect_type(diagnosis, dict, "a dict like {'request_id': '...', 'layer': '...', 'cause': '...'}")
    truth = truth_of(log_path) if isinstance(log_path, (str, Path)) else None
    if truth is None:
        raise Hint("Pass the path that failing_run(...) returned as the second argument (run that cell first).")
    missing = [key for key in ("request_id", "layer", "cause") if key not in answer]
    if missing:
        raise Hint(f"The dict needs the keys 'request_id', 'layer' and 'cause'; missing: {', '.join(missing)}.")
    if any(is_placeholder(answer[key]) for key in ("request_id", "layer", "cause")):
        raise NotAttempted("Replace each ... with your answer, then run this cell again.")
    request_id = str(answer["request_id"]).strip()
    if request_id not in truth.statuses:
        raise Hint(
            f"{request_id!r} is not the id of a request in this run: copy one from the log's request_id column "
            "(each run makes new ids, so run the failing_run cell and read the new file)."
        )
    status = truth.statuses[request_id]
    if status < 500:
        advice = _STATUS_ADVICE.get(status, f"{status}: that request succeeded.")
        raise Hint(
            f"That request got {advice} Look for the request the shop failed: its 'request finished' line has "
            "status 500, and it has an ERROR line."
        )
    layer = str(answer["layer"]).strip().lower().removeprefix("shop.")
    if layer not in LAYERS:
        layers = ", ".join(map(repr, LAYERS))
        raise Hint(f"Name the layer as one of {layers} (the part after 'shop.' in the name column).")
    if layer == "http":
        raise Hint(
            "shop.http wrote the ERROR line because its middleware catches what nobody else handled: it reported "
            "the error, it did not cause it. Read that line's exc_info from the bottom up to the first frame in "
            "the shop's own code, or look at the last line the request logged before the error."
        )
    if layer != truth.layer:
        raise Hint(
            f"The {layer} passed the title on and was still on its way in when the error happened. Which layer "
            "logged last for this request before the ERROR, and in which function does the traceback end?"
        )
    cause = str(answer["cause"]).strip()
    if cause not in CAUSES:
        raise Hint(f"Choose the cause by its key in CAUSES: {', '.join(map(repr, CAUSES))}.")
    if cause != truth.cause:
        raise Hint(f"Not {cause!r}: {_CAUSE_ADVICE[cause]}. Read the last lines of the ERROR's exc_info again.")
    return (
        "Right: the repository pasted a title with an apostrophe into its SQL, and the quote ended the string "
        "early. Why it worked: the request id tied the 500, the DEBUG line with the statement and the traceback "
        "together. The fix is a bound parameter (04-sql); the log told you where to look."
    )


# --- exercise 3: keep secrets out of the log --------------------------------------------------------

REDACTED = "[REDACTED]"
_SECRET_WORDS = ("password", "token", "secret", "authorization")

# (what the case is, the extra fields, the secrets that must not appear, fields that must stay as they are)
_CASES: tuple[tuple[str, dict[str, Any], tuple[str, ...], dict[str, Any]], ...] = (
    ("a field named password", {"user": "ada", "password": "hunter2"}, ("hunter2",), {"user": "ada"}),
    ("the field Authorization, capitalised as in HTTP",
     {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}, ("eyJhbGciOiJIUzI1NiJ9",), {}),
    ("a field whose name contains token", {"api_token": "tok_live_51Hx"}, ("tok_live_51Hx",), {}),
    ("a password inside the request body (a dict)",
     {"body": {"email": "ada@example.com", "Password": "correct-horse"}}, ("correct-horse",),
     {"body.email": "ada@example.com"}),
    ("a secret inside a list of dicts",
     {"clients": [{"name": "courier", "client_secret": "cs-7781"}]}, ("cs-7781",), {"clients.0.name": "courier"}),
    ("fields that only look like secrets", {"passport_country": "PT", "book_id": 7, "tokenizer": "bpe"}, (),
     {"passport_country": "PT", "book_id": 7}),
)


def _field(line: dict[str, Any], dotted: str) -> Any:
    value: Any = line
    for part in dotted.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part, "<missing>")
        else:
            return "<missing>"
    return value


def _filter_instance(redaction_filter: Any) -> Any:
    made = redaction_filter() if isinstance(redaction_filter, type) else redaction_filter
    method = getattr(made, "filter", None)
    if method is None and not callable(made):
        raise Hint("RedactSecrets should be a class with a method filter(self, record) that returns True.")
    if method is not None and is_placeholder(getattr(method, "__func__", method)):
        raise NotAttempted("The filter method still does nothing: write its body, then run this cell again.")
    return made


def _log_through(made: Any, extra: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("{levelname}{name}{message}", style="{"))
    handler.addFilter(made)
    logger = logging.getLogger(f"labsupport.check.redaction.{next(_names)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        logger.info("login attempt", extra=extra)
    finally:
        logger.removeHandler(handler)
        handler.close()
        logging.Logger.manager.loggerDict.pop(logger.name, None)
    text = stream.getvalue()
    return [json.loads(line) for line in text.splitlines() if line.strip()], text


@checker(
    "Exercise 3: keep secrets out of the log",
    expects="a logging.Filter subclass RedactSecrets with a method filter(self, record)",
)
def check_redaction_filter(redaction_filter: Any) -> str:
    """Log records with secrets through a JSON handler that uses the filter; read what came out."""
    made = _filter_instance(redaction_filter)
    for what, extra, secrets, kept in _CASES:
        sent = copy.deepcopy(extra)
        lines, text = _log_through(made, sent)
        if not lines:
            raise Hint(
                f"Nothing was written for a record with {what}: filter() must return True. Returning False (or "
                "None) drops the whole line, and a log with holes is worse than none."
            )
        line = lines[0]
        if sent != extra:
            raise Hint(
                f"Your filter changed the caller's own data ({what}): after logging, the dict the app passed in "
                "had its value replaced. The app still needs it (to check the password!). Build new dicts and "
                "lists for the record instead of writing into the ones you were given."
            )
        leaked = [secret for secret in secrets if secret in text]
        if leaked:
            raise Hint(
                f"For a record with {what}, the line still contains {leaked[0]!r}. Redact every field whose name "
                "contains password, token, secret or authorization in any case (compare name.lower()), at any "
                "depth inside dicts and lists."
            )
        for dotted, value in kept.items():
            if _field(line, dotted) != value:
                raise Hint(
                    f"For a record with {what}, the field {dotted} should still read {value!r}, but it was "
                    f"{_field(line, dotted)!r}. Redact only the fields whose name contains one of the words."
                )
        for key in extra:
            if any(word in key.lower() for word in _SECRET_WORDS) and line.get(key, "<missing>") != REDACTED:
                raise Hint(
                    f"The field {key} should still be there, reading {REDACTED!r}, so a reader knows a value was "
                    f"removed; it was {line.get(key, '<missing>')!r}."
                )
        if line.get("message") != "login attempt":
            raise Hint("The message itself changed: redact the fields that carry secrets, leave the message alone.")
    return (
        "Right: secrets in fields of any case, inside bodies and lists, come out as [REDACTED]; other fields and "
        "the caller's own data are untouched. Why it worked: the filter runs on every record before the formatter "
        "writes it, so one class protects every logger that goes through the handler."
    )
