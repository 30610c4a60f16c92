"""HTTP on the wire: the exact bytes of a request and its response, and a recorder of exchanges.

Introduced in 01-http.

- `raw_request(server, text)` sends a request the student typed, byte for byte, over a plain
  TCP socket to a lab server on 127.0.0.1 and returns an `Exchange`: both messages as bytes,
  plus the parsed status, headers and body. It displays both messages with their line endings
  made visible (``\\r\\n``) and their parts labelled (request line, headers, blank line, body;
  status line). A request typed with plain newlines gets its head (up to the blank line)
  converted to CRLF, because a Python string literal cannot show a ``\\r``; nothing else is
  added. Bytes are sent exactly as given. A request the server waits on forever (no blank
  line, a Content-Length larger than the body) ends in a `WireTimeout` that names the likely
  cause, never a hang.
- `build_request(...)` writes such a request for you, with a correct ``Content-Length``.
- `record(client)` records the requests an `httpx.Client` sends inside a ``with`` block; the
  result shows as a table (method, path, status, content type, bytes) and `.diagram()` draws a
  text sequence diagram. Later notebooks use it to show which requests a cell made.
"""

from __future__ import annotations

import json as jsonlib
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Exchange",
    "WireError",
    "WireTimeout",
    "raw_request",
    "build_request",
    "Recorded",
    "Exchanges",
    "SequenceDiagram",
    "record",
]

HOST = "127.0.0.1"
_LOCAL_NAMES = {"127.0.0.1", "localhost"}
_MAX_BODY_SHOWN = 600  # characters of a body shown in an Exchange's display
_LABEL_WIDTH = 12  # len("request line")


class WireError(Exception):
    """A raw request could not be sent or its response could not be read; the message says why."""


class WireTimeout(WireError, TimeoutError):
    """The server did not send a complete response in time; the message names the likely cause."""


# ---------------------------------------------------------------------------------------------
# Sending a raw request


@dataclass(frozen=True, repr=False)
class Exchange:
    """One request and its response, as bytes on the wire and parsed. Made by `raw_request`.

    ``request`` and ``response`` are the exact bytes sent and received; ``body`` is the
    response body with any chunked transfer coding removed; ``headers`` is case-insensitive.
    """

    request: bytes
    response: bytes
    version: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    elapsed: float  # seconds from sending to the last byte of the response

    @property
    def status_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}".rstrip()

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes shown as escapes)."""
        return self.body.decode("utf-8", errors="backslashreplace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    def __repr__(self) -> str:
        return "\n".join(
            [
                f"── request: {len(self.request)} bytes sent " + "─" * 30,
                *_describe_message(self.request, "request line"),
                f"── response: {len(self.response)} bytes received " + "─" * 26,
                *_describe_message(self.response, "status line", chunked=_is_chunked(self.headers)),
            ]
        )


def raw_request(target: Any, request: str | bytes, *, timeout: float = 5.0) -> Exchange:
    """Send `request` over a new TCP connection to a lab server and read one response.

    `target` is a server from `serve()`, a URL such as ``"http://127.0.0.1:8000"`` or a port
    number; only 127.0.0.1 is reachable. A `str` request has the line endings of its head (up
    to and including the first empty line) turned into CRLF and is encoded as UTF-8; leading
    empty lines (from a ``\"\"\"`` literal that starts on a new line) are dropped. `bytes` are
    sent exactly as given. `timeout` (seconds) bounds the whole exchange.
    """
    port = _port_of(target)
    data = _to_bytes(request)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    method = data.split(b" ", 1)[0].upper()
    start = time.perf_counter()
    deadline = start + timeout
    try:
        sock = socket.create_connection((HOST, port), timeout=timeout)
    except ConnectionRefusedError:
        raise WireError(
            f"nothing is listening on {HOST}:{port}: is the server running? (Stopped, or replaced "
            "by running its cell again? Then use the new server object.)"
        ) from None
    except TimeoutError:
        raise WireTimeout(f"could not connect to {HOST}:{port} within {timeout} s") from None
    with sock:
        sock.sendall(data)
        reader = _Reader(sock, deadline, data, timeout)
        return _read_exchange(reader, data, method, start)


def build_request(
    method: str,
    target: str,
    *,
    host: str = HOST,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    json: Any = None,
) -> str:
    """A well-formed HTTP/1.1 request as text, ready for `raw_request` (or to read).

    Writes the request line, a ``Host`` header, your `headers`, and for a body its
    ``Content-Length`` in bytes (and ``Content-Type: application/json`` for `json`, unless your
    headers set a content type), then the blank line and the body.
    """
    if not isinstance(method, str) or not method.isalpha():
        raise ValueError(f"method must be a word such as 'GET' or 'POST', not {method!r}")
    if not isinstance(target, str) or not target.startswith("/") or any(c.isspace() for c in target):
        raise ValueError(f"target must be a path starting with '/' and without spaces, not {target!r}")
    if body is not None and json is not None:
        raise ValueError("give either body= (text) or json= (a value to encode), not both")
    if body is not None and not isinstance(body, str):
        raise TypeError(f"body must be text (str); for a dict or list use json=, not {type(body).__name__}")
    fields = {"Host": host, **dict(headers or {})}
    if json is not None:
        body = jsonlib.dumps(json)
        if not any(name.lower() == "content-type" for name in fields):
            fields["Content-Type"] = "application/json"
    if body is not None:
        fields["Content-Length"] = str(len(body.encode("utf-8")))
    head = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in fields.items())]
    return "\r\n".join(head) + "\r\n\r\n" + (body or "")


def _port_of(target: Any) -> int:
    if isinstance(target, bool):
        raise TypeError("raw_request() needs a server, a URL or a port number, not a bool")
    if isinstance(target, int):
        port = target
    elif isinstance(target, str):
        parts = urlsplit(target)
        if parts.scheme != "http" or parts.hostname not in _LOCAL_NAMES or parts.port is None:
            raise ValueError(
                f"raw_request() reaches lab servers only: a URL like 'http://127.0.0.1:8000', not {target!r}"
            )
        port = parts.port
    elif isinstance(getattr(target, "port", None), int) and isinstance(getattr(target, "url", None), str):
        if urlsplit(target.url).hostname not in _LOCAL_NAMES:
            raise ValueError(f"raw_request() reaches lab servers on {HOST} only, not {target.url}")
        port = target.port
    else:
        raise TypeError(
            f"raw_request() needs a server from serve(), a URL or a port number, not {type(target).__name__}"
        )
    if not 0 < port < 65536:
        raise ValueError(f"{port} is not a TCP port number (1-65535)")
    return port


def _to_bytes(request: object) -> bytes:
    if isinstance(request, (bytes, bytearray)):
        data = bytes(request)
    elif isinstance(request, str):
        data = _normalise(request).encode("utf-8")
    else:
        raise TypeError(f"the request must be text (str) or bytes, not {type(request).__name__}")
    if not data.strip():
        raise ValueError("the request is empty: start with a request line such as 'GET / HTTP/1.1'")
    return data


def _normalise(text: str) -> str:
    """CRLF line endings in the head (up to and including the first empty line); body untouched."""
    text = text.lstrip("\r\n")
    lines = text.split("\n")  # the last item follows the last newline: not a line of its own
    for number, line in enumerate(lines[:-1]):
        if line.rstrip("\r") == "":  # the blank line that ends the head
            head = [part.rstrip("\r") for part in lines[:number]]
            return "\r\n".join(head) + "\r\n\r\n" + "\n".join(lines[number + 1 :])
    return "\r\n".join(part.rstrip("\r") for part in lines)  # no blank line: sent without one


class _Reader:
    """Reads from the socket until a deadline, explaining a timeout by what was sent."""

    def __init__(self, sock: socket.socket, deadline: float, sent: bytes, timeout: float) -> None:
        self.sock, self.deadline, self.sent, self.timeout = sock, deadline, sent, timeout
        self.buffer = b""  # received, not yet consumed
        self.received = b""  # everything received
        self.closed = False

    def _fill(self) -> bool:
        """Receive more bytes; False once the server has closed the connection."""
        if self.closed:
            return False
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            self._timed_out()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            self._timed_out()
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buffer += chunk
        self.received += chunk
        return True

    def until(self, marker: bytes, what: str) -> bytes:
        """Consume and return the bytes up to and including `marker`."""
        while marker not in self.buffer:
            if not self._fill():
                self._closed_early(what)
        index = self.buffer.index(marker) + len(marker)
        part, self.buffer = self.buffer[:index], self.buffer[index:]
        return part

    def exactly(self, size: int, what: str) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                self._closed_early(what)
        part, self.buffer = self.buffer[:size], self.buffer[size:]
        return part

    def rest(self) -> bytes:
        while self._fill():
            pass
        part, self.buffer = self.buffer, b""
        return part

    def _closed_early(self, what: str) -> None:
        if not self.received:
            raise WireError(
                f"the server closed the connection without answering (while waiting for {what}). "
                "Is the request line right: METHOD /path HTTP/1.1?"
            )
        raise WireError(
            f"the server closed the connection in the middle of {what}, "
            f"after {len(self.received)} bytes: {_preview(self.received)}"
        )

    def _timed_out(self) -> None:
        if self.received:
            raise WireTimeout(
                f"the response stopped after {len(self.received)} bytes and nothing more came "
                f"within {self.timeout} s: {_preview(self.received)}"
            )
        raise WireTimeout(f"no response within {self.timeout} s: {_diagnose_silence(self.sent)}")


def _diagnose_silence(sent: bytes) -> str:
    """Why would a server wait instead of answering? Usually it is still reading the request."""
    end = sent.find(b"\r\n\r\n")
    if end < 0:
        if b"\n\n" in sent:
            return (
                "the server is still waiting for the end of the headers: they end with an "
                "empty line written \\r\\n\\r\\n, and this request has bare \\n line endings."
            )
        return (
            "the server is still waiting for the end of the headers: a request's headers end "
            "with an empty line (\\r\\n\\r\\n), and this request has none."
        )
    head = httpx.Headers(_parse_fields(sent[:end].split(b"\r\n")[1:]))
    body = len(sent) - end - 4
    declared = head.get("content-length", "")
    if declared.isdigit() and int(declared) > body:
        return (
            f"Content-Length says {declared} bytes but the body has {body}: the server is "
            f"waiting for the other {int(declared) - body}."
        )
    return "the server received a complete request but did not answer: is the endpoint slow or stuck?"


def _preview(data: bytes, limit: int = 80) -> str:
    text = _visible(data.decode("utf-8", errors="backslashreplace"))
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def _parse_fields(lines: list[bytes]) -> list[tuple[str, str]]:
    fields = []
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        fields.append((name.strip(), value.strip()))
    return fields


def _read_exchange(reader: _Reader, sent: bytes, method: bytes, start: float) -> Exchange:
    while True:
        head = reader.until(b"\r\n\r\n", "the response's status line and headers")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        version, _, rest = status_line.decode("latin-1").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not (code.isdigit() and len(code) == 3):
            raise WireError(f"the answer does not start with an HTTP status line: {_preview(reader.received)}")
        status = int(code)
        if not 100 <= status < 200 or status == 101:
            break  # interim 1xx responses (100 Continue) are followed by the real one
    headers = httpx.Headers(_parse_fields(header_lines))
    if method == b"HEAD" or status in (101, 204, 304):
        body = b""
    elif _is_chunked(headers):
        body = _read_chunked(reader)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise WireError(f"the response has an invalid Content-Length: {length!r}")
        body = reader.exactly(int(length), "the response body")
    else:
        body = reader.rest()  # no length given: the body ends when the server closes
    elapsed = time.perf_counter() - start
    response = reader.received[: len(reader.received) - len(reader.buffer)]
    return Exchange(sent, response, version, status, reason, headers, body, elapsed)


def _is_chunked(headers: httpx.Headers) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


def _read_chunked(reader: _Reader) -> bytes:
    body = b""
    while True:
        size_line = reader.until(b"\r\n", "a chunk size").strip()
        try:
            size = int(size_line.split(b";", 1)[0], 16)
        except ValueError:
            raise WireError(f"invalid chunk size in the response: {size_line!r}") from None
        if size == 0:
            while reader.until(b"\r\n", "the end of the chunked body") != b"\r\n":
                pass  # trailer fields, rarely sent
            return body
        body += reader.exactly(size + 2, "a chunk")[:-2]


# ---------------------------------------------------------------------------------------------
# Showing a message


def _visible(text: str) -> str:
    """Line endings and other control characters written out, as in a Python string literal."""
    out = []
    for char in text:
        if char == "\r":
            out.append("\\r")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _split_lines(text: str) -> list[str]:
    """Lines with their endings kept, each ending shown (so a bare \\n stands out)."""
    return [line for line in text.splitlines(keepends=True) if line]


def _describe_message(data: bytes, first_label: str, *, chunked: bool = False) -> list[str]:
    text = data.decode("utf-8", errors="backslashreplace")
    ends = [i for i in (text.find("\r\n\r\n"), text.find("\n\n")) if i >= 0]
    if ends:
        end = min(ends)
        separator = "\r\n\r\n" if text.startswith("\r\n\r\n", end) else "\n\n"
        head = text[: end + len(separator) // 2]
        blank = separator[len(separator) // 2 :]
        body = text[end + len(separator) :]
    else:
        head, blank, body = text, "", ""
    rows: list[tuple[str, str]] = []
    for number, line in enumerate(_split_lines(head)):
        rows.append((first_label if number == 0 else "headers" if number == 1 else "", _visible(line)))
    if blank:
        rows.append(("blank line", _visible(blank)))
    else:
        rows.append(("", "(no blank line: the headers never end)"))
    label = "body (chunked)" if chunked else "body"
    if not body:
        rows.append((label, "(empty)"))
    else:
        shown = body if len(body) <= _MAX_BODY_SHOWN else body[:_MAX_BODY_SHOWN]
        for number, line in enumerate(_split_lines(shown)):
            rows.append((label if number == 0 else "", _visible(line)))
        if len(body) > _MAX_BODY_SHOWN:
            rows.append(("", f"… {len(body) - _MAX_BODY_SHOWN:,} more characters"))
    width = max(_LABEL_WIDTH, len(label))
    return [f"{name:<{width}} │ {line}" for name, line in rows]


# ---------------------------------------------------------------------------------------------
# Recording the exchanges of an httpx client


@dataclass
class Recorded:
    """One request an `httpx.Client` sent inside `record`, and its response (None if it failed)."""

    request: httpx.Request
    response: httpx.Response | None = None

    def row(self) -> dict[str, Any]:
        response = self.response
        return {
            "method": self.request.method,
            "path": self.request.url.raw_path.decode("ascii", errors="replace"),
            "status": response.status_code if response is not None else None,
            "content-type": response.headers.get("content-type", "") if response is not None else "",
            "bytes": _body_size(response),
        }


def _body_size(response: httpx.Response | None) -> int | None:
    if response is None:
        return None
    try:
        return len(response.content)
    except httpx.ResponseNotRead:  # a streamed response nobody read: trust the header
        length = response.headers.get("content-length", "")
        return int(length) if length.isdigit() else None


class SequenceDiagram(str):
    """A text sequence diagram; displays as itself (no quotes) in a notebook."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(repr=False)
class Exchanges(Sequence[Recorded]):
    """The exchanges recorded by `record`, in order; shows as a table, `.diagram()` as arrows."""

    items: list[Recorded] = field(default_factory=list)

    @overload
    def __getitem__(self, index: int) -> Recorded: ...
    @overload
    def __getitem__(self, index: slice) -> list[Recorded]: ...
    def __getitem__(self, index: int | slice) -> Recorded | list[Recorded]:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def table(self) -> pd.DataFrame:
        """One row per exchange: method, path, status, content-type, bytes (of the response body)."""
        import pandas as pd

        columns = ["method", "path", "status", "content-type", "bytes"]
        frame = pd.DataFrame([item.row() for item in self.items], columns=columns)
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame.astype({"status": "Int64", "bytes": "Int64"})

    def diagram(self, client: str = "client", server: str = "server") -> SequenceDiagram:
        """Each request as an arrow to the server, each response as an arrow back."""
        arrows: list[tuple[str, str]] = []
        for item in self.items:
            row = item.row()
            arrows.append(("▶", f"{row['method']} {row['path']}"))
            if item.response is None:
                arrows.append(("◀", "✘ no response"))
            else:
                parts = [f"{row['status']} {item.response.reason_phrase}".rstrip()]
                if row["content-type"]:
                    parts.append(row["content-type"].split(";")[0])
                if row["bytes"] is not None:
                    parts.append(f"{row['bytes']} bytes")
                arrows.append(("◀", " · ".join(parts)))
        if not arrows:
            return SequenceDiagram("(no requests were recorded)")
        width = max(len(label) for _, label in arrows) + 6
        lines = []
        for direction, label in arrows:
            if direction == "▶":
                line = f"── {label} ".ljust(width - 1, "─") + "▶"
            else:
                line = "◀" + f" {label} ──".rjust(width - 1, "─")
            lines.append(f"{client} {line} {server}")
        return SequenceDiagram("\n".join(lines))

    def __repr__(self) -> str:
        if not self.items:
            return "(no requests were recorded)"
        return repr(self.table())

    def _repr_html_(self) -> str:
        if not self.items:
            return "<p>(no requests were recorded)</p>"
        # Jupyter's own rendering of the frame; pandas-stubs leaves this (private) method out.
        return self.table()._repr_html_()  # type: ignore[operator]


@contextmanager
def record(client: Any) -> Iterator[Exchanges]:
    """Record every request `client` sends inside the ``with`` block, and its response.

    `client` is an `httpx.Client` or a server from `serve()` (its ``.client`` is used)::

        with record(server) as exchanges:
            server.client.post("/notes", json={"text": "hi"})
        exchanges             # a table: method, path, status, content-type, bytes
        exchanges.diagram()   # client ── POST /notes ──▶ server ...

    Uses httpx event hooks, removed again when the block ends.
    """
    http = getattr(client, "client", client)
    if isinstance(http, httpx.AsyncClient):
        raise TypeError("record() works with a synchronous httpx.Client, not an AsyncClient")
    if not isinstance(http, httpx.Client):
        raise TypeError(f"record() needs an httpx.Client or a server from serve(), not {type(client).__name__}")
    exchanges = Exchanges()

    def on_request(request: httpx.Request) -> None:
        exchanges.items.append(Recorded(request))

    def on_response(response: httpx.Response) -> None:
        for item in reversed(exchanges.items):
            if item.request is response.request:
                item.response = response
                return

    hooks = http.event_hooks
    hooks["request"].append(on_request)
    hooks["response"].append(on_response)
    try:
        yield exchanges
    finally:
        hooks["request"].remove(on_request)
        hooks["response"].remove(on_response)
