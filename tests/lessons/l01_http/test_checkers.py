import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from labsupport.lessons.l01_http.checkers import (
    IDEMPOTENT_METHODS,
    STATUS_CLASSES,
    check_raw_request,
    check_request_status_prediction,
    check_should_retry,
    check_status_class,
    retry_expected,
)
from labsupport.servers import serve
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]


class Note(BaseModel):
    text: str
    done: bool = False


def notes_app() -> FastAPI:
    """Like the notebook's server: POST /notes with {"text": ...} answers 201; no DELETE /notes."""
    app = FastAPI()

    @app.get("/notes")
    def list_notes():
        return []

    @app.post("/notes", status_code=201)
    def create_note(note: Note):
        return {"id": 1, "text": note.text, "done": note.done}

    return app


@pytest.fixture
def notes():
    return serve(notes_app(), name="test-exercises-http")


RIGHT = 'POST /notes HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: 16\n\n{"text": "mine"}'


def hint(result) -> str:
    assert result.status == "failed", result
    return result.message


# --- predict, then run ------------------------------------------------------------------------


def test_status_prediction_right(notes):
    """Mutation that failed this: `predicted != actual` in place of `==`."""
    result = check_request_status_prediction(405, notes, "DELETE", "/notes")
    assert result.passed, result
    assert "no route accepts DELETE there" in result.message and "A 404 would say" in result.message


# The typical wrong predictions for DELETE /notes on a server with only GET and POST /notes.
WRONG_PREDICTIONS = [
    ("not-found", 404, r"got 405 Method Not Allowed, not 404\. A 404 says that nothing is at the path"),
    ("deleted-all", 204, r"not 204\. No route of the server handles DELETE /notes, so none of its code ran"),
    ("ok", 200, r"not 200\. No route .* nothing happened"),
    ("bad-request", 400, r"400 is about what the request says .* well formed"),
    ("unprocessable", 422, r"422 is about what the request says"),
    ("forbidden", 403, r"403 is about who is asking .* nobody at all may send DELETE /notes"),
    ("server-error", 500, r"A 5xx says the server failed\. Nothing failed here"),
    ("conflict", 409, r"not 409\. 405 Method Not Allowed is the answer for a path that exists"),
]


@pytest.mark.parametrize("name, predicted, pattern", WRONG_PREDICTIONS, ids=ids(WRONG_PREDICTIONS))
def test_status_prediction_wrong_guesses_get_the_rule_they_missed(notes, name, predicted, pattern):
    """Mutation that failed this: `predicted != actual` in place of `==` passed every wrong guess."""
    assert_hint(check_request_status_prediction(predicted, notes, "DELETE", "/notes"), pattern)


WRONG_TYPES = [
    ("text", "405", r"as a number without quotes, such as 200, not the text '405'"),
    ("name", "Method Not Allowed", r"not the text 'Method Not Allowed'"),
    ("float", 405.0, r"Expected a status code, a number such as 200, but got 405\.0 \(float\)"),
    ("bool", True, r"Expected a status code, .* \(bool\)"),
    ("four-digits", 4050, r"4050 is not a status code: they have three digits"),
    ("class", 4, r"4 is not a status code"),
]


@pytest.mark.parametrize("name, predicted, pattern", WRONG_TYPES, ids=ids(WRONG_TYPES))
def test_status_prediction_wrong_types_get_a_clear_hint(notes, name, predicted, pattern):
    """Mutation that failed this: dropping the str branch and widening the range check to 0-5999
    (text, name, four-digits and class went red)."""
    assert_hint(check_request_status_prediction(predicted, notes, "DELETE", "/notes"), pattern)


def test_status_prediction_not_attempted(notes):
    assert check_request_status_prediction(..., notes, "DELETE", "/notes").status == "not attempted"


def test_status_prediction_asks_the_server_instead_of_assuming_405():
    """The truth is what the server answers now: where a route deletes the collection, 204 is right.
    Mutation that failed this: `actual = 405` in place of asking the server."""
    app = notes_app()

    @app.delete("/notes", status_code=204)
    def delete_all(): ...

    server = serve(app, name="test-exercises-http-delete")
    assert check_request_status_prediction(204, server, "DELETE", "/notes").passed
    assert_hint(
        check_request_status_prediction(405, server, "DELETE", "/notes"),
        r"DELETE /notes got 204 No Content, not 405\. Look again at the route the server has for DELETE /notes",
    )


# --- exercise 1 -------------------------------------------------------------------------------


CHUNKED = (
    "POST /notes HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n"
    '10\r\n{"text": "mine"}\r\n0\r\n\r\n'
)
CAFE = RIGHT.replace("mine", "café")  # 16 characters, 17 bytes


@pytest.mark.parametrize(
    "request_",
    [
        RIGHT,
        RIGHT + "\n",  # a line break typed after the body
        "\n" + RIGHT,  # a """ literal that starts on a new line
        RIGHT.replace("\n", "\r\n"),  # CRLF written out in a str
        RIGHT.replace("\n", "\r\n").encode(),  # bytes, with the CRLF HTTP requires
        RIGHT.replace("Host: 127.0.0.1", "host: localhost"),  # names are case-insensitive; localhost is this host
        RIGHT.replace("application/json", "application/json; charset=utf-8"),
        RIGHT.replace("application/json", "Application/JSON"),  # media types are case-insensitive
        CAFE.replace("16", "17"),  # Content-Length counts bytes, not characters
        CHUNKED,  # no Content-Length: the body is measured by its chunks
    ],
    ids=[
        "lf-str",
        "final-newline",
        "leading-newline",
        "crlf-str",
        "crlf-bytes",
        "localhost",
        "charset",
        "media-type-case",
        "utf8-bytes",
        "chunked",
    ],
)
def test_raw_request_right(notes, request_):
    result = check_raw_request(request_, notes)
    assert result.passed, result
    assert "201 Created" in result.message and "Content-Length" in result.message


def test_raw_request_right_with_the_servers_port(notes):
    result = check_raw_request(RIGHT.replace("Host: 127.0.0.1", f"Host: 127.0.0.1:{notes.port}"), notes)
    assert result.passed, result


@pytest.mark.parametrize(
    "request_, expected",
    [
        # bytes are sent as typed: a lenient server takes bare LF, the lesson teaches CRLF
        (RIGHT.encode(), "lines end with a bare \\n. HTTP requires \\r\\n"),
        (RIGHT.replace("\n", "\r\n", 2).encode(), "lines end with a bare \\n"),
        (RIGHT.replace("Host: 127.0.0.1", "Host: example.com"), "Host: example.com names another site"),
        (RIGHT.replace("Host: 127.0.0.1", "Host: http://127.0.0.1/"), "no http:// and no path"),
        (RIGHT.replace("Host: 127.0.0.1", "Host: 127.0.0.1/notes"), "no http:// and no path"),
        (RIGHT.replace("Host: 127.0.0.1", "Host:"), "the Host header is empty"),
        (RIGHT.replace("Host: 127.0.0.1", "Host: 127.0.0.1:1"), "names port 1, but this server listens on"),
        (RIGHT.replace("HTTP/1.1", "HTTP/1.0"), "the request line says HTTP/1.0"),
        (RIGHT.replace("HTTP/1.1", "HTTP/1.0").replace("Host: 127.0.0.1\n", ""), "says HTTP/1.0"),
        (RIGHT.replace("HTTP/1.1", "HTTP/2.0"), "says HTTP/2.0. This lesson speaks HTTP/1.1"),
        (RIGHT.replace("Length: 16", "Length: 16\nContent-Length: 16"), "Content-Length appears twice"),
        (RIGHT + "   xyz", "Content-Length says 16 but the body has 22 bytes"),
        (RIGHT + '{"text": "more"}', "takes the rest as the start of the next request"),
    ],
    ids=[
        "lf-bytes",
        "mixed-bytes",
        "other-host",
        "host-url",
        "host-path",
        "host-empty",
        "host-port",
        "http10",
        "http10-no-host",
        "http2",
        "cl-twice",
        "trailing-bytes",
        "two-bodies",
    ],
)
def test_raw_request_a_lenient_201_is_not_a_pass(notes, request_, expected):
    """The server answers 201 to all of these; the checker must not.

    Mutation that failed this: `_sloppiness` returning None (every case passed with ✔)."""
    message = hint(check_raw_request(request_, notes))
    assert message.startswith("The server answered 201 Created, but only because it is lenient: ")
    assert expected in message


@pytest.mark.parametrize("request_", [..., "", "  \n"])
def test_raw_request_not_attempted(notes, request_):
    assert check_raw_request(request_, notes).status == "not attempted"


@pytest.mark.parametrize(
    "request_, expected",
    [
        (["POST /notes"], "one string (a str), not a list"),
        (RIGHT.replace("\n\n", "\n") + "\n", "never answered: the server is still waiting for the end of the headers"),
        (RIGHT.replace("\n\n{", "\n{") + "\n\n", "as a header: the body must come after an empty line"),
        (
            RIGHT.replace("Content-Length: 16\n", ""),
            "no Content-Length header, so the server read an empty body: add 'Content-Length: 16'",
        ),
        (RIGHT.replace("Content-Type: application/json\n", ""), "Content-Type header is missing"),
        (RIGHT.replace("application/json", "text/plain"), "Content-Type header says 'text/plain'"),
        (RIGHT.replace("Length: 16", "Length: 10"), "Content-Length says 10 but your body has 16 bytes"),
        (RIGHT.replace("Length: 16", "Length: 30"), "never answered: Content-Length says 30 bytes but the body has 16"),
        (RIGHT.replace('"text"', "'text'"), "not valid JSON"),
        (RIGHT.replace('"text"', '"txt"').replace("16", "15"), "missing the field 'text'"),
        (RIGHT.split("\n\n")[0].replace("Length: 16", "Length: 0") + "\n\n", "needs a JSON body"),
        (RIGHT.replace("POST", "GET", 1), "GET succeeded but created nothing"),
        (RIGHT.replace("POST", "post", 1), "capitals: POST, not post"),
        (RIGHT.replace("POST", "DELETE", 1), "DELETE is not allowed on /notes"),
        (RIGHT.replace("/notes", "/note", 1), "the collection of notes is /notes"),
        (RIGHT.replace("Host: 127.0.0.1\n", ""), "requires a Host header"),
        (RIGHT.replace("POST /notes HTTP/1.1", "POST /notes"), "not a request line: it needs exactly three parts"),
        (RIGHT.replace("HTTP/1.1", "http/1.1"), "not a request line"),
        (RIGHT.replace("Host:", "Host :"), "no space before the colon"),
        (RIGHT.replace("application/json", "text/json"), "Content-Type header says 'text/json'"),
        (RIGHT.replace("application/json", "application/x-www-form-urlencoded"), "Content-Type header says"),
        (CAFE, "Content-Length says 16 but your body has 17 bytes"),  # counted characters, not bytes
        (RIGHT.replace("Length: 16", "Length: 16\nContent-Length: 17"), "'content-length' appears more than once"),
        (RIGHT.replace("Host: 127.0.0.1", "Host: 127.0.0.1\nHost: 127.0.0.1"), "'host' appears more than once"),
        (RIGHT.replace("Length: 16", "Length: sixteen"), "digits only, not 'sixteen'"),
        (RIGHT.replace("Length: 16", "Length: -16"), "digits only, not '-16'"),
        (RIGHT.replace("\n", "\r"), "waiting for the end of the headers"),  # CR alone ends no line
        (RIGHT.replace("POST /notes", "POST /notes/"), "the server redirects to the path without the final slash"),
        (RIGHT.replace("POST /notes", "POST http://127.0.0.1/notes"), "write only the path, POST /notes HTTP/1.1"),
        (RIGHT.replace("POST", "PUT", 1), "PUT is not allowed on /notes"),
    ],
)
def test_raw_request_wrong_answers_get_specific_hints(notes, request_, expected):
    message = hint(check_raw_request(request_, notes))
    assert expected in message


DONE = RIGHT.replace('{"text": "mine"}', '{"text": "mine", "done": true}').replace("Length: 16", "Length: 30")


def test_raw_request_for_a_done_note_right(notes):
    result = check_raw_request(DONE, notes, done=True)
    assert result.passed, result


DONE_WRONG = [
    # the request of section 2 (or the exercise's example), copied unchanged: a note that is not done
    ("copied", RIGHT, r'201 Created with the note \{"id":1,"text":"mine","done":false\}: its "done" is not true'),
    ("done-false", DONE.replace("true", "false").replace("30", "31"), r'its "done" is not true\. Put "done": true'),
    ("python-true", DONE.replace("true", "True"), r"not valid JSON: True is Python\. JSON writes true, false and null"),
    ("python-none", DONE.replace("true", "None"), r"not valid JSON: None is Python"),
    ("true-not-counted", DONE.replace("30", "16"), r"Content-Length says 16 but your body has 30 bytes"),
]


@pytest.mark.parametrize("name, request_, pattern", DONE_WRONG, ids=ids(DONE_WRONG))
def test_raw_request_for_a_done_note_wrong(notes, name, request_, pattern):
    """Mutation that failed this: `if done is None` in place of `is not None` let `copied` pass."""
    assert_hint(check_raw_request(request_, notes, done=True), pattern)


def test_unparsable_request_is_sent_to_the_request_of_section_2(notes):
    """The example requests are in section 2 (section 1 is the server's code).
    Mutation that failed this: the hint naming section 1 again."""
    request_ = RIGHT.replace("Content-Length: 16", "Transfer-Encoding: gzip")
    assert_hint(check_raw_request(request_, notes), r"could not parse the request: .* the POST in section 2\.$")


def test_python_names_inside_json_strings_are_not_blamed(notes):
    """Only a bare True outside quotes is Python: a single-quoted 'True' gets the quotes hint.
    Mutation that failed this: searching the body itself, not `outside_strings`."""
    request_ = RIGHT.replace('{"text": "mine"}', "{'text': 'True'}")
    assert_hint(check_raw_request(request_, notes, done=True), r"keys and text need double quotes")


def test_raw_request_hint_reports_what_came_back(notes):
    message = hint(check_raw_request(RIGHT.replace("POST", "GET", 1), notes))
    assert message.startswith("The server answered HTTP/1.1 200 OK with the body [].")


def test_raw_request_when_server_is_gone(notes):
    server = serve(notes_app(), name="test-exercises-http-gone")
    server.stop()
    assert "nothing is listening" in hint(check_raw_request(RIGHT, server))


# --- exercise 2 -------------------------------------------------------------------------------


def right(code):
    if not 100 <= code <= 599:
        raise ValueError(code)
    return STATUS_CLASSES[code // 100]


def by_first_character(code):
    if len(str(code)) != 3 or str(code)[0] not in "12345":
        raise ValueError(f"{code} is not a status code")
    return {"1": "informational", "2": "success", "3": "redirection", "4": "client error", "5": "server error"}[
        str(code)[0]
    ]


def if_chain(code):
    if code < 100:
        raise ValueError(code)
    if code < 200:
        return "informational"
    if code < 300:
        return "success"
    if code < 400:
        return "redirection"
    if code < 500:
        return "client error"
    if code < 600:
        return "server error"
    raise ValueError(code)


def by_range(code):
    for low, name in zip(range(100, 600, 100), STATUS_CLASSES.values()):
        if code in range(low, low + 100):
            return name
    raise ValueError(f"no class for {code}")


@pytest.mark.parametrize("answer", [right, by_first_character, if_chain, by_range])
def test_status_class_right(answer):
    result = check_status_class(answer)
    assert result.passed and "first digit" in result.message
    assert "408 and 429 too" in result.message


def shifted(low, high, edge):
    """An if-chain whose comparisons are off by one: `edge` is the class boundary compared with <=."""

    def status_class(code):
        if not low <= code <= high:
            raise ValueError(code)
        for bound, name in zip((200, 300, 400, 500, 600), STATUS_CLASSES.values()):
            if code < bound or (bound == edge and code == bound):
                return name
        raise ValueError(code)

    return status_class


@pytest.mark.parametrize(
    "answer, expected",
    [
        (shifted(100, 599, 200), "status_class(200) returned 'informational', but 200 OK is 'success'"),
        (shifted(100, 599, 300), "status_class(300) returned 'success', but 300 Multiple Choices is 'redirection'"),
        (shifted(100, 599, 400), "(400) returned 'redirection', but 400 Bad Request is 'client error'"),
        (shifted(100, 599, 500), "(500) returned 'client error'"),
        (shifted(101, 599, 0), "status_class(100) raised ValueError: 100. 100 is a valid status code: the range"),
        (shifted(100, 598, 0), "status_class(599) raised ValueError: 599. 599 is a valid status code: the range"),
        (shifted(99, 599, 0), "status_class(99) returned 'informational', but 99 is not a status code (just outside"),
        (shifted(100, 600, 0), "status_class(600) raised ValueError"),  # 600 < 600 is false: no class, ValueError
    ],
    ids=["le-200", "le-300", "le-400", "le-500", "from-101", "to-598", "from-99", "to-600"],
)
def test_status_class_off_by_one_ranges(answer, expected):
    """Mutation that failed this: dropping 199/300/399 from _VALID_CODES let `le-300` pass."""
    result = check_status_class(answer)
    if expected.endswith("raised ValueError"):  # to-600 is right in effect: 600 gets ValueError either way
        assert result.passed, result
        return
    message = hint(result)
    assert expected in message
    assert "< against <=" in message


def off_by_one_at_the_top_of_a_class(code):
    if not 100 <= code <= 599:
        raise ValueError(code)
    return STATUS_CLASSES[(code + 1) // 100] if code % 100 == 99 and code < 599 else STATUS_CLASSES[code // 100]


def test_status_class_not_attempted():
    def status_class(code):
        return ...

    assert check_status_class(...).status == "not attempted"
    assert check_status_class(status_class).status == "not attempted"

    def half_done(code):
        if code < 0:
            raise ValueError(code)
        return ...

    assert check_status_class(half_done).status == "not attempted"


def known_codes_only(code):
    return {200: "success", 201: "success", 204: "success", 100: "informational", 101: "informational"}[code]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("success", "should be a function"),
        (lambda code: "success", "but 100 Continue is 'informational'. The first digit decides the class: 1xx."),
        (lambda code: code // 100, "returned 1; return one of the names 'informational', 'success'"),
        (lambda code: right(code).title(), "returned 'Informational': spell the class exactly 'informational'"),
        (lambda code: right(code).replace(" ", "_"), "returned 'client_error': spell the class exactly 'client error'"),
        (lambda code: "ok", "which is not a class"),
        (known_codes_only, "status_class(199) raised KeyError: 199. 199 is a valid status code. It has no name"),
        (lambda code: "client error" if code == 299 else right(code), "299 has no name, but its class is still fixed"),
        # "retry later" is not a class: 408 and 429 may be retried, yet they are client errors
        (
            lambda code: "server error" if code in (408, 429) else right(code),
            "but 408 Request Timeout is 'client error'. A client may retry a 408 unchanged",
        ),
        (
            lambda code: "server error" if code == 429 else right(code),
            "but 429 Too Many Requests is 'client error'. A client may retry a 429 unchanged (after the server's",
        ),
        (lambda code: STATUS_CLASSES.get(code // 100, "server error"), "(99) returned 'server error', but 99 is not"),
        (lambda code: STATUS_CLASSES[code // 100], "(99) raised KeyError; for a number that is no status code, raise"),
        (off_by_one_at_the_top_of_a_class, "status_class(199) returned 'success', but 199 is 'informational'"),
        # only an upper bound: 99 // 100 is 0, 10 // 100 too
        (
            lambda code: STATUS_CLASSES.get(code // 100, "no class") if code < 600 else right(code),
            "status_class(99) returned 'no class', but 99 is not a status code",
        ),
        (lambda code: right(code) if code >= 0 else "client error", "status_class(-1) returned 'client error'"),
        # the first character of the number: 1000 and 1999 start with 1
        (lambda code: right(int(str(code)[:3])) if code > 0 else right(code), "status_class(1000) returned"),
        (lambda code: right(code) if code != 700 else "server error", "status_class(700) returned 'server error'"),
        (lambda code: right(code) if code >= 100 else None, "status_class(99) returned None"),
        (
            lambda code: right(code) if code >= 100 else (_ for _ in ()).throw(TypeError("small")),
            "status_class(99) raised TypeError; for a number that is no status code, raise ValueError",
        ),
    ],
)
def test_status_class_wrong_answers_get_specific_hints(answer, expected):
    assert expected in hint(check_status_class(answer))


# --- exercise 3 -------------------------------------------------------------------------------


def colleagues_should_retry(method, status):
    """The notebook's buggy version: every 5xx for every method, and never 408 or 429."""
    return status >= 500


def should_retry_right(method, status):
    if status in (408, 429):
        return True
    return 500 <= status <= 599 and method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


def should_retry_with_503_for_all(method, status):  # defensible: a 503 usually means "not processed"
    return status in (408, 429, 503) or (status >= 500 and method not in ("POST", "PATCH"))


@pytest.mark.parametrize("answer", [should_retry_right, should_retry_with_503_for_all])
def test_should_retry_right(answer):
    result = check_should_retry(answer)
    assert result.passed, result
    assert "'not now'" in result.message


@pytest.mark.parametrize(
    "answer, expected",
    [
        (colleagues_should_retry, "should_retry('GET', 408) returned False. 408 Request Timeout says 'not now'"),
        (lambda method, status: status >= 500 or status in (408, 429), "should_retry('POST', 500) returned True. POST"),
        (
            lambda method, status: status in (408, 429) or (status >= 500 and method != "POST"),
            "should_retry('PATCH', 500) returned True. PATCH is not idempotent",
        ),
        (
            lambda method, status: status in (408, 429) or (status >= 500 and method in ("GET", "HEAD")),
            "should_retry('OPTIONS', 500) returned False. OPTIONS is idempotent",
        ),
        (
            lambda method, status: status in (408, 429) or (status >= 500 and method in ("GET", "HEAD", "OPTIONS")),
            "should_retry('PUT', 500) returned False. PUT is idempotent",
        ),
        (
            lambda method, status: status == 429 or (status >= 500 and method in IDEMPOTENT_METHODS),
            "should_retry('GET', 408) returned False",
        ),
        (
            lambda method, status: status >= 400 and method in IDEMPOTENT_METHODS,
            "should_retry('GET', 400) returned True. A 400 fails again as long as the request is the same",
        ),
        (
            lambda method, status: (
                status == 429 or status == 408 or status == 404 or (status >= 500 and method in IDEMPOTENT_METHODS)
            ),
            "should_retry('GET', 404) returned True",
        ),
        (lambda method, status: status != 200, "should_retry('GET', 201) returned True. 201 is not a failure"),
        (lambda method, status: method in ("GET", "HEAD"), "should_retry('GET', 200) returned True"),
        (
            lambda method, status: status in (408, 429),
            "should_retry('GET', 500) returned False. GET is idempotent",
        ),
        (
            lambda method, status: (status in (408, 429) or status >= 500) and method != "POST",
            "should_retry('POST', 408) returned False. 408 Request Timeout says 'not now'",
        ),
        (lambda method, status: "retry" if status == 429 else "", "returned '': return True or False"),
        (lambda method, status: int(status in (408, 429)), "returned 0: return True or False"),
        ("no", "should be a function"),
    ],
    ids=[
        "notebook-bugs",
        "post-after-500",
        "patch-after-500",
        "options-not-idempotent",
        "put-not-idempotent",
        "no-408",
        "every-4xx",
        "retries-404",
        "every-non-200",
        "safe-methods-only",
        "no-5xx",
        "not-post-408",
        "strings",
        "ints",
        "string",
    ],
)
def test_should_retry_wrong_answers_get_specific_hints(answer, expected):
    """Mutation that failed this: `retry_expected` returning True for every 5xx let `post-after-500` pass."""
    assert expected in hint(check_should_retry(answer))


def test_should_retry_not_attempted():
    def should_retry(method, status): ...

    assert check_should_retry(should_retry).status == "not attempted"
    assert check_should_retry(lambda method, status: ...).status == "not attempted"


def test_retry_rule_leaves_only_non_idempotent_503_open():
    assert retry_expected("POST", 503) is None and retry_expected("PATCH", 503) is None
    assert retry_expected("PUT", 503) is True and retry_expected("POST", 429) is True
    assert retry_expected("POST", 500) is False and retry_expected("GET", 404) is False
