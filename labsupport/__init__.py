"""labsupport: the machinery behind the backend-lab notebooks.

Two parts. The platform is this package's own modules (servers, databases, measuring, plots,
checks, notebook tooling), which every notebook uses; its public names are re-exported here, e.g.
``from labsupport import serve, stop_all, sql_engine, compare``. Each lesson's own machinery and
checkers live in ``labsupport.lessons.lNN_topic`` (see that package).

This file imports nothing heavy itself: each module is loaded on first use of one of its names
(PEP 562), so ``import labsupport`` is instant and ``python -m labsupport doctor`` still runs
when a dependency is broken.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    # servers: run an app on 127.0.0.1 (00-start-here; HTTPS with serve(ca=...) in 09-security)
    "serve": "servers",
    "stop_all": "servers",
    "Server": "servers",
    "ServerError": "servers",
    "trusting_context": "servers",
    # settings, files and databases (00-start-here)
    "settings": "config",
    "data_file": "paths",
    "checkout_path": "paths",
    "sql_engine": "databases",
    "mongo_client": "databases",
    "redis_client": "databases",
    "postgres_only": "recordings",
    # the bookshop's data (00-start-here)
    "Bookshop": "datagen",
    "bookshop_rows": "datagen",
    "insert_bookshop": "datagen",
    "load_bookshop": "datagen",
    # measuring and showing (00-start-here)
    "compare": "measurement",
    "count_queries": "measurement",
    "claim": "claims",
    "ClaimNotReproduced": "claims",
    "bar_chart": "plots",
    "line_chart": "plots",
    "stacked_bars": "plots",
    "trace_request": "tracing",
    "parse_server_timing": "tracing",
    "HTTP_LAYER": "tracing",
    # exercises (00-start-here)
    "Hint": "checks",
    "checker": "checks",
    "progress": "progress_store",
    # the notebooks themselves
    "contents": "notebooks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'labsupport' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"labsupport.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
