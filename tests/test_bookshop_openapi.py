"""Property-based tests of the bookshop API from its own OpenAPI schema (schemathesis).

Schemathesis generates requests for every operation from the schema, sends them over real HTTP
to a `serve()`d bookshop, and checks that no response is a server error and that every response
matches what the schema declares (status codes, headers, bodies). A lying schema fails here.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from labsupport.apps.bookshop import create_app
from labsupport.databases import sql_engine
from labsupport.servers import Server, serve


@pytest.fixture(scope="module")
def bookshop() -> Iterator[Server]:
    server = serve(create_app(orders=200), name="bookshop-openapi")
    yield server
    server.stop()


# The schema is read from the app object when the tests are collected (an empty database is
# enough for that); the generated requests go over real HTTP to the served bookshop above.
schema = schemathesis.openapi.from_dict(create_app(sql_engine()).openapi())


@schema.parametrize()
# database=None: Hypothesis would otherwise keep examples in .hypothesis/ inside the repo.
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_bookshop_honours_its_openapi_schema(case, bookshop: Server):
    case.call_and_validate(base_url=bookshop.url, timeout=10)
