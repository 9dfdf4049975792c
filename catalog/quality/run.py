"""Run a product's quality checks as one scan, store the run, and read the latest results back.

`Checker.run` compiles every declared check into one aggregate query (`catalog.quality.compile`),
runs it on the raw data, then fetches a few example failing rows per failing check,
masked for the role asking. Each run is stored (`catalog.quality.runs.QualityRuns`) with its time, the
product version and a fingerprint of its sources; a re-check of unchanged data (same
fingerprint, same checks) reuses the stored counts instead of scanning again.
A check that cannot run (missing column, bad expression, unreachable source) is
`errored` with the reason; the others still run and the score says it is incomplete.
The checker receives what it uses: the declared mesh, the engine, the stored runs, the viewers (the
policy of the role asking) and the sensitivity of checks; it never sees the `Mesh` facade.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import duckdb
import polars as pl
from sqlglot import exp

from catalog.access.policy import Viewers
from catalog.descriptors.declared import DeclaredMesh
from catalog.engines.base import Engine
from catalog.engines.duckdb import masked_table, role_table
from catalog.errors import MeshError, SourceUnavailable
from catalog.quality.compile import ROWS, CompiledCheck, CompiledScan, col, compile_checks
from catalog.quality.implied import FILE_TIME_FRESHNESS, checked, judged_by_file_time
from catalog.quality.report import CheckResult, MeshQualityReport, QualityReport
from catalog.quality.runs import QualityRuns
from catalog.quality.schema import schema_results, unreadable
from catalog.quality.scoring import grade, score_results
from catalog.quality.sensitivity import Sensitivity
from catalog.quality.statistics import METADATA_COLUMNS, column_statistics, integer_bounds, proven_passing
from catalog.sources import refreshed_at
from catalog.sources.context import raw_table
from catalog.sources.files import files_of
from catalog.numbers import newest_row_text, rows_text, source_changed_text

__all__ = ["Checker", "CheckResult", "LatestQuality", "MeshQualityReport", "QualityReport", "latest_quality",
           "quality_history"]

EXAMPLE_ROWS = 5
CHECK_ROLE = "steward"  # checks read the raw data; examples are masked for the role that asks


# ----------------------------------------------------------------------------- running

def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _judge(compiled: CompiledCheck, row: dict[str, Any], rows: int, now: datetime, sla: Any) -> CheckResult:
    check = compiled.check
    base = dict(name=check.label, kind=check.check, severity=check.severity, rows=rows)
    if check.check == "row_count":
        low = check.min is not None and rows < check.min
        high = check.max is not None and rows > check.max
        bounds = " and ".join(filter(None, [f"at least {check.min:,}" if check.min is not None else "",
                                            f"at most {check.max:,}" if check.max is not None else ""]))
        message = f"{rows_text(rows)}; expected {bounds}" if bounds else rows_text(rows)
        return CheckResult(**base, status="fail" if low or high else "pass", failing=int(low or high),
                           message=message, observed=rows)
    if check.check == "freshness":
        return _freshness(check, row[compiled.outputs["newest"]], now, sla, base)
    failing = int(row[compiled.outputs["failing"]] or 0)
    noun = "duplicate rows" if check.check == "unique" else "rows fail"
    message = f"{failing:,} of {rows:,} {noun}" if failing else f"all {rows:,} rows pass"
    tolerated = bool(failing) and check.tolerance is not None and check.tolerance.allows(failing, rows)
    if tolerated:
        unit = " %" if check.tolerance.unit == "percent" else " rows"
        message += f" (within the tolerance of {check.tolerance.max:g}{unit})"
    return CheckResult(**base, status="fail" if failing and not tolerated else "pass", failing=failing,
                       message=message, observed=failing)


def _freshness(check: Any, newest: Any, now: datetime, sla: Any, base: dict[str, Any]) -> CheckResult:
    hours = check.max_age_hours or sla.freshness_hours
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    if newest is None:
        return CheckResult(**base, status="fail", failing=1, message="no timestamps: the product is empty",
                           observed=None)
    if getattr(newest, "tzinfo", None) is not None:
        newest = newest.astimezone(timezone.utc).replace(tzinfo=None)
    age = (now - newest).total_seconds() / 3600
    late = age > hours
    message = newest_row_text(age, hours)
    return CheckResult(**base, status="fail" if late else "pass", failing=int(late), message=message,
                       observed=newest.isoformat(sep=" "))


def _fetch(cursor: duckdb.DuckDBPyConnection, query: exp.Expression) -> list[dict[str, Any]]:
    cursor.execute(query.sql("duckdb"))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for v in r)))
            for r in cursor.fetchall()]


def _errored(product: Any, reason: str) -> list[CheckResult]:
    return [CheckResult(name=c.label, kind=c.check, severity=c.severity, status="error", message=reason)
            for c in product.descriptor.quality]


def _unreadable(product: Any, exc: BaseException) -> list[CheckResult]:
    """A source that cannot be read at all: one failing check that says why; the declared checks could not
    run (errored, with the same reason), so the score is that one failure's."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return [unreadable(reason), *_errored(product, f"not run: the source is unreadable ({reason})")]


def _file_time_freshness(mesh: DeclaredMesh, product: Any, now: datetime) -> list[CheckResult]:
    """An SLA with no timestamp column, judged by when the source last changed (and saying so)."""
    if not judged_by_file_time(product):
        return []
    changed = refreshed_at(mesh, product.id)
    if changed is None:
        return []  # a live database: no file time to judge by
    hours = product.descriptor.sla.freshness_hours
    age = (now - datetime.fromtimestamp(changed, timezone.utc).replace(tzinfo=None)).total_seconds() / 3600
    late = age > hours
    return [CheckResult(name=FILE_TIME_FRESHNESS, kind="freshness", severity="warning",
                        status="fail" if late else "pass", failing=int(late),
                        message=f"by file time: the {source_changed_text(age, hours)} "
                                "(declare sla.timestamp_column to measure the data itself)",
                        observed=datetime.fromtimestamp(changed, timezone.utc).replace(tzinfo=None).isoformat(sep=" "))]


def _run_scan(cursor: duckdb.DuckDBPyConnection, scan: CompiledScan) -> tuple[dict[str, Any], int, dict[int, str]]:
    """Run the one aggregate query; if it fails, find the checks that break it and run without them."""
    try:
        cursor.execute(scan.sql("duckdb"))
        names = [d[0] for d in cursor.description]
        row = dict(zip(names, cursor.fetchone()))
        return row, int(row[ROWS]), {}
    except duckdb.Error:
        pass
    errors: dict[int, str] = {}
    keep: list[CompiledCheck] = []
    for compiled in scan.checks:
        single = exp.select(*[p for p in scan.select.expressions
                              if p.alias in (ROWS, *compiled.outputs.values())]).from_(scan.relation.copy())
        try:
            cursor.execute(single.sql("duckdb") + " LIMIT 0")
            keep.append(compiled)
        except duckdb.Error as exc:
            errors[compiled.index] = f"the check cannot run: {str(exc).splitlines()[0]}"
    wanted = {ROWS, *(a for c in keep for a in c.outputs.values())}
    select = exp.select(*[p for p in scan.select.expressions if p.alias in wanted]).from_(scan.relation.copy())
    cursor.execute(select.sql("duckdb"))
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone()))
    scan.checks = keep
    return row, int(row[ROWS]), errors


def _reuse(mesh: DeclaredMesh, product: Any, run: dict[str, Any], now: datetime, started: float,
           role: str) -> QualityReport:
    """The stored counts of an unchanged product; freshness is judged again against `now`."""
    checks = [CheckResult(**{k: v for k, v in r.items() if k in CheckResult.__dataclass_fields__})
              for r in run["results"] if r.get("name") != FILE_TIME_FRESHNESS]
    checks += _file_time_freshness(mesh, product, now)
    by_label = {c.label: c for c in product.descriptor.quality}
    for i, result in enumerate(checks):
        declared = by_label.get(result.name)
        if result.kind == "freshness" and declared is not None and result.status != "error":
            checks[i] = _freshness(declared, result.observed, now, product.descriptor.sla,
                                   dict(name=result.name, kind=result.kind, severity=result.severity,
                                        rows=result.rows))
            checks[i].examples = []
    rows = next((c.rows for c in checks if c.rows is not None), None)
    return QualityReport(product.id, product.descriptor.version,
                         now.replace(tzinfo=timezone.utc).isoformat(timespec="milliseconds"), run["fingerprint"],
                         checks, (time.perf_counter() - started) * 1000, rows, reused=True)


class Checker:
    """`mesh.check(...)`: runs checks for a role and stores each run. It receives the declared mesh, the
    engine (role databases and source fingerprints), the stored runs, the viewers (the asking role's policy)
    and which checks are sensitive."""

    def __init__(self, mesh: DeclaredMesh, engine: Engine, runs: QualityRuns, viewers: Viewers,
                 sensitivity: Sensitivity):
        self.mesh = mesh
        self.engine = engine
        self.runs = runs
        self.viewers = viewers
        self.sensitivity = sensitivity

    def check(self, product_id: str | None = None, role: str = "steward", now: datetime | None = None,
              reuse: bool = True) -> QualityReport | MeshQualityReport:
        """`mesh.check(id)`: one product's report; `mesh.check()`: every product's, in id order."""
        if role not in self.mesh.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(self.mesh.roles))}")
        if product_id is not None:
            return self.run(product_id, role, now, reuse)
        return MeshQualityReport([self.run(pid, role, now, reuse) for pid in sorted(self.mesh.products)])

    def run(self, product_id: str, role: str = "steward", now: datetime | None = None,
            reuse: bool = True, store: bool = True) -> QualityReport:
        """Check one product in one scan; store the run; examples masked for `role`."""
        product = checked(self.mesh.product(product_id))  # the declared checks and those the SLA implies
        now = now or _now()
        if now.tzinfo is not None:  # timestamps in the data are naive UTC
            now = now.astimezone(timezone.utc).replace(tzinfo=None)
        started = time.perf_counter()
        fingerprint = self._fingerprint(product_id) if not product.broken else None
        if reuse and fingerprint is not None:
            previous = self.runs.runs(product_id, limit=1)
            if previous and previous[0]["fingerprint"] == fingerprint:
                report = _reuse(self.mesh, product, previous[0], now, started, role)
                if store:
                    self._store(report, report.checks)
                return self._for_viewer(report, role)
        stored_examples: dict[int, list[dict[str, Any]]] = {}
        if product.broken:
            checks = _errored(product, f"the product is broken: {self.mesh.problem_summary(product_id)}")
            rows = None
        else:
            checks, rows, stored_examples = self._scan(product, role, now)
            checks += _file_time_freshness(self.mesh, product, now)
        report = QualityReport(product_id, product.descriptor.version, now.replace(tzinfo=timezone.utc).isoformat(
            timespec="milliseconds"), fingerprint, checks, (time.perf_counter() - started) * 1000, rows)
        if store:
            masked = [CheckResult(**{**c.to_dict(), "examples": stored_examples.get(i, [])})
                      for i, c in enumerate(checks)]
            self._store(report, masked)
        return self._for_viewer(report, role)

    def _for_viewer(self, report: QualityReport, role: str) -> QualityReport:
        """The report as `role` may see it: sensitive checks it may not see are hidden (counts, examples)."""
        shown = self.sensitivity.redact(report.product_id, [c.to_dict() for c in report.checks],
                                        self.viewers.policy(role))
        report.checks = [CheckResult(**{k: v for k, v in r.items() if k in CheckResult.__dataclass_fields__})
                         for r in shown]
        return report

    def _fingerprint(self, product_id: str) -> str | None:
        """Source fingerprint of the product and of every product its checks reference, plus the checks."""
        product = self.mesh.product(product_id)
        try:
            parts = [self.engine.fingerprint(product_id)]
            parts += [self.engine.fingerprint(c.product) for c in product.descriptor.quality
                      if c.check == "references"
                      and c.product in self.mesh.products]
        except (MeshError, OSError):
            return None
        if any(p is None for p in parts):
            return None
        # Everything of the descriptor that changes what a run reads or how it judges: the checks, the SLA,
        # the source as declared (options such as `nullstr` change the values read), the declared schema.
        read = product.descriptor.model_dump(mode="json", include={"quality", "sla", "source", "columns",
                                                                    "undeclared_columns", "version"})
        parts.append(json.dumps(read, sort_keys=True, default=str))
        return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()

    def _scan(self, product: Any, role: str, now: datetime
              ) -> tuple[list[CheckResult], int | None, dict[int, list[dict[str, Any]]]]:
        database = self.engine.database(CHECK_ROLE)
        try:
            database.ensure({product.id})
        except (SourceUnavailable, MeshError) as exc:
            return _unreadable(product, exc), None, {}
        cursor = database.cursor()
        try:
            relation = raw_table(product.id)
            try:  # the source's schema, from its metadata: no row is read
                cursor.execute(exp.select(exp.Star()).from_(relation.copy()).limit(0).sql("duckdb"))
            except duckdb.Error as exc:
                return _unreadable(product, exc), None, {}
            columns = [d[0] for d in cursor.description]
            types = {d[0]: str(d[1]) if d[1] is not None else None for d in cursor.description}
            references: dict[str, exp.Expression] = {}
            reasons: dict[str, str] = {}
            for ref in {c.product for c in product.descriptor.quality if c.check == "references"}:
                if ref not in self.mesh.products:
                    reasons[ref] = f"the referenced product {ref!r} is not in this mesh"
                    continue
                try:
                    database.ensure({ref})
                    references[ref] = raw_table(ref)
                except (SourceUnavailable, MeshError) as exc:
                    reasons[ref] = f"the referenced product {ref} cannot be read: {exc}"
            proven, bounds = self._statistics(cursor, product, types)
            scan = compile_checks(product, relation, set(columns), references, skip=set(proven), bounds=bounds)
            results: dict[int, CheckResult] = {}
            for index, check, reason in scan.errored:
                reason = reasons.get(getattr(check, "product", ""), reason)
                results[index] = CheckResult(name=check.label, kind=check.check, severity=check.severity,
                                             status="error", message=reason)
            try:
                row, rows, runtime_errors = _run_scan(cursor, scan)
            except duckdb.Error:
                if not bounds:
                    raise
                # the file changed under its statistics (a value outside them): count distinct values by hashing
                scan = compile_checks(product, relation, set(columns), references, skip=set(proven))
                row, rows, runtime_errors = _run_scan(cursor, scan)
            for index, reason in runtime_errors.items():
                check = product.descriptor.quality[index]
                results[index] = CheckResult(name=check.label, kind=check.check, severity=check.severity,
                                             status="error", message=reason)
            for compiled in scan.checks:
                if compiled.index not in results:
                    results[compiled.index] = _judge(compiled, row, rows, now, product.descriptor.sla)
            for index, how in proven.items():
                check = product.descriptor.quality[index]
                results[index] = CheckResult(name=check.label, kind=check.check, severity=check.severity,
                                             status="pass", failing=0, rows=rows,
                                             message=f"all {rows:,} rows pass: {how}", observed=0)
            stored = self._examples(product, results, role)
            ordered = [results[i] for i in range(len(product.descriptor.quality))]
            return ordered + schema_results(product, types), rows, stored
        finally:
            cursor.close()

    def _examples(self, product: Any, results: dict[int, CheckResult], role: str
                  ) -> dict[int, list[dict[str, Any]]]:
        """Example failing rows of each failing check, computed over the view the asker queries (so never raw
        PII to a role that sees it masked); returns the rows to store, computed over the fully masked view.
        A sensitive check (checks.sensitivity) shows examples only to a role that reads its data unmasked,
        and stores none (its condition means nothing over masked values)."""

        failing = {i for i, r in results.items() if r.status == "fail"}
        if not failing:
            return {}
        sensitive = set(self.sensitivity.checks(product))
        viewer = self.viewers.policy(role)
        refs = {c.product for c in product.descriptor.quality
                if c.check == "references" and c.product in self.mesh.products}

        def fetch(database: Any, table: Any, wanted: set[int]) -> dict[int, list[dict[str, Any]]]:
            relation = table(product.id)
            cursor = database.cursor()
            try:
                cursor.execute(exp.select(exp.Star()).from_(relation.copy()).limit(0).sql("duckdb"))
                columns = [d[0] for d in cursor.description]
                scan = compile_checks(product, relation, set(columns), {r: table(r) for r in refs})
                out = {}
                for compiled in scan.checks:
                    query = scan.examples(compiled, [col(c) for c in columns], EXAMPLE_ROWS)
                    if compiled.index in wanted and query is not None:
                        try:
                            out[compiled.index] = _fetch(cursor, query)
                        except duckdb.Error:
                            out[compiled.index] = []
                return out
            finally:
                cursor.close()

        def ready(ensure: Any, ids: set[str]) -> bool:
            try:
                ensure(ids)
                return True
            except (SourceUnavailable, MeshError):
                return False

        steward = self.engine.database(CHECK_ROLE)
        plain = {i for i in failing if product.descriptor.quality[i].label not in sensitive}
        stored = fetch(steward, masked_table, plain) if plain and ready(
            steward.ensure_masked, {product.id, *refs}) else {}
        shown = {i for i in failing if product.descriptor.quality[i].label not in sensitive
                 or self.sensitivity.may_see_results(viewer, product, product.descriptor.quality[i])}
        database = self.engine.database(role)
        wanted_refs = {r for r in refs if r in database.visible}
        if viewer.can_query(product.id) and shown and ready(database.ensure, {product.id, *wanted_refs}):
            for index, rows in fetch(database, role_table, shown).items():
                results[index].examples = rows
        return stored

    def _statistics(self, cursor: duckdb.DuckDBPyConnection, product: Any, types: dict[str, str]
                    ) -> tuple[dict[int, str], dict[str, tuple[int, int]]]:
        """What a plain parquet product's file statistics tell the scan (see checks.statistics): the checks they
        prove passing, and on DuckDB the exact bounds of integer columns (for bitmap uniqueness counts)."""
        if product.kind != "parquet" or product.source.options:
            return {}, {}
        files = files_of(product)
        try:
            cursor.execute(f"SELECT {METADATA_COLUMNS} FROM parquet_metadata($files)", {"files": files})
            rows = cursor.fetchall()
        except duckdb.Error:
            return {}, {}
        bounds = integer_bounds(rows, types) if self.engine.BITMAP_COUNTS else {}
        return proven_passing(product.descriptor.quality, column_statistics(rows)), bounds

    def _store(self, report: QualityReport, checks: list[CheckResult]) -> None:
        score = score_results(checks)
        self.runs.record(report.product_id, report.version, report.fingerprint, score.value, score.complete,
                         report.duration_ms, [c.to_dict() for c in checks], ts=report.ts)


# ----------------------------------------------------------------------------- reading runs back

class LatestQuality(pl.DataFrame):
    """`mesh.latest_quality()`: one row per checked product (product_id, score, grade, checked_at, failed,
    errored, complete). `.items()` also gives (product id, LatestRun) pairs for code that wants a mapping."""

    def items(self) -> Iterator[tuple[str, "LatestRun"]]:
        for row in self.iter_rows(named=True):
            yield row["product_id"], LatestRun(**row)


@dataclass(frozen=True)
class LatestRun:
    product_id: str
    score: float | None
    grade: str | None
    checked_at: str
    failed: int
    errored: int
    complete: bool


LATEST_SCHEMA = {"product_id": pl.String, "score": pl.Float64, "grade": pl.String, "checked_at": pl.String,
                 "failed": pl.Int64, "errored": pl.Int64, "complete": pl.Boolean}


def latest_quality(runs: QualityRuns) -> LatestQuality:
    """The latest run of every checked product, from the stored runs (no scan)."""
    rows = []
    for product_id, run in runs.latest().items():
        statuses = [r.get("status") for r in run["results"]]
        rows.append({"product_id": product_id, "score": run["score"], "grade": grade(run["score"], run["results"]),
                     "checked_at": run["ts"], "failed": statuses.count("fail"), "errored": statuses.count("error"),
                     "complete": run["complete"]})
    return LatestQuality(pl.DataFrame(rows, schema=LATEST_SCHEMA))


def quality_history(runs: QualityRuns, product_id: str | None = None) -> pl.DataFrame:
    """Every stored run (oldest first): product_id, ts, score, grade, failed, errored, complete, version."""
    out = []
    for run in runs.history(product_id):
        statuses = [r.get("status") for r in run["results"]]
        out.append({"product_id": run["product_id"], "ts": run["ts"], "score": run["score"],
                    "grade": grade(run["score"], run["results"]), "failed": statuses.count("fail"),
                    "errored": statuses.count("error"), "complete": run["complete"], "version": run["version"]})
    frame = pl.DataFrame(out, schema={"product_id": pl.String, "ts": pl.String, "score": pl.Float64,
                                      "grade": pl.String, "failed": pl.Int64, "errored": pl.Int64,
                                      "complete": pl.Boolean, "version": pl.String})
    return frame.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))
