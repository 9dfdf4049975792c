"""Quality engine: every check kind on data with known defects, one scan, errored checks, examples per role,
stored runs with history, re-checks of unchanged data, and the seeded defects of a shipped sample."""

from __future__ import annotations

import os
import time
from datetime import datetime

import duckdb
import pytest
from sqlglot import exp

import catalog
from catalog.quality.compile import compile_checks
from catalog.samples.build import SAMPLES
from conftest import SAMPLES as SAMPLE_DIR
from qualitymesh import EXPECTED, build_quality_mesh

NOW = datetime(2026, 11, 26, 12, 0)


@pytest.fixture
def shop(tmp_path):
    return catalog.open_mesh(build_quality_mesh(tmp_path / "shop"), state_dir=tmp_path / "state")


def test_every_check_kind_counts_exactly_the_known_defects(shop):
    report = shop.checker.run("shop.orders", now=NOW)
    got = {c.name: (c.status, c.failing) for c in report.checks}
    # the declared checks, then the schema checks every run makes (the data has every declared column and type)
    assert got == {**EXPECTED, "schema: declared columns present": ("pass", 0), "schema: declared types": ("pass", 0)}
    assert report.rows == 8
    assert all(c.rows == 8 for c in report.checks if c.status != "error" and not c.kind.startswith("schema"))
    by_name = {c.name: c for c in report.checks}
    assert by_name["row count"].message == "8 rows; expected at least 10"
    assert "SLA is 1 day" in by_name["freshness"].message
    assert by_name["order_id unique"].message == "1 of 8 duplicate rows"


def test_a_check_that_cannot_run_is_errored_with_its_reason_and_the_others_still_run(shop):
    report = shop.checker.run("shop.orders", now=NOW)
    errored = {c.name: c.message for c in report.errored}
    assert "'shoe_size' is not in shop.orders" in errored["shoe_size not null"]
    assert "does not parse" in errored["broken expression"]
    assert len(report.failed) == 10
    assert report.complete is False
    assert "incomplete" in report.result.label


def test_an_unreachable_source_is_one_failing_check_and_the_other_products_still_run(shop):
    report = shop.checker.run("crm.ledger", now=NOW)
    assert [(c.name, c.status) for c in report.checks] == [("source readable", "fail"), *[
        (c.label, "error") for c in shop.products["crm.ledger"].descriptor.quality]]
    assert report.checks[0].message.startswith("source unreadable: ") and "ledger" in report.checks[0].message
    assert all("not run: the source is unreadable" in c.message for c in report.checks[1:])
    assert report.score == 0.0 and report.grade == "F" and report.complete is False
    assert shop.checker.run("crm.customers", now=NOW).score == 100.0


def test_all_checks_of_a_product_compile_to_one_aggregate_select_renderable_for_spark(shop):
    product = shop.products["shop.orders"]
    scan = compile_checks(product, exp.table_("orders", db="shop", quoted=True),
                          columns={"order_id", "customer_id", "email", "status", "amount", "code", "created_at"})
    assert isinstance(scan.select, exp.Select)
    # one SELECT over the product; the only nested SELECT is the referenced product's keys
    nested = [s for s in scan.select.find_all(exp.Select) if s is not scan.select]
    assert len(nested) == 1 and nested[0].find(exp.Table).name == "customers"
    assert len(scan.checks) == 10 and [i for i, *_ in scan.errored] == [10, 11]
    assert "RLIKE" in scan.sql("spark") and "REGEXP_MATCHES" in scan.sql("duckdb")
    assert scan.sql("spark").count("FROM `shop`.`orders`") == 1


def test_example_failing_rows_are_masked_for_the_analyst_and_raw_for_the_steward(shop):
    analyst = shop.checker.run("shop.orders", role="analyst", now=NOW)
    steward = shop.checker.run("shop.orders", role="steward", now=NOW, reuse=False)
    pick = {c.name: c for c in analyst.checks}["status in accepted values"].examples
    raw = {c.name: c for c in steward.checks}["status in accepted values"].examples
    assert sorted(r["status"] for r in pick) == ["lost", "lost"]
    assert sorted(r["email"] for r in raw) == ["ana@shop.example", "dee@shop.example"]
    assert sorted(r["email"] for r in pick) == ["***@shop.example", "***@shop.example"]
    assert all(r["customer_id"].startswith("tok_") for r in pick)
    dupes = {c.name: c for c in steward.checks}["order_id unique"].examples
    assert [r["order_id"] for r in dupes] == ["O3", "O3"]
    # what the state store keeps is masked whatever the role that ran the check
    stored = shop.quality_runs.runs("shop.orders", limit=1)[0]["results"]
    assert all("@" not in (r["email"] or "").split("***")[0] for c in stored for r in c["examples"])


def test_runs_are_stored_with_time_version_and_fingerprint_and_read_back_latest_first(shop):
    shop.checker.run("shop.orders", now=NOW)
    shop.checker.run("crm.customers", now=NOW)
    runs = shop.quality_runs.runs("shop.orders")
    assert len(runs) == 1 and runs[0]["version"] == "2.1.0" and runs[0]["fingerprint"]
    assert runs[0]["ts"].startswith("2026-11-26T12:00")
    latest = shop.latest_quality()
    assert latest.columns == ["product_id", "score", "grade", "checked_at", "failed", "errored", "complete"]
    row = latest.filter(latest["product_id"] == "shop.orders").row(0, named=True)
    assert row["failed"] == 10 and row["errored"] == 2 and row["complete"] is False
    assert dict(shop.latest_quality().items())["crm.customers"].score == 100.0
    history = shop.quality_history("shop.orders")
    assert history.height == 1 and history["grade"][0] == row["grade"]


def test_a_recheck_of_unchanged_data_reuses_the_counts_and_a_changed_file_is_scanned_again(shop):
    first = shop.checker.run("shop.orders", now=NOW)
    again = shop.checker.run("shop.orders", now=NOW)
    assert again.reused and not first.reused
    assert [(c.name, c.status, c.failing) for c in again.checks] == [(c.name, c.status, c.failing)
                                                                    for c in first.checks]
    assert len(shop.quality_runs.runs("shop.orders")) == 2
    csv = shop.root / "crm/data/customers.csv"  # a referenced product changed: the orphans may be gone
    csv.write_text(csv.read_text() + "C8,Ed\nC9,Flo\n")
    later = time.time() + 5
    os.utime(csv, (later, later))
    shop.engine.close()
    shop._engine = None
    rescanned = shop.checker.run("shop.orders", now=NOW)
    assert not rescanned.reused
    assert {c.name: c.failing for c in rescanned.checks}["customer_id references crm.customers"] == 0


def test_mesh_check_runs_every_product_and_lists_the_blocking_failures(shop):
    reports = shop.check()
    assert [r.product_id for r in reports] == ["crm.customers", "crm.ledger", "shop.orders"]
    blocking = {(pid, c.name) for pid, c in reports.blocking}
    assert ("shop.orders", "email not null") in blocking
    assert ("shop.orders", "customer_id, status unique") not in blocking  # a warning does not block
    assert ("crm.ledger", "row count") in blocking  # errored error-severity checks block too


def test_lineage_root_cause_reads_the_runs_the_quality_engine_stores(shop):
    shop.checker.run("shop.orders", now=NOW)
    health = shop.lineage().nodes["shop.orders"]
    assert health["quality"] == "fail"
    assert health["grade"] is not None


def test_checks_on_the_banking_sample_find_exactly_the_seeded_defects(sample_copy, tmp_path):
    mesh = catalog.open_mesh(sample_copy("banking"), state_dir=tmp_path / "bank-state")
    (mesh.root / "history.yaml").unlink()  # no synthetic history: only the real runs
    seeded = {(pid, d.check): d for pid, ds in SAMPLES["banking"].DEFECTS.items() for d in ds if d.check}
    failing = {}
    for report in mesh.check(role="steward"):  # an analyst sees restricted products' counts hidden
        assert not report.errored, report.summary()
        for c in report.failed:
            failing[(report.product_id, c.name)] = c.failing
    assert set(failing) == set(seeded)
    for key, defect in seeded.items():
        if defect.count:
            assert failing[key] == defect.count, key
    assert SAMPLE_DIR.name == "sample_data"


def test_a_role_that_may_not_see_a_restricted_product_gets_no_example_rows(minimesh, tmp_path):
    limits = minimesh / "risk/products/limits.yaml"
    limits.write_text(limits.read_text() + "quality:\n  - {check: range, column: credit_limit, max: 3000}\n")
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    analyst = mesh.checker.run("risk.limits", role="analyst", now=NOW)
    # the analyst may not query it: no count, no example rows (the stored run has the count)
    assert analyst.checks[0].failing is None and analyst.checks[0].examples == [] and analyst.checks[0].hidden
    assert analyst.checks[0].status == "fail"
    officer = mesh.checker.run("risk.limits", role="risk_officer", now=NOW, reuse=False)
    assert officer.checks[0].examples[0]["credit_limit"] == 5000
    from catalog.scorecards.scorecard import latest_checks

    assert latest_checks(mesh.evidence(), "risk.limits", policy=mesh.policy("analyst")) == []  # a locked product shows no results
    assert officer.checks[0].failing == 1
    assert latest_checks(mesh.evidence(), "risk.limits", policy=mesh.policy("risk_officer"))[0]["examples"]


def test_parquet_statistics_prove_passing_checks_and_leave_them_out_of_the_scan(shop):
    from catalog.quality.statistics import column_statistics, proven_passing

    orders = shop.products["shop.orders"]
    report = shop.checker.run("shop.orders", now=NOW)
    by_name = {c.name: c for c in report.checks}
    assert by_name["email not null"].failing == 2  # statistics only ever prove a pass
    # order_id has no NULLs in the file: not proven here only because no not_null check names it
    stats = column_statistics([("order_id", "BYTE_ARRAY", "O1", "O8", 0), ("amount", "DOUBLE", "-5.0", "2000.0", 0),
                               ("amount", "DOUBLE", "1", "3", None), ("code", "BYTE_ARRAY", "ABC", "ab1", 1)])
    assert stats["amount"] == {"nulls": None, "min": -5.0, "max": 2000.0, "numeric": True}
    checks = [c for c in orders.descriptor.quality]
    assert proven_passing(checks, stats) == {}  # amount out of range, code has NULLs, email has no statistics
    clean = column_statistics([("amount", "DOUBLE", "0.0", "900.0", 0), ("email", "BYTE_ARRAY", "a", "b", 0)])
    proven = proven_passing(checks, clean)
    assert set(proven) == {0, 4} and "parquet statistics" in proven[4]
    scan = compile_checks(orders, exp.table_("orders", db="shop"), skip=set(proven))
    assert {c.index for c in scan.checks}.isdisjoint({0, 4}) and "email" not in scan.sql().split("FROM")[0]


def test_a_check_proven_by_statistics_reports_a_pass_with_the_reason(minimesh, tmp_path):
    customers = minimesh / "retail/products/customers.yaml"
    customers.write_text(customers.read_text() + "  - {check: not_null, column: age}\n"
                         "  - {check: range, column: age, min: 18, max: 120}\n")
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    report = mesh.checker.run("retail.customers", now=NOW)
    by_name = {c.name: c for c in report.checks}
    assert by_name["email not null"].failing == 1
    assert by_name["age not null"].status == "pass" and "parquet statistics" in by_name["age not null"].message
    assert "[29, 51]" in by_name["age in range"].message and by_name["age in range"].rows == 3


def _ids_mesh(root):
    """20 rows in row groups of 8: id 3 three times (2 duplicate rows), one NULL id."""
    from minimesh import write

    write(root / "mesh.yaml", "name: ids\ntitle: Ids\n")
    write(root / "shop/domain.yaml", "name: shop\nowner: shop-team@shop.example\n")
    (root / "shop/data").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT CASE WHEN i IN (7, 9) THEN 3 WHEN i = 5 THEN NULL ELSE i END::BIGINT AS id,
        'r' || i AS ref FROM range(20) t(i)) TO '{root}/shop/data/ids.parquet' (FORMAT parquet, ROW_GROUP_SIZE 8)""")
    con.close()
    write(root / "shop/products/ids.yaml", """
        name: ids
        description: Ids with one repeated key.
        owner: olga@shop.example
        source: {kind: parquet, path: data/ids.parquet}
        columns:
          - {name: id, type: BIGINT}
          - {name: ref, type: VARCHAR}
        quality:
          - {check: unique, column: id}
          - {check: unique, column: ref}
    """)
    return catalog.open_mesh(root, state_dir=root / "state")


def test_a_unique_integer_key_is_counted_exactly_with_a_bitmap_over_its_parquet_bounds(tmp_path):
    from catalog.quality.statistics import integer_bounds

    mesh = _ids_mesh(tmp_path / "ids")
    report = mesh.checker.run("shop.ids", now=NOW)
    assert [(c.status, c.failing) for c in report.checks[:2]] == [("fail", 2), ("pass", 0)]
    assert [r["id"] for r in report.checks[0].examples] == [3, 3, 3]
    product = mesh.products["shop.ids"]
    fast = compile_checks(product, exp.table_("ids", db="shop"), bounds={"id": (0, 19)}).sql()
    assert "bitstring_agg" in fast.lower() and "DISTINCT \"ref\"" in fast  # strings are still hashed
    assert "bitstring_agg" not in compile_checks(product, exp.table_("ids", db="shop")).sql("spark").lower()
    rows = [("id", "INT64", "0", "7", 1), ("id", "INT64", "3", "19", 0), ("ref", "BYTE_ARRAY", "r0", "r9", 0)]
    assert integer_bounds(rows, {"id": "BIGINT", "ref": "VARCHAR"}) == {"id": (0, 19)}
    assert integer_bounds(rows + [("id", "INT64", None, None, 8)], {"id": "BIGINT"}) == {}  # a group without
    assert integer_bounds([("id", "INT64", "0", str(1 << 40), 0)], {"id": "BIGINT"}) == {}  # too wide a range


def test_statistics_that_no_longer_hold_fall_back_to_an_exact_distinct_count(tmp_path, monkeypatch):
    import catalog.quality.statistics as statistics

    mesh = _ids_mesh(tmp_path / "ids")
    monkeypatch.setattr(statistics, "integer_bounds", lambda rows, types: {"id": (0, 4)})  # values up to 19
    report = mesh.checker.run("shop.ids", now=NOW)
    assert [(c.status, c.failing) for c in report.checks[:2]] == [("fail", 2), ("pass", 0)]
