"""Product-owner review: an owner's (or a domain's) products, what changed since the last review, and
the action items in priority order; exported as Markdown or as a self-contained HTML report.

A review compares now with the last *recorded* review of the same owner or domain (scores, failing
checks, usage, schema); without one it compares with 30 days ago. `ReviewLog.record` stores the
snapshot the next review compares with, in the mesh's state store (table `owner_reviews`, which this module
alone reads and writes). A review reads everything else from one `Evidence`, each part once.
The HTML report embeds its charts as inline SVG (vl-convert), so it opens anywhere offline.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from catalog.access.policy import Policy
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.quality.scoring import FORMULA
from catalog.numbers import format_percent, format_score
from catalog.scorecards import charts as scorecard_charts
from catalog.scorecards.evidence import Evidence
from catalog.scorecards.scorecard import product_scorecard
from catalog.scorecards.usage import WINDOW_DAYS, daily_usage
from catalog.state.store import StateStore

if TYPE_CHECKING:
    import altair as alt

PRIORITIES = {1: "fix now", 2: "fix this week", 3: "plan", 4: "tidy up"}


@dataclass
class ActionItem:
    priority: int  # 1 = fix now ... 4 = tidy up
    product_id: str
    action: str
    why: str

    @property
    def urgency(self) -> str:
        return PRIORITIES[self.priority]


@dataclass
class ProductReview:
    product_id: str
    title: str
    domain: str
    owner: str
    version: str
    score: float | None
    grade: str | None
    complete: bool
    previous_score: float | None
    failing: list[str]
    new_failures: list[str]
    fixed: list[str]
    queries: int
    previous_queries: int
    users: int
    unused_30d: bool
    freshness: str
    documentation: float
    compliance: float | None
    upstream_issues: str
    schema_changes: list[str] = field(default_factory=list)
    open_incidents: int = 0
    mttr_hours: float | None = None

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, 1)


@dataclass
class Review:
    subject: str  # "owner:<email>" or "domain:<name>"
    mesh: str
    as_of: datetime
    baseline: str  # what "since" means, in words
    since: datetime
    products: list[ProductReview]
    actions: list[ActionItem]
    history: pl.DataFrame  # product_id, ts, score
    daily_usage: pl.DataFrame  # product_id, day, queries
    locked: list[str] = field(default_factory=list)  # products of the subject the viewer may not see in full

    @property
    def title(self) -> str:
        kind, _, who = self.subject.partition(":")
        return f"Quality review of {who}" + (" (domain)" if kind == "domain" else "")

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([{**{k: v for k, v in asdict(p).items() if not isinstance(v, list)},
                              "failing": len(p.failing), "score_change": p.score_change} for p in self.products])

    def actions_frame(self) -> pl.DataFrame:
        return pl.DataFrame([{"priority": a.priority, "urgency": a.urgency, "product_id": a.product_id,
                              "action": a.action, "why": a.why} for a in self.actions],
                            schema={"priority": pl.Int64, "urgency": pl.String, "product_id": pl.String,
                                    "action": pl.String, "why": pl.String})


def _owners(mesh: DeclaredMesh) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for product in mesh.products.values():
        out.setdefault(product.owner or "(no owner)", []).append(product.id)
    return dict(sorted(out.items()))


def _subject(mesh: DeclaredMesh, owner: str | None, domain: str | None) -> tuple[str, list[str]]:
    if (owner is None) == (domain is None):
        raise MeshError("a review is of one owner or of one domain: give owner=... or domain=...")
    if domain is not None:
        if domain not in mesh.domains:
            raise MeshError(f"no domain {domain!r} in mesh {mesh.name!r}; it has {', '.join(sorted(mesh.domains))}")
        return f"domain:{domain}", sorted(p for p, d in mesh.products.items() if d.domain == domain)
    owners = _owners(mesh)
    ids = owners.get(owner or "", [])
    if not ids:
        raise MeshError(f"{owner!r} owns no product in mesh {mesh.name!r}; owners: {', '.join(owners)}")
    return f"owner:{owner}", sorted(ids)


def _snapshot_then(ev: Evidence, ids: list[str], since: datetime) -> dict[str, Any]:
    """What the products looked like at `since`, from the stored runs and usage events."""
    runs: dict[str, tuple[list[dict[str, Any]], float | None]] = {}
    for product_id in ids:
        run = ev.run_at(product_id, since.isoformat())
        if run is not None:
            runs[product_id] = (run["results"], run["score"])
    used = ev.events.filter((pl.col("ts") > since - timedelta(days=WINDOW_DAYS)) & (pl.col("ts") <= since))
    counts = dict(used.group_by("product_id").len().iter_rows())
    return {pid: {"score": runs[pid][1] if pid in runs else None,
                  "failing": [r["name"] for r in runs[pid][0] if r.get("status") in ("fail", "error")]
                  if pid in runs else [],
                  "queries": counts.get(pid, 0), "columns": None, "version": None} for pid in ids}


def _columns(product: Any) -> dict[str, str]:
    return {c.name: c.type for c in product.columns}


def _schema_changes(before: dict[str, str] | None, after: dict[str, str], old_version: str | None,
                    new_version: str) -> list[str]:
    if before is None:
        return []
    out = [f"column {c} ({after[c]}) added" for c in after if c not in before]
    out += [f"column {c} removed" for c in before if c not in after]
    out += [f"column {c} changed type {before[c]} -> {after[c]}" for c in after if c in before and before[c] != after[c]]
    if old_version and old_version != new_version:
        out.append(f"version {old_version} → {new_version}")
    return out


def _changelog(ev: Evidence, ids: list[str], since: datetime, until: datetime) -> dict[str, list[str]]:
    """Descriptor changes the change tracker recorded after `since` up to `until`, per product (oldest first)."""
    try:
        log = ev.changelog
    except MeshError:
        return {}
    if log is None:
        return {}
    out: dict[str, list[str]] = {}
    for row in reversed(log.rows(named=True)):
        if row["product_id"] in ids and since < datetime.fromisoformat(row["ts"]) <= until:
            out.setdefault(row["product_id"], []).append(row["message"])
    return out


def review(ev: Evidence, owner: str | None = None, domain: str | None = None,
           as_of: datetime | None = None, policy: Policy | None = None) -> Review:
    """The review of `owner`'s products (or `domain`'s) as of now, against the last recorded review. With a
    viewer `policy`, only the products it shows in full are reviewed; locked ones are named in `locked`,
    hidden ones left out."""
    mesh = ev.mesh
    now = as_of or datetime.now(timezone.utc)
    subject, ids = _subject(mesh, owner, domain)
    locked: list[str] = []
    if policy is not None and not policy.unfiltered:
        locked = [pid for pid in ids if policy.is_locked(pid)]
        ids = [pid for pid in ids if policy.can_see(pid)]
    last = ev.reviews.last(subject, now)
    if last is not None:
        since, before = last
        baseline = f"since the last review on {since:%Y-%m-%d %H:%M} UTC"
    else:
        since = now - timedelta(days=WINDOW_DAYS)
        before = _snapshot_then(ev, ids, since)
        baseline = f"since {since:%Y-%m-%d} ({WINDOW_DAYS} days ago; no earlier review was recorded)"
    card = {r["product_id"]: r for r in product_scorecard(ev, None, now).iter_rows(named=True)
            if r["product_id"] in ids}
    runs = ev.runs
    if policy is not None and not policy.unfiltered:  # a check reading data the viewer sees masked: status only
        runs = {pid: {**runs[pid], "results": ev.sensitivity.redact(pid, runs[pid]["results"], policy)}
                for pid in ids if pid in runs}
    logged = _changelog(ev, ids, since, now)
    products = []
    for pid in ids:
        row, product, then = card[pid], mesh.products[pid], before.get(pid, {})
        failing = [r["name"] for r in runs.get(pid, {}).get("results", []) if r.get("status") in ("fail", "error")]
        products.append(ProductReview(
            product_id=pid, title=product.title, domain=product.domain, owner=product.owner,
            version=product.descriptor.version, score=row["score"], grade=row["grade"], complete=row["complete"],
            previous_score=then.get("score"), failing=failing,
            new_failures=[f for f in failing if f not in then.get("failing", [])],
            fixed=[f for f in then.get("failing", []) if f not in failing],
            queries=row["queries"], previous_queries=then.get("queries", 0), users=row["users"],
            unused_30d=row["unused_30d"], freshness=row["freshness"], documentation=row["documentation"],
            compliance=row["compliance"], upstream_issues=row["lineage"] if row["upstream_issues"] else "",
            schema_changes=logged.get(pid) or _schema_changes(then.get("columns"), _columns(product),
                                                              then.get("version"), product.descriptor.version),
            open_incidents=row["open_incidents"] or 0, mttr_hours=row["mttr_hours"]))
    history = ev.history.filter(pl.col("product_id").is_in(ids) & (pl.col("ts") <= now)
                                & (pl.col("ts") > now - timedelta(days=90))).select("product_id", "ts", "score")
    usage = daily_usage(mesh, ev.events, None, now).filter(pl.col("product_id").is_in(ids))
    return Review(subject, mesh.name, now, baseline, since, products,
                  action_items(mesh, products, runs, ev.compliance), history, usage, locked)


SCHEMA_FIXES = {
    "schema_columns": "Restore the column in the source, or take it out of `columns:` in {path}",
    "schema_types": "Give the column its declared type again in the source, or change its `type:` in {path}",
    "schema_undeclared": "Declare the new column in {path}, or set `undeclared_columns: allow` there",
    "source": "Make the source readable again (its path, permissions or server), as {path} declares it",
}
"""The fix of each failing schema check, naming the descriptor to edit."""


def _shown_path(mesh: DeclaredMesh, path: Any) -> str:
    try:
        return str(path.relative_to(mesh.root))
    except ValueError:
        return str(path)


def action_items(mesh: DeclaredMesh, products: list[ProductReview], runs: dict[str, Any],
                 compliance: pl.DataFrame | None) -> list[ActionItem]:
    """What the owner should do, most urgent first: blocking failures, then freshness and drops, then the rest."""
    items: list[ActionItem] = []
    for p in products:
        product = mesh.products[p.product_id]
        results = runs.get(p.product_id, {}).get("results", [])
        for r in results:
            if r.get("status") == "fail" and r.get("kind") in SCHEMA_FIXES:
                where = _shown_path(mesh, product.path)
                items.append(ActionItem(1, p.product_id, SCHEMA_FIXES[r["kind"]].format(path=where),
                                        r.get("message") or "fails"))
            elif r.get("status") == "fail" and r.get("kind") != "freshness":
                priority = 1 if r.get("severity") == "error" else 3
                items.append(ActionItem(priority, p.product_id, f"Fix “{r['name']}”", r.get("message") or "fails"))
            elif r.get("status") == "error":
                items.append(ActionItem(2, p.product_id, f"Repair the check “{r['name']}”",
                                        r.get("message") or "it cannot run"))
        if p.freshness == "late":
            items.append(ActionItem(1, p.product_id, "Refresh the data: it is past its freshness SLA",
                                    next((r.get("message") for r in results if r.get("kind") == "freshness"),
                                         "the source is older than the SLA") or "late"))
        if p.score_change is not None and p.score_change <= -5:
            items.append(ActionItem(2, p.product_id, "Find out why the score dropped",
                                    f"{format_score(p.previous_score)} → {format_score(p.score)}"))
        if p.open_incidents:
            items.append(ActionItem(2, p.product_id, f"Handle {p.open_incidents} open incident(s)",
                                    "acknowledge, assign or resolve them in Incidents (meshwork incidents list)"))
        if p.upstream_issues:
            items.append(ActionItem(3, p.product_id, "Talk to the owners of failing upstream products",
                                    p.upstream_issues))
        if compliance is not None:
            failed = compliance.filter((pl.col("product_id") == p.product_id) & ~pl.col("passed"))
            for row in failed.iter_rows(named=True):
                priority = 2 if row.get("severity") == "error" else 4
                items.append(ActionItem(priority, p.product_id, f"Meet the policy “{row['policy']}”",
                                        row.get("fix") or row.get("message") or "not met"))
        if not product.descriptor.quality:
            items.append(ActionItem(3, p.product_id, "Declare quality checks", "the product has none, so it has no score"))
        if p.documentation < 100:
            missing = [c.name for c in product.columns if not c.description.strip()]
            what = ("the product" if not product.description.strip() else "") + (
                (" and " if not product.description.strip() and missing else "") +
                (f"columns {', '.join(missing[:6])}{'…' if len(missing) > 6 else ''}" if missing else ""))
            items.append(ActionItem(4, p.product_id, "Describe " + what,
                                    f"documentation {format_percent(p.documentation)}"))
        if p.unused_30d:
            items.append(ActionItem(4, p.product_id, "Decide whether to keep it: nobody queried it in 30 days",
                                    "deprecate it or tell its consumers where it moved"))
    return sorted(items, key=lambda a: (a.priority, a.product_id, a.action))


class ReviewLog:
    """The recorded reviews (`owner_reviews`): the snapshot each one saw, which the next review compares with.
    Recording needs the reviewed owner (a domain's owner) or a steward: `authorize(reviewer, subject)` returns
    the acting user or raises AccessDenied, audited (the facade wires catalog.access.authority.check_review)."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, authorize: Callable[[str | None, str], str]):
        self.mesh = mesh
        self.state = state
        self.authorize = authorize

    def last(self, subject: str, before: datetime) -> tuple[datetime, dict[str, Any]] | None:
        """(when, snapshot) of the subject's latest review recorded at or before `before`, or None."""
        rows = self.state.query("SELECT ts, snapshot FROM owner_reviews WHERE subject = ? AND ts <= ? "
                                "ORDER BY ts DESC, id DESC LIMIT 1", (subject, before.isoformat()))
        if not rows:
            return None
        return datetime.fromisoformat(rows[0][0]), json.loads(rows[0][1])

    def record(self, done: Review, reviewer: str | None) -> None:
        """Store what this review saw, so the next one shows what changed since; a refusal stores nothing."""
        reviewer = self.authorize(reviewer, done.subject)
        snapshot = {p.product_id: {"score": p.score, "failing": p.failing, "queries": p.queries,
                                   "columns": _columns(self.mesh.products[p.product_id]), "version": p.version}
                    for p in done.products}
        with self.state.transaction() as con:
            con.execute("INSERT INTO owner_reviews (ts, subject, reviewer, snapshot) VALUES (?,?,?,?)",
                        (done.as_of.isoformat(), done.subject, reviewer, json.dumps(snapshot)))


# ----------------------------------------------------------------------------- export

def charts(done: Review) -> list["alt.Chart"]:
    out = []
    if done.history.height:
        out.append(scorecard_charts.score_trend(done.history, title="Quality score, last 90 days"))
    if done.daily_usage.height:
        out.append(scorecard_charts.usage_trend(done.daily_usage))
    return out


def _delta(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:+.1f}" if value else "±0"


def to_markdown(done: Review) -> str:
    lines = [f"# {done.title}", "", f"Mesh **{done.mesh}** · as of {done.as_of:%Y-%m-%d %H:%M} UTC · "
             f"changes {done.baseline}.", "", "## Action items", ""]
    if not done.actions:
        lines.append("Nothing to do: every check passes and every product is documented, fresh and used.")
    for n, a in enumerate(done.actions, 1):
        lines.append(f"{n}. **{a.urgency}** · `{a.product_id}` — {a.action} ({a.why})")
    lines += ["", "## Products", "", "| product | score | change | grade | failing | queries (30 d) | freshness "
              "| docs | compliance | upstream |", "|---|---|---|---|---|---|---|---|---|---|"]
    for p in done.products:
        lines.append(f"| `{p.product_id}` | {format_score(p.score)} | {_delta(p.score_change)} | {p.grade or '–'} | "
                     f"{len(p.failing)} | {p.queries} ({p.queries - p.previous_queries:+d}) | {p.freshness} | "
                     f"{format_percent(p.documentation)} | {format_percent(p.compliance)} | "
                     f"{p.upstream_issues or 'ok'} |")
    if done.locked:
        lines += ["", f"Locked, not reviewed here (restricted; you may not see them): "
                      f"{', '.join(f'`{pid}`' for pid in done.locked)}."]
    lines += ["", "## What changed", ""]
    changed = False
    for p in done.products:
        notes = ([f"new failure: {f}" for f in p.new_failures] + [f"fixed: {f}" for f in p.fixed]
                 + p.schema_changes)
        if p.unused_30d and p.previous_queries:
            notes.append(f"stopped being used ({p.previous_queries} queries in the 30 days before)")
        if notes:
            changed = True
            lines.append(f"- `{p.product_id}`: " + "; ".join(notes))
    if not changed:
        lines.append("No new failures, fixes or schema changes.")
    lines += ["", "## How the score is computed", "", FORMULA, ""]
    return "\n".join(lines)


def _svg(chart: "alt.Chart") -> str:
    try:
        import vl_convert as vlc
    except ImportError:  # the chart still travels as its Vega-Lite spec
        return f"<pre class='spec'>{html.escape(chart.to_json())}</pre>"
    return vlc.vegalite_to_svg(chart.to_json())


def to_html(done: Review) -> str:
    """One self-contained HTML page: the Markdown content as HTML plus the charts as inline SVG."""
    e = html.escape
    actions = "".join(f"<li><b class='p{a.priority}'>{e(a.urgency)}</b> <code>{e(a.product_id)}</code> — "
                      f"{e(a.action)} <small>({e(a.why)})</small></li>" for a in done.actions) or \
        "<li>Nothing to do.</li>"
    rows = "".join(
        f"<tr><td><code>{e(p.product_id)}</code><br><small>{e(p.title)}</small></td><td>{format_score(p.score)}</td>"
        f"<td>{_delta(p.score_change)}</td><td>{e(p.grade or '–')}</td><td>{len(p.failing)}</td>"
        f"<td>{p.queries}</td><td>{e(p.freshness)}</td><td>{format_percent(p.documentation)}</td>"
        f"<td>{format_percent(p.compliance)}</td><td>{e(p.upstream_issues or 'ok')}</td></tr>"
        for p in done.products)
    changes = "".join(
        f"<li><code>{e(p.product_id)}</code>: {e('; '.join([*(f'new failure: {f}' for f in p.new_failures), *(f'fixed: {f}' for f in p.fixed), *p.schema_changes]))}</li>"  # noqa: E501
        for p in done.products if p.new_failures or p.fixed or p.schema_changes) or "<li>No new failures, fixes or schema changes.</li>"
    figures = "".join(f"<figure>{_svg(c)}</figure>" for c in charts(done))
    locked = (f"<p>Locked, not reviewed here (restricted; you may not see them): "
              f"{', '.join(f'<code>{e(pid)}</code>' for pid in done.locked)}.</p>" if done.locked else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(done.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1f2937; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }}
.p1 {{ color: #b91c1c; }} .p2 {{ color: #c2410c; }} .p3 {{ color: #1d4ed8; }} .p4 {{ color: #4b5563; }}
figure {{ margin: 1rem 0; }} small {{ color: #6b7280; }}
</style></head><body>
<h1>{e(done.title)}</h1>
<p>Mesh <b>{e(done.mesh)}</b> · as of {done.as_of:%Y-%m-%d %H:%M} UTC · changes {e(done.baseline)}.</p>
<h2>Action items</h2><ol>{actions}</ol>
<h2>Products</h2>
<table><tr><th>product</th><th>score</th><th>change</th><th>grade</th><th>failing</th><th>queries (30 d)</th>
<th>freshness</th><th>docs</th><th>compliance</th><th>upstream</th></tr>{rows}</table>
{locked}<h2>What changed</h2><ul>{changes}</ul>
<h2>Trends</h2>{figures}
<h2>How the score is computed</h2><p><small>{e(FORMULA)}</small></p>
</body></html>
"""


EXPORTERS = {"md": to_markdown, "markdown": to_markdown, "html": to_html}


def export(done: Review, fmt: str = "md") -> str:
    """The review as Markdown (`md`) or a self-contained HTML page (`html`)."""
    try:
        return EXPORTERS[fmt](done)
    except KeyError:
        raise MeshError(f"unknown review format {fmt!r}; choose md or html") from None
