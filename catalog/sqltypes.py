"""What a change of SQL type means for the queries that read the column: same, widened, narrowed or changed.

Both the descriptor changelog (a declared type edited) and the schema checks (the data's type against the
declared one) ask this question, so it is answered once, here, from sqlglot's parsed types.
"""

from __future__ import annotations

from sqlglot import exp


_INT_RANK = {exp.DataType.Type.TINYINT: 1, exp.DataType.Type.SMALLINT: 2, exp.DataType.Type.INT: 3,
             exp.DataType.Type.BIGINT: 4, exp.DataType.Type.INT128: 5}
_UINT_RANK = {exp.DataType.Type.UTINYINT: 1, exp.DataType.Type.USMALLINT: 2, exp.DataType.Type.UINT: 3,
              exp.DataType.Type.UBIGINT: 4, exp.DataType.Type.UINT128: 5}
_FLOAT_RANK = {exp.DataType.Type.FLOAT: 1, exp.DataType.Type.DOUBLE: 2}
_TIME_RANK = {exp.DataType.Type.DATE: 1, exp.DataType.Type.TIMESTAMPNTZ: 2, exp.DataType.Type.TIMESTAMP: 2}


def _parse_type(text: str) -> exp.DataType | None:
    try:
        return exp.DataType.build(text, dialect="duckdb")
    except Exception:  # sqlglot raises several error types for unknown type names
        return None


def _decimal(dtype: exp.DataType) -> tuple[int, int]:
    args = [int(e.sql()) for e in dtype.expressions if e.sql().isdigit()]
    return (args[0], args[1]) if len(args) == 2 else (args[0], 0) if args else (18, 3)


def _widens(old: exp.DataType, new: exp.DataType) -> bool:
    """True when every value of `old` fits `new` unchanged (so a consumer's query keeps working)."""
    a, b = old.this, new.this
    for ranks in (_INT_RANK, _UINT_RANK, _FLOAT_RANK, _TIME_RANK):
        if a in ranks and b in ranks:
            return ranks[b] >= ranks[a]
    if a in _UINT_RANK and b in _INT_RANK:
        return _INT_RANK[b] > _UINT_RANK[a]
    if a in (*_INT_RANK, *_UINT_RANK) and b == exp.DataType.Type.DOUBLE:
        return _INT_RANK.get(a, _UINT_RANK.get(a, 9)) <= 3
    if a in (*_INT_RANK, *_UINT_RANK) and b == exp.DataType.Type.DECIMAL:
        digits = {1: 3, 2: 5, 3: 10, 4: 19, 5: 39}[_INT_RANK.get(a) or _UINT_RANK[a]]
        precision, scale = _decimal(new)
        return precision - scale >= digits
    if a == b == exp.DataType.Type.DECIMAL:
        (p1, s1), (p2, s2) = _decimal(old), _decimal(new)
        return s2 >= s1 and p2 - s2 >= p1 - s1
    if a == exp.DataType.Type.DECIMAL and b == exp.DataType.Type.DOUBLE:
        return False
    return False


def classify_type(old: str, new: str) -> str | None:
    """None (same type), 'widened', 'narrowed' or 'changed' (incompatible)."""
    a, b = _parse_type(old), _parse_type(new)
    if a is None or b is None:
        return None if old.strip().upper() == new.strip().upper() else "changed"
    if a.sql("duckdb") == b.sql("duckdb"):
        return None
    if _widens(a, b):
        return "widened"
    if _widens(b, a):
        return "narrowed"
    return "changed"


_TIMESTAMPS = frozenset({exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.TIMESTAMPTZ,
                         exp.DataType.Type.TIMESTAMP_S, exp.DataType.Type.TIMESTAMP_MS,
                         exp.DataType.Type.TIMESTAMP_NS, exp.DataType.Type.TIMESTAMPLTZ})
_TEXTS = frozenset({exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR,
                    exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.ENUM})


_FRACTIONAL = frozenset({exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE, exp.DataType.Type.DECIMAL})
_NUMBERS = frozenset({*_INT_RANK, *_UINT_RANK, *_FRACTIONAL})


def same_family(declared: str, actual: str) -> bool:
    """Two spellings of one kind of value that queries treat alike: timestamps of any precision or zone,
    texts of any length (an ENUM reads as text), any number where a fractional one is declared."""
    a, b = _parse_type(declared), _parse_type(actual)
    if a is None or b is None:
        return False
    if a.this in _FRACTIONAL and b.this in _NUMBERS:
        return True
    return any(a.this in family and b.this in family for family in (_TIMESTAMPS, _TEXTS))


def fits_declared(declared: str, actual: str) -> bool:
    """True when data of type `actual` keeps the promise of a column declared `declared`: the same type, a
    wider or narrower one of the same kind (INTEGER data for BIGINT, BIGINT for INTEGER), or another spelling of
    it. `BIGINT` declared with `VARCHAR` data does not fit: every consumer's arithmetic on it breaks."""
    return classify_type(declared, actual) in (None, "widened", "narrowed") or same_family(declared, actual)
