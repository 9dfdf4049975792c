"""Ninety days of usage events and quality runs for the sample meshes, so trends tell a story.

The sample generator writes `history.yaml` at the mesh root (the story: which product's quality
drops and when, which product stops being used, the failing rows its seeded defects cause).
On the first open that needs history, `ensure_history` turns that file into usage events and
daily quality runs in the mesh's state store, dated back from that day (so "unused for 30 days"
stays true whenever the sample is opened). Same file and same day give the same rows.
A mesh without `history.yaml` gets no synthetic history.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from catalog.quality.scoring import score_results
from catalog.descriptors.yamlio import YamlError, read_yaml

if TYPE_CHECKING:
    from catalog.mesh import Mesh

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
    path.write_text(yaml.safe_dump(history_spec(spec, scale), sort_keys=False, width=100), encoding="utf-8")
    return path


def _rng(seed: str, *parts: Any) -> random.Random:
    digest = hashlib.sha256("|".join([seed, *map(str, parts)]).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _users(mesh: "Mesh") -> dict[str, list[str]]:
    """Three synthetic analysts per domain plus the domain owner."""
    out = {}
    for name, domain in mesh.domains.items():
        people = [f"{name}.analyst{k}@{mesh.name}.example" for k in (1, 2, 3)]
        if domain.owner and "@" in domain.owner:
            people.append(domain.owner)
        out[name] = people
    return out


def generate(mesh: "Mesh", spec: dict[str, Any], today: datetime) -> tuple[list[tuple], list[tuple]]:
    """(usage event rows, quality run rows) for the state store, `spec["days"]` days back from `today`."""
    days = int(spec.get("days", 90))
    seed = str(spec.get("seed", mesh.name))
    drop = spec.get("quality_drop") or {}
    stop = spec.get("stops_being_used") or {}
    users = _users(mesh)
    domains = sorted(users)
    events: list[tuple] = []
    runs: list[tuple] = []
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
                events.append((ts.isoformat(timespec="milliseconds"), user, role, product_id,
                               day_rng.randint(10, 5000), round(day_rng.uniform(5, 400), 1), "ok",
                               f"h{day_rng.getrandbits(40):010x}", domain))
        if not product.descriptor.quality:
            continue
        rows = (spec.get("rows") or {}).get(product_id)
        failing = (spec.get("failing") or {}).get(product_id, {})
        dropped_since = int(drop.get("days_ago", 0)) if drop.get("product") == product_id else None
        for back in range(days, 0, -1):
            ts = today - timedelta(days=back) + timedelta(hours=5, minutes=_rng(seed, "run", product_id).randint(0, 59))
            results = []
            for check in product.descriptor.quality:
                bad = failing.get(check.label, 0)
                if dropped_since is not None and back > dropped_since:
                    bad = 0
                status = "fail" if bad else "pass"
                whole = check.check in ("row_count", "freshness")
                message = ("" if not bad else "failing (synthetic history)" if whole
                           else f"{bad:,} of {rows or 0:,} rows fail (synthetic history)")
                results.append({"name": check.label, "kind": check.check, "severity": check.severity,
                                "status": status, "failing": bad, "rows": rows, "message": message,
                                "observed": None, "examples": []})
            score = score_results(results)
            runs.append((ts.isoformat(timespec="milliseconds"), product_id, product.descriptor.version, None,
                         score.value, int(score.complete), 0.0, json.dumps(results)))
    return events, runs


def ensure_history(mesh: "Mesh", today: datetime | None = None) -> bool:
    """Load the mesh's synthetic history into its state store once; True when it was loaded now."""
    if getattr(mesh, "_history_checked", False):
        return False
    path = mesh.root / HISTORY_FILE
    if not path.is_file():
        mesh._history_checked = True  # type: ignore[attr-defined]
        return False
    if mesh.state.query("SELECT 1 FROM meta WHERE key = ?", (META_KEY,)):
        mesh._history_checked = True  # type: ignore[attr-defined]
        return False
    try:
        spec = read_yaml(path).data or {}
    except YamlError:
        spec = {}
    start = (today or datetime.now(timezone.utc)).astimezone(timezone.utc)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    events, runs = generate(mesh, spec, day)
    loaded = False
    with mesh.state.transaction() as con:
        if not con.execute("SELECT 1 FROM meta WHERE key = ?", (META_KEY,)).fetchone():
            con.executemany("INSERT INTO usage_events (ts, user, role, product_id, rows, duration_ms, status, "
                            "query_id, consumer_domain) VALUES (?,?,?,?,?,?,?,?,?)", events)
            con.executemany("INSERT INTO quality_runs (ts, product_id, version, fingerprint, score, complete, "
                            "duration_ms, results) VALUES (?,?,?,?,?,?,?,?)", runs)
            con.execute("INSERT INTO meta VALUES (?, ?)", (META_KEY, day.isoformat()))
            loaded = True
    mesh._history_checked = True  # type: ignore[attr-defined]
    return loaded
