"""LogBook: lines of several services joined by trace id."""

from __future__ import annotations

import threading

from labsupport.lessons.l11_architecture.timeline import LogBook


def test_timeline_keeps_one_trace_in_order_with_offsets():
    """Mutation that failed this: timeline() not filtering by trace id (the other trace's line showed)."""
    log = LogBook()
    log.write("orders", "a" * 32, "received")
    log.write("catalogue", "b" * 32, "someone else's request")
    log.write("catalogue", "a" * 32, "received")
    log.write("orders", "a" * 32, "answered 200")
    table = log.timeline("a" * 32)
    assert list(table["service"]) == ["orders", "catalogue", "orders"]
    assert list(table["message"]) == ["received", "received", "answered 200"]
    assert table["ms"].iloc[0] == 0 and table["ms"].is_monotonic_increasing
    assert log.trace_ids() == ["a" * 32, "b" * 32]


def test_an_unknown_trace_is_an_empty_table_and_clear_empties():
    log = LogBook()
    log.write("orders", "x", "line")
    assert log.timeline("nope").empty
    log.clear()
    assert log.lines == [] and log.trace_ids() == []


def test_writes_from_many_threads_are_all_kept():
    log = LogBook()
    threads = [threading.Thread(target=lambda i=i: [log.write("s", str(i), "m") for _ in range(200)]) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.lines) == 800 and sorted(log.trace_ids()) == ["0", "1", "2", "3"]
