import pytest
from fastapi import Depends, FastAPI

from labsupport.crashes import RecordCrashes, describe_exception

pytestmark = pytest.mark.usefixtures("stop_servers")


def crashing_app() -> FastAPI:
    app = FastAPI()

    def broken_guard() -> None:
        raise KeyError("role")

    @app.get("/endpoint")
    def endpoint() -> dict:
        raise ZeroDivisionError("division by zero")

    @app.get("/guarded", dependencies=[Depends(broken_guard)])
    def guarded() -> dict:
        return {}

    @app.get("/fine")
    def fine() -> dict:
        return {"ok": True}

    return app


def test_wrapping_an_app_records_the_exception_before_the_500_is_read(cell_output):
    from labsupport.servers import serve

    recorder = RecordCrashes(crashing_app())
    server = serve(recorder, name="crashes-wrapped")
    response = server.client.get("/endpoint")
    assert response.status_code == 500
    assert [describe_exception(e) for e in recorder.errors] == ["ZeroDivisionError: division by zero"]
    assert server.client.get("/fine").json() == {"ok": True}
    assert len(recorder.errors) == 1
    assert "Traceback" not in cell_output() and "division by zero" not in cell_output()


def test_as_middleware_it_fills_the_given_list():
    from labsupport.servers import serve

    crashes: list[BaseException] = []
    app = crashing_app()
    app.add_middleware(RecordCrashes, errors=crashes)
    server = serve(app, name="crashes-middleware")
    response = server.client.get("/guarded")
    assert (response.status_code, response.text) == (500, "the code under test raised")
    assert [type(e) for e in crashes] == [KeyError]


def test_describe_exception_is_one_short_line():
    assert describe_exception(KeyError("role")) == "KeyError: 'role'"
    assert describe_exception(ValueError()) == "ValueError"
    assert describe_exception(ExceptionGroup("g", [TypeError("inner")])) == "TypeError: inner"
    assert len(describe_exception(ValueError("x" * 1000), limit=50)) == 50

    class Broken(Exception):
        def __str__(self):
            raise RuntimeError

    assert describe_exception(Broken()) == "Broken"


def test_nested_single_groups_are_unwrapped_but_a_group_of_several_is_named():
    """(Mutation that failed this: `if` instead of `while` in describe_exception: the inner
    group was named.)"""
    nested = BaseExceptionGroup("outer", [ExceptionGroup("inner", [KeyError("role")])])
    assert describe_exception(nested) == "KeyError: 'role'"
    several = ExceptionGroup("two errors", [KeyError("a"), ValueError("b")])
    assert describe_exception(several) == "ExceptionGroup: two errors (2 sub-exceptions)"


def test_the_limit_counts_the_whole_line_and_the_ellipsis():
    """(Mutation that failed this: `<` instead of `<=`: a line of exactly `limit` characters was cut.)"""
    assert describe_exception(ValueError("abc"), limit=15) == "ValueError: abc"
    assert describe_exception(ValueError("abc"), limit=14) == "ValueError: a…"
