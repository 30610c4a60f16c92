"""labsupport: the machinery behind the backend-lab notebooks.

A notebook's setup cell imports what it uses from here, e.g.
``from labsupport import serve, stop_all, sql_engine, measure``. Each name lives in a module of
its own (one concept each); this file only re-exports them. It imports nothing heavy itself:
each module is loaded on first use of one of its names (PEP 562), so ``import labsupport`` is
instant and ``python -m labsupport doctor`` still runs when a dependency is broken.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    # servers: run an app on 127.0.0.1 (00-start-here)
    "serve": "servers",
    "stop_all": "servers",
    "running_servers": "servers",
    "Server": "servers",
    "ServerError": "servers",
    # databases and their data (00-start-here)
    "settings": "config",
    "DATA_DIR": "config",
    "sql_engine": "databases",
    "mongo_client": "databases",
    "redis_client": "databases",
    "Bookshop": "datagen",
    "bookshop_rows": "datagen",
    "insert_bookshop": "datagen",
    "load_bookshop": "datagen",
    "orders_for_total": "datagen",
    # measuring and showing (00-start-here)
    "Timing": "measurement",
    "measure": "measurement",
    "compare": "measurement",
    "claim": "claims",
    "Claim": "claims",
    "ClaimNotReproduced": "claims",
    "sweep": "measurement",
    "throughput": "measurement",
    "QueryCounter": "measurement",
    "count_queries": "measurement",
    "bar_chart": "plots",
    "stacked_bar": "plots",
    "stacked_bars": "plots",
    "line_chart": "plots",
    "RequestTrace": "tracing",
    "trace_request": "tracing",
    # exercises (00-start-here)
    "Hint": "checks",
    "Result": "checks",
    "checker": "checks",
    "expect_close": "checks",
    "expect_type": "checks",
    # HTTP on the wire (01-http)
    "raw_request": "wire",
    "build_request": "wire",
    "record": "wire",
    "Exchange": "wire",
    "Exchanges": "wire",
    "WireError": "wire",
    "WireTimeout": "wire",
    # checking an API against expectations (02-rest-api)
    "Expectation": "conformance",
    "Rule": "conformance",
    "Report": "conformance",
    "run_conformance": "conformance",
    # middleware order traces (03-routing-middleware-controllers)
    "traced": "middleware",
    "record_step": "middleware",
    "onion": "middleware",
    # SQL made visible (04-sql)
    "show_sql": "sqlshow",
    "echo_sql": "sqlshow",
    "show_db_error": "sqlshow",
    "db_error_message": "sqlshow",
    # documents and round trips (05-nosql)
    "to_documents": "documents",
    "to_rows": "documents",
    "load_documents": "documents",
    "document_size": "documents",
    "MAX_DOCUMENT_BYTES": "documents",
    "CountingDatabase": "documents",
    "Counts": "documents",
    # normalization (06-normalization)
    "FD": "normalize",
    "holds": "normalize",
    "counterexample": "normalize",
    "find_dependencies": "normalize",
    "closure": "normalize",
    "decompose": "normalize",
    "join_back": "normalize",
    "spurious_rows": "normalize",
    "is_lossless": "normalize",
    "redundant_cells": "normalize",
    "bcnf_violation": "normalize",
    "sqlite_bytes": "normalize",
    # query plans (07-indexing)
    "explain": "plans",
    "Plan": "plans",
    "PlanStep": "plans",
    "BTreeShape": "plans",
    "btree_shape": "plans",
    # forged tokens for the attacks of 08-auth
    "forge_tampered": "attacks",
    "forge_alg_none": "attacks",
    # HTTPS with a throwaway certificate authority (09-security)
    "serve_tls": "tls",
    "trusting_context": "tls",
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
