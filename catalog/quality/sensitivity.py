"""Which quality checks read sensitive data, and what of their results a viewer may see.

Checks run on the raw data (as the steward), so their failing counts could be an oracle: an `expression`
check spells a masked value character by character, a `references` check tells membership in a
restricted product. The rule kept here:

- a check is *sensitive* when it reads a PII value (a declared PII column, or a column of a derived product
  computed from one), or a restricted product (`references` into it). Two checks stay exact under masking
  and are not sensitive on a source product: `not_null` (masks keep NULL) and `unique` over token-masked
  keys (tokens keep equality); `references` between token-masked keys of open products likewise;
- every check of a derived product whose SQL reads a non-token PII column is sensitive: the SQL can turn
  PII into row counts, NULLs or values any check would then count;
- a sensitive check's failing count, message and example rows are shown only to a viewer who reads the
  product (and what it is computed from, and the referenced product) unmasked; others see it as hidden,
  with the reason. Only a steward may add or change a sensitive check (catalog.publish.publish enforces that).

`Sensitivity` answers for one mesh: it receives the declared mesh, the restrictions the visibility policy
derives (`Viewers.restrictions`) and the mesh's cache, where each product's answer is kept (descriptors do
not change under an open mesh).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from catalog import sqlutil
from catalog.access.policy import Policy, role_reads_pii
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct
from catalog.descriptors.column_lineage import trace_columns
from catalog.query.masking import is_token_masked
from catalog.state.cache import MeshCache
from catalog.quality.implied import effective_checks
from catalog.quality.schema import SCHEMA_KINDS

EXACT_UNDER_MASKING = ("not_null", "row_count", "freshness")
HIDDEN_REASON = "hidden: this check reads {what} that your role sees masked or may not see"


def _columns_read(check: Any) -> list[str]:
    named = list(getattr(check, "columns", None) or []) + [getattr(check, "column", None)]
    if check.check == "expression":
        try:
            tree = sqlglot.parse_one(check.expression, read="duckdb")
            named += [c.name for c in tree.find_all(exp.Column)] if tree is not None else []
        except Exception:  # noqa: BLE001 - an unparsable expression reads what it names: assume everything
            return ["*"]
    if check.check == "freshness" and not getattr(check, "column", None):
        return []  # reads sla.timestamp_column, judged below like a named column
    return [c for c in named if c]


class Sensitivity:
    """Which checks of a mesh's products are sensitive, and what of their results a viewer may see."""

    def __init__(self, mesh: DeclaredMesh, restrictions: Callable[[], Mapping[str, frozenset[str]]],
                 cache: MeshCache):
        self.mesh = mesh
        self._restrictions = restrictions
        self._cache = cache

    # ------------------------------------------------------------------ which checks are sensitive

    def _upstreams(self, product: DataProduct) -> set[str]:
        """The products a derived product reads: the mesh's record, or (a candidate descriptor not loaded yet)
        the products its SQL names."""
        mesh = self.mesh
        if mesh.products.get(product.id) is product:
            return mesh.upstreams(product.id)
        try:
            names = sqlutil.referenced_tables(sqlutil.parse_one_select(product.source.sql))
        except Exception:  # noqa: BLE001 - unparsable SQL reads nothing we can name
            return set()
        return {n for n in names if n in mesh.products}

    def pii_columns(self, product: DataProduct, _seen: frozenset[str] = frozenset()) -> dict[str, bool]:
        """Lower-cased column name -> whether its masked form keeps equality (a token), for every column of
        `product` that holds or is computed from PII (declared, or by column lineage for a derived product;
        an untraced column of a derived product over PII counts as PII)."""
        products = self.mesh.products
        out = {c.name.lower(): is_token_masked(c) for c in product.columns if c.pii}
        if product.kind != "sql" or product.id in _seen:
            return out
        upstreams = self._upstreams(product)
        upstream_pii = {u: self.pii_columns(products[u], _seen | {product.id}) for u in upstreams if u in products}
        if not any(upstream_pii.values()):
            return out
        traced = trace_columns(product, set(upstreams), lambda pid: products[pid].columns
                               if pid in products else None)
        for column in product.columns:
            name = column.name.lower()
            inputs = traced.inputs.get(column.name)
            if inputs is None:
                out[name] = False  # untraced: strictest
                continue
            hits = [upstream_pii[u][c.lower()] for u, c in inputs if c.lower() in upstream_pii.get(u, {})]
            if hits:
                out[name] = out.get(name, True) and all(hits) and len(inputs) == 1
        return out

    def derived_reads_pii(self, product: DataProduct) -> bool:
        """Whether a derived product's SQL reads, anywhere (select list, WHERE, JOIN, GROUP BY), a PII column of
        an upstream that is not a token-masked key."""
        if product.kind != "sql":
            return False
        names: set[str] = set()
        for upstream in self._upstreams(product):
            if upstream in self.mesh.products:
                names |= {c for c, token in self.pii_columns(self.mesh.products[upstream]).items() if not token}
        if not names:
            return False
        try:
            tree = sqlutil.parse_one_select(product.source.sql)
        except Exception:  # noqa: BLE001 - SQL that does not parse reads what it may: assume PII
            return True
        if any(isinstance(s, exp.Star) for s in tree.find_all(exp.Star)):
            return True
        return any(c.name.lower() in names for c in tree.find_all(exp.Column))

    def restricted(self, product_id: str) -> bool:
        return bool(self._restrictions().get(product_id))

    def checks(self, product: DataProduct | str) -> list[str]:
        """Names (labels) of `product`'s checks that read PII values or a restricted product (see module doc);
        a loaded product's answer is computed once (MeshCache), a candidate descriptor's (publish) every time."""
        product = self.mesh.product(product) if isinstance(product, str) else product
        if self.mesh.products.get(product.id) is not product:
            return self._checks(product)
        return list(self._cache.get("quality.sensitive_checks", product.id, lambda: self._checks(product)))

    def _checks(self, product: DataProduct) -> list[str]:
        checks = effective_checks(product)
        if self.derived_reads_pii(product):
            return [c.label for c in checks]
        pii = self.pii_columns(product)
        derived = product.kind == "sql"
        return [check.label for check in checks if self._sensitive(product, check, pii, derived)]

    def _sensitive(self, product: DataProduct, check: Any, pii: dict[str, bool], derived: bool) -> bool:
        if check.check == "references":
            target = self.mesh.products.get(check.product)
            if target is None or self.restricted(target.id):
                return True
            mine = pii.get(check.column.lower())
            theirs = self.pii_columns(target).get((check.to_column or check.column).lower())
            if mine is None and theirs is None:
                return False
            return derived or not (mine and theirs)
        columns = _columns_read(check)
        if check.check == "freshness" and not columns:
            columns = [product.descriptor.sla.timestamp_column or ""]
        if "*" in columns:
            return bool(pii)
        read = [pii[c.lower()] for c in columns if c.lower() in pii]
        if not read:
            return False
        if derived:
            return True
        if check.check in EXACT_UNDER_MASKING and check.check != "freshness":
            return False
        if check.check == "unique" and all(read) and len(read) == len(columns):
            return False
        return True

    # ------------------------------------------------------------------ what a viewer sees

    def sees_all(self, viewer: Policy | None, product_id: str, _seen: frozenset[str] = frozenset()) -> bool:
        """Whether `viewer` (None: the steward's unfiltered view) reads the product, and everything it is
        computed from, unmasked."""
        if viewer is None or viewer.unfiltered:
            return True
        product = self.mesh.products.get(product_id)
        if product is None or not viewer.can_query(product_id):
            return False
        if product.pii_columns and not (viewer.sees_pii(product_id) or role_reads_pii(self.mesh, viewer.role)):
            return False
        return all(self.sees_all(viewer, u, _seen | {product_id}) for u in self.mesh.upstreams(product_id)
                   if u not in _seen)

    def may_see_results(self, viewer: Policy | None, product: DataProduct, check: Any) -> bool:
        """Whether `viewer` may see this (sensitive) check's counts and examples."""
        if not self.sees_all(viewer, product.id):
            return False
        if check is not None and getattr(check, "check", "") == "references":
            return self.sees_all(viewer, check.product)
        return True

    def redact(self, product_id: str, results: list[dict[str, Any]], viewer: Policy | None) -> list[dict[str, Any]]:
        """The check results (as dicts) as `viewer` may see them: a sensitive check the viewer may not see keeps
        its name, kind, severity and status, with no failing count, observed value, message or example rows."""
        if viewer is None or viewer.unfiltered:
            return results
        product = self.mesh.product(product_id)
        if not viewer.can_query(product_id):  # nothing of a product the viewer may not query is computable
            return [{**r, "failing": None, "observed": None, "examples": [], "hidden": True,
                     "message": "hidden: your role may not query this product"} for r in results]
        sensitive = set(self.checks(product))
        declared = {c.label: c for c in effective_checks(product)}
        out = []
        for result in results:
            name = result.get("name", "")
            check = declared.get(name)
            if result.get("kind") in SCHEMA_KINDS:  # what the schema says, which the viewer already reads
                out.append(result)
                continue
            if (name in sensitive or check is None) and not self.may_see_results(viewer, product, check):
                what = ("a restricted product" if check is not None and check.check == "references"
                        and self.restricted(check.product) else "personal data")
                result = {**result, "failing": None, "observed": None, "examples": [], "hidden": True,
                          "message": HIDDEN_REASON.format(what=what)}
            out.append(result)
        return out
