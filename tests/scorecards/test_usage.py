"""Usage metrics from usage events: window counts, distinct users, consuming domains, trend, unused flag;
and the synthetic sample history (a product that stops being used, one whose quality drops)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl

import catalog
from catalog.query.usage_log import UsageEvent
from catalog.samples.history import seed_history
from catalog.scorecards.usage import daily_usage, trend_label, usage_metrics

AS_OF = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)


def event(product, user, days_ago, domain=None, status="ok"):
    ts = (AS_OF - timedelta(days=days_ago)).isoformat(timespec="milliseconds")
    return UsageEvent(user=user, role="analyst", product_id=product, rows=1, duration_ms=1.0, status=status,
                      consumer_domain=domain, ts=ts)


def test_metrics_count_the_last_30_days_and_compare_with_the_30_before(minimesh, tmp_path):
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    mesh.usage_log.record([
        event("retail.customers", "ana@x", 1, "retail"), event("retail.customers", "ana@x", 2, "retail"),
        event("retail.customers", "bo@x", 3, "risk"), event("retail.customers", "cy@x", 10, None),
        event("retail.customers", "bo@x", 40, "risk"), event("retail.customers", "bo@x", 45, "risk"),
        event("retail.customers", "zed@x", 5, "risk", status="error"),  # failed queries do not count
        event("risk.scores", "ana@x", 35, "retail"), event("risk.scores", "ana@x", 50, "retail"),
        event("risk.limits", "ana@x", 2, "retail"),
    ])
    frame = usage_metrics(mesh.declared, mesh.evidence().events, AS_OF)
    assert frame.columns[:3] == ["product_id", "domain", "queries"]
    row = {r["product_id"]: r for r in frame.iter_rows(named=True)}
    customers = row["retail.customers"]
    assert (customers["queries"], customers["users"], customers["consuming_domains"]) == (4, 3, 2)
    assert customers["previous_queries"] == 2 and customers["trend"] == 100.0 and customers["trend_label"] == "up"
    assert customers["last_used"] == AS_OF - timedelta(days=1) and customers["unused_30d"] is False
    scores = row["risk.scores"]
    assert (scores["queries"], scores["trend_label"], scores["unused_30d"]) == (0, "stopped", True)
    assert row["risk.limits"]["trend_label"] == "new"
    branches = row["retail.branches"]
    assert branches["queries"] == 0 and branches["last_used"] is None and branches["unused_30d"] is True
    assert frame.height == len(mesh.products)
    one = usage_metrics(mesh.declared, mesh.evidence().events, AS_OF, product_id="retail.customers")
    assert one.to_dicts() == frame.filter(pl.col("product_id") == "retail.customers").to_dicts()


def test_trend_labels():
    assert [trend_label(c, p) for c, p in [(0, 0), (5, 0), (0, 5), (11, 10), (12, 10), (8, 10)]] == [
        "none", "new", "stopped", "flat", "up", "down"]


def test_sample_history_tells_the_drop_and_the_product_nobody_uses_any_more(sample_copy, tmp_path):
    root, today = sample_copy("banking"), datetime(2026, 11, 26, tzinfo=timezone.utc)
    assert seed_history(root, state_dir=tmp_path / "state", today=today) is True
    assert seed_history(root, state_dir=tmp_path / "state", today=today) is False
    mesh = catalog.open_mesh(root, state_dir=tmp_path / "state")
    usage = {r["product_id"]: r for r in usage_metrics(mesh.declared, mesh.evidence().events, today).iter_rows(named=True)}
    contacts = usage["marketing.customer_contacts"]
    assert contacts["unused_30d"] is True and contacts["total_queries"] > 0
    assert contacts["last_used"] < today - timedelta(days=44)
    assert sum(r["unused_30d"] for r in usage.values()) == 1
    history = mesh.quality_history("retail.accounts")
    assert history.height == 90
    before = history.filter(pl.col("ts") < today - timedelta(days=12))
    after = history.filter(pl.col("ts") > today - timedelta(days=12))
    assert set(before["score"]) == {100.0} and set(after["grade"]) == {"B"}
    daily = daily_usage(mesh.declared, mesh.evidence().events, "retail.accounts", today)
    assert daily.height > 80 and daily["queries"].sum() == usage["retail.accounts"]["total_queries"]


def test_the_same_day_generates_the_same_history(sample_copy, tmp_path):
    root = sample_copy("life_sciences")
    today = datetime(2026, 11, 26, tzinfo=timezone.utc)
    frames = []
    for n in (1, 2):
        seed_history(root, state_dir=tmp_path / f"s{n}", today=today)
        mesh = catalog.open_mesh(root, state_dir=tmp_path / f"s{n}")
        frames.append((mesh.usage().drop("query_id"), mesh.quality_history().drop("ts")))
    assert frames[0][0].equals(frames[1][0]) and frames[0][1].equals(frames[1][1])
