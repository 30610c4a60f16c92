"""The 00-start-here checkers, against a real bookshop: right answers pass, each wrong one gets
its own hint, malformed answers a plain message."""

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from labsupport.apps.bookshop import create_app
from labsupport.lessons.l00_start_here.checkers import (
    check_database_share,
    check_prediction,
    check_slowest_layer,
    database_shares,
    made_up_trace,
)
from labsupport.servers import Server, serve
from labsupport.tracing import HTTP_LAYER

RIGHT = {"/api/books/1": False, "/api/reports/bestsellers": True}


@pytest.fixture(scope="module")
def shop() -> Iterator[Server]:
    server = serve(create_app(orders=20_000), name="exercises-start-here")
    yield server
    server.stop()


def failed_with(result, hint: str) -> None:
    assert result.status == "failed", result
    assert hint in result.message, result.message
    assert "Traceback" not in repr(result)


def test_the_lesson_claim_holds_here(shop):
    shares = database_shares(shop, n=5)
    assert shares["/api/books/1"] < 0.5 < shares["/api/reports/bestsellers"]


# --- section 3: predict, then run ------------------------------------------------------------


def test_prediction_right(shop):
    result = check_prediction(RIGHT, shop)
    assert result.passed, result
    assert "measured again just now" in result.message and "mostly SQL" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"/api/books/1": True, "/api/reports/bestsellers": True}, "GET /api/books/1, so False is right for it: "
         "SQLite finds one row by its key in a few page reads"),
        ({"/api/books/1": False, "/api/reports/bestsellers": False}, "GET /api/reports/bestsellers, so True is "
         "right for it: its one SELECT reads and adds up every order line"),
        ({"/api/books/1": True, "/api/reports/bestsellers": False}, "GET /api/books/1, so False is right"),
        ({"/api/books/1": False}, "Give an answer for '/api/reports/bestsellers' too"),
        ({"GET /api/books/1": False, "GET /api/reports/bestsellers": True}, "Give an answer for '/api/books/1'"),
        ({"/api/books/1": "no", "/api/reports/bestsellers": True}, "should be True or False, not 'no'"),
        ({"/api/books/1": 0, "/api/reports/bestsellers": 1}, "should be True or False, not 0"),
        ({"/api/books/1": 0.2, "/api/reports/bestsellers": 0.8}, "should be True or False, not 0.2"),
        (["/api/books/1"], "Expected a dict"),
    ],
    ids=["all-database", "none-database", "swapped", "missing-key", "method-in-key", "text", "ints", "shares", "list"],
)
def test_prediction_wrong_answers_get_specific_hints(shop, answer, hint):
    """The prediction comes before the chart, so a wrong one is told why, not sent to the chart.
    (Mutation that failed this: `_WHY_SHARE[mostly]` read as `_WHY_SHARE[not mostly]`.)"""
    failed_with(check_prediction(answer, shop), hint)


def test_prediction_not_attempted(shop):
    assert check_prediction(..., shop).status == "not attempted"
    assert check_prediction({"/api/books/1": ..., "/api/reports/bestsellers": True}, shop).status == "not attempted"


# --- exercise 1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [
        lambda trace: trace.database / trace.total,
        lambda trace: round(trace.database / trace.total, 3),  # once rejected: a right answer, rounded
        lambda trace: round(trace.database / trace.total, 2),
        lambda trace: float(f"{trace.database / trace.total:.4f}"),
        lambda trace: trace.database / sum(trace.layers().values()),
        lambda trace: trace.layers()["database"] / trace.total,
        lambda trace: np.float64(trace.database) / np.float64(trace.total),
        lambda trace: Fraction(trace.database) / Fraction(trace.total),
        lambda trace: int(trace.database / trace.total * 1000) / 1000,  # truncated, not rounded
    ],
    ids=[
        "exact",
        "round-3",
        "round-2",
        "formatted-4",
        "sum-of-layers",
        "layers-dict",
        "numpy",
        "fraction",
        "truncated",
    ],
)
def test_database_share_right(shop, function):
    result = check_database_share(function, shop)
    assert result.passed, result
    assert "add up to 1" in result.message


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (lambda trace: trace.database, "the database time in milliseconds"),
        (lambda trace: trace.database / trace.total * 100, "that is a percentage"),
        (lambda trace: round(100 * trace.database / trace.total), "that is a percentage"),
        (lambda trace: trace.total / trace.database, "the division is upside down"),
        (lambda trace: 1 - trace.database / trace.total, "outside* the database"),
        (lambda trace: (trace.total - trace.database) / trace.total, "outside* the database"),
        (lambda trace: trace.http / trace.total, "share of HTTP handling (client + server)"),
        (lambda trace: trace.framework / trace.total, "share of the framework layer"),
        (lambda trace: trace.logic / trace.total, "share of the logic layer"),
        (lambda trace: trace.database / (trace.total - trace.http), "*inside the app*"),
        (
            lambda trace: trace.database / (trace.database + trace.framework + trace.route + trace.logic),
            "inside the app",
        ),
        (lambda trace: round(trace.database / trace.total), "rounded to a whole number"),
        (lambda trace: trace.database // trace.total, "rounded to a whole number"),
        (lambda trace: round(trace.database / trace.total, 1), "rounded to one decimal"),
        (lambda trace: 0.3, "made-up trace #2"),  # the first made-up trace's share, hard-coded
        (lambda trace: trace.database / (trace.total * 2), "too low"),
        (lambda trace: trace.database / (trace.database + trace.http), "too high"),
        (lambda trace: f"{trace.database / trace.total:.1%}", "returned the text '30.0%'"),
        (lambda trace: "half", "returned the text 'half'"),
        (lambda trace: Decimal("0.3"), "Expected a number between 0 and 1"),
        (lambda trace: True, "Expected a number between 0 and 1"),
        (lambda trace: float("nan"), "returned nan"),
        ("trace.database / trace.total", "should be a function"),
        (lambda trace: trace.databse, "Could not check your answer: it raised AttributeError"),
        # The layer outside the app was once called "network"; nothing crosses a network here.
        (lambda trace: trace.network / trace.total, "A trace has no `network`"),
    ],
    ids=[
        "milliseconds",
        "percent",
        "percent-rounded",
        "inverted-division",
        "one-minus",
        "outside",
        "http",
        "framework",
        "logic",
        "app-share",
        "app-share-summed",
        "round-0",
        "floor-division",
        "round-1",
        "constant",
        "halved",
        "two-layers",
        "formatted",
        "word",
        "decimal",
        "bool",
        "nan",
        "string",
        "typo",
        "network",
    ],
)
def test_database_share_wrong_answers_get_specific_hints(shop, function, hint):
    """Mutation that failed this: `_SHARE_TOLERANCE = 0.05` (one decimal) let `round-1`, `halved`, ... pass."""
    failed_with(check_database_share(function, shop), hint)


def test_database_share_not_attempted(shop):
    def database_share(trace): ...

    assert check_database_share(database_share, shop).status == "not attempted"
    assert check_database_share(lambda trace: ..., shop).status == "not attempted"


def test_made_up_traces_keep_the_layers_adding_up(shop):
    from labsupport.tracing import trace_request

    trace = made_up_trace(
        trace_request(shop.client, "GET", "/api/books/1"), http=1, framework=2, route=3, logic=4, database=5
    )
    assert trace.total == 15 and sum(trace.layers().values()) == 15 and trace.layers()[HTTP_LAYER] == 1


# --- exercise 2 -------------------------------------------------------------------------------


def colleagues_first_try(trace):
    """The notebook's buggy helper: max() of a dict compares keys, and the HTTP layer is missing."""
    times = {"framework": trace.framework, "route": trace.route, "logic": trace.logic, "database": trace.database}
    return max(times)


def right_by_layers(trace):
    times = trace.layers()
    return max(times, key=times.get)


def right_by_attributes(trace):
    times = {name: getattr(trace, name) for name in ("http", "framework", "route", "logic", "database")}
    return max(times, key=lambda name: times[name])


def right_by_sorting(trace):
    return sorted(trace.layers().items(), key=lambda item: item[1])[-1][0]


@pytest.mark.parametrize("function", [right_by_layers, right_by_attributes, right_by_sorting])
def test_slowest_layer_right(shop, function):
    result = check_slowest_layer(function, shop)
    assert result.passed, result
    assert "HTTP handling" in result.message


def app_layers_only(trace):  # the first bug fixed, not the second
    times = {"framework": trace.framework, "route": trace.route, "logic": trace.logic, "database": trace.database}
    return max(times, key=times.get)


def fastest(trace):
    times = trace.layers()
    return min(times, key=times.get)


def by_value(trace):  # the time instead of the name
    return max(trace.layers().values())


def by_item(trace):  # max of (name, ms) pairs compares the names first
    return max(trace.layers().items())[0]


def reversed_lookup(trace):  # {ms: name}: fine until two layers take the same time
    by_time = {ms: name for name, ms in trace.layers().items()}
    return by_time[max(by_time)].upper()


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (colleagues_first_try, "the largest *name*, not the largest time: max() of a dict compares its keys"),
        (app_layers_only, "went to HTTP handling (client + server). It is a layer of the request too"),
        (fastest, "that is the fastest layer"),
        (by_value, "a time. Return the layer's *name*"),
        (by_item, "max() of a dict compares its keys"),
        (reversed_lookup, "which is not a layer: return one of"),
        (lambda trace: "framework", "but the slowest is 'database'"),
        (lambda trace: "db", "which is not a layer"),
        ("database", "should be a function"),
    ],
    ids=["notebook-bugs", "no-http", "min", "value", "items", "upper", "constant", "abbreviation", "string"],
)
def test_slowest_layer_wrong_answers_get_specific_hints(shop, function, hint):
    """Mutation that failed this: `if slowest == "http"` → `if False` gave `no-http` a hint that did not name HTTP."""
    failed_with(check_slowest_layer(function, shop), hint)


def test_slowest_layer_not_attempted(shop):
    def slowest_layer(trace): ...

    assert check_slowest_layer(slowest_layer, shop).status == "not attempted"
    assert check_slowest_layer(lambda trace: ..., shop).status == "not attempted"
