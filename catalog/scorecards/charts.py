"""Altair charts of scorecards: score trends, domain comparison, products × dimensions heat map, usage.

Used by the Scorecards page, the owner-review page and the HTML review report (rendered to SVG there),
so the report shows exactly the charts the app shows. Altair is imported when a chart is drawn (it is slow to
import), so `import catalog` and a scorecard without charts do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from catalog.charts import PALETTE, zoomed_domain

if TYPE_CHECKING:
    import altair as alt

GRADES = (["A", "B", "C", "D", "F"], [PALETTE[2], PALETTE[0], PALETTE[1], PALETTE[3], "#7f1d1d"])
"""Grade colours from the app's colour-blind-safe palette (green, blue, orange, vermillion, dark red)."""


def _frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Altair wants naive or ISO datetimes; drop the time zone (all UTC)."""
    return frame.with_columns([pl.col(c).dt.replace_time_zone(None) for c, t in frame.schema.items()
                               if isinstance(t, pl.Datetime) and t.time_zone])


def score_trend(history: pl.DataFrame, color: str = "product_id", title: str = "Quality score over time",
                width: int = 560) -> "alt.Chart":
    """Line per product (or domain) of score by time; `history` has ts or day, score, and `color`."""
    import altair as alt

    x = "day" if "day" in history.columns else "ts"
    return (alt.Chart(_frame(history), title=title, width=width, height=220)
            .mark_line(point=alt.OverlayMarkDef(size=18), interpolate="step-after")
            .encode(x=alt.X(f"{x}:T", title=None),
                    y=alt.Y("score:Q", title="score",  # zoomed: 97–100 on a 0–100 axis is one flat line
                            scale=alt.Scale(domain=zoomed_domain(history["score"].to_list()), nice=False)),
                    color=alt.Color(f"{color}:N", title=color.replace("_", " "), scale=alt.Scale(range=list(PALETTE))),
                    tooltip=[f"{color}:N", alt.Tooltip(f"{x}:T", title="when"), "score:Q"]))


def domain_comparison(domains: pl.DataFrame, width: int = 560) -> "alt.Chart":
    """Bar per domain: its score, coloured by grade."""
    import altair as alt

    data = domains.select("domain", "score", "grade", "products", "checks_passing", "checks")
    return (alt.Chart(data, title="Domain quality score", width=width, height=28 * max(1, data.height))
            .mark_bar()
            .encode(y=alt.Y("domain:N", sort="-x", title=None),
                    x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title="score"),
                    color=alt.Color("grade:N", scale=alt.Scale(domain=GRADES[0], range=GRADES[1]), title="grade"),
                    tooltip=["domain:N", "score:Q", "grade:N", "products:Q", "checks_passing:Q", "checks:Q"]))


def heat_map(dimensions: pl.DataFrame, width: int = 560) -> "alt.Chart":
    """Products × dimensions, 0 (red) to 100 (green); blank where a dimension is not measured."""
    import altair as alt

    products = dimensions["product_id"].n_unique()
    base = alt.Chart(dimensions)
    cells = base.mark_rect().encode(
        x=alt.X("dimension:N", title=None, sort=list(dict.fromkeys(dimensions["dimension"].to_list())),
                axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("product_id:N", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 100], scheme="viridis"), title="value (0–100)",
                        legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=240,
                                          titleOrient="left")),  # below the grid: a legend at the right was clipped
        tooltip=["product_id:N", "dimension:N", "value:Q"])
    labels = base.transform_filter("isValid(datum.value)").mark_text(fontSize=10).encode(x=alt.X("dimension:N", sort=list(dict.fromkeys(
        dimensions["dimension"].to_list()))), y="product_id:N", text=alt.Text("value:Q", format=".1~f"),
        color=alt.condition("datum.value < 60", alt.value("white"), alt.value("black")))
    return alt.layer(cells, labels, title="Products × dimensions (0–100)").properties(  # type: ignore[return-value]
        width=width, height=heat_map_height(products))


def heat_map_height(products: int) -> int:
    """Plot height of the heat map for this many products (rows stay readable)."""
    return max(120, 26 * max(1, products))


def usage_trend(daily: pl.DataFrame, width: int = 560, title: str = "Queries per week") -> "alt.Chart":
    """Stacked weekly query counts per product from `catalog.scorecards.usage.daily_usage`."""
    import altair as alt

    weekly = (_frame(daily).with_columns(pl.col("day").dt.truncate("1w").alias("week"))
              .group_by("product_id", "week").agg(pl.col("queries").sum()).sort("week"))
    return (alt.Chart(weekly, title=title, width=width, height=200).mark_bar()
            .encode(x=alt.X("week:T", title=None), y=alt.Y("queries:Q", title="queries"),
                    color=alt.Color("product_id:N", title="product", scale=alt.Scale(range=list(PALETTE))),
                    tooltip=["product_id:N", alt.Tooltip("week:T", title="week of"), "queries:Q"]))
