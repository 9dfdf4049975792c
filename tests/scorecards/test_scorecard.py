"""Scorecards: the banking risk domain worked out by hand from its seeded defects and history."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

import catalog
from catalog.lineage.health import product_health
from catalog.scorecards.evidence import Evidence
from catalog.scorecards.scorecard import (DIMENSIONS, dimensions, domain_overview, domain_trend, latest_checks,
                                          mesh_summary, scorecard)

from conftest import HISTORY_DAY as TODAY  # `bank` (conftest) holds history up to this day

AS_OF = TODAY + timedelta(hours=12)


def test_risk_products_scored_by_hand(bank):
    rows = {r["product_id"]: r for r in scorecard(bank.evidence(), "risk", as_of=AS_OF).iter_rows(named=True)}
    # credit_scores: 6 error checks (weight 18); 6 of 1,000 scores out of range -> 18 − 3 × 0.006 = 17.982 -> 99.9
    assert rows["risk.credit_scores"]["score"] == 99.9
    # fraud_alerts: unique 3 + range 3 + references (warning) 2 + freshness 3 = 11; the stale feed fails
    # freshness as a whole -> 8 / 11 = 72.7 (C)
    assert (rows["risk.fraud_alerts"]["score"], rows["risk.fraud_alerts"]["grade"]) == (72.7, "C")
    assert rows["risk.fraud_alerts"]["freshness"] == "late"
    assert rows["risk.loan_applications"]["score"] == 100.0
    # customer_exposure reads retail.accounts (duplicate keys) and risk.credit_scores (out of range)
    exposure = rows["risk.customer_exposure"]
    assert exposure["upstream_issues"] == 2 and exposure["lineage"] == "retail.accounts, risk.credit_scores"
    assert all(r["documentation"] == 100.0 and r["compliance"] == 100.0 for r in rows.values())
    assert [(r["checks"], r["checks_passing"]) for r in rows.values()] == [(6, 5), (2, 2), (4, 3), (6, 6)]


def test_risk_domain_row_worked_out_by_hand(bank):
    domain = scorecard(bank.evidence(), as_of=AS_OF).filter(pl.col("domain") == "risk").row(0, named=True)
    assert domain["products"] == 4
    assert domain["score"] == 93.1  # (99.9 + 100 + 72.7 + 100) / 4 = 93.15, rounded down
    # an A by score, but credit_scores fails an error-severity check (scores out of range): capped like a product
    assert domain["grade"] == "B"
    assert "risk.credit_scores" in domain["grade_capped"] and "error-severity" in domain["grade_capped"]
    assert (domain["checks"], domain["checks_passing"]) == (18, 16)
    assert (domain["fresh"], domain["late"], domain["lineage_issues"]) == (3, 1, 1)
    events = bank.usage().filter(pl.col("product_id").str.starts_with("risk.") & (pl.col("status") == "ok")
                                 & (pl.col("ts") > AS_OF - timedelta(days=30)) & (pl.col("ts") <= AS_OF))
    assert domain["queries"] == events.height and domain["users"] == events["user"].n_unique()
    assert domain["incomplete"] is None


def test_mesh_summary_adds_up_the_domain_rows(bank):
    domains = scorecard(bank.evidence(), as_of=AS_OF)
    summary = mesh_summary(domains)
    assert summary["domains"] == domains.height == 5
    assert summary["checks"] == domains["checks"].sum() and summary["checks_passing"] < summary["checks"]
    assert summary["mean_score"] == round(domains["score"].drop_nulls().mean(), 1)
    assert summary["unused_products"] == 1  # marketing.customer_contacts, in the sample history
    nothing = mesh_summary(domains.with_columns(pl.lit(None, dtype=pl.Float64).alias("score")))
    assert nothing["mean_score"] is None


def test_domain_overview_keeps_what_tells_domains_apart_with_checks_as_passing_of_all(bank):
    domains = scorecard(bank.evidence(), as_of=AS_OF)
    overview = domain_overview(domains)
    assert overview.columns == ["domain", "products", "score", "grade", "score_trend", "checks", "late",
                                "documentation", "compliance", "queries", "unused_products", "open_incidents",
                                "agreements_held"]
    risk = overview.filter(pl.col("domain") == "risk").row(0, named=True)
    assert risk["checks"] == "16 / 18" and risk["late"] == 1 and risk["products"] == 4
    assert overview.height == domains.height == 5


def test_retail_score_trend_shows_the_quality_drop(bank):
    rows = {r["product_id"]: r for r in scorecard(bank.evidence(), "retail", as_of=AS_OF).iter_rows(named=True)}
    # accounts: its unique check fails as a whole since 12 days ago; 30 days ago it scored 100
    accounts = rows["retail.accounts"]
    assert accounts["score"] < 90 and accounts["score_trend"] == round(accounts["score"] - 100.0, 1)
    assert rows["retail.transactions"]["score_trend"] == 0.0


def test_a_product_without_checks_and_a_missing_compliance_make_the_scorecard_incomplete(bank):
    rows = {r["product_id"]: r for r in scorecard(bank.evidence(), "marketing", as_of=AS_OF).iter_rows(named=True)}
    assert rows["marketing.campaign_responses"]["incomplete"] == "no checks declared"
    assert rows["marketing.campaign_responses"]["documentation"] < 50
    without_governance = Evidence(bank.declared, bank.quality_runs, bank.usage_log, bank.sensitivity, bank.reviews,
                                  health=lambda: product_health(bank.lineage_index))
    frame = scorecard(without_governance, "marketing", as_of=AS_OF)
    assert frame["compliance"].null_count() == frame.height
    assert all("no governance compliance" in note for note in frame["incomplete"])


def test_heat_map_dimensions_trend_and_drill_down(bank):
    products = scorecard(bank.evidence(), "risk", as_of=AS_OF)
    heat = dimensions(products)
    assert set(heat["dimension"]) == set(DIMENSIONS) and heat.height == 4 * len(DIMENSIONS)
    cell = heat.filter((pl.col("product_id") == "risk.fraud_alerts") & (pl.col("dimension") == "freshness"))
    assert cell["value"][0] == 0.0
    trend = domain_trend(bank.evidence(), as_of=AS_OF)
    assert set(trend["domain"]) == set(bank.domains) and trend.filter(pl.col("domain") == "retail").height == 89  # 90 daily runs, the first one just outside
    checks = latest_checks(bank.evidence(), "risk.credit_scores")
    assert checks[0]["status"] == "fail" and checks[0]["name"] == "score in range" and checks[0]["failing"] == 6


def test_unknown_domain_is_a_clear_error(bank):
    with pytest.raises(catalog.MeshError, match="no domain 'nope'.*cards, marketing"):
        scorecard(bank.evidence(), "nope")
