"""Where the notebook's log files go: a fresh folder under the temp dir, never the repository.

Introduced in 10-errors-and-logging. Every log file the notebook writes (the shop's JSON lines,
the measurement's files, the failing run of exercise 2) lives in the folder `log_folder` makes.
The folder is removed when the kernel exits; one left behind by a killed kernel names its process
(`labsupport.scratch`) and is swept by the next call.
"""

from __future__ import annotations

import atexit
import logging
import shutil
from pathlib import Path

from labsupport.scratch import new_folder, sweep_folders_of_dead_processes

__all__ = ["log_folder", "close_handlers"]

_PREFIX = "lab-logs-"


def log_folder() -> Path:
    """A new, empty folder for log files, removed when this process exits."""
    sweep_folders_of_dead_processes(_PREFIX)
    folder = new_folder(_PREFIX)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def close_handlers(*logger_names: str) -> None:
    """Detach and close every handler of the named loggers (the notebook's last cell, and tests).

    Loggers live as long as the process: a handler left on one keeps its file open and keeps
    writing after the notebook is done with it. This undoes what the notebook configured.
    """
    for name in logger_names:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
