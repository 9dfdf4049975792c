"""The scorecards' charts: the score trend and the products × dimensions heat map, in tabs."""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.scorecards import charts as scorecard_charts
from catalog.scorecards.scorecard import DIMENSIONS, dimensions
from components.tabs import lazy_tabs

CHARTS = ["Score trend", "Products × dimensions"]


def charts(products: pl.DataFrame, trend: pl.DataFrame, **trend_options) -> None:
    """The score trend and the products × dimensions heat map, one tab at a time (only the open one is drawn)."""
    trend_tab, heat_tab = lazy_tabs(CHARTS)
    if trend_tab.open:
        with trend_tab:
            if trend.height:
                st.altair_chart(scorecard_charts.score_trend(trend, **trend_options), width="stretch")
            else:
                st.caption("No stored check runs yet.")
    if heat_tab.open:
        with heat_tab:
            st.caption(" · ".join(f"**{k}**: {v}" for k, v in DIMENSIONS.items()))
            st.altair_chart(scorecard_charts.heat_map(dimensions(products)), width="stretch",
                            height=scorecard_charts.heat_map_height(products.height) + 120)
