"""Tests for labsupport.lessons.l10_errors_logging.checkers: each checker against its corpus of wrong answers
(what students write, and what gets past a careless check: each must fail with the hint for that mistake) and
of right answers (each must pass), plus malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import copy
import logging
import re

import pytest
from fastapi import HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse

from labsupport.lessons.l10_errors_logging.checkers import (
    check_conflict_handler,
    check_debug_prediction,
    check_log_diagnosis,
    check_redaction_filter,
)
from labsupport.lessons.l10_errors_logging.failing_run import failing_run, truth_of
from labsupport.servers import running_servers
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]

TAKE_STOCK = "UPDATE books SET stock = stock - :q WHERE id = :id AND stock >= :q"


class OutOfStock(Exception):
    """The notebook's domain error: its message is for the log (SQL), its fields for the client."""

    def __init__(self, book_id, title, wanted):
        super().__init__(f"{TAKE_STOCK} with id={book_id}, q={wanted} changed 0 rows")
        self.book_id, self.title, self.wanted = book_id, title, wanted


def problem(request, status, title, detail, kind, **members):
    body = {"type": f"https://bookshop.example/problems/{kind}", "title": title, "status": status,
            "detail": detail, "instance": request.url.path, **members}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


# --- predict: DEBUG arguments -------------------------------------------------------------------


def test_debug_prediction_right_answer_passes():
    """Mutation that failed this: the checker's comparison flipped (`predicted == truth` raising the hint)."""
    result = check_debug_prediction(10)
    assert result.passed, result
    assert "before debug() is called" in result.message


WRONG_PREDICTIONS = [
    ("zero: the level check makes it free", 0, r"ran 10 times, once per call.*computes a call's arguments"),
    ("once: cached", 1, r"not once"),
    ("half", 5, r"once for each of the 10 calls"),
    ("twice per call", 20, r"once for each of the 10 calls"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), WRONG_PREDICTIONS, ids=ids(WRONG_PREDICTIONS))
def test_debug_prediction_wrong_answers_get_their_hint(name, predicted, hint):
    assert_hint(check_debug_prediction(predicted), hint)


def test_debug_prediction_finds_the_truth_by_running_it():
    """The count comes from running the calls, so asking for 3 calls makes 3 the right answer."""
    assert check_debug_prediction(3, calls=3).passed
    assert_hint(check_debug_prediction(10, calls=3), r"ran 3 times")


@pytest.mark.parametrize("predicted", ["10", 10.0, True, None])
def test_debug_prediction_wrong_type_gets_a_plain_hint(predicted):
    assert_hint(check_debug_prediction(predicted), r"Expected a whole number")


def test_debug_prediction_placeholder_is_not_attempted():
    assert check_debug_prediction(...).status == "not attempted"


# --- exercise 1: OutOfStock -> 409 problem details -----------------------------------------------


async def with_problem_helper(request, exc):
    return problem(request, 409, "Out of stock", f"Fewer than {exc.wanted} copies of {exc.title} are left.",
                   "out-of-stock")


async def by_hand_with_extension(request, exc):
    body = {"type": "/problems/out-of-stock", "title": "Out of stock", "status": 409,
            "detail": f"{exc.title} is sold out.", "instance": f"urn:order:{exc.book_id}", "book_id": exc.book_id}
    return JSONResponse(body, status_code=409, media_type="application/problem+json")


def sync_handler(request, exc):
    return JSONResponse({"type": "about:blank", "title": "Conflict", "status": 409,
                         "detail": f"{exc.title}: not enough copies", "instance": str(request.url.path)},
                        status_code=409, headers={"Content-Type": "application/problem+json; charset=utf-8"})


RIGHT_HANDLERS = [
    ("the notebook's problem() helper", with_problem_helper),
    ("a dict by hand, a relative type, an extension member", by_hand_with_extension),
    ("a plain def, about:blank with the status phrase, charset in the header", sync_handler),
]


@pytest.mark.parametrize(("name", "handler"), RIGHT_HANDLERS, ids=ids(RIGHT_HANDLERS))
def test_conflict_handler_right_answers_pass(name, handler):
    """Mutation that failed this: the checker wanting the instance to be the request path (urn:order:1 failed)."""
    result = check_conflict_handler(handler, OutOfStock)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def _body(exc, **changes):
    body = {"type": "https://bookshop.example/problems/out-of-stock", "title": "Out of stock", "status": 409,
            "detail": f"{exc.title} is sold out.", "instance": "/api/orders"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def _handler(http_status=409, media_type="application/problem+json", **changes):
    """A handler whose body is the right one with `changes` (a member set to None is left out)."""

    async def handler(request, exc):
        return JSONResponse(_body(exc, **changes), status_code=http_status, media_type=media_type)

    return handler


async def returns_a_dict(request, exc):
    return _body(exc)


async def raises_http_exception(request, exc):
    raise HTTPException(409, str(exc))


async def raises_http_exception_kindly(request, exc):
    raise HTTPException(409, f"{exc.title} is sold out")


async def message_as_detail(request, exc):
    return JSONResponse(_body(exc, detail=str(exc)), status_code=409, media_type="application/problem+json")


async def message_with_the_title(request, exc):
    """The hand-written leak: the title and, 'to help', the exception's message."""
    return JSONResponse(_body(exc, detail=f"{exc.title} is sold out ({exc})"), status_code=409,
                        media_type="application/problem+json")


async def wrong_attribute(request, exc):
    return JSONResponse(_body(exc, detail=f"{exc.name} is sold out"), status_code=409,
                        media_type="application/problem+json")


async def title_varies(request, exc):
    return JSONResponse(_body(exc, title=f"{exc.title} is out of stock"), status_code=409,
                        media_type="application/problem+json")


async def type_varies(request, exc):
    return JSONResponse(_body(exc, type=f"https://bookshop.example/problems/out-of-stock/{exc.book_id}"),
                        status_code=409, media_type="application/problem+json")


async def plain_text(request, exc):
    return PlainTextResponse(f"{exc.title} is sold out", status_code=409)


async def traceback_in_body(request, exc):
    import traceback

    trace = "".join(traceback.format_exception(exc))
    return JSONResponse(_body(exc, trace=trace), status_code=409, media_type="application/problem+json")


WRONG_HANDLERS = [
    ("status left at 200", _handler(http_status=200), r"200 OK.*status_code=409"),
    ("400 bad request", _handler(http_status=400), r"400.*malformed.*409 Conflict"),
    ("422", _handler(http_status=422), r"422.*409 Conflict"),
    ("500", _handler(http_status=500), r"500; an order for a sold-out book should get 409"),
    ("application/json", _handler(media_type="application/json"), r"was 'application/json'.*problem\+json"),
    ("status as a string", _handler(status="409"), r"status is '409'.*number 409"),
    ("status member differs", _handler(status=400), r"status is 400.*same as the response's status code"),
    ("status member true", _handler(status=True), r"status is True"),
    ("no instance", _handler(instance=None), r"lack instance"),
    ("no type nor title", _handler(type=None, title=None), r"lack type, title"),
    ("detail names no book", _handler(detail="Out of stock."), r"say which book is sold out"),
    ("detail is not a string", _handler(detail=["sold out"]), r"say which book"),
    ("the exception's message as detail", message_as_detail, r"exception's own message.*for the log"),
    ("the message appended to a good detail", message_with_the_title, r"exception's own message"),
    ("a traceback in an extension member", traceback_in_body, r"exception's own message|Traceback"),
    ("title names the book", title_varies, r"type and title changed from one book to the next"),
    ("type per book", type_varies, r"type and title changed"),
    ("about:blank with a title of its own", _handler(type="about:blank"), r"about:blank.*'Conflict'"),
    ("type with spaces", _handler(type="out of stock"), r"member type should be a non-empty string"),
    ("empty title", _handler(title=""), r"member title should be a non-empty string"),
    ("returns a dict", returns_a_dict, r"raised.*Return a response object"),
    ("raises HTTPException with the message", raises_http_exception, r"exception's own message"),
    ("raises HTTPException with a good detail", raises_http_exception_kindly, r"Content-Type was 'application/json'"),
    ("a field the exception does not have", wrong_attribute, r"AttributeError.*exc\.title"),
    ("plain text", plain_text, r"Content-Type was 'text/plain'"),
]


@pytest.mark.parametrize(("name", "handler", "hint"), WRONG_HANDLERS, ids=ids(WRONG_HANDLERS))
def test_conflict_handler_wrong_answers_get_their_hint(name, handler, hint):
    """Mutation that failed this: the leak check (`_expect_no_leak`) removed: the handlers sending str(exc)
    or a traceback then passed or got another hint."""
    assert_hint(check_conflict_handler(handler, OutOfStock), hint)
    assert running_servers() == []


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("not a function", OutOfStock), r"should be a function"),
        ((with_problem_helper, "OutOfStock"), r"exception class itself"),
        ((lambda exc: exc, OutOfStock), r"exactly two arguments"),
    ],
    ids=["a string", "the class's name", "one argument"],
)
def test_conflict_handler_malformed_answers_get_a_plain_hint(args, hint):
    assert_hint(check_conflict_handler(*args), hint)


def test_conflict_handler_stub_is_not_attempted():
    async def out_of_stock_handler(request, exc):
        """Return a 409 problem details response."""
        return ...

    assert check_conflict_handler(out_of_stock_handler, OutOfStock).status == "not attempted"


# --- exercise 2: a bug from the logs -----------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = failing_run(tmp_path_factory.mktemp("logs"))
    return path, truth_of(path)


def _id_with(truth, status):
    return next(rid for rid, got in truth.statuses.items() if got == status)


def test_log_diagnosis_right_answers_pass(run):
    """Mutation that failed this: the truth's layer recorded as 'service' (the right answer then failed)."""
    path, truth = run
    for answer in (
        {"request_id": truth.request_id, "layer": "repository", "cause": "quote-in-sql"},
        {"request_id": f" {truth.request_id}\n", "layer": "shop.repository", "cause": "quote-in-sql"},
        {"request_id": truth.request_id, "layer": "Repository", "cause": "quote-in-sql"},
    ):
        result = check_log_diagnosis(answer, str(path))
        assert result.passed, (answer, result)


def _wrong_diagnoses(truth):
    failed = truth.request_id
    warned = [rid for rid, status in truth.statuses.items() if status == 200][3]  # the slow-courier request
    return [
        ("the 409 (out of stock)", {"request_id": _id_with(truth, 409)}, r"409.*working as designed"),
        ("the 404", {"request_id": _id_with(truth, 404)}, r"404.*does not exist"),
        ("the 422", {"request_id": _id_with(truth, 422)}, r"422.*validation"),
        ("the WARNING's request (200)", {"request_id": warned}, r"succeeded"),
        ("a short #n label", {"request_id": "#9"}, r"not the id of a request in this run"),
        ("an id from another run", {"request_id": "0123456789ab"}, r"not the id of a request in this run"),
        ("the layer that logged the ERROR", {"layer": "http"}, r"reported the error, it did not cause it"),
        ("shop.http", {"layer": "shop.http"}, r"reported the error"),
        ("the service", {"layer": "service"}, r"The service passed the title on"),
        ("the route", {"layer": "route"}, r"The route passed the title on"),
        ("not a layer", {"layer": "database"}, r"one of 'http', 'route', 'service', 'repository'"),
        ("database down", {"cause": "database-down"}, r"database was reachable.*syntax error"),
        ("the slow courier", {"cause": "slow-dependency"}, r"WARNING on another request"),
        ("out of stock", {"cause": "out-of-stock"}, r"409"),
        ("missing book", {"cause": "missing-book"}, r"404"),
        ("invalid body", {"cause": "invalid-body"}, r"422"),
        ("a cause in own words", {"cause": "SQL injection"}, r"key in CAUSES"),
    ], failed


def test_log_diagnosis_wrong_answers_get_their_hint(run):
    """Mutation that failed this: the status check removed (the 409's id then got the layer hint)."""
    path, truth = run
    wrong, failed = _wrong_diagnoses(truth)
    for name, change, hint in wrong:
        answer = {"request_id": failed, "layer": "repository", "cause": "quote-in-sql", **change}
        result = check_log_diagnosis(answer, path)
        assert result.status == "failed" and re.search(hint, result.message), (name, result.message)


def test_log_diagnosis_malformed_answers(run, tmp_path):
    path, truth = run
    right = {"request_id": truth.request_id, "layer": "repository", "cause": "quote-in-sql"}
    assert_hint(check_log_diagnosis(right, tmp_path / "other.jsonl"), r"path that failing_run")
    assert_hint(check_log_diagnosis(right, 42), r"path that failing_run")
    assert_hint(check_log_diagnosis({"request_id": truth.request_id}, path), r"missing: layer, cause")
    assert_hint(check_log_diagnosis([truth.request_id, "repository"], path), r"Expected a dict")
    assert check_log_diagnosis(..., path).status == "not attempted"
    assert check_log_diagnosis({"request_id": ..., "layer": ..., "cause": ...}, path).status == "not attempted"


# --- exercise 3: redaction filter ---------------------------------------------------------------------

SECRET_WORDS = ("password", "token", "secret", "authorization")


def _redacted(name, value):
    if any(word in str(name).lower() for word in SECRET_WORDS):
        return "[REDACTED]"
    if isinstance(value, dict):
        return {key: _redacted(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted("", item) for item in value]
    return value


class NotebookSolution(logging.Filter):
    def filter(self, record):
        for name, value in list(vars(record).items()):
            setattr(record, name, _redacted(name, value))
        return True


class DeepcopyThenScrub(logging.Filter):
    """Copies each value first, then scrubs the copy in place with a regex."""

    pattern = re.compile("password|token|secret|authorization", re.IGNORECASE)

    def _scrub(self, value):
        if isinstance(value, dict):
            for key in value:
                value[key] = "[REDACTED]" if self.pattern.search(str(key)) else self._scrub(value[key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = self._scrub(item)
        return value

    def filter(self, record):
        for name in list(vars(record)):
            if self.pattern.search(name):
                setattr(record, name, "[REDACTED]")
            elif isinstance(getattr(record, name), dict | list):
                setattr(record, name, self._scrub(copy.deepcopy(getattr(record, name))))
        return record  # Python 3.12 style: a record is a true value


RIGHT_FILTERS = [
    ("the notebook's solution", NotebookSolution),
    ("an instance, deepcopy then scrub, a regex", DeepcopyThenScrub()),
]


@pytest.mark.parametrize(("name", "answer"), RIGHT_FILTERS, ids=ids(RIGHT_FILTERS))
def test_redaction_right_answers_pass(name, answer):
    """Mutation that failed this: 'tokenizer' added to the fields that must stay unchanged (an over-strict
    check: both right answers failed)."""
    result = check_redaction_filter(answer)
    assert result.passed, result
    assert "Why it worked" in result.message


def _filter_from(redact):
    class Answer(logging.Filter):
        def filter(self, record):
            return redact(record)

    return Answer


def _case_sensitive(record):
    for name, value in list(vars(record).items()):
        if name in SECRET_WORDS or any(word in name for word in SECRET_WORDS):
            setattr(record, name, "[REDACTED]")
        elif isinstance(value, dict):
            masked = {k: "[REDACTED]" if any(w in k for w in SECRET_WORDS) else v for k, v in value.items()}
            setattr(record, name, masked)
    return True


def _top_level_only(record):
    for name in list(vars(record)):
        if any(word in name.lower() for word in SECRET_WORDS):
            setattr(record, name, "[REDACTED]")
    return True


def _exact_names(record):
    for name in list(vars(record)):
        if name.lower() in SECRET_WORDS:
            setattr(record, name, "[REDACTED]")
    return True


def _mutates_caller(record):
    def scrub(value):
        if isinstance(value, dict):
            for key in value:
                value[key] = "[REDACTED]" if any(w in str(key).lower() for w in SECRET_WORDS) else scrub(value[key])
        elif isinstance(value, list):
            for item in value:
                scrub(item)
        return value

    for name in list(vars(record)):
        if any(word in name.lower() for word in SECRET_WORDS):
            setattr(record, name, "[REDACTED]")
        else:
            scrub(getattr(record, name))
    return True


def _drops_the_line(record):
    return not any(any(w in name.lower() for w in SECRET_WORDS) for name in vars(record))


def _forgets_return(record):
    NotebookSolution().filter(record)


def _deletes_the_field(record):
    for name, value in list(vars(record).items()):
        if any(word in name.lower() for word in SECRET_WORDS):
            delattr(record, name)
        else:
            setattr(record, name, _redacted(name, value))
    return True


def _too_broad(record):
    words = ("pass", "token", "secret", "auth")
    for name in list(vars(record)):
        if any(word in name.lower() for word in words):
            setattr(record, name, "[REDACTED]")
    return NotebookSolution().filter(record)


def _blanks_whole_dicts(record):
    for name, value in list(vars(record).items()):
        if isinstance(value, dict | list) and name not in ("args",):
            setattr(record, name, "[REDACTED]")
    return _top_level_only(record)


def _masks_the_message(record):
    record.msg = "[REDACTED]"
    return NotebookSolution().filter(record)


def _star_out(record):
    """Masks with asterisks instead of the marker the exercise asks for."""
    for name, value in list(vars(record).items()):
        setattr(record, name, "***" if any(w in name.lower() for w in SECRET_WORDS) else _redacted(name, value))
    return True


WRONG_FILTERS = [
    ("only lower-case names", _filter_from(_case_sensitive), r"Authorization.*still contains|in any case"),
    ("the top level only", _filter_from(_top_level_only), r"request body.*still contains 'correct-horse'"),
    ("exact names only", _filter_from(_exact_names), r"contains token.*still contains 'tok_live_51Hx'"),
    ("writes into the caller's dict", _filter_from(_mutates_caller), r"changed the caller's own data"),
    ("drops the line", _filter_from(_drops_the_line), r"Nothing was written.*return True"),
    ("forgets to return", _filter_from(_forgets_return), r"Nothing was written"),
    ("deletes the field", _filter_from(_deletes_the_field), r"should still be there, reading '\[REDACTED\]'"),
    ("too broad: 'pass' matches passport", _filter_from(_too_broad), r"passport_country should still read 'PT'"),
    ("blanks every dict", _filter_from(_blanks_whole_dicts), r"body.email should still read"),
    ("masks the message too", _filter_from(_masks_the_message), r"message itself changed"),
    ("asterisks instead of the marker", _filter_from(_star_out), r"reading '\[REDACTED\]'"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_FILTERS, ids=ids(WRONG_FILTERS))
def test_redaction_wrong_answers_get_their_hint(name, answer, hint):
    """Mutation that failed this: no copy of the caller's dict before logging (`sent = extra`): the filter
    that writes into the caller's dict then passed."""
    assert_hint(check_redaction_filter(answer), hint)


def test_redaction_malformed_and_stub_answers():
    class Stub(logging.Filter):
        def filter(self, record):
            """Redact, then return True."""
            ...

    assert check_redaction_filter(Stub).status == "not attempted"
    assert check_redaction_filter(...).status == "not attempted"
    assert_hint(check_redaction_filter(42), r"class with a method filter")
    assert logging.getLogger("labsupport.check.redaction").handlers == []
