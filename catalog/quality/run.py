"""Run a product's quality checks as one scan, store the run, and read the latest results back.

`run_checks` compiles every declared check into one aggregate query (`catalog.quality.compile`),
runs it on the raw data, then fetches a few example failing rows per failing check,
masked for the role asking. Each run is stored in the state store with its time, the
product version and a fingerprint of its sources; a re-check of unchanged data (same
fingerprint, same checks) reuses the stored counts instead of scanning again.
A check that cannot run (missing column, bad expression, unreachable source) is
`errored` with the reason; the others still run and the score says it is incomplete.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

import duckdb
import polars as pl
from sqlglot import exp

from catalog.quality.compile import ROWS, CompiledCheck, CompiledScan, col, compile_checks
from catalog.errors import MeshError, SourceUnavailable
from catalog.quality.scoring import FORMULA, Score, grade, score_results
from catalog.sources.context import raw_table

__all__ = ["run_checks", "check", "QualityReport", "CheckResult"]

if TYPE_CHECKING:
    from catalog.mesh import Mesh

EXAMPLE_ROWS = 5
CHECK_ROLE = "steward"  # checks read the raw data; examples are masked for the role that asks


@dataclass
class CheckResult:
    """One check of one run: pass, fail or error, with the failing-row count and example failing rows."""

    name: str
    kind: str
    severity: str
    status: str  # "pass" | "fail" | "error"
    failing: int | None = None
    rows: int | None = None
    message: str = ""
    observed: Any = None  # row count, newest timestamp: what the check compared
    examples: list[dict[str, Any]] = field(default_factory=list)
    hidden: bool = False  # a sensitive check whose counts this viewer may not see (checks.sensitivity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QualityReport:
    """A product's quality run: every check result, the score and how the run went."""

    product_id: str
    version: str
    ts: str
    fingerprint: str | None
    checks: list[CheckResult]
    duration_ms: float
    rows: int | None = None
    reused: bool = False  # counts reused from a run on the same data (same fingerprint)

    @property
    def result(self) -> Score:
        return score_results(self.checks)

    @property
    def score(self) -> float | None:
        return self.result.value

    @property
    def grade(self) -> str | None:
        return self.result.grade

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def errored(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "error"]

    @property
    def blocking(self) -> list[CheckResult]:
        """Failed or errored checks of severity error: what fails a CI pipeline."""
        return [c for c in self.checks if c.status in ("fail", "error") and c.severity == "error"]

    formula = FORMULA

    def frame(self) -> pl.DataFrame:
        rows = [{"product_id": self.product_id, "check": c.name, "kind": c.kind, "severity": c.severity,
                 "status": c.status, "failing": c.failing, "rows": c.rows, "message": c.message} for c in self.checks]
        return pl.DataFrame(rows, schema={"product_id": pl.String, "check": pl.String, "kind": pl.String,
                                          "severity": pl.String, "status": pl.String, "failing": pl.Int64,
                                          "rows": pl.Int64, "message": pl.String})

    def summary(self) -> str:
        s = self.result
        head = f"{self.product_id}: score {s.label}"
        return (f"{head} · {len(self.checks) - len(self.failed) - len(self.errored)} passed, "
                f"{len(self.failed)} failed, {len(self.errored)} errored")

    def __repr__(self) -> str:
        return f"<QualityReport {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.summary()}</b><br><small>{FORMULA}</small></p>" + self.frame()._repr_html_()


@dataclass
class MeshQualityReport:
    """`mesh.check()` over every product: one QualityReport each."""

    reports: list[QualityReport]

    def __iter__(self) -> Iterator[QualityReport]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, product_id: str) -> QualityReport:
        return next(r for r in self.reports if r.product_id == product_id)

    @property
    def blocking(self) -> list[tuple[str, CheckResult]]:
        return [(r.product_id, c) for r in self.reports for c in r.blocking]

    def frame(self) -> pl.DataFrame:
        return pl.concat([r.frame() for r in self.reports]) if self.reports else QualityReport(
            "", "", "", None, [], 0).frame()

    def __repr__(self) -> str:
        return f"<MeshQualityReport {len(self.reports)} products, {len(self.blocking)} blocking failures>"


# ----------------------------------------------------------------------------- running

def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _fingerprint(mesh: "Mesh", product_id: str) -> str | None:
    """Source fingerprint of the product and of every product its checks reference, plus the checks."""
    product = mesh.product(product_id)
    try:
        parts = [mesh.fingerprint(product_id)]
        parts += [mesh.fingerprint(c.product) for c in product.descriptor.quality if c.check == "references"
                  and c.product in mesh.products]
    except (MeshError, OSError):
        return None
    if any(p is None for p in parts):
        return None
    checks = json.dumps([c.model_dump(mode="json") for c in product.descriptor.quality], sort_keys=True)
    parts += [product.descriptor.version, checks,
              json.dumps(product.descriptor.sla.model_dump(mode="json"), sort_keys=True)]
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()


def _judge(compiled: CompiledCheck, row: dict[str, Any], rows: int, now: datetime, sla: Any) -> CheckResult:
    check = compiled.check
    base = dict(name=check.label, kind=check.check, severity=check.severity, rows=rows)
    if check.check == "row_count":
        low = check.min is not None and rows < check.min
        high = check.max is not None and rows > check.max
        bounds = " and ".join(filter(None, [f"at least {check.min:,}" if check.min is not None else "",
                                            f"at most {check.max:,}" if check.max is not None else ""]))
        message = f"{rows:,} rows; expected {bounds}" if bounds else f"{rows:,} rows"
        return CheckResult(**base, status="fail" if low or high else "pass", failing=int(low or high),
                           message=message, observed=rows)
    if check.check == "freshness":
        return _freshness(check, row[compiled.outputs["newest"]], now, sla, base)
    failing = int(row[compiled.outputs["failing"]] or 0)
    noun = "duplicate rows" if check.check == "unique" else "rows fail"
    message = f"{failing:,} of {rows:,} {noun}" if failing else f"all {rows:,} rows pass"
    return CheckResult(**base, status="fail" if failing else "pass", failing=failing, message=message,
                       observed=failing)


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
    message = f"newest row is {age:,.0f} h old; the SLA is {hours:g} h"
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


def run_checks(mesh: "Mesh", product_id: str, role: str = "steward", now: datetime | None = None,
               reuse: bool = True, store: bool = True) -> QualityReport:
    """Check one product in one scan; store the run; examples masked for `role`."""
    product = mesh.product(product_id)
    now = now or _now()
    if now.tzinfo is not None:  # timestamps in the data are naive UTC
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    started = time.perf_counter()
    fingerprint = _fingerprint(mesh, product_id) if not product.broken else None
    if reuse and fingerprint is not None:
        previous = mesh.quality_runs.runs(product_id, limit=1)
        if previous and previous[0]["fingerprint"] == fingerprint:
            report = _reuse(mesh, product, previous[0], now, started, role)
            if store:
                _store(mesh, report, report.checks)
            return _for_viewer(mesh, report, role)
    stored_examples: dict[int, list[dict[str, Any]]] = {}
    if product.broken:
        checks = _errored(product, f"the product is broken: {mesh.problem_summary(product_id)}")
        rows = None
    else:
        checks, rows, stored_examples = _scan(mesh, product, role, now)
    report = QualityReport(product_id, product.descriptor.version, now.replace(tzinfo=timezone.utc).isoformat(
        timespec="milliseconds"), fingerprint, checks, (time.perf_counter() - started) * 1000, rows)
    if store:
        masked = [CheckResult(**{**c.to_dict(), "examples": stored_examples.get(i, [])})
                  for i, c in enumerate(checks)]
        _store(mesh, report, masked)
    return _for_viewer(mesh, report, role)


def _for_viewer(mesh: "Mesh", report: QualityReport, role: str) -> QualityReport:
    """The report as `role` may see it: sensitive checks it may not see are hidden (counts, examples)."""
    from catalog.access.policy import build

    shown = mesh.sensitivity.redact(report.product_id, [c.to_dict() for c in report.checks], build(mesh, role))
    report.checks = [CheckResult(**{k: v for k, v in r.items() if k in CheckResult.__dataclass_fields__})
                     for r in shown]
    return report


def _scan(mesh: "Mesh", product: Any, role: str, now: datetime
          ) -> tuple[list[CheckResult], int | None, dict[int, list[dict[str, Any]]]]:
    database = mesh.engine.database(CHECK_ROLE)
    try:
        database.ensure({product.id})
    except (SourceUnavailable, MeshError) as exc:
        return _errored(product, f"the source cannot be read: {exc}"), None, {}
    cursor = database.cursor()
    try:
        relation = raw_table(product.id)
        cursor.execute(exp.select(exp.Star()).from_(relation.copy()).limit(0).sql("duckdb"))
        columns = [d[0] for d in cursor.description]
        types = {d[0]: str(d[1]) for d in cursor.description}
        references: dict[str, exp.Expression] = {}
        reasons: dict[str, str] = {}
        for ref in {c.product for c in product.descriptor.quality if c.check == "references"}:
            if ref not in mesh.products:
                reasons[ref] = f"the referenced product {ref!r} is not in this mesh"
                continue
            try:
                database.ensure({ref})
                references[ref] = raw_table(ref)
            except (SourceUnavailable, MeshError) as exc:
                reasons[ref] = f"the referenced product {ref} cannot be read: {exc}"
        proven, bounds = _statistics(cursor, mesh, product, types)
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
            results[index] = CheckResult(name=check.label, kind=check.check, severity=check.severity, status="pass",
                                         failing=0, rows=rows, message=f"all {rows:,} rows pass: {how}", observed=0)
        stored = _examples(mesh, product, results, role)
        return [results[i] for i in range(len(product.descriptor.quality))], rows, stored
    finally:
        cursor.close()


def _examples(mesh: "Mesh", product: Any, results: dict[int, CheckResult], role: str
              ) -> dict[int, list[dict[str, Any]]]:
    """Example failing rows of each failing check, computed over the view the asker queries (so never raw
    PII to a role that sees it masked); returns the rows to store, computed over the fully masked view.
    A sensitive check (checks.sensitivity) shows examples only to a role that reads its data unmasked,
    and stores none (its condition means nothing over masked values)."""
    from catalog.engines.duckdb import masked_table, role_table
    from catalog.access.policy import build

    failing = {i for i, r in results.items() if r.status == "fail"}
    if not failing:
        return {}
    sensitive = set(mesh.sensitivity.checks(product))
    viewer = build(mesh, role)
    refs = {c.product for c in product.descriptor.quality if c.check == "references" and c.product in mesh.products}

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

    steward = mesh.engine.database(CHECK_ROLE)
    plain = {i for i in failing if product.descriptor.quality[i].label not in sensitive}
    stored = fetch(steward, masked_table, plain) if plain and ready(
        steward.ensure_masked, {product.id, *refs}) else {}
    shown = {i for i in failing if product.descriptor.quality[i].label not in sensitive
             or mesh.sensitivity.may_see_results(viewer, product, product.descriptor.quality[i])}
    database = mesh.engine.database(role)
    wanted_refs = {r for r in refs if r in database.visible}
    if viewer.can_query(product.id) and shown and ready(database.ensure, {product.id, *wanted_refs}):
        for index, rows in fetch(database, role_table, shown).items():
            results[index].examples = rows
    return stored


def _statistics(cursor: duckdb.DuckDBPyConnection, mesh: "Mesh", product: Any, types: dict[str, str]
                ) -> tuple[dict[int, str], dict[str, tuple[int, int]]]:
    """What a plain parquet product's file statistics tell the scan (see checks.statistics): the checks they
    prove passing, and on DuckDB the exact bounds of integer columns (for bitmap uniqueness counts)."""
    from catalog.quality.statistics import METADATA_COLUMNS, column_statistics, integer_bounds, proven_passing
    from catalog.sources.files import files_of

    if product.kind != "parquet" or product.source.options:
        return {}, {}
    files = files_of(product)
    try:
        cursor.execute(f"SELECT {METADATA_COLUMNS} FROM parquet_metadata($files)", {"files": files})
        rows = cursor.fetchall()
    except duckdb.Error:
        return {}, {}
    bounds = integer_bounds(rows, types) if mesh.engine.BITMAP_COUNTS else {}
    return proven_passing(product.descriptor.quality, column_statistics(rows)), bounds


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


def _reuse(mesh: "Mesh", product: Any, run: dict[str, Any], now: datetime, started: float,
           role: str) -> QualityReport:
    """The stored counts of an unchanged product; freshness is judged again against `now`."""
    checks = [CheckResult(**{k: v for k, v in r.items() if k in CheckResult.__dataclass_fields__})
              for r in run["results"]]
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


def _store(mesh: "Mesh", report: QualityReport, checks: list[CheckResult]) -> None:
    score = score_results(checks)
    mesh.quality_runs.record(report.product_id, report.version, report.fingerprint, score.value, score.complete,
                          report.duration_ms, [c.to_dict() for c in checks], ts=report.ts)


def check(mesh: "Mesh", product_id: str | None = None, role: str = "steward", now: datetime | None = None,
          reuse: bool = True) -> QualityReport | MeshQualityReport:
    """`mesh.check(id)`: one product's report; `mesh.check()`: every product's, in id order."""
    if role not in mesh.roles:
        raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(mesh.roles))}")
    if product_id is not None:
        return run_checks(mesh, product_id, role, now, reuse)
    return MeshQualityReport([run_checks(mesh, pid, role, now, reuse) for pid in sorted(mesh.products)])


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


def latest_runs(mesh: "Mesh") -> dict[str, dict[str, Any]]:
    """Product id -> its latest stored run (dict as `QualityRuns.runs` gives it), straight from the store."""
    return mesh.quality_runs.latest()


def latest_quality(mesh: "Mesh") -> LatestQuality:
    """The latest run of every checked product, from the state store (no scan)."""
    rows = []
    for product_id, run in latest_runs(mesh).items():
        statuses = [r.get("status") for r in run["results"]]
        rows.append({"product_id": product_id, "score": run["score"], "grade": grade(run["score"]),
                     "checked_at": run["ts"], "failed": statuses.count("fail"), "errored": statuses.count("error"),
                     "complete": run["complete"]})
    return LatestQuality(pl.DataFrame(rows, schema=LATEST_SCHEMA))


def quality_history(mesh: "Mesh", product_id: str | None = None) -> pl.DataFrame:
    """Every stored run (oldest first): product_id, ts, score, grade, failed, errored, complete, version."""
    out = []
    for run in mesh.quality_runs.history(product_id):
        statuses = [r.get("status") for r in run["results"]]
        out.append({"product_id": run["product_id"], "ts": run["ts"], "score": run["score"],
                    "grade": grade(run["score"]), "failed": statuses.count("fail"),
                    "errored": statuses.count("error"), "complete": run["complete"], "version": run["version"]})
    frame = pl.DataFrame(out, schema={"product_id": pl.String, "ts": pl.String, "score": pl.Float64,
                                      "grade": pl.String, "failed": pl.Int64, "errored": pl.Int64,
                                      "complete": pl.Boolean, "version": pl.String})
    return frame.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))
