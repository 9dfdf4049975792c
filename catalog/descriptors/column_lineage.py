"""Column-level lineage of one derived product, traced through its SQL with sqlglot.

The SQL is qualified against a schema built from the upstream products' declared
columns (`{domain: {name: {column: type}}}`), so `SELECT *` expands to real columns
and every output column is followed through CTEs, subqueries, joins, aggregates,
window functions and set operations down to the upstream columns it is computed from.
A column computed from no input column (a constant, `count(*)`) has no column upstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlglot import exp, lineage
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify

from catalog import sqlutil
from catalog.descriptors.model import Column, DataProduct

#: What the tracer needs to know about an upstream: its declared columns, or None if unknown.
SchemaLookup = Callable[[str], "list[Column] | None"]


@dataclass(frozen=True)
class ColumnLineage:
    """Output columns of one product and, for each, the upstream `(product id, column)` pairs it reads."""

    product_id: str
    outputs: list[str]
    inputs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    note: str = ""  # why some or all columns could not be traced; empty when everything was

    def edges(self) -> list[tuple[str, str, str, str]]:
        """(upstream product, upstream column, this product, output column) for every traced link."""
        return [(up, col, self.product_id, out) for out in self.outputs for up, col in self.inputs.get(out, [])]


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _sql_type(declared: str) -> str:
    """The declared type if sqlglot can read it; types only matter to the tracer as hints."""
    try:
        return exp.DataType.build(declared, dialect=sqlutil.DIALECT).sql(sqlutil.DIALECT)
    except (SqlglotError, ValueError):
        return "UNKNOWN"


def _schema_for(upstreams: set[str], lookup: SchemaLookup) -> dict[str, dict[str, dict[str, str]]]:
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for product_id in sorted(upstreams):
        columns = lookup(product_id)
        if not columns:
            continue  # undeclared schema: qualified references still trace, `*` over it cannot
        domain, name = product_id.split(".", 1)
        schema.setdefault(domain, {})[name] = {c.name.lower(): _sql_type(c.type) for c in columns}
    return schema


def trace_columns(product: DataProduct, upstreams: set[str], lookup: SchemaLookup) -> ColumnLineage:
    """Column lineage of `product`; never raises: what cannot be traced is said in `.note`."""
    declared = [c.name for c in product.columns]
    if product.kind != "sql" or not product.source.sql:
        return ColumnLineage(product.id, declared)
    failures = (SqlglotError, sqlutil.SqlParseError, ValueError, KeyError, RecursionError)
    untraced: list[str] = []
    try:
        tree = sqlutil.parse_one_select(product.source.sql)
    except sqlutil.SqlParseError as exc:
        return ColumnLineage(product.id, declared, note=f"column lineage could not be traced: {exc}")
    try:
        nodes = lineage.lineage(None, tree, _schema_for(upstreams, lookup), dialect=sqlutil.DIALECT)
    except failures as exc:
        # Typically a column no upstream declares: trace again without schemas, so qualified
        # references still resolve, and say why the result may be partial.
        untraced.append(f"the declared schemas do not fit the SQL ({_first_line(exc)})")
        try:
            nodes = lineage.lineage(None, tree, {}, dialect=sqlutil.DIALECT)
        except failures as again:
            return ColumnLineage(product.id, declared,
                                 note=f"column lineage could not be traced: {_first_line(again)}")
    by_lower = {name.lower(): name for name in declared}
    case_of = {pid: {c.name.lower(): c.name for c in (lookup(pid) or [])} for pid in upstreams}
    outputs: list[str] = []
    inputs: dict[str, list[tuple[str, str]]] = {}
    for out_name, node in nodes.items():
        if out_name == "*":
            untraced.append("* (an upstream without declared columns)")
            continue
        name = by_lower.get(out_name.lower(), out_name)
        outputs.append(name)
        links: list[tuple[str, str]] = []
        for leaf in node.walk():
            if leaf.downstream:
                continue
            if isinstance(leaf.source, exp.Table) and leaf.source.name:
                up = sqlutil.table_name(leaf.source)
                column = leaf.name.rsplit(".", 1)[-1]
                if up in upstreams and column != "*":
                    pair = (up, case_of.get(up, {}).get(column.lower(), column))
                    if pair not in links:
                        links.append(pair)
                elif column == "*":
                    untraced.append(f"{name} (reads * of {up})")
            elif isinstance(leaf.source, exp.Placeholder):
                untraced.append(f"{name} (column {leaf.name!r} is not declared by any upstream)")
        inputs[name] = links
    note = f"not traced: {', '.join(untraced)}" if untraced else ""
    return ColumnLineage(product.id, outputs, inputs, note)


def output_columns(product: DataProduct, upstreams: set[str], lookup: SchemaLookup) -> list[str] | None:
    """The column names a derived product's SQL produces, with `*` expanded from the upstreams' declared
    columns; None when that cannot be told (the SQL does not bind, or a `*` reads an undeclared upstream)."""
    if product.kind != "sql" or not product.source.sql:
        return None
    try:
        tree = sqlutil.parse_one_select(product.source.sql)
        bound = qualify(tree.copy(), schema=_schema_for(upstreams, lookup), dialect=sqlutil.DIALECT,
                        validate_qualify_columns=False, quote_identifiers=False, identify=False)
    except (SqlglotError, sqlutil.SqlParseError, ValueError, KeyError, RecursionError):
        return None
    names = [select.alias_or_name for select in bound.selects]
    if not names or any(not n or n == "*" for n in names) or any(isinstance(s, exp.Star) for s in bound.selects):
        return None
    return names
