"""The few plot shapes the lessons use, in one consistent style.

Introduced in 00-start-here. Each function draws a new figure and returns it, so a notebook
cell reads ``fig = bar_chart(...)``: Jupyter shows the figure once at the end of the cell and
no ``<Axes ...>`` text is left behind. The style is applied per figure (``plt.rc_context``);
importing this module changes no global matplotlib setting, and nothing here calls
``plt.show()``.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure

if TYPE_CHECKING:  # the names matplotlib accepts as rcParams keys: a typo in STYLE fails mypy
    from matplotlib.typing import RcKeyType

__all__ = ["PALETTE", "bar_chart", "stacked_bars", "line_chart"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in greyscale.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FIGSIZE = (7.0, 3.5)
STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "legend.frameon": False,
    "figure.constrained_layout.use": True,  # fits titles, labels and outside legends
}
_DARK = {"#0072B2", "#009E73", "#D55E00", "#000000"}  # take white text

F = TypeVar("F", bound=Callable[..., Figure])


@contextmanager
def _style() -> Iterator[None]:
    """Apply STYLE, then put back exactly the settings it changed.

    Not `plt.rc_context`: that restores *every* setting, and Jupyter's inline backend turns
    ``interactive`` on lazily when the first figure is drawn; undoing that would keep every
    later figure from being shown.
    """
    saved = {key: mpl.rcParams[key] for key in STYLE}
    mpl.rcParams.update(STYLE)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def _styled(draw: F) -> F:
    """Draw inside the lab's style, leaving matplotlib's global settings untouched."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _style():
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _numbers(values: Any, what: str) -> np.ndarray:
    shown = reprlib.repr(values)  # a long list would flood the error message
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers, got {shown}") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty list of numbers, got {shown}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite numbers (no NaN or infinity), got {shown}")
    return array


def _label(value: float) -> str:
    # 1,612 / 40.2 / 1.23 / 0.05: whole numbers from 100 up, else three significant digits.
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


@_styled
def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    ylabel: str,
    xlabel: str | None = None,
    logy: bool = False,
) -> Figure:
    """One vertical bar per label, each with its value written on top.

    For comparisons of a handful of variants (keep-alive vs new connection, 0/1/3 indexes).
    """
    labels = [str(label) for label in labels]
    heights = _numbers(values, "values")
    if len(labels) != len(heights):
        raise ValueError(
            f"got {len(labels)} labels but {len(heights)} values; give one value per label"
        )
    if logy and np.any(heights <= 0):
        raise ValueError("a log scale needs values above 0; use logy=False")
    fig, ax = plt.subplots()
    bars = ax.bar(labels, heights, color=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])
    ax.bar_label(bars, labels=[_label(h) for h in heights], padding=2)
    if logy:
        ax.set_yscale("log")
    ax.grid(axis="x", visible=False)
    ax.set(title=title, ylabel=ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.margins(y=0.12)  # room for the value labels above the tallest bar
    return fig


@_styled
def stacked_bars(
    bars: Mapping[str, Mapping[str, float]], *, title: str, unit: str = "ms", percent: bool = False
) -> Figure:
    """Several horizontal stacked bars, one per label, with the same parts in each.

    Introduced in 00-start-here to compare where two requests spend their time. With
    ``percent=True`` each bar shows shares of its own total, so a 1 ms request and a 30 ms
    request can be compared side by side.
    """
    if not isinstance(bars, Mapping) or not bars:
        raise ValueError("bars must be a non-empty dict of {label: {part: amount}}")
    names = list(next(iter(bars.values())))
    rows = []
    for label, parts in bars.items():
        if not isinstance(parts, Mapping) or list(parts) != names:
            raise ValueError(f"every bar needs the same parts in the same order {names}; {label!r} differs")
        widths = _numbers(list(parts.values()), f"the amounts of {label!r}")
        if np.any(widths < 0) or widths.sum() == 0:
            raise ValueError(f"the amounts of {label!r} must be ≥ 0 and not all 0")
        rows.append(widths / widths.sum() * 100 if percent else widths)
    shown_unit = "%" if percent else unit
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], 1.6 + 0.7 * len(bars)))
    labels = list(bars)
    left = np.zeros(len(rows))
    for i, name in enumerate(names):
        widths = np.array([row[i] for row in rows])
        color = PALETTE[i % len(PALETTE)]
        ax.barh(labels, widths, left=left, color=color, label=name)
        for y, (start, width) in enumerate(zip(left, widths)):
            if width / (rows[y].sum()) >= 0.08:  # narrower segments have no room for text
                text_color = "white" if color in _DARK else "black"
                text = f"{_label(width)}%" if percent else _label(width)
                ax.text(start + width / 2, y, text, ha="center", va="center", color=text_color)
        left += widths
    ax.invert_yaxis()  # first bar on top, as in the dict
    ax.grid(axis="y", visible=False)
    ax.set(title=title, xlabel="share of the time (%)" if percent else f"time ({shown_unit})")
    fig.legend(loc="outside lower center", ncols=min(len(names), 5), handlelength=1, columnspacing=1)
    return fig


@_styled
def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    hue: str | None = None,
    logx: bool = False,
    logy: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """One line per value of ``hue`` (or a single line), points marked, sorted by ``x``.

    Made for timings by size: ``line_chart(df, "size", "median_ms", hue="label", logx=True, logy=True,
    ...)`` (07-indexing). Labels default to column names.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"line_chart() needs a pandas DataFrame, not {type(df).__name__}")
    if df.empty:
        raise ValueError("the DataFrame is empty; there is nothing to plot")
    missing = [c for c in (x, y, hue) if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {missing} in the DataFrame; it has {list(df.columns)}")
    for column, log in ((x, logx), (y, logy)):
        values = _numbers(df[column].to_numpy(), f"column {column!r}")
        if log and np.any(values <= 0):
            raise ValueError(f"a log scale needs values above 0 in column {column!r}")
    fig, ax = plt.subplots()
    groups = df.groupby(hue, sort=False) if hue is not None else [(None, df)]
    for name, group in groups:
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker="o", label=None if hue is None else str(name))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel or x, ylabel=ylabel or y)
    if hue is not None:
        ax.legend(title=hue)
    return fig
