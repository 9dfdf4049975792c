"""Scorecards per domain and per product: quality, checks, freshness, documentation, compliance, usage, lineage.

Everything is read from one `Evidence` (descriptors, latest quality runs, usage events, lineage health,
governance compliance), each part once; nothing is scanned. `DIMENSIONS` puts each dimension on a 0–100
scale for the heat map. Without governance compliance the compliance column is null and the scorecard
says it is incomplete.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl

from catalog.access.policy import Policy, product_for
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.quality.implied import FILE_TIME_FRESHNESS
from catalog.quality.scoring import FORMULA, domain_cap_reason, domain_grade, domain_score, failing_errors, grade
from catalog.scorecards.evidence import Evidence
from catalog.scorecards.usage import USAGE_DEFINITION, WINDOW_DAYS, usage_metrics

LOCKED_NOTE = "locked: restricted, ask its owner for access"
_MEASURED = ("score", "grade", "score_trend", "checked_at", "checks", "checks_passing", "checks_failed",
             "checks_errored", "freshness", "freshness_basis", "documentation", "compliance", "policies_failed", "upstream_issues",
             "lineage", "failing_error_checks")

DIMENSIONS = {
    "quality": "quality score (0–100)",
    "checks": "% of checks passing in the latest run",
    "freshness": "100 when within its freshness SLA, 0 when late (blank: no SLA)",
    "documentation": "% of product + column descriptions present",
    "compliance": "% of governance policies passed",
    "usage": "100 when queried in the last 30 days, 0 when unused",
    "lineage": "100 when no upstream product is broken, failing or stale, else 0",
}

DEFINITIONS = (
    FORMULA + " Documentation = described items ÷ (1 + columns), the product description counting as one. "
    "Compliance = policies passed ÷ policies that apply. Freshness: the latest freshness check, measured "
    "on the data (the newest value of the SLA's timestamp column); only when no timestamp column is declared, "
    "the age of the source files against sla.freshness_hours, marked \"by file time\". Lineage health: upstream products (any distance) "
    f"that are broken, fail their latest checks or are stale. Score trend = latest score − the score "
    f"{WINDOW_DAYS} days earlier. " + USAGE_DEFINITION
)

PRODUCT_SCHEMA: dict[str, Any] = {
    "domain": pl.String, "product_id": pl.String, "title": pl.String, "owner": pl.String,
    "score": pl.Float64, "grade": pl.String, "complete": pl.Boolean, "score_trend": pl.Float64,
    "checked_at": pl.String, "checks": pl.Int64, "checks_passing": pl.Int64, "checks_failed": pl.Int64,
    "checks_errored": pl.Int64, "freshness": pl.String, "freshness_basis": pl.String, "documentation": pl.Float64,
    "compliance": pl.Float64, "policies_failed": pl.Int64, "queries": pl.Int64, "users": pl.Int64, "consuming_domains": pl.Int64,
    "usage_trend": pl.String, "unused_30d": pl.Boolean, "upstream_issues": pl.Int64, "lineage": pl.String,
    "incomplete": pl.String, "open_incidents": pl.Int64, "mttr_hours": pl.Float64,
    "failing_error_checks": pl.String,  # names of its failing error-severity checks (they cap grades)
}

DOMAIN_SCHEMA: dict[str, Any] = {
    "domain": pl.String, "owner": pl.String, "products": pl.Int64, "score": pl.Float64, "grade": pl.String,
    "score_trend": pl.Float64, "checks": pl.Int64, "checks_passing": pl.Int64, "fresh": pl.Int64,
    "late": pl.Int64, "documentation": pl.Float64, "compliance": pl.Float64, "queries": pl.Int64,
    "users": pl.Int64, "unused_products": pl.Int64, "lineage_issues": pl.Int64, "incomplete": pl.String,
    "open_incidents": pl.Int64, "mttr_hours": pl.Float64, "agreements_held": pl.Int64,
    "grade_capped": pl.String,  # why the grade is below the score's (a product fails an error-severity check)
}


def documentation(product: Any) -> float:
    """% of the product's description and column descriptions that are present."""
    items = [product.descriptor.description, *[c.description for c in product.columns]]
    return round(100.0 * sum(bool(str(i).strip()) for i in items) / len(items), 1)


def _compliance(frame: pl.DataFrame | None) -> dict[str, tuple[float, int]] | None:
    if frame is None:
        return None
    out = {}
    for (product_id,), group in frame.group_by(["product_id"]):
        passed = int(group["passed"].sum())
        out[product_id] = (round(100.0 * passed / group.height, 1) if group.height else 100.0,
                           group.height - passed)
    return out


def _score_trend(history: pl.DataFrame, now: datetime) -> dict[str, float]:
    """Latest score − the latest score at or before `now` − WINDOW_DAYS, per product."""
    history = history.filter(pl.col("score").is_not_null() & (pl.col("ts") <= now))
    if history.is_empty():
        return {}
    latest = history.group_by("product_id").agg(pl.col("score").last().alias("now"))
    before = (history.filter(pl.col("ts") <= now - timedelta(days=WINDOW_DAYS))
              .group_by("product_id").agg(pl.col("score").last().alias("then")))
    joined = latest.join(before, on="product_id", how="inner")
    return {r["product_id"]: round(r["now"] - r["then"], 1) for r in joined.iter_rows(named=True)}


def _freshness(product: Any, run: dict[str, Any] | None, health: Any) -> tuple[str, str | None]:
    """(ok / late / error / no SLA, what it was judged by): the latest freshness check, measured on the data's
    timestamps, else the source files' age ("file time")."""
    results = [r for r in (run or {}).get("results", []) if r.get("kind") == "freshness"]
    if results:
        statuses = {r.get("status") for r in results}
        status = "late" if "fail" in statuses else "error" if "error" in statuses else "ok"
        by_file = all(r.get("name") == FILE_TIME_FRESHNESS for r in results)
        column = product.descriptor.sla.timestamp_column
        return status, "file time" if by_file else f"data: {column}" if column else "data"
    if not product.descriptor.sla.freshness_hours:
        return "no SLA", None
    if health is not None and any("SLA" in reason for reason in health.reasons):
        return "late", "file time"
    return "ok", "file time"


def upstream_products(mesh: DeclaredMesh, product_id: str) -> set[str]:
    """Every product upstream of `product_id`, at any distance (what its SQL reads, and what that reads)."""
    seen: set[str] = set()
    todo = [u for u in mesh.upstreams(product_id) if u in mesh.products]
    while todo:
        upstream = todo.pop()
        if upstream not in seen and upstream != product_id:
            seen.add(upstream)
            todo.extend(u for u in mesh.upstreams(upstream) if u in mesh.products)
    return seen


def product_scorecard(ev: Evidence, domain: str | None = None, as_of: datetime | None = None,
                      policy: Policy | None = None) -> pl.DataFrame:
    """One row per product (of `domain`, or all), every dimension of the scorecard; with a `policy`, the
    products its viewer may list, a locked one with only its name, owner and usage (nothing measured)."""
    mesh = ev.mesh
    now = as_of or datetime.now(timezone.utc)
    runs = ev.runs
    health = ev.health
    compliance = _compliance(ev.compliance)
    usage = {r["product_id"]: r for r in usage_metrics(mesh, ev.events, now).iter_rows(named=True)}
    trends = _score_trend(ev.history, now)
    rows = []
    for product_id in sorted(mesh.products):
        product = mesh.products[product_id]
        if domain is not None and product.domain != domain:
            continue
        if policy is not None and not policy.is_listed(product_id):
            continue
        if policy is not None and policy.is_locked(product_id):
            use = usage.get(product_id, {})
            rows.append({"domain": product.domain, "product_id": product_id, "title": product.title,
                         "owner": product.owner, "complete": False, "queries": use.get("queries", 0),
                         "users": use.get("users", 0), "consuming_domains": use.get("consuming_domains", 0),
                         "usage_trend": use.get("trend_label", "none"), "unused_30d": use.get("unused_30d", True),
                         **{k: None for k in _MEASURED}, "incomplete": LOCKED_NOTE})
            continue
        run = runs.get(product_id)
        statuses = [r.get("status") for r in (run or {}).get("results", [])]
        upstream = upstream_products(mesh, product_id)
        issues = [n for n in upstream if mesh.products[n].broken or health[n].status in ("fail", "stale")]
        comp = compliance.get(product_id) if compliance is not None else None
        use = usage.get(product_id, {})
        missing = []
        if not product.descriptor.quality:
            missing.append("no checks declared")
        elif run is None:
            missing.append("never checked")
        elif not run["complete"]:
            missing.append("some checks errored")
        if compliance is None:
            missing.append("no governance compliance available")
        rows.append({
            "domain": product.domain, "product_id": product_id, "title": product.title, "owner": product.owner,
            "score": run["score"] if run else None, "grade": grade(run["score"], run["results"]) if run else None,
            "complete": bool(run["complete"]) if run else False, "score_trend": trends.get(product_id),
            "checked_at": run["ts"] if run else None, "checks": len(statuses),
            "checks_passing": statuses.count("pass"), "checks_failed": statuses.count("fail"),
            "checks_errored": statuses.count("error"),
            **dict(zip(("freshness", "freshness_basis"), _freshness(product, run, health.get(product_id)))),
            "documentation": documentation(product),
            "compliance": comp[0] if comp else None, "policies_failed": comp[1] if comp else None,
            "queries": use.get("queries", 0), "users": use.get("users", 0),
            "consuming_domains": use.get("consuming_domains", 0), "usage_trend": use.get("trend_label", "none"),
            "unused_30d": use.get("unused_30d", True), "upstream_issues": len(issues),
            "lineage": ", ".join(sorted(issues)) if issues else ("ok" if upstream else "no upstream"),
            "incomplete": "; ".join(missing) or None,
            "open_incidents": ev.incidents.get(product_id, {}).get("open_incidents", 0),
            "mttr_hours": ev.incidents.get(product_id, {}).get("mttr_hours"),
            "failing_error_checks": ", ".join(failing_errors(run["results"])) or None if run else None,
        })
    return pl.DataFrame(rows, schema=PRODUCT_SCHEMA)


def held_by(agreements: pl.DataFrame, domain: str) -> int:
    """How many of these active agreements the domain holds: as the consumer, or through one of its products
    (`consumer_kind` product, `consumer` <domain>.<name>)."""
    if agreements.is_empty():
        return 0
    return agreements.filter(((pl.col("consumer_kind") == "domain") & (pl.col("consumer") == domain))
                             | ((pl.col("consumer_kind") == "product")
                                & pl.col("consumer").str.starts_with(f"{domain}."))).height


def domain_scorecard(products: pl.DataFrame, ev: Evidence, as_of: datetime | None = None) -> pl.DataFrame:
    """One row per domain, aggregated from the product scorecard (so from what its viewer may see); with the
    active access agreements the domain and its products hold on products that viewer may list."""
    mesh = ev.mesh
    now = as_of or datetime.now(timezone.utc)
    recent = ev.events.filter((pl.col("ts") > now - timedelta(days=WINDOW_DAYS)) & (pl.col("ts") <= now))
    rows = []
    held = ev.agreements.filter(pl.col("product_id").is_in(products["product_id"].to_list()))  # on listed ones
    for name in sorted(mesh.domains):
        group = products.filter(pl.col("domain") == name)
        ids = group["product_id"].to_list()
        users = recent.filter(pl.col("product_id").is_in(ids))["user"].n_unique() if ids else 0
        score = domain_score(group["score"].to_list())
        failing = {row["product_id"]: row["failing_error_checks"].split(", ")
                   for row in group.iter_rows(named=True) if row["failing_error_checks"]}
        trends = group["score_trend"].drop_nulls()
        notes = sorted({n for cell in group["incomplete"].drop_nulls().to_list() for n in cell.split("; ")})
        rows.append({
            "domain": name, "owner": mesh.domains[name].owner, "products": group.height, "score": score,
            "grade": domain_grade(score, failing), "grade_capped": domain_cap_reason(score, failing),
            "score_trend": round(float(trends.mean()), 1) if len(trends) else None,  # type: ignore[arg-type]
            "checks": int(group["checks"].fill_null(0).sum()),
            "checks_passing": int(group["checks_passing"].fill_null(0).sum()),
            "fresh": int((group["freshness"] == "ok").sum()), "late": int((group["freshness"] == "late").sum()),
            "documentation": round(float(group["documentation"].mean()), 1) if group.height else None,  # type: ignore[arg-type]
            "compliance": (round(float(group["compliance"].mean()), 1)  # type: ignore[arg-type]
                           if group.height and group["compliance"].null_count() < group.height else None),
            "queries": int(group["queries"].sum()), "users": users,
            "unused_products": int(group["unused_30d"].sum()),
            "lineage_issues": int((group["upstream_issues"].fill_null(0) > 0).sum()),
            "incomplete": "; ".join(notes) or None,
            "open_incidents": int(group["open_incidents"].fill_null(0).sum()),
            "mttr_hours": (round(float(group["mttr_hours"].mean()), 2)  # type: ignore[arg-type]
                           if group["mttr_hours"].null_count() < group.height else None),
            "agreements_held": held_by(held, name),
        })
    return pl.DataFrame(rows, schema=DOMAIN_SCHEMA)


def scorecard(ev: Evidence, domain: str | None = None, as_of: datetime | None = None,
              policy: Policy | None = None) -> pl.DataFrame:
    """`mesh.scorecard()`: one row per domain; `mesh.scorecard(domain)`: one row per product of that domain;
    with a `policy`, as its viewer may see them (hidden products left out, locked ones unmeasured)."""
    mesh = ev.mesh
    if domain is not None:
        if domain not in mesh.domains:
            raise MeshError(f"no domain {domain!r} in mesh {mesh.name!r}; it has {', '.join(sorted(mesh.domains))}")
        return product_scorecard(ev, domain, as_of, policy)
    return domain_scorecard(product_scorecard(ev, None, as_of, policy), ev, as_of)


def mesh_summary(domains: pl.DataFrame) -> dict[str, Any]:
    """The whole mesh in four numbers, from `domain_scorecard`: domains, their mean score (None while no domain
    is scored), checks passing of checks run, and products unused for 30 days."""
    scored = domains.filter(pl.col("score").is_not_null())
    return {"domains": domains.height,
            "mean_score": round(float(scored["score"].mean()), 1) if scored.height else None,  # type: ignore[arg-type]
            "checks_passing": int(domains["checks_passing"].sum()), "checks": int(domains["checks"].sum()),
            "unused_products": int(domains["unused_products"].sum())}


def domain_overview(domains: pl.DataFrame) -> pl.DataFrame:
    """The domains' table at mesh level (from `domain_scorecard`): what tells domains apart at a glance, in as
    few columns as that needs to fit a 1440 px screen: one "checks" column (passing / all), late products only,
    and the owner, users, upstream issues and repair time left to each domain's own page (a click away)."""
    checks = pl.format("{} / {}", "checks_passing", "checks").alias("checks")
    return domains.select("domain", "products", "score", "grade", "score_trend", checks, "late", "documentation",
                          "compliance", "queries", "unused_products", "open_incidents", "agreements_held")


def dimensions(products: pl.DataFrame) -> pl.DataFrame:
    """Long form for the heat map: product_id, dimension, value (0–100, null when not measured)."""
    frame = products.select(
        "product_id", "domain",
        pl.col("score").alias("quality"),
        pl.when(pl.col("checks") > 0).then(pl.col("checks_passing") / pl.col("checks") * 100).alias("checks"),
        pl.when(pl.col("freshness") == "ok").then(100.0).when(pl.col("freshness") == "late").then(0.0)
        .otherwise(None).alias("freshness"),
        pl.col("documentation"), pl.col("compliance"),
        pl.when(pl.col("unused_30d")).then(0.0).otherwise(100.0).alias("usage"),
        pl.when(pl.col("upstream_issues") > 0).then(0.0).otherwise(100.0).alias("lineage"),
    )
    return frame.unpivot(index=["product_id", "domain"], variable_name="dimension", value_name="value").with_columns(
        pl.col("value").cast(pl.Float64).round(1))


def domain_trend(ev: Evidence, days: int = 90, as_of: datetime | None = None,
                 policy: Policy | None = None) -> pl.DataFrame:
    """domain, day, score: each day, the mean of the products' last score that day (for the trend chart); with a
    `policy`, of the products its viewer sees in full."""
    mesh = ev.mesh
    now = as_of or datetime.now(timezone.utc)
    history = ev.history.filter(pl.col("score").is_not_null() & (pl.col("ts") > now - timedelta(days=days))
                                            & (pl.col("ts") <= now))
    if policy is not None and not policy.unfiltered:
        history = history.filter(pl.col("product_id").is_in(list(policy.allowed)))
    if history.is_empty():
        return pl.DataFrame(schema={"domain": pl.String, "day": pl.Datetime("us", "UTC"), "score": pl.Float64})
    domains = pl.DataFrame({"product_id": list(mesh.products), "domain": [p.domain for p in mesh.products.values()]})
    daily = (history.with_columns(pl.col("ts").dt.truncate("1d").alias("day"))
             .group_by("product_id", "day").agg(pl.col("score").last()))
    return (daily.join(domains, on="product_id").group_by("domain", "day")
            .agg(pl.col("score").mean().round(1)).sort("domain", "day"))


def latest_checks(ev: Evidence, product_id: str, policy: Policy | None = None) -> list[dict[str, Any]]:
    """The check results of a product's latest stored run (failing first), with their example rows (stored
    masked), as the viewer `policy` may see them (None: unfiltered). A viewer who may not see the product in
    full gets none (a locked product shows no results; a hidden one is an unknown product)."""
    mesh, viewer = ev.mesh, policy
    product = mesh.product(product_id) if viewer is None else product_for(mesh, product_id, viewer)
    if viewer is not None and not viewer.can_see(product.id):
        return []
    run = ev.runs.get(product.id)
    if run is None:
        return []
    hidden = viewer is not None and not viewer.can_query(product.id)
    order = {"fail": 0, "error": 1, "pass": 2}
    results = [{**r, "examples": []} if hidden else r for r in run["results"]]
    if viewer is not None:  # sensitive checks: counts and examples only for viewers who read that data
        results = ev.sensitivity.redact(product.id, results, viewer)
    return sorted(results, key=lambda r: (order.get(r.get("status"), 3), r.get("name", "")))
