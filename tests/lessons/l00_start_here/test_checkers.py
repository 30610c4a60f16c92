"""The 00-start-here checkers, against a real bookshop: right answers pass, each wrong one gets
its own hint, malformed answers a plain message."""

from collections.abc import Iterator

import pytest

from labsupport.apps.bookshop import create_app
from labsupport.lessons.l00_start_here.checkers import check_database_share, check_prediction, database_shares
from labsupport.servers import Server, serve

RIGHT = {"/api/books/1": False, "/api/reports/bestsellers": True}


@pytest.fixture(scope="module")
def shop() -> Iterator[Server]:
    server = serve(create_app(orders=20_000), name="exercises-start-here")
    yield server
    server.stop()


def test_the_lesson_claim_holds_here(shop):
    shares = database_shares(shop, n=5)
    assert shares["/api/books/1"] < 0.5 < shares["/api/reports/bestsellers"]


def test_prediction_right(shop):
    assert check_prediction(RIGHT, shop).passed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"/api/books/1": True, "/api/reports/bestsellers": True}, "GET /api/books/1, so False is right"),
        ({"/api/books/1": False, "/api/reports/bestsellers": False}, "GET /api/reports/bestsellers, so True"),
        ({"/api/books/1": False}, "Give an answer for '/api/reports/bestsellers' too"),
        ({"/api/books/1": "no", "/api/reports/bestsellers": True}, "should be True or False, not 'no'"),
        (["/api/books/1"], "Expected a dict"),
    ],
)
def test_prediction_wrong_answers_get_specific_hints(shop, answer, hint):
    result = check_prediction(answer, shop)
    assert result.status == "failed"
    assert hint in result.message


def test_prediction_not_attempted(shop):
    assert check_prediction(..., shop).status == "not attempted"
    assert check_prediction({"/api/books/1": ..., "/api/reports/bestsellers": True}, shop).status == "not attempted"


def test_database_share_right(shop):
    assert check_database_share(lambda trace: trace.database / trace.total, shop).passed


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (lambda trace: trace.database, "the database time in milliseconds"),
        (lambda trace: trace.total / trace.database, "between 0 and 1"),
        (lambda trace: 1 - trace.database / trace.total, "outside* the database"),
        (lambda trace: trace.database / (trace.total * 2), "too low"),
        (lambda trace: "half", "Expected a number between 0 and 1"),
        ("trace.database / trace.total", "should be a function"),
        (lambda trace: trace.databse, "Could not check your answer: it raised AttributeError"),
        # The layer outside the app was once called "network"; nothing crosses a network here.
        (lambda trace: trace.network / trace.total, "A trace has no `network`"),
        (lambda trace: trace.http / trace.total, "share of HTTP handling (client + server)"),
    ],
)
def test_database_share_wrong_answers_get_specific_hints(shop, function, hint):
    result = check_database_share(function, shop)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in repr(result)


def test_database_share_not_attempted(shop):
    def database_share(trace): ...

    assert check_database_share(database_share, shop).status == "not attempted"
