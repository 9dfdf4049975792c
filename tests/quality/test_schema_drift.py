"""Contracts enforced against the data: schema drift and freshness measured on every run, not assumed.

A flights mesh in the shape of nycflights13 (a parquet file with a declared schema and an SLA on `time_hour`,
a derived product over it) is published, then its file is changed under it the way upstreams break things:
a column dropped, renamed, retyped; data from 2013 copied today. Each case asserts the failing check's name
and message, the score change and the alert to a subscriber.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app
from catalog.lineage.health import product_health
from minimesh import write

SUBSCRIBER = "ana.silva@bank.example"
NOW = datetime(2026, 12, 1, 12, 0)

FLIGHTS = """
name: flights
owner: ops@air.example
description: Departures from New York airports
source: {kind: parquet, path: data/flights.parquet}
columns:
  - {name: flight_id, type: BIGINT, key: true}
  - {name: carrier, type: VARCHAR}
  - {name: dep_delay, type: BIGINT}
  - {name: distance, type: INTEGER}
  - {name: time_hour, type: TIMESTAMP}
quality:
  - {check: not_null, column: flight_id}
sla: {freshness_hours: 24, timestamp_column: time_hour}
"""

DELAYS = """
name: delays_by_carrier
owner: ops@air.example
description: Mean departure delay per carrier
source:
  kind: sql
  sql: SELECT carrier, avg(dep_delay) AS mean_delay FROM ops.flights GROUP BY carrier
columns:
  - {name: carrier, type: VARCHAR}
  - {name: mean_delay, type: DOUBLE}
quality:
  - {check: not_null, column: carrier}
"""


def build(root: Path, newest: datetime = NOW - timedelta(hours=2), select: str = "SELECT * FROM BASE") -> Path:
    write(root / "mesh.yaml", "name: air\n")
    write(root / "ops/domain.yaml", "name: ops\nowner: ops@air.example\n")
    write(root / "ops/products/flights.yaml", FLIGHTS)
    write(root / "ops/products/delays_by_carrier.yaml", DELAYS)
    (root / "ops/data").mkdir(parents=True, exist_ok=True)
    rewrite(root, select, newest)
    return root


def rewrite(root: Path, select: str, newest: datetime = NOW - timedelta(hours=2)) -> None:
    con = duckdb.connect()
    base = f"""(SELECT i::BIGINT AS flight_id, ['UA','AA','B6'][i % 3 + 1] AS carrier,
                       (i * 7 % 40 - 5)::BIGINT AS dep_delay, (200 + i)::INTEGER AS distance,
                       TIMESTAMP '{newest:%Y-%m-%d %H:%M:%S}' - to_hours(i::BIGINT) AS time_hour
                FROM range(30) t(i))"""
    target = root / "ops/data/flights.parquet"
    con.execute(f"COPY ({select.replace('BASE', base)}) TO '{target}.tmp' (FORMAT parquet)")
    con.close()
    os.replace(f"{target}.tmp", target)


def open_air(root: Path, state: Path) -> catalog.Mesh:
    return catalog.open_mesh(root, state_dir=state)


def by_name(report) -> dict:
    return {c.name: c for c in report.checks}


@pytest.fixture
def air(tmp_path):
    root = build(tmp_path / "air")
    state = tmp_path / "state"
    mesh = open_air(root, state)
    mesh.changes.subscribe(SUBSCRIBER, "ops.flights")
    first = mesh.checker.run("ops.flights", now=NOW)
    return root, state, first


def test_a_published_product_passes_its_schema_and_freshness_checks(air):
    root, state, first = air
    checks = by_name(first)
    assert checks["schema: declared columns present"].status == "pass"
    assert checks["schema: declared types"].message == "all 5 declared types fit the data"
    assert checks["freshness SLA"].status == "pass"  # implied by the SLA, measured on time_hour
    assert first.score == 100.0


@pytest.mark.parametrize("select,check,message", [
    ("SELECT * EXCLUDE (dep_delay) FROM BASE", "schema: declared columns present",
     "column `dep_delay` is declared but the data has no such column"),
    ("SELECT * RENAME (dep_delay AS departure_delay) FROM BASE", "schema: declared columns present",
     "column `dep_delay` is declared but the data has no such column; the data has undeclared "
     "`departure_delay` (renamed?)"),
    ("SELECT * REPLACE (dep_delay::VARCHAR AS dep_delay) FROM BASE", "schema: declared types",
     "column `dep_delay` is declared BIGINT but the data has VARCHAR"),
], ids=["dropped", "renamed", "retyped"])
def test_a_column_dropped_renamed_or_retyped_after_publish_fails_its_schema_check(air, select, check, message):
    root, state, first = air
    rewrite(root, select)
    mesh = open_air(root, state)
    report = mesh.check("ops.flights")
    failed = by_name(report)[check]
    assert (failed.status, failed.severity, failed.message) == ("fail", "error", message)
    assert report.score < first.score and report.grade != "A"
    # the subscriber is told, once: a re-check of the same data does not alert again
    inbox = mesh.changes.inbox(SUBSCRIBER)
    assert inbox.height == 1 and message in inbox["summary"][0] and inbox["severity"][0] == "breaking"
    mesh.check("ops.flights")
    assert open_air(root, state).changes.inbox(SUBSCRIBER).height == 1
    # the owner's review names the fix in the descriptor
    from catalog.scorecards.review import review
    items = [a for a in review(mesh.evidence(), owner="ops@air.example").actions if a.product_id == "ops.flights"]
    assert any("ops/products/flights.yaml" in a.action and a.why == message for a in items)


def test_a_widened_integer_keeps_its_promise_but_a_narrowing_to_text_does_not(air):
    root, state, _ = air
    rewrite(root, "SELECT * REPLACE (distance::BIGINT AS distance) FROM BASE")  # INTEGER -> BIGINT
    report = open_air(root, state).checker.run("ops.flights", now=NOW)
    assert by_name(report)["schema: declared types"].status == "pass"


def test_undeclared_new_columns_fail_only_where_the_product_asks(air):
    root, state, _ = air
    rewrite(root, "SELECT *, 'JFK' AS origin FROM BASE")
    assert "schema: no undeclared columns" not in by_name(open_air(root, state).checker.run("ops.flights", now=NOW))
    text = (root / "ops/products/flights.yaml").read_text()
    (root / "ops/products/flights.yaml").write_text(text + "undeclared_columns: fail\n")
    extra = by_name(open_air(root, state).checker.run("ops.flights", now=NOW))["schema: no undeclared columns"]
    assert (extra.status, extra.severity) == ("fail", "error")
    assert extra.message.startswith("the data has undeclared column `origin`")


def test_stale_timestamps_in_a_file_touched_today_are_late(tmp_path):
    """nycflights13: data from 2013, copied today. Freshness is the newest time_hour, not the file's time."""
    root = build(tmp_path / "air", newest=datetime(2013, 12, 31, 23))
    mesh = open_air(root, tmp_path / "state")
    assert (root / "ops/data/flights.parquet").stat().st_mtime > datetime.now().timestamp() - 600
    report = mesh.check("ops.flights")
    late = by_name(report)["freshness SLA"]
    assert late.status == "fail" and late.observed.startswith("2013-12-31 23:00:00")
    assert late.message.startswith("newest row is ") and late.message.endswith("days old; the SLA is 1 day")
    assert report.score < 100
    row = mesh.scorecard("ops").filter(product_id="ops.flights").row(0, named=True)
    assert (row["freshness"], row["freshness_basis"]) == ("late", "data: time_hour")
    # lineage agrees with the scorecard: the product is stale, by its data, not by its (new) file
    health = product_health(mesh.lineage_index, ["ops.flights"])["ops.flights"]
    assert health.status == "stale" and not any("source last changed" in r for r in health.reasons)


def test_without_a_timestamp_column_freshness_is_judged_by_file_time_and_says_so(tmp_path):
    root = build(tmp_path / "air")
    path = root / "ops/products/flights.yaml"
    path.write_text(path.read_text().replace("sla: {freshness_hours: 24, timestamp_column: time_hour}",
                                             "sla: {freshness_hours: 24}"))
    old = (datetime.now() - timedelta(days=3)).timestamp()
    os.utime(root / "ops/data/flights.parquet", (old, old))
    mesh = open_air(root, tmp_path / "state")
    check = by_name(mesh.check("ops.flights"))["freshness SLA (by file time)"]
    assert check.status == "fail" and check.message.startswith("by file time: the source last changed 3 days ago")
    row = mesh.scorecard("ops").filter(product_id="ops.flights").row(0, named=True)
    assert (row["freshness"], row["freshness_basis"]) == ("late", "file time")


def test_a_derived_product_whose_sql_no_longer_yields_a_declared_column(tmp_path):
    root = build(tmp_path / "air")
    path = root / "ops/products/delays_by_carrier.yaml"
    path.write_text(path.read_text().replace("avg(dep_delay) AS mean_delay", "avg(dep_delay) AS avg_delay"))
    mesh = open_air(root, tmp_path / "state")
    problem = next(p for p in mesh.problems if p.product_id == "ops.delays_by_carrier")
    assert Path(problem.path) == path and problem.field == "columns.1"
    assert problem.line == (path.read_text().splitlines().index("  - {name: mean_delay, type: DOUBLE}") + 1)
    assert problem.message == ("column 'mean_delay' is declared but the SQL does not produce it "
                               "(it produces carrier, avg_delay)")
    failed = by_name(mesh.check("ops.delays_by_carrier"))["schema: declared columns present"]
    assert failed.status == "fail"
    assert failed.message == ("column `mean_delay` is declared but the data has no such column; "
                              "the data has undeclared `avg_delay` (renamed?)")


def test_an_unreadable_source_is_one_failing_check_and_the_other_products_still_run(tmp_path):
    root = build(tmp_path / "air")
    (root / "ops/data/flights.parquet").write_bytes(b"PAR1 this is not parquet")
    write(root / "ops/products/carriers.yaml", """
        name: carriers
        owner: ops@air.example
        description: Airlines
        source: {kind: csv, path: data/carriers.csv}
        columns: [{name: carrier, type: VARCHAR}]
        quality: [{check: not_null, column: carrier}]
    """)
    write(root / "ops/data/carriers.csv", "carrier\nUA\nAA\n")
    result = CliRunner().invoke(app, ["check", str(root), "--format", "json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    reports = {r["product_id"]: r for r in json.loads(result.stdout)}
    first = reports["ops.flights"]["checks"][0]
    assert (first["name"], first["status"]) == ("source readable", "fail")
    assert first["message"].startswith("source unreadable: ") and "flights.parquet" in first["message"]
    assert reports["ops.flights"]["score"] == 0.0
    assert reports["ops.carriers"]["score"] == 100.0  # the other products' checks still ran


def test_schema_checks_export_to_junit_like_any_other_check(air):
    root, state, _ = air
    rewrite(root, "SELECT * EXCLUDE (dep_delay) FROM BASE")
    result = CliRunner().invoke(app, ["check", str(root), "ops.flights", "--format", "junit"])
    assert result.exit_code == 1
    assert 'name="schema: declared columns present"' in result.stdout
    assert "column `dep_delay` is declared but the data has no such column" in result.stdout


def test_a_change_of_source_options_is_a_new_run_not_reused_counts(tmp_path):
    root = build(tmp_path / "air")
    write(root / "ops/products/carriers.yaml", """
        name: carriers
        owner: ops@air.example
        description: Airlines
        source: {kind: csv, path: data/carriers.csv}
        columns: [{name: carrier, type: VARCHAR}, {name: fleet, type: BIGINT}]
        quality: [{check: not_null, column: fleet}]
    """)
    write(root / "ops/data/carriers.csv", "carrier,fleet\nUA,NA\nAA,900\n")
    first = open_air(root, tmp_path / "state").checker.run("ops.carriers", now=NOW)
    assert by_name(first)["schema: declared types"].message == "column `fleet` is declared BIGINT but the data has VARCHAR"
    path = root / "ops/products/carriers.yaml"
    path.write_text(path.read_text().replace("source: {kind: csv, path: data/carriers.csv}",
                                             "source: {kind: csv, path: data/carriers.csv, options: {nullstr: NA}}"))
    second = open_air(root, tmp_path / "state").checker.run("ops.carriers", now=NOW)
    assert not second.reused
    assert by_name(second)["schema: declared types"].status == "pass"
    assert by_name(second)["fleet not null"].failing == 1  # NA is now a null, so the check sees it
