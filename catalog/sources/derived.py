"""A derived product: a SELECT over other products, rewritten to read the relations it is computed from.

The raw relation (quality checks, stewards) reads the upstreams' raw views; a role's view of a derived
product is computed over that role's views of its upstreams (`relation(..., target=...)`), so renaming,
re-typing or rearranging an upstream's PII in the SQL cannot unmask it.
"""

from __future__ import annotations

import hashlib
from typing import Callable

from sqlglot import exp

from catalog import sqlutil
from catalog.errors import SourceUnavailable
from catalog.descriptors.model import DataProduct
from catalog.sources.context import TOKEN_FUNCTION, SourceContext, raw_table


def relation(product: DataProduct, ctx: SourceContext,
             target: Callable[[str], exp.Table] = raw_table) -> exp.Expression:
    """The product's SELECT with every product it names replaced by `target(product id)`."""
    tree = sqlutil.parse_one_select(product.source.sql)
    ctes = sqlutil.cte_names(tree)
    _refuse_reach(product, tree, ctes, ctx)

    def to_target(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name:
            name = sqlutil.table_name(node)
            if (node.db or name not in ctes) and name in ctx.product_domains:
                replacement = target(name)
                alias = node.args.get("alias")
                if alias is None:
                    alias = exp.TableAlias(this=exp.to_identifier(node.name))
                replacement.set("alias", alias)
                return replacement
        return node

    return tree.transform(to_target)


_TABLE_FUNCTIONS = {"range", "generate_series", "unnest"}


def _refuse_reach(product: DataProduct, tree: exp.Expression, ctes: set[str], ctx: SourceContext) -> None:
    """A derived product reads products only: no file, table function, hidden catalog or masking function
    (a publisher's SQL must not compute tokens of guessed values or read around the role's views)."""
    for node in tree.find_all(exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        if name == TOKEN_FUNCTION:
            raise SourceUnavailable(f"{product.id}: its SQL calls {TOKEN_FUNCTION}, which only masking may use")
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            function = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.sql_name()
            if function.lower() not in _TABLE_FUNCTIONS:
                raise SourceUnavailable(f"{product.id}: its SQL reads the table function {function.lower()!r}; "
                                        "a derived product may read products only")
            continue
        if not table.name:
            continue
        name = sqlutil.table_name(table)
        if name not in ctx.product_domains and (table.db or name not in ctes):
            raise SourceUnavailable(f"{product.id}: its SQL reads {name!r}, which is not a product")


def fingerprint(product: DataProduct, ctx: SourceContext, upstream: list[str | None] | None = None) -> str | None:
    if upstream is None or any(f is None for f in upstream):
        return None
    return hashlib.sha1((product.source.sql + "|" + "|".join(upstream)).encode()).hexdigest()


def reads(product: DataProduct, forbidden: list) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """No file: a derived product is read through no path a connection must be allowed."""
    return [], [], {}


def modified_at(product: DataProduct) -> float | None:
    return None  # a derived product has no modification time of its own


def keys(product: DataProduct) -> set[str]:
    return set()  # a derived product's data is its inputs'; restrictions follow its lineage instead
