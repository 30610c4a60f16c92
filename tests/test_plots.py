"""Tests for labsupport.plots (Agg backend): shapes, labels, scales, style isolation, bad input."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from labsupport import plots
from labsupport.plots import PALETTE, bar_chart, line_chart, stacked_bars


@pytest.fixture(autouse=True)
def no_show_and_no_leftover_figures(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("plots must leave showing to Jupyter, not call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


@pytest.fixture
def sweep_frame() -> pd.DataFrame:
    sizes = [1_000, 10_000, 100_000]
    scan = pd.DataFrame({"size": sizes, "median_s": [1e-4, 1e-3, 1e-2], "label": "scan"})
    index = pd.DataFrame({"size": sizes[::-1], "median_s": [3e-5, 2e-5, 1e-5], "label": "index"})
    return pd.concat([scan, index], ignore_index=True)


def test_bar_chart_draws_one_labelled_bar_per_value():
    before = len(plt.get_fignums())
    labels = ["keep-alive", "new connection"]
    fig = bar_chart(labels, [1612.4, 1050], title="Requests", ylabel="req/s")
    assert isinstance(fig, Figure)
    assert len(plt.get_fignums()) == before + 1  # registered with pyplot, so Jupyter shows it
    (ax,) = fig.axes
    bars = ax.containers[0]
    assert [bar.get_height() for bar in bars] == [1612.4, 1050]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["keep-alive", "new connection"]
    assert [t.get_text() for t in ax.texts] == ["1,612", "1,050"]
    assert (ax.get_title(), ax.get_ylabel(), ax.get_yscale()) == ("Requests", "req/s", "linear")
    assert mpl.colors.to_hex(bars[0].get_facecolor()) == PALETTE[0].lower()
    plt.close(fig)


def test_bar_chart_log_scale_and_xlabel():
    fig = bar_chart(["a", "b", "c"], [0.5, 5, 50], title="t", ylabel="ms", xlabel="x", logy=True)
    ax = fig.axes[0]
    assert (ax.get_yscale(), ax.get_xlabel()) == ("log", "x")
    assert [t.get_text() for t in ax.texts] == ["0.5", "5", "50"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("labels", "values", "kwargs", "message"),
    [
        (["a", "b"], [1], {}, "2 labels but 1 values"),
        ([], [], {}, "non-empty list of numbers"),
        (["a"], ["fast"], {}, "values must be numbers"),
        (["a"], [float("nan")], {}, "finite numbers"),
        (["a", "b"], [0, 1], {"logy": True}, "log scale needs values above 0"),
    ],
)
def test_bar_chart_refuses_bad_input(labels, values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bar_chart(labels, values, title="t", ylabel="y", **kwargs)


def test_line_chart_draws_one_line_per_hue_value_sorted_by_x(sweep_frame):
    fig = line_chart(sweep_frame, "size", "median_s", hue="label", title="Scan vs index")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["scan", "index"]
    assert list(lines[1].get_xdata()) == [1_000, 10_000, 100_000]
    assert list(lines[1].get_ydata()) == [1e-5, 2e-5, 3e-5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["scan", "index"]
    assert ax.get_title() == "Scan vs index"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("size", "median_s")  # the column names
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")
    plt.close(fig)


def test_line_chart_single_line_with_log_axes_and_labels(sweep_frame):
    scan = sweep_frame[sweep_frame["label"] == "scan"]
    fig = line_chart(
        scan, "size", "median_s", logx=True, logy=True, title="t", xlabel="rows", ylabel="seconds"
    )
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 1 and ax.get_legend() is None
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("rows", "seconds")
    plt.close(fig)


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"size": [], "median_s": []}), {}, "empty"),
        ({"size": [1], "median_s": [1]}, {}, "needs a pandas DataFrame"),
        (pd.DataFrame({"size": [1]}), {}, r"no column\(s\) \['median_s'\]"),
        (pd.DataFrame({"size": [1], "median_s": [1]}), {"hue": "label"}, r"\['label'\]"),
        (pd.DataFrame({"size": [0, 1], "median_s": [1, 2]}), {"logx": True}, "log scale needs"),
        (pd.DataFrame({"size": [1, 2], "median_s": [0, 2]}), {"logy": True}, "column 'median_s'"),
        (pd.DataFrame({"size": ["a"], "median_s": [1]}), {}, "must be numbers"),
    ],
)
def test_line_chart_refuses_bad_input(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        line_chart(frame, "size", "median_s", title="t", **kwargs)


def test_style_is_applied_per_figure_and_global_settings_stay_untouched():
    before = dict(mpl.rcParams)
    fig = line_chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]}), "x", "y", title="t")
    assert dict(mpl.rcParams) == before
    ax = fig.axes[0]
    assert mpl.colors.to_hex(ax.get_lines()[0].get_color()) == PALETTE[0].lower()
    assert not ax.spines["top"].get_visible()
    assert tuple(fig.get_size_inches()) == plots.FIGSIZE
    plt.close(fig)


def test_stacked_bars_compares_requests_in_percent():
    bars = {
        "GET /api/books/1": {"network": 0.5, "database": 0.1},
        "GET /api/reports/bestsellers": {"network": 0.5, "database": 29.5},
    }
    fig = stacked_bars(bars, title="where the time goes", percent=True)
    ax = fig.axes[0]
    widths = [patch.get_width() for patch in ax.patches]
    # two parts × two bars; each bar sums to 100 %
    assert len(widths) == 4
    assert widths[0] + widths[2] == pytest.approx(100)
    assert widths[1] + widths[3] == pytest.approx(100)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(bars)
    assert ax.get_xlabel() == "share of the time (%)"
    plt.close(fig)


@pytest.mark.parametrize(
    ("bars", "message"),
    [
        ({}, "non-empty"),
        ({"a": {"x": 1}, "b": {"y": 1}}, "same parts"),
        ({"a": {"x": 0}}, "not all 0"),
        ({"a": {"x": -1, "y": 2}}, "≥ 0"),
    ],
)
def test_stacked_bars_refuses_bad_input(bars, message):
    with pytest.raises(ValueError, match=message):
        stacked_bars(bars, title="t")


def test_every_figure_is_shown_in_a_notebook():
    """In Jupyter's inline backend, not only the first figure: the style context must not undo
    the backend's own switch to interactive mode."""
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from labsupport import bar_chart, line_chart\nimport pandas as pd",
        "fig = bar_chart(['a', 'b'], [1, 2], title='t', ylabel='y')",
        "fig = line_chart(pd.DataFrame({'x': [1, 2], 'y': [3, 4]}), 'x', 'y', title='t', xlabel='x', ylabel='y')",
        "fig = bar_chart(['a', 'b'], [1, 2], title='t', ylabel='y')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    shown = [sum("image/png" in output.get("data", {}) for output in cell.outputs) for cell in nb.cells]
    assert shown == [0, 1, 1, 1]
