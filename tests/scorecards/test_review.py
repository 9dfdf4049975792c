"""Owner review: what changed since the last recorded review (scores, failures, usage, schema), action items
in priority order, and the Markdown and self-contained HTML exports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import catalog
from catalog.scorecards.review import export, review
from minimesh import write

from conftest import HISTORY_DAY as TODAY  # `bank` (conftest) holds history up to this day

AS_OF = TODAY + timedelta(hours=12)


def test_first_review_compares_with_30_days_ago_and_finds_the_quality_drop(bank):
    done = review(bank.evidence(), owner="ana.silva@bank.example", as_of=AS_OF)
    assert "no earlier review was recorded" in done.baseline
    products = {p.product_id: p for p in done.products}
    assert set(products) == {"retail.accounts", "retail.customers"}
    accounts = products["retail.accounts"]
    assert accounts.previous_score == 100.0 and accounts.score_change < 0
    assert accounts.new_failures == ["account_id unique"] and products["retail.customers"].new_failures == []
    assert [(a.priority, a.product_id, a.action) for a in done.actions] == [
        (1, "retail.accounts", "Fix “account_id unique”"),
        (1, "retail.customers", "Fix “email not null”"),
        (2, "retail.accounts", "Find out why the score dropped"),
    ]


def test_a_domain_review_flags_the_product_nobody_uses_and_the_undocumented_one(bank):
    done = review(bank.evidence(), domain="marketing", as_of=AS_OF)
    by = {(a.product_id, a.action.split(":")[0]) for a in done.actions}
    assert ("marketing.customer_contacts", "Decide whether to keep it") in by
    contacts = next(p for p in done.products if p.product_id == "marketing.customer_contacts")
    assert contacts.unused_30d and contacts.previous_queries > 0
    responses = [a for a in done.actions if a.product_id == "marketing.campaign_responses"]
    assert any(a.action.startswith("Describe the product and columns") for a in responses)
    assert any(a.action == "Declare quality checks" for a in responses)
    assert [a.priority for a in done.actions] == sorted(a.priority for a in done.actions)


def test_a_recorded_review_is_the_next_baseline_for_failures_usage_and_schema(minimesh, tmp_path):
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    # real time: the change tracker stamps descriptor changes with the clock, and a review only reads
    # changes up to its own date
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    mesh.checker.run("retail.customers", now=now.replace(tzinfo=None))
    first = review(mesh.evidence(), owner="ana.silva@bank.example", as_of=now)
    mesh.reviews.record(first, "ana.silva@bank.example")
    # the owner fixes nothing, but adds a column and a check that fails
    customers = minimesh / "retail/products/customers.yaml"
    text = customers.read_text().replace(
        "  - {name: age, type: INTEGER, description: Age in years}",
        "  - {name: age, type: INTEGER, description: Age in years}\n  - {name: segment, type: VARCHAR}")
    write(customers, text + "  - {check: range, column: age, max: 40}\n")
    later = now + timedelta(days=7)
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    mesh.checker.run("retail.customers", now=later.replace(tzinfo=None))
    second = review(mesh.evidence(), owner="ana.silva@bank.example", as_of=later)
    assert second.baseline.startswith(f"since the last review on {now:%Y-%m-%d %H:%M}")
    customers_review = next(p for p in second.products if p.product_id == "retail.customers")
    # the new column is declared but the data does not have it: the schema check says so from now on
    assert customers_review.new_failures == ["age in range", "schema: declared columns present"]
    assert "column segment (VARCHAR) added" in customers_review.schema_changes
    assert customers_review.fixed == [] and customers_review.previous_score is not None


def test_markdown_and_html_exports(bank):
    done = review(bank.evidence(), owner="ana.silva@bank.example", as_of=AS_OF)
    md = export(done, "md")
    assert md.startswith("# Quality review of ana.silva@bank.example")
    assert "1. **fix now** · `retail.accounts` — Fix “account_id unique”" in md
    assert "| `retail.accounts` | 86.9 |" in md and "How the score is computed" in md
    page = export(done, "html")
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "<script" not in page and "http" not in page.split("<svg")[0]  # nothing loads from the network
    with pytest.raises(catalog.MeshError, match="choose md or html"):
        export(done, "pdf")


def test_a_review_needs_exactly_one_owner_or_domain(bank):
    with pytest.raises(catalog.MeshError, match="one owner or of one domain"):
        review(bank.evidence())
    with pytest.raises(catalog.MeshError, match="owns no product"):
        review(bank.evidence(), owner="nobody@bank.example")
