"""What counts as a failing cause in a product's latest results: error-severity checks that fail or cannot
run, freshness against the SLA, and volume against its own history (mean ± k·σ)."""

from __future__ import annotations

import statistics
from datetime import datetime, timezone
from typing import Any

from catalog.descriptors.model import DataProduct
from catalog.incidents import Finding
from catalog.numbers import newest_row_text, source_changed_text

FAILING = ("fail", "error")


def _naive_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def freshness_hours(product: DataProduct, check_name: str | None) -> float | None:
    declared = next((c for c in product.descriptor.quality if c.label == check_name), None)
    return getattr(declared, "max_age_hours", None) or product.descriptor.sla.freshness_hours


def findings(product: DataProduct, results: list[dict[str, Any]], now: datetime, reused: bool,
             modified: float | None) -> list[Finding]:
    """The failing causes in one product's check results at `now`. A freshness result is judged again when the
    results are reused (age grows with time alone); without one, the SLA is held against the source's
    modification time."""
    now = _naive_utc(now) or datetime.now(timezone.utc).replace(tzinfo=None)
    out: list[Finding] = []
    fresh_seen = False
    for result in results:
        kind, status, name = result.get("kind"), result.get("status"), result.get("name")
        if kind == "freshness":
            fresh_seen = True
            hours = freshness_hours(product, name)
            newest = _naive_utc(result.get("observed"))
            if reused and status != "error" and newest is not None and hours:
                age = (now - newest).total_seconds() / 3600
                if age > hours:
                    out.append(Finding("freshness", "freshness", newest_row_text(age, hours)))
            elif status in FAILING:
                out.append(Finding("freshness", "freshness", f"{name}: {result.get('message') or status}"))
            continue
        if status in FAILING and result.get("severity") == "error":
            text = "hidden" if result.get("hidden") else result.get("message") or status
            out.append(Finding(f"check:{name}", "check", f"{name}: {'cannot run' if status == 'error' else 'fails'}"
                                                        f" ({text})"))
    hours = product.descriptor.sla.freshness_hours
    if not fresh_seen and hours and modified is not None:
        age = (now.replace(tzinfo=timezone.utc).timestamp() - modified) / 3600
        if age > hours:
            out.append(Finding("freshness", "freshness", source_changed_text(age, hours)))
    return out


def volume(rows: int | None, history: list[int], k: float, min_runs: int) -> Finding | None:
    """A row count outside mean ± k·σ of the earlier data versions (at least `min_runs` of them)."""
    if rows is None or len(history) < min_runs:
        return None
    mean = statistics.fmean(history)
    sigma = statistics.pstdev(history)
    low, high = mean - k * sigma, mean + k * sigma
    if low <= rows <= high:
        return None
    return Finding("volume", "volume", f"{rows:,} rows; the last {len(history)} versions predict "
                                       f"{max(low, 0):,.0f} to {high:,.0f} (mean {mean:,.0f} ± {k:g}·σ {sigma:,.0f})")
