"""Checkers for the exercises of 00-start-here: predicting and reading where a request's time goes.

`check_prediction` measures the running bookshop again instead of trusting stored numbers, so a
prediction is judged against this machine, today. The two functions a student writes are judged
first on made-up traces whose layers are far apart (so that each wrong formula gives its own,
recognisable number), then on real traces of the running bookshop.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import statistics
from collections.abc import Callable
from typing import Any

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.servers import Server
from labsupport.tracing import HTTP_LAYER, RequestTrace, trace_request

__all__ = [
    "REQUESTS",
    "LAYERS",
    "database_shares",
    "made_up_trace",
    "check_prediction",
    "check_database_share",
    "check_slowest_layer",
]

REQUESTS = ("/api/books/1", "/api/reports/bestsellers")
# A trace's layer attributes, outside in, and the label `RequestTrace.layers()` gives each.
LAYERS = {"http": HTTP_LAYER, "framework": "framework", "route": "route", "logic": "logic", "database": "database"}
# A share is accepted when rounded to 2 decimals or finer (0.3149 → 0.31 is off by at most 0.005).
_SHARE_TOLERANCE = 0.005 + 1e-9
# Made-up traces (ms per layer): every share differs from the others by more than 2 × the tolerance,
# and so do the usual wrong formulas (1 − share, the share of the app's time, ...).
_MADE_UP = (
    {"http": 3.6, "framework": 1.9, "route": 0.4, "logic": 1.1, "database": 3.0},
    {"http": 0.8, "framework": 0.9, "route": 0.2, "logic": 0.6, "database": 7.5},
    {"http": 14.0, "framework": 9.0, "route": 1.0, "logic": 4.0, "database": 13.0},
)


def database_shares(server: Server, *, n: int = 9) -> dict[str, float]:
    """The median share (0–1) of each request's total time spent in SQL, over `n` requests."""
    shares = {}
    for path in REQUESTS:
        traces = [trace_request(server.client, "GET", path) for _ in range(n)]
        shares[path] = statistics.median(t.database / t.total for t in traces)
    return shares


def made_up_trace(real: RequestTrace, **layers: float) -> RequestTrace:
    """A copy of `real` whose layers are the given milliseconds (and whose total is their sum)."""
    changes: dict[str, Any] = {"total": sum(layers.values()), **layers}
    return dataclasses.replace(real, **changes)


# --- section 3: predict, then run ------------------------------------------------------------

# Why a request is mostly database or not: the hint for a wrong prediction (it comes before the chart).
_WHY_SHARE = {
    False: "SQLite finds one row by its key in a few page reads, a tiny part of the request; getting the "
    "request to our code and the answer back (HTTP handling and the framework) costs more.",
    True: "its one SELECT reads and adds up every order line of the shop, which takes far longer than the "
    "fixed cost of HTTP handling and the framework.",
}


@checker("Predict, then run: which requests are mostly database?", expects="a dict {path: True or False}")
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
                f"so {mostly} is right for it: {_WHY_SHARE[mostly]}"
            )
    return (
        "Right, measured again just now: a single-row lookup spends most of its time outside the "
        "database (HTTP handling and the framework), while the report's one SELECT adds up every "
        "order line, so it is mostly SQL."
    )


# --- exercise 1 -------------------------------------------------------------------------------


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= _SHARE_TOLERANCE


def _call(function: Callable[[RequestTrace], object], trace: RequestTrace) -> object:
    try:
        return function(trace)
    except AttributeError as exc:
        if getattr(exc, "name", None) == "network" or "'network'" in str(exc):
            raise Hint(
                "A trace has no `network`: nothing here crosses a network, because client and "
                "server share this machine. The time outside the app is `trace.http`, the HTTP "
                "handling of the client and the server; the database's is `trace.database`."
            ) from None
        raise


def _judge_share(answer: object, trace: RequestTrace, where: str) -> None:
    """Raise a Hint naming the mistake unless `answer` is the database's share of `trace`."""
    if answer is ...:
        raise NotAttempted("database_share still returns ...: write its body, then run this cell again.")
    if isinstance(answer, str):
        raise Hint(
            f"database_share returned the text {answer!r}: return the number itself (format it only when you print it)."
        )
    value = float(expect_type(answer, (numbers.Real,), "a number between 0 and 1"))
    expected = trace.database / trace.total
    if math.isnan(value):
        raise Hint(f"{where}: database_share returned nan (not a number).")
    if _near(value, expected):
        return
    layers = ", ".join(f"{name} {getattr(trace, name):g}" for name in LAYERS)
    seen = f"{where} ({layers}; total {trace.total:g} ms), database_share returned {answer!r}"
    if math.isclose(value, trace.database):
        raise Hint(f"{seen}: that is the database time in milliseconds; divide it by trace.total for a share.")
    if math.isclose(value, 100 * expected, abs_tol=0.5):
        raise Hint(f"{seen}: that is a percentage. A share is a fraction between 0 and 1: leave out the × 100.")
    if math.isclose(value, trace.total / trace.database):
        raise Hint(f"{seen}: the division is upside down; the share is trace.database / trace.total.")
    if value > 1:
        raise Hint(f"{seen}: a share is a fraction between 0 and 1: divide the database time by trace.total.")
    if _near(value, 1 - expected):
        raise Hint(f"{seen}: that is the share spent *outside* the database.")
    for name in LAYERS:
        if name != "database" and _near(value, getattr(trace, name) / trace.total):
            label = "HTTP handling (client + server)" if name == "http" else f"the {name} layer"
            raise Hint(f"{seen}: that is the share of {label}, not of the database.")
    if _near(value, trace.database / (trace.total - trace.http)):
        raise Hint(
            f"{seen}: that is the database's share of the time *inside the app*. The share asked for is of "
            "the whole request, HTTP handling included: divide by trace.total."
        )
    if value in (0, 1) and value == round(expected):
        raise Hint(f"{seen}: rounded to a whole number. Keep the fraction (two decimals at least).")
    if math.isclose(value, round(expected, 1)):
        raise Hint(f"{seen}: rounded to one decimal, too coarse to compare layers. Keep two decimals at least.")
    direction = "high" if value > expected else "low"
    raise Hint(f"{seen}: too {direction}. Use trace.database and trace.total.")


@checker("Exercise 1: the database's share of a trace", expects="a function database_share(trace) -> float")
def check_database_share(database_share: Callable[[RequestTrace], float], server: Server) -> str:
    if not callable(database_share):
        raise Hint("database_share should be a function taking one trace, e.g. `def database_share(trace): ...`.")
    real = {path: trace_request(server.client, "GET", path) for path in REQUESTS}
    for number, layers in enumerate(_MADE_UP, start=1):
        trace = made_up_trace(real[REQUESTS[0]], **layers)
        _judge_share(_call(database_share, trace), trace, f"For a made-up trace #{number}")
    for path, trace in real.items():
        _judge_share(_call(database_share, trace), trace, f"For a real trace of GET {path}")
    return (
        "Right: trace.database / trace.total, the fraction plotted above, on made-up traces and on "
        "real ones. The total includes HTTP handling, so the shares of all five layers add up to 1."
    )


# --- exercise 2 -------------------------------------------------------------------------------


def _slowest_cases(real: RequestTrace) -> list[RequestTrace]:
    """One made-up trace per layer, that layer the slowest; "route", the largest name, is never the
    slowest nor the fastest (so that each of those mistakes shows on its own)."""
    cases = []
    for slowest in ("database", "logic", "framework", "http"):
        layers = {"http": 2.0, "framework": 1.5, "route": 1.0, "logic": 0.5, "database": 0.25}
        layers[slowest] = 5.0
        cases.append(made_up_trace(real, **layers))
    return cases


@checker("Exercise 2: fix the slowest-layer helper", expects="a function slowest_layer(trace) -> a layer name")
def check_slowest_layer(slowest_layer: Callable[[RequestTrace], str], server: Server) -> str:
    if not callable(slowest_layer):
        raise Hint("slowest_layer should be a function taking one trace, e.g. `def slowest_layer(trace): ...`.")
    real = [trace_request(server.client, "GET", path) for path in REQUESTS]
    for trace in [*_slowest_cases(real[0]), *real]:
        answer = _call(slowest_layer, trace)
        if answer is ...:
            raise NotAttempted("slowest_layer still returns ...: write its body, then run this cell again.")
        times = {name: getattr(trace, name) for name in LAYERS}
        slowest = max(times, key=times.__getitem__)
        if answer in (slowest, LAYERS[slowest]):
            continue
        shown = ", ".join(f"{name} {ms:.3g}" for name, ms in times.items())
        seen = f"For a trace with {shown} (ms), slowest_layer returned {answer!r}"
        if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
            raise Hint(f"{seen}: a time. Return the layer's *name*, e.g. 'database'.")
        if not isinstance(answer, str) or answer not in {*LAYERS, *LAYERS.values()}:
            raise Hint(f"{seen}, which is not a layer: return one of {list(LAYERS.values())}.")
        name = next(key for key, label in LAYERS.items() if answer in (key, label))
        if name == max(n for n in times if n != "http") or name == max(times):
            raise Hint(
                f"{seen}, the largest *name*, not the largest time: max() of a dict compares its keys. "
                "Compare the values: max(times, key=times.get)."
            )
        if name == min(times, key=times.__getitem__):
            raise Hint(f"{seen}: that is the fastest layer. The slowest has the largest time.")
        if slowest == "http":
            raise Hint(
                f"{seen}, but {times['http']:.3g} ms went to HTTP handling (client + server). It is a layer "
                "of the request too, outside the app: trace.http, or trace.layers(), which holds all five."
            )
        raise Hint(f"{seen}, but the slowest is {LAYERS[slowest]!r}.")
    return (
        "Right: all five layers compared by their time. For a single-row lookup that is often HTTP "
        "handling, a layer the app's own timings never see: measure from the client too."
    )
