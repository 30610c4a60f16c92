"""Tests for labsupport.checks: the three outcomes, placeholders, crashes turned into messages."""

from __future__ import annotations

import inspect
import signal
import sys
import threading
import time

import numpy as np
import pytest
from fastapi import FastAPI

from labsupport.checks import (
    DEFAULT_TIME_LIMIT,
    Hint,
    NotAttempted,
    Result,
    TimeLimitExceeded,
    call_student,
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


def test_a_decorated_stub_is_a_placeholder_through_its_wrapped_function():
    """The student notebooks keep a solution's decorators. (Mutation that failed this: no
    inspect.unwrap in _is_placeholder.)"""
    import functools

    assert is_placeholder(functools.cache(_ellipsis_body))
    assert not is_placeholder(functools.cache(_returns_constant))

    class Loop:
        def __call__(self):
            return 1

    loop = Loop()
    loop.__wrapped__ = loop  # unwrapping would never end
    assert not is_placeholder(loop)


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


# --- time limits ---------------------------------------------------------------------------
#
# Each runaway below is stopped in about the limit (0.5 s); "< 1.5" leaves room for a loaded
# machine. A mutation that stops nothing makes these tests hang: run them with --timeout=30.


def _spin(answer):
    while True:
        pass


@checker("Exercise 9", time_limit=0.5)
def check_call(fn):
    return f"fn(1) returned {fn(1)!r}"


def _timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def _new_threads(before, wait=1.0):
    """The threads started since `before` still alive after up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        new = [thread for thread in threading.enumerate() if thread not in before]
        if not new or time.monotonic() >= deadline:
            return new
        time.sleep(0.01)


def _assert_timed_out(result, seconds, limit=0.5):
    assert result.status == "failed"
    assert result.message.startswith(f"Your code did not finish within {limit:g} s. Look for a loop")
    assert limit <= seconds < limit + 1


def test_endless_loop_fails_with_the_limit_and_leaves_no_thread():
    """(Mutation that failed this: the watchdog never interrupting the caller: the check hung.)"""
    before = set(threading.enumerate())
    _assert_timed_out(*_timed(lambda: check_call(_spin)))
    assert _new_threads(before) == []
    assert signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL


def test_blocking_sleep_in_the_main_thread_is_ended_by_the_signal():
    """(Mutation that failed this: _take_signal always False: the sleep ran its 20 s.)"""
    assert threading.current_thread() is threading.main_thread()
    _assert_timed_out(*_timed(lambda: check_call(lambda x: time.sleep(20))))


def test_answers_within_the_limit_are_unaffected():
    """(Mutation that failed this: _finish not joining the watchdog: its thread outlived the check.)"""
    before = set(threading.enumerate())

    def slow_double(x):
        time.sleep(0.1)
        return 2 * x

    result = check_call(slow_double)
    assert (result.status, result.message) == ("passed", "fn(1) returned 2")
    assert _new_threads(before, wait=0) == []
    assert check_call(_ellipsis_body).status == "not attempted"  # not even called


def test_call_student_returns_the_value_or_raises_with_the_limit():
    """(Mutation that failed this: call_student turning every exception into TimeLimitExceeded.)"""
    assert call_student(divmod, 7, 2, limit=1) == (3, 1)
    assert call_student(dict, a=1, limit=None) == {"a": 1}
    with pytest.raises(TimeLimitExceeded, match=r"^Your code did not finish within 0.25 s\.") as caught:
        call_student(_spin, 1, limit=0.25)
    assert caught.value.limit == 0.25
    with pytest.raises(ZeroDivisionError):  # the student's own error is not hidden
        call_student(lambda: 1 / 0, limit=1)


def test_without_a_limit_no_watchdog_runs():
    """(Mutations that failed this: limit=None still starting a guard; checker's time_limit
    defaulting to None.)"""

    def names():
        return [thread.name for thread in threading.enumerate()]

    assert "labsupport-time-limit" in call_student(names, limit=1)
    assert "labsupport-time-limit" not in call_student(names, limit=None)

    @checker("t", time_limit=None)
    def unlimited(fn):
        return ", ".join(fn())

    assert "labsupport-time-limit" not in unlimited(names).message

    @checker("t")
    def by_default(fn):
        return ", ".join(fn())

    assert "labsupport-time-limit" in by_default(names).message
    assert inspect.signature(checker).parameters["time_limit"].default == DEFAULT_TIME_LIMIT


@pytest.mark.parametrize("limit", [0, -1, "10", True, float("nan")])
def test_a_time_limit_must_be_a_positive_number(limit):
    """(Mutation that failed this: _validate_limit accepting a bool, True being 1.)"""
    with pytest.raises(ValueError, match="a time limit is a number of seconds > 0"):
        checker("t", time_limit=limit)
    with pytest.raises(ValueError, match="a time limit is a number of seconds > 0"):
        call_student(print, limit=limit)


def test_a_caller_outside_the_main_thread_is_stopped_too():
    """The async-exception path. (Mutation that failed this: _interrupt_caller doing nothing
    without the signal: the thread was still spinning after 3 s.)"""
    out = {}
    thread = threading.Thread(target=lambda: out.update(result=_timed(lambda: check_call(_spin))), daemon=True)
    thread.start()
    thread.join(3)
    assert not thread.is_alive()
    _assert_timed_out(*out["result"])


def test_someone_elses_handler_for_the_signal_is_left_alone():
    """Then the async-exception path stops a Python loop in the main thread. (Mutation that
    failed this: _take_signal not looking at the current handler: it was replaced.)"""
    calls = []

    def theirs(signum, frame):
        calls.append(signum)

    previous = signal.signal(signal.SIGUSR2, theirs)
    try:
        _assert_timed_out(*_timed(lambda: check_call(_spin)))
        assert signal.getsignal(signal.SIGUSR2) is theirs
        assert calls == []
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_a_shorter_limit_inside_a_check_is_the_one_reported():
    """(Mutation that failed this: checker not catching TimeLimitExceeded: "it raised TimeLimitExceeded".)"""
    @checker("t", time_limit=5)
    def check(fn):
        return call_student(fn, 1, limit=0.3)

    _assert_timed_out(*_timed(lambda: check(_spin)), limit=0.3)


def test_the_checks_limit_ends_it_even_when_the_checker_catches_its_calls_limits():
    """The check's interrupt goes through the inner call_student as itself, not as that call's
    TimeLimitExceeded, which the checker would catch and carry on. (Mutation that failed this:
    call_student turning any _Interrupt into its own TimeLimitExceeded: the check ran on for
    every input, about 50 ms each.)"""
    slow_inputs = []

    @checker("t", time_limit=0.5)
    def check(fn):
        for x in range(100):
            try:
                call_student(fn, x, limit=5)
            except TimeLimitExceeded:
                slow_inputs.append(x)
        return f"slow for {len(slow_inputs)} inputs"

    _assert_timed_out(*_timed(lambda: check(_spin)))
    assert slow_inputs == []


def test_a_check_inside_a_check_fails_alone():
    """(Mutation that failed this: checker not catching TimeLimitExceeded: the inner check raised it.)"""
    inner = checker("inner", time_limit=0.3)(lambda fn: fn(1))

    @checker("outer", time_limit=5)
    def outer(fn):
        result = inner(fn)
        if result.passed:
            raise Hint("the inner check should have run out of time")
        return f"inner: {result.message}"

    result, seconds = _timed(lambda: outer(_spin))
    assert result.passed
    assert result.message.startswith("inner: Your code did not finish within 0.3 s.")
    assert seconds < 1.3


def test_deep_recursion_is_stopped():
    """(Mutation that failed this: the watchdog never interrupting the caller.)"""
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    _assert_timed_out(*_timed(lambda: check_call(lambda x: fib(100))))


def test_catching_exception_does_not_catch_the_interrupt():
    """(Mutation that failed this: _Interrupt derived from Exception: the loop caught it and ran on.)"""
    def stubborn(x):
        while True:
            try:
                time.sleep(0.001)
            except Exception:
                pass

    _assert_timed_out(*_timed(lambda: check_call(stubborn)))


def test_catching_base_exception_around_plain_code_still_ends():
    """The interrupt is raised where the interpreter checks for it: at the loop's jump back,
    outside this `try`. (Mutation that failed this: the watchdog never interrupting the caller.)"""

    def catch_all(x):
        count = 0
        while True:
            try:
                count += 1
            except BaseException:
                pass

    _assert_timed_out(*_timed(lambda: check_call(catch_all)))


def test_catching_base_exception_around_a_call_survives_and_is_reported_when_it_ends():
    """The documented limit: raised inside the `time.sleep` call, the interrupt is caught each
    time. It is raised again every 50 ms for 2 s, then the loop is left alone (here it ends on
    its own, then the check reports the time limit). In a thread, because in the main thread
    the check would never return. (Mutation that failed this: a grace of 100 s: the interrupts went on.)"""
    caught, release = [], threading.Event()

    def catch_all(x):
        while not release.is_set():
            try:
                time.sleep(0.001)
            except BaseException as exc:
                caught.append(exc)
        return "ended on its own"

    out = {}
    thread = threading.Thread(target=lambda: out.update(result=check_call(catch_all)), daemon=True)
    thread.start()
    thread.join(0.5 + 2 + 0.5)
    assert thread.is_alive()
    interrupts = len(caught)
    assert 10 < interrupts  # 2 s / 50 ms = 40 rounds, fewer on a loaded machine
    time.sleep(0.3)
    assert len(caught) == interrupts  # given up: no more interrupts
    release.set()
    thread.join(1)
    assert out["result"].message.startswith("Your code did not finish within 0.5 s.")


def _identity(x):
    return x


def _returns_under_a_profiler(wait=1.0):
    """Whether a function called under sys.setprofile, in a new thread, returns within `wait` s.

    CPython 3.11 spins at a profiled function call while its "asynchronous exception pending"
    flag is set with no such exception left to raise (see checks._reset_async_flag)."""

    def profiled():
        sys.setprofile(lambda *args: None)
        try:
            _identity(1)
        finally:
            sys.setprofile(None)

    thread = threading.Thread(target=profiled, daemon=True)
    thread.start()
    thread.join(wait)
    return not thread.is_alive()


def test_a_profiled_thread_still_runs_after_a_caller_was_interrupted():
    """(Mutation that failed this: _finish cancelling a pending interrupt with
    PyThreadState_SetAsyncExc(id, NULL) instead of letting it fire: the profiled call spun.)"""
    out = {}
    thread = threading.Thread(target=lambda: out.update(result=_timed(lambda: check_call(_spin))), daemon=True)
    thread.start()
    thread.join(3)
    _assert_timed_out(*out["result"])
    assert _returns_under_a_profiler()


def test_a_profiled_thread_still_runs_while_an_interrupted_endpoint_is_blocked(stop_servers):
    """The endpoint blocks the event loop in C for 4 s, so its interrupt stays pending until then:
    the check still ends (after the 2 s of interrupting it again), and the flag it set is cleared.
    (Mutation that failed this: _watch not calling _reset_async_flag: the profiled call spun until
    the sleep ended.) The test then waits for the server thread: once awake, it logs the
    lifespan's CancelledError into whichever test runs then, its server being deregistered."""
    from labsupport.servers import serve

    app = FastAPI()

    @app.get("/")
    async def sleeps_in_the_event_loop():
        time.sleep(4)

    @checker("t", time_limit=0.5)
    def check(app):
        server = serve(app, name="sleeping", timeout=10)
        try:
            return f"answered {server.client.get('/').status_code}"
        finally:
            server.stop(timeout=0.2)

    before = set(threading.enumerate())
    result, seconds = _timed(lambda: check(app))
    assert result.message.startswith("Your code did not finish within 0.5 s.")
    assert seconds < 3.5
    assert _returns_under_a_profiler()
    assert [thread.name for thread in _new_threads(before, wait=0)] == ["labsupport-server-sleeping"]
    assert _new_threads(before, wait=3) == []


# --- time limits: student code inside a served app ----------------------------------------


def _looping_app() -> FastAPI:
    app = FastAPI()

    @app.get("/async")
    async def blocks_the_event_loop():
        while True:
            pass

    @app.get("/sync")
    def blocks_a_worker_thread():
        while True:
            pass

    return app


@pytest.mark.parametrize("caller", ["main thread", "other thread"])
@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_endless_endpoint_of_a_served_app_is_stopped(path, caller, stop_servers, cell_output):
    """The loop runs in uvicorn's event loop (async) or in a worker thread (sync). A checker in
    another thread than the main one is interrupted only once its read returns, so the server
    answers 500 (and logs the exception) while it is still running. (Mutations that failed
    this: _interrupt_new_threads doing nothing: Server.stop() waited 6 s on the blocked loop,
    the worker thread spun on; no log filter: uvicorn's "Exception in ASGI application"
    reached the cell, from another thread.)"""
    from labsupport.servers import running_servers, serve

    before = set(threading.enumerate())

    @checker("Exercise 9", time_limit=0.5)
    def check(app):
        with serve(app, name="looping", timeout=5) as server:
            return f"answered {server.client.get(path).status_code}"

    if caller == "main thread":
        result = _timed(lambda: check(_looping_app()))
    else:
        out = {}
        thread = threading.Thread(target=lambda: out.update(result=_timed(lambda: check(_looping_app()))))
        thread.start()
        thread.join(10)
        result = out["result"]
    _assert_timed_out(*result)
    assert _new_threads(before) == []
    assert running_servers() == []
    shown = cell_output()
    assert "Traceback" not in shown
    assert "Exception in ASGI application" not in shown


def test_servers_left_running_by_a_stopped_check_are_stopped(stop_servers):
    """(Mutation that failed this: _finish without its loop over the servers.)"""
    from labsupport.servers import running_servers, serve

    kept = serve(FastAPI(), name="kept")  # started before the check: left alone

    @checker("t", time_limit=0.5)
    def check(fn):
        serve(FastAPI(), name="left-running")
        return fn(1)

    _assert_timed_out(*_timed(lambda: check(_spin)))
    assert running_servers() == [kept]


# --- the machine-readable outcome (grading, progress) -------------------------------------------


def _status_class(code):
    if not 100 <= code <= 599:
        raise ValueError(code)
    return {1: "informational", 2: "success", 3: "redirection", 4: "client error", 5: "server error"}[code // 100]


def _metadata(result):
    """The output metadata Jupyter stores for `result` (IPython's own formatter, as in a kernel)."""
    from IPython.core.formatters import DisplayFormatter

    return DisplayFormatter().format(result)[1]


def test_a_lesson_check_records_its_outcome_in_the_output_metadata_and_the_progress_file(tmp_path, monkeypatch):
    """The grader reads a check's outcome from the stored output's metadata, with the lesson's name.
    Mutation that failed this: `_repr_mimebundle_` returning empty metadata."""
    from labsupport.checks import RECORD_KEY
    from labsupport.lessons.l01_http.checkers import check_status_class
    from labsupport.progress_store import load

    monkeypatch.setenv("LAB_PROGRESS_FILE", str(tmp_path / "progress.json"))
    passed, failed = check_status_class(_status_class), check_status_class(lambda code: "success")
    record = _metadata(passed)[RECORD_KEY]
    assert record == {"lesson": "l01_http", "title": passed.title, "status": "passed", "message": passed.message}
    assert _metadata(failed)[RECORD_KEY]["status"] == "failed"
    assert _metadata(failed)[RECORD_KEY]["message"] == failed.message != ""
    assert "signature" not in record  # not being graded
    entry = load()["l01_http"][passed.title]
    assert (entry["best"], entry["latest"], entry["runs"]) == ("passed", "failed", 2)


def test_a_check_defined_outside_a_lesson_records_nothing(tmp_path, monkeypatch):
    """The example check in 00, a check a student writes, a Result built by hand: no record, no progress.
    Mutation that failed this: `_lesson_of` accepting any module (returning "l00_start_here")."""
    from labsupport.checks import RECORD_KEY

    monkeypatch.setenv("LAB_PROGRESS_FILE", str(tmp_path / "progress.json"))
    assert RECORD_KEY not in _metadata(check_ms(12))
    assert RECORD_KEY not in _metadata(Result("passed", "Exercise 2: the class of a status code"))
    assert not (tmp_path / "progress.json").exists()


def test_a_function_passed_off_as_a_lesson_check_records_nothing(tmp_path, monkeypatch):
    """A forgery: a function written in the notebook, given a lesson's __module__, then decorated.
    Mutation that failed this: `_lesson_of` checking the module's name only (not where the code lives)."""
    from labsupport.checks import RECORD_KEY

    monkeypatch.setenv("LAB_PROGRESS_FILE", str(tmp_path / "progress.json"))
    namespace: dict = {}
    exec(compile("def check_status_class(fn):\n    return 'ok'\n", "<ipython-input-3>", "exec"), namespace)
    fake = namespace["check_status_class"]
    fake.__module__ = "labsupport.lessons.l01_http.checkers"
    forged = checker("Exercise 2: the class of a status code")(fake)(_status_class)
    assert forged.passed and RECORD_KEY not in _metadata(forged)
    assert not (tmp_path / "progress.json").exists()


def test_a_graded_kernel_signs_records_with_a_key_it_reads_once(tmp_path, monkeypatch):
    """The grader's key file is read and deleted; records are then signed (HMAC of lesson, title,
    status, message), so a record with another status does not verify.
    Mutation that failed this: `_recorded` not adding the signature; `_arm_grading` not deleting the file."""
    from labsupport import checks
    from labsupport.checks import RECORD_KEY, record_signature
    from labsupport.lessons.l01_http.checkers import check_status_class

    monkeypatch.setenv("LAB_PROGRESS_FILE", "off")
    monkeypatch.setattr(checks, "_grading_key", None)
    key_file = tmp_path / "grading.key"
    key_file.write_bytes(b"k" * 32)
    checks._arm_grading(str(key_file))
    assert not key_file.exists()
    record = _metadata(check_status_class(lambda code: "success"))[RECORD_KEY]
    assert record["signature"] == record_signature(b"k" * 32, record)
    assert record["signature"] != record_signature(b"k" * 32, {**record, "status": "passed"})
    assert record["signature"] != record_signature(b"x" * 32, record)


def test_a_progress_file_that_cannot_be_written_never_breaks_a_check(tmp_path, monkeypatch, capsys):
    """Mutation that failed this: `_recorded` without its try/except (the OSError reached the cell)."""
    from labsupport.lessons.l01_http.checkers import check_status_class

    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("LAB_PROGRESS_FILE", str(tmp_path / "a-file" / "progress.json"))
    result = check_status_class(_status_class)
    assert result.passed
    assert "Your progress was not saved" in capsys.readouterr().err


def test_lesson_checks_are_read_from_the_source_without_importing_it():
    """The grader's columns: every check of a lesson, with the titles the checks themselves show.
    Mutation that failed this: `lesson_checks` reading the lesson's __init__.py instead of checkers.py."""
    from labsupport.checks import lesson_checks
    from labsupport.lessons.l00_start_here import checkers as l00
    from labsupport.lessons.l12_performance import checkers as l12

    for module, lesson in ((l00, "l00_start_here"), (l12, "l12_performance")):
        found = lesson_checks(lesson)
        assert found and [c.title for c in found] == [getattr(module, c.name)(...).title for c in found]
    assert [c.prediction for c in lesson_checks("l00_start_here")] == [True, False, False]
    assert lesson_checks("l99_nothing") == [] and lesson_checks("../l00_start_here") == []
