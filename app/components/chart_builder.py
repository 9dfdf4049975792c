"""The chart builder under a cell's result: mark, x, y, colour and aggregation, starting from the default
chart `catalog.charts.suggest_chart` picks from the result's column types."""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.charts import AGGREGATES, MARKS, ChartSpec, render_chart
from catalog.errors import ChartError

NONE = "—"


def _pick(label: str, options: list[str], value: str | None, key: str, column) -> str | None:
    options = [NONE, *options] if label != "Mark" else options
    index = options.index(value) if value in options else 0
    with column:
        chosen = st.selectbox(label, options, index=index, key=key)
    return None if chosen == NONE else chosen


def chart_builder(frame: pl.DataFrame, spec: ChartSpec | None, key: str) -> ChartSpec | None:
    """Controls for the chart of one result; returns the spec they describe (None: no chart wanted).
    The controls are keyed by the result's columns, so a new result with other columns starts afresh."""
    if frame.width == 0:
        return None
    key = f"{key}_{abs(hash(tuple(frame.columns))) % 10**8}"
    show = st.toggle("Chart", value=spec is not None, key=f"{key}_show")
    if not show:
        return None
    spec = spec if spec and all(c in frame.columns for c in spec.columns()) else None
    spec = spec or ChartSpec(mark="bar", x=frame.columns[0], y=frame.columns[-1] if frame.width > 1 else None)
    columns = frame.columns
    c1, c2, c3, c4, c5 = st.columns(5)
    mark = _pick("Mark", list(MARKS), spec.mark, f"{key}_mark", c1)
    x = _pick("X", columns, spec.x, f"{key}_x", c2)
    y = _pick("Y", columns, spec.y, f"{key}_y", c3)
    color = _pick("Colour", columns, spec.color, f"{key}_color", c4)
    aggregate = _pick("Aggregate", list(AGGREGATES), spec.aggregate, f"{key}_agg", c5)
    try:
        chosen = ChartSpec(mark=mark or "bar", x=x, y=y, color=color, aggregate=aggregate, title=spec.title)
    except ValueError as exc:
        st.info(f"Pick the chart's columns: {str(exc).splitlines()[-1]}", icon=":material/bar_chart:")
        return None
    try:
        st.altair_chart(render_chart(frame, chosen), width="stretch")
    except ChartError as exc:
        st.info(str(exc), icon=":material/bar_chart:")
        return None
    return chosen
