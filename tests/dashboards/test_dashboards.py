"""Dashboards: YAML round trip and validation, shared filters, masking per viewer, the tile cache, export."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

import catalog
from catalog.charts import ChartSpec
from catalog.dashboards.run import filtered_sql
from catalog.dashboards.model import Tile, load_dashboard, slug
from catalog.errors import MeshError
from minimesh import write

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"

BOARD = """
title: Customer overview
owner: ana.silva@bank.example
description: Who our customers are.
filters:
  - {name: age, kind: range, label: Age}
  - {name: full_name, kind: select}
  - {name: band, column: score, kind: range}
tiles:
  - title: Customers
    query: |
      SELECT customer_id, full_name, email, age FROM retail.customers
    size: full
    order: 1
  - title: Scores
    query: SELECT customer_id, score FROM risk.scores
    chart: {mark: bar, x: customer_id, y: score}
    size: medium
    order: 2
  - title: Limits
    query: SELECT customer_id, credit_limit FROM risk.limits
    size: medium
    order: 3
"""


def board_file(mesh_root: Path, text: str = BOARD, name: str = "overview") -> Path:
    return write(mesh_root / "retail" / "dashboards" / f"{name}.yaml", text)


def result(results, title):
    return next(r for r in results if r.slot.title == title)


# ---------------------------------------------------------------- YAML

def test_pinned_tiles_round_trip_through_the_yaml_file(minimesh):
    mesh = catalog.open_mesh(minimesh)
    chart = ChartSpec(mark="bar", x="customer_id", y="score", title="Scores")
    path = mesh.dashboards.pin("risk.scoring", Tile(title="Scores", query="SELECT * FROM risk.scores", chart=chart),
                               title="Scoring", user="risk-team@bank.example")
    mesh.dashboards.pin("risk.scoring", Tile(title="Count", query="SELECT count(*) AS n FROM risk.scores",
                                             size="small"), user="risk-team@bank.example")
    assert path == minimesh / "risk" / "dashboards" / "scoring.yaml"
    assert "query: |" in path.read_text()  # SQL is a literal block a reviewer can read
    board = mesh.dashboards.get("risk.scoring")
    assert (board.title, board.owner, board.problems) == ("Scoring", "risk-team@bank.example", [])
    assert [(s.tile.title, s.tile.order, s.tile.size) for s in board.tiles] == [("Scores", 0, "medium"),
                                                                               ("Count", 1, "small")]
    assert board.tiles[0].tile.chart == chart
    before = path.read_text()
    mesh.dashboards.save(board, user="risk-team@bank.example")
    assert path.read_text() == before
    again = load_dashboard(mesh.declared, path)
    assert [s.tile for s in again.tiles] == [s.tile for s in board.tiles]


def test_a_broken_tile_is_a_problem_with_file_and_line_and_the_others_still_render(minimesh):
    board_file(minimesh, BOARD.replace("chart: {mark: bar, x: customer_id, y: score}",
                                       "chart: {mark: pie, x: customer_id, y: score}"))
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    [problem] = board.problems
    assert problem.path.endswith("retail/dashboards/overview.yaml")
    assert problem.line == 16 and problem.field == "tiles.1.chart.mark" and "'bar'" in problem.message
    results = mesh.dashboards.run(board, "steward", "sam@bank.example")
    assert "overview.yaml:16" in result(results, "Scores").error
    assert result(results, "Customers").frame.height == 3 and result(results, "Limits").frame.height == 2


def test_bad_yaml_unknown_fields_and_unparseable_sql_are_located(minimesh):
    board_file(minimesh, "title: [unclosed\n", name="broken")
    board_file(minimesh, BOARD.replace("size: full", "sise: full").replace(
        "SELECT customer_id, score FROM risk.scores", "SELEKT customer_id FROM risk.scores"), name="typos")
    boards = catalog.open_mesh(minimesh).dashboards.list()
    assert boards["retail.broken"].unreadable and boards["retail.broken"].problems[0].line == 2
    problems = {p.field: p for p in boards["retail.typos"].problems}
    assert problems["tiles.0.sise"].line == 12 and "unknown field" in problems["tiles.0.sise"].message
    assert problems["tiles.1.query"].line == 15 and "not one SELECT" in problems["tiles.1.query"].message


def test_a_tile_naming_a_removed_product_or_column_says_so_and_the_rest_works(minimesh):
    text = BOARD.replace("FROM risk.limits", "FROM risk.old_limits").replace(
        "SELECT customer_id, score FROM", "SELECT customer_id, scoer FROM")
    board_file(minimesh, text)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    assert any("risk.old_limits, which is not a product of this mesh" in p.message and p.line == 20
               for p in board.problems)
    results = mesh.dashboards.run(board, "steward", "sam@bank.example")
    assert "risk.old_limits" in result(results, "Limits").error
    assert "scoer" in result(results, "Scores").error
    assert result(results, "Customers").ok


def test_pinning_keeps_tiles_that_are_broken_today(minimesh):
    path = board_file(minimesh, BOARD.replace("size: full", "size: huge"))
    mesh = catalog.open_mesh(minimesh)
    mesh.dashboards.pin("retail.overview", Tile(title="Branches", query="SELECT * FROM retail.branches"),
                        user="ana.silva@bank.example")
    board = mesh.dashboards.get("retail.overview")
    assert [s.title for s in board.slots] == ["Customers", "Scores", "Limits", "Branches"]
    assert "size: huge" in path.read_text() and board.slots[0].broken
    assert board.slots[3].tile.order == 4
    with pytest.raises(MeshError, match="broken content"):
        mesh.dashboards.save(board, user="ana.silva@bank.example")


def test_pinning_to_an_unknown_domain_or_a_bad_name_is_refused(minimesh):
    mesh = catalog.open_mesh(minimesh)
    tile = Tile(title="x", query="SELECT 1 AS one")
    with pytest.raises(MeshError, match="no domain 'sales'"):
        mesh.dashboards.pin("sales.board", tile)
    with pytest.raises(MeshError, match="lower-case"):
        mesh.dashboards.pin("retail.My Board", tile)
    assert slug("Customer 360 / Risk") == "customer_360_risk" and slug("360 view") == "dashboard_360_view"
    with pytest.raises(ValueError, match="not one SELECT"):
        Tile(title="x", query="DROP TABLE retail.customers")


# ---------------------------------------------------------------- filters

def test_filters_wrap_the_tile_query_and_apply_only_where_the_column_exists(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    results = mesh.dashboards.run(board, "steward", "sam@bank.example", {"age": [30, 40], "band": [600, None]})
    customers, scores, limits = (result(results, t) for t in ("Customers", "Scores", "Limits"))
    assert customers.frame["full_name"].to_list() == ["Ana Silva"]
    assert customers.applied == ["age"] and customers.not_applied == ["band"]
    assert 'WHERE "tile"."age" >= 30 AND "tile"."age" <= 40' in customers.sql
    assert sorted(scores.frame["score"].to_list()) == [640, 700] and scores.applied == ["band"]
    assert limits.applied == [] and limits.frame.height == 2
    picked = mesh.dashboards.run(board, "steward", "sam@bank.example", {"full_name": ["Bo Chen", "Cy Diaz"]})
    assert sorted(result(picked, "Customers").frame["full_name"].to_list()) == ["Bo Chen", "Cy Diaz"]


def test_select_options_come_from_the_first_tile_with_the_column_as_the_viewer_sees_it(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    spec = board.filter("full_name")
    assert mesh.dashboards.filter_options(board, spec, "steward", "s@x") == ["Ana Silva", "Bo Chen", "Cy Diaz"]
    assert mesh.dashboards.filter_options(board, spec, "analyst", "a@x") == ["A. S.", "B. C.", "C. D."]


def test_date_range_filters_compare_dates_and_bad_values_are_a_message(minimesh):
    text = BOARD.replace("filters:\n", "filters:\n  - {name: since, kind: date_range}\n").replace(
        "SELECT customer_id, full_name, email, age FROM retail.customers",
        "SELECT customer_id, age, DATE '2026-01-01' + age::INTEGER AS since FROM retail.customers")
    board_file(minimesh, text)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    results = mesh.dashboards.run(board, "steward", "s@x", {"since": ["2026-02-01", "2026-02-10"]})
    assert result(results, "Customers").frame["age"].to_list() == [34]
    bad = mesh.dashboards.run(board, "steward", "s@x", {"since": ["soon", None]})
    assert "'soon' is not a date" in result(bad, "Customers").error and result(bad, "Scores").ok


def test_a_filter_bound_to_a_missing_column_is_a_tile_message(minimesh):
    text = BOARD.replace("    size: full\n", "    size: full\n    filters: {band: credit_band}\n")
    board_file(minimesh, text)
    mesh = catalog.open_mesh(minimesh)
    results = mesh.dashboards.run(mesh.dashboards.get("retail.overview"), "steward", "s@x")
    message = result(results, "Customers").error
    assert "'band' is bound to the column 'credit_band'" in message and "customer_id, full_name" in message
    assert result(results, "Scores").ok


def test_filtered_sql_is_built_as_a_tree_not_pasted():
    from sqlglot import exp

    sql = filtered_sql("SELECT a FROM x.y; ", [exp.column("a").eq(exp.convert("it's"))])
    assert sql == "SELECT * FROM (SELECT a FROM x.y) AS tile WHERE a = 'it''s'"


# ---------------------------------------------------------------- role-aware

def test_the_same_dashboard_masks_for_the_analyst_and_hides_restricted_tiles(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    analyst = mesh.dashboards.run(board, "analyst", "ana@bank.example")
    steward = mesh.dashboards.run(board, "steward", "sam@bank.example")
    assert result(analyst, "Customers").frame["email"].to_list()[0] == "***@bank.example"
    assert result(steward, "Customers").frame["email"].to_list()[0] == "ana@bank.example"
    assert "your role (analyst) may not see" in result(analyst, "Limits").error
    assert result(steward, "Limits").frame.height == 2


# ---------------------------------------------------------------- cache

def test_a_second_open_is_served_from_the_cache_until_a_source_file_changes(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    first = mesh.dashboards.run(board, "steward", "s@x")
    scanned = mesh.usage()
    second = mesh.dashboards.run(board, "steward", "s@x")
    assert not any(r.cached for r in first) and all(r.cached for r in second if r.ok)
    # nothing was scanned again, but the second view still counts as a read of each tile's products
    served = mesh.usage().filter(pl.col("duration_ms") == 0)
    assert served.height == scanned.height > 0
    assert sorted(served["product_id"]) == sorted(scanned["product_id"]) and set(served["user"]) == {"s@x"}
    assert not result(mesh.dashboards.run(board, "analyst", "a@x"), "Customers").cached  # per role

    data = minimesh / "retail" / "data" / "customers.parquet"
    duckdb.sql(f"COPY (SELECT 'C9' AS customer_id, 'Di Eve' AS full_name, 'di@bank.example' AS email, "
               f"'000-00-0000' AS ssn, 40 AS age) TO '{data}' (FORMAT parquet)")
    os.utime(data, (time.time() + 5, time.time() + 5))
    third = mesh.dashboards.run(board, "steward", "s@x")
    assert not result(third, "Customers").cached and result(third, "Customers").frame["full_name"].to_list() == ["Di Eve"]
    assert result(third, "Scores").cached  # its source did not change


def test_tiles_run_in_parallel_and_report_progress(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    seen = []
    results = mesh.dashboards.run(board, "steward", "s@x", on_tile=lambda r, done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [r.slot.title for r in results] == ["Customers", "Scores", "Limits"]
    assert results[0].data_as_of is not None and "data as of" in results[0].freshness()


# ---------------------------------------------------------------- last view and export

def test_the_last_view_of_each_dashboard_is_recorded(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    mesh.dashboards.record_view("retail.overview", "ana@bank.example", "analyst")
    mesh.dashboards.record_view("retail.overview", "sam@bank.example", "steward")
    listing = mesh.dashboards.catalog().row(0, named=True)
    assert (listing["id"], listing["last_viewed_by"], listing["tiles"]) == ("retail.overview", "sam@bank.example", 3)


def test_html_export_is_self_contained_and_data_exports_per_tile(minimesh, tmp_path):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    board = mesh.dashboards.get("retail.overview")
    html = mesh.dashboards.export_html(board, "analyst", "ana@bank.example", tmp_path / "board.html")
    assert (tmp_path / "board.html").read_text() == html
    assert "<svg" in html and "<script" not in html and "src=" not in html
    assert "***@bank.example" in html and "ana@bank.example</td>" not in html
    assert "may not see" in html and "as role <b>analyst</b>" in html
    files = mesh.dashboards.export_data(board, tmp_path / "data", "steward", "s@x", "parquet")
    assert pl.read_parquet(files["Customers"]).height == 3
    files = mesh.dashboards.export_data(board, tmp_path / "csv", "analyst", "a@x", "csv",
                                       values={"age": [30, 60]})
    assert pl.read_csv(files["Customers"]).height == 2 and "may not see" in files["Limits"]


# ---------------------------------------------------------------- samples

def test_each_sample_mesh_ships_at_least_two_dashboards_that_load_cleanly():
    for name in ("banking", "life_sciences", "supply_chain"):
        mesh = catalog.open_mesh(SAMPLES / name, state_dir=None)
        boards = mesh.dashboards.list()
        assert len(boards) >= 2, name
        for board in boards.values():
            assert board.problems == [], (board.id, board.problems)
            assert len(board.slots) >= 3 and board.filters, board.id


def test_a_sample_dashboard_runs_every_tile_for_a_steward(sample_copy):
    mesh = catalog.open_mesh(sample_copy("supply_chain"))
    for board in mesh.dashboards.list().values():
        for tile in mesh.dashboards.run(board, "steward", "s@x"):
            assert tile.ok and tile.frame.height > 0, (board.id, tile.slot.title, tile.error)


def test_cli_lists_dashboards_and_exports_html_and_csv(minimesh, tmp_path):
    from typer.testing import CliRunner

    from catalog.cli import app

    board_file(minimesh)
    runner = CliRunner()
    listed = runner.invoke(app, ["dashboard", "list", str(minimesh)])
    assert listed.exit_code == 0 and "retail.overview\tCustomer overview\tana.silva@bank.example\t3 tiles" in listed.stdout
    out = tmp_path / "board.html"
    html = runner.invoke(app, ["dashboard", "export", str(minimesh), "retail.overview", "-o", str(out),
                               "--role", "steward"])
    assert html.exit_code == 0 and "<svg" in out.read_text()
    data = runner.invoke(app, ["dashboard", "export", str(minimesh), "retail.overview", "-o", str(tmp_path / "d"),
                               "-f", "csv"])
    assert data.exit_code == 1 and "may not see" in data.stdout  # the analyst's restricted tile
    assert pl.read_csv(tmp_path / "d" / "01_customers.csv").height == 3


def test_a_filter_default_that_does_not_fit_its_kind_is_a_located_problem(minimesh):
    board_file(minimesh, BOARD.replace("{name: age, kind: range, label: Age}",
                                       "{name: age, kind: range, label: Age, default: [young, 40]}"))
    board = catalog.open_mesh(minimesh).dashboards.get("retail.overview")
    [problem] = board.problems
    assert (problem.field, problem.line) == ("filters.0", 5) and "'young' is not a number" in problem.message
    assert board.filter("age") is None and board.filter("full_name") is not None


def test_the_dashboard_list_is_read_again_only_when_a_file_changes(minimesh):
    board_file(minimesh)
    mesh = catalog.open_mesh(minimesh)
    first = mesh.dashboards.list()
    assert mesh.dashboards.list() is first  # nothing changed: no file is parsed again
    mesh.dashboards.pin("risk.new_board", Tile(title="Scores", query="SELECT * FROM risk.scores"), title="New")
    after_pin = mesh.dashboards.list()
    assert after_pin is not first and set(after_pin) == {*first, "risk.new_board"}
    (minimesh / "risk" / "dashboards" / "new_board.yaml").unlink()
    assert set(mesh.dashboards.list()) == set(first)
