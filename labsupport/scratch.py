"""Scratch folders under the temp dir that name the process owning them, swept once it is gone.

Used by `labsupport.databases` (SQLite files), `labsupport.postgres` and `labsupport.embedded_redis`
(their servers' data and sockets). A folder is removed by its owner when done, but a kernel that is
killed (or crashes) runs no exit code: the folder's name holds its process id, and when no such
process lives any more nothing can be using the folder, so the next owner of the same kind sweeps it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["new_folder", "process_exists", "sweep_folders_of_dead_processes"]


def new_folder(prefix: str) -> Path:
    """A new, empty folder ``<temp dir>/<prefix><this process's id>-<random>``."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def process_exists(pid: int) -> bool:
    """Whether a process with this id lives (ours or someone else's)."""
    try:
        os.kill(pid, 0)  # signal 0 only asks
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else (PermissionError), or we cannot tell
        return True
    return True


def sweep_folders_of_dead_processes(prefix: str, before_removal: Callable[[Path], object] | None = None) -> list[Path]:
    """Remove the `prefix` folders whose process is gone; `before_removal(folder)` first (stop its server)."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = folder.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not process_exists(int(pid)):
            if before_removal is not None:
                before_removal(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
