"""Name the exceptions of code under test in one line, and catch them inside a served app.

An exception in a student's code should become a one-line hint ("your guard raised KeyError:
'role'"), not a traceback. `describe_exception` writes that line, for every checker
(`labsupport.checks` uses it for any crash inside a check); `RecordCrashes` catches the
exceptions inside an app the checkers serve (02-rest-api's conformance runner, 03's and 08's
guards), where uvicorn would otherwise print the traceback into the cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # starlette is only needed for RecordCrashes, not to describe an exception
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RecordCrashes", "describe_exception"]


class RecordCrashes:
    """ASGI wrapper: record an HTTP request's exception in `errors` and answer 500 itself.

    Wrap a whole app (``RecordCrashes(app)``) or add it as middleware
    (``app.add_middleware(RecordCrashes, errors=crashes)``). Starlette may send its own 500 and
    re-raise: the last body message of a 5xx response is then held back until the exception has
    been recorded, so a client never reads the 500 before the checker can name its cause.
    """

    def __init__(self, app: ASGIApp, errors: list[BaseException] | None = None) -> None:
        self.app = app
        self.errors: list[BaseException] = [] if errors is None else errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: a crash there is the server's to report
            await self.app(scope, receive, send)
            return
        status: int | None = None
        held: list[Message] = []

        async def send_holding_errors(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif status is not None and status >= 500 and not message.get("more_body", False):
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, send_holding_errors)
        except Exception as exc:
            self.errors.append(exc)
            if status is None:  # nothing was sent yet: answer the 500 ourselves
                headers = [(b"content-type", b"text/plain; charset=utf-8")]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                held = [{"type": "http.response.body", "body": b"the code under test raised"}]
        for message in held:
            await send(message)


def describe_exception(exc: BaseException, limit: int = 240) -> str:
    """``"KeyError: 'role'"`` — the exception's class name and message, at most `limit` characters.

    - An exception group holding a single exception is named by that exception (Starlette and
      anyio wrap an endpoint's exception in one), however deeply nested;
    - no message, or a message that cannot be made (a student's exception class whose
      ``__str__`` raises), gives the class name alone;
    - longer than `limit`: cut, ending in ``…``.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    try:
        text = str(exc)
    except Exception:  # a student's exception class with a broken __str__
        text = ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"
