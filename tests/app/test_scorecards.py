"""The Scorecards and Owner review pages through Streamlit's AppTest: mesh → domain → product → failing
check → example rows, deep links, running checks now, and the review with its exports."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_app, plain

from qualitymesh import build_quality_mesh



def open_page(mesh: Path, page: str, role: str | None = None, **params) -> AppTest:
    return open_app(mesh, page, params, **({"role": role} if role else {}))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    import shutil

    from conftest import SAMPLES

    root = tmp_path_factory.mktemp("bank") / "banking"
    shutil.copytree(SAMPLES / "banking", root, ignore=shutil.ignore_patterns(".meshwork"))
    return root


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_products(at: AppTest) -> set[str]:
    """The product ids in the data of the one chart on the page."""
    (chart,) = at.get("vega_lite_chart")
    return set(pl.from_arrow(pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all())["product_id"])


def test_mesh_level_shows_every_domain_its_score_bar_the_trend_and_the_formula(bank):
    at = open_page(bank, "views/scorecards.py")
    assert not at.exception
    assert metric(at, "Domains") == "5"
    score = next(m for m in at.metric if m.label == "Mean domain score")
    assert "Quality score = 100" in score.help
    domains = at.dataframe[0].value
    assert domains["domain"].to_list() == ["cards", "marketing", "privacy", "retail", "risk"]
    assert len(domains.columns) <= 13 and "owner" not in domains.columns  # fits 1440 px (the browser test looks)
    assert all("/" in checks for checks in domains["checks"])  # passing / all, one column
    score_column = json.loads(at.dataframe[0].proto.columns)["score"]
    assert score_column["type_config"]["type"] == "progress" and score_column["type_config"]["max_value"] == 100
    assert [t.label for t in at.tabs] == ["Score trend", "Products × dimensions"]
    assert [c["title"] for c in charts(at)] == ["Domain score, last 90 days"]  # only the open tab is drawn


def test_heat_map_opens_in_its_tab_and_the_tab_stays_open_on_drill_down(bank):
    at = open_page(bank, "views/scorecards.py", tab="Products × dimensions")
    assert not at.exception
    assert [c["title"] for c in charts(at)] == ["Products × dimensions (0–100)"]
    assert len(chart_products(at)) == at.dataframe[0].value["products"].sum()  # every product of the mesh
    at.selectbox(key="sc_domain").select("risk").run()
    assert not at.exception
    assert at.query_params["domain"] == "risk" and at.query_params["tab"] == "Products × dimensions"
    assert chart_products(at) == {"risk.credit_scores", "risk.customer_exposure", "risk.fraud_alerts",
                                  "risk.loan_applications"}


def test_deep_link_to_a_domain_shows_its_products(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk", role="steward")  # every check is the steward's
    assert not at.exception
    assert at.selectbox(key="sc_domain").value == "risk"
    assert metric(at, "Checks passing") == "16 / 18"
    assert metric(at, "Fresh / late") == "3 / 1"
    facts = next(plain(c.value) for c in at.caption if c.value.startswith("Owner"))
    assert "documentation" in facts and "open incident(s)" in facts and "agreement(s) held" in facts
    assert [u.rsplit("product=", 1)[-1] for u in at.dataframe[0].value["product_id"]] == ["risk.credit_scores", "risk.customer_exposure",
                                                             "risk.fraud_alerts", "risk.loan_applications"]
    table = at.dataframe[0].value
    assert table[table["product_id"].str.endswith("risk.fraud_alerts")]["grade"].iloc[0] == "C"  # its grade
    assert [c["title"] for c in charts(at)] == ["Quality score over time"]
    assert chart_products(at) <= {u.rsplit("product=", 1)[-1] for u in at.dataframe[0].value["product_id"]}


def test_a_domain_whose_product_fails_an_error_check_is_graded_b_and_the_page_says_why(bank):
    at = open_page(bank, "views/scorecards.py", role="steward")
    assert not at.exception
    domains = at.dataframe[0].value
    risk = domains[domains["domain"] == "risk"].iloc[0]
    assert risk["score"] >= 90 and risk["grade"] == "B"  # an A by its score alone
    assert "grade_capped" not in domains.columns  # the reason is a sentence, not a column
    why = [plain(c.value) for c in at.caption if "risk" in c.value and "Graded B, not A" in c.value]
    assert why and "risk.credit_scores (score in range)" in why[0]
    at = open_page(bank, "views/scorecards.py", domain="risk", role="steward")
    assert any("Graded B, not A" in c.value and "risk.credit_scores" in plain(c.value) for c in at.caption)
    at = open_page(bank, "views/scorecards.py", product="risk.credit_scores", role="steward")
    assert any("Graded B, not A" in c.value and "score in range" in plain(c.value) for c in at.caption)


def test_drill_down_from_domain_to_product_to_its_failing_check(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk", tab="Score trend")  # the domain's open tab
    at.selectbox(key="sc_product").select("risk.credit_scores").run()
    assert not at.exception
    assert at.query_params["product"] == "risk.credit_scores"
    assert metric(at, "Quality score") == "99.9"
    failing = [e for e in at.expander if "score in range" in e.label]
    assert failing and "6 of 1,000 rows fail" in failing[0].label


def test_running_checks_now_shows_example_rows_masked_for_the_role(tmp_path):
    shop = build_quality_mesh(tmp_path / "shop")
    at = open_page(shop, "views/scorecards.py", role="analyst", product="shop.orders")
    assert not at.exception
    assert any("No checks have run" in i.value for i in at.info)
    next(b for b in at.button if b.label.startswith("Run checks now")).click().run()
    assert not at.exception
    expander = next(e for e in at.expander if "status in accepted values" in e.label)
    rows = expander.dataframe[0].value
    assert sorted(rows["status"].to_list()) == ["lost", "lost"]
    assert all(email.startswith("***@") for email in rows["email"].to_list())
    assert metric(at, "Quality score") == "55.4"  # the 10 declared checks that ran and the 2 schema checks


def test_owner_review_lists_action_items_and_offers_both_exports(bank):
    at = open_page(bank, "views/review.py")
    assert not at.exception
    at.selectbox(key="rv_owner").select("ana.silva@bank.example").run()
    assert not at.exception
    text = plain(" ".join(m.value for m in at.markdown))
    assert "Fix “account_id unique”" in text and "new failure: account_id unique" in text
    assert metric(at, "Fix now") == "2"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download Markdown", "Download HTML report"]
    at.segmented_control(key="rv_by").set_value("Domain").run()
    at.selectbox(key="rv_domain").select("marketing").run()
    assert not at.exception
    assert "Decide whether to keep it" in plain(" ".join(m.value for m in at.markdown))


def test_owner_review_draws_one_trend_at_a_time_and_the_markdown_preview_on_demand(bank):
    at = open_page(bank, "views/review.py")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Quality trend", "Usage trend"]
    assert [c["title"] for c in charts(at)] == ["Quality score, last 90 days"]
    assert not any(c.value.startswith("# Quality review") for c in at.code)
    at.toggle(key="rv_preview").set_value(True).run()
    assert not at.exception
    preview = next(c.value for c in at.code if c.value.startswith("# Quality review"))  # the file, not rendered
    assert "## Action items" in preview and "## How the score is computed" in preview

    at = open_app(bank, "views/review.py", {"tab": "Usage trend"})
    assert [c["title"] for c in charts(at)] == ["Queries per week"]


def test_marking_as_reviewed_makes_the_next_review_compare_with_it(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("MESHWORK_USER", "ana.silva@bank.example")  # only the reviewed owner (or a steward) may

    from conftest import SAMPLES

    mesh = tmp_path / "banking"
    shutil.copytree(SAMPLES / "banking", mesh, ignore=shutil.ignore_patterns(".meshwork"))
    at = open_page(mesh, "views/review.py")
    assert "no earlier review was recorded" in next(c.value for c in at.caption if c.value.startswith("Changes"))
    at.button(key="rv_record").click().run()
    assert not at.exception
    assert "since the last review on" in next(c.value for c in at.caption if c.value.startswith("Changes"))


def test_product_level_shows_its_checks_first_and_its_score_trend_on_demand(bank):
    at = open_page(bank, "views/scorecards.py", product="retail.accounts")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Checks", "Quality trend"]
    assert not at.get("vega_lite_chart") and any("account_id unique" in plain(e.label) for e in at.expander)
    assert any("only a steward may add or change such checks" in c.value for c in at.caption)  # the rule, stated
    at = open_page(bank, "views/scorecards.py", product="retail.accounts", tab="Quality trend")
    assert [c["title"] for c in charts(at)] == ["Quality score of this product"]
    assert chart_products(at) == {"retail.accounts"} and not at.expander


def test_an_analyst_sees_a_restricted_product_listed_but_nothing_measured(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk", role="analyst")
    assert not at.exception
    table = at.dataframe[0].value
    locked = table[table["product_id"].str.endswith("product=risk.customer_exposure")]
    assert len(locked) == 1 and locked["checks_passing"].fillna(0).iloc[0] == 0 and locked["score"].isna().iloc[0]
    assert metric(at, "Checks passing") == "14 / 16", "the domain counts only what the analyst may see"


def test_a_stored_run_shows_its_example_rows_in_a_fresh_session(tmp_path):
    import catalog

    shop = build_quality_mesh(tmp_path / "shop")
    catalog.open_mesh(shop).check("shop.orders", role="analyst")  # stored, examples masked
    at = open_page(shop, "views/scorecards.py", role="analyst", product="shop.orders")  # no live report
    assert not at.exception
    assert any("Stored run of" in c.value for c in at.caption)
    expander = next(e for e in at.expander if "status in accepted values" in e.label)
    rows = expander.dataframe[0].value
    assert sorted(rows["status"].to_list()) == ["lost", "lost"]
    assert all(email.startswith("***@") for email in rows["email"].to_list())


def test_no_synthetic_history_words_and_the_domain_table_is_shown_once_in_words(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk", tab="Score trend")
    assert not at.exception
    (table,) = [d for d in at.dataframe]
    assert "checks passing" in table.proto.columns and '"label": "product"' in table.proto.columns.replace(
        '":"', '": "') or "checks passing" in table.proto.columns
    assert not [c for c in at.columns if "queries" in " ".join(m.value for m in c.caption)], "no list below"
    (trend,) = charts(at)
    low, high = trend["encoding"]["y"]["scale"]["domain"]
    assert low > 0 and high <= 100, "the trend zooms to its data"
    at.selectbox(key="sc_product").select("risk.credit_scores").run()
    labels = " ".join(e.label for e in at.expander)
    assert "rows fail" in labels and "synthetic" not in labels


def test_heat_map_legend_sits_below_the_grid(bank):
    at = open_page(bank, "views/scorecards.py", tab="Products × dimensions")
    (heat,) = charts(at)
    legend = heat["layer"][0]["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom"


def test_lowest_score_leaves_unchecked_products_out_and_says_so(tmp_path):
    shop = build_quality_mesh(tmp_path / "shop")  # nothing checked yet
    at = open_page(shop, "views/review.py", role="steward")
    assert not at.exception
    lowest = next(m for m in at.metric if m.label == "Lowest score")
    assert lowest.value == "–", "an unchecked product never counts as a score"
    assert "not checked, left out" in lowest.proto.delta


def test_freshness_judged_by_file_time_says_so_on_the_product_scorecard(tmp_path):
    """An SLA with no timestamp column: the run judges by the file's time, and the scorecard says so; with one,
    the freshness is measured on the data."""
    import os
    import time

    from minimesh import write

    root = tmp_path / "air"
    write(root / "mesh.yaml", "name: air\n")
    write(root / "ops/domain.yaml", "name: ops\nowner: ops@air.example\n")
    write(root / "ops/data/flights.csv", "flight_id,time_hour\n1,2013-01-01 05:00:00\n")
    write(root / "ops/products/flights.yaml", """
        name: flights
        owner: ops@air.example
        description: Departures
        source: {kind: csv, path: data/flights.csv}
        columns: [{name: flight_id, type: BIGINT}, {name: time_hour, type: TIMESTAMP}]
        quality: [{check: not_null, column: flight_id}]
        sla: {freshness_hours: 24}
    """)
    old = time.time() - 3 * 86400
    os.utime(root / "ops/data/flights.csv", (old, old))
    at = open_page(root, "views/scorecards.py", product="ops.flights")
    next(b for b in at.button if b.label.startswith("Run checks now")).click().run()
    assert not at.exception
    assert metric(at, "Freshness") == "late"
    assert any(c.value == "by file time" for c in at.caption)
