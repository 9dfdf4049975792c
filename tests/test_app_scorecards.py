"""The Scorecards and Owner review pages through Streamlit's AppTest: mesh → domain → product → failing
check → example rows, deep links, running checks now, and the review with its exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_app

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


def test_mesh_level_shows_every_domain_the_charts_and_the_formula(bank):
    at = open_page(bank, "views/scorecards.py")
    assert not at.exception
    assert metric(at, "Domains") == "5"
    score = next(m for m in at.metric if m.label == "Mean domain score")
    assert "Quality score = 100" in score.help
    assert at.dataframe[0].value["domain"].to_list() == ["cards", "marketing", "privacy", "retail", "risk"]
    assert len(at.get("vega_lite_chart")) == 3  # domain comparison, domain trend, heat map


def test_deep_link_to_a_domain_shows_its_products(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk")
    assert not at.exception
    assert at.selectbox(key="sc_domain").value == "risk"
    assert metric(at, "Checks passing") == "16 / 18"
    assert metric(at, "Fresh / late") == "3 / 1"
    assert at.dataframe[0].value["product_id"].to_list() == ["risk.credit_scores", "risk.customer_exposure",
                                                             "risk.fraud_alerts", "risk.loan_applications"]
    assert any("Quality C" in m.value for m in at.markdown)  # fraud_alerts' grade badge


def test_drill_down_from_domain_to_product_to_its_failing_check(bank):
    at = open_page(bank, "views/scorecards.py", domain="risk")
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
    assert metric(at, "Quality score") == "45.1"


def test_owner_review_lists_action_items_and_offers_both_exports(bank):
    at = open_page(bank, "views/review.py")
    assert not at.exception
    at.selectbox(key="rv_owner").select("ana.silva@bank.example").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Fix “account_id unique”" in text and "new failure: account_id unique" in text
    assert metric(at, "Fix now") == "2"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download Markdown", "Download HTML report"]
    at.segmented_control(key="rv_by").set_value("Domain").run()
    at.selectbox(key="rv_domain").select("marketing").run()
    assert not at.exception
    assert "Decide whether to keep it" in " ".join(m.value for m in at.markdown)
