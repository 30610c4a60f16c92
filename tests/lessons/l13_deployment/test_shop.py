"""Tests for labsupport.lessons.l13_deployment.shop: the deployed app, in process (fast)."""

from __future__ import annotations

import pydantic
import pytest
import sqlalchemy as sa

from labsupport import serve, sql_engine
from labsupport.datagen import load_bookshop
from labsupport.lessons.l13_deployment.outage import DatabaseOutage
from labsupport.lessons.l13_deployment.shop import ShopSettings, cpu_work, create_app, payments

pytestmark = pytest.mark.usefixtures("stop_servers")
KEY = "k" * 40


def test_settings_need_the_url_and_a_long_key_and_check_them():
    """Mutation that failed this: `database_url: str = "sqlite:///shop.db"` (a laptop default)."""
    with pytest.raises(pydantic.ValidationError) as missing:
        ShopSettings(_env_file=None)
    assert {e["loc"][0] for e in missing.value.errors()} == {"database_url", "secret_key"}
    with pytest.raises(pydantic.ValidationError, match="not a database URL"):
        ShopSettings(_env_file=None, database_url="postgres//x", secret_key=KEY)
    with pytest.raises(pydantic.ValidationError, match="secret_key"):
        ShopSettings(_env_file=None, database_url="sqlite://", secret_key="short")
    settings = ShopSettings(_env_file=None, database_url="sqlite://", secret_key=KEY)
    assert KEY not in repr(settings) and settings.log_level == "info"


def test_environment_wins_over_the_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(f"BOOKSHOP_DATABASE_URL=sqlite:///a.db\nBOOKSHOP_SECRET_KEY={KEY}\nBOOKSHOP_CPU_ROUNDS=5\n")
    monkeypatch.setenv("BOOKSHOP_CPU_ROUNDS", "7")
    assert ShopSettings(_env_file=env_file).cpu_rounds == 7


@pytest.fixture
def shop():
    engine = sql_engine()
    load_bookshop(engine, orders=20)
    payments.metadata.create_all(engine)
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(ShopSettings(_env_file=None, database_url=url, secret_key=KEY, payment_delay_s=0))
    yield serve(app, name="l13-test-shop"), engine


def test_probes_sessions_and_payments(shop):
    server, engine = shop
    client = server.client
    assert client.get("/healthz").json() == {"status": "alive"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/books/1").status_code == 200  # the bookshop's own routes are there
    token = client.post("/api/sessions", params={"name": "ada"}).json()["token"]
    me = client.get("/api/sessions/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"name": "ada"} and me.headers["x-worker-pid"].isdigit()
    assert client.get("/api/sessions/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/payments", params={"label": "a"}).status_code == 201
    with engine.connect() as conn:
        assert conn.execute(sa.select(payments.c.label, payments.c.finished)).all() == [("a", True)]
    assert client.get("/api/cpu").json() == {"result": cpu_work(50_000)}


def test_readiness_follows_the_database_of_the_shop(shop):
    """The shop makes its own engine from the URL; an outage of that engine's database is what /readyz sees.
    (Mutation that failed this: /readyz catching only sqlite3.OperationalError: 500 instead of 503 while down.)"""
    server, _ = shop
    with DatabaseOutage(server.app.state.engine):
        assert server.client.get("/readyz").status_code == 503
        assert server.client.get("/healthz").status_code == 200
    assert server.client.get("/readyz").status_code == 200


def test_cpu_work_is_deterministic():
    assert cpu_work(1000) == cpu_work(1000) != cpu_work(1001)
