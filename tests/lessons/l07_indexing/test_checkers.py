"""The 07-indexing checkers: right answers pass, each kind of wrong answer gets its own hint, and
malformed answers a plain message (never a traceback)."""

import pytest

from labsupport.lessons.l07_indexing import checkers as indexing
from labsupport.lessons.l07_indexing.checkers import (
    PRACTICE_INDEXES,
    PREDICT_QUERIES,
    check_covering_index,
    check_index_predictions,
    check_search_index,
    practice_database,
)
from labsupport.lessons.l07_indexing.plans import explain

RIGHT_PREDICTIONS = {"a": True, "b": False, "c": True, "d": False, "e": False, "f": True, "g": False}


def test_practice_database_is_a_fresh_small_bookshop_with_the_given_indexes():
    engine = practice_database(PRACTICE_INDEXES)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM orders").scalar() == indexing.PRACTICE_ORDERS
    assert explain(engine, PREDICT_QUERIES["a"]).uses_index("ix_orders_customer_date")
    assert not explain(practice_database(), PREDICT_QUERIES["a"]).uses_index()


# --- Exercise 1: an index for both conditions ---------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE INDEX ix_orders_customer_date ON orders (customer_id, ordered_on)",
        "create index ix on orders(customer_id, ordered_on desc);",
        "CREATE INDEX ix ON orders (customer_id, ordered_on, status)",
    ],
)
def test_search_index_right(statement):
    result = check_search_index(statement)
    assert result.passed, result
    assert "(customer_id=? AND ordered_on>?)" in result.message


@pytest.mark.parametrize(
    ("statement", "hint"),
    [
        ("CREATE INDEX ix ON orders (ordered_on, customer_id)", "Put the equality column (customer_id) first"),
        ("CREATE INDEX ix ON orders (ordered_on)", "with ordered_on first"),
        ("CREATE INDEX ix ON orders (customer_id)", "only customer_id is searched"),
        ("CREATE INDEX ix ON orders (customer_id, status, ordered_on)", "Put ordered_on right after customer_id"),
        ("CREATE INDEX ix ON orders (status)", "The plan is still `SCAN orders`"),
        ("CREATE INDEX ix ON customers (email)", "Your index is on the customers table"),
    ],
)
def test_search_index_wrong_answers_get_specific_hints(statement, hint):
    result = check_search_index(statement)
    assert result.status == "failed"
    assert hint in result.message


@pytest.mark.parametrize(
    ("statement", "hint"),
    [
        (42, "Expected a CREATE INDEX statement as a string, but got 42 (int)"),
        ("SELECT * FROM orders", "Write one statement that starts with CREATE INDEX"),
        ("DROP TABLE orders", "Write one statement that starts with CREATE INDEX"),
        ("CREATE INDX ix ON orders (customer_id)", "Write one statement that starts with CREATE INDEX"),
        ("CREATE INDEX ix ON nowhere (customer_id)", "SQLite could not run your statement: no such table"),
        ("CREATE INDEX ix ON orders (nosuch)", "SQLite could not run your statement: no such column: nosuch"),
        (
            "CREATE INDEX ix ON orders (customer_id); DROP TABLE orders",
            "SQLite could not run your statement: You can only execute one statement at a time",
        ),
    ],
)
def test_malformed_statements_get_plain_messages(statement, hint):
    for check in (check_search_index, check_covering_index):
        result = check(statement)
        assert result.status == "failed"
        assert hint in result.message
        assert "Traceback" not in result.message and "sqlalche.me" not in result.message


def test_an_index_name_already_taken(monkeypatch):
    taken = "CREATE INDEX ix ON orders (status)"
    monkeypatch.setattr(indexing, "practice_database", lambda: practice_database((taken,)))
    result = check_search_index("CREATE INDEX IF NOT EXISTS ix ON orders (customer_id, ordered_on)")
    assert result.status == "failed"
    assert "created no index" in result.message


def test_not_attempted():
    assert check_search_index(...).status == "not attempted"
    assert check_covering_index(...).status == "not attempted"
    assert check_index_predictions(...).status == "not attempted"


# --- Exercise 2: a covering index -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE INDEX ix ON orders (customer_id, ordered_on, status)",
        "CREATE INDEX ix ON orders (customer_id, status, ordered_on)",
    ],
)
def test_covering_index_right(statement):
    result = check_covering_index(statement)
    assert result.passed, result
    assert "USING COVERING INDEX ix (customer_id=?)" in result.message


@pytest.mark.parametrize(
    ("statement", "hint"),
    [
        ("CREATE INDEX ix ON orders (customer_id)", "to get ordered_on and status"),
        ("CREATE INDEX ix ON orders (customer_id, status)", "to get ordered_on. Add"),
        ("CREATE INDEX ix ON orders (ordered_on, status, customer_id)", "constrains its first column (ordered_on)"),
        ("CREATE INDEX ix ON orders (status)", "The plan is still `SCAN orders`"),
        ("CREATE INDEX ix ON books (author)", "Your index is on the books table"),
    ],
)
def test_covering_index_wrong_answers_get_specific_hints(statement, hint):
    result = check_covering_index(statement)
    assert result.status == "failed"
    assert hint in result.message


def test_covering_but_scanned_index(monkeypatch):
    # With a query SQLite answers by scanning a covering index, that case gets its own hint.
    monkeypatch.setattr(indexing, "COVERING_QUERY", "SELECT ordered_on FROM orders WHERE status = :customer")
    result = check_covering_index("CREATE INDEX ix ON orders (ordered_on, status)")
    assert result.status == "failed"
    assert "SQLite reads all of it" in result.message


# --- Exercise 3: predictions --------------------------------------------------------------------


def test_predictions_right():
    result = check_index_predictions(RIGHT_PREDICTIONS)
    assert result.passed, result


@pytest.mark.parametrize("letter", list(PREDICT_QUERIES))
def test_each_wrong_prediction_is_explained(letter):
    answer = {**RIGHT_PREDICTIONS, letter: not RIGHT_PREDICTIONS[letter]}
    result = check_index_predictions(answer)
    assert result.status == "failed"
    assert result.message.startswith("1 of 7 wrong.")
    assert f"{letter}: you said {answer[letter]}, but the plan is `" in result.message
    assert indexing._REASONS[letter] in result.message


def test_all_wrong_predictions_are_listed():
    result = check_index_predictions({k: not v for k, v in RIGHT_PREDICTIONS.items()})
    assert result.message.startswith("7 of 7 wrong.")
    assert result.message.count("you said") == 7


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (["a", "c"], "Expected a dict"),
        ({"a": True}, "Give True or False for query 'b' too"),
        ({**RIGHT_PREDICTIONS, "h": True}, "there is no 'h'"),
        ({**RIGHT_PREDICTIONS, 1: True}, "there is no '1'"),
        ({**RIGHT_PREDICTIONS, "a": "yes"}, "should be True or False, not 'yes'"),
        ({**RIGHT_PREDICTIONS, "a": 1}, "should be True or False, not 1"),
    ],
)
def test_malformed_predictions(answer, hint):
    result = check_index_predictions(answer)
    assert result.status == "failed"
    assert hint in result.message


def test_a_placeholder_inside_the_dict_is_not_attempted():
    assert check_index_predictions({**RIGHT_PREDICTIONS, "c": ...}).status == "not attempted"
