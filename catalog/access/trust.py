"""Trust signals: owners certify a product, consumers rate it and comment on it.

A certification records who certified and when; it lapses (without anyone acting) while
the product's latest quality score is below its domain's `quality_threshold`, so a badge
never outlives the quality it vouched for. Ratings are one per user and product (1-5
stars, the latest counts); comments are kept in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.access.ledger import AccessLedger
from catalog.access.policy import Policy, product_for
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import AccessDenied, MeshError, UnknownProduct
from catalog.state.store import StateStore
from catalog.text import check_text

MAX_COMMENT = 2000
SIGNAL_SCHEMA = {"product_id": pl.String, "certified": pl.Boolean, "certified_by": pl.String,
                 "certified_at": pl.String, "lapsed": pl.Boolean, "score": pl.Float64, "threshold": pl.Float64,
                 "rating_avg": pl.Float64, "ratings": pl.Int64, "comments": pl.Int64}


@dataclass(frozen=True)
class TrustSignal:
    """What a card and a product page show: certification (in force or lapsed), rating, comments."""

    product_id: str
    certified: bool
    certified_by: str | None
    certified_at: str | None
    lapsed: bool
    score: float | None
    threshold: float
    rating_avg: float | None
    ratings: int
    comments: int

    @property
    def badge(self) -> str:
        if self.certified:
            return f"Certified by {self.certified_by}"
        if self.lapsed:
            quality = f"quality {self.score:.0f}" if self.score is not None else "its quality"
            return f"Certification lapsed: {quality} is below the domain's threshold {self.threshold:.0f}"
        return "Not certified"


class TrustDesk:
    """Certifications, ratings and comments of one mesh, kept in its state store (the one owner of
    certifications, ratings and comments). `scores()` gives each product's latest quality score (the
    facade reads them from quality); refusals and certifications are recorded in `ledger`'s audit log."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, ledger: AccessLedger,
                 scores: Callable[[], Mapping[str, float]]):
        self.mesh = mesh
        self.state = state
        self.ledger = ledger
        self._scores = scores

    def _product(self, product_id: str, policy: Policy | None = None) -> None:
        if policy is not None:
            product_for(self.mesh, product_id, policy)  # a hidden id is unknown, with the same message
        elif product_id not in self.mesh.products:
            raise UnknownProduct(f"There is no product {product_id!r} in mesh {self.mesh.name!r}.")

    def _who(self, user: str | None, what: str) -> str:
        name = normalize_user(user)
        if not name or name == ANONYMOUS:
            raise AccessDenied(f"Sign in first: {what} needs to know who you are.")
        return name

    # ---------------------------------------------------------------- quality

    def latest_scores(self) -> dict[str, float]:
        """Product -> latest quality score (products never checked have none)."""
        return dict(self._scores())

    def threshold(self, product_id: str) -> float:
        domain = self.mesh.domains.get(self.mesh.product(product_id).domain)
        return domain.descriptor.quality_threshold if domain else 80.0

    # ---------------------------------------------------------------- actions

    def certify(self, product_id: str, by: str | None, note: str = "") -> TrustSignal:
        """An owner vouches for the product; refused while its quality is below the domain's threshold."""
        self._product(product_id)
        name = self._who(by, "certifying")
        owners = self.ledger.owners_of(product_id)
        if name not in owners:
            reason = (f"{name} is not an owner of {product_id}; only {', '.join(sorted(owners)) or 'its owner'} "
                      "may certify it.")
            self.ledger.audit_refusal(name, "trust.certify", reason, product_id=product_id)
            raise AccessDenied(reason)
        score, threshold = self.latest_scores().get(product_id), self.threshold(product_id)
        if score is not None and score < threshold:
            reason = (f"{product_id} scores {score:.0f} in its latest quality run, below the {threshold:.0f} its "
                      "domain requires for certification; fix the failing checks first.")
            self.ledger.audit_refusal(name, "trust.certify", reason, product_id=product_id)
            raise MeshError(reason)
        self._record(product_id, name, "certify", note)
        return self.signal(product_id)

    def uncertify(self, product_id: str, by: str | None, note: str = "") -> TrustSignal:
        self._product(product_id)
        name = self._who(by, "withdrawing a certification")
        if name not in self.ledger.owners_of(product_id):
            reason = f"{name} is not an owner of {product_id} and may not withdraw its certification."
            self.ledger.audit_refusal(name, "trust.uncertify", reason, product_id=product_id)
            raise AccessDenied(reason)
        self._record(product_id, name, "uncertify", note)
        return self.signal(product_id)

    def _record(self, product_id: str, actor: str, action: str, note: str) -> None:
        note = check_text(note, "note", MAX_COMMENT)
        now = self.ledger.now()
        with self.state.transaction() as con:
            con.execute("INSERT INTO certifications (ts, product_id, actor, action, note) VALUES (?,?,?,?,?)",
                        (now, product_id, actor, action, note.strip() or None))
            self.ledger._audit(con, actor, f"trust.{action}", "ok", product_id=product_id,
                                    reason=note.strip() or None)

    def rate(self, product_id: str, user: str | None, stars: int) -> TrustSignal:
        self._product(product_id)
        name = self._who(user, "rating")
        if not isinstance(stars, int) or not 1 <= stars <= 5:
            raise MeshError(f"A rating is 1 to 5 stars, not {stars!r}.")
        with self.state.transaction() as con:
            con.execute("INSERT INTO ratings (product_id, user, stars, ts) VALUES (?,?,?,?) ON CONFLICT "
                        "(product_id, user) DO UPDATE SET stars = excluded.stars, ts = excluded.ts",
                        (product_id, name, stars, self.ledger.now()))
        return self.signal(product_id)

    def comment(self, product_id: str, user: str | None, text: str) -> None:
        self._product(product_id)
        name = self._who(user, "commenting")
        text = check_text(text, "comment", 10 * MAX_COMMENT).strip()
        if not text:
            raise MeshError("The comment is empty.")
        if len(text) > MAX_COMMENT:
            raise MeshError(f"A comment is at most {MAX_COMMENT} characters; this one has {len(text)}.")
        with self.state.transaction() as con:
            con.execute("INSERT INTO comments (ts, product_id, user, text) VALUES (?,?,?,?)",
                        (self.ledger.now(), product_id, name, text))

    # ---------------------------------------------------------------- reading

    def comments(self, product_id: str, policy: Policy | None = None) -> pl.DataFrame:
        if policy is not None:
            self._product(product_id, policy)
        return self.state.frame("SELECT ts, user, text FROM comments WHERE product_id = ? ORDER BY id DESC",
                                     (product_id,), {"ts": pl.String, "user": pl.String, "text": pl.String})

    def ratings(self, product_id: str, policy: Policy | None = None) -> pl.DataFrame:
        if policy is not None:
            self._product(product_id, policy)
        return self.state.frame("SELECT user, stars, ts FROM ratings WHERE product_id = ? ORDER BY ts DESC",
                                     (product_id,), {"user": pl.String, "stars": pl.Int64, "ts": pl.String})

    def signal(self, product_id: str, policy: Policy | None = None) -> TrustSignal:
        self._product(product_id, policy)
        frame = self.signals([product_id], policy)
        return TrustSignal(**frame.row(0, named=True))

    def signals(self, product_ids: list[str] | None = None, policy: Policy | None = None) -> pl.DataFrame:
        """One row per product: certified (in force), certified_by/at, lapsed, score, rating_avg, ratings, comments.
        With a `policy`, the products its viewer may list; a locked one without its quality score."""
        ids = sorted(self.mesh.products) if product_ids is None else product_ids
        if policy is not None:
            ids = [pid for pid in ids if policy.is_listed(pid)]
        state = self.state
        certs = {pid: (actor, ts, action) for pid, actor, ts, action in state.query(
            "SELECT product_id, actor, ts, action FROM certifications WHERE id IN "
            "(SELECT max(id) FROM certifications GROUP BY product_id)")}
        ratings = {pid: (avg, n) for pid, avg, n in state.query(
            "SELECT product_id, avg(stars), count(*) FROM ratings GROUP BY product_id")}
        comments = dict(state.query("SELECT product_id, count(*) FROM comments GROUP BY product_id"))
        scores = self.latest_scores()
        rows = []
        for pid in ids:
            actor, ts, action = certs.get(pid, (None, None, None))
            held = action == "certify"
            score = scores.get(pid) if policy is None or policy.can_see(pid) else None
            threshold = self.threshold(pid) if pid in self.mesh.products else 80.0
            lapsed = held and score is not None and score < threshold
            avg, n = ratings.get(pid, (None, 0))
            rows.append({"product_id": pid, "certified": held and not lapsed, "certified_by": actor if held else None,
                         "certified_at": ts if held else None, "lapsed": lapsed, "score": score,
                         "threshold": threshold, "rating_avg": round(avg, 2) if avg is not None else None,
                         "ratings": n, "comments": comments.get(pid, 0)})
        return pl.DataFrame(rows, schema=SIGNAL_SCHEMA)
