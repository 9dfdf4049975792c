"""A derived product: a SELECT over other products, rewritten to read their raw views.

Derived products compute on raw inputs and are masked by their own classification,
so an aggregate over a masked upstream column still means what its SQL says.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from catalog import sqlutil
from catalog.model import DataProduct
from catalog.sources.context import SourceContext, raw_table


def relation(product: DataProduct, ctx: SourceContext) -> exp.Expression:
    tree = sqlutil.parse_one_select(product.source.sql)
    ctes = sqlutil.cte_names(tree)

    def to_raw(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name:
            name = sqlutil.table_name(node)
            if (node.db or name not in ctes) and name in ctx.product_domains:
                replacement = raw_table(name)
                alias = node.args.get("alias")
                if alias is None:
                    alias = exp.TableAlias(this=exp.to_identifier(node.name))
                replacement.set("alias", alias)
                return replacement
        return node

    return tree.transform(to_raw)


def fingerprint(product: DataProduct, ctx: SourceContext, upstream: list[str | None] | None = None) -> str | None:
    if upstream is None or any(f is None for f in upstream):
        return None
    return hashlib.sha1((product.source.sql + "|" + "|".join(upstream)).encode()).hexdigest()
