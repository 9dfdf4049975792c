"""Checks that a parquet file's own statistics prove passing, so the scan can leave them out.

Parquet keeps, per row group and column, an exact null count and the min and max. When every
row group says a column has no NULLs, its not-null check passes; when the numeric min and max lie
inside a range check's bounds, that check passes. Only a pass is taken from statistics (a failing
check still needs its exact count and example rows from the scan), and any missing statistic means
"not proven". The exact bounds of integer columns also let the scan count a key's distinct values with
a bitmap over [min, max] instead of a hash table (`integer_bounds`).
"""

from __future__ import annotations

from typing import Any, Iterable

NUMERIC = {"INT32", "INT64", "FLOAT", "DOUBLE"}

METADATA_COLUMNS = "path_in_schema, type, stats_min_value, stats_max_value, stats_null_count"


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def column_statistics(rows: Iterable[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Per column over all row groups: nulls (None when any row group lacks it), numeric min and max."""
    out: dict[str, dict[str, Any]] = {}
    for name, physical, low, high, nulls in rows:
        entry = out.setdefault(name, {"nulls": 0, "min": None, "max": None, "numeric": True})
        entry["nulls"] = None if nulls is None or entry["nulls"] is None else entry["nulls"] + nulls
        lo, hi = _number(low), _number(high)
        if physical not in NUMERIC or lo is None or hi is None:
            entry["numeric"] = False
        if entry["numeric"]:
            entry["min"] = lo if entry["min"] is None else min(entry["min"], lo)
            entry["max"] = hi if entry["max"] is None else max(entry["max"], hi)
    return out


def proven_passing(checks: list[Any], stats: dict[str, dict[str, Any]]) -> dict[int, str]:
    """Index of each check the statistics prove passing -> how, in a user's words."""
    proven: dict[int, str] = {}
    for index, check in enumerate(checks):
        column = stats.get(getattr(check, "column", None) or "")
        if column is None:
            continue
        if check.check == "not_null" and column["nulls"] == 0:
            proven[index] = "no NULLs in any row group (parquet statistics)"
        elif check.check == "range" and column["numeric"] and column["min"] is not None:
            low, high = _number(check.min), _number(check.max)
            if (check.min is not None and low is None) or (check.max is not None and high is None):
                continue
            if (low is None or column["min"] >= low) and (high is None or column["max"] <= high):
                proven[index] = (f"every value lies in [{column['min']:g}, {column['max']:g}] "
                                 "(parquet statistics)")
    return proven


INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
BITMAP_BITS = 1 << 28  # a 32 MB bitmap per thread at most


def _integer(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def integer_bounds(rows: Iterable[tuple[Any, ...]], types: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Lowercased integer column -> exact (min, max) over every row group, when every row group states them
    and the range fits a bitmap; `types` maps column name -> engine type (only integer columns qualify)."""
    bounds: dict[str, tuple[int, int]] = {}
    unknown: set[str] = set()
    integer = {name.lower() for name, kind in types.items() if kind.upper() in INTEGER_TYPES}
    for name, _physical, low, high, _nulls in rows:
        key = str(name).lower()
        lo, hi = _integer(low), _integer(high)
        if key not in integer or key in unknown:
            continue
        if lo is None or hi is None:
            unknown.add(key)
            continue
        seen = bounds.get(key, (lo, hi))
        bounds[key] = (min(seen[0], lo), max(seen[1], hi))
    return {k: b for k, b in bounds.items() if k not in unknown and b[1] - b[0] < BITMAP_BITS}
