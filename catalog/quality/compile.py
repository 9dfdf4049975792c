"""Compile a product's declared checks into one aggregate SELECT: one scan, every check.

`compile_checks(product, relation)` is pure: it builds sqlglot expressions and never runs
them, so the DuckDB engine and a Spark engine render the same scan with `scan.sql(dialect)`.
Each check kind is one small compiler function in `COMPILERS`; a check that cannot compile
(a column the data does not have, an expression that does not parse) is returned in
`scan.errored` with the reason, and the other checks still compile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from catalog.descriptors.model import DataProduct

ROWS = "__rows"


class CheckCompileError(ValueError):
    """A declared check that cannot be compiled; the message says why, in a user's words."""


@dataclass
class CompiledCheck:
    """One check inside the scan: the aggregate columns it reads and the predicate of a failing row."""

    index: int
    check: Any
    outputs: dict[str, str]  # role ("failing", "newest", ...) -> column alias in the scan
    failing_rows: exp.Expression | None  # WHERE of an example-rows query (None: the check has no failing rows)

    @property
    def kind(self) -> str:
        return self.check.check


@dataclass
class CompiledScan:
    """The single aggregate query over `relation` plus how to read each check's outputs from its one row."""

    product_id: str
    relation: exp.Expression
    select: exp.Select
    checks: list[CompiledCheck] = field(default_factory=list)
    errored: list[tuple[int, Any, str]] = field(default_factory=list)  # (index, check, reason)

    def sql(self, dialect: str = "duckdb") -> str:
        return self.select.sql(dialect)

    def examples(self, compiled: CompiledCheck, columns: list[exp.Expression], limit: int = 5) -> exp.Select | None:
        """A query for up to `limit` failing rows of one check, selecting `columns` (already masked)."""
        if compiled.failing_rows is None:
            return None
        return exp.select(*columns).from_(self.relation.copy()).where(compiled.failing_rows.copy()).limit(limit)


@dataclass
class _Ctx:
    product: DataProduct
    relation: exp.Expression
    columns: set[str] | None
    references: Mapping[str, exp.Expression]
    bounds: Mapping[str, tuple[int, int]]


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _count_where(predicate: exp.Expression) -> exp.Expression:
    return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=predicate))


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if value is None:
        return exp.Null()
    return exp.Literal.string(str(value))


def _need(ctx: _Ctx, *names: str) -> None:
    if ctx.columns is None:
        return
    lowered = {c.lower() for c in ctx.columns}
    missing = [n for n in names if n.lower() not in lowered]
    if missing:
        raise CheckCompileError(f"column {', '.join(repr(m) for m in missing)} is not in {ctx.product.id} "
                                f"(it has {', '.join(sorted(ctx.columns))})")


# ----------------------------------------------------------------------------- one compiler per check kind
# Each returns: aggregate expressions by output role, and the predicate of a failing row (or None).

Compiled = tuple[dict[str, exp.Expression], exp.Expression | None]


def not_null(check: Any, ctx: _Ctx) -> Compiled:
    _need(ctx, check.column)
    failing = exp.Is(this=col(check.column), expression=exp.Null())
    return {"failing": _count_where(failing)}, failing


def unique(check: Any, ctx: _Ctx) -> Compiled:
    """Duplicate rows = rows with every key column set − distinct keys; NULL keys never collide."""
    _need(ctx, *check.columns)
    cols = [col(c) for c in check.columns]
    present = exp.and_(*[exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in cols])
    bounds = ctx.bounds.get(check.columns[0].lower()) if len(cols) == 1 else None
    if bounds is not None:
        failing = exp.Sub(this=exp.Count(this=cols[0].copy()), expression=_bitmap_distinct(cols[0], *bounds))
    elif len(cols) == 1:  # count(x) and count(DISTINCT x) skip NULLs already: no FILTER
        failing = exp.Sub(this=exp.Count(this=cols[0].copy()),
                          expression=exp.Count(this=exp.Distinct(expressions=[cols[0].copy()])))
    else:
        key = exp.Tuple(expressions=[c.copy() for c in cols])
        distinct = exp.Filter(this=exp.Count(this=exp.Distinct(expressions=[key])),
                              expression=exp.Where(this=present.copy()))
        failing = exp.Sub(this=_count_where(present), expression=distinct)
    grouped = (exp.select(*[c.copy() for c in cols]).from_(ctx.relation.copy()).where(present.copy())
               .group_by(*[c.copy() for c in cols]).having(exp.GT(this=exp.Count(this=exp.Star()),
                                                                    expression=exp.Literal.number(1))))
    lhs = cols[0].copy() if len(cols) == 1 else exp.Tuple(expressions=[c.copy() for c in cols])
    return {"failing": failing}, exp.In(this=lhs, query=exp.Subquery(this=grouped))


def _bitmap_distinct(column: exp.Column, low: int, high: int) -> exp.Expression:
    """Distinct values of an integer column whose exact bounds are known: the set bits of a bitmap over
    [low, high] (DuckDB's bitstring_agg), several times faster than hashing each value; DuckDB only."""
    bitmap = exp.Anonymous(this="bitstring_agg", expressions=[column.copy(), exp.Literal.number(low),
                                                                exp.Literal.number(high)])
    return exp.Anonymous(this="bit_count", expressions=[bitmap])


def accepted_values(check: Any, ctx: _Ctx) -> Compiled:
    _need(ctx, check.column)
    failing = exp.Not(this=exp.In(this=col(check.column), expressions=[_literal(v) for v in check.values]))
    return {"failing": _count_where(failing)}, failing


def range_(check: Any, ctx: _Ctx) -> Compiled:
    _need(ctx, check.column)
    bounds: list[exp.Expression] = []
    if check.min is not None:
        bounds.append(exp.LT(this=col(check.column), expression=_literal(check.min)))
    if check.max is not None:
        bounds.append(exp.GT(this=col(check.column), expression=_literal(check.max)))
    failing = exp.or_(*bounds)
    return {"failing": _count_where(failing)}, exp.Paren(this=failing)


def regex(check: Any, ctx: _Ctx) -> Compiled:
    _need(ctx, check.column)
    text = exp.cast(col(check.column), exp.DataType.Type.VARCHAR)
    failing = exp.Not(this=exp.RegexpLike(this=text, expression=exp.Literal.string(check.pattern)))
    return {"failing": _count_where(failing)}, failing


def row_count(check: Any, ctx: _Ctx) -> Compiled:
    return {}, None  # reads the scan's row count


def freshness(check: Any, ctx: _Ctx) -> Compiled:
    sla = ctx.product.descriptor.sla
    column = check.column or sla.timestamp_column
    if not column:
        raise CheckCompileError("a freshness check needs a column (or sla.timestamp_column)")
    if (check.max_age_hours or sla.freshness_hours) is None:
        raise CheckCompileError("a freshness check needs max_age_hours (or sla.freshness_hours)")
    _need(ctx, column)
    return {"newest": exp.Max(this=exp.cast(col(column), exp.DataType.Type.TIMESTAMP))}, None


def references(check: Any, ctx: _Ctx) -> Compiled:
    """Rows whose key is set but missing from the referenced product (which may be in another domain)."""
    _need(ctx, check.column)
    target = ctx.references.get(check.product)
    if target is None:
        raise CheckCompileError(f"the referenced product {check.product!r} cannot be read")
    to = check.to_column or check.column
    keys = (exp.select(col(to)).from_(target.copy())
            .where(exp.Not(this=exp.Is(this=col(to), expression=exp.Null()))))
    failing = exp.and_(exp.Not(this=exp.Is(this=col(check.column), expression=exp.Null())),
                       exp.Not(this=exp.In(this=col(check.column), query=exp.Subquery(this=keys))))
    return {"failing": _count_where(failing)}, failing


FORBIDDEN_IN_EXPRESSIONS = (exp.Select, exp.Table, exp.Subquery, exp.Command)


def expression(check: Any, ctx: _Ctx) -> Compiled:
    """A boolean every row must satisfy; rows where it is false fail (NULL counts as unknown, not failing)."""
    try:
        tree = sqlglot.parse_one(check.expression, read="duckdb")
    except (ParseError, TokenError) as exc:
        raise CheckCompileError(f"the expression {check.expression!r} does not parse: "
                                f"{str(exc).splitlines()[0]}") from None
    if tree is None or any(tree.find_all(*FORBIDDEN_IN_EXPRESSIONS)):
        raise CheckCompileError(f"the expression {check.expression!r} must be a condition on this product's "
                                "columns, without subqueries or tables")
    named = sorted({c.name for c in tree.find_all(exp.Column)})
    _need(ctx, *named)
    failing = exp.Not(this=exp.Paren(this=tree))
    return {"failing": _count_where(failing)}, failing


COMPILERS: dict[str, Callable[[Any, _Ctx], Compiled]] = {
    "not_null": not_null, "unique": unique, "accepted_values": accepted_values, "range": range_,
    "regex": regex, "row_count": row_count, "freshness": freshness, "references": references,
    "expression": expression,
}


def reference_relation(product_id: str) -> exp.Table:
    domain, name = product_id.split(".", 1)
    return exp.table_(name, db=domain, quoted=True)


def compile_checks(product: DataProduct, relation: exp.Expression, columns: set[str] | None = None,
                   references: Mapping[str, exp.Expression] | None = None,
                   skip: set[int] | frozenset[int] = frozenset(),
                   bounds: Mapping[str, tuple[int, int]] | None = None) -> CompiledScan:
    """All of `product`'s checks as one aggregate SELECT over `relation` (its row count included).

    `columns` (the columns the data really has) turns a check on a missing column into an errored
    check instead of a failing query; `references` maps a referenced product id to the relation to
    read it from (default: `domain.name`); checks whose index is in `skip` (already answered, e.g. by
    parquet statistics) are left out of the scan; `bounds` (lowercased integer column -> exact min and max,
    DuckDB only) lets a uniqueness check on such a column count distinct values with a bitmap.
    """
    refs = dict(references) if references is not None else {
        c.product: reference_relation(c.product) for c in product.descriptor.quality if c.check == "references"}
    ctx = _Ctx(product, relation, columns, refs, bounds or {})
    projections: list[exp.Expression] = [exp.alias_(exp.Count(this=exp.Star()), ROWS, quoted=True)]
    scan = CompiledScan(product.id, relation, exp.select())
    for index, check in enumerate(product.descriptor.quality):
        if index in skip:
            continue
        try:
            aggregates, failing_rows = COMPILERS[check.check](check, ctx)
        except CheckCompileError as exc:
            scan.errored.append((index, check, str(exc)))
            continue
        outputs = {}
        for role, aggregate in aggregates.items():
            alias = f"c{index}_{role}"
            projections.append(exp.alias_(aggregate, alias, quoted=True))
            outputs[role] = alias
        scan.checks.append(CompiledCheck(index, check, outputs, failing_rows))
    scan.select = exp.select(*projections).from_(relation.copy())
    return scan
