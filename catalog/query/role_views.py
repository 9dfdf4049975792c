"""The views a role sees, decided once and rendered for any engine's dialect.

Every engine (DuckDB in process, Spark for scale-out) gets a product's role view from
`RoleViews` over its primitives, so masking cannot drift between two hand-kept copies.
A view projects the product's declared columns only: a column the descriptor does not
declare is never served, whatever the source holds.
"""

from __future__ import annotations

from sqlglot import exp

from catalog.descriptors.model import Column, DataProduct
from catalog.engines.base import RoleDatabase
from catalog.errors import SourceUnavailable
from catalog.query.masking import mask_expression
from catalog.sources import is_derived


class RoleViews:
    """One viewer's views on a role database, created on the first query that names a product.

    A view serves the declared columns only and masks the PII its viewer may not read. A derived product's
    view is computed over the viewer's views of its upstreams when the viewer reads them all unmasked, else
    over their fully masked views (so keys still join as tokens): it never shows more than its upstreams
    show this viewer. The engine supplies the primitives (raw relations, columns, creating a view)."""

    def __init__(self, database: RoleDatabase):
        self.database = database
        self.mesh = database.mesh
        self.policy = database.policy
        self.views_ready: set[str] = set()
        self.masked_ready: set[str] = set()

    def ensure(self, product_ids: set[str], timeout_s: float | None = None, masked_only: bool = False) -> None:
        """Create the role views (with `masked_only`, the fully masked views) of these products."""
        self.database.prefetch(product_ids, timeout_s)
        with self.database.lock:
            for product_id in sorted(product_ids):
                self._create_view(self.mesh.product(product_id), masked_only)

    def _masked(self, product: DataProduct) -> list[Column]:
        return [] if self.policy.sees_pii(product.id) else list(product.pii_columns)

    def _sees_all(self, product_id: str) -> bool:
        """Whether this viewer reads the product and everything it is computed from unmasked."""
        if self._masked(self.mesh.product(product_id)):
            return False
        return all(self._sees_all(u) for u in self.mesh.upstreams(product_id))

    def _create_view(self, product: DataProduct, masked_only: bool = False) -> None:
        ready = self.masked_ready if masked_only else self.views_ready
        if product.id in ready:
            return
        database = self.database
        raw = database.raw(product)
        masked = list(product.pii_columns) if masked_only else self._masked(product)
        derived = is_derived(product)
        try:
            if derived:
                over_masked = masked_only or not self._sees_all(product.id)
                for upstream in sorted(self.mesh.upstreams(product.id)):
                    if upstream not in database.visible:
                        raise SourceUnavailable(f"{product.id} reads {upstream}, which the role "
                                                f"{database.role!r} may not see")
                    self._create_view(self.mesh.product(upstream), masked_only=over_masked)
                source, columns = database.derived_source(product, over_masked)
            else:
                source, columns = raw, database.raw_columns(product)
            select = role_view_select(source, masked, served_columns(product, columns), keep_tokens=derived,
                                      typed=masked_only)
            database.create_view(product.id, masked_only, select)
        except SourceUnavailable:
            raise
        except database.ERRORS as exc:
            raise SourceUnavailable(f"{product.id}: cannot build its {database.LABEL}view for role "
                                    f"{database.role!r}: {database.describe_error(exc)}") from None
        ready.add(product.id)


def served_columns(product: DataProduct, columns: list[str]) -> list[str]:
    """The source's columns (in its order) that the product declares: the only ones a view serves.
    A product that declares no columns at all serves what its source has (nothing is classified)."""
    if not product.columns:
        return list(columns)
    declared = {c.name.lower() for c in product.columns}
    return [name for name in columns if name.lower() in declared]


def role_view_select(source: exp.Expression, masked: list[Column], columns: list[str] | None = None,
                     keep_tokens: bool = False, typed: bool = False) -> exp.Select:
    """SELECT of a role view over `source` (the product's raw relation), masking `masked`.

    `columns` are the columns to serve (`served_columns`), in order; without them the projection is
    `* REPLACE (...)` (DuckDB only). `keep_tokens` leaves values that already are tokens as they are
    (a derived product computed over masked upstreams); `typed` uses the type-keeping masks (the fully
    masked views derived products are computed over).
    """
    masks = {column.name.lower(): exp.alias_(
        mask_expression(column, exp.column(column.name, quoted=True), keep_tokens, typed), column.name, quoted=True)
        for column in masked}
    if columns is None:
        star = exp.Star(**({"replace": list(masks.values())} if masks else {}))
        return exp.select(star).from_(source.copy())
    projection = [masks.get(name.lower()) or exp.column(name, quoted=True) for name in columns]
    return exp.select(*projection).from_(source.copy())
