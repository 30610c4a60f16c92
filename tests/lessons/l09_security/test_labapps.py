"""l09_security.labapps: the shop database with secret hashes, and the deliberately vulnerable targets."""

from sqlalchemy import text

from labsupport import servers
from labsupport.lessons.l09_security.labapps import (
    PRODUCTS,
    USERS,
    make_vulnerable_search_app,
    password_hashes,
    shop_engine,
)


def test_recording_engine_sees_sqlalchemy_and_raw_sqlite_statements():
    """Mutation that failed this: _RecordingConnection.cursor without the recording factory (raw cursors unseen)."""
    statements = []
    engine = shop_engine(record=statements)
    with engine.connect() as conn:
        conn.execute(text("SELECT name FROM products WHERE name = :q"), {"q": "secret-term-1"})
    raw = engine.raw_connection()
    raw.cursor().execute("SELECT name FROM products WHERE name = 'secret-term-2'")
    raw.close()
    assert "SELECT name FROM products WHERE name = ?" in statements  # the bound value is not in the SQL
    assert not any("secret-term-1" in s for s in statements)
    assert any("secret-term-2" in s for s in statements)
    engine.dispose()


def test_vulnerable_search_app_leaks_and_shows_database_errors():
    engine = shop_engine()
    server = servers.serve(make_vulnerable_search_app(engine), name="lab-vulnerable-search")
    honest = server.client.get("/search", params={"q": "mug"}).json()
    two_columns = server.client.get("/search", params={"q": "zzz' UNION SELECT email, password_hash FROM users --"})
    leak = server.client.get("/search", params={"q": "zzz' UNION SELECT id, email, password_hash FROM users --"}).json()
    server.stop()
    assert [row["name"] for row in honest] == ["Blue mug", "Red mug"]
    assert two_columns.status_code == 500 and "number of result columns" in two_columns.json()["detail"]
    assert {row["name"]: row["price"] for row in leak} == password_hashes(engine)
    engine.dispose()


def test_shop_engine_has_products_and_fresh_secret_hashes():
    first, second = shop_engine(), shop_engine()
    with first.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM products").scalar() == len(PRODUCTS)
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM users WHERE role = 'admin'").scalar() == 1
    hashes, again = password_hashes(first), password_hashes(second)
    assert list(hashes) == [email for _, email, _ in USERS]
    assert all(h.startswith("$2b$12$") and len(h) == 60 for h in hashes.values())
    assert set(hashes.values()).isdisjoint(again.values())  # new hashes every time: nothing to hard-code
    first.dispose()
    second.dispose()
