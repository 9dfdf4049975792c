"""Governed SQL on Spark: the query the shared gate let through, rewritten onto a role's views and
rendered as Spark SQL.

The gate in catalog/query/gate.py stays the one place that decides: `vet(..., dialect="spark")` checks the
query against Spark's function allow-list and re-reads its Spark rendering (builders' sizes, `${`).
This module only swaps products for the role's views, and re-checks what only Spark would run on the
final text, as a second wall: Hive script transforms, calls off Spark's allow-list, variable substitution.
"""

from __future__ import annotations

from sqlglot import exp

from catalog import sqlutil
from catalog.query.gate_rules import calls as gate_calls
from catalog.errors import QueryRejected
from catalog.engines.spark.dialect import to_spark


def vet_for_spark(tree: exp.Expression) -> None:
    """Refuse what Spark alone would run: Hive script transforms, and any call off Spark's allow-list."""
    if tree.find(exp.QueryTransform):
        raise QueryRejected("TRANSFORM ... USING runs a program on the cluster; it is not allowed.")
    gate_calls.check(list(tree.find_all(exp.Func)), "spark", parsed_as="duckdb")


def on_views(tree: exp.Expression, views: dict[str, str]) -> exp.Expression:
    """A copy of `tree` whose product references (`domain.name`) read the role's views instead."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name and node.db:
            name = sqlutil.table_name(node)
            if name in views:
                replacement = exp.to_table(views[name])
                replacement.this.set("quoted", True)
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
                replacement.set("alias", alias)
                return replacement
        return node

    return tree.copy().transform(swap)


def render(tree: exp.Expression, views: dict[str, str]) -> str:
    """Spark SQL for a vetted query over the role's views."""
    vet_for_spark(tree)
    text = to_spark(on_views(tree, views))
    if "${" in text:
        raise QueryRejected("`${` is not allowed in queries on Spark: Spark would substitute variables into it.")
    return text
