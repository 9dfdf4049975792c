"""The Workbench editor in Chromium as a person types: Enter makes a new line even with the completion popup
open, Tab accepts a completion; Cancel stops a running query within a second and says so."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-editor")]

SLOW = ("SELECT count(*) AS n FROM retail.transactions a, retail.transactions b, retail.transactions c "
        "WHERE a.amount + b.amount > c.amount")


def editor_text(editor) -> str:
    return "\n".join(editor.locator(".ace_line").all_inner_texts())


def test_enter_is_a_newline_tab_completes_and_cancel_stops_the_query(sample_copy, app_server, page, screenshot):
    server = app_server(sample_copy("banking"))
    page.goto(f"{server.url}/workbench")
    wait_for_app(page)
    page.get_by_role("heading", name="Workbench").wait_for()
    editor = page.frame_locator("iframe[title*='code_editor']").first
    editor.locator(".ace_content").first.click()
    page.keyboard.type("SELECT c.age AS customers", delay=25)
    editor.locator(".ace_autocomplete").wait_for()  # the popup offers retail.customers …
    page.keyboard.press("Enter")  # … and Enter still ends the line
    page.keyboard.type("FROM retail.custo", delay=25)
    editor.locator(".ace_autocomplete").wait_for()
    page.keyboard.press("Tab")  # Tab accepts the completion
    page.wait_for_timeout(300)
    lines = editor.locator(".ace_line").all_inner_texts()
    assert lines[0] == "SELECT c.age AS customers", lines
    assert lines[1].startswith("FROM retail.customers"), lines

    page.goto(f"{server.url}/workbench?sql={quote(SLOW)}")
    wait_for_app(page)
    editor = page.frame_locator("iframe[title*='code_editor']").first
    editor.locator(".ace_content").first.click()
    page.keyboard.press("Control+Enter")
    cancel = page.get_by_role("button", name="Cancel")
    cancel.wait_for(timeout=30_000)
    page.get_by_text("Running the query…").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "workbench-running")
    clock = page.get_by_text("Running the query…").first.inner_text()
    asked = time.monotonic()
    cancel.click()
    page.get_by_text("The query was cancelled").first.wait_for(timeout=30_000)
    shown = time.monotonic() - asked
    # the query (minutes of work) stopped soon after the click: its run time ("cancelled after N s") against the
    # clock at the click. How soon on a quiet machine (within a second) is tests/query/test_session_cancel.py's
    # measure; a browser on a shared, loaded machine only shows that the click stopped it.
    ran = float(page.get_by_text("The query was cancelled").first.inner_text().split("after ")[1].split(" s")[0])
    ticking = float(clock.rsplit("…", 1)[1].strip().removesuffix("s").strip())
    assert ran - ticking < shown + 1.0, (ran, ticking, shown)
    wait_for_app(page)
    # the run that noticed the click drew the outcome: no Cancel is left over for a query that no longer runs
    assert page.get_by_role("button", name="Cancel").count() == 0
    assert page.get_by_text("Running the query…").count() == 0 and page.get_by_text("Cancelling…").count() == 0
