"""Tests for labsupport.lessons.l10_errors_logging.failing_run: the failing run's log and its truth."""

from __future__ import annotations

import json
import logging

import pytest

from labsupport.lessons.l10_errors_logging.failing_run import CAUSES, LAYERS, failing_run, truth_of
from labsupport.servers import running_servers

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = failing_run(tmp_path_factory.mktemp("logs"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return path, lines


def test_the_log_is_json_lines_with_a_request_id_on_every_line(run):
    """Mutation that failed this: the RequestIdFilter left off the handler (no request_id field)."""
    path, lines = run
    assert path.name == "failing-run.jsonl" and len(lines) > 30
    assert all({"levelname", "name", "request_id", "message"} <= line.keys() for line in lines)
    assert all(line["request_id"] != "-" for line in lines)  # every line was written inside a request
    assert {line["name"].removeprefix("shop.") for line in lines} == set(LAYERS)


def test_exactly_one_request_failed_and_the_truth_names_it(run):
    """Mutation that failed this: the search query doubling the quote in the title (no request failed)."""
    path, lines = run
    truth = truth_of(path)
    assert truth is not None and truth.layer in LAYERS and truth.cause in CAUSES
    finished = {line["request_id"]: line["status"] for line in lines if line["message"] == "request finished"}
    assert finished == truth.statuses
    assert [rid for rid, status in finished.items() if status == 500] == [truth.request_id]
    error = [line for line in lines if line["levelname"] == "ERROR"]
    assert len(error) == 1 and error[0]["request_id"] == truth.request_id
    assert "find_by_title" in error[0]["exc_info"] and "Hitchhiker's" in error[0]["exc_info"]
    before = [line for line in lines if line["request_id"] == truth.request_id and line["levelname"] == "DEBUG"]
    assert before[-1]["name"] == f"shop.{truth.layer}"  # the repository logged last before the crash


def test_the_run_has_the_distractors_the_exercise_names(run):
    """The other causes really happen (answered as designed), so choosing one is a real mistake."""
    _, lines = run
    statuses = {line["status"] for line in lines if line["message"] == "request finished"}
    assert {404, 409, 422} <= statuses
    assert any(line["levelname"] == "WARNING" and "courier" in line["message"] for line in lines)


def test_the_run_restores_the_shop_logger_and_stops_its_server(tmp_path):
    """Mutation that failed this: the finally block not putting the shop logger's handlers back."""
    shop = logging.getLogger("shop")
    before = (list(shop.handlers), shop.level, shop.propagate)
    sentinel = logging.NullHandler()
    shop.handlers = [sentinel]
    try:
        failing_run(tmp_path)
        assert shop.handlers == [sentinel] and shop.propagate is True
    finally:
        shop.handlers, shop.propagate = before[0], before[2]
        shop.setLevel(before[1])
    assert running_servers() == []


def test_truth_of_an_unknown_file_is_none(tmp_path):
    assert truth_of(tmp_path / "never-written.jsonl") is None
