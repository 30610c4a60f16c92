import asyncio
import socket
import threading
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from labsupport.lessons.l01_http.wire import Exchanges, WireError, WireTimeout, build_request, raw_request, record
from labsupport.servers import serve

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request):
        return {
            "method": request.method,
            "body": (await request.body()).decode(),
            "content_type": request.headers.get("content-type"),
        }

    @app.get("/fixed")
    def fixed():
        return Response(b"hello", media_type="text/plain")

    @app.get("/chunks")
    def chunks():
        return StreamingResponse(iter([b"hello ", b"chunked ", b"world"]), media_type="text/plain")

    @app.get("/big")
    def big():
        return Response(b"y" * 5000, media_type="text/plain")

    @app.api_route("/head", methods=["GET", "HEAD"])
    def head():
        return Response(b"a body HEAD must not read", media_type="text/plain")

    @app.get("/hang")
    async def hang():
        await asyncio.sleep(3600)

    return app


@pytest.fixture
def server():
    return serve(make_app(), name="test-wire")


@contextmanager
def fake_server(behaviour):
    """A bare TCP server on 127.0.0.1 that runs behaviour(connection) for one connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def run():
        connection, _ = listener.accept()
        with connection:
            behaviour(connection)
            done.wait(5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        listener.close()


# --- sending and reading --------------------------------------------------------------------


def test_request_bytes_arrive_exactly_and_response_is_parsed(server):
    request = (
        b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 11\r\n\r\n{"a": "b"}\n'
    )
    exchange = raw_request(server, request)
    assert exchange.request == request
    assert exchange.status == 200 and exchange.reason == "OK" and exchange.version == "HTTP/1.1"
    assert exchange.status_line == "HTTP/1.1 200 OK"
    assert exchange.json() == {"method": "POST", "body": '{"a": "b"}\n', "content_type": "application/json"}
    assert exchange.response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert exchange.response.endswith(b"\r\n\r\n" + exchange.body)
    assert exchange.headers["Content-Length"] == str(len(exchange.body))  # case-insensitive
    assert exchange.elapsed > 0


def test_content_length_response(server):
    exchange = raw_request(server.url, "GET /fixed HTTP/1.1\nHost: x\n\n")
    assert exchange.body == b"hello" and exchange.text == "hello"
    assert exchange.headers["content-length"] == "5"


def test_chunked_response_is_decoded_but_kept_on_the_wire(server):
    exchange = raw_request(server.port, "GET /chunks HTTP/1.1\nHost: x\n\n")
    assert exchange.headers["transfer-encoding"] == "chunked"
    assert exchange.body == b"hello chunked world"
    assert exchange.response.endswith(b"6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n")
    assert "body (chunked)" in repr(exchange)


def test_head_response_has_no_body_to_read(server):
    exchange = raw_request(server, "HEAD /head HTTP/1.1\nHost: x\n\n", timeout=2)
    assert exchange.status == 200
    assert exchange.headers["content-length"] == "25" and exchange.body == b""


def test_str_head_gets_crlf_and_body_is_untouched(server):
    exchange = raw_request(server, '\nPOST /echo HTTP/1.1\nHost: x\r\nContent-Length: 9\n\nline\nnext')
    assert exchange.request == b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nline\nnext"
    assert exchange.json()["body"] == "line\nnext"


def test_bytes_are_sent_as_given(server):
    exchange = raw_request(server, b"GET /fixed HTTP/1.1\nHost: x\n\n")
    assert exchange.request == b"GET /fixed HTTP/1.1\nHost: x\n\n"
    assert "\\n" in repr(exchange).split("── response")[0]  # a bare \n is shown as such


def test_unicode_body_is_utf8(server):
    text = build_request("POST", "/echo", body="café")
    assert "Content-Length: 5" in text
    assert raw_request(server, text).json()["body"] == "café"


def test_request_the_server_rejects_shows_its_400(server):
    exchange = raw_request(server, "NOT A REQUEST\n\n")
    assert exchange.status == 400
    assert exchange.headers["connection"] == "close"


def test_missing_blank_line_times_out_naming_it(server):
    with pytest.raises(WireTimeout, match=r"no response within 0.3 s: .*empty line"):
        raw_request(server, "GET /fixed HTTP/1.1\nHost: x\n", timeout=0.3)


def test_lf_only_request_in_bytes_is_what_h11_accepts_too(server):
    exchange = raw_request(server, b"GET /fixed HTTP/1.1\nHost: x\n\n", timeout=2)
    assert exchange.status == 200


def test_short_body_times_out_naming_content_length(server):
    request = "POST /echo HTTP/1.1\nHost: x\nContent-Length: 20\n\nonly ten b"
    with pytest.raises(WireTimeout, match="Content-Length says 20 bytes but the body has 10"):
        raw_request(server, request, timeout=0.3)


def test_endpoint_that_never_answers_times_out(server):
    with pytest.raises(WireTimeout, match="did not answer: is the endpoint slow or stuck"):
        raw_request(server, "GET /hang HTTP/1.1\nHost: x\n\n", timeout=0.3)


def test_server_that_never_answers_times_out():
    with fake_server(lambda connection: None) as port:
        with pytest.raises(WireTimeout, match="no response within 0.2 s"):
            raw_request(port, "GET / HTTP/1.1\nHost: x\n\n", timeout=0.2)


def test_response_cut_off_times_out_saying_so():
    def half(connection):
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")

    with fake_server(half) as port:
        shown = r"'HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nabc'$"
        with pytest.raises(WireTimeout, match=r"stopped after 42 bytes .*: " + shown):
            raw_request(port, "GET / HTTP/1.1\nHost: x\n\n", timeout=0.3)


def test_server_that_closes_without_answering():
    with fake_server(lambda connection: (connection.recv(100), connection.close())) as port:
        with pytest.raises(WireError, match="closed the connection without answering"):
            raw_request(port, "GET / HTTP/1.1\nHost: x\n\n", timeout=2)


def test_body_until_close_and_interim_responses():
    def old_style(connection):
        connection.recv(100)
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nServer: fake\r\n\r\nuntil close")
        connection.shutdown(socket.SHUT_WR)

    with fake_server(old_style) as port:
        exchange = raw_request(port, "GET / HTTP/1.0\n\n", timeout=2)
    assert exchange.status == 200 and exchange.body == b"until close"
    assert exchange.response.startswith(b"HTTP/1.1 100 Continue\r\n")


def test_answer_that_is_not_http():
    def gibberish(connection):
        connection.recv(100)
        connection.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")

    with fake_server(gibberish) as port:
        with pytest.raises(WireError, match="does not start with an HTTP status line"):
            raw_request(port, "GET / HTTP/1.1\nHost: x\n\n", timeout=2)


def test_nothing_listening():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(WireError, match=f"nothing is listening on 127.0.0.1:{port}"):
        raw_request(port, "GET / HTTP/1.1\n\n")


@pytest.mark.parametrize(
    "target, error, message",
    [
        (True, TypeError, "not a bool"),
        ({"port": 1}, TypeError, "not dict"),
        ("https://127.0.0.1:8000", ValueError, "lab servers only"),
        ("http://example.com:80", ValueError, "lab servers only"),
        ("http://127.0.0.1", ValueError, "lab servers only"),
        (70000, ValueError, "not a TCP port"),
    ],
)
def test_bad_targets(target, error, message):
    with pytest.raises(error, match=message):
        raw_request(target, "GET / HTTP/1.1\n\n")


@pytest.mark.parametrize(
    "request_, timeout, error, message",
    [
        (42, 1, TypeError, "text \\(str\\) or bytes, not int"),
        ("", 1, ValueError, "the request is empty"),
        ("\n\n", 1, ValueError, "the request is empty"),
        ("GET / HTTP/1.1\n\n", 0, ValueError, "positive number"),
        ("GET / HTTP/1.1\n\n", "5", ValueError, "positive number"),
    ],
)
def test_bad_requests_and_timeouts(server, request_, timeout, error, message):
    with pytest.raises(error, match=message):
        raw_request(server, request_, timeout=timeout)


# --- display ----------------------------------------------------------------------------------


def test_display_labels_every_part_and_shows_line_endings(server):
    shown = repr(raw_request(server, build_request("POST", "/echo", json={"a": 1})))
    request, response = shown.split("── response")
    assert "── request: " in request and " bytes sent" in request
    assert "request line │ POST /echo HTTP/1.1\\r\\n" in request
    assert "headers      │ Host: 127.0.0.1\\r\\n" in request
    assert "             │ Content-Type: application/json\\r\\n" in request
    assert "blank line   │ \\r\\n" in request
    assert 'body         │ {"a": 1}' in request
    assert "status line  │ HTTP/1.1 200 OK\\r\\n" in response
    assert "server: uvicorn\\r\\n" in response


def test_display_of_empty_and_long_bodies(server):
    assert "body         │ (empty)" in repr(raw_request(server, "GET /fixed HTTP/1.1\nHost: x\n\n"))
    shown = repr(raw_request(server, "GET /big HTTP/1.1\nHost: x\n\n"))
    assert "… 4,400 more characters" in shown


# --- build_request ----------------------------------------------------------------------------


def test_build_request_writes_a_complete_request():
    assert build_request("GET", "/notes", headers={"Accept": "text/csv"}) == (
        "GET /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/csv\r\n\r\n"
    )
    text = build_request("POST", "/notes", json={"text": "hi"}, headers={"content-type": "application/vnd.x+json"})
    assert text.endswith('content-type: application/vnd.x+json\r\nContent-Length: 14\r\n\r\n{"text": "hi"}')


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (("GET /x", "/"), {}, ValueError, "method must be a word"),
        (("GET", "notes"), {}, ValueError, "starting with '/'"),
        (("GET", "/a b"), {}, ValueError, "without spaces"),
        (("POST", "/"), {"body": "x", "json": {}}, ValueError, "not both"),
        (("POST", "/"), {"body": {"a": 1}}, TypeError, "use json="),
    ],
)
def test_build_request_rejects_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_request(*args, **kwargs)


# --- record -----------------------------------------------------------------------------------


def test_record_table_and_diagram(server):
    with record(server) as exchanges:
        server.client.post("/echo", json={"a": 1})
        server.client.get("/fixed", params={"q": "1"})
        server.client.head("/head")
    assert len(exchanges) == 3 and exchanges[0].request.method == "POST"
    table = exchanges.table()
    assert list(table.columns) == ["method", "path", "status", "content-type", "bytes"]
    assert table.to_dict("records")[1:] == [
        {"method": "GET", "path": "/fixed?q=1", "status": 200, "content-type": "text/plain; charset=utf-8", "bytes": 5},
        {"method": "HEAD", "path": "/head", "status": 200, "content-type": "text/plain; charset=utf-8", "bytes": 0},
    ]
    assert list(table.index) == [1, 2, 3]
    assert repr(exchanges) == repr(table) and "<table" in exchanges._repr_html_()
    assert exchanges.diagram() == "\n".join(
        [
            "client ── POST /echo ───────────────────────────▶ server",
            "client ◀─ 200 OK · application/json · 70 bytes ── server",
            "client ── GET /fixed?q=1 ───────────────────────▶ server",
            "client ◀──────── 200 OK · text/plain · 5 bytes ── server",
            "client ── HEAD /head ───────────────────────────▶ server",
            "client ◀──────── 200 OK · text/plain · 0 bytes ── server",
        ]
    )
    assert repr(exchanges.diagram()) == str(exchanges.diagram())  # shows without quotes


def test_record_removes_its_hooks_and_keeps_failed_requests(server):
    client = httpx.Client(base_url="http://127.0.0.1:1", timeout=1)
    with client, record(client) as exchanges:
        with pytest.raises(httpx.ConnectError):
            client.get("/nowhere")
    assert client.event_hooks == {"request": [], "response": []}
    assert exchanges.table().loc[1, "status"] is pd_na()
    assert exchanges.diagram().splitlines()[1].startswith("client ◀─") and "✘ no response" in exchanges.diagram()
    with record(server) as nothing:
        pass
    assert repr(nothing) == "(no requests were recorded)" == nothing.diagram()
    assert "no requests" in nothing._repr_html_()
    assert server.client.event_hooks == {"request": [], "response": []}


def test_record_streamed_response_unread_uses_content_length(server):
    with record(server) as exchanges:
        with server.client.stream("GET", "/fixed"):
            pass
    assert exchanges.table().loc[1, "bytes"] == 5


def test_record_rejects_other_things():
    with pytest.raises(TypeError, match="synchronous httpx.Client"):
        with record(httpx.AsyncClient()):
            pass
    with pytest.raises(TypeError, match="not str"):
        with record("http://127.0.0.1:8000"):
            pass
    assert isinstance(Exchanges(), Exchanges)


def pd_na():
    import pandas as pd

    return pd.NA
