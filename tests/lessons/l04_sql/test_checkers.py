"""The 04-sql checkers: right answers pass, each wrong one gets its own hint, malformed answers a
plain message, placeholders say "not attempted"."""

import pytest
import sqlalchemy as sa

from labsupport.lessons.l04_sql.checkers import (
    ATTACKS,
    CUSTOMERS,
    ORDERS,
    check_find_customer,
    check_orders_per_customer,
    exercise_engine,
)

RIGHT_SQL = """
    SELECT c.name, COUNT(o.id) AS orders
    FROM customers AS c LEFT JOIN orders AS o ON o.customer_id = c.id
    GROUP BY c.id
"""
JOIN = "FROM customers c LEFT JOIN orders o ON o.customer_id = c.id"


def test_exercise_engine_holds_the_hand_written_rows():
    engine = exercise_engine()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM customers").scalar() == len(CUSTOMERS)
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM orders").scalar() == len(ORDERS)
    engine.dispose()


@pytest.mark.parametrize(
    "sql",
    [
        RIGHT_SQL,
        f"SELECT c.name, COUNT(o.id) {JOIN} GROUP BY c.name ORDER BY 2 DESC",
        "SELECT name, (SELECT COUNT(*) FROM orders WHERE customer_id = customers.id) FROM customers",
    ],
)
def test_orders_per_customer_right_answers_pass(sql):
    result = check_orders_per_customer(sql)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("sql", "hint"),
    [
        (RIGHT_SQL.replace("LEFT JOIN", "JOIN"), "an inner JOIN drops rows without a match. A LEFT JOIN"),
        (RIGHT_SQL.replace("COUNT(o.id)", "COUNT(*)"), "COUNT(*) counts the row of NULLs"),
        (f"SELECT c.name, COUNT(o.id) {JOIN}", "without GROUP BY folds all rows into one"),
        (f"SELECT c.name, o.id {JOIN.replace('LEFT ', '')}", "Ada Costa, Daniel Evans appear more than once"),
        ("SELECT * FROM customers", "returns 4 column(s) (id, name, email, city)"),
        (f"SELECT COUNT(o.id), c.name {JOIN} GROUP BY c.id", "the wrong way round"),
        (f"SELECT c.city, COUNT(o.id) {JOIN} GROUP BY c.id", "which are not customer names"),
        (f"SELECT c.name, COUNT(o.id) {JOIN} WHERE c.id < 3 GROUP BY c.id", "Rows for Chloe Dubois, Daniel Evans"),
        (f"SELECT c.name, COUNT(o.id) {JOIN} OR 1 GROUP BY c.id", "The count for Ada Costa is 6, but they placed 3"),
        (f"SELECT c.name, 'many' {JOIN} GROUP BY c.id", "should be a whole number of orders"),
        ("SELEC name FROM customers", 'The database refused your SQL: near "SELEC": syntax error'),
        ("SELECT nme, 1 FROM customers", "The database refused your SQL: no such column: nme"),
        ("SELECT 1; SELECT 2", "You can only execute one statement at a time"),
        ("DELETE FROM orders", "returns no rows: write a SELECT"),
        ("   ", "The string is empty"),
        (42, "Expected SQL text in a string"),
    ],
)
def test_orders_per_customer_wrong_answers_get_specific_hints(sql, hint):
    result = check_orders_per_customer(sql)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in result.message


def test_orders_per_customer_cannot_damage_the_data_of_a_later_check():
    assert check_orders_per_customer("DELETE FROM orders").status == "failed"
    assert check_orders_per_customer(RIGHT_SQL).passed


def test_orders_per_customer_placeholder_is_not_attempted():
    assert check_orders_per_customer(...).status == "not attempted"


def find_with_text(conn, email):
    return conn.execute(sa.text("SELECT id, name FROM customers WHERE email = :email"), {"email": email}).fetchall()


def find_with_driver(conn, email):
    return conn.exec_driver_sql("SELECT * FROM customers WHERE email = ?", (email,)).fetchall()


def find_returning_the_result(conn, email):
    return conn.execute(sa.text("SELECT id, name FROM customers WHERE email = :email"), {"email": email})


def find_vulnerable(conn, email):
    """Deliberately injectable: the email is pasted into the SQL text."""
    return conn.exec_driver_sql(f"SELECT id, name FROM customers WHERE email = '{email}'").fetchall()


@pytest.mark.parametrize("fn", [find_with_text, find_with_driver, find_returning_the_result])
def test_find_customer_with_bound_parameters_passes(fn):
    result = check_find_customer(fn)
    assert result.passed, result.message
    assert f"all {len(ATTACKS)} attacks found nothing" in result.message


def _only_first_attack_is_blocked(conn, email):
    if email == ATTACKS[0]:
        return []
    return find_vulnerable(conn, email)


def _crashes_on_quotes(conn, email):
    if "'" in email and "brien" not in email:
        return find_vulnerable(conn, "x'")
    return find_with_text(conn, email)


def _breaks_the_apostrophe(conn, email):
    return [] if "brien" in email else find_with_text(conn, email)


def _deletes(conn, email):
    if "DELETE" in email:
        conn.exec_driver_sql("DELETE FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)")
        conn.commit()
        return []
    return find_with_text(conn, email)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (find_vulnerable, "The attack \"' OR '1'='1\" still worked: it returned 5 row(s)"),
        (_only_first_attack_is_blocked, "The attack \"nobody@example.com' OR 1=1 --\" still worked"),
        (_crashes_on_quotes, "crashed: the database said 'unrecognized token"),
        (_deletes, "The attack \"'; DELETE FROM customers; --\" deleted customers"),
        (_breaks_the_apostrophe, "should find Farah O'Brien (id 5)"),
        (lambda conn, email: conn.exec_driver_sql("SELECT id, name FROM customers").fetchall(), "returned [(1, "),
        (lambda conn, email: [(1, "Ada Costa")], "should return an empty list: nobody has that email"),
        (lambda conn, email: [], "found nothing, but Ada exists"),
        (lambda conn, email: find_with_text(conn, email)[0] if email.startswith("ada") else None, "not Row"),
        (lambda conn, email: [1], "Each item of the list should be a row"),
        (lambda conn: [], "should take two arguments"),
        (lambda conn, email, extra: [], "should take two arguments"),
        ("SELECT * FROM customers", "find_customer should be a function"),
    ],
)
def test_find_customer_wrong_answers_get_specific_hints(fn, hint):
    result = check_find_customer(fn)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in result.message


def test_find_customer_that_raises_gets_a_plain_message():
    def broken(conn, email):
        raise KeyError("email")

    result = check_find_customer(broken)
    assert result.status == "failed"
    assert result.message == (
        "Could not check your answer: it raised KeyError: 'email'. Expected: a function find_customer(conn, email)."
    )


def test_find_customer_placeholders_are_not_attempted():
    def stub(conn, email): ...

    assert check_find_customer(...).status == "not attempted"
    assert check_find_customer(stub).status == "not attempted"
