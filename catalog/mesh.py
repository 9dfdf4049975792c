"""The `Mesh` object: the public API notebooks, the CLI, the app and tests share.

`open_mesh` reads descriptors only (no data is scanned) and never raises for a bad
descriptor; the DuckDB engine is built on the first query.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from catalog.access import authority, identity
from catalog.access.agreements import AgreementDesk
from catalog.access.ledger import AccessLedger
from catalog.access.policy import LockedProduct, Policy, Viewers
from catalog.access.trust import TrustDesk, TrustSignal
from catalog.dashboards.run import DashboardDesk
from catalog.discover.duplicates import KeySample
from catalog.discover.duplicates import duplicates as find_duplicates
from catalog.discover.search import SearchIndex, SearchResults
from catalog.discover.search import search as search_products
from catalog.errors import MeshError, UnknownProduct
from catalog.governance import policies as governance
from catalog.governance.changes import ChangeTracker
from catalog.interop import dbt, openlineage
from catalog.lineage.events import LineageEvents
from catalog.glossary import terms as glossary_terms
from catalog.glossary.proposals import GlossaryDesk
from catalog.lineage.graph import Impact, LineageIndex
from catalog.lineage.graph import impact as impact_of
from catalog.lineage.health import RootCause, product_health
from catalog.lineage.health import root_cause as root_cause_of
from catalog.lineage.neighbourhood import lineage_graph
from catalog.publish.intake import add_data_root as declare_data_root
from catalog.incidents import IncidentDesk
from catalog.incidents.upstream import upstream_incidents
from catalog.monitor import Monitor, MonitorPass
from catalog.monitor.alerts import change_events, incident_events
from catalog.monitor.state import MonitorState
from catalog.notify import Event, Notifier
from catalog.notify.outbox import Outbox
from catalog.publish.publish import Publisher
from catalog.quality.report import MeshQualityReport
from catalog.quality.run import Checker, latest_quality, quality_history
from catalog.quality.schema import DRIFT_KINDS
from catalog.quality.scoring import grade
from catalog.quality.sensitivity import Sensitivity
from catalog.scorecards.evidence import Evidence
from catalog.scorecards.review import ReviewLog
from catalog.scorecards.scorecard import scorecard
from catalog.scorecards.usage import usage_metrics
from catalog.workbench.history import QueryHistory
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.loader import data_roots, open_descriptors
from catalog.query.masking import mesh_salt
from catalog.descriptors.model import DataProduct, Domain, MeshDescriptor, Problem, Role, Term
from catalog.descriptors.ports import input_ports, output_ports
from catalog.engines.base import Engine
from catalog.engines.duckdb import DuckDBEngine
from catalog.engines.spark import SparkEngine, SparkUnavailable
from catalog.quality.runs import QualityRuns
from catalog.query.role_views import RoleViews
from catalog.query.session import Session
from catalog.query.usage_log import UsageLog
from catalog.samples.history import seeder
from catalog.state.cache import MeshCache
from catalog.state.location import state_url
from catalog.state.store import StateStore

if TYPE_CHECKING:
    import networkx as nx


class Mesh:
    """A data mesh loaded from a folder: domains, products, problems, and what to do with them."""

    def __init__(self, root: Path, state_dir: Path | None = None, engine: str | None = None,
                 spark_master: str | None = None):
        self.root = Path(root).resolve()
        self.state_dir = Path(state_dir) if state_dir else self.root / ".meshwork"
        self.declared: DeclaredMesh = open_descriptors(root, cache_dir=self.state_dir)
        self.descriptor: MeshDescriptor = self.declared.descriptor
        self.domains: dict[str, Domain] = self.declared.domains
        self.products: dict[str, DataProduct] = self.declared.products
        self.problems: list[Problem] = self.declared.problems
        self.state = StateStore(self.state_dir, seed=seeder(self.declared),  # a sample's history, once
                                url=state_url(self.descriptor.state))
        if self.state.url:
            self.state.open()  # an unreachable state database is an error now, naming its URL
        self.usage_log = UsageLog(self.state)  # the owners of usage_events and quality_runs
        self.quality_runs = QualityRuns(self.state)
        self.cache = MeshCache(self.state, self.declared.revision)  # the one cache of what this mesh derives
        self._engine_lock = threading.Lock()
        self._engine: Engine | None = None
        self.engine_choice: str = engine or self.descriptor.engine  # what was asked; `engine.name` is what runs
        self.spark_master: str = spark_master or self.descriptor.spark.master

    # ---------------------------------------------------------------- descriptors

    @property
    def name(self) -> str:
        return self.declared.name

    @property
    def title(self) -> str:
        return self.declared.title

    @property
    def roles(self) -> dict[str, Role]:
        return self.declared.roles

    @property
    def data_roots(self) -> list[Path]:
        return data_roots(self.root, self.descriptor)

    def product(self, product_id: str) -> DataProduct:
        return self.declared.product(product_id)

    def upstreams(self, product_id: str) -> set[str]:
        """Products a derived product's SQL reads (empty for source-backed products)."""
        return self.declared.upstreams(product_id)

    def downstreams(self, product_id: str) -> set[str]:
        """Derived products whose SQL reads this product directly."""
        return self.declared.downstreams(product_id)

    def problems_of(self, product_id: str) -> list[Problem]:
        return self.declared.problems_of(product_id)

    def problem_summary(self, product_id: str) -> str:
        return self.declared.problem_summary(product_id)

    @property
    def broken_products(self) -> list[DataProduct]:
        return self.declared.broken_products

    def owners(self, role: str | None = None, user: str | None = None) -> dict[str, list[str]]:
        """Owner -> the ids of the products they own (that the viewer may list)."""
        viewer = self._viewer(role, user)
        out: dict[str, list[str]] = {}
        for product in self.products.values():
            if viewer is not None and not viewer.is_listed(product.id):
                continue
            out.setdefault(product.owner or "(no owner)", []).append(product.id)
        return dict(sorted(out.items()))

    def summary(self, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per product the viewer may list: the catalog as a table (Home's counts). A locked product
        has only its card's fields (`locked` true; no kind, version, columns or tags)."""
        viewer = self._viewer(role, user)
        rows = []
        for p in self.products.values():
            if viewer is not None and not viewer.is_listed(p.id):
                continue
            if viewer is not None and viewer.is_locked(p.id):
                rows.append({"id": p.id, "domain": p.domain, "title": p.title, "owner": p.owner, "kind": None,
                             "status": p.descriptor.status, "version": None, "columns": None, "pii_columns": None,
                             "tags": None, "broken": p.broken, "locked": True})
                continue
            rows.append({"id": p.id, "domain": p.domain, "title": p.title, "owner": p.owner, "kind": p.kind,
                         "status": p.descriptor.status, "version": p.descriptor.version, "columns": len(p.columns),
                         "pii_columns": len(p.pii_columns), "tags": ", ".join(p.tags), "broken": p.broken,
                         "locked": False})
        return pl.DataFrame(rows, schema={"id": pl.String, "domain": pl.String, "title": pl.String,
                                          "owner": pl.String, "kind": pl.String, "status": pl.String,
                                          "version": pl.String, "columns": pl.Int64, "pii_columns": pl.Int64,
                                          "tags": pl.String, "broken": pl.Boolean, "locked": pl.Boolean})

    def counts(self, role: str | None = None, user: str | None = None) -> dict[str, int]:
        """Home's numbers for this viewer: domains, products listed, of them locked, broken, and problems
        (mesh-level ones and those of products the viewer sees in full)."""
        viewer = self._viewer(role, user)
        listed = [p for p in self.products.values() if viewer is None or viewer.is_listed(p.id)]
        return {"domains": len(self.domains), "products": len(listed),
                "locked": sum(bool(viewer and viewer.is_locked(p.id)) for p in listed),
                "broken": sum(p.broken for p in listed), "problems": len(self.problems_for(role, user))}

    def problems_for(self, role: str | None = None, user: str | None = None) -> list[Problem]:
        """The problems this viewer may read: mesh-level ones, and those of products they see in full (a
        problem quotes a descriptor, columns included)."""
        viewer = self._viewer(role, user)
        return [p for p in self.problems if viewer is None or p.product_id is None or viewer.can_see(p.product_id)]

    # ---------------------------------------------------------------- discover (catalog/discover/search.py, duplicates.py)

    @cached_property
    def search_index(self) -> "SearchIndex":
        """The full-text index of the descriptors, built on first search."""
        return SearchIndex(self.declared, self.state, quality=self.latest_quality, usage=self.usage_metrics,
                           trust=self.trust_signals)

    def search(self, text: str = "", domain: str | list[str] | None = None, limit: int | None = 20,
               role: str | None = None, user: str | None = None, **options: Any) -> "SearchResults":
        """Ranked hits (.product_id .score .snippet) with .facets and .total, as the viewer (role, user) may see
        them; `options`: sort (relevance|usage|quality|freshness|trust), offset, policy and facet filters (tag,
        owner, status, grade, pii, kind, certified)."""
        policy = options.pop("policy", None) or self._viewer(role, user)
        return search_products(self.search_index, text, domain=domain, limit=limit, policy=policy, **options)

    def duplicates(self, product_id: str | None = None, min_score: float | None = None,
                   role: str | None = None, user: str | None = None) -> "pl.DataFrame":
        """Products of other domains that look like copies (shared columns and key values), with a score;
        only pairs of products the viewer (role, user) may see in full."""
        keys = KeySample(self.declared, self.viewers, lambda role: self.engine.database(role), self.cache)
        return find_duplicates(self.declared, keys, product_id, min_score, policy=self._viewer(role, user))

    # ---------------------------------------------------------------- lineage (catalog/lineage/)

    @cached_property
    def lineage_index(self) -> "LineageIndex":
        """The lineage graphs of the descriptors (built once, on demand) and the quality status they show."""
        return LineageIndex(self.declared, self._quality_reports, flows=self.lineage_events.flows,
                            agreements=lambda: self.agreements.consumer_edges())

    def _quality_reports(self, policy: "Policy | None") -> dict[str, dict[str, Any]]:
        """Product -> its latest stored quality run, its check results (under "checks") as `policy`'s viewer
        may read them: the status lineage shows."""
        return {pid: {**run, "checks": self.sensitivity.redact(pid, run["results"], policy),
                      "grade": grade(run["score"], run["results"])} for pid, run in self.quality_runs.latest().items()
                if pid in self.products}

    def lineage(self, columns: bool = False, level: str = "product", role: str | None = None,
                user: str | None = None) -> "nx.DiGraph":
        """Lineage graph, edges upstream -> downstream: sources + products, `level="domain"`, or columns; as
        the viewer (role, user) may see it: locked products without columns, hidden ones as `restricted:N`."""
        return lineage_graph(self.lineage_index, columns=columns, level=level,  # type: ignore[arg-type]
                             policy=self._viewer(role, user))

    def impact(self, target: str, columns: bool = True, role: str | None = None,
               user: str | None = None) -> "Impact":
        """Everything downstream of a product or `<product>.<column>`, nearest first, and who to notify."""
        return impact_of(self.lineage_index, target, columns=columns, policy=self._viewer(role, user))

    def root_cause(self, product_id: str, role: str | None = None, user: str | None = None) -> "RootCause":
        """Upstream products that are broken, fail their latest checks, or are past their freshness SLA."""
        return root_cause_of(self.lineage_index, product_id, policy=self._viewer(role, user))

    # ---------------------------------------------------------------- who sees what (catalog/access/policy.py)

    @cached_property
    def viewers(self) -> "Viewers":
        """Builds any viewer's policy; the grants it reads are the ledger's, asked on every call."""
        return Viewers(self.declared, lambda role, user: self.access.live_grants(user), cache=self.cache)

    def policy(self, role: str | None = None, user: str | None = None) -> "Policy":
        """The one visibility policy for this viewer: visible, locked and hidden products, masked columns.
        Re-resolves the user's grants on every call, so an expired or revoked grant lapses at once."""
        return self.viewers.policy(role, user)

    def product_for(self, product_id: str, policy: "Policy | None" = None) -> "DataProduct | LockedProduct":
        """The product a link names, as `policy`'s viewer may see it (a LockedProduct when locked);
        UnknownProduct, with the same message, for an unknown id and a hidden one."""
        return self.viewers.product_for(product_id, policy)

    def _viewer(self, role: str | None, user: str | None) -> "Policy | None":
        """The policy of a call's viewer; None (no filtering) when the call names no viewer."""
        return self.viewers.resolve(role, user)

    def visible_products(self, role: str | None = None, user: str | None = None) -> list[str]:
        """Product ids this viewer may query (roles, restrictions, the user's live grants); without a viewer,
        every unbroken product."""
        return sorted(self.policy(role, user).visible)

    def role_sees_pii(self, role: str, product: DataProduct) -> bool:
        """The role alone reads PII unmasked (grants aside); `policy(role, user).sees_pii` is the whole answer."""
        return self.viewers.role_reads_pii(role)

    def can_see(self, role: str, product: DataProduct) -> bool:
        """The role alone may read `product` (grants aside); `policy(role, user).can_query` is the whole answer."""
        return self.viewers.role_reads(role, product)

    # ---------------------------------------------------------------- engine & sessions

    @property
    def engine(self) -> "Engine":
        with self._engine_lock:
            if self._engine is None:
                self._engine = (self._spark_engine() if self.engine_choice == "spark" else None) or \
                    DuckDBEngine(self.declared, **self._engine_deps())
            return self._engine

    def _engine_deps(self) -> dict[str, Any]:
        """What any engine is built from: who sees what, the views query builds over it, the masking key."""
        return {"viewers": self.viewers, "views": RoleViews, "salt": self.salt, "state_dir": self.state_dir}

    def _spark_engine(self) -> "Engine | None":
        """The Spark engine this mesh asks for, or None and a problem naming the cause: it stays on DuckDB."""
        try:
            return SparkEngine(self.declared, self.spark_master, self.descriptor.spark.conf, **self._engine_deps())
        except SparkUnavailable as exc:
            self.problems.append(Problem(path=str(self.root / "mesh.yaml"), field="engine",
                                         message=f"cannot run on Spark, so this mesh runs on DuckDB: {exc}"))
            return None

    @cached_property
    def salt(self) -> str:
        return mesh_salt(self.state_dir, self.state)

    def session(self, role: str = "analyst", user: str | None = None, timeout_s: float = 30.0,
                consumer_domain: str | None = None) -> "Session":
        """A governed SQL session; the role decides which products are visible and what is masked.

        In an `enforced` mesh, AccessDenied when `user` does not hold `role` (see `roles_for`).
        """
        if role not in self.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(self.roles))}")
        name = (identity.normalize_user(user) or identity.ANONYMOUS) if user else identity.local_user(self.declared)
        identity.check_role(self.declared, self.access, role, name)
        return Session(self.declared, self.engine, self.viewers, self.access, self._usage_sink, role, name, timeout_s,
                       consumer_domain)

    def fingerprint(self, product_id: str) -> str | None:
        return self.engine.fingerprint(product_id)

    # ------------------------------------------- identity, access, changes, trust (catalog/access/identity.py ...)

    def roles_for(self, user: str | None) -> list[str]:
        """Roles `user` may act as: all in an `open` mesh, the ones mesh.yaml gives them when `enforced`."""
        return identity.allowed_roles(self.declared, user)

    def principal(self, user: str | None, source: str = "library") -> identity.Principal:
        return identity.principal(self.declared, user, source)

    @cached_property
    def access(self) -> "AccessLedger":
        """Access requests, decisions, grants and the append-only audit log."""
        return AccessLedger(self.declared, self.state)

    @cached_property
    def changes(self) -> "ChangeTracker":
        """Changelog, subscriptions and inbox alerts (descriptor changes are picked up on first read)."""
        return ChangeTracker(self.declared, self.state, self.lineage_index, now=self.access.now)

    @cached_property
    def trust_desk(self) -> "TrustDesk":
        """Certify, rate and comment on products."""
        return TrustDesk(self.declared, self.state, self.access, scores=self._latest_scores)

    def _latest_scores(self) -> dict[str, float]:
        """Product -> its latest stored quality score: what a certification is held to."""
        frame = self.latest_quality()
        return {pid: float(score) for pid, score in frame.select("product_id", "score").iter_rows()
                if score is not None}

    def trust(self, product_id: str, role: str | None = None, user: str | None = None) -> "TrustSignal":
        """Certification (in force or lapsed), rating and comment count of one product (a locked one without
        its quality score; a hidden one is an unknown product)."""
        return self.trust_desk.signal(product_id, self._viewer(role, user))

    def trust_signals(self, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per product the viewer may list: product_id, certified, certified_by, certified_at, lapsed,
        score, threshold, rating_avg, ratings, comments; for cards, sorting and search."""
        return self.trust_desk.signals(None, self._viewer(role, user))

    @cached_property
    def dashboards(self) -> DashboardDesk:
        """Dashboards of the mesh (`<domain>/dashboards/*.yaml`): list, run per viewer (cached), pin, export."""
        return DashboardDesk(self.declared, self.state, self.session, self.fingerprint,
                             partial(authority.check_dashboard_pin, self.declared, self.access), self.cache)

    def usage(self, product_id: str | None = None, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """Usage events recorded by governed sessions (one row per product a query read); with a viewer, of the
        products they may list."""
        viewer = self._viewer(role, user)
        if viewer is None:
            return self.usage_log.frame(product_id)
        if product_id is not None:
            self.product_for(product_id, viewer)
        return self.usage_log.frame(product_id).filter(pl.col("product_id").is_in(list(viewer.listed)))

    # ---------------------------------------------------------------- quality, usage, scorecards (catalog/quality/run.py ...)

    @cached_property
    def sensitivity(self) -> Sensitivity:
        """Which checks read personal data or a restricted product, and what of their results a viewer sees."""
        return Sensitivity(self.declared, self.viewers.restrictions, self.cache)

    @cached_property
    def checker(self) -> Checker:
        """Runs quality checks on this mesh's engine and stores each run (`check` hands off to it)."""
        return Checker(self.declared, self.engine, self.quality_runs, self.viewers, self.sensitivity)

    def check(self, product_id: str | None = None, role: str = "steward") -> Any:
        """Run quality checks (one scan per product), store the run; a QualityReport (or one per product)
        with failing counts and example failing rows masked for `role`. Schema drift found in the data
        (a declared column gone, a type changed) is alerted to the product's consumers, once."""
        result = self._observed_check(product_id, lambda: self.checker.check(product_id, role))
        for report in (result if isinstance(result, MeshQualityReport) else [result]):
            self._alert_drift(report)
        return result

    def _check_one(self, product_id: str) -> Any:
        """One product's run as the monitor makes it: stored, its schema drift alerted like `check`'s."""
        report = self.checker.run(product_id)
        self._alert_drift(report)
        return report

    def _alert_drift(self, report: Any) -> None:
        drift = [c.to_dict() for c in report.checks if c.kind in DRIFT_KINDS and c.status == "fail"]
        if drift:
            runs = self.quality_runs.runs(report.product_id, limit=2)  # this run, and the one before it
            self.changes.record_drift(report.product_id, drift, runs[1]["results"] if len(runs) > 1 else [])

    def latest_quality(self, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """Latest stored run per product: product_id, score, grade, checked_at, failed, errored, complete (no scan);
        with a viewer, of the products they see in full."""
        return self._shown(latest_quality(self.quality_runs), role, user)

    def quality_history(self, product_id: str | None = None, role: str | None = None,
                        user: str | None = None) -> pl.DataFrame:
        """Every stored quality run, oldest first (score, grade, failed, errored per run); with a viewer, of the
        products they see in full (a hidden `product_id` is an unknown product)."""
        viewer = self._viewer(role, user)
        if viewer is not None and product_id is not None:
            self.product_for(product_id, viewer)
        return self._shown(quality_history(self.quality_runs, product_id), role, user)

    def _shown(self, frame: pl.DataFrame, role: str | None, user: str | None) -> pl.DataFrame:
        """Rows about products the viewer sees in full (every row without a viewer)."""
        viewer = self._viewer(role, user)
        if viewer is None or viewer.unfiltered or "product_id" not in frame.columns:
            return frame
        return frame.filter(pl.col("product_id").is_in(list(viewer.allowed)))

    def usage_metrics(self, product_id: str | None = None, role: str | None = None,
                      user: str | None = None) -> pl.DataFrame:
        """Per product (or for one): queries, users, consuming_domains, trend, last_used, unused_30d (from usage
        events); with a viewer, of the products they may list."""
        return usage_metrics(self.declared, self.evidence().events, product_id=product_id,
                             policy=self._viewer(role, user))

    def scorecard(self, domain: str | None = None, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per domain (or per product of `domain`): quality, checks, freshness, docs, compliance,
        usage, lineage health; as the viewer may see them (locked products unmeasured, hidden ones left out)."""
        return scorecard(self.evidence(), domain, policy=self._viewer(role, user))

    def evidence(self) -> Evidence:
        """What scorecards and owner reviews read (latest runs, their history, usage events, lineage health,
        compliance, the changelog, recorded reviews), each part read once per `Evidence`: pass one to
        `catalog.scorecards.scorecard` and `catalog.scorecards.review` functions."""
        return Evidence(self.declared, self.quality_runs, self.usage_log, self.sensitivity, self.reviews,
                        health=lambda: product_health(self.lineage_index), compliance=self.compliance,
                        changelog=lambda: self.changes.changelog(), incidents=lambda: self.incidents.stats(),
                        agreements=lambda: self.agreements.agreements(status="active"))

    @cached_property
    def reviews(self) -> ReviewLog:
        """Recorded owner reviews (`reviews.record(review, reviewer)`), which the next review compares with."""
        return ReviewLog(self.declared, self.state, partial(authority.check_review, self.declared, self.access))

    # ---------------------------------------------------------------- publish (catalog/publish/publish.py)

    @cached_property
    def publisher(self) -> Publisher:
        """Draft products from files, PostgreSQL tables or SQL, and publish them into this mesh's folder."""
        return self._observed_publisher(Publisher(
            self.declared, sessions=self.session, sensitivity=self.sensitivity,
            restrictions=self.viewers.restrictions,
            authorize_write=partial(authority.check_product_write, self.declared, self.access),
            authorize_checks=partial(authority.check_sensitive_checks, self.declared, self.access),
            compliance=partial(governance.check_descriptor, self.declared),
            required_access=partial(governance.required_access, self.declared)))

    # ---------------------------------------------------------------- governance (catalog/governance/policies.py)

    def compliance(self, domain: str | None = None, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per (product, policy): domain, product_id, policy, scope (global|domain), passed,
        message, fix (plus rule, severity); global policies from mesh.yaml, domain ones from domain.yaml."""
        return governance.compliance(self.declared, self.cache, domain, self._viewer(role, user))

    def pii_inventory(self, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """Every PII column: product, category, and the roles and users who see it unmasked."""
        return governance.pii_inventory(self.declared, self.viewers, self.access, self._viewer(role, user))

    def access_rules(self, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per (role, product): visible or not, personal data masked or not, and why."""
        return governance.access_rules(self.declared, self.viewers, self._viewer(role, user))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        self.state.close()

    # ---------------------------------------------------------------- notebook display

    def __repr__(self) -> str:
        broken = len(self.broken_products)
        return (f"<Mesh {self.name}: {len(self.domains)} domains, {len(self.products)} products"
                f"{f', {broken} broken' if broken else ''}, {len(self.problems)} problems>")

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(d.title)}</td><td>{escape(d.owner)}</td>"
            f"<td>{sum(p.domain == name for p in self.products.values())}</td></tr>"
            for name, d in self.domains.items()
        )
        return (f"<b>{escape(self.title)}</b> <code>{escape(str(self.root))}</code><br>"
                f"<small>{len(self.products)} products · {len(self.problems)} problems</small>"
                f"<table><tr><th>domain</th><th>owner</th><th>products</th></tr>{rows}</table>")

    # --- lineage interop: OpenLineage out and in, dbt projects (catalog/interop/openlineage.py, dbt.py) ---

    @cached_property
    def lineage_events(self) -> LineageEvents:
        """OpenLineage run events: ingested ones (which lineage shows) and the ones this mesh emitted."""
        return LineageEvents(self.state)

    @cached_property
    def openlineage(self) -> "openlineage.Emitter | None":
        """The emitter mesh.yaml `openlineage` configures (None: this mesh sends no events)."""
        settings = self.descriptor.openlineage
        return openlineage.Emitter(settings.model_dump(), self.name, self.lineage_events) if settings else None

    def _emits(self, kind: str) -> bool:
        settings = self.descriptor.openlineage
        return settings is not None and kind in settings.emit

    @cached_property
    def _usage_sink(self) -> UsageLog:
        """The usage log governed sessions record into: with `query` emission, one that also sends each query's
        run events (queued, so a lineage server that is down never holds up or fails a query)."""
        if not self._emits("query"):
            return self.usage_log
        return openlineage.QueryObserver(self.state, self.openlineage)

    def _observed_check(self, product_id: str | None, run: Any) -> Any:
        """Run checks; with `quality` emission, send each product's run (START, then COMPLETE or FAIL)."""
        if not self._emits("quality"):
            return run()
        return openlineage.observe_check(self.openlineage, self.declared, product_id, run, self.sensitivity.checks)

    def _observed_publisher(self, publisher: Publisher) -> Publisher:
        """The publisher; with `publish` emission, one whose publish also sends its run events."""
        if not self._emits("publish"):
            return publisher
        return openlineage.observe_publisher(publisher, self.openlineage, self.declared)

    def ingest_openlineage(self, source: "str | os.PathLike[str] | list[dict[str, Any]]", origin: str = "") -> int:
        """Store OpenLineage run events (a JSON Lines file, or events already parsed and validated) into the
        lineage graph: jobs and datasets outside the mesh become external nodes. Returns how many were stored."""
        if isinstance(source, list):
            events = source
        else:
            events = openlineage.read_events(source)
            origin = origin or f"file:{source}"
        count = openlineage.ingest(self.lineage_events, events, origin or "library")
        self.lineage_index.reload_flows()
        return count

    def import_dbt(self, manifest: "str | os.PathLike[str]", **options: Any) -> "dbt.DbtImport":
        """Register a dbt project's models, seeds and sources as products (see `catalog.import_dbt`); open the mesh
        again to read them."""
        result = dbt.import_manifest(self, Path(manifest), reopen=lambda: Mesh(self.root, self.state_dir), **options)
        self.lineage_index.reload_flows()
        return result

    # --- glossary, ports, agreements, ODPS (issue 20) ---

    @cached_property
    def glossary(self) -> "GlossaryDesk":
        """Glossary proposals: propose a term or a change, a steward approves (written to glossary/*.yaml) or
        rejects; each step audited."""
        return GlossaryDesk(self.declared, self.access, partial(authority.check_term_decision, self.declared,
                                                                self.access))

    def terms(self, status: str | None = None, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """One row per glossary term: definition, synonyms, abbreviations, steward, status, and how many
        products and columns (that the viewer may list) link it."""
        viewer = self._viewer(role, user)
        return glossary_terms.terms_frame(self.declared, status, set(viewer.listed) if viewer else None)

    def term(self, term_id: str) -> "Term":
        return glossary_terms.term(self.declared, term_id)

    def term_uses(self, term_id: str, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """Where a term is linked (product_id, column) among the products the viewer sees in full."""
        viewer = self._viewer(role, user)
        return glossary_terms.where_used(self.declared, term_id, set(viewer.allowed) if viewer else None)

    def term_badges(self, product_id: str) -> dict[str, list["Term"]]:
        """Column ("" for the product) -> the approved terms it links: what the product page badges."""
        return glossary_terms.badges(self.declared, self.product(product_id))

    def ports(self, product_id: str) -> dict[str, list[Any]]:
        """A product's output ports (declared, or its governed SQL view) and input ports (its SQL's upstreams
        plus declared ones)."""
        return {"output": output_ports(self.product(product_id)), "input": input_ports(self.declared, product_id)}

    @cached_property
    def agreements(self) -> "AgreementDesk":
        """Access agreements to a product's port (request, approve, reject, cancel, renew, revoke, expiring); an
        active one holds the access ledger's grant the policy reads."""
        return AgreementDesk(self.declared, self.access, partial(authority.is_steward, self.declared),
                             on_transition=self._notify_agreement)

    def _notify_agreement(self, action: str, agreement: Any, actor: str, reason: str) -> None:
        """An agreement's transition, sent to the product's owner and the person who asked (never blocks)."""
        if "lineage_index" in self.__dict__ and agreement.consumer_kind == "product":
            self.lineage_index.reload_flows()  # its lineage edge began or ended
        product = self.products.get(agreement.product_id)
        what = action.removeprefix("agreement.")
        recipients = tuple(dict.fromkeys(p for p in (product.owner if product else None, agreement.requested_by)
                                         if p))
        self.notify(Event(kind=f"agreement.{what}", severity="info", product_id=agreement.product_id,
                          domain=product.domain if product else None, recipients=recipients,
                          title=f"Agreement #{agreement.id} on {agreement.product_id} ({agreement.port}): {what}",
                          text=f"{actor}: {what} the agreement of {agreement.requested_by} for "
                               f"{agreement.product_id}'s port {agreement.port} ({agreement.purpose})"
                               + (f"; {reason}" if reason else ""),
                          data={"agreement": agreement.id, "status": agreement.status, "port": agreement.port}))


    # --- ODCS, real files (issue 19) ---

    def add_data_root(self, folder: str | os.PathLike[str], user: str | None = None) -> bool:
        """Let this mesh read files in `folder` where they are (mesh.yaml `data_roots`); stewards only, a refusal
        is audited. False when the folder is already readable. Reopen the mesh to see it."""
        folder = Path(folder).resolve()
        if any(folder.is_relative_to(r) for r in self.data_roots):
            return False
        authority.check_mesh_write(self.declared, self.access, user, "mesh.data_root",
                                   f"add {folder} as a data root")
        return declare_data_root(self.root, folder)


    # --- incidents, monitors and notifications (catalog/incidents/, catalog/monitor/, catalog/notify/) ---

    @cached_property
    def incidents(self) -> IncidentDesk:
        """Incidents per (product, cause): list, acknowledge, assign, annotate, resolve (authorized and audited)."""
        return IncidentDesk(self.declared, self.state, partial(authority.check_incident, self.declared, self.access),
                            now=self.access.now)

    def incident_list(self, state: str | None = "open", product_id: str | None = None, assignee: str | None = None,
                      domain: str | None = None, role: str | None = None, user: str | None = None) -> pl.DataFrame:
        """Incidents newest first (state: open, new, acknowledged, assigned, resolved, or None for all), of the
        products the viewer (role, user) sees in full."""
        viewer = self._viewer(role, user)
        if product_id is not None:
            self.product_for(product_id, viewer)
        return self.incidents.incidents(state, [product_id] if product_id else None, assignee, domain, viewer)

    def upstream_incidents(self, product_id: str | None = None, role: str | None = None,
                           user: str | None = None) -> pl.DataFrame:
        """Open incidents upstream of `product_id` (or of every product `user` owns), with the product they
        affect and the distance: the root cause a downstream owner sees."""
        viewer = self._viewer(role, user)
        owned = [product_id] if product_id else self.access.owned_by(user)
        return upstream_incidents(self.incidents, self.lineage_index, owned, viewer)

    def incident_action(self, action: str, incident_id: int, user: str | None = None, note: str | None = None,
                        assignee: str | None = None) -> Any:
        """`acknowledge`, `assign` (to `assignee`), `annotate` or `resolve` one incident as `user`; an assignment
        and a resolution are notified."""
        desk = self.incidents
        if action == "assign":
            done = desk.assign(incident_id, user, assignee or "", note)
        elif action == "annotate":
            done = desk.annotate(incident_id, user, note or "")
        elif action in ("acknowledge", "resolve"):
            done = getattr(desk, action)(incident_id, user, note)
        else:
            raise MeshError(f"unknown incident action {action!r}: acknowledge, assign, annotate or resolve")
        self._notify_transitions([done])
        return done

    @cached_property
    def notifier(self) -> Notifier:
        """Routes events to mesh.yaml's `channels` through the durable outbox; `notifier.start()` runs the sender."""
        return Notifier(self.descriptor, Outbox(self.state))

    def notify(self, event: Event) -> list[int]:
        """Queue one event (incident, change or agreement) for every channel that takes it; never blocks."""
        return self.notifier.notify(event)

    def _may_see(self, user: str, product_id: str) -> bool:
        return any(self.viewers.policy(role, user).can_see(product_id) for role in self.roles_for(user))

    def _consumers(self, product_id: str) -> list[str]:
        return list(self.changes.consumers(product_id))

    def _notify_transitions(self, transitions: list[Any]) -> None:
        for event in incident_events(self.declared, transitions, self._consumers, self._may_see):
            self.notify(event)

    @cached_property
    def monitor(self) -> Monitor:
        """Runs checks on their schedules, judges freshness and volume, and keeps incidents (`monitor_pass`)."""
        return Monitor(self.declared, self._check_one, self.quality_runs, MonitorState(self.state),
                       self.incidents, on_transitions=self._notify_transitions)

    def monitor_pass(self, force: bool = False, products: list[str] | None = None) -> MonitorPass:
        """One monitor pass (the due products; all with `force`), then breaking descriptor changes not yet
        notified (the first pass looks back one day)."""
        done = self.monitor.run_once(force=force, products=products)
        after = self.notifier.outbox.newest_event_ts("change.breaking")
        if after is None:
            after = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(timespec="milliseconds")
        for event in change_events(self.declared, self.changes.changelog(), after, self._consumers, self._may_see):
            self.notify(event)
        return done

    # --- team deployment: state shared by the app servers (catalog/workbench/history.py) ---

    def query_history(self, user: str) -> QueryHistory:
        """One person's workbench runs, in the state store (every server over one store shows the same)."""
        return QueryHistory(self.state_dir, user, self.state)


def open_mesh(path: str | os.PathLike[str], state_dir: str | os.PathLike[str] | None = None,
              engine: str | None = None, spark_master: str | None = None, **options: Any) -> Mesh:
    """Load the mesh in `path`. Raises MeshNotFound only when `path` is not a mesh folder.

    `engine` ("duckdb" or "spark") and `spark_master` override mesh.yaml's `engine` and `spark.master`.
    """
    if options:
        raise MeshError(f"unknown option(s) for open_mesh: {', '.join(options)}")
    if engine not in (None, "duckdb", "spark"):
        raise MeshError(f"unknown engine {engine!r}: choose 'duckdb' (the default) or 'spark'")
    return Mesh(Path(path), Path(state_dir) if state_dir else None, engine=engine, spark_master=spark_master)
