"""Exercise checks shown in the notebook: passed, failed with a hint, or not attempted yet.

Introduced in 00-start-here. Every "Your turn" exercise ends with a call such as
``check_layer(answer)``. The checker is an ordinary function decorated with `checker`: it raises
`Hint` when the answer is wrong and may return a sentence saying why a right answer is right.
The decorator turns that into a `Result`, which Jupyter shows as a small coloured box.

Three outcomes, so that "Run All" on the student notebooks never crashes:

- **not attempted** — an argument is still the placeholder ``...`` (see `is_placeholder`); the
  checker function is not even called;
- **failed** — the checker raised `Hint`, or it raised anything else (the student's code raised,
  or the answer had the wrong shape): then the message names the exception in one line, without a
  traceback;
- **passed** — the checker returned normally.

A checker may also raise `NotAttempted` itself, e.g. when the student's function still returns
``...``; `expect_type` and `expect_close` do that for a ``...`` value.
"""

from __future__ import annotations

import dis
import functools
import html
import math
import numbers
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from labsupport.crashes import describe_exception

__all__ = [
    "Hint",
    "NotAttempted",
    "Result",
    "checker",
    "expect_close",
    "expect_type",
    "is_placeholder",
]

Status = Literal["passed", "failed", "not attempted"]

_NOT_ATTEMPTED_MESSAGE = "Replace the ... with your answer, then run this cell again."
_MAX_ERROR_CHARS = 300


class Hint(Exception):
    """Raised by a checker for a wrong answer; its message is shown to the student as the hint."""


class NotAttempted(Exception):
    """Raised by a checker when the answer is still (or still produces) the placeholder ``...``."""


# status -> (symbol, label, border colour, background colour)
_STYLE: dict[str, tuple[str, str, str, str]] = {
    "passed": ("✔", "passed", "#2e7d32", "#e8f5e9"),
    "failed": ("✘", "failed", "#c62828", "#ffebee"),
    "not attempted": ("○", "not attempted yet", "#757575", "#f5f5f5"),
}


@dataclass(frozen=True, repr=False)
class Result:
    """The outcome of one check. Its text form is deterministic, because nbval compares it."""

    status: Status
    title: str
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in _STYLE:
            raise ValueError(f"status must be one of {sorted(_STYLE)}, not {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def _lines(self) -> tuple[str, str]:
        symbol, label = _STYLE[self.status][:2]
        message = self.message
        if self.status == "failed" and message:
            message = f"Hint: {message}"
        return f"{symbol} {label} — {self.title}", message

    def __repr__(self) -> str:
        head, message = self._lines()
        return f"{head}\n{message}" if message else head

    def _repr_html_(self) -> str:
        head, message = self._lines()
        colour, background = _STYLE[self.status][2:]
        body = (
            f'<div style="white-space: pre-wrap; margin-top: 0.2em">{html.escape(message)}</div>'
            if message
            else ""
        )
        return (
            f'<div style="border-left: 4px solid {colour}; background: {background}; '
            f'padding: 0.4em 0.8em; margin: 0.3em 0">'
            f"<strong>{html.escape(head)}</strong>{body}</div>"
        )


def is_placeholder(answer: object) -> bool:
    """True if `answer` is still the ``...`` that the student notebooks start with.

    The rule, kept simple on purpose:

    - ``...`` itself;
    - a list, tuple, set or dict with ``...`` somewhere inside (values of dicts, nested
      containers too), e.g. ``[1, ...]`` or ``{"name": ...}``;
    - a function whose body does nothing but ``...``, ``pass``, a docstring or ``return ...``
      (it returns None or ``...`` whatever it is given), e.g. ``def handler(request): ...``.
    """
    return _is_placeholder(answer, set())


def _is_placeholder(answer: object, seen: set[int]) -> bool:
    if answer is ...:
        return True
    if isinstance(answer, (list, tuple, set, frozenset, dict)):
        if id(answer) in seen:  # a container that contains itself
            return False
        seen.add(id(answer))
        items = answer.values() if isinstance(answer, dict) else answer
        return any(_is_placeholder(item, seen) for item in items)
    if isinstance(answer, types.FunctionType):
        return _is_stub_function(answer)
    return False


# Instructions that every function starts with, whatever its body (they differ between versions).
_PROLOGUE = {"RESUME", "NOP", "CACHE", "RETURN_GENERATOR", "POP_TOP", "COPY_FREE_VARS", "MAKE_CELL"}


def _is_stub_function(fn: types.FunctionType) -> bool:
    # Read the bytecode rather than the source: notebook cells have no reliable source file.
    # What remains of a stub is "return the constant None or ..." in one or two instructions.
    body = [(i.opname, i.argval) for i in dis.get_instructions(fn) if i.opname not in _PROLOGUE]
    if [name for name, _ in body] not in (["RETURN_CONST"], ["LOAD_CONST", "RETURN_VALUE"]):
        return False
    constant = body[0][1]
    return constant is None or constant is ...


def checker(
    title: str, *, expects: str | None = None
) -> Callable[[Callable[..., str | None]], Callable[..., Result]]:
    """Turn ``fn(answer, *args, **kwargs)`` into a check that returns a `Result`.

    `fn` raises `Hint` for a wrong answer and returns an optional message for a right one.
    `expects` describes the answer in a few words (e.g. ``"a number of milliseconds"``); it is
    added to the message when checking the answer raises an unexpected exception.

    >>> @checker("Exercise 1: the slowest layer", expects="a layer name such as 'database'")
    ... def check_layer(answer):
    ...     if answer != "framework":
    ...         raise Hint("Look at the bar chart again: which bar is the longest?")
    ...     return "The framework's work dominates this tiny request."
    """

    def decorate(fn: Callable[..., str | None]) -> Callable[..., Result]:
        @functools.wraps(fn)
        def check(*args: Any, **kwargs: Any) -> Result:
            if any(is_placeholder(arg) for arg in (*args, *kwargs.values())):
                return Result("not attempted", title, _NOT_ATTEMPTED_MESSAGE)
            try:
                message = fn(*args, **kwargs)
            except NotAttempted as exc:
                return Result("not attempted", title, str(exc) or _NOT_ATTEMPTED_MESSAGE)
            except Hint as exc:
                return Result("failed", title, str(exc) or "That is not it yet.")
            except Exception as exc:  # any crash becomes a plain message, not a traceback
                return Result("failed", title, _describe_crash(exc, expects))
            return Result("passed", title, message or "")

        return check

    return decorate


def _describe_crash(exc: Exception, expects: str | None) -> str:
    message = f"Could not check your answer: it raised {describe_exception(exc, _MAX_ERROR_CHARS)}."
    if expects:
        message += f" Expected: {expects}."
    return message


def expect_type(answer: object, types_: type | tuple[type, ...], description: str) -> None:
    """Raise `Hint` unless `answer` is an instance of `types_` (described to the student).

    ``True``/``False`` are not accepted as numbers unless `bool` is listed. Use
    ``numbers.Integral`` or ``numbers.Real`` to accept NumPy's numbers too (pandas returns
    them). A ``...`` raises `NotAttempted`.
    """
    if answer is ...:
        raise NotAttempted(_NOT_ATTEMPTED_MESSAGE)
    allowed = types_ if isinstance(types_, tuple) else (types_,)
    if isinstance(answer, allowed) and not (isinstance(answer, bool) and bool not in allowed):
        return
    raise Hint(f"Expected {description}, but got {_short_repr(answer)} ({type(answer).__name__}).")


def expect_close(
    answer: object,
    expected: float,
    *,
    rel_tol: float = 0.05,
    abs_tol: float = 0.0,
    what: str = "Your answer",
    hint: str = "",
) -> None:
    """Raise `Hint` unless `answer` is a number close to `expected` (``math.isclose`` tolerances).

    The hint says "too high" or "too low" without giving the expected value away; `hint` adds a
    sentence of your own. A ``...`` raises `NotAttempted`.
    """
    expect_type(answer, numbers.Real, "a number")
    value = float(answer)  # type: ignore[arg-type]
    if math.isnan(value):
        raise Hint(f"{what} is not a number (nan). {hint}".strip())
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return
    direction = "high" if value > expected else "low"
    raise Hint(f"{what} ({_short_repr(answer)}) is too {direction}. {hint}".strip())


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
