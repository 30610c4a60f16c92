"""labsupport.tls: an HTTPS lab server whose certificate only a client trusting its CA accepts."""

import socket
from pathlib import Path

import httpx
import pytest
import trustme
from fastapi import FastAPI

from labsupport.servers import ServerError
from labsupport.tls import serve_tls, trusting_context


def make_app():
    app = FastAPI()

    @app.get("/")
    def root():
        return {"ok": True}

    return app


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def test_serves_https_to_a_client_that_trusts_the_ca(ca):
    with serve_tls(make_app(), name="t", ca=ca) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.running
        assert server.client.get("/").json() == {"ok": True}
        assert "running" in repr(server)


def test_default_trust_store_and_other_cas_are_refused(ca):
    with serve_tls(make_app(), name="t", ca=ca) as server:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(server.url, timeout=5)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(server.url, verify=trusting_context(trustme.CA()), timeout=5)
        # verify=False accepts it: the point the notebook makes.
        assert httpx.get(server.url, verify=False, timeout=5).json() == {"ok": True}


def test_stop_closes_port_client_and_certificate_files(ca):
    server = serve_tls(make_app(), name="t", ca=ca)
    certdir = Path(server._certdir.name)
    assert any(certdir.iterdir())
    server.stop()
    server.stop()  # twice is fine
    assert not server.running and "stopped" in repr(server)
    assert not certdir.exists()
    assert server.client.is_closed
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, verify=trusting_context(ca), timeout=2)


def test_port_taken_is_a_plain_error(ca):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"cannot listen on 127.0.0.1:{port}.*port=0"):
            serve_tls(make_app(), name="t", ca=ca, port=port)


def test_bad_arguments_are_plain_errors(ca):
    with pytest.raises(TypeError, match="ASGI app"):
        serve_tls("app", ca=ca)
    with pytest.raises(TypeError, match="trustme.CA"):
        serve_tls(make_app(), ca="my-ca.pem")
