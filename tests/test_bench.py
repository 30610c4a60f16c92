import nbformat

from labsupport.bench import notebook_time, server_start_stop, throughput_vs_bare_uvicorn


def test_server_start_stop_reports_medians():
    timing = server_start_stop(n=3)
    assert timing["n"] == 3
    assert 0 < timing["start_ms"] and 0 < timing["stop_ms"]


def test_throughput_compares_serve_with_bare_uvicorn():
    rates = throughput_vs_bare_uvicorn(requests=20, rounds=1)
    assert rates["serve_req_per_s"] > 0 and rates["bare_req_per_s"] > 0
    assert rates["ratio"] == rates["serve_req_per_s"] / rates["bare_req_per_s"]


def test_notebook_time_counts_every_cell_and_the_shutdown_apart(tmp_path):
    """Mutation that failed this: the clock stopped before the cells ran."""
    path = tmp_path / "nap.ipynb"
    cells = ["import atexit, time", "time.sleep(0.3)", "atexit.register(time.sleep, 0.3)"]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    run_all, shutdown = notebook_time(path)
    assert run_all >= 0.3 and shutdown >= 0.3
