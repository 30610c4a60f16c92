"""The bookshop as it is deployed: settings from the environment, health and readiness, worker state.

Introduced in 13-deployment. A process manager imports an app by name, so the deployed app lives in
a module, not in a notebook cell: the image's command (``files/Dockerfile``) runs
``uvicorn labsupport.lessons.l13_deployment.shop:create_app --factory``, and each worker process
calls `create_app()` once, reading its settings from the environment then — a missing or
malformed setting stops the worker at start-up with a message that names it.

Besides the reference bookshop's routes it has what the lesson looks at from outside:

- ``/healthz`` (the process answers) and ``/readyz`` (it can serve: the database answers);
- ``/api/cpu`` — a few milliseconds of pure-Python work per request, to compare 1 and 2 workers;
- ``/api/sessions`` — sessions kept in a dict in the worker's memory, which two workers do not share;
- ``/api/payments`` — a payment: a row written when it starts, a wait for the (pretend) payment
  provider, then the row marked finished: what a shutdown must not lose.

Every response says which process answered (``X-Worker-PID``).
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import FastAPI, Header, Response
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ShopSettings", "cpu_work", "create_app", "payments"]


class ShopSettings(BaseSettings):
    """The shop's configuration, from ``BOOKSHOP_*`` environment variables or a ``.env`` file.

    The environment wins over the file. Two settings have no default on purpose: a default that
    only makes sense on a developer's laptop is how an app "works on my machine" and nowhere else.
    """

    model_config = SettingsConfigDict(env_prefix="BOOKSHOP_", env_file=".env", extra="ignore")

    database_url: str  # required: where the data lives differs on every machine
    secret_key: SecretStr = Field(min_length=32)  # required; SecretStr never prints its value
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    cpu_rounds: int = Field(default=50_000, ge=1, le=10_000_000)  # work per /api/cpu request
    payment_delay_s: float = Field(default=0.5, ge=0, le=10)  # the pretend payment provider's answer time

    @field_validator("database_url")
    @classmethod
    def _is_a_database_url(cls, value: str) -> str:
        try:
            sa.make_url(value)
        except sa.exc.ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///shop.db or postgresql://user@host/db)") from None
        return value


payments_metadata = sa.MetaData()
payments = sa.Table(
    "payments",
    payments_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(50), nullable=False),
    sa.Column("finished", sa.Boolean, nullable=False),
)


def cpu_work(rounds: int) -> int:
    """Pure-Python arithmetic that holds the GIL for the whole call (a stand-in for rendering a PDF)."""
    total = 0
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total


class SayWhichProcess:
    """ASGI middleware: every response names the process that answered (``X-Worker-PID``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.header = (b"x-worker-pid", str(os.getpid()).encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_pid(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_pid if scope["type"] == "http" else send)


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_app(settings: ShopSettings | None = None) -> FastAPI:
    """The deployed bookshop; `settings` default to ``ShopSettings()``, read from the environment now."""
    settings = settings if settings is not None else ShopSettings()  # type: ignore[call-arg]
    from labsupport.apps.bookshop import create_app as create_bookshop  # imported once the settings are right

    engine = sa.create_engine(settings.database_url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _foreign_keys_on)
    app = create_bookshop(engine)
    payments_metadata.create_all(engine)
    sessions: dict[str, str] = {}  # token -> name, in THIS process's memory only

    app.add_middleware(SayWhichProcess)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz(response: Response) -> dict[str, str]:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            response.status_code = 503
            return {"status": "not ready", "database": "unreachable"}
        return {"status": "ready"}

    @app.get("/api/cpu")
    def cpu() -> dict[str, int]:
        return {"result": cpu_work(settings.cpu_rounds)}

    @app.post("/api/sessions", status_code=201)
    def log_in(name: str) -> dict[str, str]:
        token = secrets.token_hex(16)
        sessions[token] = name
        return {"token": token}

    @app.get("/api/sessions/me")
    def who_am_i(response: Response, authorization: Annotated[str, Header()] = "") -> dict[str, str]:
        name = sessions.get(authorization.removeprefix("Bearer "))
        if name is None:
            response.status_code = 401
            return {"error": "unknown session"}
        return {"name": name}

    @app.post("/api/payments", status_code=201)
    def pay(label: str) -> dict[str, int]:
        with engine.begin() as conn:  # the payment starts: written down at once, in the shared database
            new = conn.execute(sa.insert(payments).values(label=label, finished=False).returning(payments.c.id))
            payment_id = new.scalar_one()
        time.sleep(settings.payment_delay_s)  # waiting for the payment provider
        with engine.begin() as conn:
            conn.execute(sa.update(payments).where(payments.c.id == payment_id).values(finished=True))
        return {"id": payment_id}

    return app
