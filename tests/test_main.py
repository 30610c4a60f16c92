import subprocess
import sys

from labsupport.__main__ import main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("doctor", "student", "notebooks", "bench", "grade", "progress"):
        assert f"  {command} " in out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "usage: python -m labsupport" in capsys.readouterr().out


def test_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "labsupport"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "student" in done.stdout
