"""A person types a query into the Workbench's code editor in Chromium, runs it, sees the table and a chart,
and downloads the full result as CSV."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest

import catalog
from tests import harness

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-workbench")]

QUERY = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"


def test_type_run_see_table_and_chart_then_download_csv(minimesh, app_server, page, screenshot, tmp_path):
    server = app_server(minimesh)
    page.goto(f"{server.url}/workbench")
    wait_for_app(page)
    page.get_by_role("heading", name="Workbench").wait_for()
    editor = page.frame_locator("iframe[title*='code_editor']").first
    harness.focus_editor(page, editor)
    page.keyboard.type("SELECT * FROM retail.cu", delay=20)
    popup = editor.locator(".ace_autocomplete")
    popup.wait_for()
    assert "retail.customers" in popup.inner_text().replace("\n", ""), "products this role can see are completed"
    page.keyboard.press("Escape")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    harness.type_in_editor(page, editor, QUERY, delay=5)
    page.keyboard.press("Control+Enter")
    page.get_by_text("3 rows", exact=False).first.wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    screenshot(page, "workbench")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").first.click()
    path = tmp_path / "result.csv"
    download_info.value.save_as(path)
    frame = pl.read_csv(path)
    assert frame.columns == ["age", "score"] and frame["score"].to_list() == [580, 700, 640]


def test_deep_link_opens_a_cell_with_the_query_and_refusals_explain(minimesh, app_server, page, screenshot):
    server = app_server(minimesh)
    page.goto(f"{server.url}/workbench?sql={quote('SELECT email FROM retail.customers ORDER BY age')}")
    wait_for_app(page)
    harness.run_cell(page)
    cells = page.locator("[data-testid='stDataFrame'] td[role='gridcell']")
    cells.filter(has_text="***@bank.example").first.wait_for(state="attached")
    assert cells.filter(has_text="ana@bank.example").count() == 0
    page.goto(f"{server.url}/workbench?sql={quote('SELECT * FROM read_parquet(' + chr(39) + 'x' + chr(39) + ')')}")
    wait_for_app(page)
    harness.run_cell(page)
    page.get_by_text("Refused.").first.wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export .ipynb").click()
    notebook = json.loads(Path(download_info.value.path()).read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "mesh.session(role='analyst'" in code[0] and "read_parquet" in code[1]
    page.frame_locator("iframe[title*='code_editor']").first.locator(".ace_content").first.wait_for()
    wait_for_app(page)
    screenshot(page, "workbench-refused")


def test_a_workbench_link_runs_nothing_until_the_click(minimesh, app_server, page):
    server = app_server(minimesh, env={"MESHWORK_USER": "ana@bank.example"})
    page.goto(f"{server.url}/workbench?sql={quote('SELECT email, age FROM retail.customers ORDER BY age')}")
    wait_for_app(page)
    page.get_by_text("A link filled a cell below").wait_for()
    page.reload()  # a reload (a new session) fills the cell again and still runs nothing
    wait_for_app(page)
    page.frame_locator("iframe[title*='code_editor']").first.locator(".ace_content").first.wait_for()
    page.wait_for_timeout(1500)
    mesh = catalog.open_mesh(minimesh)
    assert mesh.usage().is_empty(), "no usage event before the click"
    assert mesh.query_history("ana@bank.example").recent() == [], "no history entry before the click"
    assert page.get_by_test_id("stDataFrame").count() == 0
    harness.run_cell(page)
    page.get_by_text("3 rows", exact=False).first.wait_for()
    usage = catalog.open_mesh(minimesh).usage()
    assert usage["product_id"].to_list() == ["retail.customers"] and usage["user"].to_list() == ["ana@bank.example"]
