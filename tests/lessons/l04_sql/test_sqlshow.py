"""show_sql, echo_sql, show_db_error: SQL made visible, refusals printed as one plain line."""

import sqlite3

import pytest
import sqlalchemy as sa

from labsupport import schema
from labsupport.lessons.l04_sql.sqlshow import db_error_message, echo_sql, show_db_error, show_sql


def test_show_sql_writes_the_values_in_and_escapes_quotes():
    statement = sa.select(schema.customers.c.name).where(schema.customers.c.email == "o'hara@example.com")
    assert show_sql(statement) == (
        "SELECT customers.name \nFROM customers \nWHERE customers.email = 'o''hara@example.com'"
    )


def test_show_sql_uses_the_engines_dialect(engine):
    assert show_sql(sa.select(sa.func.count()).select_from(schema.books), engine).startswith("SELECT count(*)")


def test_show_sql_keeps_placeholders_for_a_missing_value_or_one_without_a_literal_form():
    statement = sa.select(schema.books.c.title).where(schema.books.c.id == sa.bindparam("wanted"))
    text = show_sql(statement)
    assert text.endswith("WHERE books.id = ?\n-- parameters: {'wanted': None}")
    table = sa.table("events", sa.column("payload", sa.JSON))
    assert show_sql(sa.insert(table).values(payload={"a": 1})) == (
        "INSERT INTO events (payload) VALUES (?)\n-- parameters: {'payload': {'a': 1}}"
    )


def test_show_sql_shows_ddl():
    """DDL compiles with no bound parameters at all. (Mutation that failed this: reading
    `compiled.binds` for every statement, which raised AttributeError on CREATE TABLE.)"""
    text = show_sql(sa.schema.CreateTable(schema.books))
    assert text.startswith("CREATE TABLE books (") and "PRIMARY KEY (id)" in text


def test_show_sql_rejects_what_is_not_a_statement():
    with pytest.raises(TypeError, match="needs a SQLAlchemy statement"):
        show_sql("SELECT 1")


def test_echo_sql_prints_statements_parameters_and_the_end_of_transactions(engine, capsys):
    rows = [{"name": f"n{i}", "email": f"e{i}", "city": "c"} for i in range(5)]
    with echo_sql(engine):
        with engine.begin() as conn:
            conn.execute(schema.customers.insert(), rows)
            conn.execute(sa.select(schema.customers.c.id).where(schema.customers.c.email == "e1"))
        with engine.connect() as conn:
            conn.execute(sa.select(1))
            conn.rollback()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "INSERT INTO customers (name, email, city) VALUES (?, ?, ?)",
        "   parameters: [('n0', 'e0', 'c'), ('n1', 'e1', 'c'), ('n2', 'e2', 'c'), ... (5 rows)]",
        "SELECT customers.id \nFROM customers \nWHERE customers.email = ?".splitlines()[0],
        "FROM customers ",
        "WHERE customers.email = ?",
        "   parameters: ('e1',)",
        "COMMIT",
        "SELECT 1",
        "ROLLBACK",
    ]


def test_echo_sql_hides_parameters_on_request_shows_the_rollback_on_close_and_then_stops(engine, capsys):
    with echo_sql(engine, parameters=False), engine.connect() as conn:
        conn.execute(sa.text("SELECT :x"), {"x": 1})
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 2"))
    assert capsys.readouterr().out == "SELECT ?\nROLLBACK\n"  # closing rolls back what was not committed


def test_echo_sql_needs_an_engine():
    with pytest.raises(TypeError, match="needs a SQLAlchemy Engine"):
        with echo_sql("sqlite://"):
            pass


def test_show_db_error_prints_the_databases_sentence_and_rolls_back(engine, capsys):
    with show_db_error() as outcome:
        with engine.begin() as conn:
            conn.execute(schema.customers.insert().values(name="Ada", email="a", city="Lisbon"))
            conn.execute(schema.customers.insert().values(name=None, email="b", city="Lisbon"))
    assert capsys.readouterr().out == "refused: IntegrityError: NOT NULL constraint failed: customers.name\n"
    assert outcome.refused
    assert outcome.message == "IntegrityError: NOT NULL constraint failed: customers.name"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM customers").scalar() == 0


def test_show_db_error_catches_the_sqlite3_modules_errors_too(tmp_path, capsys):
    connection = sqlite3.connect(tmp_path / "raw.db")
    with show_db_error() as outcome:
        connection.execute("SELEC 1")
    connection.close()
    assert outcome.message == 'OperationalError: near "SELEC": syntax error'
    assert capsys.readouterr().out == 'refused: OperationalError: near "SELEC": syntax error\n'


def test_show_db_error_is_silent_when_nothing_is_refused_and_lets_other_errors_through(engine, capsys):
    with show_db_error() as outcome, engine.connect() as conn:
        conn.execute(sa.select(1))
    assert not outcome.refused and outcome.message == ""
    with pytest.raises(ZeroDivisionError), show_db_error():
        raise ZeroDivisionError
    assert capsys.readouterr().out == ""


def test_db_error_message_unwraps_sqlalchemys_exception(engine):
    with pytest.raises(sa.exc.OperationalError) as info, engine.connect() as conn:
        conn.exec_driver_sql("SELECT nope FROM customers")
    assert db_error_message(info.value) == "no such column: nope"
    assert db_error_message(ValueError("plain")) == "plain"


class _DriverError(Exception):
    """Stands in for psycopg's exception: its text has a DETAIL line, as PostgreSQL's errors do."""


def test_db_error_message_puts_postgresqls_detail_line_on_the_same_line():
    """One line, so that `show_db_error` prints one line per refusal on PostgreSQL too. (Mutation that
    failed this: returning ``str(original).strip()``, which kept the line break.)"""
    original = _DriverError('duplicate key value violates unique constraint "customers_pkey"\nDETAIL:  Key (id)=(1) '
                            "already exists.")
    error = sa.exc.IntegrityError("INSERT ...", {"id": 1}, original)
    assert db_error_message(error) == (
        'duplicate key value violates unique constraint "customers_pkey" DETAIL: Key (id)=(1) already exists.'
    )


def test_sent_values_are_the_values_in_order_for_positional_and_named_placeholders(engine):
    """SQLite's driver gets a tuple, psycopg a dict in the SQL's order: both read as one tuple. (Mutations
    that failed this: returning ``params`` as it is; dropping the dict branch.)"""
    with show_db_error() as outcome, engine.begin() as conn:
        conn.execute(schema.books.insert().values(title="T", author="A", genre="g", price_cents=-1, stock=2))
    assert outcome.sent_values == ("T", "A", "g", -1, 2)
    outcome.error = sa.exc.IntegrityError("UPDATE ...", {"balance_1": 30, "name_1": "bob"}, _DriverError("x"))
    assert outcome.sent_values == (30, "bob")
    with show_db_error() as nothing_refused:
        pass
    assert nothing_refused.sent_values == ()
