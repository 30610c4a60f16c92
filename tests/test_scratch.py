"""labsupport.scratch: folders named by their process, swept only once that process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from labsupport import scratch


def test_a_new_folder_names_this_process_and_is_empty():
    folder = scratch.new_folder("labsupport-test-")
    try:
        assert folder.parent.samefile(tempfile.gettempdir())
        assert folder.name.startswith(f"labsupport-test-{os.getpid()}-") and not any(folder.iterdir())
    finally:
        folder.rmdir()


def test_the_sweep_removes_only_dead_processes_folders_and_stops_their_servers_first(tmp_path, monkeypatch):
    """(Mutation that failed this: `before_removal(folder)` called for every folder, living ones too.)"""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / f"labsupport-test-{int(dead.stdout)}-a"
    mine = tmp_path / f"labsupport-test-{os.getpid()}-b"
    other_kind = tmp_path / f"labsupport-other-{int(dead.stdout)}-c"
    for folder in (gone, mine, other_kind):
        folder.mkdir()
    stopped = []
    assert scratch.sweep_folders_of_dead_processes("labsupport-test-", stopped.append) == [gone]
    assert stopped == [gone]
    assert not gone.exists() and mine.exists() and other_kind.exists()


def test_process_exists_for_this_process_and_not_for_a_finished_one():
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert scratch.process_exists(os.getpid())
    assert not scratch.process_exists(int(finished.stdout))
