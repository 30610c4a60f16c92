"""Serve an ASGI app over HTTPS on 127.0.0.1 with a throwaway certificate authority.

Introduced in 09-security. `serve_tls(app, name=..., ca=trustme.CA())` is `serve(..., ca=ca)`:
the CA issues a certificate for ``127.0.0.1`` and ``localhost``, written into a temporary
directory that is removed when the server stops; `.client` is a keep-alive httpx client that
trusts exactly that CA, so verification is real, not switched off. Like every lab server it is
replaced when served again under its name and stopped by `stop_all()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labsupport.servers import Server, serve, trusting_context

__all__ = ["serve_tls", "trusting_context"]


def serve_tls(app: Callable[..., Any], name: str = "https", *, ca: Any, **options: Any) -> Server:
    """Start `app` on https://127.0.0.1:<port> with a certificate issued by `ca` (a ``trustme.CA``).

    `options` are those of `serve` (``port``, ``timeout``, ``startup_timeout``).
    """
    if ca is None or not hasattr(ca, "issue_cert"):
        raise TypeError(f"serve_tls() needs ca=trustme.CA(), not {type(ca).__name__}")
    return serve(app, name, ca=ca, **options)
