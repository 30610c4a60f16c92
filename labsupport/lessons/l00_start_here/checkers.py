"""Checkers for the exercises of 00-start-here: predicting and reading where a request's time goes.

Both measure the running bookshop again instead of trusting stored numbers, so a student's
answer is judged against this machine, today.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from labsupport.checks import Hint, checker, expect_close, expect_type
from labsupport.servers import Server
from labsupport.tracing import RequestTrace, trace_request

__all__ = ["REQUESTS", "database_shares", "check_prediction", "check_database_share"]

REQUESTS = ("/api/books/1", "/api/reports/bestsellers")


def database_shares(server: Server, *, n: int = 9) -> dict[str, float]:
    """The median share (0–1) of each request's total time spent in SQL, over `n` requests."""
    shares = {}
    for path in REQUESTS:
        traces = [trace_request(server.client, "GET", path) for _ in range(n)]
        shares[path] = statistics.median(t.database / t.total for t in traces)
    return shares


@checker("Exercise 1: which requests are mostly database?", expects="a dict {path: True or False}")
def check_prediction(answer: dict[str, bool], server: Server) -> str:
    expect_type(answer, dict, "a dict such as {'/api/books/1': True, '/api/reports/bestsellers': False}")
    for path in REQUESTS:
        if path not in answer:
            raise Hint(f"Give an answer for {path!r} too: the dict needs both paths as keys.")
        if not isinstance(answer[path], bool):
            raise Hint(f"The answer for {path!r} should be True or False, not {answer[path]!r}.")
    shares = database_shares(server)
    for path in REQUESTS:
        mostly = shares[path] > 0.5
        if answer[path] != mostly:
            raise Hint(
                f"Measured just now, the database took {shares[path]:.0%} of the time of GET {path}, "
                f"so {mostly} is right for it. Look at the bar chart above: which part is the widest?"
            )
    return "Right: a single-row lookup is mostly outside the database; the report is mostly SQL."


@checker("Exercise 2: the database's share of a trace", expects="a function database_share(trace) -> float")
def check_database_share(database_share: Callable[[RequestTrace], float], server: Server) -> str:
    if not callable(database_share):
        raise Hint("database_share should be a function taking one trace, e.g. `def database_share(trace): ...`.")
    for path in REQUESTS:
        trace = trace_request(server.client, "GET", path)
        try:
            answer = database_share(trace)
        except AttributeError as exc:
            if getattr(exc, "name", None) == "network" or "'network'" in str(exc):
                raise Hint(
                    "A trace has no `network`: nothing here crosses a network, because client and "
                    "server share this machine. The time outside the app is `trace.http`, the HTTP "
                    "handling of the client and the server; the database's is `trace.database`."
                ) from None
            raise
        expected = trace.database / trace.total
        expect_type(answer, (int, float), "a number between 0 and 1")
        if abs(answer - trace.database) < 1e-9 and trace.database != expected:
            raise Hint("That is the database time in milliseconds; divide it by trace.total for a share.")
        if answer > 1:
            raise Hint("A share is a fraction between 0 and 1: divide the database time by trace.total.")
        if abs(answer - (1 - expected)) < 1e-9 and abs(expected - 0.5) > 1e-6:
            raise Hint("That is the share spent *outside* the database.")
        if abs(answer - trace.http / trace.total) < 1e-9 and abs(trace.http - trace.database) > 1e-6:
            raise Hint("That is the share of HTTP handling (client + server), not of the database.")
        expect_close(
            answer,
            expected,
            rel_tol=1e-6,
            abs_tol=1e-9,
            what=f"Your share for GET {path}",
            hint="Use trace.database and trace.total.",
        )
    return "Right: trace.database / trace.total, the fraction plotted above."
