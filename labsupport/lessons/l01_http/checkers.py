"""Checkers for the exercises of 01-http: a predicted status code, a raw request that gets 201,
status code classes, and when a client may send a request again.

`check_request_status_prediction` sends the request whose status the student predicted to the lab server
again and compares with what it answers now, so the truth is never a stored constant; a wrong
guess gets the rule it missed (404 is an unknown path, 405 a known path with a refused method, ...).

`check_raw_request` sends the student's text to the notebook's lab server with
`labsupport.lessons.l01_http.wire.raw_request` and, when the answer is not 201 Created, explains what came back by
reading both the response and the request (missing blank line, Content-Length, Content-Type,
Host header, method, path). `check_status_class` calls the student's ``status_class(code)`` on
codes from every class, including codes without a name, and on numbers that are no status code.
`check_should_retry` asks the student's ``should_retry(method, status)`` about every method of the
lesson with codes of every class, and compares with `retry_expected`, the lesson's rule.
"""

from __future__ import annotations

import http
import numbers
import re
from collections.abc import Callable
from typing import Any

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.lessons.l01_http.wire import Exchange, WireError, WireTimeout, _port_of, raw_request

__all__ = [
    "STATUS_CLASSES",
    "RETRYABLE_CLIENT_ERRORS",
    "IDEMPOTENT_METHODS",
    "retry_expected",
    "check_request_status_prediction",
    "check_raw_request",
    "check_status_class",
    "check_should_retry",
]

STATUS_CLASSES = {
    1: "informational",
    2: "success",
    3: "redirection",
    4: "client error",
    5: "server error",
}
# Both ends of every class (x00 and x99) catch an off-by-one in a chain of comparisons; the
# unnamed ones (199, 299, ...) catch a lookup table of known codes.
_VALID_CODES = (
    100, 101, 199, 200, 201, 204, 299, 300, 301, 304, 307, 399,
    400, 401, 404, 408, 418, 422, 429, 499, 500, 503, 599,
)  # fmt: skip
# 4xx that a client MAY send again unchanged, after the server's Retry-After (RFC 9110 §15.5.9, RFC 6585 §4)
RETRYABLE_CLIENT_ERRORS = (408, 429)
# Just outside both ends first (99, 600), then numbers whose first digit or code // 100 looks like a class.
_INVALID_CODES = (99, 600, 0, -1, -404, 1000, 1999, 10, 700)
_REQUEST_LINE = re.compile(r"^(?P<method>\S+) (?P<target>\S+) (?P<version>HTTP/\d\.\d)$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # a token (RFC 9110)


# ---------------------------------------------------------------------------------------------
# Predict, then run (section 4)


@checker("Predict, then run: the status of a request", expects="a status code, a number such as 200")
def check_request_status_prediction(predicted_status: int, server: Any, method: str, path: str) -> str:
    """Right if `predicted_status` is the status `server` answers to `method` `path`, asked again now."""
    if isinstance(predicted_status, str):
        raise Hint(f"Write the status code as a number without quotes, such as 200, not the text {predicted_status!r}.")
    predicted = int(expect_type(predicted_status, (numbers.Integral,), "a status code, a number such as 200"))
    if not 100 <= predicted <= 599:
        raise Hint(f"{predicted} is not a status code: they have three digits, from 100 to 599.")
    actual = server.client.request(method, path).status_code
    if predicted == actual:
        if actual == 405:
            return (
                f"Right: 405 Method Not Allowed. {path} exists (other methods work on it), but no route accepts "
                f"{method} there, so the server refuses the method before any of its code runs, and nothing "
                "changes. A 404 would say that the path itself is unknown."
            )
        return f"Right: {method} {path} answered {_named(actual)}, asked again just now."
    raise Hint(f"{method} {path} got {_named(actual)}, not {predicted}. {_why_not(predicted, actual, method, path)}")


def _why_not(predicted: int, actual: int, method: str, path: str) -> str:
    """The rule a student who predicted `predicted` instead of `actual` was missing."""
    if actual != 405:
        return f"Look again at the route the server has for {method} {path}."
    if predicted == 404:
        return (
            f"A 404 says that nothing is at the path; here {path} exists (other methods work on it), only no "
            f"route accepts {method} there. A known path with a refused method is a 405."
        )
    elif 200 <= predicted <= 299:
        return (
            f"No route of the server handles {method} {path}, so none of its code ran and nothing happened: "
            "the server refuses a method that the path does not accept (a 4xx: the client must change the request)."
        )
    elif predicted in (400, 422):
        return (
            f"{predicted} is about what the request says (a line the server cannot read, a body that does not fit); "
            f"this request is well formed. What is wrong is the method itself, on this path: 405."
        )
    elif predicted in (401, 403):
        return (
            f"{predicted} is about who is asking (not logged in, not permitted). Here nobody at all may send "
            f"{method} {path}, because no route accepts it: 405."
        )
    elif predicted >= 500:
        return (
            "A 5xx says the server failed. Nothing failed here: the server refused the method before any route ran, "
            "because the client asked for something this path does not do: a client error, 405."
        )
    else:
        return "405 Method Not Allowed is the answer for a path that exists but has no route for the method."


# ---------------------------------------------------------------------------------------------
# Exercise 1


@checker("Exercise 1: a raw request that gets 201 Created", expects="the whole request as one str")
def check_raw_request(request: str | bytes, server: Any, *, done: bool | None = None) -> str:
    """Send `request` to `server`: right if it answers 201 Created to a well-formed request.

    With `done`, the created note must also have that ``done`` (so that copying a request that
    creates a note with the defaults does not pass an exercise asking for a finished one).
    """
    if not isinstance(request, (str, bytes)):
        raise Hint(
            f"Write the whole request as one string (a str), not a {type(request).__name__}: "
            'request line, headers, an empty line, then the body, e.g. """POST /notes HTTP/1.1 ...""".'
        )
    text = request if isinstance(request, str) else request.decode("utf-8", errors="replace")
    if not text.strip():
        raise NotAttempted("The request is empty: write it between the quotes, then run this cell again.")
    try:
        exchange = raw_request(server, request, timeout=1.0)
    except WireTimeout as exc:
        raise Hint(f"The server never answered: {_after_colon(str(exc))}") from None
    except WireError as exc:
        raise Hint(f"{exc}") from None
    if exchange.status != 201:
        raise Hint(f"The server answered {exchange.status_line} {_short_body(exchange)}. {_explain(exchange, text)}")
    problem = _sloppiness(exchange.request, _port_of(server))
    if problem:
        raise Hint(f"The server answered 201 Created, but only because it is lenient: {problem}")
    if done is not None:
        created = _created_note(exchange)
        if created.get("done") is not done:
            raise Hint(
                f'The server answered 201 Created with the note {exchange.text.strip()}: its "done" is not '
                f'{_json_bool(done)}. Put "done": {_json_bool(done)} in the JSON body (JSON writes true and false in '
                "lower case), then count the body's bytes again for Content-Length."
            )
    return (
        "201 Created: POST on the collection /notes in HTTP/1.1, a Host naming this server, the "
        "body announced by its Content-Type and measured to the byte by its Content-Length (or "
        "sent in chunks), after the blank line that ends the headers."
    )


def _created_note(exchange: Exchange) -> dict[str, Any]:
    try:
        note = exchange.json()
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _sloppiness(sent: bytes, port: int) -> str | None:
    """What a strict server (or a proxy) would refuse in a request that this lenient one accepted."""
    end = min((i for i in (sent.find(b"\r\n\r\n"), sent.find(b"\n\n")) if i >= 0), default=len(sent))
    head = sent[:end]
    if re.search(rb"(?<!\r)\n", head):
        return (
            "its lines end with a bare \\n. HTTP requires \\r\\n: raw_request adds the \\r for you in a str, "
            "but sends bytes exactly as given. Write the request as a str, or end each line with \\r\\n."
        )
    lines, body = _split_request(sent.decode("utf-8", errors="replace"))
    request_line = _REQUEST_LINE.match(lines[0])
    if request_line and request_line["version"] != "HTTP/1.1":
        return (
            f"the request line says {request_line['version']}. This lesson speaks HTTP/1.1 (HTTP/2 is not "
            "text at all, and HTTP/1.0 has no required Host): end the request line with HTTP/1.1."
        )
    seen: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key in seen:
            return (
                f"the header {name.strip()} appears twice. Two Content-Length or Host lines are how requests are "
                "smuggled past proxies that read the other one; send each header once."
            )
        seen[key] = value.strip()
    host = seen.get("host", "")
    if host != host.strip() or not host:
        return "the Host header is empty: it names the server you are talking to, Host: 127.0.0.1."
    if "/" in host or "@" in host:
        return (
            f"Host: {host} is not a host: it holds only the server's name and, optionally, its port "
            "(Host: 127.0.0.1 or Host: 127.0.0.1:PORT), no http:// and no path."
        )
    name, _, given_port = host.rpartition(":") if ":" in host else (host, "", "")
    if name.lower() not in ("127.0.0.1", "localhost"):
        return (
            f"Host: {host} names another site. One server can host many sites and picks one by this "
            "header: name the one you are talking to, Host: 127.0.0.1."
        )
    if given_port and given_port != str(port):
        return (
            f"Host: {host} names port {given_port}, but this server listens on {port}: "
            f"leave the port out or make it {port}."
        )
    declared = seen.get("content-length")
    if declared is not None and declared.isdigit() and body is not None and "transfer-encoding" not in seen:
        size = len(body.rstrip("\r\n").encode("utf-8"))  # a final line break typed after the body is harmless
        if size > int(declared):
            return (
                f"Content-Length says {declared} but the body has {size} bytes. The server read the first "
                f"{declared} and takes the rest as the start of the next request: count every byte."
            )
    return None


def _after_colon(message: str) -> str:
    # "no response within 1.0 s: the server is still waiting ..." -> "the server is still ..."
    return message.split(": ", 1)[1] if ": " in message else message


def _short_body(exchange: Exchange, limit: int = 120) -> str:
    body = exchange.text.strip()
    if not body:
        return "with an empty body"
    return f"with the body {body if len(body) <= limit else body[: limit - 1] + '…'}"


def _split_request(text: str) -> tuple[list[str], str | None]:
    """Head lines (without endings) and the body (None when the head never ends)."""
    text = text.lstrip("\r\n").replace("\r\n", "\n")
    head, separator, body = text.partition("\n\n")
    return head.split("\n"), (body if separator else None)


def _explain(exchange: Exchange, text: str) -> str:
    lines, body = _split_request(text)
    request_line = _REQUEST_LINE.match(lines[0])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    status = exchange.status
    if status == 400:
        if request_line is None:
            return (
                f"The first line {lines[0]!r} is not a request line: it needs exactly three parts "
                "separated by single spaces, METHOD /path HTTP/1.1."
            )
        bad = [line for line in lines[1:] if not _HEADER_NAME.match(line.partition(":")[0]) or ":" not in line]
        if bad and bad[0].lstrip().startswith(("{", "[")):
            return (
                f"The server read {bad[0]!r} as a header: the body must come after an empty line that ends the headers."
            )
        if bad:
            return f"Every header line is 'Name: value' (no space before the colon), but {bad[0]!r} is not."
        if "host" not in headers:
            return "HTTP/1.1 requires a Host header: add the line 'Host: 127.0.0.1'."
        names = [line.partition(":")[0].strip().lower() for line in lines[1:]]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            return f"The header {twice[0]!r} appears more than once: send each header once."
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            return f"Content-Length is a number of bytes, digits only, not {length!r}."
        return "The server could not parse the request: compare it line by line with the POST in section 2."
    method = request_line["method"] if request_line else ""
    if status == 405:
        if method != method.upper():
            return f"Methods are case-sensitive and written in capitals: {method.upper()}, not {method}."
        target = request_line["target"] if request_line else "this path"
        return f"{method} is not allowed on {target}: which method creates a new resource?"
    if status == 404:
        target = request_line["target"] if request_line else ""
        if "://" in target:
            return (
                f"The request line names a whole URL, {target}: write only the path, POST /notes HTTP/1.1 "
                "(the server is already named by the connection and the Host header)."
            )
        return "There is nothing at that path: the collection of notes is /notes."
    if status in (307, 308) and request_line and request_line["target"].rstrip("/") != request_line["target"]:
        return (
            f"{request_line['target']} is not /notes: the server redirects to the path without the final "
            "slash. POST to /notes itself."
        )
    if status in (200, 204):
        return f"{method} succeeded but created nothing: creating a resource in a collection is a POST."
    if status == 422:
        return _explain_422(exchange, headers, body or "")
    return 'A 201 comes from POST /notes with a JSON body such as {"text": "hello"}.'


def _explain_422(exchange: Exchange, headers: dict[str, str], body: str) -> str:
    size = len(body.encode("utf-8"))
    declared = headers.get("content-length")
    if not body.strip():
        return 'The server needs a JSON body after the blank line, such as {"text": "hello"}.'
    if declared is None and "transfer-encoding" not in headers:
        return (
            f"Your body has {size} bytes but there is no Content-Length header, so the server read "
            f"an empty body: add 'Content-Length: {size}'."
        )
    content_type = headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        said = f"says {content_type!r}" if content_type else "is missing"
        return f"The body is JSON but the Content-Type header {said}: write 'Content-Type: application/json'."
    typed = len(body.rstrip("\r\n").encode("utf-8"))  # a final newline is not part of the JSON
    if declared is not None and declared.isdigit() and int(declared) < typed:
        return (
            f"Content-Length says {declared} but your body has {typed} bytes: the server read only "
            f"the first {declared} of them."
        )
    errors = _validation_errors(exchange)
    if any(error.get("type") == "json_invalid" for error in errors):
        outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', '""', body)
        python = re.search(r"\b(True|False|None)\b", outside_strings)
        if python:
            return (
                f"The body is not valid JSON: {python[1]} is Python. JSON writes true, false and null, "
                f'in lower case, as in {{"text": "hello", "done": true}}.'
            )
        return 'The body is not valid JSON: keys and text need double quotes, as in {"text": "hello"}.'
    missing = [str(error["loc"][-1]) for error in errors if error.get("type") == "missing" and error.get("loc")]
    if missing:
        return f'The JSON is missing the field {missing[0]!r}: send an object such as {{"{missing[0]}": "hello"}}.'
    return "The JSON arrived but does not fit: look at the 'msg' in the body the server sent."


def _validation_errors(exchange: Exchange) -> list[dict[str, Any]]:
    try:
        detail = exchange.json().get("detail", [])
    except (ValueError, AttributeError):
        return []
    return [error for error in detail if isinstance(error, dict)] if isinstance(detail, list) else []


# ---------------------------------------------------------------------------------------------
# Exercise 2


@checker("Exercise 2: the class of a status code", expects="a function status_class(code) -> str")
def check_status_class(status_class: Callable[[int], str]) -> str:
    if not callable(status_class):
        raise Hint(f"status_class should be a function, e.g. `def status_class(code): ...`, not {status_class!r}.")
    names = ", ".join(repr(name) for name in STATUS_CLASSES.values())
    for code in _VALID_CODES:
        try:
            answer: object = status_class(code)
        except Exception as exc:
            raise Hint(
                f"status_class({code}) raised {type(exc).__name__}: {exc}. {code} is a valid status code"
                + (": the range includes both ends, 100 and 599 (check < against <=)." if code in (100, 599) else ".")
                + (" It has no name: a table of known codes misses it, code // 100 does not." if _unnamed(code) else "")
            ) from None
        if answer is ...:
            raise NotAttempted("status_class still returns ...: write its body, then run this cell again.")
        expected = STATUS_CLASSES[code // 100]
        if not isinstance(answer, str):
            raise Hint(f"status_class({code}) returned {answer!r}; return one of the names {names}.")
        if answer == expected:
            continue
        if answer.strip().lower().replace("_", " ") == expected:
            raise Hint(f"status_class({code}) returned {answer!r}: spell the class exactly {expected!r}.")
        if answer not in STATUS_CLASSES.values():
            raise Hint(f"status_class({code}) returned {answer!r}, which is not a class: return one of {names}.")
        raise Hint(f"status_class({code}) returned {answer!r}, but {_named(code)} is {expected!r}. {_why(code)}")
    for code in _INVALID_CODES:
        try:
            answer = status_class(code)
        except ValueError:
            continue
        except Exception as exc:
            raise Hint(
                f"status_class({code}) raised {type(exc).__name__}; for a number that is no status code, "
                "raise ValueError (the usual exception for a value of the right type but out of range)."
            ) from None
        edge = " (just outside the range: check that comparison, < against <=)" if code in (99, 600) else ""
        raise Hint(
            f"status_class({code}) returned {answer!r}, but {code} is not a status code{edge}: they run from "
            "100 to 599. Raise ValueError for anything else."
        )
    return (
        "The first digit decides the class, for every code from 100 to 599, named or not "
        "(408 and 429 too: client errors, even though a client may retry them after Retry-After)."
    )


def _named(code: int) -> str:
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _unnamed(code: int) -> bool:
    try:
        http.HTTPStatus(code)
    except ValueError:
        return True
    return False


def _why(code: int) -> str:
    if _unnamed(code):
        return (
            f"{code} has no name, but its class is still fixed by its first digit: look at "
            "code // 100 rather than a list of known codes."
        )
    if code in RETRYABLE_CLIENT_ERRORS:
        return (
            f"A client may retry a {code} unchanged (after the server's Retry-After), unlike other "
            f"4xx, but it is still a client error: the first digit decides the class, {code // 100}xx."
        )
    if code % 100 in (0, 99):
        return (
            f"The first digit decides the class: {code // 100}xx. {code} is at the edge of its class: "
            "check each comparison, < against <= (or use code // 100)."
        )
    return f"The first digit decides the class: {code // 100}xx."


# ---------------------------------------------------------------------------------------------
# Exercise 3


IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
_RETRY_METHODS = (*IDEMPOTENT_METHODS, "POST", "PATCH")
_RETRY_STATUSES = (200, 201, 204, 301, 304, 307, 400, 401, 403, 404, 405, 408, 409, 422, 429, 500, 502, 503, 504)


def retry_expected(method: str, status: int) -> bool | None:
    """The lesson's rule: may this very request be sent again, unchanged, after this response?

    408 and 429 (not now: the request was not processed) for any method; a 5xx for an idempotent
    method only. None where the lesson leaves it open: POST or PATCH after 503, which may mean the
    request was never processed (then retrying is safe) or not.
    """
    if status in RETRYABLE_CLIENT_ERRORS:
        return True
    if 500 <= status <= 599:
        if method in IDEMPOTENT_METHODS:
            return True
        return None if status == 503 else False
    return False


@checker("Exercise 3: fix should_retry", expects="a function should_retry(method, status) -> True or False")
def check_should_retry(should_retry: Callable[[str, int], bool]) -> str:
    if not callable(should_retry):
        raise Hint("should_retry should be a function, e.g. `def should_retry(method, status): ...`.")
    for status in _RETRY_STATUSES:
        for method in _RETRY_METHODS:
            expected = retry_expected(method, status)
            answer: object = should_retry(method, status)
            if answer is ...:
                raise NotAttempted("should_retry still returns ...: write its body, then run this cell again.")
            if not isinstance(answer, bool):
                raise Hint(f"should_retry({method!r}, {status}) returned {answer!r}: return True or False.")
            if expected is None or answer == expected:
                continue
            raise Hint(f"should_retry({method!r}, {status}) returned {answer}. {_retry_why(method, status)}")
    return (
        "Right: 408 and 429 mean 'not now', so any request may be sent again (after Retry-After); "
        "a 5xx may be retried only when sending twice does no more than sending once (GET, HEAD, "
        "OPTIONS, PUT, DELETE); any other 4xx fails again until the request changes."
    )


def _retry_why(method: str, status: int) -> str:
    if status in RETRYABLE_CLIENT_ERRORS:
        return (
            f"{status} {http.HTTPStatus(status).phrase} says 'not now', not 'wrong': the server did not "
            "process the request, so the very same request may be sent again, after Retry-After, whatever "
            "its method."
        )
    if 500 <= status <= 599 and method in IDEMPOTENT_METHODS:
        return (
            f"{method} is idempotent: sending it twice has the same effect as once, so after a {status} the "
            "client may send it again."
        )
    if 500 <= status <= 599:
        return (
            f"{method} is not idempotent: the server may have failed *after* doing the work, and sending it "
            f"again could do it twice (two notes, two payments). Retry a 5xx only for "
            f"{', '.join(IDEMPOTENT_METHODS)}."
        )
    if 400 <= status <= 499:
        return f"A {status} fails again as long as the request is the same: change the request, do not resend it."
    return f"{status} is not a failure: there is nothing to retry."
