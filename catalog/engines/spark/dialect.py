"""Render a query written in our (DuckDB) dialect as Spark SQL that means the same thing.

sqlglot transpiles the syntax; these rewrites keep DuckDB's meaning where the two engines' functions
share a name but not a result, so a query gives the same answer on both engines.
"""

from __future__ import annotations

from sqlglot import exp

# Units both DATE_TRUNC and TIMESTAMPDIFF understand on Spark.
_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"}


def to_spark(tree: exp.Expression) -> str:
    """Spark SQL for `tree` (left unchanged)."""
    return tree.copy().transform(_duckdb_meaning).sql("spark")


def _duckdb_meaning(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary"):
        # DuckDB counts unit boundaries crossed (date_diff('year', Dec 31, Jan 1) = 1); Spark counts whole
        # units elapsed. Truncating both ends to the unit first makes Spark count boundaries too.
        unit = (node.text("unit") or "DAY").upper()
        if unit in _UNITS:
            def trunc(value: exp.Expression) -> exp.Expression:
                return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string(unit), value])

            return exp.Anonymous(this="TIMESTAMPDIFF", expressions=[
                exp.var(unit), trunc(node.expression), trunc(node.this)])
    digits = node.args.get("decimals") if isinstance(node, exp.Round) else None
    if isinstance(digits, exp.Literal) and digits.is_int and 0 < int(digits.name) <= 15:
        # DuckDB rounds x to n digits as round(x * 10^n) / 10^n, so 56.45 (stored as 56.4499...) gives 56.5;
        # Spark rounds the exact binary value and gives 56.4.
        scale = exp.Literal.number(10 ** int(digits.name))
        scaled = exp.Round(this=exp.Mul(this=exp.paren(node.this, copy=False), expression=scale))
        return exp.Div(this=exp.cast(scaled, exp.DataType.Type.DOUBLE), expression=scale.copy(), typed=False,
                       safe=False)
    if isinstance(node, exp.Avg) and not isinstance(node.this, exp.Distinct):
        # DuckDB averages in DOUBLE whatever the input; Spark keeps a DECIMAL input DECIMAL (6 digits).
        return exp.Avg(this=exp.cast(node.this, exp.DataType.Type.DOUBLE))
    if isinstance(node, exp.Div) and not node.args.get("typed"):
        # DuckDB's `/` is always a DOUBLE division; Spark divides DECIMALs as DECIMAL.
        return exp.Div(this=exp.cast(node.this, exp.DataType.Type.DOUBLE), expression=node.expression,
                       typed=False, safe=node.args.get("safe"))
    return node
