"""Tests for labsupport.lessons.l13_deployment.outage: the database goes away and comes back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from labsupport import sql_engine
from labsupport.lessons.l13_deployment.outage import DatabaseOutage


def _answers(engine) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    except sa.exc.OperationalError:
        return False


def test_down_then_up_with_the_drivers_own_error():
    """Mutation that failed this: `down()` without `engine.dispose()` (the pooled connection kept answering)."""
    engine = sql_engine()
    outage = DatabaseOutage(engine)
    assert _answers(engine)  # a connection now sits in the pool
    outage.down()
    with pytest.raises(sa.exc.OperationalError, match="unable to open database file|connection refused|failed"):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    outage.up()
    assert _answers(engine)
    with outage:
        assert not _answers(engine)
    assert _answers(engine)
    outage.close()
    outage.down()  # closed: no longer watching the engine's connections
    assert _answers(engine)


def test_the_data_survives_the_outage():
    """The outage cuts the app off; it destroys nothing. (Mutation that failed this: `down()` removing the
    SQLite file instead of detouring new connections.)"""
    engine = sql_engine()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    with DatabaseOutage(engine):
        assert not _answers(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
