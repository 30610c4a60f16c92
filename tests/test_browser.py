"""labsupport.browser: finding the system's Chromium, and what only a real browser proves.

The first tests need no browser and run in every `make test`. The rest use the session fixture
``chromium`` (tests/conftest.py): they run with `make test-browser` (LAB_TEST_BROWSER=1) and skip,
saying what to install, where there is no Chromium (under CI=true that is an error). 09-security's
browser facts (XSS, CSP reports, HttpOnly, SameSite) are in tests/lessons/l09_security/test_victim.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from labsupport import browser, serve
from labsupport.scratch import new_folder


def _fake_executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


# --- finding Chromium: no browser needed -------------------------------------------------------


def test_lab_chromium_names_the_browser_to_use(tmp_path, monkeypatch):
    """(Mutation that failed this: find_chromium reading LAB_CHROME instead of LAB_CHROMIUM.)"""
    fake = _fake_executable(tmp_path, "my-chromium")
    monkeypatch.setenv("LAB_CHROMIUM", str(fake))
    assert browser.find_chromium() == str(fake)


def test_lab_chromium_naming_nothing_hides_the_systems_chromium(tmp_path, monkeypatch):
    """How 09's simulated browser is tested on a machine that has Chromium.
    (Mutation that failed this: falling back to CHROMIUM_NAMES when the override is not found.)"""
    _fake_executable(tmp_path, "chromium")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("LAB_CHROMIUM", "none")
    assert browser.find_chromium() is None
    monkeypatch.delenv("LAB_CHROMIUM")
    assert browser.find_chromium() == str(tmp_path / "chromium")


@pytest.mark.parametrize("name", ["chromium", "chromium-browser"])
def test_debian_and_ubuntu_names_are_found_on_the_path(name, tmp_path, monkeypatch):
    """Debian's package installs `chromium`, Ubuntu's `chromium-browser`.
    (Mutation that failed this: CHROMIUM_NAMES without "chromium-browser".)"""
    monkeypatch.delenv("LAB_CHROMIUM", raising=False)
    fake = _fake_executable(tmp_path, name)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.find_chromium() == str(fake)


def test_the_reason_says_what_to_install(tmp_path, monkeypatch):
    """(Mutation that failed this: unavailable_reason returning None when find_chromium found nothing.)"""
    real_find_spec = importlib.util.find_spec
    without_playwright = lambda name: None if name == "playwright" else real_find_spec(name)  # noqa: E731
    monkeypatch.setattr(importlib.util, "find_spec", without_playwright)
    assert browser.unavailable_reason().startswith("no playwright: pip install -e '.[browser]'")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "playwright" else None)
    monkeypatch.delenv("LAB_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    assert browser.unavailable_reason() == "no Chromium: apt-get install chromium"
    monkeypatch.setenv("LAB_CHROMIUM", "/nowhere/chromium")
    assert browser.unavailable_reason() == "no Chromium: LAB_CHROMIUM='/nowhere/chromium' is not an executable"
    monkeypatch.setenv("LAB_CHROMIUM", str(_fake_executable(tmp_path, "chromium")))
    assert browser.unavailable_reason() is None


def test_chromium_that_cannot_start_raises_the_reason(monkeypatch):
    """(Mutation that failed this: Chromium.__init__ without its unavailable_reason() check: a TypeError
    or playwright's own error instead of the reason.)"""
    monkeypatch.setenv("LAB_CHROMIUM", "none")
    with pytest.raises(browser.BrowserUnavailable) as raised:
        browser.Chromium()
    assert str(raised.value) == browser.unavailable_reason() and str(raised.value).startswith("no ")


@pytest.mark.parametrize(
    ("url", "reachable"),
    [
        ("http://127.0.0.1:8000/docs", True),
        ("http://localhost:8000/", True),
        ("data:text/html,hi", True),
        ("https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css", False),
        ("http://127.0.0.1.evil.example/", False),
        ("https://evil.example/?c=127.0.0.1", False),
    ],
)
def test_only_loopback_is_reachable(url, reachable):
    """(Mutation that failed this: `"127.0.0.1" in url` instead of comparing the host name.)"""
    assert browser._is_loopback(url) is reachable


# --- the real browser (make test-browser) -------------------------------------------------------


def test_every_request_off_the_machine_is_blocked_and_noted(chromium, stop_servers):
    """(Mutation that failed this: _route calling route.continue_() for every request: the image's
    URL was not noted, and its request went out to the closed network.)"""
    app = FastAPI()
    page_html = '<img src="https://cdn.example.net/logo.png"><img src="/local.png">'
    app.get("/", response_class=HTMLResponse)(lambda: page_html)
    server = serve(app, name="page")
    before = len(chromium.blocked)

    def load() -> list[str]:
        context = chromium.new_context()
        try:
            page = context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(server.url + "/")
            page.wait_for_load_state("networkidle")
            return requested
        finally:
            context.close()

    requested = chromium.run(load)
    assert f"{server.url}/local.png" in requested  # the page's own requests go through
    assert chromium.blocked[before:] == ["https://cdn.example.net/logo.png"]


def test_works_inside_a_running_event_loop_as_in_a_kernel(chromium):
    """A Jupyter kernel runs an asyncio loop; playwright's sync API refuses to run inside one.
    (Mutation that failed this: Chromium.run calling fn on the caller's thread: playwright raised
    "It looks like you are using Playwright Sync API inside the asyncio loop".)"""

    async def in_a_kernel() -> int:
        return chromium.run(lambda: chromium.new_page().evaluate("6 * 7"))

    assert asyncio.run(in_a_kernel()) == 42


def test_swagger_ui_renders_offline_and_try_it_out_shows_the_servers_answer(chromium, stop_servers):
    """/docs of a lab server in Chromium with the network closed: Swagger UI renders (its assets come
    from the lab server), and Try it out → Execute shows the server's real answer — a token the
    server made up just now, so nothing but that request can have put it on the page.
    (Mutations that failed this: labsupport.docs_offline without its swagger_js_url and
    swagger_css_url, i.e. FastAPI's CDN defaults: the requests were blocked and no operation
    rendered; and `item_id` filled with 41: the body shown did not match.)"""
    token = secrets.token_hex(8)
    app = FastAPI(title="lab items")

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict:
        return {"id": item_id, "token": token}

    server = serve(app, name="docs")
    before = len(chromium.blocked)

    def try_it_out() -> tuple[str, str, str, list[str]]:
        context = chromium.new_context()
        try:
            page = context.new_page()
            loaded: list[str] = []
            page.on("requestfinished", lambda request: loaded.append(request.url))
            page.goto(f"{server.url}/docs")
            page.locator(".opblock-summary").first.click()  # expand GET /items/{item_id}
            page.get_by_role("button", name="Try it out").click()
            page.locator('input[placeholder="item_id"]').fill("42")
            page.get_by_role("button", name="Execute").click()
            answer = page.locator(".live-responses-table tbody .response")
            status = answer.locator(".response-col_status").first.inner_text()
            body = answer.locator(".response-col_description pre").first.inner_text()
            return page.title(), status.strip(), body, loaded
        finally:
            context.close()

    title, status, body, loaded = chromium.run(try_it_out)
    assert chromium.blocked[before:] == [], "the page asked for something off this machine"
    assert title == "lab items - Swagger UI"
    assert any(url.endswith("/swagger-ui-bundle.js") and url.startswith(server.url) for url in loaded), loaded
    assert f"{server.url}/items/42" in loaded
    assert status == "200"
    assert httpx.Response(200, content=body).json() == {"id": 42, "token": token}


# --- JupyterLab opens a student notebook and Run All completes ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyter_lab_with_student_notebook():
    """A `jupyter lab` on 127.0.0.1 with a token, serving the student build of 00-start-here from a
    temporary folder (its settings, runtime and data there too); stopped, whole process group, after."""
    work = new_folder("lab-browser-test-")
    try:
        source = work / "source"
        source.mkdir()
        shutil.copy(Path(__file__).resolve().parent.parent / "notebooks" / "00-start-here.ipynb", source)
        student = work / "student"
        build = [sys.executable, "-m", "labsupport", "student", "--src", str(source), "--out", str(student)]
        subprocess.run(build, check=True, timeout=120, capture_output=True)
        # The full notebook in the page (JupyterLab 4 otherwise renders only the cells in view).
        settings = work / "settings" / "@jupyterlab" / "notebook-extension"
        settings.mkdir(parents=True)
        (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
        port, token = _free_port(), secrets.token_hex(16)
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(work / "config"),
            "JUPYTER_DATA_DIR": str(work / "data"),
            "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
        }
        command = [
            str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={student}",
        ]
        with open(work / "lab.log", "w") as log:
            lab = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert lab.poll() is None, (work / "lab.log").read_text()[-2000:]
                try:
                    if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "jupyter lab did not answer in 60 s"
                time.sleep(0.2)
            yield base, token, student / "00-start-here.ipynb"
        finally:
            os.killpg(lab.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                lab.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(lab.pid, signal.SIGKILL)
                lab.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.timeout(240)
def test_jupyterlab_opens_a_student_notebook_and_run_all_completes(chromium, jupyter_lab_with_student_notebook):
    """A student's first minutes: open the notebook in JupyterLab, Run → Run All Cells. Every cell
    runs, in order, and none shows an error; the saved file says the same.
    (Mutation that failed this: the student build's placeholder a bare ``...`` instead of
    ``name = ...`` for the names a solution binds: a check cell after an exercise raised NameError.)"""
    base, token, notebook = jupyter_lab_with_student_notebook
    code_cells = sum(cell.cell_type == "code" for cell in nbformat.read(notebook, as_version=4).cells)

    def saved_run() -> list[int | None]:
        cells = nbformat.read(notebook, as_version=4).cells
        return [cell.execution_count for cell in cells if cell.cell_type == "code"]

    def run_all() -> tuple[list[str], int, list[int | None]]:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{base}/lab/tree/{notebook.name}?token={token}")
            idle = page.get_by_text("Python 3 (ipykernel) | Idle")
            select_kernel = page.get_by_role("button", name="Select", exact=True)
            idle.or_(select_kernel).first.wait_for(timeout=90_000)
            if select_kernel.count():  # JupyterLab asks when the kernel is slow to start: what a student clicks
                select_kernel.click()
            idle.wait_for(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt")
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            deadline = time.monotonic() + 150
            while True:  # until every cell has its number, or an error stopped the run
                shown = [text.strip() for text in prompts.all_inner_texts()]
                done = len(shown) == code_cells and all(re.fullmatch(r"\[\d+\]:", text) for text in shown)
                if done or errors.count():
                    break
                assert time.monotonic() < deadline, f"Run All did not finish: {shown}"
                page.wait_for_timeout(250)
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 20
            while None in (counts := saved_run()) and time.monotonic() < deadline:  # the save takes a moment
                page.wait_for_timeout(200)
            return shown, errors.count(), counts
        finally:
            context.close()

    prompts, error_outputs, saved_counts = chromium.run(run_all, timeout=220)
    assert prompts == [f"[{n}]:" for n in range(1, code_cells + 1)]
    assert error_outputs == 0
    assert saved_counts == list(range(1, code_cells + 1))
    saved = nbformat.read(notebook, as_version=4)
    outputs = [output for cell in saved.cells if cell.cell_type == "code" for output in cell.outputs]
    assert outputs and not [output for output in outputs if output.output_type == "error"]
