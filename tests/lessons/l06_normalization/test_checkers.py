"""The 06-normalization checkers: right answers pass, each wrong one gets its own hint,
malformed answers a plain message, placeholders say "not attempted"."""

import pytest

from labsupport.lessons.l06_normalization.checkers import (
    SHIFT_RULES,
    check_decomposition,
    check_dependencies,
    load_shifts,
)
from labsupport.lessons.l06_normalization.normalize import holds

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


def test_the_data_follows_the_business_rules():
    shifts = load_shifts()
    assert len(shifts) == 17
    assert all(holds(shifts, rule.lhs, rule.rhs) for rule in SHIFT_RULES)
    assert not holds(shifts, ["shift_date", "employee_id"], "store_id")  # someone works two stores a day


def test_dependencies_right():
    result = check_dependencies(RIGHT_FDS)
    assert result.passed
    assert "Note" not in result.message


def test_dependencies_that_imply_the_rules_pass_and_accidental_ones_are_noted():
    answer = [
        ("store_id", "store_manager"),
        ("store_manager", "store_city"),  # holds here: each manager runs one store
        (["employee_id"], ["employee_name", "role", "hourly_rate"]),
        ("role", "hourly_rate"),
    ]
    result = check_dependencies(answer)
    assert result.passed
    assert "store_manager -> store_city holds on these 17 rows but is no rule" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ([("store_city", "store_id")], "store_city -> store_id does not hold: these two rows agree on store_city"),
        ([*RIGHT_FDS, ("employee_id", "store_id")], "employee_id -> store_id does not hold"),
        (RIGHT_FDS[:2], "Nothing you listed says what determines 'hourly_rate'"),
        (RIGHT_FDS[1:], "Nothing you listed says what determines 'store_city'"),
        ([*RIGHT_FDS, ("role", "role")], "role -> role is trivial"),
        ([], "The list is empty"),
    ],
)
def test_dependencies_wrong_answers_get_specific_hints(answer, hint):
    result = check_dependencies(answer)
    assert result.status == "failed"
    assert hint in result.message


def test_counterexample_rows_are_shown():
    message = check_dependencies([("store_city", "store_manager")]).message
    assert "Marta Lopez" in message and "Rosa Silva" in message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("store_id -> store_city", "Expected a list of pairs"),
        ([("store_id",)], "Each dependency should be a pair"),
        ([("store_id", "storecity")], "There is no column 'storecity'"),
        ([("store_id", [])], "non-empty list of column names"),
        ([(1, "store_city")], "column name"),
    ],
)
def test_dependencies_malformed_answers_get_plain_messages(answer, hint):
    result = check_dependencies(answer)
    assert result.status == "failed"
    assert hint in result.message
    assert "Traceback" not in repr(result)


def test_dependencies_not_attempted():
    assert check_dependencies(...).status == "not attempted"
    assert check_dependencies([("store_id", ...)]).status == "not attempted"


def test_decomposition_right():
    result = check_decomposition(RIGHT_TABLES)
    assert result.passed
    assert "4 tables" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (  # roles left inside employees
            {**{k: v for k, v in RIGHT_TABLES.items() if k != "roles"},
             "employees": ["employee_id", "employee_name", "role", "hourly_rate"]},
            "Table 'employees' still repeats facts: role -> hourly_rate",
        ),
        (  # nothing decomposed
            {"all": list(load_shifts().columns)},
            "Table 'all' still repeats facts: store_id -> store_city, store_manager",
        ),
        (  # stores joined on a city two stores share
            {**RIGHT_TABLES, "stores": ["store_city", "store_manager"],
             "shifts": ["shift_date", "store_id", "store_city", "employee_id"]},
            "Not lossless: joining your tables back gives",
        ),
        (  # every column on its own
            {c: [c] for c in load_shifts().columns},
            "Not lossless",
        ),
        ({k: v for k, v in RIGHT_TABLES.items() if k != "roles"}, "Column(s) ['hourly_rate'] are in no table"),
    ],
)
def test_decomposition_wrong_answers_get_specific_hints(answer, hint):
    result = check_decomposition(answer)
    assert result.status == "failed"
    assert hint in result.message


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
