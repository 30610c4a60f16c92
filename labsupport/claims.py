"""Measured claims: a lesson's point about speed, checked with a wide margin, fair to a busy laptop.

Introduced in 00-start-here; every "Measure it" section ends with one. A plain ``assert`` on a
timing is a timed test: it fails whenever the machine is busy, and a student whose Run All stops
on an AssertionError learns the wrong thing. A claim is a benchmark instead:

- it checks a *ratio* (never an absolute time) against a generous bound;
- when the first measurement misses, it measures again (up to `retries` more times) before
  giving up, because one busy moment should not decide a lesson;
- when it still misses, it raises `ClaimNotReproduced` under the test suite and whenever
  ``LAB_STRICT=1`` is set (so CI fails if a lesson stops being true), and otherwise shows a
  visible "not reproduced on this machine" box and lets Run All go on.

Facts that do not depend on speed (plans, status codes, query counts) are not claims: notebooks
``assert`` them, always strictly.

    >>> claim("an index search is at least 50x faster than a full scan", index_speedup, at_least=50)
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

from labsupport.config import settings

__all__ = ["Claim", "ClaimNotReproduced", "claim"]

DEFAULT_RETRIES = 3

# status -> (symbol, label, border colour, background colour); the same look as a check's box
_STYLE = {
    True: ("✔", "claim holds", "#2e7d32", "#e8f5e9"),
    False: ("⚠", "not reproduced on this machine", "#ef6c00", "#fff3e0"),
}
_ADVICE = (
    "Timings depend on everything else this computer is doing. Close other heavy programs "
    "(or wait for a quieter moment on a shared server) and run this cell again. The lesson "
    "still stands: the lab's CI checks this claim on every change."
)


class ClaimNotReproduced(AssertionError):
    """A measured claim that did not hold, even after re-measuring (strict mode only)."""


@dataclass(repr=False)
class Claim:
    """The outcome of `claim`: what was claimed, every value measured, and whether it held.

    Its text is deterministic but for the measured number (``tests/sanitize.cfg`` masks
    ``measured N``), because nbval compares it.
    """

    statement: str
    values: tuple[float, ...]
    at_least: float | None
    at_most: float | None
    unit: str = "×"
    _shown: bool = field(default=False, compare=False)

    @property
    def value(self) -> float:
        """The last value measured (the one that held, if any did)."""
        return self.values[-1]

    @property
    def holds(self) -> bool:
        return _within(self.value, self.at_least, self.at_most)

    @property
    def bound(self) -> str:
        """The claimed bound in words, e.g. ``≥ 50×`` or ``between 2× and 8×``."""
        if self.at_least is not None and self.at_most is not None:
            return f"between {_number(self.at_least)}{self.unit} and {_number(self.at_most)}{self.unit}"
        if self.at_least is not None:
            return f"≥ {_number(self.at_least)}{self.unit}"
        return f"≤ {_number(self.at_most)}{self.unit}"  # type: ignore[arg-type]

    def _lines(self) -> tuple[str, str]:
        symbol, label = _STYLE[self.holds][:2]
        detail = f"measured {_number(self.value)}{self.unit}, claimed {self.bound}"
        if not self.holds:
            detail += f" ({len(self.values)} measurements)\n{_ADVICE}"
        return f"{symbol} {label} — {self.statement}", detail

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        head, detail = self._lines()
        colour, background = _STYLE[self.holds][2:]
        return (
            f'<div style="border-left: 4px solid {colour}; background: {background}; '
            f'padding: 0.4em 0.8em; margin: 0.3em 0"><strong>{html.escape(head)}</strong>'
            f'<div style="white-space: pre-wrap; margin-top: 0.2em">{html.escape(detail)}</div></div>'
        )

    def _ipython_display_(self) -> None:
        # `claim` displays its result at once, so that every claim of a cell is shown, not only
        # the last; this stops the same box appearing twice when it is also the cell's value.
        if self._shown:
            return
        self._shown = True
        from IPython.display import publish_display_data

        publish_display_data({"text/plain": repr(self), "text/html": self._repr_html_()})


def _number(value: float) -> str:
    if math.isinf(value) or math.isnan(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _within(value: float, at_least: float | None, at_most: float | None) -> bool:
    if math.isnan(value):
        return False
    return (at_least is None or value >= at_least) and (at_most is None or value <= at_most)


def _as_number(value: object, statement: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"the measurement of claim {statement!r} must return a number, not {value!r}")
    return float(value)


def claim(
    statement: str,
    measure: Callable[[], float],
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    value: float | None = None,
    retries: int = DEFAULT_RETRIES,
    unit: str = "×",
) -> Claim:
    """Check that ``measure()`` (a ratio) is ``≥ at_least`` and/or ``≤ at_most``; show the result.

    `value` is a first measurement the notebook already made (its plot shows it); without it,
    ``measure()`` is called first. While the value misses the bound, ``measure()`` is called
    again, up to `retries` more times; the claim holds as soon as one measurement is within it.
    A claim that still misses raises `ClaimNotReproduced` in strict mode (the test suite, or
    ``LAB_STRICT=1``) and otherwise shows a "not reproduced on this machine" box.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError("claim() needs a statement: the lesson's point in a sentence")
    if not callable(measure):
        raise TypeError(f"claim() needs a function that measures the ratio again, not {measure!r}")
    if at_least is None and at_most is None:
        raise TypeError("claim() needs a bound: at_least=..., at_most=..., or both")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, not {retries!r}")

    values = [_as_number(measure() if value is None else value, statement)]
    while not _within(values[-1], at_least, at_most) and len(values) <= retries:
        values.append(_as_number(measure(), statement))
    result = Claim(statement, tuple(values), at_least, at_most, unit)
    if not result.holds and settings().strict:
        raise ClaimNotReproduced(repr(result))
    _display(result)
    return result


def _display(result: Claim) -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the lab
        return
    if get_ipython() is not None:
        from IPython.display import display

        display(result)
