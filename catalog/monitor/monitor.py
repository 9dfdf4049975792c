"""One monitor pass (`meshwork monitor` runs them once, or in a loop until SIGTERM).

A pass takes the products whose schedule is due (a product's `schedule`, else its domain's, else mesh.yaml's
`monitor.every`), works out each one's data version (its sources' fingerprints and its checks, SLA and
version), and runs the Checker only where that changed; an unchanged product's stored results are judged
again (freshness ages with time alone), which costs microseconds, not a scan. Findings go to the incident desk
in one transaction; the transitions it returns (opened, reopened, auto-resolved) go to `on_transitions`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct, duration_seconds
from catalog.errors import MeshError
from catalog.incidents import Finding, IncidentDesk, Transition
from catalog.monitor import judge
from catalog.monitor.state import MonitorState, Watched
from catalog.quality.runs import QualityRuns
from catalog.sources import adapter_for, derived, is_derived, modified_at
from catalog.sources.context import SourceContext
from catalog.state.store import iso

Check = Callable[[str], Any]  # product id -> a QualityReport (the Checker's run, stored)



@dataclass
class MonitorPass:
    """What one pass did: products due, scanned (data changed), reused (unchanged), findings, transitions."""

    started: str
    due: int = 0
    scanned: int = 0
    reused: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        failing = sum(bool(f) for f in self.findings.values())
        moves = {}
        for t in self.transitions:
            moves[t.action] = moves.get(t.action, 0) + 1
        moved = ", ".join(f"{n} {a}" for a, n in sorted(moves.items())) or "no incident changed"
        return (f"{self.due} products due: {self.scanned} scanned, {self.reused} unchanged; {failing} failing; "
                f"{moved}; {self.seconds:.2f} s")


class Monitor:
    """Runs passes over one declared mesh. It receives the Checker's `check`, the stored runs, its own state
    table's owner, the incident desk, and a callback for incident transitions; never the `Mesh`."""

    def __init__(self, mesh: DeclaredMesh, check: Check, runs: QualityRuns, state: MonitorState,
                 incidents: IncidentDesk, on_transitions: Callable[[list[Transition]], None] | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.mesh = mesh
        self.check = check
        self.runs = runs
        self.state = state
        self.incidents = incidents
        self.on_transitions = on_transitions or (lambda transitions: None)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        settings = mesh.descriptor.monitor
        self.k, self.keep, self.min_runs = settings.volume_k, settings.volume_runs, settings.volume_min_runs
        self._static: dict[str, Monitor._Static] = {}

    # ------------------------------------------------------------------ what never changes within a Monitor

    @dataclass(frozen=True)
    class _Static:
        every: float
        refs: tuple[str, ...]
        descriptor: str  # version, checks and SLA, as JSON: part of the data version
        source: str  # the source as declared, with its domain folder: products that share it share a fingerprint

    def _static_of(self, product: DataProduct) -> "Monitor._Static":
        found = self._static.get(product.id)
        if found is None:
            d = product.descriptor
            found = Monitor._Static(
                every=self._every(product),
                refs=tuple(c.product for c in d.quality if c.check == "references"),
                descriptor=json.dumps([d.version, [c.model_dump(mode="json") for c in d.quality],
                                       d.sla.model_dump(mode="json")], sort_keys=True),
                source=f"{product.path.parent.parent}|{d.source.model_dump_json()}")
            self._static[product.id] = found
        return found

    # ------------------------------------------------------------------ schedules

    def _every(self, product: DataProduct) -> float:
        if product.descriptor.schedule is not None:
            return product.descriptor.schedule.seconds
        domain = self.mesh.domains.get(product.domain)
        if domain is not None and domain.descriptor.schedule is not None:
            return domain.descriptor.schedule.seconds
        return duration_seconds(self.mesh.descriptor.monitor.every)

    def every(self, product: DataProduct) -> float:
        """Seconds between two checks of `product`: its schedule, its domain's, or mesh.yaml's default."""
        return self._static_of(product).every

    def due(self, now: datetime, watched: dict[str, Watched] | None = None) -> list[str]:
        """Products whose next check is due at `now` (never checked, or their period has passed); broken
        products are left to the loader's problems."""
        watched = self.state.load() if watched is None else watched
        out = []
        for pid, product in sorted(self.mesh.products.items()):
            if product.broken:
                continue
            seen = watched.get(pid)
            if seen is None or (now - datetime.fromisoformat(seen.checked_at)).total_seconds() >= self.every(product):
                out.append(pid)
        return out

    # ------------------------------------------------------------------ data versions

    def versions(self, product_ids: Iterable[str]) -> dict[str, str | None]:
        """Product -> its data version now (None: its sources cannot tell cheaply, so it is always scanned);
        the fingerprint of a source many products share, and of a derived product's inputs, is computed once
        per pass."""
        memo: dict[str, str | None] = {}
        shared: dict[str, str | None] = {}
        ctx = SourceContext(root=self.mesh.root, load_extension=lambda _: None)

        def source(pid: str) -> str | None:
            if pid in memo:
                return memo[pid]
            memo[pid] = None  # a cycle (a broken mesh) reads as unknown
            product = self.mesh.products.get(pid)
            try:
                if product is None:
                    value = None
                elif is_derived(product):
                    value = derived.fingerprint(product, ctx, [source(u) for u in sorted(self.mesh.upstreams(pid))])
                else:
                    key = self._static_of(product).source
                    if key not in shared:
                        shared[key] = adapter_for(product.kind).fingerprint(product, ctx)
                    value = shared[key]
            except (MeshError, OSError, ValueError):
                value = None
            memo[pid] = value
            return value

        out: dict[str, str | None] = {}
        for pid in product_ids:
            static = self._static_of(self.mesh.products[pid])
            parts = [source(pid), *(source(r) for r in static.refs)]
            out[pid] = None if None in parts else hashlib.sha1(
                "|".join([*parts, static.descriptor]).encode()).hexdigest()  # type: ignore[list-item]
        return out

    # ------------------------------------------------------------------ a pass

    def run_once(self, force: bool = False, products: Iterable[str] | None = None) -> MonitorPass:
        """Check the due products (all, with `force`; or just `products`), judge them, update incidents."""
        began = time.perf_counter()
        now = self.clock()
        watched = self.state.load()
        if products is not None:
            due = [self.mesh.product(p).id for p in products]
        else:
            due = sorted(p for p, d in self.mesh.products.items() if not d.broken) if force else self.due(now, watched)
        result = MonitorPass(iso(now), due=len(due))
        versions = self.versions(due)
        latest = self.runs.latest() if any(versions[p] is not None and watched.get(p) is not None
                                           and watched[p].fingerprint == versions[p] for p in due) else {}
        history = self.state.volumes(self.keep + 1)
        saved: list[Watched] = []
        samples: list[tuple[str, str, str | None, int]] = []
        for pid in due:
            product = self.mesh.products[pid]
            version = versions[pid]
            seen = watched.get(pid)
            run = latest.get(pid)
            if version is not None and seen is not None and seen.fingerprint == version and run is not None:
                results, reused, run_ts = run["results"], True, run["ts"]
                result.reused += 1
            else:
                try:
                    report = self.check(pid)
                except Exception as exc:  # noqa: BLE001 - one product's failure must not stop a pass
                    result.errors[pid] = f"the checks could not run: {exc}"
                    continue
                results, reused, run_ts = [c.to_dict() for c in report.checks], bool(report.reused), report.ts
                result.scanned += 1
            rows = next((r.get("rows") for r in results if r.get("rows") is not None), None)
            found = judge.findings(product, results, now, reused, modified_at(product)
                                   if product.descriptor.sla.freshness_hours else None)
            earlier = [n for v, n in history.get(pid, []) if v != version or version is None]
            if version is not None and rows is not None and (not history.get(pid) or history[pid][-1][0] != version):
                samples.append((iso(now), pid, version, int(rows)))
            anomaly = judge.volume(rows, earlier[-self.keep:], self.k, self.min_runs)
            if anomaly is not None:
                found.append(anomaly)
            result.findings[pid] = found
            saved.append(Watched(pid, iso(now), version, run_ts))
        result.transitions = self.incidents.observe(result.findings, ts=iso(now))
        self.state.save(saved, samples)
        result.seconds = time.perf_counter() - began
        if result.transitions:
            self.on_transitions(result.transitions)
        return result

    def next_due_in(self, now: datetime) -> float:
        """Seconds until the next product is due (0 when one is due now)."""
        watched = self.state.load()
        waits = []
        for pid, product in self.mesh.products.items():
            if product.broken:
                continue
            seen = watched.get(pid)
            if seen is None:
                return 0.0
            waits.append(self.every(product) - (now - datetime.fromisoformat(seen.checked_at)).total_seconds())
        return max(0.0, min(waits, default=60.0))
