"""The 04-sql checkers against a corpus of answers: right ones pass, each plausible wrong one (what
students really write, and what an attacker sends) fails with the hint for that mistake, never a
traceback; placeholders say "not attempted"."""

import re

import pytest
import sqlalchemy as sa

from labsupport.lessons.l04_sql.checkers import (
    ATTACKS,
    CUSTOMERS,
    ORDER_LINES,
    ORDERS,
    REPORT_SQL,
    check_customer_report,
    check_find_customer,
    check_join_prediction,
    check_orders_per_customer,
    exercise_engine,
)
from lessons.corpus import assert_hint, ids

RIGHT_SQL = """
    SELECT c.name, COUNT(o.id) AS orders
    FROM customers AS c LEFT JOIN orders AS o ON o.customer_id = c.id
    GROUP BY c.id
"""
JOIN = "FROM customers c LEFT JOIN orders o ON o.customer_id = c.id"


def test_exercise_engine_holds_the_hand_written_rows_and_their_traps():
    """Mutation that failed this: customer 6 renamed "Ben Weber Jr" (no shared name left)."""
    engine = exercise_engine()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM customers").scalar() == len(CUSTOMERS)
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM orders").scalar() == len(ORDERS)
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM order_lines").scalar() == len(ORDER_LINES)
        # the traps: a shared name, customers without orders, orders with several lines
        assert conn.exec_driver_sql("SELECT COUNT(DISTINCT name) FROM customers").scalar() < len(CUSTOMERS)
        assert (
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)"
            ).scalar()
            == 2
        )
        assert (
            conn.exec_driver_sql("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM order_lines GROUP BY order_id)").scalar()
            > 1
        )
    engine.dispose()


# --- Exercise 1: orders per customer ----------------------------------------------------------

ORDERS_RIGHT = {
    "left join, group by id": RIGHT_SQL,
    "group by id and name, ordered": f"SELECT c.name, COUNT(o.id) {JOIN} GROUP BY c.id, c.name ORDER BY 2 DESC",
    "correlated subquery": "SELECT name, (SELECT COUNT(*) FROM orders WHERE customer_id = customers.id) FROM customers",
    "count distinct": f"SELECT c.name, COUNT(DISTINCT o.id) {JOIN} GROUP BY c.id",
    "count the foreign key": f"SELECT c.name, COUNT(o.customer_id) AS n {JOIN} GROUP BY c.id",
    "sum of a test": f"SELECT c.name, SUM(o.id IS NOT NULL) {JOIN} GROUP BY c.id",
    "right join from orders": "SELECT c.name, COUNT(o.id) FROM orders o RIGHT JOIN customers c "
    "ON o.customer_id = c.id GROUP BY c.id",
    "union of zeros": "SELECT c.name, COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id "
    "UNION ALL SELECT name, 0 FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)",
}


@pytest.mark.parametrize("sql", ORDERS_RIGHT.values(), ids=ORDERS_RIGHT.keys())
def test_orders_per_customer_right_answers_pass(sql):
    result = check_orders_per_customer(sql)
    assert result.passed, result.message
    assert "GROUP BY the id keeps the two Ben Webers apart" in result.message


ORDERS_WRONG = {
    # wrong join type
    "inner join": (RIGHT_SQL.replace("LEFT JOIN", "JOIN"), "an inner JOIN drops rows without a match .* A LEFT JOIN"),
    "comma join": (
        "SELECT c.name, COUNT(*) FROM customers c, orders o WHERE o.customer_id = c.id GROUP BY c.id",
        "Chloe Dubois, Farah O'Brien are missing: they have no orders",
    ),
    "where undoes the left join": (
        f"SELECT c.name, COUNT(o.id) {JOIN} WHERE o.status <> 'cancelled' GROUP BY c.id",
        "so does a WHERE on a column of orders",
    ),
    "right join the wrong way": (
        "SELECT c.name, COUNT(o.id) FROM customers c RIGHT JOIN orders o ON o.customer_id = c.id GROUP BY c.id",
        "A LEFT JOIN keeps every customer",
    ),
    # COUNT(*) with a LEFT JOIN
    "count star": (
        RIGHT_SQL.replace("COUNT(o.id)", "COUNT(*)"),
        "COUNT\\(\\*\\) \\(or a count of a customers column\\)",
    ),
    "count a customers column": (RIGHT_SQL.replace("COUNT(o.id)", "COUNT(c.id)"), "counts the row of NULLs"),
    # grouped by a column that is not unique: the two Ben Webers merge
    "group by name": (
        f"SELECT c.name, COUNT(o.id) {JOIN} GROUP BY c.name",
        "Ben Weber has one row, but 2 different customers have that name",
    ),
    "group by name, sorted": (
        f"SELECT c.name AS name, COUNT(o.id) {JOIN} GROUP BY name ORDER BY name",
        "grouping by the name merges them",
    ),
    "distinct names": (
        f"SELECT DISTINCT c.name, (SELECT COUNT(*) FROM orders WHERE customer_id = c.id) {JOIN}",
        "Ben Weber appears more often|Ben Weber has one row",
    ),
    # no or wrong grouping
    "no group by": (f"SELECT c.name, COUNT(o.id) {JOIN}", "without GROUP BY folds all rows into one"),
    "no aggregate": (
        f"SELECT c.name, o.id {JOIN.replace('LEFT ', '')}",
        "Ada Costa, Ben Weber, Daniel Evans appear more often",
    ),
    "group by order": (f"SELECT c.name, COUNT(o.id) {JOIN} GROUP BY c.id, o.status", "appear more often"),
    # off by one, wrong join condition
    "off by one (minus one)": (RIGHT_SQL.replace("COUNT(o.id)", "COUNT(o.id) - 1"), "The count for "),
    "off by one (first order skipped)": (
        f"SELECT c.name, COUNT(o.id) {JOIN} AND o.id > 1 GROUP BY c.id",
        "The count for Ada Costa is 2, but they placed 3",
    ),
    "join on the wrong column": (
        "SELECT c.name, COUNT(o.id) FROM customers c LEFT JOIN orders o ON o.id = c.id GROUP BY c.id",
        "The count for ",
    ),
    "or 1": (
        f"SELECT c.name, COUNT(o.id) {JOIN} OR 1 GROUP BY c.id",
        "The count for Ada Costa is 9, but they placed 3",
    ),
    "filtered rows": (
        f"SELECT c.name, COUNT(o.id) {JOIN} WHERE c.id < 3 GROUP BY c.id",
        "Chloe Dubois, Daniel Evans, Farah O'Brien are missing|Rows for",
    ),
    # shape
    "columns swapped": (f"SELECT COUNT(o.id), c.name {JOIN} GROUP BY c.id", "the wrong way round"),
    "city instead of name": (f"SELECT c.city, COUNT(o.id) {JOIN} GROUP BY c.id", "which are not customer names"),
    "not a number": (f"SELECT c.name, 'many' {JOIN} GROUP BY c.id", "should be a whole number of orders"),
    "a float average": (
        f"SELECT c.name, AVG(o.id IS NOT NULL) * COUNT(o.id) {JOIN} GROUP BY c.id",
        "should be a whole number of orders",
    ),
    "star": ("SELECT * FROM customers", "returns 4 column\\(s\\) \\(id, name, email, city\\)"),
    "syntax error": ("SELEC name FROM customers", 'The database refused your SQL: near "SELEC": syntax error'),
    "no such column": ("SELECT nme, 1 FROM customers", "The database refused your SQL: no such column: nme"),
    "two statements": ("SELECT 1; SELECT 2", "You can only execute one statement at a time"),
    "not a select": ("UPDATE customers SET city = 'Paris'", "returns no rows: write a SELECT"),
    "blank": ("   ", "The string is empty"),
    "not a string": (42, "Expected SQL text in a string"),
}


@pytest.mark.parametrize(("sql", "hint"), ORDERS_WRONG.values(), ids=ORDERS_WRONG.keys())
def test_orders_per_customer_wrong_answers_get_specific_hints(sql, hint):
    """Mutation that failed this: `_check_names` without the `merged` test (group by name then passed)."""
    result = check_orders_per_customer(sql)
    assert result.status == "failed"
    assert re.search(hint, result.message), result.message
    assert "Traceback" not in result.message and "Could not check" not in result.message


def test_orders_per_customer_cannot_damage_the_data_of_a_later_check():
    assert check_orders_per_customer("DELETE FROM customers WHERE id = 3").status == "failed"
    assert check_orders_per_customer(RIGHT_SQL).passed


def test_orders_per_customer_placeholder_is_not_attempted():
    assert check_orders_per_customer(...).status == "not attempted"


# --- Exercise 2: find_customer -----------------------------------------------------------------


def find_with_text(conn, email):
    return conn.execute(sa.text("SELECT id, name FROM customers WHERE email = :email"), {"email": email}).fetchall()


def find_with_driver(conn, email):
    return conn.exec_driver_sql("SELECT * FROM customers WHERE email = ?", (email,)).fetchall()


def find_returning_the_result(conn, email):
    return conn.execute(sa.text("SELECT id, name FROM customers WHERE email = :email"), {"email": email})


def find_with_core(conn, email):
    from labsupport import schema

    customers = schema.customers
    return conn.execute(sa.select(customers.c.id, customers.c.name).where(customers.c.email == email)).all()


def find_with_named_driver_parameter(conn, email):
    return conn.exec_driver_sql("SELECT id, name FROM customers WHERE email = :e", {"e": email}).fetchall()


@pytest.mark.parametrize(
    "fn",
    [find_with_text, find_with_driver, find_returning_the_result, find_with_core, find_with_named_driver_parameter],
)
def test_find_customer_with_bound_parameters_passes(fn):
    result = check_find_customer(fn)
    assert result.passed, result.message
    assert f"all {len(ATTACKS)} attacks" in result.message


def find_vulnerable(conn, email):
    """Deliberately injectable: the email is pasted into the SQL text."""
    return conn.exec_driver_sql(f"SELECT id, name FROM customers WHERE email = '{email}'").fetchall()


def find_quotes_doubled(conn, email):
    """The textbook hand-made escape: in SQLite it even resists every attack, but it is still SQL built from input."""
    return find_vulnerable(conn, email.replace("'", "''"))


def find_quotes_stripped(conn, email):
    return find_vulnerable(conn, email.replace("'", ""))


def find_quotes_backslashed(conn, email):
    return find_vulnerable(conn, email.replace("'", "\\'"))


def find_deny_list(conn, email):
    if any(word in email.upper() for word in ("OR ", "UNION", "--", ";", "DELETE", "DROP")):
        return []
    try:
        return find_vulnerable(conn, email)
    except Exception:
        return []


def find_deny_list_of_quotes(conn, email):
    return [] if "'" in email else find_vulnerable(conn, email)


def find_with_like(conn, email):
    return conn.execute(sa.text("SELECT id, name FROM customers WHERE email LIKE :email"), {"email": email}).fetchall()


def find_case_insensitive(conn, email):
    query = sa.text("SELECT id, name FROM customers WHERE lower(email) = lower(:email)")
    return conn.execute(query, {"email": email}).fetchall()


def find_sanitised(conn, email):
    """An f-string behind a 'sanitiser' that keeps only the characters of an email."""
    import re as regex

    clean = regex.sub(r"[^A-Za-z0-9@._'%=-]", "", email)
    return find_vulnerable(conn, clean)


def find_sanitised_without_quotes(conn, email):
    import re as regex

    return find_vulnerable(conn, regex.sub(r"[^A-Za-z0-9@._-]", "", email))


def find_swallowing_errors(conn, email):
    try:
        return find_vulnerable(conn, email)
    except sa.exc.DBAPIError:
        return []


def find_first_only(conn, email):
    """Returns at most one row: the attacks that list everyone still leak the first customer."""
    return find_vulnerable(conn, email)[:1]


def _only_first_attack_is_blocked(conn, email):
    return [] if email == ATTACKS[0] else find_vulnerable(conn, email)


def _deletes(conn, email):
    if "DELETE" in email:
        conn.exec_driver_sql("DELETE FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)")
        conn.commit()
        return []
    return find_with_text(conn, email)


def _breaks_the_apostrophe(conn, email):
    return [] if "brien" in email else find_with_text(conn, email)


FIND_WRONG = {
    "pasted": (find_vulnerable, "The attack \"' OR '1'='1\" still worked: it returned 6 row\\(s\\)"),
    "quotes doubled": (find_quotes_doubled, "put the email into the SQL text itself"),
    "quotes stripped": (find_quotes_stripped, "The attack .* still worked|should find Farah"),
    "quotes backslashed": (find_quotes_backslashed, "crashed: the database said|still worked"),
    "deny-list with try/except": (find_deny_list, "The attack \"'OR'1'='1\" still worked"),
    "quotes refused": (
        find_deny_list_of_quotes,
        "should find Farah O'Brien \\(id 5\\).*an honest email may contain a quote",
    ),
    "LIKE": (find_with_like, "find_customer\\(conn, '%'\\) returned 6 row\\(s\\).*compare with ="),
    "case-insensitive": (find_case_insensitive, "'ADA@EXAMPLE.COM'\\) returned 1 row.*case included"),
    "sanitiser keeping quotes": (find_sanitised, "The attack .* still worked"),
    "sanitiser dropping quotes": (find_sanitised_without_quotes, "still worked|should find Farah"),
    "errors swallowed": (find_swallowing_errors, "still worked"),
    "first row only": (find_first_only, "The attack \"' OR '1'='1\" still worked: it returned 1 row"),
    "blocks the demo payload only": (_only_first_attack_is_blocked, "The attack \"'OR'1'='1\" still worked"),
    "deletes": (_deletes, 'The attack "\'; DELETE FROM customers; --" deleted customers'),
    "apostrophe broken": (_breaks_the_apostrophe, "should find Farah O'Brien \\(id 5\\)"),
    "everyone": (
        lambda conn, email: conn.exec_driver_sql("SELECT id, name FROM customers").fetchall(),
        "returned \\[\\(1, ",
    ),
    "constant": (lambda conn, email: [(1, "Ada Costa")], "should return an empty list: nobody has that email"),
    "nothing": (lambda conn, email: [], "found nothing, but Ada Costa exists"),
    "not a list": (lambda conn, email: find_with_text(conn, email)[0] if email.startswith("ada") else None, "not Row"),
    "not rows": (lambda conn, email: [1], "Each item of the list should be a row"),
    "one argument": (lambda conn: [], "should take two arguments"),
    "three arguments": (lambda conn, email, extra: [], "should take two arguments"),
    "not a function": ("SELECT * FROM customers", "find_customer should be a function"),
}


@pytest.mark.parametrize(("fn", "hint"), FIND_WRONG.values(), ids=FIND_WRONG.keys())
def test_find_customer_wrong_answers_get_specific_hints(fn, hint):
    """Mutation that failed this: the `pasted` statement check removed (doubled quotes then passed)."""
    result = check_find_customer(fn)
    assert result.status == "failed"
    assert re.search(hint, result.message, re.DOTALL), result.message
    assert "Traceback" not in result.message


def test_every_attack_bends_the_pasted_query():
    """Each attack must really work on a query built by pasting, or it tests nothing.

    Mutation that failed this: an attack with its closing quote removed (`ada@example.com' AND '1'='1` →
    `... AND 1=1`, which is a syntax error, not a row)."""
    engine = exercise_engine()
    with engine.connect() as conn:
        for attack in ATTACKS:
            try:
                rows = find_vulnerable(conn, attack)
            except sa.exc.DBAPIError as error:  # error-based: the message itself leaks
                assert str(error.orig) in ("integer overflow", "You can only execute one statement at a time."), attack
                continue
            assert rows, attack
            conn.rollback()
    engine.dispose()


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


# --- Exercise 3: fix the report ----------------------------------------------------------------

LINES_JOIN = "FROM customers c JOIN orders o ON o.customer_id = c.id JOIN order_lines l ON l.order_id = o.id"
REPORT_RIGHT = {
    "count distinct": REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.id)"),
    "subqueries": "SELECT c.name, (SELECT COUNT(*) FROM orders WHERE customer_id = c.id), "
    "(SELECT SUM(quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.customer_id = c.id) "
    "FROM customers c WHERE EXISTS (SELECT 1 FROM orders WHERE customer_id = c.id)",
    "lines summed per order first": "SELECT c.name, COUNT(o.id), SUM(t.copies) FROM customers c "
    "JOIN orders o ON o.customer_id = c.id "
    "JOIN (SELECT order_id, SUM(quantity) AS copies FROM order_lines GROUP BY order_id) t ON t.order_id = o.id "
    "GROUP BY c.id ORDER BY c.name",
    "count distinct, grouped by id and name": (
        f"SELECT c.name, COUNT(DISTINCT l.order_id), SUM(l.quantity) {LINES_JOIN} GROUP BY c.id, c.name"
    ),
}


@pytest.mark.parametrize("sql", REPORT_RIGHT.values(), ids=REPORT_RIGHT.keys())
def test_customer_report_right_answers_pass(sql):
    result = check_customer_report(sql)
    assert result.passed, result.message
    assert "COUNT(DISTINCT o.id) counts each order once" in result.message


REPORT_WRONG = {
    "the bug left in": (REPORT_SQL, "The orders column still counts order lines"),
    "count the lines' order id": (REPORT_SQL.replace("COUNT(o.id)", "COUNT(l.order_id)"), "still counts order lines"),
    "count distinct date": (
        REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.ordered_on)"),
        "The orders of Ben Weber: your report says 1, 2.*two orders on one day",
    ),
    "count distinct books": (REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT l.book_id)"), "The orders of "),
    "sum distinct quantity": (
        REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.id)").replace(
            "SUM(l.quantity)", "SUM(DISTINCT l.quantity)"
        ),
        "SUM\\(DISTINCT \\.\\.\\.\\) drops one",
    ),
    "count lines as copies": (
        REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.id)").replace("SUM(l.quantity)", "COUNT(l.id)"),
        "The copies of ",
    ),
    "group by name": (
        REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.id)").replace("GROUP BY c.id", "GROUP BY c.name"),
        "Ben Weber has one row, but 2 different customers",
    ),
    "left join lists customers without orders": (
        REPORT_SQL.replace("COUNT(o.id)", "COUNT(DISTINCT o.id)")
        .replace("JOIN orders", "LEFT JOIN orders")
        .replace("JOIN order_lines", "LEFT JOIN order_lines"),
        "Chloe Dubois, Farah O'Brien have no orders",
    ),
    "no group by": (REPORT_SQL.replace("GROUP BY c.id", ""), "Only one row"),
    "two columns": (
        "SELECT c.name, COUNT(DISTINCT o.id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id",
        "returns 2 column\\(s\\)",
    ),
    "divided by lines": (REPORT_SQL.replace("COUNT(o.id)", "COUNT(o.id) / 2"), "The orders of "),
    "not a string": (None, "Expected SQL text in a string"),
}


@pytest.mark.parametrize(("sql", "hint"), REPORT_WRONG.values(), ids=REPORT_WRONG.keys())
def test_customer_report_wrong_answers_get_specific_hints(sql, hint):
    """Mutation that failed this: ORDER_LINES with one line per order (the bug then invisible)."""
    result = check_customer_report(sql)
    assert result.status == "failed"
    assert re.search(hint, result.message), result.message
    assert "Could not check" not in result.message


def test_customer_report_placeholder_is_not_attempted():
    assert check_customer_report(...).status == "not attempted"


# --- Predict, then run: rows of a JOIN and a LEFT JOIN -------------------------------------------


@pytest.fixture
def practice():
    engine = exercise_engine()
    yield engine
    engine.dispose()


def test_join_prediction_right_answer_passes(practice):
    """Mutation that failed this: the LEFT JOIN's count taken from the JOIN's rows (both then 9)."""
    result = check_join_prediction({"JOIN": 9, "LEFT JOIN": 11}, practice)
    assert result.passed, result
    assert "one row per matching pair (Ada Costa: 3 rows)" in result.message


def test_join_prediction_is_judged_on_the_engine_it_is_given(practice):
    """The truth is the queries run again, not a stored count: a third customer without orders makes
    the LEFT JOIN 12. Mutation that failed this: _join_facts returning the counts of exercise_engine()."""
    with practice.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO customers (id, name, email, city) VALUES (:id, :name, :email, :city)"),
            {"id": 7, "name": "Gil Lopes", "email": "gil@example.com", "city": "Porto"},
        )
    assert check_join_prediction({"JOIN": 9, "LEFT JOIN": 12}, practice).passed
    assert_hint(check_join_prediction({"JOIN": 9, "LEFT JOIN": 11}, practice), r"returned 12.*Gil Lopes")


WRONG_JOIN = [
    ("one row per customer", {"JOIN": 6, "LEFT JOIN": 6},
     r"JOIN: you said 6, the query returned 9\. A join makes one row per matching pair .* Ada Costa placed 3 orders"
     r"(.|\n)*LEFT JOIN: you said 6, the query returned 11\. .*adds one row for each customer without an order "
     r"\(Chloe Dubois and Farah O'Brien\)"),
    ("one row per customer who ordered", {"JOIN": 4, "LEFT JOIN": 11},
     r"^JOIN: you said 4.*not one per customer.*without an order \(Chloe Dubois and Farah O'Brien\) are not in it"),
    ("LEFT JOIN the same as JOIN", {"JOIN": 9, "LEFT JOIN": 9},
     r"^LEFT JOIN: you said 9, the query returned 11\. That is the plain JOIN's count\. A LEFT JOIN also keeps"),
    ("LEFT JOIN adds every customer", {"JOIN": 9, "LEFT JOIN": 15},
     r"^LEFT JOIN: you said 15.*Only the customers who match nothing get an extra row"),
    ("every pair (no ON)", {"JOIN": 54, "LEFT JOIN": 54},
     r"JOIN: you said 54.*6 customers × 9 orders.*without its ON condition"),
    ("JOIN off by some", {"JOIN": 8, "LEFT JOIN": 11}, r"^JOIN: you said 8.*one per order here\.$"),
    ("LEFT JOIN off by one", {"JOIN": 9, "LEFT JOIN": 10}, r"^LEFT JOIN: you said 10.*plus one row for each customer"),
    ("a list", [9, 11], r"Expected a dict such as .*\(list\)"),
    ("one number", 9, r"Expected a dict"),
    ("a count as text", {"JOIN": "9", "LEFT JOIN": 11}, r"'JOIN' should be a whole number of rows, not '9'"),
    ("a count as a float", {"JOIN": 9, "LEFT JOIN": 11.0}, r"'LEFT JOIN' should be a whole number"),
    ("True for a count", {"JOIN": True, "LEFT JOIN": 11}, r"whole number of rows, not True"),
    ("a key missing", {"JOIN": 9}, r"Give a number of rows for 'LEFT JOIN' too"),
    ("another key", {"JOIN": 9, "LEFT JOIN": 11, "INNER JOIN": 9}, r"there is no 'INNER JOIN'"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_JOIN, ids=ids(WRONG_JOIN))
def test_join_prediction_wrong_answers_get_the_reason_behind_their_number(practice, name, answer, hint):
    """Mutation that failed this: `elif said == facts["JOIN"]` flipped to `!=` in _join_hint (the LEFT JOIN's
    usual mistakes then got the hint meant for the JOIN's count)."""
    assert_hint(check_join_prediction(answer, practice), hint)


def test_join_prediction_placeholders_and_a_wrong_engine(practice):
    assert check_join_prediction(..., practice).status == "not attempted"
    assert check_join_prediction({"JOIN": ..., "LEFT JOIN": ...}, practice).status == "not attempted"
    assert_hint(check_join_prediction({"JOIN": 9, "LEFT JOIN": 11}, "practice"), r"Pass the engine .* not str")
