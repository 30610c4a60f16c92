"""One log for several services, read back as one request's timeline.

Introduced in 11-architecture. Each service of the lesson writes its log lines here, tagged with
the trace id of the request they belong to (the notebook propagates it in a W3C ``traceparent``
header). In production each service writes its own log and a log store (Loki, Elasticsearch, a
tracing system) joins them by that id; `LogBook.timeline` is that join, for lines kept in memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pandas as pd

__all__ = ["LogBook", "LogLine"]


@dataclass(frozen=True)
class LogLine:
    at: float  # time.perf_counter() when written
    service: str
    trace_id: str
    message: str


class LogBook:
    """Log lines from every service, in the order they were written (thread-safe)."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._lock = threading.Lock()

    def write(self, service: str, trace_id: str, message: str) -> None:
        with self._lock:
            self.lines.append(LogLine(time.perf_counter(), service, trace_id, message))

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()

    def timeline(self, trace_id: str) -> pd.DataFrame:
        """The lines of one trace, oldest first, with milliseconds since its first line."""
        with self._lock:
            lines = [line for line in self.lines if line.trace_id == trace_id]
        start = lines[0].at if lines else 0.0
        return pd.DataFrame(
            {
                "ms": [round((line.at - start) * 1000, 1) for line in lines],
                "service": [line.service for line in lines],
                "message": [line.message for line in lines],
            }
        )

    def trace_ids(self) -> list[str]:
        """The trace ids seen, in order of first appearance."""
        with self._lock:
            return list(dict.fromkeys(line.trace_id for line in self.lines))
