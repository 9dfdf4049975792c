"""Charts of query results: a small declarative spec, a sensible default, and its Altair rendering.

`ChartSpec` is what the workbench's chart builder edits, what a dashboard tile stores
and what an exported notebook rebuilds; `suggest_chart` picks a default from the
result's column types; `render_chart` turns (frame, spec) into an `altair.Chart` (altair is imported
there, when a chart is drawn: it is slow to import and a spec needs only pydantic).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import altair as alt
import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from catalog.errors import ChartError

Mark = Literal["bar", "line", "area", "point", "arc", "rect", "tick"]
Aggregate = Literal["sum", "mean", "count", "min", "max", "median"]

MARKS: tuple[str, ...] = ("bar", "line", "area", "point", "arc", "rect", "tick")
AGGREGATES: tuple[str, ...] = ("sum", "mean", "count", "min", "max", "median")
MAX_POINTS = 5_000  # rows drawn without aggregation; more makes the browser crawl (and Altair refuses)
MAX_COLOURS = 12  # a colour column with more distinct values than this is not a useful legend
MAX_BARS = 50  # a category with more distinct values than this makes an unreadable bar chart
WIDE = 6  # a result with more columns than this is a table to read (a `SELECT *`), not a chart

PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
                            "#000000")
"""Okabe and Ito's colour-blind-safe palette: every chart of the app colours its categories with it, in this
order (deep blue and orange first: told apart with any colour vision)."""

SHORT_LABEL = 14  # x labels at most this long are drawn level, never rotated


class ChartSpec(BaseModel):
    """What to draw: a mark, the columns on x / y / colour, and how to aggregate y per x (and colour)."""

    model_config = ConfigDict(extra="forbid")

    mark: Mark = "bar"
    x: str | None = None
    y: str | None = None
    color: str | None = None
    aggregate: Aggregate | None = None
    title: str | None = None
    sort: Literal["-y"] | None = None  # "-y": bars by value, largest first (else the result's own order)

    @model_validator(mode="after")
    def _needs_axes(self) -> "ChartSpec":
        if self.x is None and self.y is None:
            raise ValueError("a chart needs at least an x or a y column")
        if self.aggregate not in (None, "count") and self.y is None:
            raise ValueError(f"aggregate {self.aggregate!r} needs a y column to aggregate")
        return self

    def columns(self) -> list[str]:
        """The result columns this spec names, in x, y, colour order."""
        return [c for c in (self.x, self.y, self.color) if c]


# ---------------------------------------------------------------- column kinds

def _kind(dtype: pl.DataType) -> str:
    """Altair's encoding type for a polars dtype: Q(uantitative), T(emporal) or N(ominal)."""
    if dtype.is_numeric():
        return "quantitative"
    if dtype.is_temporal():
        return "temporal"
    return "nominal"


def _kinds(df: pl.DataFrame) -> dict[str, str]:
    return {name: _kind(dtype) for name, dtype in df.schema.items()}


def _looks_like_key(df: pl.DataFrame, name: str) -> bool:
    """A column whose values are (nearly) all distinct names rows rather than groups them."""
    lower = name.lower()
    return lower == "id" or lower.endswith("_id") or lower.endswith("_key") or lower.startswith("tok_")


def suggest_chart(df: pl.DataFrame) -> ChartSpec | None:
    """A default chart chosen from the result; None when a chart would mislead or say nothing.

    time × measure -> line; category × measure -> bar, largest first; two measures -> scatter; a repeated
    category alone -> bar of counts; a measure alone -> tick strip. No chart for a wide result (a `SELECT *`
    is a table to read), nor over id-like columns (keys, or a text column whose every value differs, such as
    a name: a count per name is 1 everywhere), nor for a measure that is the same on every row (a flat line).
    """
    if df.width == 0 or df.height == 0 or df.width > WIDE:
        return None
    kinds = _kinds(df)
    constant = {c for c in df.columns if df.height > 1 and df.get_column(c).n_unique() == 1}
    temporal = [c for c, k in kinds.items() if k == "temporal" and c not in constant]
    numbers = [c for c, k in kinds.items() if k == "quantitative" and not _looks_like_key(df, c)]
    moving = [c for c in numbers if c not in constant]  # a measure the same on every row draws a flat line
    categories = [c for c, k in kinds.items() if k == "nominal" and df.schema[c] != pl.Null
                  and not _looks_like_key(df, c)]
    distinct = {c: df.get_column(c).n_unique() for c in categories}
    groups = sorted((c for c in categories if (distinct[c] > 1 or df.height == 1) and distinct[c] <= MAX_BARS),
                    key=lambda c: -distinct[c])
    repeated_groups = [c for c in groups if distinct[c] < df.height]
    legend = next((c for c in groups if 1 < distinct[c] <= MAX_COLOURS), None)
    if temporal and moving:
        x = temporal[0]
        repeated = df.get_column(x).n_unique() < df.height
        color = legend if repeated else None
        aggregate = "sum" if repeated and color is None else None
        if color is not None and df.select(pl.struct(x, color).n_unique()).item() < df.height:
            aggregate = "sum"
        return ChartSpec(mark="line", x=x, y=moving[0], color=color, aggregate=aggregate)
    if groups and numbers:
        x = groups[0]
        color = next((c for c in groups[1:] if 1 < distinct[c] <= MAX_COLOURS), None)
        keys = [x, color] if color else [x]
        repeated = df.select(pl.struct(keys).n_unique()).item() < df.height
        return ChartSpec(mark="bar", x=x, y=numbers[0], color=color, aggregate="sum" if repeated else None,
                         sort="-y" if color is None else None)
    if temporal and numbers:
        return None
    if len(numbers) >= 2:
        return ChartSpec(mark="point", x=numbers[0], y=numbers[1], color=legend)
    if temporal and df.get_column(temporal[0]).n_unique() < df.height:
        return ChartSpec(mark="line", x=temporal[0], aggregate="count")
    if repeated_groups:
        return ChartSpec(mark="bar", x=repeated_groups[-1], aggregate="count", sort="-y")
    if numbers:
        return ChartSpec(mark="tick", x=numbers[0])
    return None


def zoomed_domain(values: list[float | None], low: float = 0.0, high: float = 100.0,
                  least: float = 5.0) -> list[float]:
    """A y-axis range that shows how `values` move: their own range padded by a tenth (at least `least`
    wide), kept inside [low, high]. A 0–100 axis draws scores between 97 and 100 as one flat line."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return [low, high]
    bottom, top = min(present), max(present)
    pad = max((top - bottom) * 0.1, (least - (top - bottom)) / 2, 0.5)
    bottom, top = max(low, bottom - pad), min(high, top + pad)
    if top - bottom < least:
        bottom, top = (max(low, top - least), top) if top >= high else (bottom, min(high, bottom + least))
    return [math.floor(bottom), math.ceil(top)]


def x_axis(data: pl.DataFrame, column: str, kind: str) -> "alt.Axis":
    """Readable x labels: short category labels stay level (Vega-Lite turns every nominal label 90°); long
    ones lean 40° and are cut with an ellipsis."""
    import altair as alt

    if kind != "nominal" or column not in data.columns:
        return alt.Axis(labelAngle=0, labelOverlap=True)
    values = data.get_column(column).drop_nulls().cast(pl.String).unique()
    longest = int(values.str.len_chars().max() or 0) if values.len() else 0
    if longest <= SHORT_LABEL and (values.len() <= 12 or longest <= 3):
        return alt.Axis(labelAngle=0, labelLimit=160)
    return alt.Axis(labelAngle=-40, labelLimit=140, labelAlign="right")


def colour_scale() -> "alt.Scale":
    """The app's one categorical colour scale (PALETTE)."""
    import altair as alt

    return alt.Scale(range=list(PALETTE))


def themed(chart):
    """A top-level chart drawn in the app's palette (categories, and the colour of a single series)."""
    return chart.configure_range(category=list(PALETTE)).configure_mark(color=PALETTE[0])


# ---------------------------------------------------------------- rendering

def _field(name: str) -> str:
    """Altair reads '.', '[' and ']' in a field name as nesting; escape them so any column name works."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def _check(df: pl.DataFrame, spec: ChartSpec) -> None:
    missing = [c for c in spec.columns() if c not in df.columns]
    if missing:
        have = ", ".join(df.columns) or "no columns"
        raise ChartError(f"The chart names {', '.join(repr(c) for c in missing)}, which the result does not have "
                         f"(it has {have}). Pick the chart's columns again.")
    kinds = _kinds(df)
    if spec.aggregate not in (None, "count") and spec.y and kinds[spec.y] != "quantitative":
        raise ChartError(f"Cannot take the {spec.aggregate} of {spec.y!r}: it is not a number "
                         f"({df.schema[spec.y]}). Use count, or pick a numeric y column.")


def _aggregated(df: pl.DataFrame, spec: ChartSpec) -> tuple[pl.DataFrame, str]:
    """Aggregate in polars (not in the browser), so a million-row result draws as a few marks."""
    keys = [c for c in (spec.x, spec.color) if c and c != spec.y]
    value = "count" if spec.aggregate == "count" else f"{spec.aggregate} of {spec.y}"
    if spec.aggregate == "count":
        agg = pl.len().alias(value)
    else:
        agg = getattr(pl.col(spec.y), spec.aggregate)().alias(value)  # type: ignore[arg-type]
    frame = df.group_by(keys, maintain_order=True).agg(agg) if keys else df.select(agg)
    return frame, value


def _result_order(data: pl.DataFrame, column: str | None, kinds: dict[str, str]) -> list[str] | None:
    """Categories in the order the result lists them: keeps the query's ORDER BY (Vega would sort them
    alphabetically)."""
    if not column or kinds.get(column) != "nominal" or column not in data.columns:
        return None
    order = data.get_column(column).drop_nulls().unique(maintain_order=True)
    return order.cast(pl.String).to_list() if order.len() <= 200 else None


def render_chart(df: pl.DataFrame, spec: ChartSpec) -> alt.Chart:
    """The Altair chart `spec` describes over `df`; ChartError names a column the result lacks."""
    import altair as alt

    _check(df, spec)
    kinds = _kinds(df)
    y, subtitle = spec.y, None
    data = df.select(list(dict.fromkeys(spec.columns())))
    if spec.aggregate:
        data, y = _aggregated(df, spec)
        kinds[y] = "quantitative"
    if data.height > MAX_POINTS:
        subtitle = f"first {MAX_POINTS:,} of {data.height:,} rows (aggregate to see them all)"
        data = data.head(MAX_POINTS)
    for name, kind in kinds.items():  # Altair cannot serialise every polars type; durations etc. become text
        if name in data.columns and kind == "nominal" and data.schema[name] != pl.String:
            data = data.with_columns(pl.col(name).cast(pl.String))
    encodings: dict[str, alt.X | alt.Y | alt.Color | alt.Theta | alt.Tooltip] = {}
    tooltip = [alt.Tooltip(field=_field(c), type=kinds[c], title=c) for c in data.columns]  # type: ignore[arg-type]
    sort_x, sort_y = _result_order(data, spec.x, kinds), _result_order(data, y, kinds)
    if spec.mark == "arc":
        category = spec.x or spec.color
        if category is None or y is None:
            raise ChartError("A pie (arc) chart needs a category column (x) and a value (y or count).")
        encodings["theta"] = alt.Theta(field=_field(y), type="quantitative", title=y, stack=True)
        encodings["color"] = alt.Color(field=_field(category), type=kinds[category], title=category,  # type: ignore[arg-type]
                                       scale=colour_scale())
    else:
        if spec.sort == "-y" and y and kinds.get(spec.x or "") == "nominal":
            sort_x = "-y"  # type: ignore[assignment]
        if spec.x:
            encodings["x"] = alt.X(field=_field(spec.x), type=kinds[spec.x], title=spec.x, sort=sort_x,  # type: ignore[arg-type]
                                   axis=x_axis(data, spec.x, kinds[spec.x]))
        if y:
            encodings["y"] = alt.Y(field=_field(y), type=kinds[y], title=y, sort=sort_y)  # type: ignore[arg-type]
        if spec.color:
            encodings["color"] = alt.Color(field=_field(spec.color), type=kinds[spec.color], title=spec.color,  # type: ignore[arg-type]
                                           scale=colour_scale() if kinds[spec.color] == "nominal" else alt.Undefined)
    mark = {"line": {"point": data.height <= 60}, "point": {"filled": True, "opacity": 0.7}}.get(spec.mark, {})
    if not spec.color and spec.mark != "arc":
        mark = {**mark, "color": PALETTE[0]}
    chart = alt.Chart(data).mark_rect() if spec.mark == "rect" else getattr(alt.Chart(data), f"mark_{spec.mark}")(
        tooltip=True, **mark)
    chart = chart.encode(tooltip=tooltip, **encodings)
    if spec.title or subtitle:
        chart = chart.properties(title=alt.TitleParams(spec.title or "", subtitle=subtitle or ""))
    return chart.properties(width="container")


def chart_code(spec: ChartSpec, frame_name: str = "df") -> str:
    """Python that rebuilds this chart in a notebook through the catalog API (for `.ipynb` export)."""
    return (f"from catalog.charts import ChartSpec, render_chart\n"
            f"render_chart({frame_name}, ChartSpec.model_validate({spec.model_dump(exclude_none=True)!r}))")
