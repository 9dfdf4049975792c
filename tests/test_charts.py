"""Chart specs, the default chart picked from a result's types, and their Altair rendering."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pydantic
import pytest

from catalog.charts import MAX_POINTS, ChartSpec, chart_code, render_chart, suggest_chart
from catalog.errors import ChartError, MeshError


def test_temporal_x_and_a_number_suggest_a_line():
    df = pl.DataFrame({"day": [dt.date(2026, 1, d) for d in range(1, 6)], "amount": [1.0, 2, 3, 4, 5]})
    assert suggest_chart(df) == ChartSpec(mark="line", x="day", y="amount")


def test_repeated_dates_with_a_small_category_colour_the_lines():
    df = pl.DataFrame({"day": [dt.date(2026, 1, d) for d in (1, 1, 2, 2)], "segment": ["a", "b", "a", "b"],
                       "n": [1, 2, 3, 4]})
    assert suggest_chart(df) == ChartSpec(mark="line", x="day", y="n", color="segment")


def test_one_category_and_one_number_suggest_a_bar():
    df = pl.DataFrame({"segment": ["gold", "silver", "bronze"], "customers": [10, 20, 30]})
    assert suggest_chart(df) == ChartSpec(mark="bar", x="segment", y="customers", sort="-y")


def test_repeated_categories_are_summed():
    df = pl.DataFrame({"segment": ["gold", "gold", "silver"], "customers": [10, 20, 30]})
    assert suggest_chart(df).aggregate == "sum"


def test_two_numbers_suggest_a_scatter_and_keys_are_not_measures():
    df = pl.DataFrame({"customer_id": [1, 2, 3], "age": [30, 40, 50], "score": [600, 650, 700]})
    assert suggest_chart(df) == ChartSpec(mark="point", x="age", y="score")


def test_a_category_alone_is_counted_and_an_empty_result_has_no_chart():
    assert suggest_chart(pl.DataFrame({"city": ["a", "b", "a"]})) == ChartSpec(mark="bar", x="city",
                                                                                aggregate="count", sort="-y")
    assert suggest_chart(pl.DataFrame({"city": []}, schema={"city": pl.String})) is None
    assert suggest_chart(pl.DataFrame()) is None


def test_render_aggregates_in_polars_before_drawing():
    df = pl.DataFrame({"segment": ["gold"] * 9000 + ["silver"] * 1000, "amount": [1.0] * 10_000})
    chart = render_chart(df, ChartSpec(mark="bar", x="segment", y="amount", aggregate="sum"))
    spec = chart.to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert sorted((v["segment"], v["sum of amount"]) for v in values) == [("gold", 9000.0), ("silver", 1000.0)]
    assert spec["encoding"]["y"]["field"] == "sum of amount"


def test_every_mark_renders_to_vega_lite():
    df = pl.DataFrame({"k": ["a", "b", "c"], "v": [1, 2, 3], "w": [3.5, 2.5, 1.5]})
    for mark in ("bar", "line", "area", "point", "arc", "rect", "tick"):
        spec = ChartSpec(mark=mark, x="k", y="v", color="w" if mark == "rect" else None, title=f"{mark} chart")
        out = render_chart(df, spec).to_dict()
        assert out["mark"]["type"] == mark
        assert out["title"]["text"] == f"{mark} chart"


def test_column_names_with_dots_are_escaped():
    df = pl.DataFrame({"a.b": ["x", "y"], "n[0]": [1, 2]})
    out = render_chart(df, ChartSpec(mark="bar", x="a.b", y="n[0]")).to_dict()
    assert out["encoding"]["x"]["field"] == "a\\.b"
    assert out["encoding"]["y"]["field"] == "n\\[0\\]"


def test_a_spec_naming_a_missing_column_is_a_clear_mesh_error():
    df = pl.DataFrame({"segment": ["a"], "n": [1]})
    with pytest.raises(ChartError, match=r"'amount'.*it has segment, n") as info:
        render_chart(df, ChartSpec(mark="bar", x="segment", y="amount"))
    assert isinstance(info.value, MeshError)


def test_summing_text_is_refused_and_bad_specs_do_not_validate():
    df = pl.DataFrame({"segment": ["a"], "name": ["x"]})
    with pytest.raises(ChartError, match="not a number"):
        render_chart(df, ChartSpec(mark="bar", x="segment", y="name", aggregate="sum"))
    with pytest.raises(pydantic.ValidationError):
        ChartSpec(mark="pie", x="segment")
    with pytest.raises(pydantic.ValidationError):
        ChartSpec(mark="bar")
    with pytest.raises(pydantic.ValidationError):
        ChartSpec(mark="bar", x="segment", aggregate="sum")


def test_large_unaggregated_results_draw_the_first_rows_and_say_so():
    df = pl.DataFrame({"x": list(range(MAX_POINTS + 10)), "y": list(range(MAX_POINTS + 10))})
    out = render_chart(df, ChartSpec(mark="point", x="x", y="y")).to_dict()
    assert "first 5,000 of 5,010 rows" in out["title"]["subtitle"]


def test_chart_code_rebuilds_the_same_spec():
    spec = ChartSpec(mark="line", x="day", y="n", color="segment", aggregate="sum")
    scope: dict = {"df": pl.DataFrame({"day": [dt.date(2026, 1, 1)], "n": [1], "segment": ["a"]})}
    code = chart_code(spec)
    exec(code.replace("render_chart(df", "chart = render_chart(df"), scope)
    assert scope["chart"].to_dict()["mark"]["type"] == "line"


def test_bars_keep_the_order_of_the_result():
    df = pl.DataFrame({"band": ["C", "A", "B"], "n": [1, 3, 2]})
    out = render_chart(df, ChartSpec(mark="bar", x="band", y="n")).to_dict()
    assert out["encoding"]["x"]["sort"] == ["C", "A", "B"]


# ---------------------------------------------------------------- a default chart that means something

def test_a_wide_select_star_gets_no_default_chart():
    df = pl.DataFrame({"customer_id": [1, 2, 3], "full_name": ["a", "b", "c"], "city": ["x", "x", "y"],
                       "age": [30, 40, 50], "score": [1, 1, 1], "segment": ["g", "s", "g"],
                       "since": [dt.date(2020, 1, d) for d in (1, 2, 3)]})
    assert suggest_chart(df) is None


def test_no_count_per_unique_name_and_no_flat_line_of_a_constant():
    names = pl.DataFrame({"full_name": ["Ann", "Bob", "Cy"], "customer_id": [1, 2, 3]})
    assert suggest_chart(names) is None  # a count of 1 per name says nothing
    flat = pl.DataFrame({"day": [dt.date(2026, 1, d) for d in (1, 2, 3)], "one": [1, 1, 1]})
    assert suggest_chart(flat) is None


def test_category_by_measure_is_a_bar_sorted_by_value():
    df = pl.DataFrame({"segment": ["gold", "silver", "bronze"], "customers": [10, 30, 20]})
    spec = suggest_chart(df)
    assert spec.mark == "bar" and spec.sort == "-y"
    assert render_chart(df, spec).to_dict()["encoding"]["x"]["sort"] == "-y"


def test_short_category_labels_are_level_and_long_ones_lean():
    short = pl.DataFrame({"state": ["CA", "NY", "TX"], "n": [1, 2, 3]})
    axis = render_chart(short, ChartSpec(mark="bar", x="state", y="n")).to_dict()["encoding"]["x"]["axis"]
    assert axis["labelAngle"] == 0
    long = pl.DataFrame({"name": [f"a rather long category {i}" for i in range(20)], "n": list(range(20))})
    axis = render_chart(long, ChartSpec(mark="bar", x="name", y="n")).to_dict()["encoding"]["x"]["axis"]
    assert axis["labelAngle"] == -40 and axis["labelLimit"] == 140


def test_one_colour_blind_safe_palette_colours_every_chart():
    from catalog.charts import PALETTE, themed

    df = pl.DataFrame({"k": ["a", "b"], "g": ["x", "y"], "v": [1, 2]})
    out = render_chart(df, ChartSpec(mark="bar", x="k", y="v", color="g")).to_dict()
    assert out["encoding"]["color"]["scale"]["range"] == list(PALETTE)
    single = render_chart(df, ChartSpec(mark="bar", x="k", y="v")).to_dict()
    assert single["mark"]["color"] == PALETTE[0]
    import altair as alt

    assert themed(alt.Chart(df).mark_bar()).to_dict()["config"]["range"]["category"] == list(PALETTE)


def test_score_trends_zoom_to_their_data():
    from catalog.charts import zoomed_domain

    assert zoomed_domain([97.0, 99.5, 100.0]) == [95, 100]
    assert zoomed_domain([60.0, 80.0]) == [58, 82]
    assert zoomed_domain([]) == [0, 100]
    assert zoomed_domain([100.0, 100.0]) == [95, 100]
