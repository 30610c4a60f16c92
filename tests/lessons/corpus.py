"""Helpers shared by the lessons' checker corpora (wrong and right answers, one per line)."""

from __future__ import annotations

import re
from typing import Any


def assert_hint(result, pattern: str) -> None:
    """`result` failed with a hint matching the regex `pattern`, and no traceback."""
    assert result.status == "failed", result
    assert re.search(pattern, result.message), result.message
    assert "Traceback" not in result.message


def ids(corpus: list[tuple[Any, ...]]) -> list[str]:
    """Test ids for a corpus: the name each entry starts with."""
    return [entry[0] for entry in corpus]
