"""Tests for labsupport.measurement: timing with a fake clock, and the query counter."""

from __future__ import annotations

import gc
import time

import pytest
import sqlalchemy as sa

from labsupport import schema
from labsupport.measurement import QueryCounter, Timing, compare, count_queries, measure


class FakeClock:
    """Stands in for time.perf_counter; `work(seconds)` is a call that takes that long."""

    def __init__(self) -> None:
        self.now = 100.0
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float) -> None:
        self.calls += 1
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(time, "perf_counter", fake)
    return fake


@pytest.fixture
def gc_enabled():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_measure_takes_the_median_of_the_samples(clock):
    durations = iter([99.0, 0.003, 0.001, 0.002, 0.010, 0.002])  # the first is the warm-up
    timing = measure(lambda: clock.work(next(durations)), repeat=5, warmup=1)
    assert timing.n == 5
    assert timing.samples == pytest.approx((0.003, 0.001, 0.002, 0.010, 0.002))
    assert timing.median == pytest.approx(0.002)
    assert timing.spread == pytest.approx(0.003 - 0.002)  # Q3 - Q1; the 10 ms outlier hardly counts


def test_measure_divides_each_sample_by_number(clock):
    timing = measure(lambda: clock.work(0.5e-6), repeat=3, warmup=2, number=1000)
    assert clock.calls == 2 + 3 * 1000
    assert timing.median == pytest.approx(0.5e-6)
    assert timing.us == pytest.approx(0.5)


def test_measure_pauses_gc_only_while_sampling(gc_enabled):
    seen = []
    measure(lambda: seen.append(gc.isenabled()), repeat=2, warmup=1)
    assert seen == [True, False, False]
    assert gc.isenabled()


def test_measure_restores_gc_when_fn_raises(gc_enabled):
    def failing() -> None:
        if not gc.isenabled():  # only inside the timed part
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        measure(failing)
    assert gc.isenabled()


def test_measure_leaves_gc_off_if_it_was_off(gc_enabled):
    gc.disable()
    measure(lambda: None, repeat=2)
    assert not gc.isenabled()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repeat": 0}, "repeat must be a whole number >= 1"),
        ({"repeat": 2.5}, "repeat must be a whole number >= 1"),
        ({"repeat": True}, "repeat must be a whole number >= 1"),
        ({"warmup": -1}, "warmup must be a whole number >= 0"),
        ({"number": 0}, "number must be a whole number >= 1"),
    ],
)
def test_measure_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure(lambda: None, **kwargs)


def test_measure_needs_a_function():
    with pytest.raises(TypeError, match="needs a function to call"):
        measure(42)


@pytest.mark.parametrize(
    ("samples", "text"),
    [
        ([0.00118, 0.00123, 0.00128], "1.23 ms ± 0.05 ms (median of 3)"),
        ([2.5], "2.50 s ± 0.00 s (median of 1)"),
        ([12.5e-6, 12.5e-6, 12.5e-6], "12.5 µs ± 0.0 µs (median of 3)"),
        ([0.1234, 0.1234, 0.1234], "123 ms ± 0 ms (median of 3)"),
        ([80e-9], "80.0 ns ± 0.0 ns (median of 1)"),
        ([0.0], "0.00 ns ± 0.00 ns (median of 1)"),
    ],
)
def test_timing_prints_in_a_readable_unit(samples, text):
    timing = Timing.from_samples(samples)
    assert str(timing) == text
    assert repr(timing) == f"Timing({text})"


def test_timing_spread_is_the_interquartile_range():
    timing = Timing.from_samples([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (timing.median, timing.spread, timing.n) == (3.0, 2.0, 5)
    assert timing.ms == 3000.0
    assert timing.per_second == pytest.approx(1 / 3)
    assert Timing.from_samples([0.0]).per_second == float("inf")


def test_timing_needs_a_sample():
    with pytest.raises(ValueError, match="at least one sample"):
        Timing.from_samples([])


def test_count_queries_counts_statements_and_executemany_once(engine):
    rows = [(i, f"c{i}", f"c{i}@example.com", "Lyon") for i in range(1, 101)]
    with count_queries(engine) as queries:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO customers VALUES (?, ?, ?, ?)", rows)
            conn.execute(sa.select(schema.customers).where(schema.customers.c.id == 1)).all()
            conn.execute(sa.select(sa.func.count()).select_from(schema.customers)).scalar()
    assert queries.count == 3
    assert queries.statements[0].startswith("INSERT INTO customers")
    assert "FROM customers" in queries.statements[1]
    assert repr(queries) == "QueryCounter(count=3)"


def test_count_queries_stops_listening_after_the_block(engine):
    with count_queries(engine) as queries:
        pass
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").scalar()
    assert queries.count == 0


def test_count_queries_removes_its_listener_when_the_block_raises(engine):
    with pytest.raises(RuntimeError):
        with count_queries(engine) as queries:
            raise RuntimeError("boom")
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").scalar()
    assert queries.count == 0


def test_count_queries_needs_an_engine():
    with pytest.raises(TypeError, match="needs a SQLAlchemy Engine"):
        with count_queries("sqlite://"):
            pass


def test_query_counter_starts_empty():
    assert QueryCounter().count == 0


# --- compare: interleaved rounds ----------------------------------------------------------------


def test_compare_interleaves_rounds_and_rotates_the_order(clock):
    order = []
    variants = {name: (lambda name=name: (order.append(name), clock.work(0.001))) for name in "abc"}
    timings = compare(variants, rounds=3, warmup=0)
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]  # one sample of each per round
    assert {name: t.n for name, t in timings.items()} == {"a": 3, "b": 3, "c": 3}


def test_compare_a_busy_moment_hits_every_variant_alike(clock):
    # The machine is busy for one round: interleaved, both variants see it once; their medians
    # keep their true ratio. Timed one after the other, the busy stretch would hit one only.
    busy = iter([0] * 2 + [5.0] * 2 + [0] * 100)
    variants = {
        "slow": lambda: clock.work(0.010 + next(busy)),
        "fast": lambda: clock.work(0.001 + next(busy)),
    }
    timings = compare(variants, rounds=5, warmup=1)
    assert timings["slow"].median / timings["fast"].median == pytest.approx(10)


def test_compare_number_per_variant(clock):
    variants = {"a": lambda: clock.work(1e-6), "b": lambda: clock.work(1e-3)}
    timings = compare(variants, rounds=2, warmup=0, number={"a": 100})
    assert clock.calls == 2 * 100 + 2 * 1
    assert timings["a"].median == pytest.approx(1e-6)


@pytest.mark.parametrize(
    ("variants", "kwargs", "message"),
    [
        ({}, {}, "needs a dict"),
        ([lambda: 1], {}, "needs a dict"),
        ({"a": 3}, {}, "not a function"),
        ({"a": lambda: 1}, {"rounds": 0}, "rounds"),
        ({"a": lambda: 1}, {"number": {"a": 0}}, "number"),
    ],
)
def test_compare_refuses_bad_arguments(variants, kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        compare(variants, **kwargs)


# --- added after a mutmut run over labsupport (issue #15): each test kills surviving mutants -----


def test_measure_and_compare_defaults_are_one_warm_up_and_seven_samples(clock):
    """The docstrings and the notebooks' "(median of 7)" rely on these defaults.

    Mutations that survived mutmut: measure's `repeat: int = 7` -> 8 and `warmup: int = 1` -> 2;
    compare's `rounds: int = 7` -> 8 and `warmup: int = 1` -> 2.
    """
    timing = measure(lambda: clock.work(0.001))
    assert (timing.n, clock.calls) == (7, 1 + 7)
    clock.calls = 0
    timings = compare({"a": lambda: clock.work(0.001), "b": lambda: clock.work(0.002)})
    assert {name: t.n for name, t in timings.items()} == {"a": 7, "b": 7}
    assert clock.calls == 2 * (1 + 7)


def test_compare_takes_a_single_round(clock):
    """Mutation that survived mutmut: `_check_count(rounds, "rounds", 1)` -> `..., 2)` (rounds=1 refused)."""
    timings = compare({"a": lambda: clock.work(0.001)}, rounds=1, warmup=0)
    assert timings["a"].n == 1 and clock.calls == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rounds": 0}, "rounds must be a whole number >= 1, not 0"),
        ({"warmup": -1}, "warmup must be a whole number >= 0, not -1"),
        ({"number": 0}, "number must be a whole number >= 1, not 0"),
        ({"number": {"a": 2.5}}, "number must be a whole number >= 1, not 2.5"),
    ],
)
def test_compare_names_the_argument_that_is_wrong(kwargs, message):
    """The student reads which argument to fix.

    Mutations that survived mutmut: the names passed to `_check_count` in compare() replaced by None
    ("None must be ...") or misspelt ("XXwarmupXX", "WARMUP", "XXnumberXX", "NUMBER", "XXroundsXX").
    """
    with pytest.raises(ValueError, match=f"^{message}$"):
        compare({"a": lambda: None}, **kwargs)


@pytest.mark.parametrize(
    ("samples", "text"),
    [
        ([1.0], "1.00 s ± 0.00 s (median of 1)"),
        ([0.001], "1.00 ms ± 0.00 ms (median of 1)"),
        ([0.010], "10.0 ms ± 0.0 ms (median of 1)"),
        ([0.100], "100 ms ± 0 ms (median of 1)"),
    ],
)
def test_timing_text_at_the_unit_and_decimal_boundaries(samples, text):
    """Exactly 1 s is "1.00 s" (not "1000 ms"); 10 gets one decimal, 100 none.

    Mutations that survived mutmut: `_unit_for`'s `seconds >= 1 / scale` -> `>`; in `__str__`,
    `value >= 100` -> `> 100` or `>= 101`, `value >= 10` -> `> 10` or `>= 11`.
    """
    assert str(Timing.from_samples(samples)) == text
