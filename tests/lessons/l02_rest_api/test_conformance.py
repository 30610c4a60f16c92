"""labsupport.lessons.l02_rest_api.conformance: passing and failing apps, crashes, dependent paths, bad input."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Response

from labsupport.lessons.l02_rest_api.conformance import Expectation, Report, Rule, app_routes, run_conformance
from labsupport.servers import running_servers, serve

pytestmark = pytest.mark.usefixtures("stop_servers")


def notes_app(*, wrong: bool = False, crash: bool = False) -> FastAPI:
    """A tiny notes API; `wrong` gets three things wrong, `crash` makes reading a note raise."""
    app = FastAPI()
    notes: dict[int, dict] = {}

    @app.post("/api/notes", status_code=200 if wrong else 201)
    def create(note: dict, response: Response):
        note_id = len(notes) + 1
        notes[note_id] = {"id": note_id, **note}
        if not wrong:
            response.headers["Location"] = f"http://127.0.0.1:1/api/notes/{note_id}"
        return notes[note_id]

    @app.get("/api/notes/{note_id}")
    def read(note_id: int):
        if crash:
            return 1 / 0
        if note_id not in notes:
            return {"error": "not found"} if wrong else Response(status_code=404)
        return notes[note_id]

    return app


NOTE = {"text": "buy milk"}
EXPECTATIONS = [
    Expectation("create a note", "POST", "/api/notes", json=NOTE, expect_status=201,
                remember="note", hint="Answer 201 Created."),
    Expectation("read it back", "GET", "{note}", expect={"text": "buy milk"}, hint="Return the note."),
    Expectation("missing is 404", "GET", "/api/notes/99", expect_status=404, hint="Raise a 404."),
]


def test_an_app_that_meets_every_expectation():
    report = run_conformance(notes_app(), EXPECTATIONS)
    assert report.passed
    assert report.failures == []
    assert str(report) == "All 3 expectations met."
    assert [outcome.request for outcome in report.outcomes] == [
        'POST /api/notes {"text": "buy milk"}',  # absolute Location became a path
        "GET /api/notes/1",
        "GET /api/notes/99",
    ]


def test_each_failure_is_listed_with_request_expected_got_and_hint():
    report = run_conformance(notes_app(wrong=True), EXPECTATIONS)
    assert not report.passed
    assert str(report) == (
        "3 of 3 expectations failed:\n"
        "\n"
        "✘ create a note\n"
        '  sent:     POST /api/notes {"text": "buy milk"}\n'
        "  expected: status 201\n"
        '  got:      200 {"id": 1, "text": "buy milk"}\n'
        "  hint:     Answer 201 Created.\n"
        "\n"
        "✘ read it back\n"
        "  sent:     GET {note}\n"
        "  expected: the URL remembered as {note} (the Location of an earlier response)\n"
        "  got:      skipped: the earlier response had no Location header\n"
        "  hint:     Fix the expectation that creates it first (it must send a Location header).\n"
        "\n"
        "✘ missing is 404\n"
        "  sent:     GET /api/notes/99\n"
        "  expected: status 404\n"
        '  got:      200 {"error": "not found"}\n'
        "  hint:     Raise a 404."
    )
    assert repr(report) == str(report)


def test_the_report_is_deterministic():
    first = str(run_conformance(notes_app(wrong=True), EXPECTATIONS))
    assert str(run_conformance(notes_app(wrong=True), EXPECTATIONS)) == first


def test_a_crashing_endpoint_is_a_500_named_by_its_exception(cell_output):
    report = run_conformance(notes_app(crash=True), EXPECTATIONS)
    failure = report.failures[0]
    assert failure.expectation.name == "read it back"
    assert failure.got == "500 (your code raised ZeroDivisionError: division by zero)"
    assert failure.expected == "status 200"
    assert "Traceback" not in cell_output() and "division by zero" not in cell_output()


def test_json_subset_and_callable_checks():
    def has_id(response):
        return None if "id" in response.json() else "an id in the body"

    expectations = [
        Expectation("subset", "POST", "/api/notes", json=NOTE, expect_status=201,
                    expect={"text": "something else"}),
        Expectation("callable", "POST", "/api/notes", json=NOTE, expect_status=(200, 201), expect=has_id),
        Expectation("callable fails", "POST", "/api/notes", json=NOTE, expect_status=201,
                    expect=lambda r: "a body without an id"),
        Expectation("not JSON", "GET", "/api/notes/99", expect_status=404, expect=has_id),
    ]
    report = run_conformance(notes_app(), expectations)
    assert [o.passed for o in report.outcomes] == [False, True, False, False]
    assert report.outcomes[0].expected == 'a JSON body containing {"text": "something else"}'
    assert report.outcomes[2].expected == "a body without an id"
    assert report.outcomes[3].expected == "a JSON body"
    assert report.outcomes[3].got == "404 (empty body)"


def test_a_rule_applies_to_every_response():
    rule = Rule("no ids", lambda r: "no id in the body" if "id" in r.text else None, hint="Hide ids.")
    report = run_conformance(notes_app(), EXPECTATIONS, rules=[rule])
    assert [o.passed for o in report.outcomes] == [False, False, True]
    assert report.failures[0].expected == "no id in the body (rule: no ids)"
    assert report.failures[0].hint == "Hide ids."


def test_a_running_server_is_used_and_left_running():
    server = serve(notes_app(), name="notes")
    report = run_conformance(server, EXPECTATIONS)
    assert report.passed
    assert server.running


def test_the_server_it_starts_is_stopped_afterwards():
    run_conformance(notes_app(), EXPECTATIONS)
    assert running_servers() == []


def test_not_an_app_gives_a_plain_message():
    with pytest.raises(TypeError, match="expected a FastAPI app .* not int"):
        run_conformance(42, EXPECTATIONS)


def test_a_function_that_builds_the_app_is_named_in_the_message():
    def build_app():
        return notes_app()

    with pytest.raises(TypeError, match=r"build_app is not an ASGI app.*pass its result: build_app\(\)"):
        run_conformance(build_app, EXPECTATIONS)


def test_expectations_must_be_expectations():
    with pytest.raises(TypeError, match="needs Expectation objects, not dict"):
        run_conformance(notes_app(), [{"method": "GET"}])


def test_app_routes_lists_declared_routes_without_the_docs():
    app = notes_app()
    assert app_routes(app) == [("POST", "/api/notes"), ("GET", "/api/notes/{note_id}")]
    assert app_routes(FastAPI()) == []


def test_an_empty_report_passes():
    assert Report().passed
    assert str(Report()) == "All 0 expectations met."
