"""Shared fixtures. Scopes are deliberate: servers per test (they are cheap, ~3 ms to start and
each test must see a fresh one); nothing is shared between test modules."""

from __future__ import annotations

import matplotlib
import pytest

# Plots render off-screen in the test process. (Not via MPLBACKEND: notebook kernels started by
# nbval inherit the environment and must keep their inline backend.)
matplotlib.use("Agg")


@pytest.fixture
def stop_servers():
    """Stop every lab server a test started, even when it fails."""
    from labsupport import servers

    yield
    servers.stop_all()
