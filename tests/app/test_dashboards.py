"""The Dashboards page through Streamlit's AppTest: list, deep link, filters, roles, problems, pinning."""

from __future__ import annotations

from pathlib import Path

import catalog
from catalog.charts import ChartSpec
from streamlit.testing.v1 import AppTest

from apptest import open_app, page_links, plain

from tests.dashboards.test_dashboards import BOARD, board_file

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


def open_page(mesh: Path, dashboard: str | None = None, **state) -> AppTest:
    return open_app(mesh, "views/dashboards.py", {"dashboard": dashboard}, **state)


def captions(at: AppTest) -> list[str]:
    return [plain(c.value) for c in at.caption]


def test_the_list_shows_dashboards_by_domain_with_owner_and_last_view(minimesh):
    board_file(minimesh)
    catalog.open_mesh(minimesh).dashboards.record_view("retail.overview", "sam@bank.example", "steward")
    at = open_page(minimesh)
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Retail"]
    assert [p.proto.label for p in at.get("page_link")] == ["Customer overview"]
    assert at.get("page_link")[0].proto.page.endswith("dashboards") or "dashboard" in at.get("page_link")[0].proto.query_string
    card = next(m.value for m in at.markdown if "Owner:" in m.value)
    assert "ana.silva@bank.example" in card and "3 tiles" in card and "by sam@bank.example" in card


def test_the_deep_link_opens_the_dashboard_with_masked_tiles_for_an_analyst(minimesh):
    board_file(minimesh)
    at = open_page(minimesh, "retail.overview")
    assert not at.exception
    assert at.title[0].value == "Customer overview"
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[0].value
    assert table["email"].to_list()[0] == "***@bank.example"
    assert any("may not see" in w.value for w in at.warning)
    assert any("data as of" in c and "3 rows" in c for c in captions(at))
    links = [link for link in page_links(at) if link["label"] == "Open in workbench"]
    assert len(links) == 3 and links[0]["sql"].startswith("SELECT customer_id")
    assert links[0]["mesh"] == "mini" and links[0]["role"] == "analyst"
    views = catalog.open_mesh(minimesh).dashboards.last_views()
    assert views["retail.overview"][1] != ""


def test_a_steward_sees_raw_values_and_the_restricted_tile(minimesh):
    board_file(minimesh)
    at = open_page(minimesh, "retail.overview", role="steward")
    assert not at.exception and not at.warning
    assert at.dataframe[0].value["email"].to_list()[0] == "ana@bank.example"
    assert len(at.dataframe) == 2


def test_a_shared_filter_narrows_every_tile_with_its_column(minimesh):
    board_file(minimesh)
    at = open_page(minimesh, "retail.overview", role="steward")
    names = at.multiselect(key="dashfilter_retail.overview_full_name")
    assert names.options == ["Ana Silva", "Bo Chen", "Cy Diaz"]
    names.set_value(["Bo Chen"]).run()
    assert not at.exception
    assert at.dataframe[0].value["full_name"].to_list() == ["Bo Chen"]
    assert any("filtered by full_name" in c for c in captions(at))


def test_a_broken_tile_shows_its_problem_and_the_others_render(minimesh):
    board_file(minimesh, BOARD.replace("mark: bar", "mark: pie"))
    at = open_page(minimesh, "retail.overview", role="steward")
    assert not at.exception
    [error] = at.error
    assert "overview.yaml:16" in plain(error.value) and "tiles.1.chart.mark" in plain(error.value)
    assert len(at.dataframe) == 2


def test_an_unknown_dashboard_in_the_link_says_not_found_and_shows_no_other(minimesh):
    board_file(minimesh)
    at = open_page(minimesh, "retail.nope")
    assert not at.exception
    assert "no dashboard 'retail.nope'" in plain(at.warning[0].value)
    assert [t.value for t in at.title] == ["Dashboard not found"] and not at.dataframe
    assert [link["label"] for link in page_links(at)] == ["All dashboards"]


def test_pin_button_writes_a_new_dashboard(minimesh):
    script = f"""
import sys
sys.path.insert(0, {str(Path(APP).parent)!r})
import catalog
from catalog.charts import ChartSpec
from components.pin import pin_button
mesh = catalog.open_mesh({str(minimesh)!r})
pin_button(mesh, "SELECT customer_id, score FROM risk.scores", ChartSpec(mark="bar", x="customer_id", y="score"),
           key="cell1")
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.selectbox, "a closed popover draws no form"
    at.session_state["cell1_pin_open"] = True  # the person opens it
    at.run()
    at.selectbox(key="cell1_pin_board").set_value("A new dashboard…").run()
    at.selectbox(key="cell1_pin_domain").set_value("risk").run()
    at.text_input(key="cell1_pin_title").input("Score watch").run()
    at.text_input(key="cell1_pin_tile").input("Scores per customer").run()
    at.button(key="cell1_pin_go").click().run()
    assert not at.exception
    assert "Pinned to `risk.score_watch`" in at.success[0].value
    board = catalog.open_mesh(minimesh).dashboards.get("risk.score_watch")
    assert board.title == "Score watch"
    assert board.tiles[0].tile.chart == ChartSpec(mark="bar", x="customer_id", y="score")


def test_a_chart_naming_a_column_the_result_lacks_is_a_tile_message(minimesh):
    board_file(minimesh, BOARD.replace("x: customer_id, y: score", "x: customer_id, y: scor"))
    at = open_page(minimesh, "retail.overview", role="steward")
    assert not at.exception
    [warning] = at.warning
    assert "The chart cannot be drawn" in warning.value and "'scor'" in warning.value
    assert len(at.dataframe) == 2


def test_a_filter_set_on_a_column_a_tile_lacks_is_noted_on_that_tile(minimesh):
    board_file(minimesh)
    at = open_page(minimesh, "retail.overview", role="steward")
    at.multiselect(key="dashfilter_retail.overview_full_name").set_value(["Ana Silva"]).run()
    notes = captions(at)
    assert any("filtered by full_name" in c for c in notes)
    assert sum("not filtered by full_name (no such column)" in c for c in notes) == 2  # Scores and Limits
