import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from labsupport.lessons.l01_http.checkers import STATUS_CLASSES, check_raw_request, check_status_class
from labsupport.servers import serve

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]


class Note(BaseModel):
    text: str


def notes_app() -> FastAPI:
    """Like the notebook's server: POST /notes with {"text": ...} answers 201."""
    app = FastAPI()

    @app.get("/notes")
    def list_notes():
        return []

    @app.post("/notes", status_code=201)
    def create_note(note: Note):
        return {"id": 1, "text": note.text}

    return app


@pytest.fixture
def notes():
    return serve(notes_app(), name="test-exercises-http")


RIGHT = 'POST /notes HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: 16\n\n{"text": "mine"}'


def hint(result) -> str:
    assert result.status == "failed", result
    return result.message


# --- exercise 1 -------------------------------------------------------------------------------


@pytest.mark.parametrize("request_", [RIGHT, RIGHT + "\n", RIGHT.replace("\n", "\r\n"), RIGHT.encode()])
def test_raw_request_right(notes, request_):
    result = check_raw_request(request_, notes)
    assert result.passed and "201 Created" in result.message


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
    ],
)
def test_raw_request_wrong_answers_get_specific_hints(notes, request_, expected):
    message = hint(check_raw_request(request_, notes))
    assert expected in message


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


def test_status_class_right():
    result = check_status_class(right)
    assert result.passed and "first digit" in result.message
    assert "408 and 429 too" in result.message


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
        (known_codes_only, "status_class(299) raised KeyError"),
        (lambda code: "client error" if code == 299 else right(code), "299 has no name, but its class is still fixed"),
        # "retry later" is not a class: 408 and 429 may be retried, yet they are client errors
        (lambda code: "server error" if code in (408, 429) else right(code),
         "but 408 Request Timeout is 'client error'. A client may retry a 408 unchanged"),
        (lambda code: "server error" if code == 429 else right(code),
         "but 429 Too Many Requests is 'client error'. A client may retry a 429 unchanged (after the server's"),
        (lambda code: STATUS_CLASSES.get(code // 100, "server error"), "(600) returned 'server error', but 600 is not"),
        (lambda code: STATUS_CLASSES[code // 100], "(600) raised KeyError; for a number that is no status code, raise"),
    ],
)
def test_status_class_wrong_answers_get_specific_hints(answer, expected):
    assert expected in hint(check_status_class(answer))
