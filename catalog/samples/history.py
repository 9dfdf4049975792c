"""Ninety days of usage events and quality runs for the sample meshes, so trends tell a story.

The sample generator writes `history.yaml` at the mesh root (the story: which product's quality
drops and when, which product stops being used, the failing rows its seeded defects cause).
When the mesh's state store is first opened, the seeder the facade hands it (`seeder`) turns that
file into usage events and daily quality runs, dated back from that day (so "unused for 30 days"
stays true whenever the sample is opened), and marks the store seeded: once per state store, and
never from a read path. Same file and same day give the same rows. A mesh without `history.yaml`
gets no synthetic history. `seed_history` seeds a sample's state before it is opened, for a fixed day.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.loader import open_descriptors
from catalog.descriptors.yamlio import YamlError, dump_yaml, read_yaml
from catalog.quality.runs import QualityRun, QualityRuns
from catalog.quality.scoring import Score, score_results
from catalog.query.usage_log import UsageEvent, UsageLog
from catalog.state.location import state_url
from catalog.state.store import StateStore

HISTORY_FILE = "history.yaml"
META_KEY = "history_seeded"

STORIES: dict[str, dict[str, Any]] = {
    "banking": {"quality_drop": {"product": "retail.accounts", "days_ago": 12},
                "stops_being_used": {"product": "marketing.customer_contacts", "days_ago": 45}},
    "life_sciences": {"quality_drop": {"product": "clinical.patients", "days_ago": 10},
                      "stops_being_used": {"product": "research.partner_lab_results", "days_ago": 40}},
    "supply_chain": {"quality_drop": {"product": "procurement.purchase_orders", "days_ago": 14},
                     "stops_being_used": {"product": "logistics.supplier_contacts", "days_ago": 50}},
}
"""The story each sample's history tells (used by the generator to write history.yaml)."""


def history_spec(spec: Any, scale: int = 1) -> dict[str, Any]:
    """The content of history.yaml for a sample MeshSpec: its story, rows and seeded failing rows."""
    story = STORIES.get(spec.name, {})
    failing: dict[str, dict[str, int]] = {}
    for product in spec.products:
        for defect in product.defects:
            if defect.check:
                failing.setdefault(product.id, {})[defect.check] = defect.count or 1
    return {
        "about": "Synthetic usage and quality history, loaded into the state store on first open "
                 "(catalog/samples/history.py). Days count back from the day the mesh is first opened.",
        "days": 90,
        "seed": spec.name,
        **story,
        "rows": {p.id: p.rows * scale for p in spec.products if p.kind != "sql"},
        "failing": failing,
    }


def write_history(spec: Any, dest: Path, scale: int = 1) -> Path:
    """Write `history.yaml` for a generated sample mesh (the generator calls this)."""
    path = Path(dest) / HISTORY_FILE
    path.write_text(dump_yaml(history_spec(spec, scale)), encoding="utf-8")
    return path


def _rng(seed: str, *parts: Any) -> random.Random:
    digest = hashlib.sha256("|".join([seed, *map(str, parts)]).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _users(mesh: DeclaredMesh) -> dict[str, list[str]]:
    """Three synthetic analysts per domain plus the domain owner."""
    out = {}
    for name, domain in mesh.domains.items():
        people = [f"{name}.analyst{k}@{mesh.name}.example" for k in (1, 2, 3)]
        if domain.owner and "@" in domain.owner:
            people.append(domain.owner)
        out[name] = people
    return out


def _run_results(product: Any, rows: int | None, failing: dict[str, int]) -> tuple[list[dict[str, Any]], Score]:
    """One day's check results of a product and their score, given how many rows each check fails."""
    results = []
    for check in product.descriptor.quality:
        bad = failing.get(check.label, 0)
        whole = check.check in ("row_count", "freshness")
        message = ("" if not bad else "failing" if whole else f"{bad:,} of {rows or 0:,} rows fail")
        results.append({"name": check.label, "kind": check.check, "severity": check.severity,
                        "status": "fail" if bad else "pass", "failing": bad, "rows": rows, "message": message,
                        "observed": None, "examples": []})
    return results, score_results(results)


def generate(mesh: DeclaredMesh, spec: dict[str, Any],
             today: datetime) -> tuple[list[UsageEvent], list[QualityRun]]:
    """(usage events, quality runs) for the state store, `spec["days"]` days back from `today`."""
    days = int(spec.get("days", 90))
    seed = str(spec.get("seed", mesh.name))
    drop = spec.get("quality_drop") or {}
    stop = spec.get("stops_being_used") or {}
    users = _users(mesh)
    domains = sorted(users)
    events: list[UsageEvent] = []
    runs: list[QualityRun] = []
    for product_id in sorted(mesh.products):
        product = mesh.products[product_id]
        if product.broken:
            continue
        rng = _rng(seed, product_id)
        rate = rng.uniform(1.0, 6.0)
        growth = rng.choice([-0.5, 0.0, 0.4, 0.8])  # change of the daily rate over the 90 days
        readers = {product.domain, *(mesh.products[d].domain for d in mesh.downstreams(product_id))}
        readers.add(rng.choice(domains))
        readers_list = sorted(readers)
        stopped = int(stop.get("days_ago", 0)) if stop.get("product") == product_id else 0
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if back <= stopped:
                continue
            day_rng = _rng(seed, product_id, back)
            expected = rate * (1 + growth * (days - back) / days)
            for _ in range(max(0, round(day_rng.gauss(expected, expected / 3)))):
                domain = day_rng.choice(readers_list)
                user = day_rng.choice(users[domain])
                ts = day + timedelta(seconds=day_rng.randint(7 * 3600, 19 * 3600))
                role = "steward" if day_rng.random() < 0.1 else "analyst"
                events.append(UsageEvent(
                    ts=ts.isoformat(timespec="milliseconds"), user=user, role=role, product_id=product_id,
                    rows=day_rng.randint(10, 5000), duration_ms=round(day_rng.uniform(5, 400), 1), status="ok",
                    query_id=f"h{day_rng.getrandbits(40):010x}", consumer_domain=domain))
        if not product.descriptor.quality:
            continue
        rows = (spec.get("rows") or {}).get(product_id)
        failing = (spec.get("failing") or {}).get(product_id, {})
        dropped_since = int(drop.get("days_ago", 0)) if drop.get("product") == product_id else None
        minute = _rng(seed, "run", product_id).randint(0, 59)
        phases = {clean: _run_results(product, rows, {} if clean else failing) for clean in (False, True)}
        for back in range(days, 0, -1):
            ts = today - timedelta(days=back) + timedelta(hours=5, minutes=minute)
            results, score = phases[dropped_since is not None and back > dropped_since]
            runs.append(QualityRun(product_id, product.descriptor.version, None, score.value, score.complete, 0.0,
                                   results, ts=ts.isoformat(timespec="milliseconds")))
    return events, runs


def seed(mesh: DeclaredMesh, state: StateStore, today: datetime | None = None) -> bool:
    """Load the mesh's synthetic history into `state` unless it holds it already; True when it was loaded now.
    The check, the rows and the mark are one transaction, so two processes opening a new store seed it once."""
    path = mesh.root / HISTORY_FILE
    if not path.is_file() or state.meta(META_KEY) is not None:
        return False
    try:
        spec = read_yaml(path).data or {}
    except YamlError:
        spec = {}
    start = (today or datetime.now(timezone.utc)).astimezone(timezone.utc)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    events, runs = generate(mesh, spec, day)
    with state.transaction() as con:
        if state.meta(META_KEY, con) is not None:
            return False
        UsageLog(state).record(events, con)
        QualityRuns(state).record_many(runs, con)
        state.set_meta(META_KEY, day.isoformat(), con)
    return True


def seeder(mesh: DeclaredMesh) -> Callable[[StateStore], bool] | None:
    """What the facade hands a new `StateStore(seed=...)`: seeds this mesh's history, or None without one."""
    if not (mesh.root / HISTORY_FILE).is_file():
        return None
    return lambda state: seed(mesh, state)


def seed_history(root: Path, state_dir: Path | None = None, today: datetime | None = None) -> bool:
    """Seed the state of the sample mesh in `root` (its `.meshwork`, or `state_dir`) now, dated back from
    `today`, before anything opens it: how tests get history of a fixed day. True when it was loaded now."""
    state_dir = Path(state_dir) if state_dir else Path(root).resolve() / ".meshwork"
    declared = open_descriptors(Path(root), cache_dir=state_dir)
    state = StateStore(state_dir, url=state_url(declared.descriptor.state))  # where the mesh will find it
    try:
        return seed(declared, state, today)
    finally:
        state.close()
