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

**Time limit.** A check that runs longer than its `time_limit` (`DEFAULT_TIME_LIMIT`, 10 s) is
failed with "Your code did not finish within 10 s", and the student's code is stopped, wherever
it runs: called by the checker, or inside an app the checker serves (uvicorn's event loop or its
worker threads). `call_student` gives one call a limit of its own. How, and what cannot be
stopped: see `call_student`.

**A machine-readable outcome** (for `labsupport.grading` and `labsupport.progress_store`, README "For
instructors"). A check defined in a lesson's module (``labsupport.lessons.lNN_topic``, its code in
that folder) is a *lesson check*: its `Result` carries a record ``{"lesson", "title", "status",
"message"}``, which Jupyter stores in the output's metadata under `RECORD_KEY` (nbval does not
compare output metadata, so stored notebooks stay valid), and the outcome is written to the
progress file. A check defined anywhere else (the example in 00-start-here, or one a student
writes in the notebook) makes no record, and a `Result` built by hand has none either. While a
submission is graded the record is also signed with a key the grader gives the kernel before any
student code runs (`_arm_grading`), so a record the student displays himself does not count.
`lesson_checks` lists a lesson's checks without importing it (read from its ``checkers.py``).
"""

from __future__ import annotations

import ast
import ctypes
import dis
import functools
import hashlib
import hmac
import html
import inspect
import json
import logging
import math
import numbers
import os
import signal
import sys
import sysconfig
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar, overload

from labsupport.crashes import describe_exception

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "RECORD_KEY",
    "Hint",
    "LessonCheck",
    "NotAttempted",
    "Result",
    "TimeLimitExceeded",
    "call_student",
    "checker",
    "expect_close",
    "expect_type",
    "is_placeholder",
    "lesson_checks",
    "record_signature",
]

_T = TypeVar("_T")

Status = Literal["passed", "failed", "not attempted"]

_NOT_ATTEMPTED_MESSAGE = "Replace the ... with your answer, then run this cell again."
_MAX_ERROR_CHARS = 300

DEFAULT_TIME_LIMIT = 10.0
"""Seconds a check may take, the student's code included (`checker`'s `time_limit`)."""


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
    # Set by `checker` for a lesson check only: what the grader and the progress file read.
    _record: dict[str, str] | None = field(default=None, compare=False)

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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        """No data of its own (Jupyter adds the text and HTML forms); the record as output metadata."""
        return {}, ({RECORD_KEY: dict(self._record)} if self._record else {})

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


RECORD_KEY = "backend_lab_check"
"""The key of a lesson check's record in its output's metadata (read by `labsupport.grading`)."""

_LESSONS_DIR = Path(__file__).resolve().parent / "lessons"
_grading_key: bytes | None = None  # set in a kernel that runs a submission for the grader


class LessonCheck(NamedTuple):
    """One check of a lesson, as `lesson_checks` reads it from the source: its function and title."""

    name: str
    title: str

    @property
    def prediction(self) -> bool:
        """A "Predict ..." prompt rather than an exercise (not counted in a grade's total)."""
        return self.title.startswith("Predict")


def lesson_checks(lesson: str) -> list[LessonCheck]:
    """The checks defined in ``labsupport/lessons/<lesson>/checkers.py``, in the file's order.

    Read statically (the `checker` decorators whose title is a literal string), so that listing
    them imports nothing: neither the lesson's machinery nor the student's code. Unknown lesson: [].
    Each file is read once per process: the grader asks for every lesson's checks per submission.
    """
    return list(_read_lesson_checks(lesson))


@functools.cache
def _read_lesson_checks(lesson: str) -> tuple[LessonCheck, ...]:
    path = _LESSONS_DIR / lesson / "checkers.py"
    if not lesson.isidentifier() or not path.is_file():
        return ()
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and (getattr(decorator.func, "id", None) or getattr(decorator.func, "attr", None)) == "checker"
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
                and isinstance(decorator.args[0].value, str)
            ):
                found.append(LessonCheck(node.name, decorator.args[0].value))
    return tuple(found)


def _lesson_of(fn: Callable[..., Any]) -> str | None:
    """The lesson (``l04_sql``) whose module defines `fn`, or None: a check from anywhere else."""
    parts = (getattr(fn, "__module__", None) or "").split(".")
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if len(parts) < 3 or parts[:2] != ["labsupport", "lessons"] or code is None:
        return None
    if not Path(code.co_filename).resolve().is_relative_to(_LESSONS_DIR / parts[2]):
        return None  # e.g. a function compiled in the notebook and given a lesson's __module__
    return parts[2]


def record_signature(key: bytes, record: dict[str, str]) -> str:
    """HMAC-SHA256 of a record's lesson, title, status and message, hex."""
    text = json.dumps([record.get(k, "") for k in ("lesson", "title", "status", "message")])
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _arm_grading(key_file: str) -> None:
    """Read (and delete) the grader's signing key: called in a graded kernel before the student's code."""
    global _grading_key
    path = Path(key_file)
    _grading_key = path.read_bytes()
    path.unlink()


def _recorded(result: Result, lesson: str) -> Result:
    """`result` with its record; the outcome noted in the progress file (a problem there is printed)."""
    record = {"lesson": lesson, "title": result.title, "status": result.status, "message": result.message}
    if _grading_key is not None:
        record["signature"] = record_signature(_grading_key, record)
    try:
        import labsupport.progress_store

        problem = labsupport.progress_store.record(lesson, result.title, result.status)
    except Exception as exc:  # progress is a convenience: it never breaks a check
        problem = f"Your progress was not saved: {describe_exception(exc, _MAX_ERROR_CHARS)}."
    if problem:
        print(problem, file=sys.stderr)
    return Result(result.status, result.title, result.message, _record=record)


def is_placeholder(answer: object) -> bool:
    """True if `answer` is still the ``...`` that the student notebooks start with.

    The rule, kept simple on purpose:

    - ``...`` itself;
    - a list, tuple, set or dict with ``...`` somewhere inside (values of dicts, nested
      containers too), e.g. ``[1, ...]`` or ``{"name": ...}``;
    - a function whose body does nothing but ``...``, ``pass``, a docstring or ``return ...``
      (it returns None or ``...`` whatever it is given), e.g. ``def handler(request): ...``;
      also under a decorator that keeps it as ``__wrapped__`` (``functools.cache``, ``wraps``),
      as the student notebooks keep a solution's decorators.
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
    if callable(answer) and hasattr(answer, "__wrapped__"):
        try:
            answer = inspect.unwrap(answer)
        except ValueError:  # __wrapped__ going round in a circle
            return False
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
    title: str, *, expects: str | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT
) -> Callable[[Callable[..., str | None]], Callable[..., Result]]:
    """Turn ``fn(answer, *args, **kwargs)`` into a check that returns a `Result`.

    `fn` raises `Hint` for a wrong answer and returns an optional message for a right one.
    `expects` describes the answer in a few words (e.g. ``"a number of milliseconds"``); it is
    added to the message when checking the answer raises an unexpected exception.
    `time_limit` (seconds) bounds the whole check, the student's code included: past it the
    check is failed with "Your code did not finish within N s" and the student's code is
    stopped (see `call_student`). ``None``: no limit.

    >>> @checker("Exercise 1: the slowest layer", expects="a layer name such as 'database'")
    ... def check_layer(answer):
    ...     if answer != "framework":
    ...         raise Hint("Look at the bar chart again: which bar is the longest?")
    ...     return "The framework's work dominates this tiny request."
    """
    _validate_limit(time_limit)

    def decorate(fn: Callable[..., str | None]) -> Callable[..., Result]:
        lesson = _lesson_of(fn)

        @functools.wraps(fn)
        def check(*args: Any, **kwargs: Any) -> Result:
            result = judge(*args, **kwargs)
            return result if lesson is None else _recorded(result, lesson)

        def judge(*args: Any, **kwargs: Any) -> Result:
            if any(is_placeholder(arg) for arg in (*args, *kwargs.values())):
                return Result("not attempted", title, _NOT_ATTEMPTED_MESSAGE)
            try:
                message = call_student(fn, *args, limit=time_limit, **kwargs)
            except TimeLimitExceeded as exc:  # this check's limit, or a shorter one inside it
                return Result("failed", title, str(exc))
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


@overload
def expect_type(answer: object, types_: type[_T], description: str) -> _T: ...
@overload
def expect_type(answer: object, types_: tuple[type, ...], description: str) -> Any: ...
def expect_type(answer: object, types_: type | tuple[type, ...], description: str) -> Any:
    """Return `answer` if it is an instance of `types_`; else raise `Hint` (described to the student).

    ``True``/``False`` are not accepted as numbers unless `bool` is listed. Use
    ``numbers.Integral`` or ``numbers.Real`` to accept NumPy's numbers too (pandas returns
    them). A ``...`` raises `NotAttempted`. Returned so that a checker can write
    ``sql = expect_type(sql, str, ...)`` and the type checker knows what it holds.
    """
    if answer is ...:
        raise NotAttempted(_NOT_ATTEMPTED_MESSAGE)
    allowed = types_ if isinstance(types_, tuple) else (types_,)
    if isinstance(answer, allowed) and not (isinstance(answer, bool) and bool not in allowed):
        return answer
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
    value = float(expect_type(answer, (numbers.Real,), "a number"))
    if math.isnan(value):
        raise Hint(f"{what} is not a number (nan). {hint}".strip())
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return
    direction = "high" if value > expected else "low"
    raise Hint(f"{what} ({_short_repr(answer)}) is too {direction}. {hint}".strip())


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- time limits ---------------------------------------------------------------------------
#
# How a runaway is stopped (see `call_student`): a watchdog thread waits for the deadline, then
# raises an exception of the call's own `_Interrupt` class (a BaseException, so `except
# Exception` in student or framework code does not swallow it) inside the code still running.
# In the caller's thread, if it is the main thread: from a signal handler, which also ends a
# blocking `time.sleep` or socket read; in any other thread: with PyThreadState_SetAsyncExc, which
# fires at the thread's next bytecode boundary. Outside the caller's thread only threads started
# during the call are touched, and only while they run the student's code, so an idle server
# loop or an unrelated thread is never hit.


class TimeLimitExceeded(Exception):
    """The student's code did not finish within `limit` seconds (raised by `call_student`)."""

    def __init__(self, limit: float) -> None:
        super().__init__(
            f"Your code did not finish within {limit:g} s. Look for a loop that never ends (a `while` "
            "whose condition stays true), or a call that waits for something that never comes."
        )
        self.limit = limit


def call_student(fn: Callable[..., _T], /, *args: Any, limit: float | None = DEFAULT_TIME_LIMIT, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``, stopped after `limit` seconds with `TimeLimitExceeded` (None: no limit).

    `checker` runs every check through it, so a checker needs it only to give one call a
    shorter limit of its own. At the deadline an exception is raised inside the code still
    running, as if Ctrl-C had been pressed there:

    - in the calling thread — from a signal handler when that is the main thread (a notebook
      cell, pytest), which also ends a blocking ``time.sleep`` or socket read; otherwise at the
      thread's next bytecode;
    - in every thread started since the call began that is running the student's code: uvicorn's
      event loop and worker threads of an app served during the call (a ``while True`` in an
      endpoint, a dependency or a middleware). "The student's code" is any code outside the
      standard library, installed packages and labsupport: notebook cells, test files.

    Servers started during the call and still running are then stopped, and uvicorn's log line
    for a request stopped this way is not shown. Measured (limit 1 s, 5 runs, 2 shared cores): a
    ``while True: pass`` or a ``time.sleep(1e6)`` called directly ends within 12 ms of the limit;
    a ``while True: pass`` in a served endpoint, async or not, within 0.2 s (its server stopped
    as well); no thread is left running.

    What cannot be stopped:

    - code blocked in C in a thread other than the main thread (``time.sleep`` in a served
      endpoint, or anywhere when the caller is not the main thread): the exception fires when
      that call returns, and the thread waits until then. A caller in the main thread still
      ends, after the 2 s below and `Server.stop`'s wait for a blocked event loop (6 s);
    - a loop that catches the exception (``except BaseException:`` or a bare ``except:``) around
      a call such as ``time.sleep``: it is interrupted every 50 ms for 2 s, then left running; in
      the main thread the call then does not return until the kernel is interrupted. (Without a
      call inside the ``try``, the exception usually lands outside it, and the loop ends.);
    - a long computation inside one C call (``sum(range(10**12))``) runs to its end first.
    """
    _validate_limit(limit)
    if limit is None or limit == math.inf:
        return fn(*args, **kwargs)
    guard = _Guard(limit)
    try:
        try:
            guard.start()
            value = fn(*args, **kwargs)
        finally:
            # First, before any instruction where an interrupt could be raised: from here on the
            # signal handler raises none, and the watchdog injects none.
            guard.running = False
            guard.finish()
    except _Interrupt as exc:
        guard.finish()  # again: an interrupt injected just before may have cut the first one short
        if isinstance(exc, guard.interrupt):
            raise TimeLimitExceeded(limit) from None
        raise  # an enclosing call's limit ran out: that call reports it
    except Exception:
        if guard.fired:  # whatever the interrupted code raised on its way out
            raise TimeLimitExceeded(limit) from None
        raise
    if guard.fired:  # the code caught the interrupt, or only a served request was stopped
        raise TimeLimitExceeded(limit)
    return value


def _validate_limit(limit: object) -> None:
    if limit is None or (isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit > 0):
        return
    raise ValueError(f"a time limit is a number of seconds > 0, or None for no limit, not {limit!r}")


class _Interrupt(BaseException):
    """Raised inside the student's code when its time is up. Each call has its own subclass."""


_GRACE = 2.0  # seconds after the deadline during which code that caught the interrupt is interrupted again
_ROUND = 0.05  # seconds between two interruptions
_POKE = getattr(signal, "SIGUSR2", None)  # not SIGALRM: pytest-timeout uses that one
_signal_guards: list[_Guard] = []  # the main thread's running guards, outermost first


class _Guard:
    """One call's time limit: its watchdog thread, and what it interrupted."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.interrupt: type[_Interrupt] = type("_Interrupt", (_Interrupt,), {})
        self.thread = threading.current_thread()
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.running = False
        self.fired = False  # the deadline passed while the call was running
        self.raised = False  # the calling thread has been interrupted at least once
        self.injected = False  # an interrupt was injected into some thread
        self.uses_signal = False
        self.deadline = math.inf
        self.threads_before: set[threading.Thread] = set()
        self.servers_before: list[Any] = []
        self.watchdog = threading.Thread(target=self._watch, name="labsupport-time-limit", daemon=True)

    def start(self) -> None:
        _install_log_filter()
        self.threads_before = set(threading.enumerate())
        self.servers_before = _running_servers()
        self.uses_signal = _take_signal(self)
        self.deadline = time.monotonic() + self.limit
        self.running = True
        self.watchdog.start()

    def finish(self) -> None:
        """Disarm; stop what the call left running. Safe to call twice.

        An interrupt injected (in a thread other than the main one) just before the call ended
        may still fire in here: it is absorbed, and this guard finished all the same. An
        enclosing call's interrupt is passed on once this guard is tidy.
        """
        enclosing: _Interrupt | None = None
        while True:
            try:
                self._finish()
                break
            except _Interrupt as exc:
                if not isinstance(exc, self.interrupt):
                    enclosing = exc
        if enclosing is not None:
            raise enclosing

    def _finish(self) -> None:
        with self.lock:
            self.running = False  # no interrupt is injected after this
        if self.raised and not self.uses_signal:
            for _ in range(2):  # one injected but not raised yet fires here, and finish() absorbs it
                pass
        self.done.set()
        if self.watchdog.ident is not None:
            self.watchdog.join()
        if self.uses_signal:
            _release_signal(self)
        if self.fired:  # e.g. interrupted inside Server.stop(): finish what it had begun
            for server in _running_servers():
                if not any(server is before for before in self.servers_before):
                    server.stop()

    def _watch(self) -> None:
        timed_out = not self.done.wait(max(0.0, self.deadline - time.monotonic()))
        with self.lock:
            self.fired = timed_out and self.running
        give_up = time.monotonic() + _GRACE
        while True:
            with self.lock:
                # Served code first: a server's loop is free again before the caller stops it.
                busy = self._interrupt_new_threads()
                if self.running and self.fired:
                    self._interrupt_caller()
                finished = not self.running and not busy
            if finished or time.monotonic() > give_up:
                if self.injected:
                    _reset_async_flag()
                return
            if self.done.is_set():
                time.sleep(_ROUND)
            else:
                self.done.wait(_ROUND)  # the call may end sooner: then check at once

    def _interrupt_caller(self) -> None:
        if self.uses_signal:  # the handler decides whether to raise (see _on_poke)
            signal.pthread_kill(self.thread.ident, _POKE)  # type: ignore[arg-type]
            return
        frame = sys._current_frames().get(self.thread.ident)  # type: ignore[arg-type]
        # After the first interrupt, only while the student's code runs: not in the clean-up
        # (a `with serve(...)` block stopping its server) that the first one started.
        if not self.raised or (frame is not None and _is_student_file(frame.f_code.co_filename)):
            _set_async_exc(self.thread, self.interrupt)
            self.raised = self.injected = True

    def _interrupt_new_threads(self) -> bool:
        """Interrupt the threads started during the call that run the student's code now."""
        frames = sys._current_frames()
        busy = False
        for thread in threading.enumerate():
            if thread in self.threads_before or thread is self.watchdog:
                continue
            if _runs_student_code(frames.get(thread.ident)):  # type: ignore[arg-type]
                _set_async_exc(thread, self.interrupt)
                busy = self.injected = True
        return busy


def _set_async_exc(thread: threading.Thread, exc: type[BaseException]) -> None:
    """Raise `exc` in `thread` at its next bytecode boundary.

    Never with NULL, to cancel one: that sets the interpreter's "asynchronous exception pending"
    flag too (CPython 3.11), and nothing clears it again (see `_reset_async_flag`).
    """
    if thread.ident is None:  # not started: nothing runs in it
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc))


class _Flush(BaseException):
    """Raised by `_reset_async_flag` in its own thread, and caught there at once."""


def _reset_async_flag() -> None:
    """Clear the interpreter's "asynchronous exception pending" flag (CPython 3.11).

    Each PyThreadState_SetAsyncExc sets it; only a thread raising the exception set for it
    clears it. An interrupt injected into a thread blocked in C (``time.sleep`` in an endpoint)
    stays pending, and so does the flag: every thread then looks for pending work at each check,
    and one running under ``sys.setprofile`` (03-routing's API-key checker uses it) spins forever
    at its next function call. Raising one here clears the flag; the blocked thread still finds
    its interrupt when it next looks (at its next switch of the GIL).
    """
    try:
        _set_async_exc(threading.current_thread(), _Flush)
        for _ in range(1000):  # raised at the first jump back
            pass
    except _Flush:
        pass


def _take_signal(guard: _Guard) -> bool:
    """Let the main thread be interrupted by a signal (ends blocking calls), unless the signal is in use."""
    if _POKE is None or guard.thread is not threading.main_thread():
        return False
    if not _signal_guards:
        if signal.getsignal(_POKE) not in (signal.SIG_DFL, _on_poke):
            return False
        signal.signal(_POKE, _on_poke)
    _signal_guards.append(guard)
    return True


def _release_signal(guard: _Guard) -> None:
    if guard in _signal_guards:
        _signal_guards.remove(guard)
    if not _signal_guards and _POKE is not None and signal.getsignal(_POKE) is _on_poke:
        signal.signal(_POKE, signal.SIG_DFL)


def _on_poke(signum: int, frame: types.FrameType | None) -> None:
    # The first time anywhere; after that only inside the student's code (see _interrupt_caller).
    for guard in tuple(_signal_guards):  # the outermost guard that ran out wins
        if guard.running and guard.fired:
            if not guard.raised or (frame is not None and _is_student_file(frame.f_code.co_filename)):
                guard.raised = True
                raise guard.interrupt


def _running_servers() -> list[Any]:
    servers = sys.modules.get("labsupport.servers")  # not loaded: no server was started
    return servers.running_servers() if servers is not None else []


@functools.cache
def _platform_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {os.path.dirname(os.path.abspath(__file__))}  # labsupport itself
    dirs.update(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths)
    return tuple(os.path.join(os.path.realpath(directory), "") for directory in dirs)


@functools.lru_cache(maxsize=4096)
def _is_student_file(filename: str) -> bool:
    """True for code outside the standard library, installed packages and labsupport."""
    if filename.startswith("<"):  # <frozen ...>, <string> (dataclasses' generated methods)
        return False
    return not os.path.realpath(filename).startswith(_platform_dirs())


def _runs_student_code(frame: types.FrameType | None) -> bool:
    while frame is not None:
        if _is_student_file(frame.f_code.co_filename):
            return True
        frame = frame.f_back
    return False


class _HideInterrupts(logging.Filter):
    """Drop uvicorn's "Exception in ASGI application" for a request that `call_student` stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_interrupt(record.exc_info[1]))


def _is_interrupt(exc: BaseException | None) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_interrupt(inner) for inner in exc.exceptions)
    return isinstance(exc, _Interrupt)


_hide_interrupts = _HideInterrupts()


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _hide_interrupts not in logger.filters:
        logger.addFilter(_hide_interrupts)
