"""Tests for labsupport.lessons.l10_errors_logging.logfiles: log files go to a temp folder, handlers come off."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from labsupport.lessons.l10_errors_logging.logfiles import close_handlers, log_folder

ROOT = Path(__file__).resolve().parents[3]


def test_log_folder_is_a_new_empty_folder_under_the_temp_dir_never_the_repository():
    """Mutation that failed this: one fixed folder, <temp>/lab-logs, for every call."""
    first, second = log_folder(), log_folder()
    assert first != second
    for folder in (first, second):
        assert folder.is_dir() and not any(folder.iterdir())
        assert folder.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
        assert not folder.resolve().is_relative_to(ROOT)
        assert str(os.getpid()) in folder.name  # a killed kernel's folder can be swept


def test_close_handlers_detaches_and_closes_every_handler(tmp_path):
    """Mutation that failed this: close_handlers removed the handlers without closing them
    (the file stayed open)."""
    logger = logging.getLogger("lab10.test.close")
    handlers = [logging.FileHandler(tmp_path / "a.log"), logging.FileHandler(tmp_path / "b.log")]
    for handler in handlers:
        logger.addHandler(handler)
    close_handlers("lab10.test.close", "lab10.test.never-configured")
    assert logger.handlers == []
    assert all(handler.stream is None for handler in handlers)  # FileHandler.close() drops its stream
