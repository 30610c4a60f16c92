from labsupport.bench import server_start_stop, throughput_vs_bare_uvicorn


def test_server_start_stop_reports_medians():
    timing = server_start_stop(n=3)
    assert timing["n"] == 3
    assert 0 < timing["start_ms"] and 0 < timing["stop_ms"]


def test_throughput_compares_serve_with_bare_uvicorn():
    rates = throughput_vs_bare_uvicorn(requests=20, rounds=1)
    assert rates["serve_req_per_s"] > 0 and rates["bare_req_per_s"] > 0
    assert rates["ratio"] == rates["serve_req_per_s"] / rates["bare_req_per_s"]
