"""The 07-indexing checkers against a corpus of answers: right ones pass, each plausible wrong one
(what students write, and what a student after the tick writes: an index that fits only the value
the check asks with) fails with its own hint, and malformed answers a plain message (never a
traceback)."""

import gc
import re

import pytest
import sqlalchemy as sa

from labsupport.lessons.l07_indexing import checkers as indexing
from labsupport.lessons.l07_indexing.checkers import (
    CHECKED_MONTHS,
    CHECKED_PARAMS,
    MONTH_INDEXES,
    MONTH_QUERY,
    PRACTICE_INDEXES,
    PREDICT_QUERIES,
    WORKLOAD_QUERIES,
    check_busiest_query,
    check_covering_index,
    check_index_predictions,
    check_month_query,
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
        "CREATE INDEX IF NOT EXISTS ix ON orders (customer_id ASC, ordered_on ASC)",
        'CREATE INDEX "ix_orders" ON "orders" ("customer_id", "ordered_on")',
        "CREATE INDEX ix ON orders (customer_id, ordered_on, id)",
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
        ("CREATE INDEX ix ON orders (status, customer_id, ordered_on)", "The plan is still `SCAN orders`"),
        # fits only the values the check asks with: partial indexes (they passed when one value was asked)
        (
            "CREATE INDEX ix ON orders (customer_id, ordered_on) WHERE customer_id = 42",
            "Your index is partial (WHERE customer_id = 42)",
        ),
        (
            "CREATE INDEX ix ON orders (customer_id, ordered_on) WHERE ordered_on >= '2024-07-01'",
            "Your index is partial (WHERE ordered_on >= '2024-07-01')",
        ),
        ("create index ix on orders (customer_id, ordered_on) where customer_id in (7, 42, 99)", "is partial"),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on)\nWHERE\tstatus <> 'cancelled'", "is partial"),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on) WHERE customer_id > 10", "is partial"),
        # a constraint, not a speed-up
        ("CREATE UNIQUE INDEX ix ON orders (customer_id, ordered_on, id)", "A UNIQUE index adds a rule to the data"),
        # expressions where the query compares the columns
        ("CREATE INDEX ix ON orders (customer_id, date(ordered_on))", "Your index holds an expression"),
        ("CREATE INDEX ix ON orders (customer_id + 0, ordered_on)", "your index starts with an expression"),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on || '')", "holds an expression"),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on COLLATE NOCASE)", "only customer_id is searched"),
    ],
)
def test_search_index_wrong_answers_get_specific_hints(statement, hint):
    """Mutation that failed this: `_check_ddl` not called (the partial index on customer 42 then passed)."""
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
        "CREATE INDEX ix ON orders (customer_id, ordered_on, status, id)",
        "CREATE INDEX ix ON orders (customer_id DESC, ordered_on, status)",
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
        (
            "CREATE INDEX ix ON orders (customer_id, ordered_on, status) WHERE customer_id = 42",
            "Your index is partial (WHERE customer_id = 42)",
        ),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on, status) WHERE status <> 'cancelled'", "is partial"),
        ("CREATE UNIQUE INDEX ix ON orders (customer_id, ordered_on, status, id)", "A UNIQUE index"),
        ("CREATE INDEX ix ON orders (customer_id, ordered_on || status)", "to get ordered_on and status"),
        ("CREATE INDEX ix ON orders (customer_id, upper(status), ordered_on)", "to get status"),
        ("CREATE INDEX ix ON orders (status, ordered_on, customer_id)", "The plan is still"),
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
    """Mutation that failed this: `answer[letter] != plan.uses_index()` replaced by `!= plan.is_covering`."""
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


@pytest.mark.parametrize(
    "answer",
    [
        {letter: True for letter in PREDICT_QUERIES},  # "an index always helps"
        {letter: False for letter in PREDICT_QUERIES},  # "the planner never uses my index"
        {**RIGHT_PREDICTIONS, "b": True},  # any column of a composite index is searchable
        {**RIGHT_PREDICTIONS, "d": True},  # lower() does not matter
        {**RIGHT_PREDICTIONS, "e": True},  # LIKE always uses an index
        {**RIGHT_PREDICTIONS, "f": False},  # the second condition spoils the index
        {**RIGHT_PREDICTIONS, "g": True},  # OR is like AND
        {**RIGHT_PREDICTIONS, "c": False, "d": True},  # the functions swapped
    ],
)
def test_plausible_wrong_predictions_fail(answer):
    result = check_index_predictions(answer)
    assert result.status == "failed"
    wrong = sum(answer[k] != v for k, v in RIGHT_PREDICTIONS.items())
    assert result.message.startswith(f"{wrong} of 7 wrong.")


def test_the_checked_values_differ():
    """An index that fits one value must meet others: the checks ask with several customers and dates."""
    assert len({p["customer"] for p in CHECKED_PARAMS}) >= 3 and len({p["since"] for p in CHECKED_PARAMS}) >= 3


# --- Exercise 4: a month's orders, searched ------------------------------------------------------

SELECT = "SELECT id, customer_id, status FROM orders WHERE "
NEXT_MONTH = "date(:month || '-01', '+1 month')"
MONTH_RIGHT = {
    "half-open range": f"{SELECT}ordered_on >= :month || '-01' AND ordered_on < {NEXT_MONTH}",
    "between the 1st and the 31st": f"{SELECT}ordered_on BETWEEN :month || '-01' AND :month || '-31'",
    "below the next month's prefix": f"{SELECT}ordered_on >= :month AND ordered_on < {NEXT_MONTH}",
    "sorted": f"{SELECT}ordered_on >= :month || '-01' AND ordered_on < {NEXT_MONTH} ORDER BY ordered_on",
    "forced index": f"SELECT id, customer_id, status FROM orders INDEXED BY ix_orders_date WHERE "
    f"ordered_on >= :month || '-01' AND ordered_on < {NEXT_MONTH}",
}


@pytest.mark.parametrize("sql", MONTH_RIGHT.values(), ids=MONTH_RIGHT.keys())
def test_month_query_right_answers_pass(sql):
    result = check_month_query(sql)
    assert result.passed, result.message
    assert "SEARCH orders USING INDEX ix_orders_date" in result.message


MONTH_WRONG = {
    "the original": (MONTH_QUERY, "Same rows, but the plan is still `SCAN orders`"),
    "substr": (f"{SELECT}substr(ordered_on, 1, 7) = :month", "still `SCAN orders`"),
    "strftime": (f"{SELECT}strftime('%Y-%m', ordered_on) = :month", "still `SCAN orders`"),
    "LIKE": (f"{SELECT}ordered_on LIKE :month || '-%'", "or a LIKE pattern"),
    "date()": (f"{SELECT}date(ordered_on, 'start of month') = :month || '-01'", "still `SCAN"),
    "not indexed": (
        f"SELECT id, customer_id, status FROM orders NOT INDEXED WHERE ordered_on >= :month || '-01' "
        f"AND ordered_on < {NEXT_MONTH}",
        "still `SCAN",
    ),
    "first day left out": (
        f"{SELECT}ordered_on > :month || '-01' AND ordered_on < {NEXT_MONTH}",
        "For 2024-03 your query misses 1 order\\(s\\), placed on 2024-03-01",
    ),
    "last day left out": (
        f"{SELECT}ordered_on >= :month || '-01' AND ordered_on < :month || '-31'",
        "misses .* placed on 2024-03-31",
    ),
    "30 days for every month": (f"{SELECT}ordered_on BETWEEN :month || '-01' AND :month || '-30'", "2024-03-31"),
    "next month's first day included": (
        f"{SELECT}ordered_on >= :month || '-01' AND ordered_on <= {NEXT_MONTH}",
        "also returns .* placed on 2024-04-01",
    ),
    "one month hard-coded": (
        f"{SELECT}ordered_on >= '2024-03-01' AND ordered_on < '2024-04-01' AND :month = :month",
        "For 2024-12 your query misses",
    ),
    "no parameter": (f"{SELECT}ordered_on >= '2024-03-01'", "Keep the parameter :month"),
    "other columns": (
        "SELECT * FROM orders WHERE ordered_on >= :month || '-01' AND ordered_on < " + NEXT_MONTH,
        "Select the same columns",
    ),
    "syntax error": (f"{SELECT}ordered_on >= :month ||", "SQLite could not run your query for month '2024-03'"),
    "not a string": (42, "Expected a SELECT query as a string"),
}


@pytest.mark.parametrize(("sql", "hint"), MONTH_WRONG.values(), ids=MONTH_WRONG.keys())
def test_month_query_wrong_answers_get_specific_hints(sql, hint):
    """Mutation that failed this: the plan test dropped from check_month_query (the original query then passed)."""
    result = check_month_query(sql)
    assert result.status == "failed"
    assert re.search(hint, result.message), result.message
    assert "Could not check" not in result.message


def test_the_checked_months_have_orders_on_their_first_and_last_days():
    """Else an off-by-one at either end of the range would go unseen."""
    engine = practice_database(MONTH_INDEXES)
    with engine.connect() as conn:
        days = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT ordered_on FROM orders")}
    assert {"2024-03-01", "2024-03-31", "2024-12-01", "2024-12-31", "2023-04-01", "2023-04-30"} <= days
    assert not any(day.startswith(CHECKED_MONTHS[-1]) for day in days)  # a month without orders


def test_month_query_not_attempted():
    assert check_month_query(...).status == "not attempted"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE INDEX ix ON orders (customer_id, ordered_on) WHERE customer_id = 42",
        "CREATE INDEX ix ON orders (customer_id, ordered_on) WHERE ordered_on >= '2024-07-01'",
    ],
)
def test_several_values_catch_a_partial_index_even_without_reading_the_ddl(monkeypatch, statement):
    """Two defences, each enough alone: here the DDL is not read, and the other values give it away.

    Mutation that failed this: `_plans` asking with CHECKED_PARAMS[:1] only."""
    monkeypatch.setattr(indexing, "_check_ddl", lambda index: None)
    result = check_search_index(statement)
    assert result.status == "failed"
    assert "The plan is" in result.message


def test_a_check_leaves_no_practice_engine_behind():
    """The notebook's last cell on PostgreSQL asserts that every engine alive is PostgreSQL.

    Mutations that failed this: `gc.collect()` dropped from `_cleans_up` (the engine sat in a cycle);
    the hint keeping its traceback (its frames held the engine)."""
    gc.collect()
    before = sum(isinstance(o, sa.Engine) for o in gc.get_objects())
    assert check_index_predictions(RIGHT_PREDICTIONS).passed
    assert check_search_index("CREATE INDEX ix ON orders (status)").status == "failed"
    assert sum(isinstance(o, sa.Engine) for o in gc.get_objects()) == before


# --- Exercise 5: the query with the largest total time (pg_stat_statements) ---------------------


def test_busiest_query_right_answer_passes_however_it_is_spaced():
    for answer in (WORKLOAD_QUERIES["total"], "  " + WORKLOAD_QUERIES["total"].replace(" ", "\n  ") + ";"):
        result = check_busiest_query(answer)
        assert result.passed, result.message
        assert "add up to the most time" in result.message


BUSIEST_WRONG = {
    "slowest per call": (WORKLOAD_QUERIES["per call"], "slowest per call .* ran once"),
    "most called": (WORKLOAD_QUERIES["calls"], "ran most often, but each call is quick"),
    "another query": ("SELECT * FROM orders", "not one of the three queries"),
    "the lookup with a literal": (
        WORKLOAD_QUERIES["total"].replace("$1", "42"),
        "not one of the three queries",
    ),
    "a number": (2, "Expected the text of one query"),
    "a list of queries": (list(WORKLOAD_QUERIES.values()), "Expected the text of one query"),
}


@pytest.mark.parametrize(("answer", "hint"), BUSIEST_WRONG.values(), ids=BUSIEST_WRONG.keys())
def test_busiest_query_wrong_answers_get_specific_hints(answer, hint):
    """Mutation that failed this: check_busiest_query comparing with WORKLOAD_QUERIES["per call"] for the ✔."""
    result = check_busiest_query(answer)
    assert result.status == "failed"
    assert re.search(hint, result.message), result.message


def test_busiest_query_not_attempted():
    assert check_busiest_query(...).status == "not attempted"


def test_the_workload_queries_answer_three_different_questions():
    assert len(set(WORKLOAD_QUERIES.values())) == 3 and set(WORKLOAD_QUERIES) == {"total", "per call", "calls"}
