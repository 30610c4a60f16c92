"""Check an API against a list of expectations over real HTTP, and say which ones it misses.

Introduced in 02-rest-api, whose exercise asks students to complete a small users API. A
conformance suite is a list of `Expectation`s, each one request and what its response must look
like (status, JSON body, a custom check), plus optional `Rule`s that every response must obey
(e.g. "no password hash in any body"). `run_conformance` starts the app with `serve()`, sends
the requests in order, and returns a `Report` whose text lists each failing expectation with the
request it sent, what it expected and what it got, and a hint.

Expectations may depend on earlier ones: ``remember="ada"`` saves the ``Location`` header of the
response (the URL of a created resource) and a later path ``"{ada}"`` reuses it. If the earlier
response had no ``Location``, the later expectation fails as "skipped" instead of guessing.

An endpoint that raises gives a 500 in the report, named with the exception, instead of a
traceback printed into the notebook. Reports are deterministic: same app, same text.
"""

from __future__ import annotations

import inspect
import json as jsonlib
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.servers import Server, serve

__all__ = ["Expectation", "Rule", "Outcome", "Report", "run_conformance", "app_routes"]

SERVER_NAME = "conformance-check"
_MAX_BODY_CHARS = 240
Check = Callable[[httpx.Response], "str | None"]


@dataclass(frozen=True)
class Expectation:
    """One request and what its response must look like.

    - `path` may name a URL remembered earlier, e.g. ``"{ada}"`` (see `remember`);
    - `json` is sent as the JSON body (``None``: no body);
    - `expect_status` is the status code, or a tuple of acceptable ones;
    - `expect` is either a JSON subset the body must contain (dict keys recursively, lists item
      by item) or a function ``check(response) -> None | str`` returning what was expected
      when the response does not meet it;
    - `hint` is shown when this expectation fails: a text, or a function ``hint(response) -> str``
      for a hint that depends on what the app answered (a crash and a wrong 200 are different
      mistakes);
    - `remember` saves the response's ``Location`` header (as a path) under that name.
    """

    name: str
    method: str
    path: str
    json: Any = None
    expect_status: int | tuple[int, ...] = 200
    expect: Any = None
    hint: str | Callable[[httpx.Response], str] = ""
    remember: str | None = None


@dataclass(frozen=True)
class Rule:
    """A requirement on every response, e.g. "no password hash in any body".

    ``check(response)`` returns None when the response obeys the rule, else what was expected.
    """

    name: str
    check: Check
    hint: str = ""


@dataclass(frozen=True)
class Outcome:
    """What happened to one expectation: the request sent and, if it failed, expected vs got."""

    expectation: Expectation
    request: str
    passed: bool
    expected: str = ""
    got: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Report:
    """The outcome of every expectation, in order. ``str(report)`` is the text a student reads."""

    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def __str__(self) -> str:
        total, failures = len(self.outcomes), self.failures
        if not failures:
            return f"All {total} expectations met."
        lines = [f"{len(failures)} of {total} expectations failed:"]
        for outcome in failures:
            lines += [
                "",
                f"✘ {outcome.expectation.name}",
                f"  sent:     {outcome.request}",
                f"  expected: {outcome.expected}",
                f"  got:      {outcome.got}",
            ]
            if outcome.hint:
                lines.append(f"  hint:     {outcome.hint}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def run_conformance(
    target: ASGIApp | Server,
    expectations: Iterable[Expectation],
    *,
    rules: Sequence[Rule] = (),
    timeout: float = 5.0,
) -> Report:
    """Send each expectation's request to `target` in order and check the responses.

    `target` is an ASGI app (a `FastAPI()`), which is served on 127.0.0.1 for the run and
    stopped afterwards, or a running `Server`, which is used as it is (then an endpoint's
    crash is only seen as a 500, without the exception's name). Each request waits at most
    `timeout` seconds. Raises TypeError with a plain message when `target` is not an app, and
    `labsupport.ServerError` when the app cannot start.
    """
    expectations = list(expectations)
    for item in expectations:
        if not isinstance(item, Expectation):
            raise TypeError(f"run_conformance() needs Expectation objects, not {type(item).__name__}")
    if isinstance(target, Server):
        return _run(target, None, expectations, rules)
    _require_asgi_app(target)
    recorder = RecordCrashes(target)
    server = serve(recorder, name=SERVER_NAME, timeout=timeout)
    try:
        return _run(server, recorder, expectations, rules)
    finally:
        server.stop()


def app_routes(app: Any) -> list[tuple[str, str]]:
    """``(method, path)`` of every route an app (or router) declares, in declaration order.

    FastAPI's own documentation routes (``/openapi.json``, ``/docs``, ``/redoc``) are left out,
    so an app with nothing added yet gives ``[]``. Used to tell "not attempted yet" apart from
    a wrong answer.
    """
    own = {
        getattr(app, "openapi_url", None),
        getattr(app, "docs_url", None),
        getattr(app, "redoc_url", None),
        getattr(app, "swagger_ui_oauth2_redirect_url", None),
    }
    found = []
    for route in getattr(app, "routes", []):
        if isinstance(route, Mount):
            found += [(m, route.path + p) for m, p in app_routes(route)]
        elif isinstance(route, Route) or hasattr(route, "methods"):
            if route.path in own:
                continue
            methods = sorted(getattr(route, "methods", None) or ["GET"])
            found += [(method, route.path) for method in methods if method != "HEAD"]
    return found


def _require_asgi_app(app: object) -> None:
    if not callable(app):
        raise TypeError(f"expected a FastAPI app (an ASGI app), not {type(app).__name__}: {app!r:.60}")
    try:
        inspect.signature(app).bind(None, None, None)
    except TypeError:
        name = getattr(app, "__name__", type(app).__name__)
        raise TypeError(
            f"{name} is not an ASGI app: an app is called with (scope, receive, send). "
            f"If {name}() builds the app, pass its result: {name}()"
        ) from None
    except ValueError:  # no signature available (a builtin): let serving it decide
        pass


def _run(
    server: Server, recorder: RecordCrashes | None, expectations: list[Expectation], rules: Sequence[Rule]
) -> Report:
    remembered: dict[str, str] = {}
    outcomes = []
    for expectation in expectations:
        outcomes.append(_check_one(server.client, recorder, expectation, rules, remembered))
    return Report(tuple(outcomes))


def _check_one(
    client: httpx.Client,
    recorder: RecordCrashes | None,
    expectation: Expectation,
    rules: Sequence[Rule],
    remembered: dict[str, str],
) -> Outcome:
    method = expectation.method.upper()
    missing = [
        name
        for _, name, _, _ in string.Formatter().parse(expectation.path)
        if name is not None and name not in remembered
    ]
    if missing:
        request = f"{method} {expectation.path}" + _body_text(expectation.json)
        return Outcome(
            expectation,
            request,
            False,
            expected=f"the URL remembered as {{{missing[0]}}} (the Location of an earlier response)",
            got="skipped: the earlier response had no Location header",
            hint="Fix the expectation that creates it first (it must send a Location header).",
        )
    path = expectation.path.format_map(remembered)
    request = f"{method} {path}" + _body_text(expectation.json)
    if recorder is not None:
        recorder.errors.clear()
    kwargs = {"json": expectation.json} if expectation.json is not None else {}
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        return Outcome(
            expectation,
            request,
            False,
            expected=_status_text(expectation.expect_status),
            got=f"no response ({exc})",
            hint=expectation.hint if isinstance(expectation.hint, str) else "",
        )
    if expectation.remember and "location" in response.headers:
        remembered[expectation.remember] = _as_path(response.headers["location"])
    got = _response_text(response, recorder.errors if recorder else [])

    def failed(expected: str, hint: str | Callable[[httpx.Response], str]) -> Outcome:
        if not isinstance(hint, str):
            hint = hint(response)
        return Outcome(expectation, request, False, expected=expected, got=got, hint=hint)

    for rule in rules:
        problem = _run_check(rule.check, response)
        if problem is not None:
            return failed(f"{problem} (rule: {rule.name})", rule.hint)
    allowed = expectation.expect_status
    allowed = allowed if isinstance(allowed, tuple) else (allowed,)
    if response.status_code not in allowed:
        return failed(_status_text(expectation.expect_status), expectation.hint)
    if expectation.expect is not None:
        if callable(expectation.expect):
            problem = _run_check(expectation.expect, response)
        else:
            problem = _subset_problem(expectation.expect, response)
        if problem is not None:
            return failed(problem, expectation.hint)
    return Outcome(expectation, request, True, got=got)


def _run_check(check: Check, response: httpx.Response) -> str | None:
    try:
        return check(response)
    except ValueError:  # e.g. response.json() on a body that is not JSON
        return "a JSON body"


def _subset_problem(expected: Any, response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"a JSON body containing {_compact(expected)}"
    if _contains(body, expected):
        return None
    return f"a JSON body containing {_compact(expected)}"


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_contains(a, e) for a, e in zip(actual, expected))
        )
    # bool is an int in Python but not in JSON: true must not match 1
    return type(actual) is bool if isinstance(expected, bool) else (not isinstance(actual, bool) and actual == expected)


def _as_path(location: str) -> str:
    """A Location header as a path: ``http://127.0.0.1:8000/api/users/1`` → ``/api/users/1``."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.netloc else location


def _status_text(expect_status: int | tuple[int, ...]) -> str:
    if isinstance(expect_status, tuple):
        return "status " + " or ".join(str(s) for s in expect_status)
    return f"status {expect_status}"


def _body_text(body: Any) -> str:
    return "" if body is None else " " + _compact(body)


def _compact(value: Any) -> str:
    return _shorten(jsonlib.dumps(value, ensure_ascii=False))


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_BODY_CHARS else text[: _MAX_BODY_CHARS - 1] + "…"


def _response_text(response: httpx.Response, errors: list[BaseException]) -> str:
    parts = [str(response.status_code)]
    if "location" in response.headers:
        parts.append(f"Location: {_as_path(response.headers['location'])}")
    if errors:
        parts.append(f"(your code raised {describe_exception(errors[-1])})")
    elif not response.content:
        parts.append("(empty body)")
    else:
        try:
            parts.append(_compact(response.json()))
        except ValueError:
            parts.append(_shorten(repr(response.text)))
    return " ".join(parts)
