"""Possible duplicates: products of other domains that look like copies of each other.

Multi-domain duplication is the first data-mesh challenge: a domain keeps its own copy of
another domain's product. Two products are candidates when they share at least
`MIN_SHARED` columns by name and type family; their column similarity is the mean of
containment (shared / smaller schema) and Jaccard (shared / union). For candidates, the values
of a shared key column are compared on a sample chosen by hashing the key, so both sides sample
the same keys and the overlap estimate stays fair (every key below `FULL_KEYS` rows is read).
A product derived from the other (lineage, either way) is a use, not a copy, and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Callable

import duckdb
import networkx as nx
import polars as pl
from sqlglot import exp

from catalog.access.policy import Policy, Viewers, product_for
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.numbers import format_percent
from catalog.state.cache import MeshCache

MIN_SHARED = 3
MIN_COLUMN_SIMILARITY = 0.5
DEFAULT_MIN_SCORE = 0.6
FULL_KEYS = 20_000  # products with at most this many rows have every key compared
SAMPLE_KEYS = 20_000  # larger products: about this many keys, chosen by hash
COLUMN_WEIGHT, KEY_WEIGHT = 0.5, 0.5
NO_KEY_FACTOR = 0.7  # when no key values could be compared, columns alone count for less

SCHEMA = {"product_id": pl.String, "duplicate_id": pl.String, "domain": pl.String, "duplicate_domain": pl.String,
          "score": pl.Float64, "column_similarity": pl.Float64, "key_overlap": pl.Float64,
          "key_column": pl.String, "shared_columns": pl.List(pl.String), "reason": pl.String}

_FAMILIES = {
    "text": ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "UUID", "ENUM"),
    "integer": ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "INT2", "INT4", "INT8", "SERIAL", "BIGSERIAL"),
    "number": ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "FLOAT4", "FLOAT8"),
    "time": ("TIMESTAMP", "TIMESTAMPTZ", "DATETIME", "DATE", "TIME"),
    "boolean": ("BOOLEAN", "BOOL"),
}


def type_family(type_name: str) -> str:
    """VARCHAR(20) and TEXT are both text, INTEGER and BIGINT both integer: copies often widen types."""
    base = type_name.upper().split("(")[0].strip()
    base = base.replace(" WITH TIME ZONE", "").strip()
    return next((family for family, names in _FAMILIES.items() if base in names), base.lower())


@dataclass
class _Candidate:
    a: str
    b: str
    shared: list[str]
    similarity: float
    key: str | None


class KeySample:
    """The distinct values of a product's key column (all of them, or a hash-chosen sample), read as a steward
    from unrestricted data only, so no score reflects restricted rows; None when not readable. Cached per
    (product, column) in the mesh's cache. `database(role)` is the engine's database for a role."""

    def __init__(self, mesh: DeclaredMesh, viewers: Viewers, database: Callable[[str], Any], cache: MeshCache):
        self.mesh = mesh
        self.viewers = viewers
        self.database = database
        self.cache = cache

    def __call__(self, product_id: str, column: str) -> frozenset[str] | None:
        return self.cache.get("duplicates.keys", (product_id, column), lambda: self._read(product_id, column))

    def _read(self, product_id: str, column: str) -> frozenset[str] | None:
        mesh = self.mesh
        product = mesh.products[product_id]
        name = next((c.name for c in product.columns if c.name.lower() == column), column)
        if self.viewers.restrictions().get(product_id) or mesh.descriptor.engine != "duckdb":
            return None
        try:
            database = self.database("steward")
            database.ensure({product_id})
            table = exp.table_(product.name, db=product.domain, catalog="memory", quoted=True)
            key = exp.cast(exp.column(name, quoted=True), "VARCHAR")
            cursor = database.cursor()
            rows = cursor.execute(exp.select(exp.func("count", exp.Star())).from_(table).sql("duckdb")).fetchone()[0]
            query = exp.select(key.as_("k")).distinct().from_(table).where(key.is_(exp.null()).not_())
            if rows > FULL_KEYS:
                buckets = max(1, rows // SAMPLE_KEYS)
                query = query.where(exp.Mod(this=exp.func("hash", key), expression=exp.Literal.number(buckets))
                                    .eq(exp.Literal.number(0)))
            values = frozenset(r[0] for r in cursor.execute(query.sql("duckdb")).fetchall())
            cursor.close()
            return values
        except (MeshError, duckdb.Error):  # an unreadable source only means no key evidence
            return None


def duplicates(mesh: DeclaredMesh, keys: KeySample, product_id: str | None = None, min_score: float | None = None,
               policy: Policy | None = None) -> pl.DataFrame:
    """Likely copies, best first: one row per pair (or per other product when `product_id` is given). With a
    `policy`, only pairs of products its viewer sees in full (columns are what the pair shares)."""
    if product_id is not None:
        if policy is not None:
            product_for(mesh, product_id, policy)  # UnknownProduct when hidden, like an unknown id
        else:
            mesh.product(product_id)
    threshold = DEFAULT_MIN_SCORE if min_score is None else min_score
    rows = []
    for cand in candidates(mesh, product_id):
        if policy is not None and not (policy.can_see(cand.a) and policy.can_see(cand.b)):
            continue
        overlap = _key_overlap(keys, cand)
        if overlap is None:
            score = cand.similarity * NO_KEY_FACTOR
            reason = (f"{len(cand.shared)} shared columns ({format_percent(100 * cand.similarity)} similar); "
                      "key values not compared")
        else:
            score = COLUMN_WEIGHT * cand.similarity + KEY_WEIGHT * overlap
            reason = (f"{len(cand.shared)} shared columns ({format_percent(100 * cand.similarity)} similar); "
                      f"{format_percent(100 * overlap)} of sampled {cand.key} values in both")
        if score < threshold:
            continue
        a, b = (cand.a, cand.b) if product_id in (None, cand.a) else (cand.b, cand.a)
        rows.append({"product_id": a, "duplicate_id": b, "domain": mesh.products[a].domain,
                     "duplicate_domain": mesh.products[b].domain, "score": round(score, 3),
                     "column_similarity": round(cand.similarity, 3),
                     "key_overlap": None if overlap is None else round(overlap, 3), "key_column": cand.key,
                     "shared_columns": cand.shared, "reason": reason})
    frame = pl.DataFrame(rows, schema=SCHEMA)
    return frame.sort(["score", "product_id", "duplicate_id"], descending=[True, False, False])


def candidates(mesh: DeclaredMesh, product_id: str | None = None) -> list[_Candidate]:
    """Pairs in different domains with enough shared columns, not linked by lineage."""
    features = {pid: _features(p) for pid, p in mesh.products.items() if not p.broken and p.columns}
    index: dict[tuple[str, str], list[str]] = {}
    for pid, feats in features.items():
        for feat in feats:
            index.setdefault(feat, []).append(pid)
    shared: dict[tuple[str, str], list[str]] = {}
    for feat, pids in index.items():
        if product_id is not None:
            if product_id not in pids:
                continue
            pairs = [tuple(sorted((product_id, other))) for other in pids if other != product_id]
        else:
            pairs = combinations(sorted(pids), 2)
        for a, b in pairs:
            if mesh.products[a].domain != mesh.products[b].domain:
                shared.setdefault((a, b), []).append(feat[0])
    related = _lineage_related(mesh)
    out = []
    for (a, b), names in shared.items():
        if len(names) < MIN_SHARED or b in related.get(a, ()):
            continue
        small = min(len(features[a]), len(features[b]))
        union = len(features[a] | features[b])
        similarity = (len(names) / small + len(names) / union) / 2
        if similarity < MIN_COLUMN_SIMILARITY:
            continue
        out.append(_Candidate(a, b, sorted(names), similarity, _shared_key(mesh, a, b, set(names))))
    return sorted(out, key=lambda c: (-c.similarity, c.a, c.b))


def _features(product) -> frozenset[tuple[str, str]]:
    return frozenset((c.name.lower(), type_family(c.type)) for c in product.columns)


def _lineage_related(mesh: DeclaredMesh) -> dict[str, set[str]]:
    """Product -> every product upstream or downstream of it (derived products reuse columns on purpose)."""
    graph = nx.DiGraph()
    for pid in mesh.products:
        graph.add_node(pid)
        for upstream in mesh.upstreams(pid):
            graph.add_edge(upstream, pid)
    related: dict[str, set[str]] = {}
    for component in nx.weakly_connected_components(graph):
        if len(component) == 1:
            continue
        for pid in component:
            related[pid] = nx.ancestors(graph, pid) | nx.descendants(graph, pid)
    return related


def _shared_key(mesh: DeclaredMesh, a: str, b: str, shared: set[str]) -> str | None:
    """A shared column declared a key on either side, else a shared `*_id` / `id` column."""
    for pid in (a, b):
        for column in mesh.products[pid].columns:
            if column.key and column.name.lower() in shared:
                return column.name.lower()
    ids = sorted(n for n in shared if n == "id" or n.endswith("_id"))
    return ids[0] if ids else None


def _key_overlap(keys: KeySample, cand: _Candidate) -> float | None:
    """Share of the smaller sampled key set found in the other product; None when not measurable."""
    if cand.key is None:
        return None
    left, right = keys(cand.a, cand.key), keys(cand.b, cand.key)
    if not left or not right:
        return None
    return len(left & right) / min(len(left), len(right))
