"""`meshwork check` (text, json, junit; exit 1 when an error-severity check fails), `meshwork scorecard`
(text, md, html, json) and `meshwork review` (md, html, recorded reviews)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from catalog.cli import app
from qualitymesh import build_quality_mesh

runner = CliRunner()


@pytest.fixture
def shop(tmp_path):
    return build_quality_mesh(tmp_path / "shop")


def test_check_exits_1_when_an_error_check_fails_and_0_when_all_pass(shop):
    failing = runner.invoke(app, ["check", str(shop), "shop.orders"])
    assert failing.exit_code == 1
    assert "FAIL [error] email not null: 2 of 8 rows fail" in failing.stdout
    assert "ERR  [warning] shoe_size not null" in failing.stdout
    assert "error-severity check(s) failed" in failing.stderr
    passing = runner.invoke(app, ["check", str(shop), "crm.customers"])
    assert passing.exit_code == 0, passing.output
    assert "score 100 (A)" in passing.stdout


def test_check_junit_and_json_for_ci(shop):
    junit = runner.invoke(app, ["check", str(shop), "--format", "junit"])
    assert junit.exit_code == 1
    root = ET.fromstring(junit.stdout.split("?>", 1)[1])
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"crm.customers", "crm.ledger", "shop.orders"}
    assert suites["shop.orders"].get("failures") == "10" and suites["shop.orders"].get("errors") == "2"
    assert suites["crm.ledger"].get("errors") == "2"
    data = json.loads(runner.invoke(app, ["check", str(shop), "shop.orders", "-f", "json"]).stdout)
    checks = {c["name"]: c for c in data[0]["checks"]}
    assert checks["amount in range"]["failing"] == 2 and data[0]["complete"] is False
    assert all(r["email"].startswith("***") for r in checks["status in accepted values"]["examples"])


def test_check_of_an_unknown_product_is_a_usage_error(shop):
    result = runner.invoke(app, ["check", str(shop), "shop.nope"])
    assert result.exit_code == 2 and "no product 'shop.nope'" in result.stderr


def test_scorecard_formats(sample_copy):
    mesh = sample_copy("banking")
    text = runner.invoke(app, ["scorecard", str(mesh)])
    assert text.exit_code == 0 and "retail" in text.stdout and "lineage_issues" in text.stdout
    md = runner.invoke(app, ["scorecard", str(mesh), "--domain", "risk", "--format", "md"]).stdout
    assert md.startswith("| domain | product_id |") and "risk.fraud_alerts" in md and "Quality score = 100" in md
    rows = json.loads(runner.invoke(app, ["scorecard", str(mesh), "-f", "json"]).stdout)
    assert [r["domain"] for r in rows] == ["cards", "marketing", "privacy", "retail", "risk"]
    page = runner.invoke(app, ["scorecard", str(mesh), "-f", "html"]).stdout
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2 and "<script" not in page
    bad = runner.invoke(app, ["scorecard", str(mesh), "--domain", "nope"])
    assert bad.exit_code == 2 and "no domain 'nope'" in bad.stderr


def test_review_writes_markdown_and_html_and_a_recorded_review_is_the_next_baseline(sample_copy, tmp_path):
    mesh = sample_copy("banking")
    out = tmp_path / "review.md"
    result = runner.invoke(app, ["review", str(mesh), "--owner", "ana.silva@bank.example", "-o", str(out),
                                 "--record", "ana.silva@bank.example"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "# Quality review of ana.silva@bank.example" in text
    assert "Fix “account_id unique”" in text and "no earlier review was recorded" in text
    again = runner.invoke(app, ["review", str(mesh), "--owner", "ana.silva@bank.example"]).stdout
    assert "since the last review on" in again
    page = runner.invoke(app, ["review", str(mesh), "--domain", "marketing", "-f", "html"]).stdout
    assert page.startswith("<!doctype html>") and "<svg" in page and "marketing.customer_contacts" in page
    nobody = runner.invoke(app, ["review", str(mesh), "--owner", "nobody@x"])
    assert nobody.exit_code == 2 and "owns no product" in nobody.stderr
