"""Tests for labsupport.claims: a measured claim re-measures, raises when strict, warns when not."""

from __future__ import annotations

import pytest

from labsupport.claims import Claim, ClaimNotReproduced, claim


def measurements(*values):
    """A measure() that returns `values` one after the other, counting its calls."""
    it = iter(values)

    def measure():
        measure.calls += 1
        return next(it)

    measure.calls = 0
    return measure


@pytest.fixture
def lenient(monkeypatch):
    monkeypatch.delenv("LAB_STRICT", raising=False)


def test_the_suite_runs_strict():
    # conftest.py sets it, and the notebook kernels inherit it: a lesson's claim fails CI.
    import os

    assert os.environ["LAB_STRICT"] == "1"


def test_a_claim_that_holds_at_once_measures_once():
    measure = measurements(94.6)
    result = claim("the index is faster", measure, at_least=50)
    assert measure.calls == 1
    assert result.holds and result.values == (94.6,)
    assert repr(result) == "✔ claim holds — the index is faster\nmeasured 94.6×, claimed ≥ 50.0×"


def test_a_value_already_measured_is_used_first():
    measure = measurements()
    result = claim("x", measure, at_least=2, value=3.0)
    assert measure.calls == 0 and result.value == 3.0


def test_a_miss_is_measured_again_and_holds_as_soon_as_one_does():
    measure = measurements(1.2, 0.9, 2.5, 99.0)
    result = claim("keep-alive is faster", measure, at_least=1.5, retries=3)
    assert measure.calls == 3  # stopped at the first value within the bound
    assert result.holds and result.values == (1.2, 0.9, 2.5)


def test_strict_mode_raises_after_every_retry_missed():
    measure = measurements(1.0, 1.1, 1.2, 1.3)
    with pytest.raises(ClaimNotReproduced, match=r"not reproduced on this machine — x\nmeasured 1.30×"):
        claim("x", measure, at_least=1.5, retries=3)
    assert measure.calls == 4
    assert issubclass(ClaimNotReproduced, AssertionError)


def test_strict_comes_from_lab_strict(monkeypatch):
    monkeypatch.setenv("LAB_STRICT", "yes")
    with pytest.raises(ClaimNotReproduced):
        claim("x", measurements(1, 1), at_least=2, retries=1)


def test_a_student_gets_a_notice_and_the_notebook_goes_on(lenient):
    result = claim("x", measurements(1.0, 1.0), at_least=1.5, retries=1)
    assert not result.holds
    text = repr(result)
    assert text.startswith("⚠ not reproduced on this machine — x\nmeasured 1.00×, claimed ≥ 1.50× (2 measurements)")
    assert "run this cell again" in text and "Close other heavy programs" in text
    assert "not reproduced on this machine" in result._repr_html_()


@pytest.mark.parametrize(
    ("value", "at_least", "at_most", "holds"),
    [
        (5.0, 2, 8, True),
        (2.0, 2, 8, True),  # the bounds are inclusive
        (8.0, 2, 8, True),
        (1.99, 2, 8, False),
        (8.01, 2, 8, False),
        (0.5, None, 3, True),
        (3.5, None, 3, False),
        (float("nan"), 1, None, False),
    ],
)
def test_bounds(lenient, value, at_least, at_most, holds):
    assert claim("x", lambda: value, at_least=at_least, at_most=at_most, retries=0).holds is holds


def test_the_bound_in_words():
    assert Claim("x", (1.0,), 2, 8).bound == "between 2.00× and 8.00×"
    assert Claim("x", (1.0,), None, 3, unit=" ms").bound == "≤ 3.00 ms"
    assert Claim("x", (1.0,), 1000, None).bound == "≥ 1,000×"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"statement": "", "measure": lambda: 1, "at_least": 1}, TypeError, "needs a statement"),
        ({"statement": "x", "measure": 3.0, "at_least": 1}, TypeError, "measures the ratio again"),
        ({"statement": "x", "measure": lambda: 1}, TypeError, "needs a bound"),
        ({"statement": "x", "measure": lambda: 1, "at_least": 1, "retries": -1}, ValueError, "retries"),
        ({"statement": "x", "measure": lambda: "fast", "at_least": 1}, TypeError, "must return a number"),
        ({"statement": "x", "measure": lambda: True, "at_least": 1}, TypeError, "must return a number"),
    ],
)
def test_wrong_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        claim(**kwargs)


def test_shown_once_in_a_notebook(monkeypatch):
    published = []
    monkeypatch.setattr("IPython.display.publish_display_data", lambda data: published.append(data))
    result = Claim("x", (3.0,), 2, None)
    result._ipython_display_()
    result._ipython_display_()  # the same claim as the cell's value: not shown twice
    assert len(published) == 1 and published[0]["text/plain"].startswith("✔ claim holds — x")


# Tests added after a mutmut run over labsupport (issue #15): each kills a mutant that survived.


def test_an_at_most_claim_is_measured_again_too(lenient):
    """A claim with only an upper bound re-measures a miss like an at_least one.

    Mutation that survived mutmut: the retry loop's `_within(values[-1], at_least, at_most)` ->
    `_within(values[-1], at_least, None)`, so an at_most claim never re-measured after one busy moment.
    """
    measure = measurements(9.0, 2.0)
    result = claim("the cache answers in under 5 ms", measure, at_most=5, retries=3, unit=" ms")
    assert measure.calls == 2
    assert result.holds and result.values == (9.0, 2.0)


@pytest.mark.parametrize("retries", [2.5, True, "3"])
def test_retries_must_be_a_whole_number(retries):
    """Mutation that survived mutmut: `isinstance(retries, bool) or not isinstance(retries, int) or ...`
    -> `... and not isinstance(retries, int) or ...`, which let 2.5 and True through (and "3" fail with a
    TypeError about `<` instead of this message)."""
    with pytest.raises(ValueError, match=r"retries must be a whole number >= 0, not "):
        claim("x", lambda: 3.0, at_least=1, retries=retries)


@pytest.mark.parametrize("values", [("fast",), (1.0, "fast")])
def test_a_measurement_that_is_not_a_number_names_the_claim(values):
    """The student learns which claim's measure() returned the wrong thing, first call or re-measure.

    Mutations that survived mutmut: `_as_number(..., statement)` -> `_as_number(..., None)`, for the
    first measurement and for a re-measurement ("claim None must return a number").
    """
    with pytest.raises(TypeError, match=r"^the measurement of claim 'index speedup' must return a number, not 'fast'$"):
        claim("index speedup", measurements(*values), at_least=2)


def test_the_unit_is_shown_with_the_value_and_the_bound():
    """Mutation that survived mutmut: `Claim(statement, tuple(values), at_least, at_most, unit)` without
    `unit`, so `claim(..., unit=" ms")` still printed "×"."""
    result = claim("x", lambda: 3.0, at_most=5, unit=" ms")
    assert repr(result) == "✔ claim holds — x\nmeasured 3.00 ms, claimed ≤ 5.00 ms"


@pytest.mark.parametrize(
    ("bound", "text"),
    [(9.999, "≥ 10.00×"), (10, "≥ 10.0×"), (99.94, "≥ 99.9×"), (100, "≥ 100×"), (12345, "≥ 12,345×")],
)
def test_numbers_get_fewer_decimals_from_10_and_from_100(bound, text):
    """Claims at exactly 10× and 100× are common; their text is what nbval compares.

    Mutations that survived mutmut: in `_number`, `>= 100` -> `> 100` or `>= 101`, `>= 10` -> `> 10` or `>= 11`.
    """
    assert Claim("x", (1.0,), bound, None).bound == text


def test_an_infinite_ratio_is_shown_as_inf(lenient):
    """A variant too fast to time gives an infinite ratio: shown as such, never as "None".

    Mutation that survived mutmut: `_number` returning `str(None)` for inf and nan.
    """
    result = claim("x", lambda: float("inf"), at_most=5, retries=0)
    assert not result.holds
    assert repr(result).startswith("⚠ not reproduced on this machine — x\nmeasured inf×, claimed ≤ 5.00×")


def test_the_notebook_gets_the_html_box_too(monkeypatch):
    """Mutation that survived mutmut: the "text/html" key of the published data misspelt, so a notebook
    showed the plain text instead of the coloured box."""
    published = []
    monkeypatch.setattr("IPython.display.publish_display_data", lambda data: published.append(data))
    Claim("index speedup", (60.0,), 50, None)._ipython_display_()
    (data,) = published
    assert set(data) == {"text/plain", "text/html"}
    assert "claim holds — index speedup" in data["text/html"] and "#2e7d32" in data["text/html"]


def test_claim_shows_its_box_in_a_kernel_and_nothing_elsewhere(monkeypatch):
    """Every claim of a cell is displayed at once in a kernel; outside one nothing is displayed.

    Mutations that survived mutmut: `_display(result)` -> `_display(None)`; `display(result)` ->
    `display(None)`; `if get_ipython() is not None` -> `if get_ipython() is None`.
    """
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    claim("x", lambda: 3.0, at_least=2)
    assert shown == []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # as inside a running kernel
    first = claim("x", lambda: 3.0, at_least=2)
    second = claim("y", lambda: 4.0, at_least=2)
    assert len(shown) == 2 and shown[0] is first and shown[1] is second
