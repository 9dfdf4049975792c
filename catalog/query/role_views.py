"""The SQL of the view a role sees, decided once and rendered for any engine's dialect.

Both engines (DuckDB in process, Spark for scale-out) build a product's role view
from these sqlglot expressions, so masking cannot drift between two hand-kept copies.
A view projects the product's declared columns only: a column the descriptor does not
declare is never served, whatever the source holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from catalog.query.masking import mask_expression
from catalog.descriptors.model import Column, DataProduct

if TYPE_CHECKING:
    from catalog.mesh import Mesh


def visible_products(mesh: "Mesh", role: str, grants: frozenset[tuple[str, str]] = frozenset()) -> frozenset[str]:
    """Product ids a role (widened by a user's grants) may query: the one policy decides (catalog.access.policy)."""
    return mesh.viewers.policy(role, grants=grants).visible


def masked_columns(mesh: "Mesh", product: DataProduct, role: str,
                   grants: frozenset[tuple[str, str]] = frozenset()) -> list[Column]:
    """The PII columns of `product` that `role` (with these grants) sees masked (catalog.access.policy decides)."""
    return [] if mesh.viewers.policy(role, grants=grants).sees_pii(product.id) else list(product.pii_columns)


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
