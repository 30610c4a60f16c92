"""`make lab` opens JupyterLab on notebooks/, on 127.0.0.1 only, and works as root (as in CI).

The command is read from the Makefile, so this test checks what students actually run.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def lab_command() -> list[str]:
    recipe = re.search(r"^lab:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    bin_dir = str(Path(sys.executable).parent)
    return recipe.replace("$(BIN)", bin_dir).split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timeout(90)
def test_make_lab_serves_the_notebooks_on_loopback_only(tmp_path, listening_addresses):
    command = lab_command() + ["--no-browser", "--port=0"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--allow-root" in command
    env = os.environ | {"JUPYTER_RUNTIME_DIR": str(tmp_path)}
    lab = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.perf_counter() + 60
        while not list(tmp_path.glob("jpserver-*.json")):
            assert lab.poll() is None, "jupyter lab exited"
            assert time.perf_counter() < deadline, "jupyter lab did not start within 60 s"
            time.sleep(0.2)
        info = json.loads(next(tmp_path.glob("jpserver-*.json")).read_text())
        assert info["hostname"] == "127.0.0.1"
        assert Path(info["root_dir"]) == ROOT / "notebooks"
        listening = listening_addresses(lab.pid)
        assert listening and all(a.startswith("127.0.0.1:") for a in listening), listening
        contents = httpx.get(
            f"{info['url']}api/contents", headers={"Authorization": f"token {info['token']}"}, timeout=10
        )
        assert "00-start-here.ipynb" in {item["name"] for item in contents.json()["content"]}
    finally:
        lab.terminate()
        lab.wait(timeout=20)
