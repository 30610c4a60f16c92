"""Tests for labsupport.checks: the three outcomes, placeholders, crashes turned into messages."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.checks import (
    Hint,
    NotAttempted,
    Result,
    checker,
    expect_close,
    expect_type,
    is_placeholder,
)


@checker("Exercise 1: the slowest layer", expects="a number of milliseconds")
def check_ms(answer):
    expect_type(answer, (int, float), "a number of milliseconds")
    if answer < 10:
        raise Hint("The database is only 5% of the time here: look at the bar chart again.")
    return "Right: the framework dominates."


@checker("Exercise 2: a function")
def check_double(fn):
    expect_type(fn(2), int, "a whole number")
    if fn(2) != 4:
        raise Hint("double(2) should be 4.")


# --- the three outcomes ------------------------------------------------------------------


def test_passed_has_the_confirmation():
    result = check_ms(42)
    assert result.passed
    assert result.status == "passed"
    assert repr(result) == (
        "✔ passed — Exercise 1: the slowest layer\nRight: the framework dominates."
    )


def test_passed_without_message_is_one_line():
    result = check_double(lambda x: 2 * x)
    assert repr(result) == "✔ passed — Exercise 2: a function"


def test_failed_shows_the_hint():
    result = check_ms(3)
    assert not result.passed
    assert result.status == "failed"
    assert repr(result) == (
        "✘ failed — Exercise 1: the slowest layer\n"
        "Hint: The database is only 5% of the time here: look at the bar chart again."
    )


def test_hint_without_text_gets_a_default():
    @checker("t")
    def check(answer):
        raise Hint

    assert check(1).message == "That is not it yet."


def test_not_attempted_does_not_call_the_checker():
    calls = []

    @checker("Exercise 3")
    def check(answer):
        calls.append(answer)

    result = check(...)
    assert result.status == "not attempted"
    assert not result.passed
    assert calls == []
    assert repr(result) == (
        "○ not attempted yet — Exercise 3\n"
        "Replace the ... with your answer, then run this cell again."
    )


def test_placeholder_in_keyword_argument_counts():
    @checker("t")
    def check(answer, *, other=None):
        return "ok"

    assert check(1, other=...).status == "not attempted"
    assert check(1, other=2).passed


def test_checker_may_raise_not_attempted():
    # The student's function still returns the placeholder, e.g. a body of `return ...` after setup.
    def double(x):
        y = x  # noqa: F841 - makes the body more than a stub
        return ...

    assert check_double(double).status == "not attempted"


def test_repr_is_deterministic():
    assert repr(check_ms(3)) == repr(check_ms(3))
    assert check_ms(3)._repr_html_() == check_ms(3)._repr_html_()


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError, match="status must be one of"):
        Result("maybe", "t")


# --- placeholders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [..., [1, ...], (1, (2, ...)), {"a": 1, "b": ...}, {"a": [...]}, {1, ...}, frozenset({...})],
)
def test_placeholders_nested_in_simple_containers(answer):
    assert is_placeholder(answer)


@pytest.mark.parametrize(
    "answer", [0, None, "...", [], [1, 2], {"...": 1}, {"a": (1, 2)}, type(...)]
)
def test_real_answers_are_not_placeholders(answer):
    assert not is_placeholder(answer)


def test_self_containing_container_terminates():
    answer: list = [1]
    answer.append(answer)
    assert not is_placeholder(answer)
    answer.append(...)
    assert is_placeholder(answer)


def _ellipsis_body(request): ...


def _pass_body(a, b=1):
    pass


def _docstring_body():
    """Return the answer."""


def _return_placeholder(x):
    """Docstring, then the placeholder."""
    return ...


async def _async_stub(request): ...


@pytest.mark.parametrize(
    "fn", [_ellipsis_body, _pass_body, _docstring_body, _return_placeholder, _async_stub]
)
def test_functions_that_do_nothing_are_placeholders(fn):
    assert is_placeholder(fn)


def _returns_constant():
    return 4


def _uses_argument(x):
    return x


def _has_a_statement(x):
    print(x)


@pytest.mark.parametrize("fn", [_returns_constant, _uses_argument, _has_a_statement, lambda x: x])
def test_functions_with_a_body_are_not_placeholders(fn):
    assert not is_placeholder(fn)


def test_placeholder_function_is_not_attempted():
    assert check_double(_ellipsis_body).status == "not attempted"


# --- malformed input never shows a traceback ---------------------------------------------


def _assert_plain(result: Result) -> None:
    for text in (repr(result), result._repr_html_()):
        assert "Traceback" not in text
        assert "File \"" not in text
        assert "labsupport" not in text


def test_wrong_type_gets_a_plain_hint():
    result = check_ms("12")
    assert result.status == "failed"
    assert result.message == "Expected a number of milliseconds, but got '12' (str)."
    _assert_plain(result)


def test_bool_is_not_a_number():
    with pytest.raises(Hint, match="but got True"):
        expect_type(True, int, "a whole number")
    with pytest.raises(Hint, match="but got True"):
        expect_close(True, 1)
    expect_type(True, bool, "yes or no")


def test_student_function_raising_becomes_a_failed_result():
    def double(x):
        return {}["missing"]

    result = check_double(double)
    assert result.status == "failed"
    assert result.message == "Could not check your answer: it raised KeyError: 'missing'."
    _assert_plain(result)


def test_checker_crashing_inside_names_what_was_expected():
    @checker("Exercise 4", expects="a number of milliseconds")
    def check(answer):
        return answer + 1  # a str answer makes this raise TypeError

    result = check("5")
    assert result.status == "failed"
    assert result.message.startswith("Could not check your answer: it raised TypeError: ")
    assert result.message.endswith("Expected: a number of milliseconds.")
    _assert_plain(result)


def test_exception_without_text_and_long_messages():
    @checker("t")
    def check(answer):
        if answer == "empty":
            raise AttributeError
        raise ValueError("x" * 1000)

    assert check("empty").message == "Could not check your answer: it raised AttributeError."
    long = check("long").message
    assert len(long) < 400
    assert "…" in long


def test_exception_with_broken_str():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no")

    @checker("t")
    def check(answer):
        raise Weird

    assert check(1).message == "Could not check your answer: it raised Weird."


def test_exception_group_is_named_by_the_exception_inside():
    """(Mutation that failed this: checks kept its own copy of describe_exception, without the
    group unwrapping.)"""

    @checker("t", expects="a dict")
    def check(answer):
        raise ExceptionGroup("unhandled errors in a TaskGroup", [KeyError("role")])

    assert check(1).message == "Could not check your answer: it raised KeyError: 'role'. Expected: a dict."


def test_long_crash_message_is_cut_at_300_characters():
    """(Mutation that failed this: checks passing no limit, so describe_exception's 240 applied.)"""

    @checker("t")
    def check(answer):
        raise ValueError("x" * 1000)

    detail = check(1).message.removeprefix("Could not check your answer: it raised ").removesuffix(".")
    assert len(detail) == 300
    assert detail.startswith("ValueError: xxx")
    assert detail.endswith("x…")


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupts_are_not_swallowed(exc):
    @checker("t")
    def check(answer):
        raise exc

    with pytest.raises(exc):
        check(1)


# --- display -------------------------------------------------------------------------------


def test_html_escapes_title_and_message():
    @checker("Exercise <5> & more")
    def check(answer):
        raise Hint("Use <b>bold</b> & 'quotes'")

    page = check(1)._repr_html_()
    assert "&lt;5&gt; &amp; more" in page
    assert "Hint: Use &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quotes&#x27;" in page
    assert "<b>" not in page


@pytest.mark.parametrize(
    ("answer", "colour"), [(42, "#2e7d32"), (3, "#c62828"), (..., "#757575")]
)
def test_html_colour_follows_status(answer, colour):
    assert colour in check_ms(answer)._repr_html_()


# --- helpers -------------------------------------------------------------------------------


def test_expect_close_accepts_within_tolerance():
    expect_close(104, 100)
    expect_close(np.int64(100), 100)  # what pandas hands back
    expect_close(np.float32(99.5), 100)
    expect_close(100.0, 100, rel_tol=0)
    expect_close(0.001, 0, abs_tol=0.01)


@pytest.mark.parametrize(("answer", "word"), [(120, "too high"), (80, "too low")])
def test_expect_close_says_which_way_without_giving_the_answer(answer, word):
    with pytest.raises(Hint) as caught:
        expect_close(answer, 100, what="Your speed-up", hint="Measure again.")
    assert str(caught.value) == f"Your speed-up ({answer}) is {word}. Measure again."
    assert "100" not in str(caught.value)


def test_expect_close_rejects_nan_and_non_numbers():
    with pytest.raises(Hint, match="not a number"):
        expect_close(float("nan"), 1)
    with pytest.raises(Hint, match="Expected a number, but got '1' \\(str\\)"):
        expect_close("1", 1)


def test_helpers_raise_not_attempted_for_the_placeholder():
    with pytest.raises(NotAttempted):
        expect_type(..., int, "a number")
    with pytest.raises(NotAttempted):
        expect_close(..., 1)
