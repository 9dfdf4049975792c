"""Governed SQL on Spark: the query the shared gate let through, rewritten onto a role's views and
rendered as Spark SQL; plus what only Spark would run.

The gate in catalog/sandbox.py parses and vets the text in our (DuckDB) dialect and stays the one place
that decides; this adds the few Spark functions that exist nowhere else and call into the JVM or reveal
file paths, since sqlglot passes unknown functions through unchanged.
"""

from __future__ import annotations

from sqlglot import exp

from catalog import sqlutil
from catalog.errors import QueryRejected
from catalog.spark.dialect import to_spark

SPARK_DENIED_FUNCTIONS = {
    "reflect", "java_method", "try_reflect",  # call any static Java method on the driver/executors
    "input_file_name", "input_file_block_start", "input_file_block_length",  # reveal source paths
    "read_files", "url_fetch",
}


def vet_for_spark(tree: exp.Expression) -> None:
    """Refuse what Spark alone would run: JVM reflection, file-path functions, Hive script transforms."""
    for node in tree.walk():
        if isinstance(node, exp.QueryTransform):
            raise QueryRejected("TRANSFORM ... USING runs a program on the cluster; it is not allowed.")
        name = None
        if isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
        elif isinstance(node, exp.Func):
            name = node.sql_name().lower()
        if name in SPARK_DENIED_FUNCTIONS:
            raise QueryRejected(f"The function {name}() is not allowed: on Spark it can run code on the "
                                "cluster or reveal where files lie. Query the catalog's products instead.")


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
    return to_spark(on_views(tree, views))
