"""Repeat-and-median timing, and a SQL statement counter.

Introduced in 00-start-here; every "Measure it" section uses it. One timing of a fast call says
little (a garbage collection or another process can land in it), so `measure` runs the call
several times and reports the median with the interquartile range as its spread: the middle
half of the samples, which one unlucky sample cannot stretch. Like `timeit`, it uses
`time.perf_counter` and pauses the garbage collector while timing.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

__all__ = ["gc_paused", "Timing", "measure", "compare", "QueryCounter", "count_queries"]


@dataclass(frozen=True, repr=False)
class Timing:
    """The result of `measure`: seconds per call.

    ``median`` and ``spread`` (the interquartile range, Q3 - Q1, of ``samples``) are seconds per
    call; ``n`` is the number of samples. Prints as ``1.23 ms ± 0.05 ms (median of 7)``, where
    the ± part is the interquartile range.
    """

    median: float
    spread: float
    n: int
    samples: tuple[float, ...]

    @classmethod
    def from_samples(cls, samples: Iterable[float]) -> Timing:
        """Summarise seconds-per-call samples (at least one)."""
        values = tuple(float(s) for s in samples)
        if not values:
            raise ValueError("a Timing needs at least one sample")
        if len(values) == 1:
            spread = 0.0
        else:
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
            spread = q3 - q1
        return cls(statistics.median(values), spread, len(values), values)

    @property
    def ms(self) -> float:
        """The median in milliseconds."""
        return self.median * 1e3

    @property
    def us(self) -> float:
        """The median in microseconds."""
        return self.median * 1e6

    @property
    def per_second(self) -> float:
        """Calls per second at the median time (``inf`` if too fast to time)."""
        return 1.0 / self.median if self.median > 0 else float("inf")

    def __str__(self) -> str:
        unit, scale = _unit_for(self.median)
        value = self.median * scale
        decimals = 0 if value >= 100 else 1 if value >= 10 else 2
        return (
            f"{value:.{decimals}f} {unit} ± {self.spread * scale:.{decimals}f} {unit} "
            f"(median of {self.n})"
        )

    def __repr__(self) -> str:
        return f"Timing({self})"


def _unit_for(seconds: float) -> tuple[str, float]:
    for unit, scale in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)):
        if seconds >= 1 / scale:
            return unit, scale
    return "ns", 1e9


def _check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return value


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the garbage collector (as `timeit` does while timing); restore it even on error.

    Also used by `labsupport.datagen`, whose million new tuples would trigger collections that find
    nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def measure(fn: Callable[[], Any], *, repeat: int = 7, warmup: int = 1, number: int = 1) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeat`` samples of ``number`` calls each.

    Each sample is the time for ``number`` calls divided by ``number`` (raise ``number`` for
    calls of a few microseconds). The garbage collector is paused during the samples and
    restored afterwards, even if ``fn`` raises.
    """
    if not callable(fn):
        raise TypeError(f"measure() needs a function to call, such as lambda: ..., not {fn!r}")
    _check_count(repeat, "repeat", 1)
    _check_count(warmup, "warmup", 0)
    _check_count(number, "number", 1)
    for _ in range(warmup):
        fn()
    samples = []
    with gc_paused():
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    return Timing.from_samples(samples)


def compare(
    variants: Mapping[str, Callable[[], Any]],
    *,
    rounds: int = 7,
    number: int | Mapping[str, int] = 1,
    warmup: int = 1,
) -> dict[str, Timing]:
    """Time several variants of one task in alternating rounds: ``{name: Timing}``.

    Each round takes one sample of every variant, in an order that rotates from round to round,
    so a busy moment of the machine (another program, a garbage collection, the disk) lands on
    all of them alike instead of on whichever ran during it. A ratio of two variants measured
    this way is what a lesson's `labsupport.claim` checks. `number` (one for all, or per variant)
    is the calls per sample: raise it for a variant of a few microseconds.
    """
    if not isinstance(variants, Mapping) or not variants:
        raise TypeError("compare() needs a dict of {name: function to time}")
    for name, fn in variants.items():
        if not callable(fn):
            raise TypeError(f"compare(): variant {name!r} is {fn!r}, not a function to call")
    _check_count(rounds, "rounds", 1)
    _check_count(warmup, "warmup", 0)
    numbers = {name: number.get(name, 1) if isinstance(number, Mapping) else number for name in variants}
    for value in numbers.values():
        _check_count(value, "number", 1)
    names = list(variants)
    for name in names:
        for _ in range(warmup):
            variants[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    with gc_paused():
        for round_ in range(rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                fn, calls = variants[name], numbers[name]
                start = time.perf_counter()
                for _ in range(calls):
                    fn()
                samples[name].append((time.perf_counter() - start) / calls)
    return {name: Timing.from_samples(samples[name]) for name in names}


@dataclass
class QueryCounter:
    """The statements an engine sent while `count_queries` was active."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many statements were sent (an executemany of many rows counts once)."""
        return len(self.statements)

    def __repr__(self) -> str:
        return f"QueryCounter(count={self.count})"


@contextmanager
def count_queries(engine: sa.Engine) -> Iterator[QueryCounter]:
    """Count the SQL statements ``engine`` sends inside the ``with`` block.

    Introduced in 00-start-here; 04-sql uses it to make N+1 queries visible::

        with count_queries(engine) as queries:
            ...
        queries.count, queries.statements[:3]

    Uses SQLAlchemy's ``before_cursor_execute`` event, so ORM, Core and ``exec_driver_sql`` are
    all counted; the listener is removed when the block ends.
    """
    if not isinstance(engine, sa.Engine):
        raise TypeError(f"count_queries() needs a SQLAlchemy Engine, not {type(engine).__name__}")
    counter = QueryCounter()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
